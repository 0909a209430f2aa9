"""The condition language of rule files, parsed and type-checked against the fact catalog.

    when:
      all:
        - {fact: payer.filing_indicator, eq: MB}
        - {fact: line.procedure, in_set: clinical-lab}
        - {fact: line.modifiers, none_in: ["95", GT]}
        - {other_line: {fact: line.procedure, in_set: minor-procedures}, same: [line.service_date]}

Comparisons of one fact (``{fact: NAME, OP: VALUE}``):
- ``eq ne in not_in gt gte lt lte``; ``exists: true|false`` and ``missing: true|false``;
- codes: ``in_set: SET`` / ``not_in_set: SET`` (a named code set), ``between: [LOW, HIGH]`` (alphanumeric:
  ``[J0120, J9999]``, same length as the code), ``starts_with: PREFIX or [PREFIXES]``;
- lists (``line.modifiers``, ``diagnosis_codes``): ``contains: V``, ``not_contains: V``, ``any_in``,
  ``all_in``, ``none_in`` (a list of values, or ``{set: SET}``);
- dates: ``before after on_or_before on_or_after`` a date (``2025-10-01``) or ``{fact: OTHER_DATE}``.
Measures compared with ``eq ne gt gte lt lte``: ``{count: LIST_FACT, gt: 4}``, ``{days_between: [FROM, TO],
gt: 365}`` (TO minus FROM), ``{age_years: {born: DATE, at: DATE}, lt: 18}``, ``{count_lines: COND, gt: 1}``,
``{sum: FACT, by: [FACTS], where: COND, gt: 4}``.
Across lines: ``{any_line: COND}``, ``{all_lines: COND}``, ``{other_line: COND, same: [FACTS]}`` (another
line of the claim, agreeing with this one on ``same``), ``{duplicate_lines: [FACTS]}``.
Reference tables (line rules; each says nothing when its table is not configured, see ``scrubber.tables``):
``{pair_edit: {table: ncci-ptp, bypass_modifiers: {set: ncci-associated-modifiers}}}`` (this line is the
column-2 code of a pair, active on its date of service, with another line of that date; modifier
indicator 0, or 1 without a bypass modifier on this line), ``{unit_limit: {table: mue}}`` (units over the
limit: on this line for indicator 1, summed over the claim's lines of this code and date for 2 and 3),
``{addon_without_primary: {table: addon}}`` (an add-on code with none of its primary codes on the claim
for its date; ``edit_types: [1, 3]`` says which add-on edit types count, 1 by default).
Combinators: ``all``, ``any``, ``not``.

Money is written in dollars (``gt: 2500``, ``eq: 0``) and quantities in units; dates as ``YYYY-MM-DD``.
What missing means, everywhere: a comparison on a fact the claim does not have is false (``ne``,
``not_in``, ``not_in_set``, ``not_contains`` and ``before`` included); only ``exists: false`` / ``missing:
true`` match it, and ``not`` inverts the whole comparison (``not: {fact: X, eq: A}`` is true when X is
missing). Lists are never missing, only empty: ``none_in`` holds on an empty list, ``all_in``, ``any_in`` and
``contains`` do not. ``any_line``/``all_lines`` over no lines are false. A line missing one of the ``same``,
``by`` or ``duplicate_lines`` facts is matched with no other line. A ``ne``/``not_in`` on a fact that can be
missing is a load warning until the rule says what missing means (an ``exists``/``missing`` test on the same
fact in the same ``all``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Union

from scrubber.facts import FACTS
from scrubber.facts.model_facts import quantity
from scrubber.facts.spec import FactSpec, cents

COMPARISONS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")
ENGINE_OPERATORS = (*COMPARISONS, "exists")
ORDERING = ("gt", "gte", "lt", "lte")
CODE_OPERATORS = ("in_set", "not_in_set", "between", "starts_with")
LIST_OPERATORS = ("contains", "not_contains", "any_in", "all_in", "none_in")
DATE_OPERATORS = ("before", "after", "on_or_before", "on_or_after")
FACT_OPERATORS = (*ENGINE_OPERATORS, "missing", *CODE_OPERATORS, *LIST_OPERATORS, *DATE_OPERATORS)
MEASURES = ("count", "days_between", "age_years", "count_lines", "sum")
LINE_FORMS = ("any_line", "all_lines", "other_line", "duplicate_lines")
# Table edits: the form, the kind of table it reads, and the line facts it reads.
TABLE_FORMS = {"pair_edit": "ncci-ptp", "unit_limit": "mue", "addon_without_primary": "addon"}
TABLE_FACTS = ("line.procedure", "line.modifiers", "line.units", "line.service_date")
OPERATORS = FACT_OPERATORS  # kept for callers listing what `fact:` takes
MAX_IN_VALUES = 32  # long $or lists hang durable_rules' create_ruleset: longer lists become code sets
_MEASURE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte")
_NEGATIVE = ("ne", "not_in", "not_in_set", "not_contains")


class ConditionError(ValueError):
    """A condition does not fit the language; the message names the path inside ``when``."""


@dataclass(frozen=True, slots=True)
class Compare:
    """A comparison durable_rules evaluates itself (scalar facts only)."""

    fact: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: "Condition"


@dataclass(frozen=True, slots=True)
class FactRef:
    """A value taken from another fact of the same record (``after: {fact: batch_date}``)."""

    fact: str


@dataclass(frozen=True, slots=True)
class Test:
    """One fact tested in a way the pre-pass computes: code sets, ranges, prefixes, lists, dates."""

    fact: str
    op: str
    value: Any  # CodeSet, (low, high), tuple of prefixes, frozenset, a value, an ordinal or a FactRef


@dataclass(frozen=True, slots=True)
class Measure:
    """A number computed from facts (a count, a span of days, an age, a sum over lines), compared."""

    measure: str
    args: tuple[Any, ...]
    op: str
    value: int


@dataclass(frozen=True, slots=True)
class Lines:
    """``any_line`` / ``all_lines`` / ``other_line`` (with ``same`` keys) / ``duplicate_lines`` (keys only)."""

    form: str
    condition: "Condition | None"
    same: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableEdit:
    """A line tested against a reference table the run is given (``pair_edit``, ``unit_limit``,
    ``addon_without_primary``); ``table`` is the table's name, ``bypass`` the modifiers that bypass a pair
    edit of indicator 1, ``edit_types`` the add-on edit types that count."""

    form: str
    table: str
    bypass: Any = frozenset()  # a frozenset of modifiers or a CodeSet
    edit_types: tuple[int, ...] = (1,)


Condition = Union[Compare, AllOf, AnyOf, Not, Test, Measure, Lines, TableEdit]
CONDITION_NODES = (Compare, AllOf, AnyOf, Not, Test, Measure, Lines, TableEdit)


@dataclass
class ParseContext:
    """What parsing a rule's condition needs besides the text: code sets by name; warnings found."""

    code_sets: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def code_set(self, name: Any, path: str) -> Any:
        sets = self.code_sets if self.code_sets is not None else _bundled_code_sets()
        if not isinstance(name, str) or name not in sets:
            raise ConditionError(f"{path}: unknown code set {name!r}{_did_you_mean(name, sets)}")
        return sets[name]


