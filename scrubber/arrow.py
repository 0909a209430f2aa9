"""Scrub claims held in Arrow record batches: the engine-neutral scale-out function (design §5).

``scrub_batches`` takes an iterator of ``pyarrow.RecordBatch`` and yields record batches, so PySpark's
``DataFrame.mapInArrow`` runs it unchanged on every executor (see ``scrubber.spark``), and so can any
other Arrow host (Ray, Dask, DuckDB, a plain ``pyarrow.dataset`` loop).

Input contract, one claim per row:

- ``claim`` (the name is ``claim_column``): the claim in our ``Claim`` schema (``scrubber schema``), as
  a JSON text (``string``/``large_string``, or UTF-8 ``binary``), or as a struct of the Claim fields
  (nulls in a struct mean "absent"). A ``source`` object in the claim (file, segment, row) is kept,
  so a claim read from an 837 points at the same segments as ``scrubber check``.
- ``error`` (optional, string): set by an upstream reader that could not read the row. With a claim
  (at least ``{"claim_id": ..., "source": ...}``) the row is that claim, unreadable; with a null claim it
  is an input problem that is not one claim (a broken envelope, a file that is not X12), reported with
  status ``input_error``. :func:`rows_from_items` makes such rows from any reader's output.
- ``key_column`` (optional): any column, copied (as text) into the ``key`` of every output row, to
  join results back to the input.

Output (fixed schemas, so ``mapInArrow`` can be given them up front):

- ``mode="findings"`` (:data:`FINDINGS_SCHEMA`): one row per finding (status ``flagged``), plus one
  row per unreadable claim (status ``unreadable``, ``error`` set) and per ``input_error``. Clean
  claims have no row.
- ``mode="claims"`` (:data:`CLAIMS_SCHEMA`): one row per input row: ``clean``, ``flagged``,
  ``unreadable`` or ``input_error``, with the finding count and the rules and denial codes hit.

No row vanishes: bad JSON, a claim that does not fit the schema, or a null cell each give an
``unreadable`` row saying why. The rules, profiles and engine (one per :class:`scrubber.ScrubOptions`) are
built once per process and reused for every batch and partition (durable_rules keeps global C state: one
engine per process, never shared between threads).

>>> import pyarrow as pa
>>> batch = pa.RecordBatch.from_pydict({"claim": [
...     '{"claim_id": "A1", "assignment": "C", "payer": {"filing_indicator": "MB"},'
...     ' "lines": [{"number": 1, "procedure": "80053", "charge": "25"}]}',
...     '{"claim_id": "A2", "lines": "none"}', "not json"]})
>>> out = pa.Table.from_batches(scrub_batches(iter([batch]), select=["CO-111"]), schema=FINDINGS_SCHEMA)
>>> out.select(["claim_id", "status", "rule", "line"]).to_pylist()[0]
{'claim_id': 'A1', 'status': 'flagged', 'rule': 'unassigned-mandatory-assignment-service', 'line': 1}
>>> out.select(["claim_id", "status", "error"]).to_pylist()[1:]
[{'claim_id': 'A2', 'status': 'unreadable', 'error': '/lines: Input should be a valid tuple'}, {'claim_id': None, 'status': 'unreadable', 'error': 'not JSON: Expecting value at column 1'}]
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from pydantic import ValidationError

from scrubber.findings import ClaimResult
from scrubber.model import Claim, ParseIssue
from scrubber.options import ScrubOptions, make_options
from scrubber.readers.common import claim_id_of, summarize, validation_problems

try:
    import pyarrow as pa
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError("scrubber.arrow needs pyarrow: pip install 'claim-scrubber[arrow]'") from error

if TYPE_CHECKING:
    from scrubber.pipeline import Scrubber

MODES = ("findings", "claims")
INPUT_ERROR = "input_error"

_TEXT_LIST = pa.list_(pa.string())

FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string()),
        pa.field("claim_id", pa.string()),
        pa.field("file", pa.string()),
        pa.field("claim_segment", pa.int64()),  # the claim's CLM segment (X12) in its file
        pa.field("row", pa.int64()),  # the claim's CSV row / JSONL line, when it came from one
        pa.field("status", pa.string(), nullable=False),  # flagged | unreadable | input_error
        pa.field("rule", pa.string()),
        pa.field("name", pa.string()),
        pa.field("carc", pa.string()),
        pa.field("rarc", _TEXT_LIST),
        pa.field("remit_codes", _TEXT_LIST),
        pa.field("severity", pa.string()),
        pa.field("line", pa.int64()),  # LX01 of the service line; null for claim-level findings
        pa.field("element", pa.string()),
        pa.field("segment", pa.int64()),  # the segment holding ``element``
        pa.field("message", pa.string()),
        pa.field("fix", pa.string()),
        pa.field("sources", _TEXT_LIST),
        pa.field("error", pa.string()),  # why the row could not be read (unreadable / input_error)
    ]
)

CLAIMS_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string()),
        pa.field("claim_id", pa.string()),
        pa.field("file", pa.string()),
        pa.field("claim_segment", pa.int64()),
        pa.field("row", pa.int64()),
        pa.field("status", pa.string(), nullable=False),  # clean | flagged | unreadable | input_error
        pa.field("finding_count", pa.int64(), nullable=False),
        pa.field("worst_severity", pa.string()),
        pa.field("rules", _TEXT_LIST),  # rule ids hit, in finding order (may repeat: one per line)
        pa.field("carcs", _TEXT_LIST),  # distinct denial codes, in finding order
        pa.field("error", pa.string()),
    ]
)

SCHEMAS = {"findings": FINDINGS_SCHEMA, "claims": CLAIMS_SCHEMA}

# Input rows made by rows_from_items (and scrubber.spark.read_837).
INPUT_SCHEMA = pa.schema([pa.field("claim", pa.string()), pa.field("error", pa.string())])

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

# One Scrubber per ScrubOptions, per process: the engine underneath is cached by
# scrubber.api.get_engine; this also saves reloading the rule files for every batch and partition.
_SCRUBBERS: dict[ScrubOptions, "Scrubber"] = {}


def output_schema(mode: str) -> pa.Schema:
    """The fixed output schema of ``mode`` (``findings`` or ``claims``)."""
    if mode not in SCHEMAS:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    return SCHEMAS[mode]


def scrub_batches(
    batches: Iterable[pa.RecordBatch],
    *,
    mode: str = "findings",
    claim_column: str = "claim",
    key_column: str | None = None,
    options: ScrubOptions | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rulesets: Iterable[str | Path] | None = None,
    profiles: Iterable[str | Path] | None = None,
    severity: Mapping[str, str] | None = None,
    engine: str | None = None,
    tables: Mapping[str, str | Path] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Scrub every row of every batch; yield results as record batches of :func:`output_schema` (mode).

    One output batch per input batch that has results (a findings batch of only clean claims yields
    nothing), in input order. See the module docstring for the input contract. The scrub options are
    those of :func:`scrubber.scrub`: ``options`` and/or the keyword arguments that change it.
    """
    schema = output_schema(mode)
    scrubber = _scrubber(
        make_options(options, select=select, ignore=ignore, rulesets=rulesets, profiles=profiles, severity=severity, engine=engine,
                     tables=tables)
    )
    for batch in batches:
        rows = _input_rows(batch, claim_column, key_column)
        results = iter(scrubber.run(item for _, item in rows if not isinstance(item, _InputError)))
        out = _Columns(schema)
        for key, item in rows:
            if isinstance(item, _InputError):
                out.input_error(key, item.message)
                continue
            result = _next_result(results)
            if mode == "findings":
                out.findings(key, result)
            else:
                out.claim(key, result)
        if out.length:
            yield out.batch()


