"""Named code sets as data: one YAML file per set, bundled or the user's own.

A set file is ``NAME.yaml`` (``NAME`` in lower case: letters, digits, ``-`` and ``_``)::

    name: clinical-lab             # required; must equal the file stem
    description: "CPT Pathology and Laboratory section"      # optional
    source: "SSA 1833(h)(5)(C); IOM 100-04 ch.16; https://..."   # required: where the codes come from
    as_of: 2026-01-01              # optional: the date the list was last checked against its source
    kind: procedure                # optional, documentation only: procedure | diagnosis | taxonomy |
                                   #   place-of-service | modifier | other
    codes: ["36415", "G0480"]      # exact codes
    ranges: [["80047", "89398"], ["G0480", "G0483"]]    # inclusive
    prefixes: ["A95", "A96"]       # a code starting with one of these
    entries:                       # optional: items valid only between two dates (both ends inclusive)
      - {code: "G2211", effective: 2024-01-01}
      - {range: ["0001U", "0099U"], effective: 2025-01-01, end: 2025-12-31}
      - {prefix: "U07", end: 2025-09-30}

At least one of ``codes``, ``ranges``, ``prefixes`` or ``entries`` must list something.

Codes
    Every code (in the file and when looked up) is normalized: surrounding spaces stripped, upper
    case, dots removed (``f32.a`` is ``F32A``). Quote codes in YAML: unquoted ``02`` is the number 2
    and unquoted ``010`` the number 8, so the loader refuses anything that is not a string.

Ranges
    A range is two codes, both ends included, compared the way CPT and HCPCS codes are ordered: a
    code is in the range when it has the same *shape* as the bounds (the same length, and a digit
    where the bounds have a digit, a letter where they have a letter) and lies between them in string
    order. So ``["J0120", "J9999"]`` holds ``J3301`` but neither ``J012`` nor ``K0001``;
    ``["0001U", "0999U"]`` holds ``0042U`` but not ``00421``; ``["80047", "89398"]`` does not hold
    ``8004T``. String order goes position by position, so the last character decides only between
    codes whose first four agree: ``0042T`` is inside ``["0001U", "0999U"]``. The two bounds must
    therefore have the same length and shape (a range from ``A0000`` to ``99999`` means nothing), be
    letters and digits only, and be in order: the loader refuses a range whose bounds differ in length
    or shape or are reversed. ICD-10-CM chapters are better
    written as ``prefixes`` (``["F01", "F99"]`` would match three-character codes only).

Dates
    An item under ``entries`` has exactly one of ``code``, ``range`` or ``prefix`` and optional
    ``effective`` and ``end`` dates (``YYYY-MM-DD``). ``CodeSet.contains(code, on=date)`` counts a
    dated item only when ``effective <= on <= end`` (a missing end is open); with ``on=None`` dates
    are ignored and every item counts. Items under ``codes``, ``ranges`` and ``prefixes`` always count.

Loading
    The bundled sets are ``scrubber/codesets/sets/*.yaml`` (``bundled_code_sets()``). A user's sets
    are loaded with ``load_code_sets(paths)``: files, or directories searched for ``*.yaml``/``*.yml``;
    a user set with the name of a bundled one replaces it. Every problem in every file is collected
    and raised together as one ``CodeSetError``, each line naming the file and the YAML key, e.g.
    ``sets/minor.yaml: ranges[2]: bounds '100' and '1000' differ in length``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml

from scrubber.errors import ScrubberUserError

__all__ = [
    "KINDS",
    "CodeSet",
    "CodeSetError",
    "DatedEntry",
    "bundled_code_sets",
    "code_set_names",
    "load_code_set",
    "load_code_sets",
    "normalize_code",
]

KINDS = ("procedure", "diagnosis", "taxonomy", "place-of-service", "modifier", "other")
_KEYS = ("name", "description", "source", "as_of", "kind", "codes", "ranges", "prefixes", "entries")
_ENTRY_ITEMS = ("code", "range", "prefix")
_ENTRY_KEYS = (*_ENTRY_ITEMS, "effective", "end")
_NAME = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_SUFFIXES = (".yaml", ".yml")



class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's when available), keeping dates as text so a bad one is reported by key."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))

# Shape of an upper-case code: '9' for a digit, 'A' for a letter (anything else stays itself).
_SHAPE = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "9" * 10 + "A" * 26)


class CodeSetError(ScrubberUserError):
    """One or more code-set files are unusable; one line per problem, each naming the file and the key."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems in code-set files:\n" + "\n".join(
                f"  {problem}" for problem in self.problems)
        super().__init__(message)


