"""Read a segment's values through its element-map row (``scrubber.x12map``) into a record under construction.

Each map row is compiled once into a list of (field, reader) pairs; reading a segment is then one call per
element. Values are checked as they are read: a simple element must not hold the component or repetition
separator (a sign the segment's delimiters are broken), codes must be in their list, numbers and dates must
parse, required elements must be present. Anything else raises ``BadSegment`` naming the element.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from scrubber.readers.x12_tokens import Segment
from scrubber.readers.x12_values import BadSegment, cas_adjustments, parse_date, parse_decimal
from scrubber.x12map import ElementRow, SegmentRow

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})

# (segment, reader with a ``composite(segment, position, name)`` method, cache of composites) -> value
ValueReader = Callable[[Segment, Any, dict], Any]
_ACCUMULATE = frozenset({"diagnoses", "adjustments"})
# The composite elements of segments we read (positions, with their most components in the TR3); every
# other element of these segments is simple, so a separator in it means the segment's delimiters broke.
COMPOSITES: dict[str, dict[int, int]] = {
    "NM1": {}, "DTP": {}, "SBR": {}, "AMT": {}, "LX": {}, "N4": {}, "PAT": {}, "CAS": {}, "BHT": {}, "LIN": {},
    "CLM": {5: 3, 11: 5}, "SV1": {1: 8, 7: 4}, "SVD": {3: 8}, "CTP": {5: 15}, "HI": {p: 2 for p in range(1, 13)},
    "REF": {4: 6}, "PRV": {5: 3}, "DMG": {5: 3},
}
_NO_CACHE: dict = {}  # never written: rows without composites do not split components  # values added to the record's list, segment after segment


def date_value(qualifier: str, text: str, element: str) -> dt.date:
    """D8 ``CCYYMMDD``, or RD8 ``CCYYMMDD-CCYYMMDD`` whose start date is taken (the end date must be a
    date too, on or after the start: a range ending on 2026-13-40 is not read as its start)."""
    if qualifier == "RD8" and "-" in text:
        text, end = text.split("-", 1)
        if parse_date(end, element) < parse_date(text, element):
            raise BadSegment(f"{element} range {text}-{end} ends before it starts")
    elif qualifier not in ("D8", "RD8", ""):
        raise BadSegment(f"{element} date format {qualifier!r} is not D8 or RD8")
    return parse_date(text, element)


def pointer_value(text: str, element: str) -> int:
    """A diagnosis pointer (1-12); some files write '1.00' for 1."""
    if text.isascii() and text.isdigit():
        value = int(text)
    else:
        number = parse_decimal(text, element)
        if number != number.to_integral_value():
            raise BadSegment(f"{element} {text!r} is not a diagnosis pointer")
        value = int(number)
    if value < 1:
        raise BadSegment(f"{element} {text!r} is not a diagnosis pointer")
    return value


def _components(segment: Segment, reader: Any, cache: dict, position: int, name: str) -> list[str]:
    parts = cache.get(position)
    if parts is None:
        whole = segment.elements[position] if position < len(segment.elements) else ""
        if not whole.isprintable():
            raise BadSegment(f"{name.split('-')[0]} {whole!r} holds a control character (broken segment?)")
        parts = cache[position] = reader.composite(segment, position, name.split("-")[0])
    return parts


def _simple(element: ElementRow, checked: bool = False) -> Callable[[Segment, Any, dict], str]:
    """The element's text ('' when absent), refusing a separator inside a simple value."""
    position, component, name = element.position, element.component, element.name
    if component is None and checked:  # its row checked the whole segment

        def checked(segment: Segment, reader: Any, cache: dict) -> str:
            elements = segment.elements
            return elements[position] if position < len(elements) else ""

        return checked
    if component is None:

        def text(segment: Segment, reader: Any, cache: dict) -> str:
            elements = segment.elements
            value = elements[position] if position < len(elements) else ""
            if value:
                _check_simple(value, segment, name)
            return value

        return text
    index = component - 1

    def component_text(segment: Segment, reader: Any, cache: dict) -> str:
        parts = _components(segment, reader, cache, position, name)
        return parts[index] if index < len(parts) else ""

    return component_text