def _bundled_code_sets() -> dict[str, Any]:
    try:
        from scrubber.codesets.sets import bundled_code_sets
    except ImportError:  # pragma: no cover - the code-set module is part of the package
        return {}
    return dict(bundled_code_sets())


_SYNONYMS = {"equals": "eq", "equal": "eq", "not_equal": "ne", "not_equals": "ne", "greater_than": "gt", "less_than": "lt",
             "in_list": "in", "one_of": "in", "is_missing": "missing", "has": "contains", "set": "in_set", "range": "between"}


def _did_you_mean(name: Any, choices: Any) -> str:
    if not isinstance(name, str):
        return ""
    if _SYNONYMS.get(name) in choices:
        return f"; did you mean {_SYNONYMS[name]!r}?"
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def parse_condition(raw: Any, scope: str, path: str = "when", context: ParseContext | None = None) -> Condition:
    """``raw`` (the YAML ``when``) as a Condition, type-checked for a rule of ``scope`` (claim or line)."""
    context = context or ParseContext()
    return _parse(raw, scope, path, context)


def _parse(raw: Any, scope: str, path: str, context: ParseContext) -> Condition:
    if not isinstance(raw, dict):
        raise ConditionError(f"{path}: expected a mapping such as {{fact: ..., eq: ...}}, 'all', 'any' or 'not'; got {raw!r}")
    for key in ("all", "any"):
        if key in raw:
            if len(raw) != 1:
                raise ConditionError(f"{path}: '{key}' must stand alone, found keys {sorted(raw)}")
            items = raw[key]
            if not isinstance(items, list) or not items:
                raise ConditionError(f"{path}.{key}: expected a non-empty list")
            parsed = tuple(_parse(item, scope, f"{path}.{key}[{i}]", context) for i, item in enumerate(items))
            _warn_negations(parsed, path, context, guard=key == "all")
            return AllOf(parsed) if key == "all" else AnyOf(parsed)
    if "not" in raw:
        if len(raw) != 1:
            raise ConditionError(f"{path}: 'not' must stand alone, found keys {sorted(raw)}")
        return Not(_parse(raw["not"], scope, f"{path}.not", context))
    if "fact" in raw:
        condition = _parse_fact(raw, scope, path, context)
        if path == "when":  # a lone comparison; inside all/any the group warns, knowing the siblings
            _warn_negations((condition,), path, context, guard=True)
        return condition
    for measure in MEASURES:
        if measure in raw:
            return _parse_measure(measure, raw, scope, path, context)
    for form in LINE_FORMS:
        if form in raw:
            return _parse_lines(form, raw, scope, path, context)
    for form in TABLE_FORMS:
        if form in raw:
            return _parse_table_edit(form, raw, scope, path, context)
    keys = ", ".join(sorted(map(str, raw)))
    known = ("all", "any", "not", "fact", *MEASURES, *LINE_FORMS, *TABLE_FORMS)
    hint = "".join(_did_you_mean(str(key), known) for key in raw)[:200]
    raise ConditionError(f"{path}: no condition in {{{keys}}}: expected 'fact', one of {', '.join(known[3:])}, or all/any/not{hint}")


