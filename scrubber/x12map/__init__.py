"""The X12 element maps: which element of which segment in which loop fills which model field.

Each transaction has one YAML map (``837p.yaml``, ``835.yaml``), in the spirit of pyx12's XML maps: X12
names are written verbatim (``CLM07``, ``SV101-2``, ``NM1*85``), once. The readers read through the map,
the 837P writer writes through it, the fact catalog names each fact's element from it, and a finding's
location resolves through it. This module only loads and indexes the map; reading values is the readers'
job, formatting them the writer's.

Element names: ``CLM07`` (element 7), ``CLM05-1`` (component 1 of element 5), ``CLM11-1..3`` (components
1 to 3, a list), ``HI01..12`` / ``CAS01..19`` (a run of elements read as one field).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from scrubber.yamlio import load_yaml

__all__ = ["ElementMap", "ElementRow", "SegmentRow", "UnknownElement", "element_map"]

TYPES = frozenset({"text", "code", "amount", "quantity", "integer", "date", "list", "pointers", "diagnoses", "adjustments"})
_NAME = re.compile(r"^(?P<segment>[A-Z][A-Z0-9]{1,2})(?P<position>\d{2})(?:\.\.(?P<last_position>\d{2}))?(?:-(?P<component>\d+)(?:\.\.(?P<last_component>\d+))?)?$")


class UnknownElement(ValueError):
    """An element reference that names no element of the map, or more than one."""


@dataclass(frozen=True, slots=True)
class ElementRow:
    """One element (or component, or run of them) the map reads, and the model field it fills."""

    name: str  # CLM05-1
    loop: str  # 2300
    segment: str  # the segment key, with its qualifier: CLM, NM1*85, DTP*472
    record: str  # model record path: claim, payer, lines[], lines[].rendering_provider
    field: str  # model field within the record: place_of_service
    type: str
    meaning: str
    position: int  # 1-based element position (CLM05 → 5)
    component: int | None  # 1-based component (CLM05-1 → 1), None for a simple element
    last: int | None  # end of a range: last component (CLM11-1..3) or last element (HI01..12)
    codes: frozenset[str] | None = None
    format_position: int | None = None  # element holding a date's format qualifier (DTP02 → 2)
    required: bool = False
    key: str = ""  # the field of its segment row's first element: the record's ``elements`` key for the segment

    @property
    def path(self) -> str:
        """The model path it fills: ``assignment``, ``payer.filing_indicator``, ``lines[].procedure``."""
        return self.field if self.record == "claim" else f"{self.record}.{self.field}"

    @property
    def reference(self) -> str:
        """The fully qualified name: ``2300 CLM CLM07``, ``2010AA NM1*85 NM109``."""
        return f"{self.loop} {self.segment} {self.name}"

    @property
    def label(self) -> str:
        """What a person reads: ``2300 CLM07``, ``2010AA NM1*85 NM109``."""
        if self.segment == self.name[: len(self.segment)]:
            return f"{self.loop} {self.name}"
        return f"{self.loop} {self.segment} {self.name}"


@dataclass(frozen=True, slots=True)
class SegmentRow:
    loop: str
    segment: str  # key with qualifier: NM1*85
    segment_id: str  # NM1
    qualifier: str | None  # 85 (element 01 of the segment)
    record: str
    repeat: bool
    elements: tuple[ElementRow, ...]


class ElementMap:
    """One transaction's map, indexed for the readers (by loop and segment) and for look-ups by name."""

    def __init__(self, transaction: str, segments: tuple[SegmentRow, ...]):
        self.transaction = transaction
        self.segments = segments
        self.elements: tuple[ElementRow, ...] = tuple(e for s in segments for e in s.elements)
        self.by_loop: dict[str, dict[str, dict[str | None, SegmentRow]]] = {}
        for row in segments:
            self.by_loop.setdefault(row.loop, {}).setdefault(row.segment_id, {})[row.qualifier] = row
        self._resolved: dict[str, ElementRow] = {}
        self.by_path: dict[str, tuple[ElementRow, ...]] = {}
        self.by_record: dict[str, tuple[ElementRow, ...]] = {}
        for element in self.elements:
            self.by_path[element.path] = self.by_path.get(element.path, ()) + (element,)
            self.by_record[element.record] = self.by_record.get(element.record, ()) + (element,)

    def segment_row(self, loop: str, segment: str) -> SegmentRow | None:
        """The row of ``segment`` (a key such as ``NM1*85``) in ``loop``."""
        segment_id, _, qualifier = segment.partition("*")
        return self.by_loop.get(loop, {}).get(segment_id, {}).get(qualifier or None)

    def for_record(self, record: str) -> tuple[ElementRow, ...]:
        """The rows filling fields of ``record`` (``lines[]``), in map order."""
        return self.by_record.get(record, ())

    def for_path(self, path: str) -> tuple[ElementRow, ...]:
        """The rows filling a model path (``referring_provider.npi`` is filled by NM1*DN and NM1*P3)."""
        return self.by_path.get(path, ())

    def resolve_segment(self, reference: str) -> SegmentRow:
        """The one segment row a reference names: ``HI``, ``2300 REF*G1``, ``2430 CAS``."""
        parts = reference.split()
        candidates = [row for row in self.segments if row.segment == parts[-1]]
        for qualifier in parts[:-1]:
            candidates = [row for row in candidates if row.loop == qualifier]
        if len(candidates) != 1:
            found = ", ".join(sorted(f"{row.loop} {row.segment}" for row in candidates)) or "none"
            raise UnknownElement(f"{reference!r} names {len(candidates)} segments of the {self.transaction} map ({found})")
        return candidates[0]

    def describe(self, reference: str) -> str:
        """A reference (element or segment) as the map labels it: ``2300 CLM07``, ``2300 REF*G1``."""
        try:
            return self.resolve(reference).label
        except UnknownElement:
            if _NAME.match(reference.split()[-1]):
                raise  # it names an element: say what is wrong with that
            row = self.resolve_segment(reference)
            return f"{row.loop} {row.segment}"

    def resolve(self, reference: str) -> ElementRow:
        """The one row a reference names: ``CLM07``, ``NM1*85 NM109``, ``2010AA NM109``, ``2300 DTP*439 DTP03``.

        Raises ``UnknownElement`` when it names none or several (the message lists the candidates).
        """
        found = self._resolved.get(reference)
        if found is None:
            found = self._resolved[reference] = self._resolve(reference)
        return found

    def _resolve(self, reference: str) -> ElementRow:
        parts = reference.split()
        if not parts:
            raise UnknownElement("empty element reference")
        name, qualifiers = parts[-1], parts[:-1]
        candidates = [e for e in self.elements if e.name == name or _within_range(e, name)]
        for qualifier in qualifiers:
            candidates = [e for e in candidates if qualifier in (e.loop, e.segment)]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise UnknownElement(f"{reference!r} is not an element of the {self.transaction} map")
        options = ", ".join(sorted(f"{e.loop} {e.segment} {e.name}" for e in candidates))
        raise UnknownElement(f"{reference!r} is ambiguous in the {self.transaction} map; say which: {options}")


