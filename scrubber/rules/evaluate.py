"""Conditions compiled to Python closures over the facts of one claim.

A predicate is ``predicate(fact, claim, index) -> bool``: ``fact`` is the record under test (the claim
fact, or one line fact), ``claim`` the facts of its whole claim (``ClaimFacts``), ``index`` the position of
the line under test (None for a claim fact). The reference engine evaluates whole rules with it; the
durable_rules engine uses it as its pre-pass for the parts of a rule that are not plain comparisons
(code sets, lists, dates, cross-line conditions), then decides the rule itself. The semantics, missing
values included, are the ones ``rules.conditions`` documents.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from scrubber.rules.conditions import AllOf, AnyOf, Compare, Condition, FactRef, Lines, Measure, Not, TableEdit, Test

Predicate = Callable[[dict[str, Any], "ClaimFacts", "int | None"], bool]
_ORDER = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le, "eq": operator.eq, "ne": operator.ne}
_DATE_ORDER = {"before": operator.lt, "after": operator.gt, "on_or_before": operator.le, "on_or_after": operator.ge}
SERVICE_DATE = "line.service_date"


@dataclass(slots=True)
class ClaimFacts:
    """The facts of one claim: its claim fact and its line facts, in line order."""

    claim: dict[str, Any]
    lines: list[dict[str, Any]]
    has_claim: bool = True  # False: line facts fed without their claim fact (engine tests)
    # per ``same``/``by`` keys: each line's key (``_key``), computed once per claim, not once per pair of lines
    line_keys: dict[tuple[str, ...], list[tuple | None]] = field(default_factory=dict)

    def keys_of_lines(self, keys: tuple[str, ...]) -> list[tuple | None]:
        found = self.line_keys.get(keys)
        if found is None:
            found = self.line_keys[keys] = [_key(line, keys) for line in self.lines]
        return found

    def key_of(self, fact: dict[str, Any], index: int | None, keys: tuple[str, ...]) -> tuple | None:
        """The key of the record under test: its line's, remembered, when it is line ``index`` of this claim."""
        if index is not None and self.lines[index] is fact:
            return self.keys_of_lines(keys)[index]
        return _key(fact, keys)


def group_by_claim(facts: Sequence[dict[str, Any]]) -> Iterator[ClaimFacts]:
    """Split a batch (claim fact ``k`` then its lines ``k.0``, ``k.1``, ...) into claims."""
    current: ClaimFacts | None = None
    for fact in facts:
        if fact["kind"] == "claim":
            if current is not None:
                yield current
            current = ClaimFacts(fact, [])
        elif current is not None and fact["id"].startswith(current.claim["id"] + "."):
            current.lines.append(fact)
        else:  # a line fact without its claim fact (engine tests feed bare facts): a claim of its own
            if current is not None:
                yield current
            current = ClaimFacts({"id": fact["id"].split(".")[0], "kind": "claim"}, [fact], has_claim=False)
    if current is not None:
        yield current


def compile_condition(condition: Condition, tables: Mapping[str, Any] | None = None) -> Predicate:
    """``condition`` as a predicate; ``tables``: the reference tables the run has, by name (a table edit
    whose table is not there is false: the rule says nothing)."""
    tables = tables if tables is not None else {}
    if isinstance(condition, AllOf):
        return _every([compile_condition(item, tables) for item in condition.items])
    if isinstance(condition, AnyOf):
        return _some([compile_condition(item, tables) for item in condition.items])
    if isinstance(condition, Not):
        inner = compile_condition(condition.item, tables)
        return lambda fact, claim, index: not inner(fact, claim, index)
    if isinstance(condition, Compare):
        return _compare(condition)
    if isinstance(condition, Test):
        return _test(condition)
    if isinstance(condition, Measure):
        return _measure(condition, tables)
    if isinstance(condition, Lines):
        return _lines(condition, tables)
    if isinstance(condition, TableEdit):
        from scrubber.rules.table_edits import compile_table_edit

        return compile_table_edit(condition, tables.get(condition.table))
    raise TypeError(f"not a condition: {condition!r}")