def _spec(name: Any, scope: str, path: str) -> FactSpec:
    if not isinstance(name, str):
        raise ConditionError(f"{path}: a fact name is text, got {name!r}")
    spec = FACTS.get(name)
    if spec is None:
        raise ConditionError(f"{path}: unknown fact {name!r}{_did_you_mean(name, FACTS)} (see `scrubber facts`)")
    if name.startswith("table."):
        form = name.removeprefix("table.")
        raise ConditionError(f"{path}: {name!r} is what a {form} table edit found, for messages; test {{{form}: ...}} itself")
    if spec.scope == "line" and scope != "line":
        raise ConditionError(
            f"{path}: {name!r} is a line fact; the rule's scope is {scope!r} (test lines with any_line/all_lines)"
        )
    return spec


def _parse_fact(raw: dict, scope: str, path: str, context: ParseContext) -> Condition:
    name = raw.get("fact")
    spec = _spec(name, scope, path)
    ops = [key for key in raw if key != "fact"]
    if len(ops) != 1 or ops[0] not in FACT_OPERATORS:
        hint = "".join(_did_you_mean(str(op), FACT_OPERATORS) for op in ops if op not in FACT_OPERATORS)
        raise ConditionError(f"{path}: expected exactly one operator of {', '.join(FACT_OPERATORS)}, found {ops}{hint}")
    op = ops[0]
    value = raw[op]
    where = f"{path}.{op}"
    if op in ("exists", "missing"):
        if not isinstance(value, bool):
            raise ConditionError(f"{where}: '{op}' takes true or false")
        if spec.kind == "list":
            raise ConditionError(f"{where}: {name!r} is a list, never missing; test it with count")
        return Compare(name, "exists", value if op == "exists" else not value)
    if op in LIST_OPERATORS:
        return _parse_list_test(name, spec, op, value, where, context)
    if spec.kind == "list":
        raise ConditionError(f"{where}: {name!r} is a list; use contains, any_in, all_in, none_in or count")
    if op in ("in_set", "not_in_set"):
        _require_kind(spec, ("text",), op, where)
        return Test(name, op, context.code_set(value, where))
    if op == "between":
        return Test(name, op, _range(spec, value, where))
    if op == "starts_with":
        _require_kind(spec, ("text",), op, where)
        prefixes = value if isinstance(value, list) else [value]
        if not prefixes or not all(isinstance(p, str) and p for p in prefixes):
            raise ConditionError(f"{where}: 'starts_with' takes a prefix or a list of prefixes (text)")
        return Test(name, op, tuple(prefixes))
    if op in DATE_OPERATORS:
        _require_kind(spec, ("date",), op, where)
        if isinstance(value, dict):
            other = _spec(value.get("fact"), scope, f"{where}.fact")
            _require_kind(other, ("date",), op, where)
            return Test(name, op, FactRef(other.name))
        return Test(name, op, _value(spec, value, where))
    if op in ORDERING and spec.kind not in ("integer", "money", "quantity", "date"):
        raise ConditionError(f"{where}: {op!r} compares numbers and dates; {name!r} is {spec.kind}")
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(f"{where}: {op!r} takes a non-empty list")
        if len(value) > MAX_IN_VALUES:
            raise ConditionError(f"{where}: {op!r} lists {len(value)} values (at most {MAX_IN_VALUES}); put them in a code set")
        return Compare(name, op, tuple(_value(spec, item, f"{where}[{i}]") for i, item in enumerate(value)))
    return Compare(name, op, _value(spec, value, where))


