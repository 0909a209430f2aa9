"""Which quarter a CMS file belongs to, read from its file name or from the lines above its header.

The result is a short label that sorts by quarter:

======================================================  ===========================
seen                                                    label
======================================================  ===========================
``ccipra-v321r0-f1.txt`` (PTP, NCCI version 32.1 r0)    ``2026Q2 v32.1r0``
``MCR_MUE_PractitionerServices_Eff_01-01-2026.csv``     ``2026Q1 eff 2026-01-01``
``AOC_V2025Q4_01-MCR.txt`` / ``...-2026q2-...zip``      ``2025Q4`` / ``2026Q2``
a preamble line "Version 32.1" / "effective July 1,     ``2026Q2`` / ``2026Q3``
2026" / "2026 Q3"
======================================================  ===========================

NCCI version numbers count quarters: version NN.Q is year 1994 + NN, quarter Q + 1 (32.0 is the
January 2026 release, 31.3 October 2025), as the CMS download names show
(``medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip``). When nothing is seen the
table's version is its file names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NCCI_NAME = re.compile(r"(?:cci|mue)[a-z]*[-_]?v(\d{2})(\d)r(\d+)", re.IGNORECASE)
_EFF_NAME = re.compile(r"eff[-_ ]?(\d{1,2})[-_.](\d{1,2})[-_.](\d{4})", re.IGNORECASE)
_YEAR_QUARTER = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_ ]?q([1-4])(?!\d)", re.IGNORECASE)
_VERSION_TEXT = re.compile(r"\bversion\s*v?(\d{2})\.(\d)(?:\s*r(\d+))?", re.IGNORECASE)
_MONTH_NAMES = "january february march april may june july august september october november december"
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(" "), 1)}
_EFF_TEXT = re.compile(
    r"effective\s+(?:date\s*:?\s*)?(?:(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})"
    r"|(\d{1,2})/(\d{1,2})/(\d{4}))",
    re.IGNORECASE,
)


def _ncci(major: str, minor: str, revision: str | None) -> str | None:
    quarter = int(minor) + 1
    if quarter > 4:
        return None
    label = f"{1994 + int(major)}Q{quarter} v{int(major)}.{minor}"
    return label + (f"r{int(revision)}" if revision is not None else "")


def _effective(month: int, day: int, year: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year}Q{(month - 1) // 3 + 1} eff {year:04d}-{month:02d}-{day:02d}"


def version_from_name(name: str) -> str | None:
    """The quarter a CMS file name shows, or None."""
    if (match := _NCCI_NAME.search(name)) and (label := _ncci(match[1], match[2], match[3])):
        return label
    if (match := _EFF_NAME.search(name)) and (label := _effective(int(match[1]), int(match[2]), int(match[3]))):
        return label
    if match := _YEAR_QUARTER.search(name):
        return f"{match[1]}Q{match[2]}"
    return None


def version_from_text(lines: Iterable[str]) -> str | None:
    """The quarter the lines above a header show ("Version 32.1", "effective July 1, 2026"), or None."""
    for line in lines:
        if (match := _VERSION_TEXT.search(line)) and (label := _ncci(match[1], match[2], match[3])):
            return label
        if match := _EFF_TEXT.search(line):
            if match[1]:
                label = _effective(_MONTHS[match[1].lower()], int(match[2]), int(match[3]))
            else:
                label = _effective(int(match[4]), int(match[5]), int(match[6]))
            if label:
                return label
        if match := _YEAR_QUARTER.search(line):
            return f"{match[1]}Q{match[2]}"
    return None


def combine(versions: Iterable[str | None], names: Iterable[str]) -> str:
    """One label for a table read from several files: the distinct versions seen, else the file names."""
    seen = list(dict.fromkeys(v for v in versions if v))
    if seen:
        return " + ".join(seen)
    return ", ".join(dict.fromkeys(names))
