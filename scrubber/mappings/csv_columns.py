"""The CSV column mapping, shared by ``scrubber.readers.csv`` (which documents the format) and
``scrubber.writers.csv``: the targets a mapping can fill (``TARGETS``), the mapping's schema
(``CsvMapping``, ``ColumnSpec``, ``DiagnosisRows``), and loading one (``load_mapping``: a YAML file, a
bundled mapping's name from this package, or a dict).

It lives here, below both, so that the writer does not import the reader (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_MAPPING = "charge-export"
_MAPPINGS_PACKAGE = "scrubber.mappings"


@dataclass(frozen=True)
class Target:
    kind: Literal["text", "decimal", "date", "int", "list", "ints", "codes"]
    element: str  # the X12 element the field stands for


def _targets() -> dict[str, Target]:
    t = Target
    targets = {
        "total_charge": t("decimal", "2300 CLM02 (default: the sum of the line charges)"),
        "batch_date": t("date", "BHT04 (the date the claim was created)"),
        "place_of_service": t("text", "2300 CLM05-1"),
        "frequency": t("text", "2300 CLM05-3"),
        "provider_signature": t("text", "2300 CLM06"),
        "assignment": t("text", "2300 CLM07"),
        "benefits_assignment": t("text", "2300 CLM08"),
        "release_of_information": t("text", "2300 CLM09"),
        "related_causes": t("list", "2300 CLM11-1..3"),
        "accident_state": t("text", "2300 CLM11-4"),
        "accident_date": t("date", "2300 DTP*439"),
        "prior_auth": t("text", "2300 REF*G1"),
        "payer_claim_number": t("text", "2300 REF*F8"),
        "diagnoses": t("codes", "2300 HI (first ABK, then ABF)"),
        "billing_state": t("text", "2010AA N402"),
        "billing_provider.npi": t("text", "2010AA NM109"),
        "billing_provider.taxonomy": t("text", "2000A PRV03"),
        "rendering_provider.npi": t("text", "2310B NM109"),
        "rendering_provider.taxonomy": t("text", "2310B PRV03"),
        "payer.sequence": t("text", "2000B SBR01"),
        "payer.insurance_type": t("text", "2000B SBR05"),
        "payer.filing_indicator": t("text", "2000B SBR09"),
        "payer.payer_id": t("text", "2010BB NM109"),
        "payer.name": t("text", "2010BB NM103"),
        "subscriber.last_name": t("text", "2010BA NM103"),
        "subscriber.first_name": t("text", "2010BA NM104"),
        "subscriber.member_id": t("text", "2010BA NM109"),
        "subscriber.state": t("text", "2010BA N402"),
        "subscriber.birth_date": t("date", "2010BA DMG02"),
        "patient.relationship": t("text", "2000C PAT01 (18 = self: no separate patient)"),
        "patient.last_name": t("text", "2010CA NM103"),
        "patient.first_name": t("text", "2010CA NM104"),
        "patient.state": t("text", "2010CA N402"),
        "patient.birth_date": t("date", "2010CA DMG02"),
        "other_payer.sequence": t("text", "2320 SBR01"),
        "other_payer.insurance_type": t("text", "2320 SBR05"),
        "other_payer.filing_indicator": t("text", "2320 SBR09"),
        "other_payer.payer_id": t("text", "2330B NM109"),
        "other_payer.name": t("text", "2330B NM103"),
        "other_payer.paid": t("decimal", "2320 AMT*D"),
        "other_payer.adjudication_date": t("date", "2330B DTP*573"),
        "line.number": t("int", "2400 LX01 (default: the row's place in its claim)"),
        "line.procedure": t("text", "2400 SV101-2"),
        "line.qualifier": t("text", "2400 SV101-1"),
        "line.modifiers": t("list", "2400 SV101-3..6"),
        "line.charge": t("decimal", "2400 SV102"),
        "line.unit_basis": t("text", "2400 SV103"),
        "line.units": t("decimal", "2400 SV104"),
        "line.place_of_service": t("text", "2400 SV105"),
        "line.diagnosis_pointers": t("ints", "2400 SV107"),
        "line.diagnosis_codes": t("codes", "2400 SV107 (as codes, added to 2300 HI)"),
        "line.service_date": t("date", "2400 DTP*472"),
        "line.prior_auth": t("text", "2400 REF*G1"),
        "line.rendering_provider.npi": t("text", "2420A NM109"),
        "line.rendering_provider.taxonomy": t("text", "2420A PRV03"),
        "line.prior_payer_paid": t("decimal", "2430 SVD02 (of the other payer)"),
    }
    return targets


TARGETS: dict[str, Target] = _targets()


class MappingError(ValueError):
    """A column mapping that cannot be used (file missing, not YAML, unknown target, ...)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _text_key(value: Any) -> str:
    if isinstance(value, bool):  # YAML 1.1 reads yes/no/on/off as booleans
        raise ValueError(f"{value!r} reads as a boolean in YAML: quote it")
    return str(value)


