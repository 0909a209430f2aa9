"""Procedure-code (CPT/HCPCS) and rendering-taxonomy code sets."""
from __future__ import annotations

from functools import lru_cache

from ._data import CodeRanges, read_yaml

PROCEDURE_DOC = read_yaml("procedure_codes.yaml")
TAXONOMY_DOC = read_yaml("practitioner_taxonomies.yaml")

_RANGES = {name: CodeRanges(spec["ranges"], f"procedure_codes.yaml:{name}")
           for name, spec in PROCEDURE_DOC["sets"].items()}

# One bit per set, so a single cached lookup answers every predicate for a code.
_LAB, _AMBULANCE, _DRUG, _PSYCH = 1, 2, 4, 8
_BITS = {"clinical_lab": _LAB, "ambulance": _AMBULANCE, "part_b_drug": _DRUG, "psychiatric": _PSYCH}
_MANDATORY = _LAB | _AMBULANCE | _DRUG

_TAXONOMY_PREFIXES: tuple[str, ...] = tuple(sorted(
    p.strip().upper() for prefixes in TAXONOMY_DOC["practitioners"].values() for p in prefixes))


@lru_cache(maxsize=65536)
def _flags(procedure: object) -> int:
    if not isinstance(procedure, str):
        return 0
    code = procedure.strip().upper()
    if len(code) != 5 or not code.isalnum():  # CPT/HCPCS codes are exactly 5 characters
        return 0
    return sum(bit for name, bit in _BITS.items() if code in _RANGES[name])


def is_clinical_lab(procedure: str) -> bool:
    return bool(_flags(procedure) & _LAB)


def is_ambulance(procedure: str) -> bool:
    return bool(_flags(procedure) & _AMBULANCE)


def is_part_b_drug(procedure: str) -> bool:
    return bool(_flags(procedure) & _DRUG)


def is_mandatory_assignment_service(procedure: str) -> bool:
    """Clinical lab, ambulance or Part B drug: Medicare pays these only on assignment."""
    return bool(_flags(procedure) & _MANDATORY)


def is_psychiatric(procedure: str) -> bool:
    return bool(_flags(procedure) & _PSYCH)


@lru_cache(maxsize=4096)
def is_mandatory_assignment_practitioner(taxonomy: str) -> bool:
    """NUCC taxonomy of a PA, NP, CNS, CNM, CRNA, clinical psychologist, CSW or dietitian."""
    if not isinstance(taxonomy, str):
        return False
    code = taxonomy.strip().upper()
    return len(code) == 10 and code.startswith(_TAXONOMY_PREFIXES)  # taxonomy codes are 10 chars
