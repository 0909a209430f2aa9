"""Read claims written in our own ``Claim`` schema as JSON or JSON Lines.

Three shapes, told apart by the first non-blank line:

- a JSON array of claims (``[{...}, {...}]``): read whole; each claim's pointer is ``/<index>``;
- a single claim object spread over several lines: read whole; its pointer is ``""``;
- JSON Lines (one claim object per line, also ``.ndjson``): streamed line by line; each claim's row is
  its line number. A one-line file is read as JSON Lines, which gives the same claim.

The schema is ``Claim.model_json_schema()`` (``scrubber schema`` prints it; the repository publishes it
as ``schemas/claim.schema.json``). Numbers are read as exact decimals, never floats.

Bad input never raises: a record that does not fit the schema becomes one ``ParseIssue`` with
``unreadable_claim=True``, naming the record (``line 3`` or ``/2``) and the JSON pointer of every
problem in it; the other records are still read.

>>> import io
>>> text = b'{"claim_id": "A1", "lines": [{"number": 1, "procedure": "99213", "charge": 80}]}\\n{"claim_id": "A2", "lines": [{"number": 1, "procedure": "99213", "charge": "x"}]}\\n'
>>> good, bad = read(io.BytesIO(text), "export.jsonl")
>>> good.claim_id, good.lines[0].charge, good.source.row
('A1', Decimal('80'), 1)
>>> bad.claim_id, bad.location, bad.message
('A2', 'line 2: /lines/0/charge', 'line 2: /lines/0/charge: Input should be a valid decimal')
"""

from __future__ import annotations

import codecs
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from pydantic import ValidationError

from scrubber.model import Claim, ParseIssue
from scrubber.readers.common import claim_id_of, read_opened, summarize, validation_problems

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def claim_json_schema() -> dict[str, Any]:
    """The JSON Schema of one claim record (what ``scrubber schema`` prints)."""
    return {"$schema": SCHEMA_DIALECT, **Claim.model_json_schema()}


def schema_text() -> str:
    """``claim_json_schema()`` as published in ``schemas/claim.schema.json``."""
    return json.dumps(claim_json_schema(), indent=2) + "\n"


def read_path(path: str | Path) -> Iterator[Claim | ParseIssue]:
    yield from read_opened(path, read)


def read(stream: BinaryIO, file: str | None = None) -> Iterator[Claim | ParseIssue]:
    """Every claim in a JSON document or JSON Lines stream, and a ParseIssue for each bad record."""
    try:
        first = _without_mark(stream.readline())
        while not first.strip():
            if not first:
                yield ParseIssue(file=file, message="empty input: no JSON claim records")
                return
            first = stream.readline()
    except OSError as error:
        yield ParseIssue(file=file, message=f"read error: {error}")
        return
    if first.strip() == b'{"claims": [':  # how ``--format json`` starts its report: skip it unread
        yield _report_skipped("json", file)
        return
    if _is_complete_json(first):
        try:
            kind = report_kind(_loads(first))
        except ValueError:
            kind = None
        if kind is not None:
            yield _report_skipped(kind, file)
            return
        yield from _read_lines(first, stream, file)
    else:
        yield from _read_document(first, stream, file)


# What scrubber's own reports hold: ``--format json``'s keys, and ``--format jsonl``'s record types with
# keys each always has.
_REPORT_KEYS = frozenset({"claims", "errors", "summary"})
_REPORT_LINES = {
    "claim": frozenset({"claim_id", "status", "findings"}),
    "error": frozenset({"file", "severity", "message"}),
    "summary": frozenset({"files", "claims", "findings"}),
}