def normalize_code(code: str) -> str:
    """Strip surrounding spaces, upper-case, remove dots (ICD-10-CM ``F32.A`` -> ``F32A``)."""
    return code.strip().upper().replace(".", "")


def _shape(code: str) -> str:
    return code.translate(_SHAPE)


def _range_problem(low: str, high: str) -> str | None:
    """Why two (normalized) bounds do not make a range, or None."""
    if not (low.isascii() and low.isalnum() and high.isascii() and high.isalnum()):
        return f"bounds {low!r} and {high!r} must be letters and digits only"
    if len(low) != len(high):
        return f"bounds {low!r} and {high!r} differ in length"
    if _shape(low) != _shape(high):
        return f"bounds {low!r} and {high!r} differ in shape (a letter in one where the other has a digit)"
    if low > high:
        return f"bounds {low!r} and {high!r} are reversed"
    return None


@dataclass(frozen=True)
class DatedEntry:
    """One code, range or prefix that counts only from ``effective`` to ``end`` (inclusive; None: open)."""

    kind: Literal["code", "range", "prefix"]
    value: str | tuple[str, str]
    effective: dt.date | None = None
    end: dt.date | None = None

    def in_effect(self, on: dt.date) -> bool:
        return (self.effective is None or self.effective <= on) and (self.end is None or on <= self.end)

    def matches(self, code: str) -> bool:
        """Whether a normalized code is this entry's code, in its range, or starts with its prefix."""
        if self.kind == "code":
            return code == self.value
        if self.kind == "prefix":
            return code.startswith(self.value)
        low, high = self.value
        return len(code) == len(low) and low <= code <= high and _shape(code) == _shape(low)


