"""Find input files and open them with the right reader, told by content (``detect_format``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from scrubber.model import Claim, ParseIssue
from scrubber.readers import x12_837p

X12_SUFFIXES = frozenset({".837", ".x12", ".edi", ".txt", ".dat"})
EXPORT_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".csv"})
INPUT_FORMATS = ("auto", "x12", "json", "jsonl", "csv", "fhir")
_HEAD_BYTES = 64 * 1024
_RESOURCE_TYPE = re.compile(rb'"resourceType"\s*:\s*"[A-Za-z]+"')


STDIN = "-"  # the PATH that names standard input
STDIN_NAME = "<stdin>"  # its name in messages
REMITTANCE_MESSAGE = "this is a remittance (835), not a claim file (837P): use `scrubber remit`"


def discover(
    paths: Iterable[str | Path],
    suffixes: frozenset[str] = X12_SUFFIXES | EXPORT_SUFFIXES,
    *,
    skip: Iterable[str | Path] = (),
) -> tuple[list[Path], list[ParseIssue]]:
    """Files named directly are taken whatever their suffix; directories are searched for ``suffixes``,
    leaving out the files ``skip`` names (the report the run is writing: it is not an input)."""
    files: list[Path] = []
    problems: list[ParseIssue] = []
    skipped = {_resolved(path) for path in skip}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in suffixes and _resolved(p) not in skipped
            )
            if not found:
                listed = "/".join(sorted(suffixes))
                problems.append(ParseIssue(file=str(path), message=f"directory holds no {listed} files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(ParseIssue(file=str(path), message="no such file or directory"))
    return files, problems


def _resolved(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def _same_file(a: Path, b: Path) -> bool:
    if _resolved(a) == _resolved(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def output_conflict(
    output: str | Path, paths: Iterable[str | Path], suffixes: frozenset[str] = X12_SUFFIXES | EXPORT_SUFFIXES
) -> str | None:
    """Why writing a report to ``output`` would destroy an input (the message of a usage error), or None.

    ``output`` may not be a PATH named (the same file by its resolved path or by ``os.path.samefile``, so
    symbolic and hard links count), nor a file a directory PATH holds that ``discover`` would read: an
    existing file with an input suffix that is not one of our reports (``own_report``; a report of an
    earlier run is overwritten, and left out of the inputs). Compared before anything is read.
    """
    output = Path(output)
    target = _resolved(output)
    for raw in paths:
        if str(raw) == STDIN:
            continue
        path = Path(raw)
        if path.is_dir():
            directory = _resolved(path)
            inside = directory in target.parents or any(
                _same_file(parent, path) for parent in target.parents if parent.exists()
            )
            if not inside or not output.is_file() or output.suffix.lower() not in suffixes:
                continue
            if own_report(output) is None:
                return f"--output {output} is an input file (in {raw}): it would be overwritten; write the report elsewhere"
        elif (path.exists() or path.is_symlink()) and _same_file(path, output):
            return f"--output {output} is the input {raw}: it would be overwritten; write the report elsewhere"
    return None


_TEXT_SUMMARY = re.compile(rb"(?m)^(?:claim-scrubber: )?\d+ file\(s\), \d+ claim\(s\): \d+ clean, ")
_TAIL_BYTES = 4096


_JSON_REPORT = re.compile(rb'\{\s*"claims"\s*:\s*\[')
_SARIF = re.compile(rb'\{\s*"\$schema"\s*:\s*"[^"]*sarif', re.IGNORECASE)


def own_report(path: str | Path, head: bytes | None = None) -> str | None:
    """The format of a report this tool wrote (``text``, ``github``, ``junit``, ``json``, ``jsonl``, ``sarif``),
    told by content, or None.

    Text and GitHub reports end with the summary line; JUnit starts with the ``claim-scrubber`` test suites;
    a JSON report opens with ``{"claims": [``, SARIF with its ``$schema``, and JSON Lines with one of our
    record types. (The JSON reader also tells a JSON report by its keys however it was reformatted.)
    """
    try:
        with open(path, "rb") as stream:
            if head is None:
                head = stream.read(_HEAD_BYTES)
            size = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, size - _TAIL_BYTES))
            tail = stream.read(_TAIL_BYTES)
    except OSError:
        return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<?xml") and b'<testsuites name="claim-scrubber"' in text[:512]:
        return "junit"
    if text.startswith(b"{"):
        if _JSON_REPORT.match(text):
            return "json"
        if _SARIF.match(text):
            return "sarif"
        from scrubber.readers.json import report_kind

        try:
            return "jsonl" if report_kind(json.loads(text.split(b"\n", 1)[0])) == "jsonl" else None
        except (ValueError, RecursionError):
            return None
    if text.startswith((b"ISA", b"[")):
        return None
    lines = tail.rstrip(b"\r\n").splitlines()
    last = lines[-1] if lines else b""
    if last.startswith(b"tables: ") and len(lines) > 1:  # the text report's line after the summary
        last = lines[-2]
    if _TEXT_SUMMARY.match(last):
        return "github" if last.startswith(b"claim-scrubber: ") else "text"
    return None


def is_remittance(head: bytes) -> bool:
    """An X12 835 (remittance advice), not an 837P: ``ST*835`` or ``GS*HP`` without an ``ST*837``, or
    (without an ST) 835 segments (BPR, CLP) and no CLM. Delimiters come from the ISA when there is one.

    >>> is_remittance(b"GS*HP*A*B*20260101*1200*1*X*005010X221A1~ST*835*0001~BPR*I*10~")
    True
    >>> is_remittance(b"GS*HC*A*B*20260101*1200*1*X*005010X222A1~ST*837*0001~")
    False
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    element, terminator = b"*", b"~"
    if text.startswith(b"ISA") and len(text) > 105:
        element, terminator = text[3:4], text[105:106]
    if element.isalnum() or terminator.isalnum() or element == terminator:
        return False
    segments = [piece.strip() for piece in text.split(terminator) if piece.strip()]
    starts = [segment.split(element, 2) for segment in segments]
    tags = {parts[0] for parts in starts}
    sets = {parts[1] for parts in starts if parts[0] == b"ST" and len(parts) > 1}
    groups = {parts[1] for parts in starts if parts[0] == b"GS" and len(parts) > 1}
    if b"837" in sets or b"HC" in groups:
        return False
    if b"835" in sets or b"HP" in groups:
        return True
    return not sets and bool(tags & {b"BPR", b"CLP"}) and b"CLM" not in tags


def detect_format(head: bytes, name: str = "") -> str:
    """``x12``, ``json``, ``jsonl``, ``fhir`` or ``csv`` from the first bytes of a file (and its name).

    X12 starts with ISA; JSON with ``{`` or ``[`` (FHIR when it names a ``resourceType``; JSON Lines when
    the first line is a whole JSON value); CSV is a ``.csv`` file or a first line of delimited names.
    Anything else is read as X12, whose reader says what is wrong with it.

    >>> detect_format(b"ISA*00*...")
    'x12'
    >>> detect_format(b'{"claim_id": "A1"}\\n{"claim_id": "A2"}\\n')
    'jsonl'
    >>> detect_format(b'{"resourceType": "Bundle", "entry": []}')
    'fhir'
    >>> detect_format(b"claim_id,procedure_code,line_charge\\nA1,99213,80\\n")
    'csv'
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = Path(name).suffix.lower()
    if text.startswith(b"ISA"):
        return "x12"
    if text[:1] in (b"{", b"["):
        if _RESOURCE_TYPE.search(text):
            return "fhir"
        first_line, _, rest = text.partition(b"\n")
        try:
            first = json.loads(first_line)
        except ValueError:
            return "json"
        return "jsonl" if rest.strip() and not isinstance(first, list) else "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".837", ".x12", ".edi"):
        return "x12"
    try:
        first = text.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return "x12"
    printable = all(char == "\t" or char.isprintable() for char in first)
    if printable and "~" not in first and any(delimiter in first for delimiter in (",", "\t", ";", "|")):
        return "csv"
    return "x12"


def read_file(path: str | Path, input_format: str = "auto", mapping: Any = None) -> Iterator[Claim | ParseIssue]:
    """Every claim in one file, read as ``input_format`` (``auto``: told by content).

    ``mapping`` (a YAML file, a bundled mapping name, or a dict) is the CSV column mapping; other
    formats ignore it.
    """
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {input_format!r}; expected one of {', '.join(INPUT_FORMATS)}")
    try:
        with open(path, "rb") as stream:
            head = stream.read(_HEAD_BYTES)
    except OSError as error:
        yield ParseIssue(file=str(path), message=f"cannot open file: {error.strerror or error}")
        return
    if input_format == "auto":
        input_format = detect_format(head, str(path))
    problem = not_claims(path, head, input_format)
    if problem is not None:
        yield problem
        return
    if input_format == "x12":
        yield from x12_837p.read_path(path)
    elif input_format in ("json", "jsonl"):
        from scrubber.readers import json as json_reader

        yield from json_reader.read_path(path)
    elif input_format == "csv":
        from scrubber.readers import csv as csv_reader

        yield from csv_reader.read_path(path, mapping)
    else:
        from scrubber.readers import fhir

        yield from fhir.read_path(path)


def not_claims(path: str | Path, head: bytes, input_format: str) -> ParseIssue | None:
    """Why a file holds no claims to scrub, or None: read as X12, an 835 remittance (an error: the wrong
    command); in any format, a report this tool wrote (an info: skipped)."""
    name = str(path)
    if input_format == "x12" and is_remittance(head):
        return ParseIssue(file=name, message=REMITTANCE_MESSAGE)
    kind = own_report(path, head)
    if kind is not None:
        return ParseIssue(
            file=name, severity="info", message=f"a scrubber {kind} report, not claims: skipped"
        )
    return None


def screen(files: list[Path], input_format: str = "auto") -> tuple[list[Path], list[ParseIssue]]:
    """``files`` without those that hold no claims (``not_claims``), and the issue saying why for each: done
    before the files are shared out to workers, which read X12 files straight through their reader."""
    kept: list[Path] = []
    problems: list[ParseIssue] = []
    for file in files:
        try:
            with open(file, "rb") as stream:
                head = stream.read(_HEAD_BYTES)
        except OSError:
            kept.append(file)  # its reader says it cannot be opened
            continue
        detected = detect_format(head, str(file)) if input_format == "auto" else input_format
        problem = not_claims(file, head, detected)
        if problem is None:
            kept.append(file)
        else:
            problems.append(problem)
    return kept, problems


def spool_stdin(stream: Any = None) -> Path:
    """Standard input copied to a temporary file (removed by ``remove_spooled``), so that it is read like any
    file: told by content, re-read by the reporters that point into it. Its name in messages is ``<stdin>``."""
    import shutil
    import sys
    import tempfile

    source = stream if stream is not None else sys.stdin.buffer
    directory = tempfile.mkdtemp(prefix="scrubber-stdin-")
    path = Path(directory) / "stdin"
    with open(path, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    return path


def remove_spooled(path: Path) -> None:
    import shutil

    shutil.rmtree(path.parent, ignore_errors=True)


def mapping_option(value: str) -> Any:
    """``type=`` of ``--mapping``: the CSV mapping loaded at once, so a bad one is a usage error (exit 2)."""
    import argparse

    from scrubber.readers.csv import MappingError, load_mapping

    try:
        return load_mapping(value)
    except MappingError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