def _check_simple(value: str, segment: Segment, name: str) -> None:
    """A simple element holds no separator and no control character (else its segment is broken)."""
    delimiters = segment.delimiters
    if delimiters.component in value or (delimiters.repetition and delimiters.repetition in value):
        raise BadSegment(f"{name} {value!r} holds a delimiter (broken segment?)")
    if not value.isprintable():
        raise BadSegment(f"{name} {value!r} holds a control character (broken segment?)")


def _fast_text(element: ElementRow) -> ValueReader | None:
    """A simple text element of a segment not checked whole, in one function (the 835's readers)."""
    if element.component is not None:
        return None
    position, name = element.position, element.name

    def text(segment: Segment, reader: Any, cache: dict) -> str | None:
        elements = segment.elements
        if position >= len(elements):
            return None
        value = elements[position]
        if not value:
            return None
        _check_simple(value, segment, name)
        return value

    return text


def _compile(element: ElementRow, checked: bool = False) -> ValueReader:
    """The value reader of ``element``; ``checked``: its row checks the whole segment first (separators,
    control characters), so simple values need no check of their own."""
    kind, name = element.type, element.name
    if kind == "list" and element.component is None:
        return _run(element)
    if kind in ("list", "pointers"):
        position, first, last = element.position, (element.component or 1) - 1, element.last or element.component
        if kind == "list":
            return lambda segment, reader, cache: [
                part for part in _components(segment, reader, cache, position, name)[first:last] if part
            ]
        return lambda segment, reader, cache: [
            pointer_value(part, name) for part in _components(segment, reader, cache, position, name)[first:last] if part
        ]
    if kind == "diagnoses":
        return _diagnoses(element)
    if kind == "adjustments":
        return lambda segment, reader, cache: cas_adjustments(segment)
    text = _simple(element, checked)
    if kind == "text":
        return (None if checked else _fast_text(element)) or (lambda segment, reader, cache: text(segment, reader, cache) or None)
    if kind == "code":
        codes = element.codes or frozenset()

        def code(segment: Segment, reader: Any, cache: dict) -> str | None:
            value = text(segment, reader, cache)
            if not value:
                return None
            if value not in codes:
                raise BadSegment(f"{name} {value!r} is not one of {', '.join(sorted(codes))}")
            return value

        return code
    if kind in ("amount", "quantity"):

        def number(segment: Segment, reader: Any, cache: dict) -> Any:
            value = text(segment, reader, cache)
            return parse_decimal(value, name) if value else None

        return number
    if kind == "integer":

        def integer(segment: Segment, reader: Any, cache: dict) -> int | None:
            value = text(segment, reader, cache)
            if not value:
                return None
            if not (value.isascii() and value.isdigit()):
                raise BadSegment(f"{name} {value!r} is not a whole number")
            return int(value)

        return integer
    if kind == "date":
        format_position = element.format_position

        def date(segment: Segment, reader: Any, cache: dict) -> dt.date | None:
            value = text(segment, reader, cache)
            if not value:
                return None
            qualifier = segment.get(format_position) if format_position else "D8"
            return date_value(qualifier, value, name)

        return date
    raise ValueError(f"{name}: no reader for type {kind!r}")


def _run(element: ElementRow) -> ValueReader:
    """A list of simple elements (``MOA03..07``, or one: ``LQ02``): their non-empty values, in order."""
    first, last = element.position, element.last or element.position

    def run(segment: Segment, reader: Any, cache: dict) -> list[str]:
        elements = segment.elements
        return [value for value in elements[first : last + 1] if value]

    return run


def _diagnoses(element: ElementRow) -> ValueReader:
    first, last, segment_id = element.position, element.last or element.position, element.segment

    def diagnoses(segment: Segment, reader: Any, cache: dict) -> list[dict[str, str]]:
        found = []
        for position in range(first, min(last, len(segment.elements) - 1) + 1):
            value = segment.elements[position]
            if not value:
                continue
            parts = _components(segment, reader, cache, position, f"{segment_id}{position:02d}")
            if parts[0] in DIAGNOSIS_QUALIFIERS:
                if len(parts) < 2 or not parts[1]:
                    raise BadSegment(f"diagnosis {value!r} has no code")
                found.append({"code": parts[1], "qualifier": parts[0]})
        return found

    return diagnoses