@dataclass(frozen=True)
class CodeSet:
    """A named set of codes; ``contains`` answers membership (see the module docstring for the rules).

    Build one with ``load_code_set``; constructing it directly expects normalized codes and valid ranges.
    """

    name: str
    source: str
    as_of: dt.date | None = None
    description: str = ""
    kind: str | None = None
    codes: frozenset[str] = frozenset()
    ranges: tuple[tuple[str, str], ...] = ()
    prefixes: tuple[str, ...] = ()
    entries: tuple[DatedEntry, ...] = ()
    path: str | None = field(default=None, compare=False)
    # Look-up indices, built once from the fields above.
    _codes: frozenset[str] = field(init=False, repr=False, compare=False)
    _ranges: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(init=False, repr=False, compare=False)
    _prefixes: frozenset[str] = field(init=False, repr=False, compare=False)
    _prefix_lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _dated: tuple[DatedEntry, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes, prefixes, ranges = set(self.codes), set(self.prefixes), list(self.ranges)
        dated = []
        for entry in self.entries:
            if entry.effective is not None or entry.end is not None:
                dated.append(entry)
            elif entry.kind == "code":
                codes.add(entry.value)
            elif entry.kind == "prefix":
                prefixes.add(entry.value)
            else:
                ranges.append(entry.value)
        for low, high in [*ranges, *(e.value for e in dated if e.kind == "range")]:
            problem = _range_problem(low, high)
            if problem:
                raise ValueError(f"code set {self.name!r}: {problem}")
        by_shape: dict[str, list[tuple[str, str]]] = {}
        for low, high in sorted(ranges):
            group = by_shape.setdefault(_shape(low), [])
            if group and low <= group[-1][1]:  # overlaps the previous range: merge them
                group[-1] = (group[-1][0], max(group[-1][1], high))
            else:
                group.append((low, high))
        set_ = object.__setattr__
        set_(self, "_codes", frozenset(codes))
        set_(self, "_ranges", {shape: (tuple(lo for lo, _ in group), tuple(hi for _, hi in group))
                               for shape, group in by_shape.items()})
        set_(self, "_prefixes", frozenset(prefixes))
        set_(self, "_prefix_lengths", tuple(sorted({len(p) for p in prefixes})))
        set_(self, "_dated", tuple(dated))

    def contains(self, code: str, on: dt.date | None = None) -> bool:
        """Whether ``code`` is in the set; dated entries count only if ``on`` is within their dates.

        ``on=None`` ignores dates (every dated entry counts). Anything but a string is not in the set.
        """
        if not isinstance(code, str):
            return False
        code = normalize_code(code)
        if not code:
            return False
        if code in self._codes:
            return True
        length = len(code)
        for n in self._prefix_lengths:
            if n > length:
                break
            if code[:n] in self._prefixes:
                return True
        if self._ranges:
            group = self._ranges.get(_shape(code))
            if group is not None:
                lows, highs = group
                i = bisect_right(lows, code) - 1
                if i >= 0 and code <= highs[i]:
                    return True
        if self._dated:
            if isinstance(on, dt.datetime):
                on = on.date()
            for entry in self._dated:
                if (on is None or entry.in_effect(on)) and entry.matches(code):
                    return True
        return False

    def __contains__(self, code: object) -> bool:
        return self.contains(code)  # type: ignore[arg-type]

    def item_count(self) -> int:
        """How many codes, ranges, prefixes and entries the file lists (not how many codes they cover)."""
        return len(self.codes) + len(self.ranges) + len(self.prefixes) + len(self.entries)


# --- loading -----------------------------------------------------------------------------------

def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _code(value: Any, key: str, problems: list[str]) -> str | None:
    """A normalized code from YAML, or None with a problem recorded."""
    if not isinstance(value, str):
        hint = " (quote codes in YAML: unquoted 02 is the number 2)" if isinstance(value, (int, float)) else ""
        problems.append(f"{key}: {value!r} is not a string{hint}")
        return None
    code = normalize_code(value)
    if not code or any(ch.isspace() for ch in code):
        problems.append(f"{key}: {value!r} is not a code (empty or with spaces inside)")
        return None
    return code


def _range(value: Any, key: str, problems: list[str]) -> tuple[str, str] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        problems.append(f"{key}: a range is a list of two quoted codes [low, high], got {value!r}")
        return None
    before = len(problems)
    low, high = _code(value[0], f"{key}[0]", problems), _code(value[1], f"{key}[1]", problems)
    if len(problems) > before or low is None or high is None:
        return None
    problem = _range_problem(low, high)
    if problem:
        problems.append(f"{key}: {problem}")
        return None
    return low, high


def _date(value: Any, key: str, problems: list[str]) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(f"{key}: {value!r} is not a date (YYYY-MM-DD)")
    return None


def _list(doc: dict, key: str, problems: list[str]) -> list:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{key}: expected a list, got {type(value).__name__}")
        return []
    return value


def _entry(value: Any, key: str, problems: list[str]) -> DatedEntry | None:
    if not isinstance(value, dict):
        problems.append(f"{key}: expected a mapping with one of code, range, prefix (and effective, end)")
        return None
    before = len(problems)
    for unknown in (k for k in value if k not in _ENTRY_KEYS):
        problems.append(f"{key}.{unknown}: unknown key{_did_you_mean(str(unknown), _ENTRY_KEYS)}")
    items = [k for k in _ENTRY_ITEMS if k in value]
    if len(items) != 1:
        problems.append(f"{key}: needs exactly one of code, range, prefix (found {', '.join(items) or 'none'})")
        return None
    kind = items[0]
    if kind == "range":
        item: str | tuple[str, str] | None = _range(value["range"], f"{key}.range", problems)
    else:
        item = _code(value[kind], f"{key}.{kind}", problems)
    effective = _date(value["effective"], f"{key}.effective", problems) if "effective" in value else None
    end = _date(value["end"], f"{key}.end", problems) if "end" in value else None
    if effective and end and effective > end:
        problems.append(f"{key}: effective {effective} is after end {end}")
    if len(problems) > before or item is None:
        return None
    return DatedEntry(kind, item, effective, end)  # type: ignore[arg-type]


def _parse(doc: Any, stem: str, where: str) -> tuple[CodeSet | None, list[str]]:
    """A CodeSet from a YAML document, and every problem found (each prefixed with ``where``)."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return None, [f"{where}: expected a mapping with name, source and codes/ranges/prefixes/entries"]
    for unknown in (k for k in doc if k not in _KEYS):
        problems.append(f"{unknown}: unknown key{_did_you_mean(str(unknown), _KEYS)}")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"name: required: the set's name, equal to the file name {stem!r}")
    elif name != stem:
        problems.append(f"name: {name!r} must equal the file name {stem!r}")
    elif not _NAME.fullmatch(name):
        problems.append(f"name: {name!r}: use lower-case letters, digits, '-' and '_'")
    source = doc.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append("source: required: where the codes come from (a URL, a manual section)")
    as_of = _date(doc["as_of"], "as_of", problems) if doc.get("as_of") is not None else None
    description = doc.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        problems.append("description: expected text")
    kind = doc.get("kind")
    if kind is not None and kind not in KINDS:
        problems.append(f"kind: {kind!r} is not one of {', '.join(KINDS)}{_did_you_mean(str(kind), KINDS)}")
    before = len(problems)
    codes = [_code(v, f"codes[{i}]", problems) for i, v in enumerate(_list(doc, "codes", problems))]
    ranges = [_range(v, f"ranges[{i}]", problems) for i, v in enumerate(_list(doc, "ranges", problems))]
    prefixes = [_code(v, f"prefixes[{i}]", problems) for i, v in enumerate(_list(doc, "prefixes", problems))]
    entries = [_entry(v, f"entries[{i}]", problems) for i, v in enumerate(_list(doc, "entries", problems))]
    if not (codes or ranges or prefixes or entries) and len(problems) == before:
        problems.append("codes: the set is empty: list codes, ranges, prefixes or entries")
    if problems:
        return None, [f"{where}: {problem}" for problem in problems]
    code_set = CodeSet(
        name=name,
        source=" ".join(source.split()),
        as_of=as_of,
        description=" ".join(description.split()),
        kind=kind,
        codes=frozenset(c for c in codes if c),
        ranges=tuple(r for r in ranges if r),
        prefixes=tuple(dict.fromkeys(p for p in prefixes if p)),
        entries=tuple(e for e in entries if e),
        path=where,
    )
    return code_set, []


def _read(path: Any, where: str) -> tuple[CodeSet | None, list[str]]:
    """Read and parse one set file (a Path or an importlib.resources Traversable)."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
    except OSError as error:
        return None, [f"{where}: cannot read: {error.strerror or error}"]
    except yaml.YAMLError as error:
        return None, [f"{where}: not valid YAML: {' '.join(str(error).split())}"]
    except UnicodeDecodeError as error:
        return None, [f"{where}: not UTF-8 text: {error.reason}"]
    stem = path.name.rsplit(".", 1)[0]
    return _parse(doc, stem, where)


def load_code_set(path: str | Path) -> CodeSet:
    """One set file; a ``CodeSetError`` lists every problem in it."""
    path = Path(path)
    code_set, problems = _read(path, str(path))
    if problems:
        raise CodeSetError(problems)
    assert code_set is not None
    return code_set


@lru_cache(maxsize=1)
def _bundled() -> tuple[CodeSet, ...]:
    root = resources.files(__package__).joinpath("sets")
    files = sorted((f for f in root.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    sets, problems = [], []
    for file in files:
        code_set, found = _read(file, f"scrubber/codesets/sets/{file.name}")
        problems += found
        if code_set is not None:
            sets.append(code_set)
    if problems:
        raise CodeSetError(problems)
    return tuple(sets)


def bundled_code_sets() -> dict[str, CodeSet]:
    """The sets shipped in ``scrubber/codesets/sets/``, by name (read once, then cached)."""
    return {code_set.name: code_set for code_set in _bundled()}


def code_set_names() -> list[str]:
    """The bundled sets' names, sorted (for listings and "did you mean")."""
    return sorted(code_set.name for code_set in _bundled())


def _files(paths: Iterable[str | Path], problems: list[str]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such code-set file or directory")
    return files


def load_code_sets(paths: Iterable[str | Path] = ()) -> dict[str, CodeSet]:
    """The bundled sets, then the user's (files, or directories searched for ``*.yaml``/``*.yml``), by name.

    A user set with the name of a bundled set replaces the bundled one: that is how a user corrects or
    narrows a shipped list. Two user files defining the same name are an error. Every problem in every
    file is collected first, then raised together as one ``CodeSetError``.
    """
    sets = bundled_code_sets()
    problems: list[str] = []
    defined: dict[str, Path] = {}
    for file in _files(paths, problems):
        code_set, found = _read(file, str(file))
        problems += found
        if code_set is None:
            continue
        if code_set.name in defined:
            problems.append(f"{file}: name: set {code_set.name!r} is already defined in {defined[code_set.name]}")
            continue
        defined[code_set.name] = file
        sets[code_set.name] = code_set
    if problems:
        raise CodeSetError(problems)
    return sets
