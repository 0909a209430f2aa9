"""Behavioral-health add-on codes and the primary services they need.

The add-on codes are the ``psychiatric-addons`` code set (``sets/psychiatric-addons.yaml``); the
relation (primaries, same date, exclusive codes) is ``data/addon_codes.yaml``, keyed by exactly
those codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ._data import read_yaml
from .sets import bundled_code_sets

ADDON_SET_NAME = "psychiatric-addons"
ADDON_DOC = read_yaml("addon_codes.yaml")
_EM_RANGES = [(low, high) for low, high in ADDON_DOC["em_ranges"]]


@dataclass(frozen=True)
class AddonRule:
    primaries: frozenset[str]
    needs_em: bool  # any E/M code counts as a primary
    same_date: bool
    excludes: frozenset[str]


ADDONS: dict[str, AddonRule] = {
    code: AddonRule(
        primaries=frozenset(p for p in spec["primaries"] if p != "em"),
        needs_em="em" in spec["primaries"],
        same_date=bool(spec.get("same_date", False)),
        excludes=frozenset(spec.get("excludes", [])),
    )
    for code, spec in ADDON_DOC["addons"].items()
}

_ADDON_SET = bundled_code_sets()[ADDON_SET_NAME]
if set(ADDONS) != _ADDON_SET.codes or _ADDON_SET.ranges or _ADDON_SET.prefixes or _ADDON_SET.entries:
    raise ValueError(
        f"addon_codes.yaml: the add-ons {sorted(ADDONS)} must be exactly the codes of "
        f"sets/{ADDON_SET_NAME}.yaml {sorted(_ADDON_SET.codes)}"
    )


@lru_cache(maxsize=4096)
def is_evaluation_and_management(procedure: str) -> bool:
    code = procedure.strip()
    return len(code) == 5 and code.isdigit() and any(low <= code <= high for low, high in _EM_RANGES)


def addon_rule(procedure: str) -> AddonRule | None:
    return ADDONS.get(procedure.strip())