def report_kind(value: Any) -> str | None:
    """``json``, ``jsonl`` or ``sarif`` when ``value`` (a whole document, or a JSON Lines file's first record)
    is a report scrubber writes rather than claims; None otherwise.

    >>> report_kind({"claims": [], "errors": [], "summary": {}})
    'json'
    >>> report_kind({"type": "summary", "files": 1, "claims": 0, "findings": 0})
    'jsonl'
    >>> report_kind({"claim_id": "A1", "lines": []}) is None
    True
    """
    if not isinstance(value, dict):
        return None
    if set(value) == _REPORT_KEYS:
        return "json"
    kind = value.get("type")
    if isinstance(kind, str) and kind in _REPORT_LINES and _REPORT_LINES[kind] <= set(value):
        return "jsonl"
    if "runs" in value and "version" in value and "sarif" in str(value.get("$schema", "")).lower():
        return "sarif"
    return None


def _report_skipped(kind: str, file: str | None) -> ParseIssue:
    return ParseIssue(file=file, severity="info", message=f"a scrubber {kind} report, not claims: skipped")


def _without_mark(line: bytes) -> bytes:
    """The first line without a UTF-8 byte-order mark (Windows tools write one; JSON has no place for it)."""
    return line.removeprefix(codecs.BOM_UTF8)


class _TooDeep(ValueError):
    """A JSON value nested deeper than Python's parser goes, or holding a number too long to read."""


