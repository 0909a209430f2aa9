"""Load the shipped code-set files (package data, read with importlib.resources)."""
from __future__ import annotations

from importlib.resources import files

from scrubber.yamlio import load_yaml

_DATA = files(__package__).joinpath("data")


def read_yaml(name: str) -> dict:
    doc = load_yaml(_DATA.joinpath(name).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "source" not in doc or "as_of" not in doc:
        raise ValueError(f"{name}: a code-set file needs top-level 'source' and 'as_of'")
    return doc


def read_code_list(name: str) -> tuple[frozenset[str], dict[str, str]]:
    """Codes (one per line) and the '# key: value' header lines of a plain-text code list."""
    codes: set[str] = set()
    meta: dict[str, str] = {}
    for line in _DATA.joinpath(name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            key, sep, value = line.lstrip("# ").partition(": ")
            if sep and key.isidentifier():
                meta.setdefault(key, value.strip())
        elif line:
            codes.add(line.upper())
    return frozenset(codes), meta


def str_set(values: list, where: str) -> frozenset[str]:
    """A frozenset of upper-case codes; refuses YAML-coerced non-strings (NO -> False, 01 -> 1)."""
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{where}: quote these values in the YAML: {bad!r}")
    return frozenset(v.strip().upper() for v in values)


def _shape(code: str) -> str:
    """'9' for each digit, 'A' for each letter: ranges only compare codes of one shape."""
    return "".join("9" if ch.isdigit() else "A" for ch in code)


class CodeRanges:
    """Inclusive string ranges such as 80047-89398 or J0120-J9999, matched within one shape."""

    __slots__ = ("_by_shape",)

    def __init__(self, pairs: list, where: str) -> None:
        self._by_shape: dict[str, list[tuple[str, str]]] = {}
        for pair in pairs:
            if len(pair) != 2 or not all(isinstance(v, str) for v in pair):
                raise ValueError(f"{where}: a range is two quoted codes, got {pair!r}")
            lo, hi = (v.strip().upper() for v in pair)
            if _shape(lo) != _shape(hi) or not lo.isalnum() or lo > hi:
                raise ValueError(f"{where}: bad range {pair!r} (shapes differ or low > high)")
            self._by_shape.setdefault(_shape(lo), []).append((lo, hi))

    def __contains__(self, code: str) -> bool:
        for lo, hi in self._by_shape.get(_shape(code), ()):
            if lo <= code <= hi:
                return True
        return False