# ``all`` / ``any`` as plain loops (and two parts inline): a generator per call cost a fifth of the pre-pass.
# Both give True or False, never another truthy value, as ``all`` and ``any`` did.
def _every(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda fact, claim, index: True if first(fact, claim, index) and second(fact, claim, index) else False

    def every(fact: dict[str, Any], claim: ClaimFacts, index: int | None) -> bool:
        for part in parts:
            if not part(fact, claim, index):
                return False
        return True

    return every


def _some(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda fact, claim, index: True if first(fact, claim, index) or second(fact, claim, index) else False

    def some(fact: dict[str, Any], claim: ClaimFacts, index: int | None) -> bool:
        for part in parts:
            if part(fact, claim, index):
                return True
        return False

    return some


def _compare(compare: Compare) -> Predicate:
    key, op, value = compare.fact, compare.op, compare.value
    # A missing fact fails every comparison (as in durable_rules); only `exists: false` matches it.
    if op == "exists":
        return (lambda fact, claim, index: key in fact) if value else (lambda fact, claim, index: key not in fact)
    if op == "in":
        allowed = frozenset(value)
        return lambda fact, claim, index: key in fact and fact[key] in allowed
    if op == "not_in":
        refused = frozenset(value)
        return lambda fact, claim, index: key in fact and fact[key] not in refused
    compare_values = _ORDER[op]
    return lambda fact, claim, index: key in fact and compare_values(fact[key], value)


def _on(fact: dict[str, Any]) -> dt.date | None:
    ordinal = fact.get(SERVICE_DATE)
    return dt.date.fromordinal(ordinal) if ordinal is not None else None


def _member(values: Any) -> Callable[[Any, dict[str, Any]], bool]:
    """Membership in a literal set of values, or in a code set judged on the line's date of service."""
    if isinstance(values, frozenset):
        return lambda item, fact: item in values
    return _set_member(values)


_MEMO_LIMIT = 100_000  # answers remembered per code set test (codes repeat a lot across claims)


def _set_member(code_set: Any) -> Callable[[Any, dict[str, Any]], bool]:
    """``code_set.contains`` remembered per code, and per date only when the set has dated entries."""
    memo: dict[Any, bool] = {}
    dated = bool(getattr(code_set, "entries", True))

    def member(code: Any, fact: dict[str, Any]) -> bool:
        key = (code, fact.get(SERVICE_DATE)) if dated else code
        found = memo.get(key)
        if found is None:
            found = code_set.contains(code, _on(fact))
            if len(memo) < _MEMO_LIMIT:
                memo[key] = found
        return found

    return member


def _test(test: Test) -> Predicate:
    key, op, value = test.fact, test.op, test.value
    if op in ("in_set", "not_in_set"):
        wanted = op == "in_set"
        member = _set_member(value)
        return lambda fact, claim, index: key in fact and member(fact[key], fact) == wanted
    if op == "between":
        low, high = value
        if isinstance(low, str):
            size = len(low)
            return lambda fact, claim, index: key in fact and len(fact[key]) == size and low <= fact[key] <= high
        return lambda fact, claim, index: key in fact and low <= fact[key] <= high
    if op == "starts_with":
        prefixes = tuple(value)
        return lambda fact, claim, index: key in fact and fact[key].startswith(prefixes)
    if op == "contains":
        return lambda fact, claim, index: value in fact.get(key, ())
    if op == "not_contains":
        return lambda fact, claim, index: value not in fact.get(key, ())
    if op in ("any_in", "all_in", "none_in"):
        if isinstance(value, frozenset):  # a literal list: set operations (list facts hold strings)
            if op == "any_in":
                return lambda fact, claim, index: not value.isdisjoint(fact.get(key, ()))
            if op == "none_in":
                return lambda fact, claim, index: value.isdisjoint(fact.get(key, ()))
            return lambda fact, claim, index: bool(fact.get(key)) and value.issuperset(fact[key])
        member = _member(value)
        if op == "any_in":
            return lambda fact, claim, index: any(member(item, fact) for item in fact.get(key, ()))
        if op == "none_in":
            return lambda fact, claim, index: not any(member(item, fact) for item in fact.get(key, ()))
        return lambda fact, claim, index: bool(fact.get(key)) and all(member(item, fact) for item in fact[key])
    order = _DATE_ORDER[op]
    if isinstance(value, FactRef):
        other = value.fact
        return lambda fact, claim, index: key in fact and other in fact and order(fact[key], fact[other])
    return lambda fact, claim, index: key in fact and order(fact[key], value)


def age_in_years(born: int, on: int) -> int:
    """Whole years from the ordinal ``born`` to the ordinal ``on`` (a birthday counts on its day)."""
    start, end = dt.date.fromordinal(born), dt.date.fromordinal(on)
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


_ABSENT = object()


def _key(fact: dict[str, Any], keys: tuple[str, ...]) -> tuple | None:
    """The values of ``keys`` (lists as sorted tuples: modifiers in any order), or None if one is missing."""
    values = []
    for name in keys:
        value = fact.get(name, _ABSENT)
        if value is _ABSENT:
            return None
        if value.__class__ is list:
            value = tuple(value) if len(value) < 2 else tuple(sorted(value, key=str))
        values.append(value)
    return tuple(values)


def _measure(measure: Measure, tables: Mapping[str, Any]) -> Predicate:
    compare_values, target = _ORDER[measure.op], measure.value
    kind = measure.measure
    if kind == "count":
        (key,) = measure.args
        return lambda fact, claim, index: compare_values(len(fact.get(key, ())), target)
    if kind in ("days_between", "age_years"):
        first, second = measure.args
        span = (lambda a, b: b - a) if kind == "days_between" else age_in_years
        return lambda fact, claim, index: (
            first in fact and second in fact and compare_values(span(fact[first], fact[second]), target)
        )
    if kind == "count_lines":
        inner = compile_condition(measure.args[0], tables)
        return lambda fact, claim, index: compare_values(
            sum(1 for j, line in enumerate(claim.lines) if inner(line, claim, j)), target
        )
    key, by, where = measure.args
    where_predicate = compile_condition(where, tables) if where is not None else None

    def counted(claim: ClaimFacts) -> Iterable[tuple[int, dict[str, Any]]]:
        for j, line in enumerate(claim.lines):
            if where_predicate is None or where_predicate(line, claim, j):
                yield j, line

    def summed(fact: dict[str, Any], claim: ClaimFacts, index: int | None) -> bool:
        if index is not None:  # a line: the total over the lines sharing its `by` values
            own = claim.key_of(fact, index, by)
            keys = claim.keys_of_lines(by)
            total = sum(line.get(key, 0) for j, line in counted(claim) if (j == index if own is None else keys[j] == own))
            return compare_values(total, target)
        totals: dict[Any, int] = {}
        keys = claim.keys_of_lines(by)
        for j, line in counted(claim):
            group = keys[j]
            group = ("alone", j) if group is None else group
            totals[group] = totals.get(group, 0) + line.get(key, 0)
        return any(compare_values(total, target) for total in totals.values())

    return summed


def _lines(lines: Lines, tables: Mapping[str, Any]) -> Predicate:
    form, same = lines.form, lines.same
    if form == "duplicate_lines":

        def duplicate(fact: dict[str, Any], claim: ClaimFacts, index: int | None) -> bool:
            keys = claim.keys_of_lines(same)
            if index is not None:
                own = claim.key_of(fact, index, same)
                if own is None:
                    return False
                for j, other in enumerate(keys):
                    if j != index and other == own:
                        return True
                return False
            seen = set()
            for key in keys:
                if key is not None:
                    if key in seen:
                        return True
                    seen.add(key)
            return False

        return duplicate
    inner = compile_condition(lines.condition, tables)
    if form == "any_line":

        def any_line(fact: dict[str, Any], claim: ClaimFacts, index: int | None) -> bool:
            for j, line in enumerate(claim.lines):
                if inner(line, claim, j):
                    return True
            return False

        return any_line
    if form == "all_lines":

        def all_lines(fact: dict[str, Any], claim: ClaimFacts, index: int | None) -> bool:
            if not claim.lines:
                return False
            for j, line in enumerate(claim.lines):
                if not inner(line, claim, j):
                    return False
            return True

        return all_lines

    def other_line(fact: dict[str, Any], claim: ClaimFacts, index: int | None) -> bool:
        if same:
            keys = claim.keys_of_lines(same)
            own = claim.key_of(fact, index, same)
            if own is None:
                return False
            for j, line in enumerate(claim.lines):
                if j != index and keys[j] == own and inner(line, claim, j):
                    return True
            return False
        for j, line in enumerate(claim.lines):
            if j != index and inner(line, claim, j):
                return True
        return False

    return other_line


def trace(
    condition: Condition, fact: dict[str, Any], claim: ClaimFacts, index: int | None, depth: int = 0,
    tables: Mapping[str, Any] | None = None,
) -> list[str]:
    """Each part of ``condition`` with its verdict on ``fact``, indented as the rule text nests (for
    ``scrubber test --trace``): a false part shows which fact values made it false."""
    from scrubber.rules.conditions import to_data

    verdict = compile_condition(condition, tables)(fact, claim, index)
    mark = "true " if verdict else "FALSE"
    pad = "  " * depth
    if isinstance(condition, (AllOf, AnyOf, Not)):
        head = {AllOf: "all", AnyOf: "any", Not: "not"}[type(condition)]
        lines = [f"{pad}{mark} {head}:"]
        items = condition.items if not isinstance(condition, Not) else (condition.item,)
        for item in items:
            lines += trace(item, fact, claim, index, depth + 1, tables)
        return lines
    from scrubber.rules.spec import show

    text = _short(_readable(condition, to_data(condition)))
    seen = ""
    name = getattr(condition, "fact", None)
    if isinstance(name, str):
        seen = f"   <- {name} = {show(name, fact[name])}" if name in fact else f"   <- {name} is missing"
    elif isinstance(condition, Measure) and condition.measure == "sum":
        seen = f"   <- this line's {condition.args[0]} = {show(condition.args[0], fact.get(condition.args[0], 0))}"
    return [f"{pad}{mark} {text}{seen}"]


def _readable(condition: Condition, data: Any) -> Any:
    """Rule-text values back in the units people write: dollars, units, dates."""
    from scrubber.rules.spec import show

    if isinstance(condition, (Compare, Test)) and isinstance(data, dict):
        op = condition.op
        value = condition.value
        if isinstance(value, int) and not isinstance(value, bool):
            data[op] = show(condition.fact, value)
        elif isinstance(value, tuple) and op in ("in", "not_in"):
            data[op] = [show(condition.fact, item) for item in value]
    elif isinstance(condition, Measure) and condition.measure == "sum":
        key, by, _ = condition.args
        data = {"sum": key, "by": list(by), condition.op: show(key, condition.value)}
    return data


def _short(data: Any) -> str:
    import json

    text = json.dumps(data, default=str)
    return text if len(text) <= 160 else text[:157] + "..."
