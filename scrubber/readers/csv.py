"""Read CSV claim-line exports: one row per service line, grouped into claims by a claim-id column.

A YAML column mapping says which export column fills which model field (``scrubber/mappings/`` ships
``charge-export`` for a typical charge export and ``openemr`` for OpenEMR-style billing exports)::

    name: my-ehr
    claim_id: Encounter No          # the column that groups rows into claims (required)
    grouping: contiguous            # or: scattered (see below)
    date_format: "%m/%d/%Y"         # default: 2025-01-31, 20250131 or 01/31/2025
    fields:                         # model field: column, or {column, split, values, prefix, date_format}
      assignment: {column: Accept Assign, values: {"Y": A, "N": C}}
      payer.filing_indicator: Payer Type
      diagnoses: {column: Dx Codes, split: "|"}
      line.procedure: CPT
      line.charge: Charge

Targets (``TARGETS``, in ``scrubber/mappings/csv_columns.py`` with the mapping's schema; listed with
their model paths and X12 elements by ``scrubber schema --csv-targets`` and in ``docs/csv-mapping.md``)
are claim fields (``assignment``, ``delay_reason``, ``onset_date``), fields of the payer, subscriber,
patient and of the billing, rendering, referring, supervising and service-facility providers
(``payer.filing_indicator``, ``patient.sex``, ``referring_provider.npi``), one other payer
(``other_payer.paid``, ``other_payer.noncovered``), and service-line fields (``line.charge``,
``line.ndc``, ``line.ordering_provider.npi``). Claim-level columns are repeated on every row of a claim;
an empty cell says nothing, and two rows of one claim that disagree make it unreadable.
``line.diagnosis_codes`` (codes instead of pointers, as OpenEMR's ``justify``) adds the codes to the
claim's diagnoses in the order first seen and points the line at them; ``diagnosis_rows`` reads rows
that hold one diagnosis each (OpenEMR's ICD10 billing rows) instead of a service line. An NPI column
(``*.npi``) implies the NM108 qualifier ``XX``.

What CSV cannot carry (``NOT_CARRIED`` and ``PARTLY_CARRIED`` in ``csv_columns``): the X12 version,
claim and line CAS adjustments of prior payers, a prior payer's line units and date; more than one
other payer, more than one prior payment per line; ICD-9 diagnosis qualifiers (codes are ABK, then
ABF); an NM108 qualifier other than XX. A mapping carries only the targets it maps
(``csv_columns.not_carried(mapping)``).

Grouping: with ``contiguous`` (the default) the rows of one claim must follow each other, and the file
streams claim by claim in constant memory. A claim id that comes back after other claims is reported as
an unreadable claim (its earlier rows were already read as a claim). ``scattered`` reads the whole file
first, then groups, for exports not sorted by claim.

Row numbers count the header as row 1, as a spreadsheet shows them. A bad cell makes its claim
unreadable: a ``ParseIssue`` names the row and the column, and the other claims are still read.

>>> rows = [{"claim": "C1", "payer": "MB", "cpt": "99213", "fee": "80"},
...         {"claim": "C1", "payer": "MB", "cpt": "80053", "fee": "abc"},
...         {"claim": "C2", "payer": "CI", "cpt": "99213", "fee": "95"}]
>>> mapping = {"claim_id": "claim", "fields": {"payer.filing_indicator": "payer",
...            "line.procedure": "cpt", "line.charge": "fee"}}
>>> bad, good = read_rows(rows, mapping)
>>> bad.claim_id, bad.location, bad.message
('C1', 'row 3, column fee', "row 3, column 'fee': 'abc' is not an amount")
>>> good.claim_id, good.payer.filing_indicator, good.total_charge, good.source.row
('C2', 'CI', Decimal('95'), 4)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from scrubber.mappings.csv_columns import (  # the mapping's schema, shared with scrubber.writers.csv
    DEFAULT_MAPPING,
    TARGETS,
    ColumnSpec,
    CsvMapping,
    DiagnosisRows,
    MappingError,
    Target,
    bundled_mappings,
    load_mapping,
)
from scrubber.model import Claim, ParseIssue
from scrubber.readers.common import read_opened, validation_problems

_LIST_KINDS = frozenset({"list", "ints", "codes"})


# --- reading -----------------------------------------------------------------------------------


def read_path(path: str | Path, mapping: Any = None) -> Iterator[Claim | ParseIssue]:
    yield from read_opened(path, read, mapping)


def mapping_for_header(header: Iterable[str]) -> CsvMapping:
    """The bundled mapping that fits a header best: its claim-id and procedure columns are there, and
    most of its other columns; ``charge-export`` when none fits (its reader then says what is missing)."""
    present = set(header)
    best, best_score = load_mapping(DEFAULT_MAPPING), -1
    for name in bundled_mappings():
        candidate = load_mapping(name)
        if {candidate.claim_id, candidate.fields["line.procedure"].column} <= present:
            score = len(present & set(candidate.columns))
            if score > best_score:
                best, best_score = candidate, score
    return best


def read(stream: BinaryIO, file: str | None = None, mapping: Any = None) -> Iterator[Claim | ParseIssue]:
    """Every claim in a CSV export (UTF-8, header row first), and a ParseIssue for what cannot be read.

    Without ``mapping``, the bundled mapping that fits the header is used (``mapping_for_header``).
    """
    try:
        spec = load_mapping(mapping) if mapping is not None else None
    except MappingError as error:
        yield ParseIssue(file=file, message=str(error))
        return
    if isinstance(stream, io.TextIOBase):
        yield from _read_text(_TextLines(stream), spec, file)
        return
    # Lines split as ``newline=""`` splits them (LF, CRLF, CR) by latin-1, which decodes any byte, then each
    # decoded as UTF-8 alone: a bad byte costs its row, not the rest of the file.
    text = io.TextIOWrapper(stream, encoding="latin-1", newline="")
    try:
        yield from _read_text(_Utf8Lines(text), spec, file)
    finally:
        text.detach()  # the caller owns (and closes) the byte stream


class _TextLines:
    """The physical lines ``csv.reader`` pulls, with what went wrong decoding them (``problem``) and the
    double quotes seen since the record began (``quotes``), so that a bad record can be skipped whole."""

    def __init__(self, lines: Iterable[str]):
        self.lines = iter(lines)
        self.problem: str | None = None
        self.quotes = 0
        self.first = True

    def start_record(self) -> None:
        self.problem, self.quotes = None, 0

    def __iter__(self) -> _TextLines:
        return self

    def __next__(self) -> str:
        line = self._decode(next(self.lines))
        if self.first:
            line, self.first = line.removeprefix("\ufeff"), False
        self.quotes += line.count('"')
        return line

    def _decode(self, line: str) -> str:
        return line

    def skip_open_quote(self) -> None:
        """After an error inside a quoted field that goes on over further lines: skip them, up to the line
        that closes the quote (an odd count of quotes so far means one is still open)."""
        while self.quotes % 2:
            try:
                next(self)
            except StopIteration:
                return


class _Utf8Lines(_TextLines):
    def _decode(self, line: str) -> str:
        raw = line.encode("latin-1")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            if self.problem is None:
                shown = raw[error.start : error.end].hex(" ")
                self.problem = f"not UTF-8 text (byte {shown} at byte {error.start + 1} of the line)"
            return raw.decode("utf-8", "replace")


_FFFD = "\ufffd"


def _read_text(lines: _TextLines, spec: CsvMapping | None, file: str | None) -> Iterator[Claim | ParseIssue]:
    reader = csv.reader(lines, delimiter=spec.delimiter if spec is not None else ",")
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as error:  # (a text stream that cannot decode: no line to skip)
        yield ParseIssue(file=file, location="row 1", message=f"row 1: {_csv_problem(error)}")
        return
    if lines.problem is not None:
        yield ParseIssue(file=file, location="row 1", message=f"row 1: {lines.problem}")
        return
    if not header or not any(cell.strip() for cell in header):
        yield ParseIssue(file=file, message="empty input: no CSV header row")
        return
    header = [cell.strip() for cell in header]
    header[0] = header[0].removeprefix("\ufeff").strip()  # a text stream not opened as utf-8-sig keeps the BOM
    if spec is None:
        spec = mapping_for_header(header)
    problem = _check_header(header, spec, file)
    if problem is not None:
        yield problem
        if problem.severity == "error":
            return
    read_columns = set(spec.columns)

    def records() -> Iterator[tuple[int, dict[str, str]] | ParseIssue]:
        number = 1
        while True:
            lines.start_record()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as error:  # a text stream given by the caller: it cannot go on
                raise _Unreadable(number + 1, _csv_problem(error)) from None
            except csv.Error as error:  # the rest of this record is skipped, and the next one read
                number += 1
                lines.skip_open_quote()
                yield ParseIssue(
                    file=file, location=f"row {number}",
                    message=f"row {number}: {_csv_problem(error)}; the row is not read",
                )
                continue
            number += 1
            if not any(cell.strip() for cell in cells):
                continue
            row = dict(zip(header, cells, strict=False))  # ragged rows: missing cells are empty
            if lines.problem is not None:
                bad = [column for column, cell in row.items() if _FFFD in cell] or ["?"]
                if spec.claim_id in bad or "?" in bad:
                    yield ParseIssue(
                        file=file, location=f"row {number}",
                        message=f"row {number}: {lines.problem}; the row is not read",
                    )
                    continue
                used = [column for column in bad if column in read_columns]
                if not used:
                    yield ParseIssue(
                        file=file, location=f"row {number}, column {bad[0]}", severity="warning",
                        message=f"row {number}, column {_names(bad)}: {lines.problem}; the mapping does not "
                        "read this column",
                    )
                else:
                    row[_ROW_PROBLEM] = f"{used[0]}\0{lines.problem}"
            yield number, row

    yield from _group(records(), spec, file)


# A row cell that says a cell the mapping reads is not text: "column\0problem" (``build_claim`` reports it).
_ROW_PROBLEM = "\0row-problem"


def read_rows(
    rows: Iterable[Mapping[str, Any]], mapping: Any = None, file: str | None = None, *, first_row: int = 2
) -> Iterator[Claim | ParseIssue]:
    """Claims from rows already split into cells (dicts of column -> value, e.g. ``csv.DictReader``).

    Values may be text or Python values (numbers, dates, ``None``). Row numbers start at ``first_row``
    (2: the row after a header). Without ``mapping``, the first row's columns choose a bundled one.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    try:
        if mapping is None and isinstance(first, Mapping):
            spec = mapping_for_header(str(key) for key in first)
        else:
            spec = load_mapping(mapping)
    except MappingError as error:
        yield ParseIssue(file=file, message=str(error))
        return

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        for number, row in enumerate(itertools.chain([first], rows), first_row):
            if not isinstance(row, Mapping):
                raise _Unreadable(number, f"a row must be a mapping of column to value, found {type(row).__name__}")
            yield number, {str(key): _cell_text(value) for key, value in row.items()}

    yield from _group(records(), spec, file)


