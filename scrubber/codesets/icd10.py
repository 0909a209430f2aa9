"""ICD-10-CM code sets: chapter ranges, traffic-accident external causes, validity and billable
status of a code on its date of service (one table per edition shipped, FY2022 onwards)."""
from __future__ import annotations

import datetime as dt
import lzma
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise

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

# A letter, then 2-6 letters or digits: FY2026 added codes with a letter second (QA0, QA00101).
_ICD_SHAPE = re.compile(r"[A-Z][0-9A-Z]{2,6}")


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


# --- ICD-10-CM validity on the date of service ------------------------------------------------
#
# Fiscal year N of ICD-10-CM is in force for dates of service from October 1 of year N-1 through
# September 30 of year N; CMS publishes April 1 updates in some years. data/icd10cm_editions.txt.xz
# (built by data/build_icd10.py from the CMS / CDC order files) holds, for every code, one character
# per edition shipped: B billable (a leaf), H header (not billable), - not a code in that edition.
# It is read once, on the first lookup (~20 ms); a lookup is then one dict get and one index.

_EDITIONS_FILE = "data/icd10cm_editions.txt.xz"
_STATUS = {"B": "billable", "H": "not_billable", "-": "invalid"}


@dataclass(frozen=True, slots=True)
class Icd10Edition:
    """One edition of ICD-10-CM shipped: a fiscal year, or an April 1 update within one."""

    index: int  # position in icd10_editions(), oldest first
    key: str  # FY2026, or FY2023-04 for an April 1 update
    fiscal_year: int
    effective: dt.date  # first date of service it governs
    end: dt.date  # last date of service it governs (the day before the next edition; Sept 30 for the newest)
    label: str  # "FY2026", "FY2023 April 1 update"

    @property
    def in_force(self) -> str:
        """``2025-10-01..2026-09-30``."""
        return f"{self.effective.isoformat()}..{self.end.isoformat()}"

    def __str__(self) -> str:
        return f"{self.label} (in force {self.in_force})"


@dataclass(frozen=True, slots=True)
class Icd10Verdict:
    """A diagnosis code judged against the edition in force on a date of service."""

    code: str  # as given
    status: str  # billable, not_billable or invalid
    edition: Icd10Edition  # the edition it was judged against
    nearest: bool  # the date lies outside the editions shipped: judged against the nearest one
    reason: str  # for messages: why it is invalid or not billable ('' when billable)

    @property
    def ok(self) -> bool:
        return self.status == "billable"


@dataclass(frozen=True, slots=True)
class _Tables:
    editions: tuple[Icd10Edition, ...]
    effective: tuple[dt.date, ...]  # for bisect
    patterns: dict[str, str]  # code (no dot) -> one of B / H / - per edition
    header: tuple[str, ...]  # the file's comment lines


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    raw = resources.files(__package__).joinpath(_EDITIONS_FILE).read_bytes()
    rows: list[tuple[str, int, dt.date, str]] = []
    header: list[str] = []
    patterns: dict[str, str] = {}
    for line in lzma.decompress(raw).decode("ascii").splitlines():
        if line.startswith("#"):
            header.append(line)
        elif line.startswith("!"):
            _, key, fiscal_year, effective, *label = line.split()
            rows.append((key, int(fiscal_year), dt.date.fromisoformat(effective), " ".join(label)))
        elif line:
            pattern, *codes = line.split()  # one pattern object shared by all its codes
            if len(pattern) != len(rows):
                raise ValueError(f"{_EDITIONS_FILE}: pattern {pattern!r} does not have one character per edition")
            patterns.update(dict.fromkeys(codes, pattern))
    editions = tuple(
        Icd10Edition(index, key, fiscal_year, effective,
                     rows[index + 1][2] - dt.timedelta(days=1) if index + 1 < len(rows) else dt.date(fiscal_year, 9, 30),
                     label)
        for index, (key, fiscal_year, effective, label) in enumerate(rows)
    )
    if not editions or any(a.effective >= b.effective for a, b in pairwise(editions)):
        raise ValueError(f"{_EDITIONS_FILE}: editions missing or out of order")
    return _Tables(editions, tuple(e.effective for e in editions), patterns, tuple(header))


def icd10_editions() -> tuple[Icd10Edition, ...]:
    """The ICD-10-CM editions shipped, oldest first (fiscal years and April 1 updates that change codes)."""
    return _tables().editions