class ColumnSpec(_Frozen):
    """Which column fills a field, and how its text becomes the field's value."""

    column: str
    split: str | None = None  # between the items of a list field ("|" in "F32.9|I10")
    values: dict[str, str] | None = None  # export value -> X12 code; any other value is an error
    prefix: str | None = None  # removed from each item ("ICD10|" in "ICD10|F32.9")
    date_format: str | None = None  # strptime format, e.g. "%m/%d/%Y"

    @field_validator("column", mode="before")
    @classmethod
    def _column_text(cls, value: Any) -> Any:
        return _text_key(value) if isinstance(value, (int, float, bool)) else value

    @field_validator("values", mode="before")
    @classmethod
    def _values_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {_text_key(k): _text_key(v) for k, v in value.items()}
        return value


class DiagnosisRows(_Frozen):
    """Rows that each hold one diagnosis of their claim instead of a service line."""

    column: str  # e.g. code_type
    values: list[str]  # e.g. [ICD10]
    code: str  # the column holding the diagnosis code
    prefix: str | None = None


class CsvMapping(_Frozen):
    name: str | None = None
    description: str | None = None
    claim_id: str = Field(description="the column whose value groups rows into claims")
    grouping: Literal["contiguous", "scattered"] = "contiguous"
    delimiter: str = ","
    date_format: str | None = None
    diagnosis_rows: DiagnosisRows | None = None
    fields: dict[str, ColumnSpec]

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, (str, int)) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _known_targets(self) -> "CsvMapping":
        unknown = sorted(set(self.fields) - set(TARGETS))
        if unknown:
            raise ValueError(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
        if "line.procedure" not in self.fields:
            raise ValueError("line.procedure must be mapped: a row is a service line")
        if "line.diagnosis_pointers" in self.fields and "line.diagnosis_codes" in self.fields:
            raise ValueError("map line.diagnosis_pointers or line.diagnosis_codes, not both")
        if len(self.delimiter) != 1:
            raise ValueError("delimiter must be one character")
        return self

    @property
    def columns(self) -> list[str]:
        """Every column the mapping reads, claim-id column first."""
        names = [self.claim_id] + [spec.column for spec in self.fields.values()]
        if self.diagnosis_rows is not None:
            names += [self.diagnosis_rows.column, self.diagnosis_rows.code]
        return list(dict.fromkeys(names))


def bundled_mappings() -> list[str]:
    """Names of the mappings shipped in ``scrubber/mappings`` (usable as ``mapping="openemr"``)."""
    folder = resources.files(_MAPPINGS_PACKAGE)
    return sorted(entry.name[: -len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def load_mapping(source: str | Path | Mapping[str, Any] | CsvMapping | None = None) -> CsvMapping:
    """A mapping from a YAML file, a bundled mapping's name, a dict, or ``None`` (``charge-export``)."""
    if isinstance(source, CsvMapping):
        return source
    label = "mapping"
    if source is None:
        source = DEFAULT_MAPPING
    if isinstance(source, (str, Path)):
        label = str(source)
        path = Path(source)
        if not path.is_file() and str(source) in bundled_mappings():
            text = resources.files(_MAPPINGS_PACKAGE).joinpath(f"{source}.yaml").read_text(encoding="utf-8")
            label = f"bundled mapping {source!r}"
        else:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as error:
                bundled = ", ".join(bundled_mappings())
                raise MappingError(
                    f"mapping {label}: cannot read it ({error.strerror or error}); bundled mappings: {bundled}"
                ) from None
            except UnicodeDecodeError:
                raise MappingError(f"mapping {label}: not UTF-8 text") from None
        import yaml

        try:
            source = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise MappingError(f"mapping {label}: not YAML: {error}") from None
    if not isinstance(source, Mapping):
        raise MappingError(f"mapping {label}: expected a YAML mapping with claim_id and fields")
    try:
        return CsvMapping.model_validate(dict(source))
    except ValidationError as error:
        where, message = _first_problem(error)
        raise MappingError(f"mapping {label}: {where}: {message}") from None


def _first_problem(error: ValidationError) -> tuple[str, str]:
    """The first problem of a pydantic error as (``fields.line.charge.column``, message), without the
    names pydantic adds for unions and validator functions."""
    problem = error.errors()[0]
    parts = [
        str(part).replace("~", "~0").replace("/", "~1")  # as a JSON pointer (readers.common.pointer) shows it
        for part in problem["loc"]
        if isinstance(part, int) or not _is_validator_tag(str(part))
    ]
    return ".".join(parts), problem["msg"]


def _is_validator_tag(text: str) -> bool:
    return text.startswith(("function-", "tagged-union[", "union[")) or "[" in text and text.endswith("]")


__all__ = [
    "DEFAULT_MAPPING",
    "TARGETS",
    "ColumnSpec",
    "CsvMapping",
    "DiagnosisRows",
    "MappingError",
    "Target",
    "bundled_mappings",
    "load_mapping",
]
