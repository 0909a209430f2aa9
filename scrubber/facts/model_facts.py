"""Every value the claim model holds, as a fact named by its model path, with no code per field.

The catalog is built by walking the pydantic models: a scalar field becomes a fact (``assignment``,
``payer.filing_indicator``, ``subscriber.birth_date``), a tuple of scalars a list fact
(``line.modifiers``), a list of records one list fact per scalar field (``other_payers.filing_indicator``,
``line.adjudications.paid``). Line values are named ``line.<path>`` and live on line facts. Each fact's
X12 element and meaning come from the element map (``scrubber/x12map/837p.yaml``).

Values, as the engines see them: text stays text; money is integer cents and quantities integer
thousandths (rule text and messages use dollars and units: ``rules.conditions`` and ``rules.spec.render``
convert); dates are ``date.toordinal()`` integers; booleans stay booleans; lists are Python lists (only the
pre-pass reads them, never durable_rules). A value the claim does not have is left out of the fact; a list
is always there, empty when there is nothing.

A few derived facts that need domain logic sit beside them (``DERIVED_SPECS``): the person treated
(the patient when there is one, else the subscriber), the diagnosis codes a line points to, a line's
effective place of service.
"""

from __future__ import annotations

import datetime as dt
import operator
import types
import typing
from decimal import Decimal
from typing import Any, Callable

from pydantic import BaseModel

from scrubber.facts.spec import FactSpec, cents
from scrubber.model import Claim, Diagnosis, ServiceLine
from scrubber.x12map import element_map

_SKIP = frozenset({"elements", "source"})
_QUANTITY_FIELDS = frozenset({"units", "ndc_quantity", "quantity"})
QUANTITY_SCALE = 1000  # quantities are integer thousandths (1.5 units = 1500)

Getter = Callable[[Any], Any]
Path = tuple[str, ...]  # attribute names from a claim or a line to a record


def quantity(value: Decimal) -> int:
    return int((value * QUANTITY_SCALE).to_integral_value())


def _scalar_kind(name: str, annotation: Any) -> str | None:
    """The fact kind of a field's type, or None if it is not a scalar."""
    base = _unwrap(annotation)
    if base is str:
        return "text"
    if base is bool:
        return "boolean"
    if base is int:
        return "integer"
    if base is Decimal:
        return "quantity" if name in _QUANTITY_FIELDS else "money"
    if base is dt.date:
        return "date"
    return None


