"""ICD-10-CM code sets: chapter ranges, traffic-accident external causes, billable status."""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from importlib import resources

from ._data import CodeRanges, read_yaml
from .sets import bundled_code_sets

ICD10_DOC = read_yaml("icd10_ranges.yaml")
_EXTERNAL = CodeRanges(ICD10_DOC["sets"]["external_cause"]["ranges"], "icd10_ranges.yaml:external_cause")
_MENTAL = CodeRanges(ICD10_DOC["sets"]["mental_health_dx"]["ranges"], "icd10_ranges.yaml:mental_health_dx")

# The traffic-accident-icd10cm set: built from the tabular titles by scripts/build_traffic_codes.py
# (data/traffic_accident_codes.txt), written as a set file by `python -m scrubber.codesets.traffic_set`.
TRAFFIC_SET_NAME = "traffic-accident-icd10cm"
_TRAFFIC = bundled_code_sets()[TRAFFIC_SET_NAME]
TRAFFIC_ACCIDENT_CODES: frozenset[str] = frozenset(_TRAFFIC.prefixes)

_ICD_SHAPE = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}")


def _normalize(code: object) -> str | None:
    """Upper-case, no dot, no spaces; None unless it looks like an ICD-10-CM code (3-7 chars)."""
    if not isinstance(code, str):
        return None
    code = code.strip().upper().replace(".", "", 1)
    return code if _ICD_SHAPE.fullmatch(code) else None


@lru_cache(maxsize=65536)
def is_external_cause(icd10: str) -> bool:
    code = _normalize(icd10)
    return code is not None and code[:3] in _EXTERNAL


@lru_cache(maxsize=65536)
def is_mental_health_dx(icd10: str) -> bool:
    code = _normalize(icd10)
    return code is not None and code[:3] in _MENTAL


@lru_cache(maxsize=65536)
def is_traffic_accident_code(icd10: str) -> bool:
    """External-cause code for a traffic accident, with or without dot / 7th character."""
    code = _normalize(icd10)
    if code is None or code[0] != "V":
        return False
    # The set's codes are prefixes (the built list is closed under descendants and has no X
    # placeholders), so a code with its 7th character and X placeholders matches as it is.
    return _TRAFFIC.contains(code)


@lru_cache(maxsize=1)
def _icd10_table() -> dict[str, str]:
    """Code -> 'B' (billable) or 'H' (header), built from the tabular list by scripts/build_icd10_codes.py.

    Read from a small gzip file on first use (~0.1 s) rather than importing simple_icd_10_cm (~3 s).
    """
    with resources.files(__package__).joinpath("data/icd10cm_codes.txt.gz").open("rb") as raw:
        text = gzip.decompress(raw.read()).decode("ascii")
    start = 0
    while text.startswith("#", start):  # skip the comment header
        start = text.index("\n", start) + 1
    tokens = text[start:].split()  # code, kind, code, kind, ... (split in C: fast for 98k codes)
    return dict(zip(tokens[::2], tokens[1::2]))


@lru_cache(maxsize=65536)
def icd10_status(code: str) -> str:
    """'billable' (a leaf, 7th character included), 'not_billable' (a valid header) or 'invalid'."""
    norm = _normalize(code)
    if norm is None:
        return "invalid"
    kind = _icd10_table().get(norm)
    if kind is None:
        return "invalid"
    return "billable" if kind == "B" else "not_billable"
