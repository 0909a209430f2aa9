"""Which segment opens which X12 loop, as a table of rows (the 837P and 835 tables use this).

Each row: (segment id, qualifier element position, qualifier values, loops it may follow, loop it opens).
A segment that matches no row stays in the current loop. The walker looks rows up by segment id, so
adding a loop is adding a row, not an ``if``.
"""

from __future__ import annotations

from typing import NamedTuple


class LoopOpener(NamedTuple):
    segment: str
    qualifier_position: int | None
    qualifiers: frozenset[str] | None
    parents: frozenset[str] | None  # None: from anywhere
    loop: str


LoopTable = dict[str, list[LoopOpener]]


def loop_table(*rows: tuple) -> LoopTable:
    """Rows ``(segment, qualifier position, qualifiers, parents, loop)``, grouped by segment id."""
    table: LoopTable = {}
    for segment, position, qualifiers, parents, loop in rows:
        table.setdefault(segment, []).append(
            LoopOpener(
                segment,
                position,
                frozenset(qualifiers) if qualifiers else None,
                frozenset(parents) if parents else None,
                loop,
            )
        )
    return table


def next_loop(table: LoopTable, current: str, segment_id: str, elements: list[str]) -> str | None:
    """The loop ``elements`` opens when read inside ``current``, or None if it stays in ``current``."""
    rows = table.get(segment_id)
    if rows is None:
        return None
    for row in rows:
        if row.parents is not None and current not in row.parents:
            continue
        if row.qualifiers is not None:
            position = row.qualifier_position
            value = elements[position] if position < len(elements) else ""
            if value not in row.qualifiers:
                continue
        return row.loop
    return None