@lru_cache(maxsize=4096)
def _locate(on: dt.date | None) -> tuple[int, str | None]:
    """Index of the edition in force on ``on`` and, when none is, which end was used ('before'/'after')."""
    tables = _tables()
    last = len(tables.editions) - 1
    if on is None:
        return last, None
    if isinstance(on, dt.datetime):
        on = on.date()
    index = bisect_right(tables.effective, on) - 1
    if index < 0:
        return 0, "before"
    if on > tables.editions[last].end:
        return last, "after"
    return index, None


def icd10_edition(on: dt.date | None = None) -> Icd10Edition:
    """The edition in force on ``on`` (the nearest one shipped outside them; the newest for None)."""
    return _tables().editions[_locate(on)[0]]


@lru_cache(maxsize=65536)
def _pattern(code: str) -> str | None:
    norm = _normalize(code)
    return None if norm is None else _tables().patterns.get(norm)


def icd10_status(code: str, on: dt.date | None = None) -> str:
    """'billable' (a leaf, 7th character included), 'not_billable' (a valid header) or 'invalid'.

    Judged against the edition in force on the date of service ``on``; dates before the oldest or
    after the newest edition shipped use that edition; None uses the newest.
    """
    pattern = _pattern(code) if isinstance(code, str) else None
    if pattern is None:
        return "invalid"
    return _STATUS[pattern[_locate(on)[0]]]


def icd10_history(code: str) -> dict[str, str]:
    """The status of ``code`` in every edition shipped, by edition key (``{"FY2025": "billable", ...}``)."""
    pattern = (_pattern(code) if isinstance(code, str) else None) or "-" * len(icd10_editions())
    return {edition.key: _STATUS[kind] for edition, kind in zip(icd10_editions(), pattern)}


def icd10_verdict(code: str, on: dt.date | None = None) -> Icd10Verdict:
    """The status of ``code`` on the date of service ``on``, with the edition and a reason for messages."""
    index, side = _locate(on)
    status, reason = _judge(code if isinstance(code, str) else None, index, side)
    return Icd10Verdict(code, status, _tables().editions[index], side is not None, reason)


@lru_cache(maxsize=65536)
def _judge(code: str | None, index: int, side: str | None) -> tuple[str, str]:
    editions = _tables().editions
    edition = editions[index]
    pattern = _pattern(code) if code is not None else None
    status = _STATUS[pattern[index]] if pattern else "invalid"
    if status == "billable":
        return status, ""
    note = ""
    if side == "before":
        note = f"; the oldest edition shipped, used for dates of service before {edition.effective.isoformat()}"
    elif side == "after":
        note = f"; the newest edition shipped, used for dates of service after {edition.end.isoformat()}"
    where = f"{edition.label} (in force {edition.in_force}{note})"
    if status == "not_billable":
        reason = f"an ICD-10-CM header in {where}, not a billable code"
        earlier = [e for e in editions[:index] if pattern[e.index] == "B"]
        later = [e for e in editions[index + 1:] if pattern[e.index] == "B"]
        if earlier:
            reason += f"; it was billable through {earlier[-1].label}"
        elif later:
            reason += f"; it is billable from {later[0].label}"
        return status, reason
    if code is None or _normalize(code) is None:
        return status, "not an ICD-10-CM code (a letter, then 2 to 6 letters or digits, is expected)"
    reason = f"not an ICD-10-CM code in {where}"
    if pattern is None:
        return status, f"{reason}; it is in no edition from {editions[0].label} to {editions[-1].label}"
    earlier = [e for e in editions[:index] if pattern[e.index] != "-"]
    later = [e for e in editions[index + 1:] if pattern[e.index] != "-"]
    if earlier and later:
        reason += f"; it was deleted after {earlier[-1].label} and is back from {later[0].label}"
    elif later:
        reason += f"; it was added in {later[0].label} (from {later[0].effective.isoformat()})"
    elif earlier:
        reason += f"; it was deleted after {earlier[-1].label} (valid through {earlier[-1].end.isoformat()})"
    return status, reason


def icd10_table_entry() -> dict:
    """describe() entry of the ICD-10-CM editions table: file, source, as_of and the editions."""
    tables = _tables()
    meta = {}
    for line in tables.header:
        key, sep, value = line.lstrip("# ").partition(": ")
        if sep and key.isidentifier():
            meta.setdefault(key, value.strip())
    return {
        "name": "icd10_status", "file": _EDITIONS_FILE, "source": meta.get("source", ""),
        "as_of": meta.get("as_of", ""), "count": len(tables.patterns),
        "editions": [{"key": e.key, "label": e.label, "fiscal_year": e.fiscal_year,
                      "effective": e.effective.isoformat(), "end": e.end.isoformat()} for e in tables.editions],
    }
