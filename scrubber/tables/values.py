"""Parsing the cells of a table: procedure codes, dates and indicators.

Every parser takes the cell's text and returns the value, or raises ``ValueError`` with a message
that becomes a :class:`~scrubber.tables.errors.TableProblem`.

Codes
    Surrounding whitespace is stripped and letters are upper-cased; a code stays a string (leading
    zeros matter: ``0001U``). A HCPCS/CPT code is exactly five letters or digits.

Dates
    Kept as ``int`` ``YYYYMMDD`` inside the package (compact, ordered, what the store holds) and
    handed out as :class:`datetime.date`. Accepted spellings: ``YYYYMMDD`` (the PTP files and the
    neutral CSV), ``YYYYDDD`` (the Julian dates of the CMS add-on code file), ``YYYY-MM-DD`` and
    ``MM/DD/YYYY`` (a spreadsheet re-saved by hand). A trailing ``.0`` (a number re-saved by a
    spreadsheet) is ignored. An empty deletion date, or ``*`` (the PTP files' "no data"), means none.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

CODE_RE = re.compile(r"[A-Z0-9]{5}")
#: The placeholder CMS writes as the primary code of a type 2 add-on edit (primaries chosen by the MAC).
CONTRACTOR_DEFINED = "CCCCC"
#: A deletion date that is no date: the edit is still in force.
NO_DATE = frozenset({"", "*"})

_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MAI_RE = re.compile(r"\s*([123])(?!\d)")
_ROMAN_TYPES = {"I": 1, "II": 2, "III": 3}
_date_cache: dict[str, int] = {}
_int_dates: dict[int, date] = {}
_CACHE_LIMIT = 50_000


def normalize_code(text: str) -> str:
    """``' 0001u '`` -> ``'0001U'``: strip and upper-case, nothing else."""
    return text.strip().upper()


def parse_code(text: str, what: str = "code") -> str:
    """The normalized code, or ``ValueError`` if it is not five letters or digits."""
    code = text.strip().upper()
    if CODE_RE.fullmatch(code):
        return code
    if not code:
        raise ValueError(f"missing {what}")
    raise ValueError(f"{what} {_show(text)} is not a HCPCS/CPT code (five letters or digits)")


def parse_date(text: str, what: str = "date") -> int:
    """A date cell as ``int`` ``YYYYMMDD``; ``ValueError`` if it is empty or not a real date."""
    key = text.strip()
    cached = _date_cache.get(key)
    if cached is not None:
        return cached
    value = _parse_date(key, what)
    if len(_date_cache) < _CACHE_LIMIT:
        _date_cache[key] = value
    return value


def parse_optional_date(text: str, what: str = "date") -> int | None:
    """Like :func:`parse_date`, but an empty cell or ``*`` is ``None`` (no date)."""
    key = text.strip()
    if key in NO_DATE:
        return None
    return parse_date(key, what)


def _parse_date(key: str, what: str) -> int:
    key = key.removesuffix(".0")
    try:
        if key.isascii() and key.isdigit() and len(key) == 8:
            day = date(int(key[:4]), int(key[4:6]), int(key[6:]))
        elif key.isascii() and key.isdigit() and len(key) == 7:
            year, ordinal = int(key[:4]), int(key[4:])
            first = date(year, 1, 1)
            day = first + timedelta(days=ordinal - 1)
            if ordinal < 1 or day.year != year:
                raise ValueError
        elif match := _ISO_RE.fullmatch(key):
            day = date(int(match[1]), int(match[2]), int(match[3]))
        elif match := _US_RE.fullmatch(key):
            day = date(int(match[3]), int(match[1]), int(match[2]))
        else:
            raise ValueError
    except ValueError:
        if not key:
            raise ValueError(f"missing {what}") from None
        raise ValueError(f"{what} {_show(key)} is not a date (YYYYMMDD)") from None
    return day.year * 10000 + day.month * 100 + day.day


def to_date(value: int) -> date:
    """``20260101`` -> ``date(2026, 1, 1)`` (cached: a table has few distinct dates)."""
    day = _int_dates.get(value)
    if day is None:
        day = date(value // 10000, value // 100 % 100, value % 100)
        if len(_int_dates) < _CACHE_LIMIT:
            _int_dates[value] = day
    return day


def to_int(day: date) -> int:
    """``date(2026, 1, 1)`` -> ``20260101``."""
    return day.year * 10000 + day.month * 100 + day.day


def parse_modifier_indicator(text: str) -> int:
    """The PTP modifier indicator: 0 (not allowed), 1 (allowed) or 9 (not applicable)."""
    key = text.strip()
    if key in ("0", "1", "9"):
        return int(key)
    if not key:
        raise ValueError("missing modifier indicator")
    raise ValueError(f"modifier indicator {_show(key)} is not 0, 1 or 9")


def parse_mue_indicator(text: str) -> int:
    """The MUE adjudication indicator: the leading digit, ``'2 Date of Service Edit: Policy'`` -> 2."""
    match = _MAI_RE.match(text)
    if match:
        return int(match[1])
    if not text.strip():
        raise ValueError("missing MUE adjudication indicator")
    raise ValueError(f"MUE adjudication indicator {_show(text)} is not 1, 2 or 3")


def parse_units(text: str) -> int:
    """An MUE value: a non-negative whole number of units."""
    key = text.strip().replace(",", "")
    if key.isdigit() and key.isascii():
        return int(key)
    if not key:
        raise ValueError("missing MUE value")
    raise ValueError(f"MUE value {_show(text)} is not a non-negative whole number")


def parse_addon_type(text: str) -> int:
    """The add-on code edit type: 1, 2 or 3 (also the older spelling I, II, III)."""
    key = text.strip().upper()
    if key.startswith("TYPE"):
        key = key[4:].strip()
    if key in ("1", "2", "3"):
        return int(key)
    if key in _ROMAN_TYPES:
        return _ROMAN_TYPES[key]
    if not key:
        raise ValueError("missing add-on edit type")
    raise ValueError(f"add-on edit type {_show(text)} is not 1, 2 or 3")


def _show(text: str) -> str:
    """A cell quoted for a message: undecodable bytes shown as Latin-1, long cells cut."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("latin-1")
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)
