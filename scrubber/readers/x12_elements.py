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
_NO_CACHE: dict = {}  # never written: rows without composites do not split components  # values added to the record's list, segment after segment


def date_value(qualifier: str, text: str, element: str) -> dt.date:
    """D8 ``CCYYMMDD``, or RD8 ``CCYYMMDD-CCYYMMDD`` whose start date is taken."""
    if qualifier == "RD8" and "-" in text:
        text = text.split("-", 1)[0]
    elif qualifier not in ("D8", "RD8", ""):
        raise BadSegment(f"{element} date format {qualifier!r} is not D8 or RD8")
    return parse_date(text, element)


def pointer_value(text: str, element: str) -> int:
    """A diagnosis pointer (1-12); some files write '1.00' for 1."""
    if text.isdigit():
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
        parts = cache[position] = reader.composite(segment, position, name.split("-")[0])
    return parts


def _simple(element: ElementRow) -> Callable[[Segment, Any, dict], str]:
    """The element's text ('' when absent), refusing a separator inside a simple value."""
    position, component, name = element.position, element.component, element.name
    if component is None:

        def text(segment: Segment, reader: Any, cache: dict) -> str:
            elements = segment.elements
            value = elements[position] if position < len(elements) else ""
            if value:
                delimiters = segment.delimiters
                if delimiters.component in value or (delimiters.repetition and delimiters.repetition in value):
                    raise BadSegment(f"{name} {value!r} holds a delimiter (broken segment?)")
            return value

        return text
    index = component - 1

    def component_text(segment: Segment, reader: Any, cache: dict) -> str:
        parts = _components(segment, reader, cache, position, name)
        return parts[index] if index < len(parts) else ""

    return component_text


def _fast_text(element: ElementRow) -> ValueReader | None:
    """The commonest reader (a simple text element) in one function: it runs for most segments."""
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
        delimiters = segment.delimiters
        if delimiters.component in value or (delimiters.repetition and delimiters.repetition in value):
            raise BadSegment(f"{name} {value!r} holds a delimiter (broken segment?)")
        return value

    return text


def _compile(element: ElementRow) -> ValueReader:
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
    text = _simple(element)
    if kind == "text":
        return _fast_text(element) or (lambda segment, reader, cache: text(segment, reader, cache) or None)
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
            if not value.isdigit():
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


class CompiledRow:
    """One map row ready to read segments: ``read(segment, reader, record)`` fills ``record`` in place."""

    __slots__ = ("row", "plan", "first_field", "repeat", "path", "context", "composite")

    def __init__(self, row: SegmentRow):
        self.row = row
        # (field, value reader, accumulates into a list, what to say when a required value is missing)
        self.plan = tuple(
            (
                element.field,
                _compile(element),
                element.type in _ACCUMULATE,
                f"{element.name} ({element.meaning}) is missing" if element.required else None,
            )
            for element in row.elements
        )
        self.first_field = row.elements[0].field
        self.repeat = row.repeat
        self.path: Any = None  # the reader's compiled record path, set by the reader that uses the row
        self.context: Any = None  # the reader's context for the row's loop, likewise
        # only rows reading components need the per-segment cache of split composites
        self.composite = any(e.component is not None or e.type in ("diagnoses", "pointers", "list") for e in row.elements)

    def read(self, segment: Segment, reader: Any, record: dict[str, Any]) -> None:
        positions = record["elements"]
        if not self.repeat and self.first_field in positions:
            raise BadSegment(
                f"a second {self.row.segment} segment in one loop {self.row.loop} "
                f"(the first is segment {positions[self.first_field]})"
            )
        cache: dict[int, list[str]] = {} if self.composite else _NO_CACHE
        index = segment.index
        for field, read, accumulate, missing in self.plan:
            value = read(segment, reader, cache)
            if accumulate:
                if value:
                    record.setdefault(field, []).extend(value)
                    positions.setdefault(field, index)
                continue
            if value is None:
                if missing is not None:
                    raise BadSegment(missing)
            else:
                record[field] = value
            if field not in positions:
                positions[field] = index


def compile_rows(rows: tuple[SegmentRow, ...]) -> dict[str, dict[str, dict[str | None, CompiledRow]]]:
    """Compiled rows by loop, segment id, then qualifier (element 01), as the readers look them up."""
    table: dict[str, dict[str, dict[str | None, CompiledRow]]] = {}
    for row in rows:
        table.setdefault(row.loop, {}).setdefault(row.segment_id, {})[row.qualifier] = CompiledRow(row)
    return table


def compile_element(element: ElementRow) -> ValueReader:
    """The value reader of one map element: ``reader(segment, x12_reader, cache)`` → its value.

    The 835 reader fills its records with these (it keeps its own rules for repeated segments).
    """
    return _compile(element)
