"""Write claims as a CSV export through a column mapping: the inverse of ``scrubber.readers.csv``.

For fixtures and round-trip tests. One row per service line; claim-level columns repeated on every row.
A field the mapping does not map is not written (that is what the export cannot carry; what no mapping
can carry is ``NOT_CARRIED`` in ``scrubber/mappings/csv_columns.py``); a value a ``values`` table cannot
express, a second other payer, or a provider whose NM108 qualifier is not XX (an NPI column implies
XX) raises ``ValueError``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from scrubber.mappings.csv_columns import TARGETS, ColumnSpec, CsvMapping, load_mapping
from scrubber.model import Claim, ServiceLine
from scrubber.writers.x12_837p import format_decimal

__all__ = ["rows", "write"]


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def _icd10(code: str) -> str:
    """ICD-10-CM as exports show it, with its dot (``F329`` -> ``F32.9``); the reader removes it."""
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _reverse(value: str, spec: ColumnSpec, target: str) -> str:
    if spec.values is None:
        return value
    for key, code in spec.values.items():
        if code == value:
            return key
    raise ValueError(f"{target}: the mapping's values for column {spec.column!r} have no entry for {value!r}")


def _text(value: Any, target: str, spec: ColumnSpec, mapping: CsvMapping) -> str:
    if value is None:
        return ""
    kind = TARGETS[target].kind
    if kind in ("list", "ints", "codes"):
        items = [_reverse(_icd10(item) if kind == "codes" else str(item), spec, target) for item in value]
        items = [(spec.prefix or "") + item for item in items]
        if len(items) > 1 and not spec.split:
            raise ValueError(f"{target}: {len(items)} values but column {spec.column!r} has no split")
        return (spec.split or "").join(items)
    if isinstance(value, Decimal):
        text = format_decimal(value)
    elif isinstance(value, date):
        date_format = spec.date_format or mapping.date_format
        text = value.strftime(date_format) if date_format else value.isoformat()
    else:
        text = str(value)
    return (spec.prefix or "") + _reverse(text, spec, target)


def _line_value(claim: Claim, line: ServiceLine, target: str) -> Any:
    name = target[len("line.") :]
    if name == "diagnosis_codes":
        return [claim.diagnoses[pointer - 1].code for pointer in line.diagnosis_pointers]
    if name == "prior_payer_paid":
        other = claim.other_payers[0] if claim.other_payers else None
        paid = [adj.paid for adj in line.adjudications if other is not None and adj.payer_id == other.payer_id]
        return paid[0] if paid else None
    return _get(line, name)


def _claim_value(claim: Claim, target: str) -> Any:
    if target == "diagnoses":
        return [diagnosis.code for diagnosis in claim.diagnoses]
    if target.startswith("other_payer."):
        return _get(claim.other_payers[0], target[len("other_payer.") :]) if claim.other_payers else None
    if target.startswith("patient.") and claim.patient is None:
        return "18" if target == "patient.relationship" else None
    return _get(claim, target)


def _check_qualifiers(claim: Claim, spec: CsvMapping) -> None:
    """An NPI column says NM108 = XX: a provider identified otherwise cannot be written."""
    for target in spec.fields:
        if not target.endswith(".npi"):
            continue
        record = target[: -len(".npi")]
        if record.startswith("line."):
            providers = [_get(line, record[len("line.") :]) for line in claim.lines]
        else:
            providers = [_get(claim, record)]
        for provider in providers:
            if provider is not None and provider.id_qualifier not in (None, "XX"):
                raise ValueError(
                    f"claim {claim.claim_id}: {target}: NM108 {provider.id_qualifier!r} is not XX, which an NPI column implies"
                )


def rows(claims: Iterable[Claim], mapping: Any = None) -> Iterator[dict[str, str]]:
    """The export's rows for ``claims``: column -> text."""
    spec = load_mapping(mapping)
    for claim in claims:
        if len(claim.other_payers) > 1:
            raise ValueError(f"claim {claim.claim_id}: a CSV export carries one other payer, not {len(claim.other_payers)}")
        _check_qualifiers(claim, spec)
        header = {spec.claim_id: claim.claim_id}
        for target, column in spec.fields.items():
            if not target.startswith("line."):
                header[column.column] = _text(_claim_value(claim, target), target, column, spec)
        for line in claim.lines:
            row = dict(header)
            for target, column in spec.fields.items():
                if target.startswith("line."):
                    row[column.column] = _text(_line_value(claim, line, target), target, column, spec)
            yield row
        rule = spec.diagnosis_rows
        if rule is not None:  # one row per diagnosis, as OpenEMR's billing table holds them
            for diagnosis in claim.diagnoses:
                row = {column: "" for column in spec.columns}
                row.update(header)
                row[rule.column] = rule.values[0]
                row[rule.code] = (rule.prefix or "") + _icd10(diagnosis.code)
                yield row


def write(claims: Iterable[Claim], mapping: Any = None) -> str:
    """The CSV text (header first) of ``claims`` through ``mapping``."""
    spec = load_mapping(mapping)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=spec.columns, delimiter=spec.delimiter, lineterminator="\n")
    writer.writeheader()
    for row in rows(claims, spec):
        writer.writerow(row)
    return out.getvalue()