def rows_from_items(items: Iterable[Claim | ParseIssue]) -> Iterator[dict[str, str | None]]:
    """Input rows (``claim``, ``error``; :data:`INPUT_SCHEMA`) from a reader's output, losing nothing.

    A claim becomes its JSON; an unreadable claim becomes ``{"claim_id", "source"}`` with the error; any
    other problem (envelope, file) a row with no claim and the error, prefixed with where it is.

    >>> from scrubber.readers.x12_837p import read
    >>> import io
    >>> [row["error"] for row in rows_from_items(read(io.BytesIO(b"not x12"), "a.837"))]
    ["a.837, segment 1, envelope: expected an ISA segment, found 'not x12'"]
    """
    for item in items:
        if isinstance(item, Claim):
            yield {"claim": item.model_dump_json(), "error": None}
        elif item.unreadable_claim:
            segment = item.claim_segment if item.claim_segment is not None else item.segment
            stub = {"claim_id": item.claim_id or "", "source": {"file": item.file, "segment": segment}}
            yield {"claim": json.dumps(stub), "error": item.message}
        else:
            where = item.where()
            prefix = "warning: " if item.severity == "warning" else ""
            yield {"claim": None, "error": f"{prefix}{where}: {item.message}"}


def record_batches(rows: Iterable[dict[str, Any]], size: int = 4096) -> Iterator[pa.RecordBatch]:
    """Group :func:`rows_from_items` rows into record batches of :data:`INPUT_SCHEMA`."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield pa.RecordBatch.from_pylist(chunk, schema=INPUT_SCHEMA)
            chunk = []
    if chunk:
        yield pa.RecordBatch.from_pylist(chunk, schema=INPUT_SCHEMA)


# --- input --------------------------------------------------------------------------------------


class _InputError:
    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def _scrubber(options: ScrubOptions) -> "Scrubber":
    from scrubber.api import build_scrubber

    if options not in _SCRUBBERS:
        _SCRUBBERS[options] = build_scrubber(options)
    return _SCRUBBERS[options]


def _input_rows(batch: pa.RecordBatch, claim_column: str, key_column: str | None) -> list[tuple[str | None, Any]]:
    names = batch.schema.names
    if claim_column not in names:
        raise KeyError(f"scrub_batches: no column {claim_column!r} in the input (columns: {', '.join(names)})")
    column = batch.column(names.index(claim_column))
    kind = column.type
    if pa.types.is_struct(kind):
        parse = _from_struct
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        parse = _from_json
    else:
        raise TypeError(f"scrub_batches: column {claim_column!r} is {kind}; expected Claim JSON text or a struct")
    cells = column.to_pylist()
    errors = _optional_text(batch, "error")
    keys = _optional_text(batch, key_column) if key_column else [None] * len(cells)
    if key_column and key_column not in names:
        raise KeyError(f"scrub_batches: no key column {key_column!r} in the input")
    rows = []
    for cell, error, key in zip(cells, errors, keys):
        if error is not None:
            rows.append((key, _upstream_error(cell, error, parse)))
        else:
            rows.append((key, parse(cell)))
    return rows


def _optional_text(batch: pa.RecordBatch, name: str | None) -> list[str | None]:
    if name is None or name not in batch.schema.names:
        return [None] * batch.num_rows
    column = batch.column(batch.schema.names.index(name))
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    return column.to_pylist()


def _from_json(cell: str | bytes | None) -> Claim | ParseIssue:
    if cell is None:
        return ParseIssue(unreadable_claim=True, message="no claim: the claim cell is null")
    try:
        record = json.loads(cell, parse_float=Decimal)  # exact money, as the JSON reader reads it
    except UnicodeDecodeError:
        return ParseIssue(unreadable_claim=True, message="not UTF-8 text")
    except json.JSONDecodeError as error:
        return ParseIssue(unreadable_claim=True, message=f"not JSON: {error.msg} at column {error.colno}")
    return _validate(record)


def _from_struct(cell: dict | None) -> Claim | ParseIssue:
    if cell is None:
        return ParseIssue(unreadable_claim=True, message="no claim: the claim cell is null")
    return _validate(_drop_nulls(cell))


def _drop_nulls(value: Any) -> Any:
    """A struct has every field; a null one means the claim does not have it."""
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


def _validate(record: Any) -> Claim | ParseIssue:
    source = record.get("source") if isinstance(record, dict) else None
    file, segment = _where(source)
    if not isinstance(record, dict):
        kind = "an array" if isinstance(record, list) else "null" if record is None else type(record).__name__
        return ParseIssue(unreadable_claim=True, message=f"a claim must be a JSON object, found {kind}")
    try:
        return Claim.model_validate(record)
    except ValidationError as error:
        return ParseIssue(
            file=file,
            claim_segment=segment,
            claim_id=claim_id_of(record),
            unreadable_claim=True,
            message=summarize(validation_problems(error)),
        )


def _where(source: Any) -> tuple[str | None, int | None]:
    if not isinstance(source, dict):
        return None, None
    file = source.get("file") if isinstance(source.get("file"), str) else None
    segment = source.get("segment")
    return file, segment if isinstance(segment, int) and not isinstance(segment, bool) else None


def _upstream_error(cell: Any, error: str, parse) -> ParseIssue | _InputError:
    """A row an upstream reader could not read: an unreadable claim if it names one, else an input error."""
    if cell is None:
        return _InputError(error)
    record: Any = cell
    if not isinstance(cell, dict):
        try:
            record = json.loads(cell)
        except (ValueError, TypeError):
            record = None
    file, segment = _where(record.get("source") if isinstance(record, dict) else None)
    return ParseIssue(file=file, claim_segment=segment, claim_id=claim_id_of(record) if record else None,
                      unreadable_claim=True, message=error)


def _next_result(results: Iterator[ClaimResult | ParseIssue]) -> ClaimResult:
    # Scrubber.run yields one ClaimResult per claim or unreadable claim, in order, and the ParseIssue
    # of an unreadable claim after its result: skip those.
    for event in results:
        if isinstance(event, ClaimResult):
            return event
    raise RuntimeError("scrub_batches: the pipeline returned fewer results than rows")


# --- output -------------------------------------------------------------------------------------


class _Columns:
    """Output columns filled row by row, then one record batch."""

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.data: dict[str, list[Any]] = {name: [] for name in schema.names}
        self.length = 0

    def _row(self, **values: Any) -> None:
        for name, column in self.data.items():
            column.append(values.get(name))
        self.length += 1

    def _claim_fields(self, key: str | None, result: ClaimResult) -> dict[str, Any]:
        return {"key": key, "claim_id": result.claim_id, "file": result.file, "claim_segment": result.segment, "row": result.row}

    def input_error(self, key: str | None, message: str) -> None:
        severity = "warning" if message.startswith("warning: ") else "error"
        self._row(key=key, status=INPUT_ERROR, error=message, severity=severity, worst_severity=severity, finding_count=0)

    def findings(self, key: str | None, result: ClaimResult) -> None:
        base = self._claim_fields(key, result)
        if result.status == "unreadable":
            self._row(**base, status="unreadable", error=result.error)
            return
        for finding in result.findings:
            self._row(
                **base,
                status=result.status,
                rule=finding.rule,
                name=finding.name,
                carc=finding.carc,
                rarc=list(finding.rarc),
                remit_codes=list(finding.remit_codes),
                severity=finding.severity,
                line=finding.line,
                element=finding.element,
                segment=finding.segment,
                message=finding.message,
                fix=finding.fix,
                sources=list(finding.sources),
            )

    def claim(self, key: str | None, result: ClaimResult) -> None:
        findings = result.findings
        worst = min((f.severity for f in findings), key=lambda s: _SEVERITY_RANK.get(s, 3), default=None)
        self._row(
            **self._claim_fields(key, result),
            status=result.status,
            finding_count=len(findings),
            worst_severity=worst,
            rules=[f.rule for f in findings],
            carcs=list(dict.fromkeys(f.carc for f in findings)),
            error=result.error,
        )

    def batch(self) -> pa.RecordBatch:
        arrays = [pa.array(self.data[field.name], type=field.type) for field in self.schema]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


__all__ = [
    "CLAIMS_SCHEMA",
    "FINDINGS_SCHEMA",
    "INPUT_ERROR",
    "INPUT_SCHEMA",
    "MODES",
    "output_schema",
    "record_batches",
    "rows_from_items",
    "scrub_batches",
]
