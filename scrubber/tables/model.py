"""What a lookup returns: the three kinds of table and the edit each kind holds.

=============  =======================  ===================================================
kind           table                    one edit
=============  =======================  ===================================================
``ncci-ptp``   procedure-to-procedure   :class:`PairEdit` (column 1 / column 2 code pair)
``mue``        medically unlikely edit  :class:`UnitLimit` (most units of a code)
``addon``      add-on code edit         :class:`AddonEdit` (the primaries an add-on needs)
=============  =======================  ===================================================

Dates (one convention for every kind)
    A row is in force on day ``d`` when ``effective <= d`` and (``deletion is None`` or
    ``d <= deletion``): the deletion date is the **last day** the edit applies. That is how CMS
    writes it: an edit removed by the April release carries the deletion date ``20xx0331`` (the last
    day of the previous quarter), and one deleted retroactively carries its own effective date (with
    modifier indicator 9). A row with no effective date (the MUE file has none) is in force from the
    start.

``on=None`` (MUE and add-on lookups)
    The table as it stands now: rows without a deletion date, whatever their effective date.

The edits are named tuples (immutable, cheap to build: a lookup may build a few hundred), so they
compare and unpack like tuples too.

Several rows for one key
    CMS files repeat a pair when an edit changed (a retroactively deleted row beside the row in
    force). Among the rows in force on the date: for a pair, indicator 0 or 1 wins over 9, then the
    latest effective date, then the latest deletion (none is latest); for a unit limit, the latest
    effective date, then the lowest limit; an add-on's primaries are the union of its rows in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

PTP = "ncci-ptp"
MUE = "mue"
ADDON = "addon"
#: The table kinds, by the names users type.
KINDS = (PTP, MUE, ADDON)

_MAX_DAY = date.max


def _in_force(effective: date | None, deletion: date | None, on: date | None) -> bool:
    if on is None:
        return deletion is None
    return (effective is None or effective <= on) and (deletion is None or on <= deletion)


class PairEdit(NamedTuple):
    """One PTP row: reporting ``column2`` with ``column1`` (same patient, provider, date) denies ``column2``.

    ``modifier_indicator`` 0: no modifier bypasses the edit; 1: an NCCI PTP-associated modifier may
    bypass it; 9: not applicable (the edit does not apply; CMS uses it for pairs deleted
    retroactively).
    """

    column1: str
    column2: str
    effective: date
    deletion: date | None
    modifier_indicator: int
    citation: str

    def active_on(self, on: date) -> bool:
        """In force on ``on`` (deletion date inclusive)."""
        return _in_force(self.effective, self.deletion, on)

    @property
    def modifier_allowed(self) -> bool:
        """Indicator 1: an NCCI PTP-associated modifier on the column 2 line bypasses the edit."""
        return self.modifier_indicator == 1

    @property
    def not_applicable(self) -> bool:
        """Indicator 9: no edit applies to this pair."""
        return self.modifier_indicator == 9


class UnitLimit(NamedTuple):
    """The MUE of one code: at most ``max_units`` units per claim line (indicator 1) or per date of
    service (indicator 2: policy, absolute; 3: clinical, appealable)."""

    code: str
    max_units: int
    indicator: int
    citation: str
    effective: date | None = None
    deletion: date | None = None

    def active_on(self, on: date | None) -> bool:
        return _in_force(self.effective, self.deletion, on)

    @property
    def per_line(self) -> bool:
        """MAI 1: the limit applies to each claim line."""
        return self.indicator == 1

    @property
    def per_date_of_service(self) -> bool:
        """MAI 2 or 3: the units of all lines with the code on one date of service are added up."""
        return self.indicator in (2, 3)


class AddonEdit(NamedTuple):
    """An add-on code and the primary codes it may be billed with.

    ``edit_type`` (CMS AOC edit type) says how far ``primaries`` goes:

    * 1: the listed primaries are the only acceptable ones (a missing primary is certain);
    * 2: CMS lists no primary (``primaries`` is empty; ``CCCCC`` in the CMS file): the MAC decides,
      so a claim without a listed primary must **not** be flagged;
    * 3: the listed primaries are acceptable, and the MAC may accept others.
    """

    addon: str
    primaries: frozenset[str]
    edit_type: int
    citation: str

    @property
    def contractor_defined(self) -> bool:
        """Type 2: no primary listed; the contractor decides."""
        return self.edit_type == 2

    @property
    def exhaustive(self) -> bool:
        """Type 1: ``primaries`` is the complete list."""
        return self.edit_type == 1

    def has_primary_in(self, codes: Iterable[str]) -> bool | None:
        """True when a listed primary is among ``codes``; False when none is and the list is complete
        (type 1); None when the table cannot tell (type 2, or type 3 without a listed primary)."""
        if not self.primaries.isdisjoint(codes):
            return True
        return False if self.exhaustive else None


def choose_pair(rows: Iterable[PairEdit], on: date) -> PairEdit | None:
    """The row of one pair in force on ``on`` (see the module docstring for ties)."""
    best: PairEdit | None = None
    best_key: tuple[bool, date, date] | None = None
    for row in rows:
        if not row.active_on(on):
            continue
        key = (row.modifier_indicator != 9, row.effective, row.deletion or _MAX_DAY)
        if best_key is None or key > best_key:
            best, best_key = row, key
    return best


def choose_limit(rows: Iterable[UnitLimit], on: date | None) -> UnitLimit | None:
    """The unit limit of one code in force on ``on`` (latest effective date, then the lowest limit)."""
    best: UnitLimit | None = None
    best_key: tuple[date, int] | None = None
    for row in rows:
        if not row.active_on(on):
            continue
        key = (row.effective or date.min, -row.max_units)
        if best_key is None or key > best_key:
            best, best_key = row, key
    return best


class AddonRow(NamedTuple):
    """One add-on/primary row as stored (``primary`` is ``''`` for a type 2 row)."""

    addon: str
    primary: str
    edit_type: int
    effective: date | None
    deletion: date | None
    citation: str


def combine_addon(rows: Iterable[AddonRow], on: date | None) -> AddonEdit | None:
    """The add-on edit in force on ``on``: the union of its rows in force, or None if none is.

    When the rows in force disagree on the type, the most permissive wins (2, then 3, then 1), so
    the table never claims a complete list it does not have.
    """
    live = [row for row in rows if _in_force(row.effective, row.deletion, on)]
    if not live:
        return None
    types = {row.edit_type for row in live}
    edit_type = 2 if 2 in types else 3 if 3 in types else 1
    citation = live[0].citation
    if len(live) > 1:
        citation += f" and {len(live) - 1} more row{'s' if len(live) > 2 else ''}"
    return AddonEdit(
        addon=live[0].addon,
        primaries=frozenset(row.primary for row in live if row.primary),
        edit_type=edit_type,
        citation=citation,
    )
