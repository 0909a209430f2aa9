"""Procedure-code (CPT/HCPCS) and rendering-taxonomy predicates, answered from the bundled code sets.

The sets are the files in ``sets/`` (``clinical-lab``, ``ambulance``, ``part-b-drugs``,
``psychiatric``, ``mandatory-assignment-practitioners``); see ``scrubber.codesets.sets``.
"""
from __future__ import annotations

from functools import lru_cache

from .sets import bundled_code_sets

_SETS = bundled_code_sets()

# Set name per predicate, for describe() and the docs.
PREDICATE_SETS = {
    "clinical_lab": "clinical-lab",
    "ambulance": "ambulance",
    "part_b_drug": "part-b-drugs",
    "psychiatric": "psychiatric",
    "mandatory_assignment_practitioner": "mandatory-assignment-practitioners",
}

# One bit per set, so a single cached lookup answers every predicate for a code.
_LAB, _AMBULANCE, _DRUG, _PSYCH = 1, 2, 4, 8
_BITS = tuple((_SETS[PREDICATE_SETS[name]], bit) for name, bit in
              (("clinical_lab", _LAB), ("ambulance", _AMBULANCE), ("part_b_drug", _DRUG), ("psychiatric", _PSYCH)))
_MANDATORY = _LAB | _AMBULANCE | _DRUG
_PRACTITIONERS = _SETS[PREDICATE_SETS["mandatory_assignment_practitioner"]]


@lru_cache(maxsize=65536)
def _flags(procedure: object) -> int:
    if not isinstance(procedure, str):
        return 0
    code = procedure.strip().upper()
    if len(code) != 5 or not code.isalnum():  # CPT/HCPCS codes are exactly 5 characters
        return 0
    return sum(bit for code_set, bit in _BITS if code_set.contains(code))


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
    return len(code) == 10 and _PRACTITIONERS.contains(code)  # taxonomy codes are 10 chars
