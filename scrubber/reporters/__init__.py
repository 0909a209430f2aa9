"""One module per output format. Each exposes ``Reporter(out)`` with ``claim``, ``issue`` and ``finish``,
so the CLI can stream a batch of any size through it without holding the batch in memory."""

from __future__ import annotations

from typing import Protocol, TextIO

from scrubber.findings import ClaimResult, Summary
from scrubber.model import ParseIssue


class Reporter(Protocol):
    def __init__(self, out: TextIO) -> None: ...

    def claim(self, result: ClaimResult) -> None: ...

    def issue(self, issue: ParseIssue) -> None: ...

    def finish(self, summary: Summary) -> None: ...


def get_reporter(name: str) -> type[Reporter]:
    if name == "text":
        from scrubber.reporters.text import TextReporter

        return TextReporter
    if name == "json":
        from scrubber.reporters.json import JsonReporter

        return JsonReporter
    raise ValueError(f"unknown format {name!r}")


FORMATS = ("text", "json")