def _check_delimiters(segment: Segment, composites: dict[int, int]) -> None:
    """The whole segment at once: no control character, no repetition separator, component separators only
    inside its composites and no more components than they have (else its delimiters broke)."""
    elements = segment.elements
    delimiters = segment.delimiters
    component, repetition = delimiters.component, delimiters.repetition
    text = segment.text  # as read; joined without its separators when one of them is not printable
    if text is None or not text.isprintable():
        text = "".join(elements)
    if not text.isprintable():
        raise BadSegment(f"{elements[0]} holds a control character (broken segment?)")
    if repetition and repetition in text:
        raise BadSegment(f"{elements[0]} holds the repetition separator {repetition!r} (broken segment?)")
    total = text.count(component)
    if not total:
        return
    inside = 0
    size = len(elements)
    for position, most in composites.items():
        if position < size:
            value = elements[position]
            count = value.count(component)
            if count >= most and any(value.split(component)[most:]):
                raise BadSegment(f"{elements[0]}{position:02d} {value!r} has more than {most} components (broken segment?)")
            inside += count
    if inside != total:
        raise BadSegment(f"{elements[0]} holds a component separator outside its composite elements (broken segment?)")


# Steps of ``CompiledRow.read``: a simple element read inline (text as is; a code checked against its
# list; a number; a date), or a call to the element's value reader.
_CALL, _TEXT = "call", "text"
_INLINE = frozenset({"text", "code", "amount", "quantity", "date"})


def _step(element: ElementRow, checked: bool) -> tuple:
    """``(step, field, position or reader, accumulates, missing)`` for ``CompiledRow.read``; ``checked``: the
    row checks its whole segment first, so its simple values can be read inline."""
    field, accumulate = element.field, element.type in _ACCUMULATE
    missing = f"{element.name} ({element.meaning}) is missing" if element.required else None
    if not checked or element.component is not None or element.type not in _INLINE:
        return (_CALL, field, _compile(element, checked), accumulate, missing)
    if element.type == "text":
        return (_TEXT, field, element.position, accumulate, missing)
    extra = element.format_position if element.type == "date" else element.codes or frozenset()
    return ((element.type, element.name, extra), field, element.position, accumulate, missing)


def _convert(step: tuple, value: str, segment: Segment) -> Any:
    kind, name, codes = step  # a date's third part: the position of its format qualifier (DTP02), if any
    if kind == "date":
        return date_value(segment.get(codes) if codes else "D8", value, name)
    if kind == "code":
        if value not in codes:
            raise BadSegment(f"{name} {value!r} is not one of {', '.join(sorted(codes))}")
        return value
    return parse_decimal(value, name)


def _check_cas_group(earlier: list[dict[str, Any]], new: list[dict[str, Any]], loop: str) -> None:
    """A CAS repeats a group code only when the one before it is full (six adjustments). One that repeats
    a group with room left means two payers' adjustments ran together: the SVD or SBR between them was lost."""
    group = new[0]["group"]
    count = sum(1 for item in earlier if item["group"] == group)
    if count % 6:
        raise BadSegment(f"a second CAS with group {group} in loop {loop} while the first had room (a segment opening a new loop was lost?)")


