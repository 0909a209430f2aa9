"""Table edits compiled to predicates: a service line tested against a reference table (``scrubber.tables``).

``pair_edit``
    The line's procedure is the column-2 code of a pair-table row whose column-1 code is billed on another
    line of the claim with the same date of service, the row active on that date, and its modifier
    indicator 0 (no modifier bypasses it) or 1 with none of the bypass modifiers on this line (in any
    modifier position). Indicator 9 means the edit does not apply. The column-2 line is the one a payer
    denies, so it is the one flagged.
``unit_limit``
    The line's procedure has a unit limit active on its date of service; indicator 1 compares this line's
    units with it, 2 and 3 the units of every line of the claim with this procedure and date.
``addon_without_primary``
    The line's procedure is an add-on code (of an edit type the rule counts) and no other line of the
    claim with the same date of service bills one of its primary codes.

A line without a procedure or a date of service is never flagged (nothing can be looked up). A table
the run was not given makes the predicate false: the rule says nothing. When a predicate is true it
writes what it found (the row, and where the row came from) into the line fact as ``table.<form>``, for
the rule's message.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable

from scrubber.facts.model_facts import QUANTITY_SCALE
from scrubber.rules.conditions import TableEdit

PROCEDURE, MODIFIERS, UNITS, SERVICE_DATE = "line.procedure", "line.modifiers", "line.units", "line.service_date"
_MEMO_LIMIT = 100_000  # table answers remembered per edit (a batch repeats its codes and dates)

Predicate = Callable[[dict[str, Any], Any, "int | None"], bool]


def message_fact(form: str) -> str:
    """The line fact a true table edit writes its explanation into."""
    return f"table.{form}"


def _never(fact: dict[str, Any], claim: Any, index: int | None) -> bool:
    return False


def _memo(lookup: Callable[..., Any]) -> Callable[..., Any]:
    """``lookup(*codes, date)`` remembered per (codes, date ordinal): called as ``remembered(*codes, ordinal)``."""
    answers: dict[tuple, Any] = {}

    def remembered(*key: Any) -> Any:
        if key in answers:
            return answers[key]
        found = lookup(*key[:-1], dt.date.fromordinal(key[-1]))
        if len(answers) < _MEMO_LIMIT:
            answers[key] = found
        return found

    return remembered


def _units(value: int) -> str:
    return str((Decimal(value) / QUANTITY_SCALE).normalize()) if value % QUANTITY_SCALE else str(value // QUANTITY_SCALE)


def _date(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def compile_table_edit(edit: TableEdit, table: Any) -> Predicate:
    if table is None:
        return _never
    if edit.form == "pair_edit":
        return _pair_edit(edit, table)
    if edit.form == "unit_limit":
        return _unit_limit(edit, table)
    return _addon_without_primary(edit, table)


def _bypassed(bypass: Any, modifiers: list[str], on: dt.date) -> bool:
    if isinstance(bypass, frozenset):
        return any(modifier in bypass for modifier in modifiers)
    return any(bypass.contains(modifier, on) for modifier in modifiers)


def _pair_edit(edit: TableEdit, table: Any) -> Predicate:
    lookup = _memo(table.pair)  # (column 1, column 2, date) -> the pair's row in force
    bypass, target = edit.bypass, message_fact(edit.form)

    def pair_edit(fact: dict[str, Any], claim: Any, index: int | None) -> bool:
        code, ordinal = fact.get(PROCEDURE), fact.get(SERVICE_DATE)
        if code is None or ordinal is None or index is None:
            return False
        for j, line in enumerate(claim.lines):
            other = line.get(PROCEDURE)
            if j == index or other is None or line.get(SERVICE_DATE) != ordinal:
                continue
            row = lookup(other, code, ordinal)
            if row is None or row.modifier_indicator not in (0, 1):
                continue  # 9: the edit does not apply
            modifiers = fact.get(MODIFIERS, ())
            if row.modifier_indicator == 1 and _bypassed(bypass, modifiers, dt.date.fromordinal(ordinal)):
                continue
            why = "no modifier bypasses it" if row.modifier_indicator == 0 else "this line has no modifier that bypasses it"
            fact[target] = (
                f"{code} is the column 2 code of the pair {other} (line {j + 1}) / {code} on {_date(ordinal)}, "
                f"modifier indicator {row.modifier_indicator} ({why}); {row.citation}"
            )
            return True
        return False

    return pair_edit


def _unit_limit(edit: TableEdit, table: Any) -> Predicate:
    lookup = _memo(table.limit)
    target = message_fact(edit.form)

    def unit_limit(fact: dict[str, Any], claim: Any, index: int | None) -> bool:
        code, ordinal, units = fact.get(PROCEDURE), fact.get(SERVICE_DATE), fact.get(UNITS)
        if code is None or ordinal is None or units is None:
            return False
        limit = lookup(code, ordinal)
        if limit is None:
            return False
        most = limit.max_units * QUANTITY_SCALE
        if limit.indicator == 1:
            if units <= most:
                return False
            billed = f"{_units(units)} units on this line"
        else:
            total = sum(
                line.get(UNITS, 0) for line in claim.lines if line.get(PROCEDURE) == code and line.get(SERVICE_DATE) == ordinal
            )
            if total <= most:
                return False
            billed = f"{_units(total)} units of {code} on {_date(ordinal)} across the claim's lines"
        per = "per line" if limit.indicator == 1 else "per date of service"
        fact[target] = (
            f"{billed}; the unit limit of {code} is {limit.max_units} {per} (adjudication indicator "
            f"{limit.indicator}); {limit.citation}"
        )
        return True

    return unit_limit


def _addon_without_primary(edit: TableEdit, table: Any) -> Predicate:
    lookup = _memo(table.primaries)
    counted, target = frozenset(edit.edit_types), message_fact(edit.form)

    def addon_without_primary(fact: dict[str, Any], claim: Any, index: int | None) -> bool:
        code, ordinal = fact.get(PROCEDURE), fact.get(SERVICE_DATE)
        if code is None or ordinal is None:
            return False
        addon = lookup(code, ordinal)
        if addon is None or addon.edit_type not in counted or not addon.primaries:
            return False
        for j, line in enumerate(claim.lines):
            if j != index and line.get(SERVICE_DATE) == ordinal and line.get(PROCEDURE) in addon.primaries:
                return False
        primaries = sorted(addon.primaries)
        listed = ", ".join(primaries[:8]) + (f" and {len(primaries) - 8} more" if len(primaries) > 8 else "")
        fact[target] = (
            f"{code} is an add-on code (edit type {addon.edit_type}) and none of its primary codes ({listed}) "
            f"is billed on {_date(ordinal)}; {addon.citation}"
        )
        return True

    return addon_without_primary