def _parse_list_test(name: str, spec: FactSpec, op: str, value: Any, where: str, context: ParseContext) -> Test:
    if spec.kind != "list":
        raise ConditionError(f"{where}: {op!r} tests a list; {name!r} is {spec.kind} (use eq, in or in_set)")
    item = FactSpec(name, str, spec.scope, "", "", spec.item_kind or "text")
    if op in ("contains", "not_contains"):
        return Test(name, op, _value(item, value, where))
    if isinstance(value, dict) and set(value) == {"set"}:
        return Test(name, op, context.code_set(value["set"], f"{where}.set"))
    if not isinstance(value, list) or not value:
        raise ConditionError(f"{where}: {op!r} takes a non-empty list of values, or {{set: NAME}}")
    return Test(name, op, frozenset(_value(item, v, f"{where}[{i}]") for i, v in enumerate(value)))


def _require_kind(spec: FactSpec, kinds: tuple[str, ...], op: str, where: str) -> None:
    if spec.kind not in kinds:
        raise ConditionError(f"{where}: {op!r} needs a {' or '.join(kinds)} fact; {spec.name!r} is {spec.kind}")


def _range(spec: FactSpec, value: Any, where: str) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise ConditionError(f"{where}: 'between' takes [LOW, HIGH]")
    if spec.kind == "text":
        low, high = (str(v) for v in value)  # codes may be written unquoted: [70551, 70553]
        if len(low) != len(high):
            raise ConditionError(f"{where}: bounds {low!r} and {high!r} differ in length (codes compare position by position)")
    else:
        low, high = (_value(spec, v, where) for v in value)
    if low > high:
        raise ConditionError(f"{where}: the low bound {value[0]!r} is above the high bound {value[1]!r}")
    return low, high


