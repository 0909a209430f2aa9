"""The three table types every lookup goes through, whatever holds the rows (memory or a store).

A table has ``kind``, ``version`` (the quarter, see :mod:`scrubber.tables.versions`), ``source`` (a
one-line description for reports), ``problems`` (the rows skipped while loading) and ``rows`` (how
many rows it holds). Subclasses supply the rows of one code (``_pairs``, ``_limits``, ``_addon``);
this module does the rest: code normalization, per-code caching, and choosing the row in force on a
date (:mod:`scrubber.tables.model`).

Caching: a batch of claims asks about the same codes again and again, so each table remembers
(``functools.lru_cache``, per table) the rows of the last :data:`CACHE_SIZE` codes (and of
``pairs_for(code, on)``'s code/date pairs) and the rows of the last :data:`PAIR_CACHE_SIZE` pairs
asked of ``pair``. What a lookup returns may be that cached value: read it, do not change it.
Lookups accept a ``datetime`` as its date.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any, ClassVar, overload

from .errors import TableProblem
from .model import ADDON, MUE, PTP, AddonEdit, AddonRow, PairEdit, UnitLimit, choose_limit, choose_pair, combine_addon
from .values import normalize_code

CACHE_SIZE = 4096
PAIR_CACHE_SIZE = 65536


def _day(on: date | None) -> date | None:
    """A ``datetime`` (which does not compare with ``date``) as its date."""
    return on.date() if isinstance(on, datetime) else on


class Table:
    """What every table has; see the module docstring."""

    kind: ClassVar[str]

    def __init__(self, *, version: str, source: str, problems: list[TableProblem], rows: int) -> None:
        self.version = version
        self.source = source
        self.problems = problems
        self.rows = rows
        self._make_caches()

    def _make_caches(self) -> None:
        """Per-table caches (kept out of pickles: see ``__getstate__``)."""

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_cached")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._make_caches()

    def close(self) -> None:
        """Release what the table holds open (a store's connection); lookups afterwards fail."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.version!r}: {self.rows} rows from {self.source}>"


class PairTable(Table):
    """NCCI procedure-to-procedure edits (``ncci-ptp``)."""

    kind = PTP

    def _make_caches(self) -> None:
        self._cached_pairs = lru_cache(maxsize=CACHE_SIZE)(self._pairs)
        self._cached_pair = lru_cache(maxsize=PAIR_CACHE_SIZE)(self._pair_rows)
        self._cached_in_force = lru_cache(maxsize=CACHE_SIZE)(self._in_force)

    @overload
    def pairs_for(self, column1: str) -> dict[str, list[PairEdit]]: ...
    @overload
    def pairs_for(self, column1: str, on: date) -> dict[str, PairEdit]: ...

    def pairs_for(self, column1: str, on: date | None = None) -> dict[str, list[PairEdit]] | dict[str, PairEdit]:
        """The rows whose column 1 code is ``column1``, by column 2 code.

        Without ``on``: every row, all dates. With ``on``: for each column 2 code the one row in force
        that day (as :meth:`pair` picks it); codes with no row in force are left out. Both are cached
        per code (and date): read them, do not change them."""
        if on is None:
            return self._cached_pairs(normalize_code(column1))
        return self._cached_in_force(normalize_code(column1), _day(on))

    def _in_force(self, column1: str, day: date) -> dict[str, PairEdit]:
        in_force = {}
        for column2, rows in self._cached_pairs(column1).items():
            row = choose_pair(rows, day)
            if row is not None:
                in_force[column2] = row
        return in_force

    def pair(self, column1: str, column2: str, on: date) -> PairEdit | None:
        """The row of the pair in force on ``on`` (``effective <= on <= deletion``), or None.

        Looks up the one pair (cached per pair), not every pair of ``column1``."""
        rows = self._cached_pair(normalize_code(column1), normalize_code(column2))
        return choose_pair(rows, _day(on)) if rows else None

    def _pairs(self, column1: str) -> dict[str, list[PairEdit]]:
        raise NotImplementedError

    def _pair_rows(self, column1: str, column2: str) -> tuple[PairEdit, ...]:
        raise NotImplementedError


class UnitTable(Table):
    """Medically unlikely edits (``mue``)."""

    kind = MUE

    def _make_caches(self) -> None:
        self._cached_limits = lru_cache(maxsize=CACHE_SIZE)(self._limits)

    def limits_for(self, code: str) -> tuple[UnitLimit, ...]:
        """Every row of ``code`` (all dates)."""
        return self._cached_limits(normalize_code(code))

    def limit(self, code: str, on: date | None = None) -> UnitLimit | None:
        """The limit of ``code`` in force on ``on`` (``None``: the rows without a deletion date), or None."""
        rows = self.limits_for(code)
        return choose_limit(rows, _day(on)) if rows else None

    def _limits(self, code: str) -> tuple[UnitLimit, ...]:
        raise NotImplementedError


class AddonTable(Table):
    """Add-on code edits (``addon``)."""

    kind = ADDON

    def _make_caches(self) -> None:
        self._cached_rows = lru_cache(maxsize=CACHE_SIZE)(self._addon)

    def rows_for(self, addon: str) -> tuple[AddonRow, ...]:
        """Every row of the add-on code ``addon`` (all dates)."""
        return self._cached_rows(normalize_code(addon))

    def primaries(self, addon: str, on: date | None = None) -> AddonEdit | None:
        """The add-on edit of ``addon`` in force on ``on``; None when it is not an add-on code then."""
        rows = self.rows_for(addon)
        return combine_addon(rows, _day(on)) if rows else None

    def _addon(self, addon: str) -> tuple[AddonRow, ...]:
        raise NotImplementedError