class _Unreadable(Exception):
    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row = row
        self.message = message


def _csv_problem(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text (at or after this row)"
    if "field larger than field limit" in str(error):
        return f"a field is longer than {csv.field_size_limit():,} characters (the CSV field limit)"
    return f"not CSV: {error}"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _names(columns: list[str], limit: int = 6) -> str:
    shown = ", ".join(repr(column) for column in columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


def _check_header(header: list[str], spec: CsvMapping, file: str | None) -> ParseIssue | None:
    present = set(header)
    missing = [column for column in spec.columns if column not in present]
    if not missing:
        return None
    required = [c for c in (spec.claim_id, spec.fields["line.procedure"].column) if c not in present]
    name = f" {spec.name!r}" if spec.name else ""
    if required:
        hint = ""
        if len(header) == 1:
            other = next((d for d in (";", "\t", "|") if d in header[0] and d != spec.delimiter), None)
            if other is not None:
                hint = f"; the header is one column: is the file delimited by {other!r}? (set `delimiter` in the mapping)"
        return ParseIssue(
            file=file,
            location="row 1",
            message=f"row 1: no column {_names(required)}, which the mapping{name} needs (the claim id and the "
            f"procedure code); the header has {_names(header)}{hint}. Pass --mapping (mapping=) for this export",
        )
    return ParseIssue(
        file=file,
        location="row 1",
        severity="warning",
        message=f"row 1: the header lacks {_names(missing)}, which the mapping{name} reads; read as empty",
    )


def _group(
    records: Iterator[tuple[int, dict[str, str]] | ParseIssue], spec: CsvMapping, file: str | None
) -> Iterator[Claim | ParseIssue]:
    """Rows -> claims (a ParseIssue among the rows is passed on), contiguous (streaming) or scattered (the whole input first)."""
    id_column = spec.claim_id
    scattered: dict[str, list[tuple[int, dict[str, str]]]] = {}
    finished: set[str] = set()
    current: str | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for record in records:
            if isinstance(record, ParseIssue):
                yield record
                continue
            number, row = record
            claim_id = (row.get(id_column) or "").strip()
            if not claim_id:
                yield ParseIssue(
                    file=file,
                    location=f"row {number}, column {id_column}",
                    message=f"row {number}, column {id_column!r}: no claim id; the row is not read",
                )
                continue
            if spec.grouping == "scattered":
                scattered.setdefault(claim_id, []).append((number, row))
                continue
            if claim_id != current:
                if current is not None:
                    yield _claim_or_scattered(current, rows, spec, file, finished)
                current, rows = claim_id, []
            rows.append((number, row))
    except _Unreadable as error:
        if current is not None and rows:
            yield ParseIssue(
                file=file,
                location=f"row {error.row}",
                claim_id=current,
                unreadable_claim=True,
                message=f"row {error.row}: {error.message}; the input ends here, inside this claim",
            )
        else:
            yield ParseIssue(file=file, location=f"row {error.row}", message=f"row {error.row}: {error.message}")
        current = None
    if current is not None:
        yield _claim_or_scattered(current, rows, spec, file, finished)
    for claim_id, claim_rows in scattered.items():
        yield build_claim(claim_id, claim_rows, spec, file)


def _claim_or_scattered(
    claim_id: str, rows: list[tuple[int, dict[str, str]]], spec: CsvMapping, file: str | None, finished: set[str]
) -> Claim | ParseIssue:
    if claim_id in finished:
        first, last = rows[0][0], rows[-1][0]
        span = f"row {first}" if first == last else f"rows {first}-{last}"
        return ParseIssue(
            file=file,
            location=f"row {first}, column {spec.claim_id}",
            claim_id=claim_id,
            unreadable_claim=True,
            message=f"{span}: claim {claim_id} comes back after rows of other claims (its earlier rows were "
            "read as a claim of their own); sort the export by claim id, or set `grouping: scattered` "
            "in the mapping",
        )
    finished.add(claim_id)
    return build_claim(claim_id, rows, spec, file)


# --- one claim from its rows ----------------------------------------------------------------------


class _BadCell(ValueError):
    pass


def build_claim(
    claim_id: str, rows: list[tuple[int, dict[str, str]]], spec: CsvMapping, file: str | None = None
) -> Claim | ParseIssue:
    """The claim that ``rows`` (``(row number, cells)``, all with ``claim_id``) describe."""
    problems: list[tuple[int, str, str]] = []  # (row, column, message)
    claim_values: dict[str, tuple[Any, int]] = {}
    lines: list[tuple[int, dict[str, Any]]] = []
    row_diagnoses: list[str] = []
    for number, row in rows:
        if _ROW_PROBLEM in row:
            column, _, message = row[_ROW_PROBLEM].partition("\0")
            problems.append((number, column, message))
            continue
        if spec.diagnosis_rows is not None and _is_diagnosis_row(row, spec.diagnosis_rows):
            code = _code(_strip_prefix(row.get(spec.diagnosis_rows.code, "").strip(), spec.diagnosis_rows.prefix))
            if code:
                row_diagnoses.append(code)
            continue
        line: dict[str, Any] = {}
        for target, column in spec.fields.items():
            raw = (row.get(column.column) or "").strip()
            if not raw:
                continue
            try:
                value = _convert(TARGETS[target].kind, raw, column, spec)
            except _BadCell as error:
                problems.append((number, column.column, str(error)))
                continue
            if target.startswith("line."):
                _put(line, target[len("line.") :], value)
            elif target in claim_values and claim_values[target][0] != value:
                earlier, earlier_row = claim_values[target]
                problems.append(
                    (number, column.column, f"{raw!r} differs from {_show(earlier)} on row {earlier_row} of the same claim")
                )
            else:
                claim_values.setdefault(target, (value, number))
        if "procedure" not in line:
            column = spec.fields["line.procedure"].column
            problems.append((number, column, "no procedure code"))
        lines.append((number, line))
    if not lines and not problems:
        problems.append((rows[0][0], spec.claim_id, "the claim has no service-line rows"))
    if problems:
        return _unreadable(claim_id, problems, file)
    data = _assemble(claim_id, {k: v for k, (v, _) in claim_values.items()}, lines, row_diagnoses, rows[0][0], file)
    if isinstance(data, tuple):
        return _unreadable(claim_id, [data], file)
    try:
        return Claim.model_validate(data)
    except ValidationError as error:
        located = [_locate(where, message, spec, claim_values, lines) for where, message in validation_problems(error)]
        return _unreadable(claim_id, located, file)


def _put(data: dict[str, Any], target: str, value: Any) -> None:
    """``data["payer"]["name"] = value`` for target ``payer.name``."""
    *parents, leaf = target.split(".")
    for parent in parents:
        data = data.setdefault(parent, {})
    data[leaf] = list(value) if isinstance(value, tuple) else value


def _is_diagnosis_row(row: dict[str, str], rule: DiagnosisRows) -> bool:
    return (row.get(rule.column) or "").strip() in rule.values


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return repr(":".join(str(v) for v in value))
    return repr(str(value))


def _unreadable(claim_id: str, problems: list[tuple[int, str, str]], file: str | None) -> ParseIssue:
    problems = sorted(problems, key=lambda p: p[0])
    row, column, _ = problems[0]
    shown = [f"row {r}, column {c!r}: {m}" for r, c, m in problems[:3]]
    more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    return ParseIssue(
        file=file,
        location=f"row {row}, column {column}",
        claim_id=claim_id,
        unreadable_claim=True,
        message="; ".join(shown) + more,
    )


def _locate(
    where: str,
    message: str,
    spec: CsvMapping,
    claim_values: dict[str, tuple[Any, int]],
    lines: list[tuple[int, dict[str, Any]]],
) -> tuple[int, str, str]:
    """A model validation problem (``/lines/1/units``) as (row, column, message)."""
    parts = where.strip("/").split("/")
    if parts[0] == "lines" and len(parts) > 2 and parts[1].isdigit() and int(parts[1]) < len(lines):
        target = "line." + ".".join(p for p in parts[2:] if not p.isdigit())
        row = lines[int(parts[1])][0]
    else:
        target = ".".join(p for p in parts if not p.isdigit()).replace("other_payers", "other_payer")
        row = claim_values.get(target, (None, lines[0][0] if lines else 1))[1]
    column = spec.fields[target].column if target in spec.fields else where
    return row, column, message


def _assemble(
    claim_id: str,
    values: dict[str, Any],
    lines: list[tuple[int, dict[str, Any]]],
    row_diagnoses: list[str],
    first_row: int,
    file: str | None,
) -> dict[str, Any] | tuple[int, str, str]:
    data: dict[str, Any] = {"claim_id": claim_id, "source": {"file": file, "row": first_row}}
    for target, value in values.items():
        _put(data, target, value)
    codes = list(data.pop("diagnoses", []))
    other = data.pop("other_payer", None)
    model_lines = []
    for position, (number, line) in enumerate(lines, start=1):
        line = dict(line)
        line.setdefault("number", position)
        for code in line.get("diagnosis_codes", ()):
            if code not in codes:
                codes.append(code)
        if "diagnosis_codes" in line:
            line["diagnosis_pointers"] = [codes.index(code) + 1 for code in line.pop("diagnosis_codes")]
        paid = line.pop("prior_payer_paid", None)
        if paid is not None:
            if other is None or not other.get("payer_id"):
                return (number, "line.prior_payer_paid", "a prior payer's line payment needs the other payer's id")
            line["adjudications"] = [{"payer_id": other["payer_id"], "paid": paid, "procedure": line.get("procedure")}]
        model_lines.append(line)
    for code in row_diagnoses:
        if code not in codes:
            codes.append(code)
    data["diagnoses"] = [{"code": code, "qualifier": "ABK" if i == 0 else "ABF"} for i, code in enumerate(codes)]
    data["lines"] = model_lines
    if other is not None:
        data["other_payers"] = [other]
    for provider in _PROVIDERS:  # an NPI column says the identifier is an NPI: NM108 XX
        if provider.startswith("lines[]."):
            for line in model_lines:
                _imply_npi_qualifier(line.get(provider[len("lines[].") :]))
        else:
            _imply_npi_qualifier(data.get(provider))
    patient = data.get("patient")
    if patient is not None and patient.get("relationship") in (None, "18"):
        # Patient is the subscriber (PAT01 18 / no relationship): one person, 2010BA.
        subscriber = data.setdefault("subscriber", {})
        for key, value in patient.items():
            if key != "relationship":
                subscriber.setdefault(key, value)
        del data["patient"]
    if "total_charge" not in data:
        data["total_charge"] = sum((line.get("charge", Decimal(0)) for line in model_lines), Decimal(0))
    return data


# Provider records an NPI target fills (``billing_provider``, ``lines[].ordering_provider``).
_PROVIDERS = tuple(target.path[: -len(".npi")] for target in TARGETS.values() if target.path.endswith(".npi"))


def _imply_npi_qualifier(provider: dict[str, Any] | None) -> None:
    if provider is not None and provider.get("npi") is not None:
        provider.setdefault("id_qualifier", "XX")


# --- cells ---------------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")
_MONEY_NOISE = re.compile(r"[$,\s]")


def _strip_prefix(text: str, prefix: str | None) -> str:
    if prefix and text.startswith(prefix):
        return text[len(prefix) :]
    return text


def _code(text: str) -> str:
    """A diagnosis code as X12 writes it: no dot, upper case (``F32.9`` -> ``F329``)."""
    return text.replace(".", "").strip().upper()


def _translate(text: str, column: ColumnSpec) -> str:
    if column.values is None:
        return text
    if text in column.values:
        return column.values[text]
    folded = {key.casefold(): value for key, value in column.values.items()}
    if text.casefold() in folded:
        return folded[text.casefold()]
    known = ", ".join(repr(key) for key in column.values)
    raise _BadCell(f"{text!r} is not one of {known}")


def _convert(kind: str, raw: str, column: ColumnSpec, spec: CsvMapping) -> Any:
    if kind in _LIST_KINDS:
        items = raw.split(column.split) if column.split else [raw]
        items = [_strip_prefix(item.strip(), column.prefix).strip() for item in items]
        items = [_translate(item, column) for item in items if item]
        if kind == "ints":
            return tuple(_integer(item) for item in items)
        if kind == "codes":
            return tuple(_code(item) for item in items)
        return tuple(items)
    text = _translate(_strip_prefix(raw, column.prefix), column)
    if kind == "decimal":
        return _amount(text)
    if kind == "int":
        return _integer(text)
    if kind == "date":
        return _date(text, column.date_format or spec.date_format)
    return text


def _amount(text: str) -> Decimal:
    cleaned = _MONEY_NOISE.sub("", text)
    if not cleaned.isascii() or "_" in cleaned:  # Decimal() also takes other scripts' digits and 1_000
        raise _BadCell(f"{text!r} is not an amount")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise _BadCell(f"{text!r} is not an amount") from None
    if not value.is_finite():
        raise _BadCell(f"{text!r} is not an amount")
    return value


def _integer(text: str) -> int:
    if not text.isascii() or "_" in text:
        raise _BadCell(f"{text!r} is not a whole number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _BadCell(f"{text!r} is not a whole number") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise _BadCell(f"{text!r} is not a whole number")
    return int(value)


def _parse_date(text: str, date_format: str) -> dt.date:
    """``strptime``, but a format without separators (``%Y%m%d``) takes exactly its width: strptime alone
    reads '202611' as 2026-01-01 and '2026131' as 2026-01-31."""
    if not re.search(r"[^%A-Za-z]", date_format.replace("%%", "")):  # directives only: a fixed width
        width = len(dt.date(2000, 12, 31).strftime(date_format))
        if len(text) != width or not text.isalnum():
            raise ValueError(f"{text!r} is not {width} characters")
    return dt.datetime.strptime(text, date_format).date()


def _date(text: str, date_format: str | None) -> dt.date:
    if date_format:
        try:
            return _parse_date(text, date_format)
        except ValueError:
            raise _BadCell(f"{text!r} is not a date in the format {date_format!r}") from None
    day = re.split(r"[ T]", text, maxsplit=1)[0]  # "2025-01-31 09:30:00" -> the date
    for candidate in _DATE_FORMATS:
        try:
            return _parse_date(day, candidate)
        except ValueError:
            continue
    raise _BadCell(f"{text!r} is not a date (2025-01-31, 20250131 or 01/31/2025)")


__all__ = [
    "DEFAULT_MAPPING",
    "TARGETS",
    "ColumnSpec",
    "CsvMapping",
    "MappingError",
    "build_claim",
    "bundled_mappings",
    "load_mapping",
    "mapping_for_header",
    "read",
    "read_path",
    "read_rows",
]

