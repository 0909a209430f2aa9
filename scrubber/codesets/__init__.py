"""Code sets used by claim-scrubber rules, shipped as data files with a source and date.

Every predicate is cheap and cached: rules call them per service line. Inputs are
normalized (case, surrounding spaces, ICD-10-CM dot) and anything malformed is simply False.
"""
from __future__ import annotations

import datetime as dt
import re

from .icd10 import (
    ICD10_DOC,
    TRAFFIC_ACCIDENT_CODES,
    TRAFFIC_META,
    icd10_status,
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
    PROCEDURE_DOC,
    TAXONOMY_DOC,
    is_ambulance,
    is_clinical_lab,
    is_mandatory_assignment_practitioner,
    is_mandatory_assignment_service,
    is_part_b_drug,
    is_psychiatric,
)

__all__ = [
    "AUTO_FILING_INDICATORS",
    "CLAIM_FILING_INDICATOR_CODES",
    "MEDICAID_FILING_INDICATORS",
    "MEDICARE_B_FILING_INDICATORS",
    "NO_FAULT_STATES",
    "PIP_STATES",
    "TRAFFIC_ACCIDENT_CODES",
    "describe",
    "icd10_status",
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
]


def _entry(name: str, file: str, spec: dict, **extra) -> dict:
    return {"name": name, "file": f"data/{file}", "source": " ".join(str(spec["source"]).split()),
            "as_of": str(spec["as_of"]), **extra}


def _icd_library_entry() -> dict:
    """Describe the simple-icd-10-cm tabular from package metadata, without the slow import."""
    import importlib.metadata  # only describe() needs it

    try:
        version = importlib.metadata.version("simple_icd_10_cm")
        names = [p.name for p in importlib.metadata.files("simple_icd_10_cm") or ()]
    except importlib.metadata.PackageNotFoundError:
        version, names = "not installed", []
    as_of = "unknown"
    for name in names:
        m = re.search(r"tabular-([A-Za-z]+-\d{1,2}-\d{4})\.xml$", name)
        if m:
            as_of = dt.datetime.strptime(m.group(1), "%B-%d-%Y").date().isoformat()
    return {"name": "icd10_status", "file": None,
            "source": f"CMS/NCHS ICD-10-CM tabular via simple-icd-10-cm {version} (MIT)", "as_of": as_of}


def describe() -> list[dict]:
    """Every code set with name, file, source and as_of (for generated docs)."""
    sets = [_entry(name, "procedure_codes.yaml", spec, ranges=[tuple(r) for r in spec["ranges"]])
            for name, spec in PROCEDURE_DOC["sets"].items()]
    sets.append(_entry("mandatory_assignment_practitioner", "practitioner_taxonomies.yaml", TAXONOMY_DOC,
                       prefixes={k: list(v) for k, v in TAXONOMY_DOC["practitioners"].items()}))
    sets += [_entry(name, "icd10_ranges.yaml", spec, ranges=[tuple(r) for r in spec["ranges"]])
             for name, spec in ICD10_DOC["sets"].items()]
    sets.append(_entry("traffic_accident", "traffic_accident_codes.txt", TRAFFIC_META,
                       count=len(TRAFFIC_ACCIDENT_CODES)))
    sets.append(_icd_library_entry())
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