def _unwrap(annotation: Any) -> Any:
    """``str | None`` → str; ``Annotated[Decimal, ...]`` → Decimal."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _convert(kind: str) -> Callable[[Any], Any] | None:
    if kind == "money":
        return cents
    if kind == "quantity":
        return quantity
    if kind == "date":
        return dt.date.toordinal
    return None  # the value as it is


class _Entry:
    __slots__ = ("spec", "get")

    def __init__(self, spec: FactSpec, get: Getter):
        self.spec = spec
        self.get = get


def _label(path: str, fallback: str) -> tuple[str, str]:
    """(X12 element label, meaning) of a model path, from the element map."""
    rows = element_map("837p").for_path(path)
    if not rows:
        return fallback, ""
    return " / ".join(row.label for row in rows), rows[0].meaning


def _walk(model: type[BaseModel], prefix: str, map_prefix: str, scope: str, getter: Path, out: list[_Entry]) -> None:
    for name, field in model.model_fields.items():
        if name in _SKIP:
            continue
        annotation = field.annotation
        fact_name, map_path = f"{prefix}{name}", f"{map_prefix}{name}"
        kind = _scalar_kind(name, annotation)
        optional = field.default is None or not field.is_required()
        if kind is not None:
            element, meaning = _label(map_path, "-")
            spec = FactSpec(fact_name, _engine_type(kind), scope, meaning or name.replace("_", " "), element, kind, optional)
            out.append(_Entry(spec, _scalar_getter(getter, name, _convert(kind))))
            continue
        base = _unwrap(annotation)
        origin = typing.get_origin(base)
        if origin is tuple:
            item = _unwrap(typing.get_args(base)[0])
            if isinstance(item, type) and issubclass(item, BaseModel):
                if item is ServiceLine:
                    continue  # lines have facts of their own
                _walk_list(item, fact_name, f"{map_path}[]", scope, (*getter, name), out)
            else:
                item_kind = _scalar_kind(name, item) or "text"
                element, meaning = _label(map_path, "-")
                spec = FactSpec(fact_name, list, scope, meaning or name.replace("_", " "), element, "list", False, item_kind)
                out.append(_Entry(spec, _list_getter(getter, name, _convert(item_kind))))
            continue
        if isinstance(base, type) and issubclass(base, BaseModel):
            _walk(base, f"{fact_name}.", f"{map_path}.", scope, (*getter, name), out)


def _walk_list(model: type[BaseModel], prefix: str, map_prefix: str, scope: str, getter: Path, out: list[_Entry]) -> None:
    """A list of records (other payers, adjudications, diagnoses): one list fact per scalar field."""
    for name, field in model.model_fields.items():
        if name in _SKIP:
            continue
        kind = _scalar_kind(name, field.annotation)
        if kind is None:
            continue
        element, meaning = _label(f"{map_prefix}.{name}", "-")
        spec = FactSpec(f"{prefix}.{name}", list, scope, meaning or f"{name.replace('_', ' ')} of each", element, "list", False, kind)
        out.append(_Entry(spec, _records_getter(getter, name, _convert(kind))))


def _engine_type(kind: str) -> type:
    return {"text": str, "boolean": bool}.get(kind, int)


def _follow(path: Path) -> Getter:
    """The record at ``path`` (attribute names from the claim or line), or None where a record on the way is."""
    if not path:
        return _identity
    if len(path) == 1:
        return operator.attrgetter(path[0])  # the claim's or line's own records are never None-checked twice

    def get(obj: Any) -> Any:
        for name in path:
            obj = getattr(obj, name)
            if obj is None:
                return None
        return obj

    return get


def _scalar_getter(path: Path, name: str, convert: Callable[[Any], Any] | None) -> Getter:
    """The value of field ``name`` of the record at ``path``, converted; None when absent or empty. Built per
    depth (one call per fact and claim: this runs ~40 times per claim)."""
    if not path:
        def get(obj: Any) -> Any:
            value = getattr(obj, name)
            if value is None or value == "":
                return None
            return value if convert is None else convert(value)

    elif len(path) == 1:
        parent_name = path[0]

        def get(obj: Any) -> Any:
            parent = getattr(obj, parent_name)
            if parent is None:
                return None
            value = getattr(parent, name)
            if value is None or value == "":
                return None
            return value if convert is None else convert(value)

    else:
        follow = _follow(path)

        def get(obj: Any) -> Any:
            parent = follow(obj)
            if parent is None:
                return None
            value = getattr(parent, name)
            if value is None or value == "":
                return None
            return value if convert is None else convert(value)

    return get


def _list_getter(path: Path, name: str, convert: Callable[[Any], Any] | None) -> Getter:
    follow = _follow(path)

    def get(obj: Any) -> list[Any]:
        parent = follow(obj)
        values = getattr(parent, name) if parent is not None else None
        if not values:
            return []
        return list(values) if convert is None else [convert(value) for value in values]

    return get


def _records_getter(path: Path, name: str, convert: Callable[[Any], Any] | None) -> Getter:
    follow = _follow(path)

    def get(obj: Any) -> list[Any]:
        records = follow(obj) or ()
        values = [value for record in records if (value := getattr(record, name)) is not None]
        return values if convert is None else [convert(value) for value in values]

    return get


def _identity(obj: Any) -> Any:
    return obj


def _build() -> tuple[list[_Entry], list[_Entry]]:
    claim_entries: list[_Entry] = []
    _walk(Claim, "", "", "claim", (), claim_entries)
    # Diagnoses read better as codes: `diagnosis_codes`, not `diagnoses.code`.
    for entry in claim_entries:
        if entry.spec.name == "diagnoses.code":
            entry.spec = FactSpec("diagnosis_codes", list, "claim", "every diagnosis code on the claim (HI)", "2300 HI01..12", "list", False, "text")
        elif entry.spec.name == "diagnoses.qualifier":
            entry.spec = FactSpec("diagnosis_qualifiers", list, "claim", "code-list qualifier of each diagnosis (ABK/ABF ICD-10-CM, BK/BF ICD-9-CM)", "2300 HI01..12", "list", False, "text")
    line_entries: list[_Entry] = []
    _walk(ServiceLine, "line.", "lines[].", "line", (), line_entries)
    return claim_entries, line_entries


CLAIM_ENTRIES, LINE_ENTRIES = _build()

DERIVED_SPECS = [
    FactSpec("person.birth_date", int, "claim", "birth date of the person treated: the patient (2010CA), else the subscriber", "2010CA DMG02 / 2010BA DMG02", "date"),
    FactSpec("person.sex", str, "claim", "sex of the person treated: the patient (2010CA), else the subscriber", "2010CA DMG03 / 2010BA DMG03", "text"),
    FactSpec("person.state", str, "claim", "state of the person treated: the patient (2010CA), else the subscriber", "2010CA N402 / 2010BA N402", "text"),
    FactSpec("line.diagnosis_codes", list, "line", "the diagnosis codes the line points to (SV107 into HI)", "SV107 / 2300 HI01..12", "list", False, "text"),
    FactSpec("line.effective_place_of_service", str, "line", "the line's place of service (SV105), else the claim's (CLM05-1)", "SV105 / CLM05-1", "text"),
]

SPECS: list[FactSpec] = [entry.spec for entry in CLAIM_ENTRIES + LINE_ENTRIES] + DERIVED_SPECS
GENERATED = frozenset(entry.spec.name for entry in CLAIM_ENTRIES + LINE_ENTRIES)
_CLAIM_GETTERS = {entry.spec.name: entry.get for entry in CLAIM_ENTRIES}
_LINE_GETTERS = {entry.spec.name: entry.get for entry in LINE_ENTRIES}


class ModelFacts:
    """Extracts the model facts a rule set reads (all of them when ``needed`` is None)."""

    def __init__(self, needed: frozenset[str] | None = None):
        def wanted(name: str) -> bool:
            return needed is None or name in needed

        self.claim = [(name, get) for name, get in _CLAIM_GETTERS.items() if wanted(name)]
        self.line = [(name, get) for name, get in _LINE_GETTERS.items() if wanted(name)]
        self.person = needed is None or any(name.startswith("person.") for name in needed)
        self.line_codes = wanted("line.diagnosis_codes")
        self.line_place = wanted("line.effective_place_of_service")

    def add_claim_facts(self, claim: Claim, fact: dict[str, Any]) -> None:
        for name, get in self.claim:
            value = get(claim)
            if value is not None:
                fact[name] = value
        if self.person:
            person = claim.patient if claim.patient is not None else claim.subscriber
            if person.birth_date is not None:
                fact["person.birth_date"] = person.birth_date.toordinal()
            if person.sex:
                fact["person.sex"] = person.sex
            state = claim.patient_state
            if state:
                fact["person.state"] = state

    def add_line_facts(self, claim: Claim, line: ServiceLine, fact: dict[str, Any]) -> None:
        for name, get in self.line:
            value = get(line)
            if value is not None:
                fact[name] = value
        if self.line_codes:
            fact["line.diagnosis_codes"] = _pointed_codes(claim.diagnoses, line.diagnosis_pointers)
        if self.line_place:
            place = line.place_of_service or claim.place_of_service
            if place:
                fact["line.effective_place_of_service"] = place


def _pointed_codes(diagnoses: tuple[Diagnosis, ...], pointers: tuple[int, ...]) -> list[str]:
    return [diagnoses[pointer - 1].code for pointer in pointers if 0 < pointer <= len(diagnoses)]
