"""The CSV column mapping, shared by ``scrubber.readers.csv`` (which documents the format) and
``scrubber.writers.csv``: the targets a mapping can fill (``TARGETS``), what no target can fill
(``NOT_CARRIED``, ``PARTLY_CARRIED``), the mapping's schema (``CsvMapping``, ``ColumnSpec``,
``DiagnosisRows``), and loading one (``load_mapping``: a YAML file, a bundled mapping's name from this
package, or a dict).

Each target names the model path it fills (``line.procedure`` fills ``lines[].procedure``); the X12
element shown for it comes from the 837P element map (``scrubber/x12map/837p.yaml``) by that path, so
``scrubber schema --csv-targets`` and ``docs/csv-mapping.md`` cannot drift from the map.

What a CSV export cannot carry (a flat file, one row per service line, claim columns repeated):

- no target at all (``NOT_CARRIED``): the X12 version (``implementation``), the other payer's claim
  adjustments (2320 CAS) and a prior payer's line units, adjustments and date (2430 SVD05, CAS, DTP*573);
- in part (``PARTLY_CARRIED``): one other payer per claim, and one prior payer's paid amount per line;
  diagnosis qualifiers (the first code is ABK, the others ABF: no ICD-9); NM108 is XX, implied by an
  NPI column (the writer refuses another qualifier); a patient whose relationship is 18 (self) is the
  subscriber.

What one mapping carries is its targets' paths; ``not_carried(mapping)`` lists the model paths it
leaves out (what the cross-format tests skip when they compare an export with the 837P it came from).

It lives here, below both, so that the writer does not import the reader (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scrubber.x12map import element_map

# The model paths of every provider record (billing, claim-level and line-level roles).
PROVIDER_PATHS = (
    "billing_provider",
    "referring_provider",
    "rendering_provider",
    "service_facility",
    "supervising_provider",
    "lines[].rendering_provider",
    "lines[].supervising_provider",
    "lines[].ordering_provider",
    "lines[].referring_provider",
)

DEFAULT_MAPPING = "charge-export"
_MAPPINGS_PACKAGE = "scrubber.mappings"


# Model fields read from the X12 envelope, which the element map (the transaction's content) does not hold.
_ENVELOPE = {"implementation": "GS08, ST03"}


def x12_label(path: str) -> str:
    """The X12 837P element(s) of a model path, from the element map: a field's elements as the map labels
    them (``assignment``: ``2300 CLM07``), a record's loops (``other_payers[]``: ``2320, 2330B``).

    Shared by the CSV targets and the FHIR mapping (``scrubber.readers.fhir``), so neither restates an
    element name. ``ValueError`` for a path the map does not fill.
    """
    emap = element_map("837p")
    rows = emap.for_path(path)
    if rows:
        return ", ".join(row.label for row in rows)
    loops = [row.loop for row in emap.segments if row.record == path or row.record.startswith(path + ".")]
    if loops:
        return ", ".join(dict.fromkeys(loops))
    if path in _ENVELOPE:
        return _ENVELOPE[path]
    raise ValueError(f"{path!r}: no element of the 837P element map fills it")


@dataclass(frozen=True)
class Target:
    """A field a CSV column can fill: how the cell is read, the model path it fills, and notes."""

    kind: Literal["text", "decimal", "date", "int", "list", "ints", "codes"]
    path: str  # the model path it fills: assignment, payer.filing_indicator, lines[].procedure
    note: str = ""  # what a reader should know beyond the X12 element (a default, an implied value)
    also: tuple[str, ...] = ()  # further model paths the column fills (an NPI column: NM108 = XX)

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *self.also)

    @property
    def x12(self) -> str:
        """The X12 element(s) of ``path``, from the element map."""
        return x12_label(self.path)

    @property
    def element(self) -> str:
        """The X12 element and the note, as ``scrubber schema --csv-targets`` shows them."""
        return f"{self.x12} ({self.note})" if self.note else self.x12


_NPI = "NM108 = XX is implied"


def _provider(path: str) -> Target:
    return Target("text", f"{path}.npi", _NPI, also=(f"{path}.id_qualifier",))


def _targets() -> dict[str, Target]:
    t = Target
    targets = {
        "total_charge": t("decimal", "total_charge", "default: the sum of the line charges"),
        "batch_date": t("date", "batch_date", "the date the claim was created"),
        "place_of_service": t("text", "place_of_service"),
        "frequency": t("text", "frequency"),
        "provider_signature": t("text", "provider_signature"),
        "assignment": t("text", "assignment"),
        "benefits_assignment": t("text", "benefits_assignment"),
        "release_of_information": t("text", "release_of_information"),
        "related_causes": t("list", "related_causes"),
        "accident_state": t("text", "accident_state"),
        "delay_reason": t("text", "delay_reason"),
        "accident_date": t("date", "accident_date"),
        "onset_date": t("date", "onset_date"),
        "initial_treatment_date": t("date", "initial_treatment_date"),
        "prior_auth": t("text", "prior_auth"),
        "payer_claim_number": t("text", "payer_claim_number"),
        "diagnoses": t("codes", "diagnoses", "first ABK, then ABF"),
        "billing_state": t("text", "billing_state"),
        "billing_provider.npi": _provider("billing_provider"),
        "billing_provider.taxonomy": t("text", "billing_provider.taxonomy"),
        "referring_provider.npi": _provider("referring_provider"),
        "rendering_provider.npi": _provider("rendering_provider"),
        "rendering_provider.taxonomy": t("text", "rendering_provider.taxonomy"),
        "service_facility.npi": _provider("service_facility"),
        "supervising_provider.npi": _provider("supervising_provider"),
        "payer.sequence": t("text", "payer.sequence"),
        "payer.insurance_type": t("text", "payer.insurance_type"),
        "payer.filing_indicator": t("text", "payer.filing_indicator"),
        "payer.payer_id": t("text", "payer.payer_id"),
        "payer.name": t("text", "payer.name"),
        "subscriber.last_name": t("text", "subscriber.last_name"),
        "subscriber.first_name": t("text", "subscriber.first_name"),
        "subscriber.member_id": t("text", "subscriber.member_id"),
        "subscriber.state": t("text", "subscriber.state"),
        "subscriber.birth_date": t("date", "subscriber.birth_date"),
        "subscriber.sex": t("text", "subscriber.sex"),
        "patient.relationship": t("text", "patient.relationship", "18 = self: no separate patient"),
        "patient.last_name": t("text", "patient.last_name"),
        "patient.first_name": t("text", "patient.first_name"),
        "patient.state": t("text", "patient.state"),
        "patient.birth_date": t("date", "patient.birth_date"),
        "patient.sex": t("text", "patient.sex"),
        "other_payer.sequence": t("text", "other_payers[].sequence"),
        "other_payer.insurance_type": t("text", "other_payers[].insurance_type"),
        "other_payer.filing_indicator": t("text", "other_payers[].filing_indicator"),
        "other_payer.payer_id": t("text", "other_payers[].payer_id"),
        "other_payer.name": t("text", "other_payers[].name"),
        "other_payer.paid": t("decimal", "other_payers[].paid"),
        "other_payer.noncovered": t("decimal", "other_payers[].noncovered"),
        "other_payer.remaining_patient_liability": t("decimal", "other_payers[].remaining_patient_liability"),
        "other_payer.adjudication_date": t("date", "other_payers[].adjudication_date"),
        "line.number": t("int", "lines[].number", "default: the row's place in its claim"),
        "line.procedure": t("text", "lines[].procedure"),
        "line.qualifier": t("text", "lines[].qualifier"),
        "line.modifiers": t("list", "lines[].modifiers"),
        "line.charge": t("decimal", "lines[].charge"),
        "line.unit_basis": t("text", "lines[].unit_basis"),
        "line.units": t("decimal", "lines[].units"),
        "line.place_of_service": t("text", "lines[].place_of_service"),
        "line.diagnosis_pointers": t("ints", "lines[].diagnosis_pointers"),
        "line.diagnosis_codes": t(
            "codes", "lines[].diagnosis_pointers", "as codes, added to the claim's diagnoses", also=("diagnoses",)
        ),
        "line.service_date": t("date", "lines[].service_date"),
        "line.prior_auth": t("text", "lines[].prior_auth"),
        "line.ndc": t("text", "lines[].ndc"),
        "line.ndc_quantity": t("decimal", "lines[].ndc_quantity"),
        "line.ndc_unit": t("text", "lines[].ndc_unit"),
        "line.rendering_provider.npi": _provider("lines[].rendering_provider"),
        "line.rendering_provider.taxonomy": t("text", "lines[].rendering_provider.taxonomy"),
        "line.supervising_provider.npi": _provider("lines[].supervising_provider"),
        "line.ordering_provider.npi": _provider("lines[].ordering_provider"),
        "line.referring_provider.npi": _provider("lines[].referring_provider"),
        "line.prior_payer_paid": t(
            "decimal",
            "lines[].adjudications[].paid",
            "of the other payer",
            also=("lines[].adjudications[].payer_id", "lines[].adjudications[].procedure"),
        ),
    }
    for target in targets.values():
        if not element_map("837p").for_path(target.path):
            raise ValueError(f"CSV target path {target.path!r} is no field of the 837P element map")
    return targets


TARGETS: dict[str, Target] = _targets()

# Model paths no target fills, with why (the X12 element each stands for: x12_label(path)).
NOT_CARRIED: dict[str, str] = {
    "implementation": "the X12 implementation guide version of the transaction: an export has none",
    "other_payers[].adjustments": "a CAS group holds any number of reason/amount triples: no flat column",
    "lines[].adjudications[].units": "a line carries one prior payment (line.prior_payer_paid), nothing else of 2430",
    "lines[].adjudications[].adjustments": "a CAS group holds any number of reason/amount triples: no flat column",
    "lines[].adjudications[].adjudication_date": "a line carries one prior payment (line.prior_payer_paid), nothing else of 2430",
}

# Model paths a target fills only in part, with what is lost.
PARTLY_CARRIED: dict[str, str] = {
    "other_payers[]": "one other payer per claim (the writer refuses a claim with more)",
    "lines[].adjudications[]": "one per line: the other payer's paid amount (payer id and procedure are the other payer's and the line's)",
    "diagnoses": "the qualifier is ABK for the first code and ABF for the others: ICD-9 (BK/BF) cannot be said",
    "patient": "a patient whose relationship is 18 (self), or not given, is the subscriber",
    **{
        f"{path}.id_qualifier": "XX, implied by an NPI column: the writer refuses another qualifier"
        for path in PROVIDER_PATHS
    },
}


def not_carried(mapping: "CsvMapping") -> frozenset[str]:
    """The model paths ``mapping`` does not carry: ``NOT_CARRIED`` and the paths of the targets it does
    not map (a path some mapped target fills is carried; ``diagnosis_rows`` fill ``diagnoses``)."""
    carried = {path for name in mapping.fields for path in TARGETS[name].paths}
    if mapping.diagnosis_rows is not None:
        carried.add("diagnoses")
    unmapped = {path for target in TARGETS.values() for path in target.paths} - carried
    return frozenset(NOT_CARRIED) | unmapped


def targets_markdown() -> str:
    """``docs/csv-mapping.md``: the targets, what they fill, and what CSV cannot carry."""
    lines = [
        "# CSV column mapping targets -> claim model -> X12 837P",
        "",
        "Generated from `TARGETS`, `NOT_CARRIED` and `PARTLY_CARRIED` in `scrubber/mappings/csv_columns.py`",
        "by `scrubber schema --csv-mapping`; do not edit by hand (a test compares this file with the code).",
        "The X12 column comes from the element map (`scrubber/x12map/837p.yaml`) by model path.",
        "A mapping (`scrubber/readers/csv.py` documents the format) names a column for each target it fills;",
        "claim-level targets repeat on every row of a claim, `line.` targets are read per row (service line).",
        f"The mapping's `claim_id` column, which groups rows into claims, fills `claim_id` ({x12_label('claim_id')}).",
        "",
        "| target | kind | model field | X12 837P | note |",
        "|---|---|---|---|---|",
    ]
    for name, target in TARGETS.items():
        cells = (name, target.kind, ", ".join(target.paths), target.x12, target.note)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "## Not carried by CSV", "", "| model field | X12 837P | why |", "|---|---|---|"]
    lines += [f"| {path} | {x12_label(path)} | {why} |" for path, why in NOT_CARRIED.items()]
    lines += ["", "## Carried in part", "", "| model field | X12 837P | what is lost |", "|---|---|---|"]
    lines += [f"| {path} | {x12_label(path)} | {why} |" for path, why in PARTLY_CARRIED.items()]
    lines += [
        "",
        "A mapping carries only the targets it maps: `scrubber/mappings/openemr.yaml` says what an OpenEMR",
        "billing export lacks.",
    ]
    return "\n".join(lines) + "\n"


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
    "NOT_CARRIED",
    "PARTLY_CARRIED",
    "TARGETS",
    "ColumnSpec",
    "CsvMapping",
    "DiagnosisRows",
    "MappingError",
    "Target",
    "bundled_mappings",
    "load_mapping",
    "not_carried",
    "targets_markdown",
    "x12_label",
]