class CompiledRow:
    """One map row ready to read segments: ``read(segment, reader, record)`` fills ``record`` in place."""

    __slots__ = ("row", "steps", "first_field", "repeat", "path", "context", "composite", "composites", "ranks")

    def __init__(self, row: SegmentRow):
        self.row = row
        self.first_field = row.elements[0].field
        self.repeat = row.repeat
        self.ranks: dict[str, int] | None = None  # field -> rank of its segment id in the record (set by compile_rows)
        self.path: Any = None  # the reader's compiled record path, set by the reader that uses the row
        self.context: Any = None  # the reader's context for the row's loop, likewise
        # the segment's composite elements: the whole segment is checked against them before it is read
        self.composites = COMPOSITES.get(row.segment_id)
        if self.composites is None and any(e.type in _ACCUMULATE for e in row.elements):
            raise ValueError(f"{row.segment}: a segment read whole (HI, CAS) needs its composites in COMPOSITES")
        # only rows reading components need the per-segment cache of split composites
        self.composite = any(e.component is not None or e.type in ("diagnoses", "pointers", "list") for e in row.elements)
        # One step per element: most (simple text, codes, numbers and dates of a segment checked whole)
        # are read inline by ``read``; one call per element cost a third of reading an 837P.
        self.steps = tuple(_step(element, self.composites is not None) for element in row.elements)

    def read(self, segment: Segment, reader: Any, record: dict[str, Any]) -> None:
        positions = record["elements"]
        if not self.repeat and self.first_field in positions:
            raise BadSegment(
                f"a second {self.row.segment} segment in one loop {self.row.loop} "
                f"(the first is segment {positions[self.first_field]})"
            )
        ranks = self.ranks
        if ranks is not None:
            rank = ranks[self.first_field]
            for field in positions:
                if ranks.get(field, -1) > rank:
                    raise BadSegment(
                        f"{self.row.segment} after a later segment of its loop ({field} of segment {positions[field]}): "
                        "out of order (the segment that opens a new loop was lost?)"
                    )
        composites = self.composites
        if composites is not None:
            if composites:
                _check_delimiters(segment, composites)
            else:  # no composite: one look at the whole segment (the common case), inline
                text = segment.text  # as read: its element separators are printable and no delimiter, in every file we know
                if text is None:
                    text = "".join(segment.elements)
                delimiters = segment.delimiters
                if delimiters.component in text or not text.isprintable() or (
                    delimiters.repetition and delimiters.repetition in text
                ):
                    _check_delimiters(segment, composites)  # says what is wrong
        cache: dict[int, list[str]] = {} if self.composite else _NO_CACHE
        index = segment.index
        elements = segment.elements
        size = len(elements)
        for step, field, read, accumulate, missing in self.steps:
            if step is _CALL:
                value = read(segment, reader, cache)
            else:  # a simple element of a segment checked whole: ``read`` is its position
                value = elements[read] if read < size else ""
                if not value:
                    if missing is not None:
                        raise BadSegment(missing)
                    continue
                if step is not _TEXT:
                    value = _convert(step, value, segment)
                record[field] = value
                continue
            if accumulate:
                if value:
                    items = record.setdefault(field, [])
                    if field == "adjustments":
                        _check_cas_group(items, value, self.row.loop)
                    items.extend(value)
                    positions.setdefault(field, index)
                continue
            if value is None:
                if missing is not None:
                    raise BadSegment(missing)
            else:
                record[field] = value
        if not self.repeat:
            positions[self.first_field] = index  # one entry per segment, under its first element's field


def compile_rows(
    rows: tuple[SegmentRow, ...], ordered: frozenset[str] = frozenset()
) -> dict[str, dict[str, dict[str | None, CompiledRow]]]:
    """Compiled rows by loop, segment id, then qualifier (element 01), as the readers look them up.

    ``ordered``: records whose segments must come in the map's order."""
    table: dict[str, dict[str, dict[str | None, CompiledRow]]] = {}
    # Within one record, segments come in the map's order by segment id (SVD, CAS, DTP in 2430): one
    # coming after a later one means the segment that should have opened a new record was lost.
    ranks: dict[str, dict[str, int]] = {}
    for row in rows:
        order = ranks.setdefault(row.record, {})
        ids = order.setdefault("__ids__", {})  # type: ignore[arg-type]
        rank = ids.setdefault(row.segment_id, len(ids))
        for element in row.elements:
            order[element.field] = rank
    for row in rows:
        compiled = CompiledRow(row)
        compiled.ranks = ranks[row.record] if row.record in ordered else None
        table.setdefault(row.loop, {}).setdefault(row.segment_id, {})[row.qualifier] = compiled
    return table


def compile_element(element: ElementRow) -> ValueReader:
    """The value reader of one map element: ``reader(segment, x12_reader, cache)`` → its value.

    The 835 reader fills its records with these (it keeps its own rules for repeated segments).
    """
    return _compile(element)