def _loads(text: bytes | str) -> Any:
    """``json.loads`` whose every failure on hostile input is a ValueError: a value nested thousands of
    levels deep (the parser's RecursionError) or an integer of thousands of digits (Python refuses to
    convert more than 4,300) becomes ``_TooDeep``; malformed JSON stays ``JSONDecodeError``."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _TooDeep("nested too deeply to read (thousands of levels of arrays or objects)") from None
    except UnicodeDecodeError:
        raise
    except ValueError as error:  # int() of too many digits
        raise _TooDeep(f"holds a number too long to read ({str(error).split(';')[0]})") from None


def _is_complete_json(line: bytes) -> bool:
    """A first line holding a whole JSON object (not ``[]``: an empty array is a document) starts JSON Lines."""
    try:
        return not isinstance(_loads(line), list)
    except _TooDeep:
        return not line.lstrip().startswith(b"[")  # a record of its own (JSON Lines) unless it opens an array
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False


# The tokens that delimit JSON values: a whole string (so brackets inside one are skipped), a bracket, a comma.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _array_elements(text: str) -> Iterator[tuple[int, int, str]] | None:
    """The top-level elements of a JSON array document as (index, line, text), found by matching brackets
    outside strings, so that each is parsed alone and one bad element costs only itself. None when
    ``text`` is not an array whose elements can be delimited (the whole document is then parsed, and its
    error reported)."""
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        return None
    bounds: list[tuple[int, int]] = []
    depth, element_start = 0, start + 1
    for match in _STRUCTURE.finditer(text, start):
        token = match.group()
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
            if depth == 0:
                if text[element_start:match.start()].strip() or bounds:
                    bounds.append((element_start, match.start()))
                if text[match.end():].strip():
                    return None  # text after the array: let the parser say what is wrong
                return _elements(text, bounds)
        elif token == "," and depth == 1:
            bounds.append((element_start, match.start()))
            element_start = match.end()
    return None  # the array never closes


def _elements(text: str, bounds: list[tuple[int, int]]) -> Iterator[tuple[int, int, str]]:
    line, counted = 1, 0
    for index, (begin, end) in enumerate(bounds):
        begin += len(text[begin:end]) - len(text[begin:end].lstrip())  # the element's own first line
        line += text.count("\n", counted, begin)
        counted = begin
        yield index, line, text[begin:end]


def _read_lines(first: bytes, stream: BinaryIO, file: str | None) -> Iterator[Claim | ParseIssue]:
    number = 0
    line = first
    # Blank lines before the first record still count, so row numbers match an editor's.
    try:
        stream.seek(0)
        line = _without_mark(stream.readline())
    except (OSError, ValueError):  # not seekable (a pipe): count from the first record
        pass
    while line:
        number += 1
        if line.strip():
            yield _record_from_line(line, number, file)
        try:
            line = stream.readline()
        except OSError as error:
            yield ParseIssue(file=file, location=f"line {number + 1}", message=f"read error: {error}")
            return


def _record_from_line(line: bytes, number: int, file: str | None) -> Claim | ParseIssue:
    where = f"line {number}"
    try:
        record = _loads(line)
    except UnicodeDecodeError:
        return ParseIssue(file=file, location=where, unreadable_claim=True, message=f"{where}: not UTF-8 text")
    except _TooDeep as error:
        return ParseIssue(file=file, location=where, unreadable_claim=True, message=f"{where}: {error}")
    except json.JSONDecodeError as error:
        return ParseIssue(
            file=file,
            location=where,
            unreadable_claim=True,
            message=f"{where}: not JSON: {error.msg} at column {error.colno}",
        )
    return to_claim(record, file, where=where, row=number)


def _read_document(first: bytes, stream: BinaryIO, file: str | None) -> Iterator[Claim | ParseIssue]:
    try:
        raw = first + stream.read()
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        yield ParseIssue(file=file, message="not UTF-8 text")
        return
    except OSError as error:
        yield ParseIssue(file=file, message=f"read error: {error}")
        return
    elements = _array_elements(text)
    if elements is not None:  # each claim of the array parsed alone: a bad one costs only itself
        for index, line, element in elements:
            where = f"/{index}"
            try:
                record = _loads(element)
            except (json.JSONDecodeError, _TooDeep) as error:
                problem = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
                yield ParseIssue(
                    file=file, location=f"line {line}", unreadable_claim=True,
                    message=f"{where} (line {line}): not a readable JSON claim: {problem}",
                )
                continue
            yield to_claim(record, file, pointer_prefix=where)
        return
    try:
        data = _loads(text)
    except _TooDeep as error:
        yield ParseIssue(file=file, message=f"the JSON document {error}")
        return
    except json.JSONDecodeError as error:
        yield ParseIssue(
            file=file, location=f"line {error.lineno}", message=f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        )
        return
    except OSError as error:
        yield ParseIssue(file=file, message=f"read error: {error}")
        return
    if isinstance(data, list):
        for index, record in enumerate(data):
            yield to_claim(record, file, pointer_prefix=f"/{index}")
    elif report_kind(data) is not None:
        yield _report_skipped(report_kind(data), file)
    elif isinstance(data, dict):
        yield to_claim(data, file)
    else:
        yield ParseIssue(file=file, message=f"expected a claim object or an array of claims, found {type(data).__name__}")


def to_claim(
    record: Any,
    file: str | None = None,
    *,
    where: str = "",
    pointer_prefix: str = "",
    row: int | None = None,
) -> Claim | ParseIssue:
    """One record in the Claim schema as a ``Claim``, or the ParseIssue saying why it is not one.

    ``where`` names the record in messages (``line 3``; empty when pointers say it all);
    ``pointer_prefix`` is the record's own pointer (``/2`` in an array).
    """
    if not isinstance(record, dict):
        location = _join(where, pointer_prefix or None)
        return ParseIssue(
            file=file,
            location=location or None,
            unreadable_claim=True,
            message=_join(location, f"a claim must be a JSON object, found {_json_type(record)}"),
        )
    data = dict(record)
    # Where the record came from is ours to say, whatever the record claims.
    data["source"] = {"file": file, "row": row, "pointer": pointer_prefix if row is None else None}
    try:
        return Claim.model_validate(data)
    except ValidationError as error:
        problems = validation_problems(error, pointer_prefix)
        location = _join(where, problems[0][0])
        return ParseIssue(
            file=file,
            location=location,
            claim_id=claim_id_of(record),
            unreadable_claim=True,
            message=_join(where, summarize(problems)),
        )


def _join(where: str | None, text: str | None) -> str:
    return ": ".join(part for part in (where, text) if part)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


__all__ = ["claim_json_schema", "read", "read_path", "report_kind", "schema_text", "to_claim"]
