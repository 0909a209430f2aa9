"""One module per output format. Each exposes ``Reporter(out)`` with ``claim``, ``issue`` and ``finish``,
so the CLI can stream a batch of any size through it without holding the batch in memory (SARIF keeps
small result dicts until the end, since the format is one JSON document), and ``render(report) -> str``
for a report collected in memory (the library)."""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
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


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path next to ``path``, moved onto it (``os.replace``) when the block ends without an
    exception, removed when it raises: readers of ``path`` see the old file or the whole new one, never a
    part. A kill (SIGKILL, power loss) leaves the old file and, at worst, a ``.NAME.*.tmp`` file beside it.

    The new file gets the old one's permission bits (a new one: 0666 less the umask, as ``open`` gives). A
    symbolic link is followed (its target is replaced); a path that is not a regular file (a FIFO,
    ``/dev/null``) or names an open stream (``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``, even
    redirected to a file) is yielded as it is and written in place.
    """
    target = Path(os.path.realpath(path))
    if _is_stream(path):
        yield Path(path)  # /dev/stdout, /proc/self/fd/1: the stream it names, whatever file is behind it
        return
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        yield Path(path)
        return
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:  # name the path asked for, not the temporary one
        raise OSError(error.errno, error.strerror, str(path)) from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        if existing is not None:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        with open(temporary, "rb") as written:  # on disk before the rename, so a crash cannot leave it empty
            os.fsync(written.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[TextIO]:
    """A UTF-8 text stream whose content replaces the file at ``path`` only when the block ends without an
    exception (``atomic_path``): a report overwritten by a run that crashes or is killed stays whole."""
    # a stream redirected to a file is appended to (as the shell's stdout is), not truncated under its owner
    with atomic_path(path) as temporary, open(temporary, "a" if _is_stream(temporary) else "w", encoding="utf-8") as out:
        yield out


_STREAM = re.compile(r"/(?:dev/(?:stdout|stderr|fd/\d+)|proc/(?:self|thread-self|\d+)/fd/\d+)")


def _is_stream(path: str | os.PathLike) -> bool:
    return _STREAM.fullmatch(os.path.abspath(path)) is not None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