def _value(spec: FactSpec, value: Any, where: str) -> Any:
    """A value from rule text in the engines' units: cents, thousandths, date ordinals."""
    kind = spec.kind
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ConditionError(f"{where}: {spec.name!r} is boolean, but the value {value!r} is {type(value).__name__}")
        return value
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConditionError(f"{where}: {spec.name!r} is integer, but the value {value!r} is {type(value).__name__}")
        return value
    if kind in ("money", "quantity"):
        number = _decimal(value, spec, where)
        return cents(number) if kind == "money" else quantity(number)
    if kind == "date":
        if isinstance(value, dt.date):
            return value.toordinal()
        try:
            return dt.date.fromisoformat(str(value)).toordinal()
        except ValueError:
            raise ConditionError(f"{where}: {spec.name!r} is a date; write {value!r} as YYYY-MM-DD") from None
    if not isinstance(value, str):
        raise ConditionError(
            f"{where}: {spec.name!r} is text, but the value {value!r} is {type(value).__name__} (quote codes such as '01' in YAML)"
        )
    return value


def _decimal(value: Any, spec: FactSpec, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ConditionError(f"{where}: {spec.name!r} is {spec.kind}; {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConditionError(f"{where}: {spec.name!r} is {spec.kind}; {value!r} is not a number") from None
    if not number.is_finite():
        raise ConditionError(f"{where}: {value!r} is not a finite number")
    return number


def _comparison(raw: dict, keys: tuple[str, ...], path: str) -> tuple[str, int]:
    ops = [key for key in raw if key not in keys]
    if len(ops) != 1 or ops[0] not in _MEASURE_OPS:
        raise ConditionError(f"{path}: compare the measure with exactly one of {', '.join(_MEASURE_OPS)}, found {ops}")
    value = raw[ops[0]]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ConditionError(f"{path}.{ops[0]}: expected a number, got {value!r}")
    return ops[0], value


def _parse_measure(measure: str, raw: dict, scope: str, path: str, context: ParseContext) -> Measure:
    where = f"{path}.{measure}"
    if measure == "count":
        spec = _spec(raw["count"], scope, where)
        if spec.kind != "list":
            raise ConditionError(f"{where}: 'count' counts the items of a list fact; {spec.name!r} is {spec.kind}")
        op, value = _comparison(raw, ("count",), path)
        return Measure("count", (spec.name,), op, int(value))
    if measure == "days_between":
        pair = raw["days_between"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise ConditionError(f"{where}: takes [FROM_DATE_FACT, TO_DATE_FACT]")
        specs = [_spec(name, scope, f"{where}[{i}]") for i, name in enumerate(pair)]
        for spec in specs:
            _require_kind(spec, ("date",), "days_between", where)
        op, value = _comparison(raw, ("days_between",), path)
        return Measure("days_between", tuple(s.name for s in specs), op, int(value))
    if measure == "age_years":
        args = raw["age_years"]
        if not isinstance(args, dict) or set(args) != {"born", "at"}:  # not `on`: YAML reads it as true
            raise ConditionError(f"{where}: takes {{born: DATE_FACT, at: DATE_FACT}}")
        born, on = _spec(args["born"], scope, f"{where}.born"), _spec(args["at"], scope, f"{where}.at")
        for spec in (born, on):
            _require_kind(spec, ("date",), "age_years", where)
        op, value = _comparison(raw, ("age_years",), path)
        return Measure("age_years", (born.name, on.name), op, int(value))
    if measure == "count_lines":
        condition = _parse(raw["count_lines"], "line", where, context)
        op, value = _comparison(raw, ("count_lines",), path)
        return Measure("count_lines", (condition,), op, int(value))
    # sum
    spec = _spec(raw["sum"], "line", where)
    if spec.kind not in ("integer", "money", "quantity"):
        raise ConditionError(f"{where}: 'sum' adds numbers; {spec.name!r} is {spec.kind}")
    by = _keys(raw.get("by", []), f"{path}.by")
    condition = _parse(raw["where"], "line", f"{path}.where", context) if "where" in raw else None
    op, value = _comparison(raw, ("sum", "by", "where"), path)
    number = _value(spec, value, f"{path}.{op}") if spec.kind in ("money", "quantity") else int(value)
    return Measure("sum", (spec.name, by, condition), op, number)


def _keys(raw: Any, path: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise ConditionError(f"{path}: expected a list of line facts")
    return tuple(_spec(name, "line", f"{path}[{i}]").name for i, name in enumerate(raw))


def _parse_lines(form: str, raw: dict, scope: str, path: str, context: ParseContext) -> Lines:
    where = f"{path}.{form}"
    if form == "duplicate_lines":
        if len(raw) != 1:
            raise ConditionError(f"{path}: 'duplicate_lines' stands alone")
        keys = _keys(raw[form], where)
        if not keys:
            raise ConditionError(f"{where}: name the facts that make two lines duplicates")
        return Lines(form, None, keys)
    allowed = {form, "same"} if form == "other_line" else {form}
    extra = set(raw) - allowed
    if extra:
        raise ConditionError(f"{path}: unexpected keys {sorted(extra)} beside {form!r}")
    if form == "other_line" and scope != "line":
        raise ConditionError(f"{path}: 'other_line' compares with the line being checked: use it in a line rule")
    condition = _parse(raw[form], "line", where, context)
    same = _keys(raw.get("same", []), f"{path}.same")
    return Lines(form, condition, same)


def _parse_table_edit(form: str, raw: dict, scope: str, path: str, context: ParseContext) -> TableEdit:
    where = f"{path}.{form}"
    if len(raw) != 1:
        raise ConditionError(f"{path}: {form!r} stands alone (put its options inside it), found keys {sorted(raw)}")
    if scope != "line":
        raise ConditionError(f"{path}: {form!r} tests a service line against a table: use it in a line rule")
    options = raw[form]
    if isinstance(options, str):
        options = {"table": options}
    if not isinstance(options, dict):
        raise ConditionError(f"{where}: expected {{table: NAME, ...}}")
    allowed = {"table", "bypass_modifiers"} if form == "pair_edit" else {"table", "edit_types"} if form == "addon_without_primary" else {"table"}
    extra = set(options) - allowed
    if extra:
        hint = "".join(_did_you_mean(str(key), allowed) for key in extra)
        raise ConditionError(f"{where}: unexpected keys {sorted(map(str, extra))}; {form!r} takes {', '.join(sorted(allowed))}{hint}")
    table = options.get("table", TABLE_FORMS[form])
    if not isinstance(table, str) or not table:
        raise ConditionError(f"{where}.table: a table name (as configured with --table NAME=PATH), got {table!r}")
    bypass: Any = frozenset()
    if "bypass_modifiers" in options:
        value = options["bypass_modifiers"]
        if isinstance(value, dict) and set(value) == {"set"}:
            bypass = context.code_set(value["set"], f"{where}.bypass_modifiers.set")
        elif isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
            bypass = frozenset(value)
        else:
            raise ConditionError(f"{where}.bypass_modifiers: a list of modifiers (quoted: \"59\"), or {{set: NAME}}")
    edit_types: tuple[int, ...] = (1,)
    if "edit_types" in options:
        value = options["edit_types"]
        if not isinstance(value, list) or not value or any(item not in (1, 2, 3) or isinstance(item, bool) for item in value):
            raise ConditionError(f"{where}.edit_types: a list of add-on edit types (1, 2, 3), got {value!r}")
        edit_types = tuple(sorted(set(value)))
    return TableEdit(form, table, bypass, edit_types)


def tables_used(condition: Condition) -> set[str]:
    """The names of the reference tables a condition reads."""
    return {node.table for node in walk(condition) if isinstance(node, TableEdit)}


def _warn_negations(items: tuple[Condition, ...], path: str, context: ParseContext, guard: bool) -> None:
    """A negative test on a fact that can be missing says nothing about claims without it: warn, unless
    the same ``all`` tests that the fact exists (``guard``), or the same ``any`` accepts it missing."""
    guarded = {item.fact for item in items if isinstance(item, Compare) and item.op == "exists" and item.value is guard}
    for item in items:
        fact = getattr(item, "fact", None)
        if isinstance(item, (Compare, Test)) and item.op in _NEGATIVE and fact not in guarded:
            spec = FACTS.get(fact)
            if spec is not None and spec.optional and spec.kind != "list":
                message = (
                    f"{path}: {item.op!r} on {fact!r}, which a claim may not have, is false when it is missing; "
                    f"add {{fact: {fact}, exists: true}} to say so, or {{fact: {fact}, missing: true}} in an 'any'"
                )
                if message not in context.warnings:
                    context.warnings.append(message)


def walk(condition: Condition) -> list[Condition]:
    """Every node of ``condition``, depth first (nested line conditions included)."""
    nodes = [condition]
    if isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            nodes += walk(item)
    elif isinstance(condition, Not):
        nodes += walk(condition.item)
    elif isinstance(condition, Lines) and condition.condition is not None:
        nodes += walk(condition.condition)
    elif isinstance(condition, Measure):
        for arg in condition.args:
            if isinstance(arg, CONDITION_NODES):
                nodes += walk(arg)
    return nodes


def facts_used(condition: Condition) -> set[str]:
    """Every fact the condition reads, at any depth."""
    used: set[str] = set()
    for node in walk(condition):
        if isinstance(node, (Compare, Test)):
            used.add(node.fact)
            if isinstance(node, Test) and isinstance(node.value, FactRef):
                used.add(node.value.fact)
        elif isinstance(node, Measure):
            if node.measure in ("count", "days_between", "age_years"):
                used.update(node.args)
            elif node.measure == "sum":
                used.add(node.args[0])
                used.update(node.args[1])
        elif isinstance(node, Lines):
            used.update(node.same)
        elif isinstance(node, TableEdit):
            used.update(TABLE_FACTS)
    if any(isinstance(node, Test) and node.op in ("in_set", "not_in_set") for node in walk(condition)):
        used.add("line.service_date")  # dated code-set entries are judged on the date of service
    return used


def engine_native(condition: Condition) -> bool:
    """True when durable_rules evaluates ``condition`` itself (all/any of scalar comparisons)."""
    if isinstance(condition, Compare):
        return True
    if isinstance(condition, (AllOf, AnyOf)):
        return all(engine_native(item) for item in condition.items)
    return False


def to_data(condition: Condition) -> Any:
    """Back to a YAML/JSON-like form (for docs and JSON listings)."""
    if isinstance(condition, Compare):
        value = list(condition.value) if isinstance(condition.value, tuple) else condition.value
        if condition.op == "exists":
            return {"fact": condition.fact, "exists": value}
        return {"fact": condition.fact, condition.op: value}
    if isinstance(condition, (AllOf, AnyOf)):
        key = "all" if isinstance(condition, AllOf) else "any"
        return {key: [to_data(item) for item in condition.items]}
    if isinstance(condition, Not):
        return {"not": to_data(condition.item)}
    if isinstance(condition, Test):
        return {"fact": condition.fact, condition.op: _data_value(condition.value)}
    if isinstance(condition, Measure):
        args = [to_data(a) if isinstance(a, (Compare, AllOf, AnyOf, Not, Test, Measure, Lines)) else _data_value(a) for a in condition.args]
        return {condition.measure: args[0] if len(args) == 1 else args, condition.op: condition.value}
    if isinstance(condition, TableEdit):
        options: dict[str, Any] = {"table": condition.table}
        if condition.form == "pair_edit" and condition.bypass:
            options["bypass_modifiers"] = _data_value(condition.bypass)
        if condition.form == "addon_without_primary":
            options["edit_types"] = list(condition.edit_types)
        return {condition.form: options}
    data: dict[str, Any] = {condition.form: to_data(condition.condition) if condition.condition is not None else list(condition.same)}
    if condition.form == "other_line" and condition.same:
        data["same"] = list(condition.same)
    return data


def _data_value(value: Any) -> Any:
    if isinstance(value, FactRef):
        return {"fact": value.fact}
    if isinstance(value, (frozenset, tuple)):
        return sorted(value, key=str) if isinstance(value, frozenset) else list(value)
    name = getattr(value, "name", None)
    return {"set": name} if isinstance(name, str) else value


Predicate = Callable[..., bool]
