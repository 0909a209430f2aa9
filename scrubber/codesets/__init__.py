"""Code sets used by claim-scrubber rules, shipped as data files with a source and date.

Named code sets are YAML files (``sets/*.yaml``, format and loader in ``scrubber.codesets.sets``);
users add their own with ``load_code_sets``. The predicates below answer from those sets (and from
the tables still in ``data/``). Every predicate is cheap and cached: rules call them per service
line. Inputs are normalized (case, surrounding spaces, ICD-10-CM dot) and anything malformed is
simply False.
"""
from __future__ import annotations

from typing import Mapping

from ._data import read_yaml
from .icd10 import (
    ICD10_DOC,
    TRAFFIC_ACCIDENT_CODES,
    TRAFFIC_SET_NAME,
    Icd10Edition,
    Icd10Verdict,
    icd10_edition,
    icd10_editions,
    icd10_history,
    icd10_status,
    icd10_table_entry,
    icd10_verdict,
    is_external_cause,
    is_mental_health_dx,
    is_traffic_accident_code,
)
from .payers import (
    AUTO_FILING_INDICATORS,
    CLAIM_FILING_INDICATOR_CODES,
    MEDICAID_FILING_INDICATORS,
    MEDICARE_B_FILING_INDICATORS,
    NO_FAULT_STATES,
    PAYER_DOC,
    PIP_STATES,
    is_no_fault_or_pip_state,
)
from .procedures import (
    PREDICATE_SETS,
    is_ambulance,
    is_clinical_lab,
    is_mandatory_assignment_practitioner,
    is_mandatory_assignment_service,
    is_part_b_drug,
    is_psychiatric,
)
from .sets import CodeSet, CodeSetError, bundled_code_sets, code_set_names, load_code_set, load_code_sets

__all__ = [
    "AUTO_FILING_INDICATORS",
    "CLAIM_FILING_INDICATOR_CODES",
    "CodeSet",
    "CodeSetError",
    "Icd10Edition",
    "Icd10Verdict",
    "MEDICAID_FILING_INDICATORS",
    "MEDICARE_B_FILING_INDICATORS",
    "NO_FAULT_STATES",
    "PIP_STATES",
    "TRAFFIC_ACCIDENT_CODES",
    "bundled_code_sets",
    "code_set_names",
    "describe",
    "icd10_edition",
    "icd10_editions",
    "icd10_history",
    "icd10_status",
    "icd10_verdict",
    "is_ambulance",
    "is_clinical_lab",
    "is_external_cause",
    "is_mandatory_assignment_practitioner",
    "is_mandatory_assignment_service",
    "is_mental_health_dx",
    "is_no_fault_or_pip_state",
    "is_part_b_drug",
    "is_psychiatric",
    "is_traffic_accident_code",
    "load_code_set",
    "load_code_sets",
]


def _entry(name: str, file: str, spec: dict, **extra) -> dict:
    return {"name": name, "file": f"data/{file}", "source": " ".join(str(spec["source"]).split()),
            "as_of": str(spec["as_of"]), **extra}


def _set_entry(code_set: CodeSet, name: str | None = None, predicate: str | None = None) -> dict:
    path = code_set.path or f"{code_set.name}.yaml"
    entry = {
        "name": name or code_set.name, "set": code_set.name, "predicate": predicate,
        "file": path.removeprefix("scrubber/codesets/"), "kind": code_set.kind,
        "description": code_set.description, "source": code_set.source,
        "as_of": code_set.as_of.isoformat() if code_set.as_of else None, "count": code_set.item_count(),
    }
    if code_set.codes:
        entry["codes"] = sorted(code_set.codes)
    if code_set.ranges:
        entry["ranges"] = list(code_set.ranges)
    if code_set.prefixes:
        entry["prefixes"] = list(code_set.prefixes)
    if code_set.entries:
        entry["entries"] = [{e.kind: e.value, "effective": e.effective and e.effective.isoformat(),
                             "end": e.end and e.end.isoformat()} for e in code_set.entries]
    return entry


# describe() name and predicate of the bundled sets the facts use (older names than the set names).
_PREDICATES = {set_name: (name, f"is_{name}") for name, set_name in PREDICATE_SETS.items()}
_PREDICATES[TRAFFIC_SET_NAME] = ("traffic_accident", "is_traffic_accident_code")


def describe(code_sets: Mapping[str, CodeSet] | None = None) -> list[dict]:
    """Every code set with name, file, source and as_of (for generated docs).

    First the named code sets (the bundled ones, or ``code_sets`` as returned by ``load_code_sets``),
    one entry each, with ``set`` (the name rules use), kind, description, count (how many codes,
    ranges, prefixes and entries the file lists) and the items. A bundled set that a predicate of this
    package answers from (``is_clinical_lab`` ...) is listed under that predicate's older name
    (``clinical_lab``) with ``predicate`` set; the others under their set name. Then the tables still
    kept in ``data/`` (ICD-10-CM chapters and code list, payer sets).
    """
    bundled = bundled_code_sets()
    sets = []
    for set_name, code_set in sorted((code_sets or bundled).items()):
        is_bundled = code_set is bundled.get(set_name)  # not a user set that replaced it
        name, predicate = _PREDICATES.get(set_name, (None, None)) if is_bundled else (None, None)
        entry = _set_entry(code_set, name, predicate)
        if set_name == PREDICATE_SETS["mandatory_assignment_practitioner"] and predicate:
            labels = read_yaml("practitioner_taxonomies.yaml")["practitioners"]  # which practitioner each is
            entry["practitioners"] = {k: list(v) for k, v in labels.items()}
        sets.append(entry)
    sets += [_entry(name, "icd10_ranges.yaml", spec, ranges=[tuple(r) for r in spec["ranges"]])
             for name, spec in ICD10_DOC["sets"].items()]
    sets.append(icd10_table_entry())  # every ICD-10-CM code of each edition shipped, FY2022 onwards
    nf, fi = PAYER_DOC["no_fault"], PAYER_DOC["filing_indicators"]
    sets += [
        _entry("no_fault_states", "payer_rules.yaml", nf, codes=sorted(NO_FAULT_STATES)),
        _entry("pip_states", "payer_rules.yaml", nf, codes=sorted(PIP_STATES)),
        _entry("medicaid_filing_indicators", "payer_rules.yaml", fi, codes=sorted(MEDICAID_FILING_INDICATORS)),
        _entry("auto_filing_indicators", "payer_rules.yaml", fi, codes=sorted(AUTO_FILING_INDICATORS)),
        _entry("medicare_b_filing_indicators", "payer_rules.yaml", fi, codes=sorted(MEDICARE_B_FILING_INDICATORS)),
        _entry("claim_filing_indicator_codes", "payer_rules.yaml", fi, codes=sorted(CLAIM_FILING_INDICATOR_CODES)),
    ]
    return sets