def _within_range(element: ElementRow, name: str) -> bool:
    """``HI01`` names the run ``HI01..12``; ``SV101-3`` the list ``SV101-3..6``; ``SV107`` its components."""
    match = _NAME.match(name)
    if match is None or match["segment"] != element.segment.split("*")[0] or match["last_position"]:
        return False
    position = int(match["position"])
    component = int(match["component"]) if match["component"] else None
    if component is None and element.component is not None:  # SV107 names SV107-1..4
        return position == element.position
    if element.last is None:
        return False
    if element.component is None:  # a run of elements
        return component is None and element.position <= position <= element.last
    return position == element.position and component is not None and element.component <= component <= element.last


def _element(raw: dict, loop: str, segment: str, record: str, where: str, key: str) -> ElementRow:
    name = str(raw["name"])
    match = _NAME.match(name)
    if match is None or match["segment"] != segment.split("*")[0]:
        raise ValueError(f"{where}: {name!r} is not an element of {segment}")
    kind = raw.get("type", "text")
    if kind not in TYPES:
        raise ValueError(f"{where}: {name}: unknown type {kind!r}")
    component = int(match["component"]) if match["component"] else None
    last = match["last_component"] or match["last_position"]
    format_position = None
    if "format" in raw:
        format_match = _NAME.match(str(raw["format"]))
        if format_match is None:
            raise ValueError(f"{where}: {name}: format {raw['format']!r} is not an element name")
        format_position = int(format_match["position"])
    codes = raw.get("codes")
    return ElementRow(
        name=name,
        loop=loop,
        segment=segment,
        record=record,
        field=str(raw["field"]),
        type=kind,
        meaning=str(raw.get("meaning", "")),
        position=int(match["position"]),
        component=component,
        last=int(last) if last else None,
        codes=frozenset(str(code) for code in codes) if codes else None,
        format_position=format_position,
        required=bool(raw.get("required", False)),
        key=key,
    )


def _parse(text: str, source: str) -> ElementMap:
    data = load_yaml(text)
    rows = []
    for number, raw in enumerate(data["segments"], 1):
        loop, segment, record = str(raw["loop"]), str(raw["segment"]), str(raw["record"])
        where = f"{source} segment {number} ({loop} {segment})"
        segment_id, _, qualifier = segment.partition("*")
        elements = tuple(_element(e, loop, segment, record, where, str(raw["elements"][0]["field"])) for e in raw["elements"])
        rows.append(SegmentRow(loop, segment, segment_id, qualifier or None, record, bool(raw.get("repeat")), elements))
    return ElementMap(str(data["transaction"]), tuple(rows))


@functools.cache
def element_map(transaction: str) -> ElementMap:
    """The bundled map of ``transaction`` (``"837p"`` or ``"835"``), loaded once."""
    text = resources.files(__package__).joinpath(f"{transaction}.yaml").read_text(encoding="utf-8")
    return _parse(text, f"{transaction}.yaml")
