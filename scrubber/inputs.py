"""Find input files and open them with the right reader, told by content (``detect_format``)."""

from __future__ import annotations

import json
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


def discover(
    paths: Iterable[str | Path], suffixes: frozenset[str] = X12_SUFFIXES | EXPORT_SUFFIXES
) -> tuple[list[Path], list[ParseIssue]]:
    """Files named directly are taken whatever their suffix; directories are searched for ``suffixes``."""
    files: list[Path] = []
    problems: list[ParseIssue] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            if not found:
                listed = "/".join(sorted(suffixes))
                problems.append(ParseIssue(file=str(path), message=f"directory holds no {listed} files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(ParseIssue(file=str(path), message="no such file or directory"))
    return files, problems


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
    if input_format == "auto":
        try:
            with open(path, "rb") as stream:
                head = stream.read(_HEAD_BYTES)
        except OSError as error:
            yield ParseIssue(file=str(path), message=f"cannot open file: {error.strerror or error}")
            return
        input_format = detect_format(head, str(path))
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


def mapping_option(value: str) -> Any:
    """``type=`` of ``--mapping``: the CSV mapping loaded at once, so a bad one is a usage error (exit 2)."""
    import argparse

    from scrubber.readers.csv import MappingError, load_mapping

    try:
        return load_mapping(value)
    except MappingError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
