"""One module per output format. Each exposes ``Reporter(out)`` with ``claim``, ``issue`` and ``finish``,
so the CLI can stream a batch of any size through it without holding the batch in memory (SARIF keeps
small result dicts until the end, since the format is one JSON document), and ``render(report) -> str``
for a report collected in memory (the library)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Iterator, Protocol, Sequence, TextIO

from scrubber.findings import ClaimResult, Report, Summary
from scrubber.model import ParseIssue

if TYPE_CHECKING:
    from scrubber.rules.spec import RuleSpec


class Reporter(Protocol):
    def __init__(self, out: TextIO) -> None: ...

    def claim(self, result: ClaimResult) -> None: ...

    def issue(self, issue: ParseIssue) -> None: ...

    def finish(self, summary: Summary) -> None: ...


_REPORTERS = {
    "text": ("scrubber.reporters.text", "TextReporter"),
    "json": ("scrubber.reporters.json", "JsonReporter"),
    "jsonl": ("scrubber.reporters.jsonl", "JsonlReporter"),
    "sarif": ("scrubber.reporters.sarif", "SarifReporter"),
    "junit": ("scrubber.reporters.junit", "JunitReporter"),
    "github": ("scrubber.reporters.github", "GithubReporter"),
}


def get_reporter(name: str) -> type[Reporter]:
    if name not in _REPORTERS:
        raise ValueError(f"unknown format {name!r}")
    import importlib

    module, cls = _REPORTERS[name]
    return getattr(importlib.import_module(module), cls)


def make_reporter(name: str, out: TextIO, *, rules: Sequence[RuleSpec] | None = None) -> Reporter:
    """The reporter for ``name``; reporters that describe rules (``wants_rules``, e.g. SARIF) get ``rules``."""
    cls = get_reporter(name)
    if rules is not None and getattr(cls, "wants_rules", False):
        return cls(out, rules=rules)
    return cls(out)


def replay(report: Report) -> Iterator[ClaimResult | ParseIssue]:
    """A collected report as the event stream the CLI would have sent: file by file, claims then problems."""
    by_file: dict[str | None, list[ClaimResult | ParseIssue]] = {}
    for event in [*report.results, *report.errors]:
        by_file.setdefault(event.file, []).append(event)
    for events in by_file.values():
        yield from events


def render_with(cls: type[Reporter], report: Report, **options) -> str:
    """Run one reporter over a collected report and return what it wrote (each module's ``render``)."""
    out = io.StringIO()
    reporter = cls(out, **options)
    for event in replay(report):
        if isinstance(event, ClaimResult):
            reporter.claim(event)
        else:
            reporter.issue(event)
    reporter.finish(report.summary)
    return out.getvalue()


FORMATS = tuple(_REPORTERS)
