"""The condition language of rule files, parsed and type-checked against the fact catalog.

    when:
      all:
        - {fact: payer_filing_indicator, eq: MB}
        - any:
            - {fact: assignment, eq: C}
            - {fact: assignment, in: [B, C]}

Operators: eq, ne, in, not_in, gt, gte, lt, lte (integers only), exists (true/false).
Every comparison on a fact the record does not have is false (``ne`` and ``not_in`` included); only
``exists: false`` matches a missing fact. Both engines implement exactly these semantics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from scrubber.facts import FACTS

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists")
ORDERING = ("gt", "gte", "lt", "lte")
MAX_IN_VALUES = 32  # long $or lists hang durable_rules' create_ruleset: code sets become boolean facts


class ConditionError(ValueError):
    """A condition does not fit the language; the message names the path inside ``when``."""


@dataclass(frozen=True, slots=True)
class Compare:
    fact: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple["Condition", ...]


Condition = Union[Compare, AllOf, AnyOf]


def parse_condition(raw: Any, scope: str, path: str = "when") -> Condition:
    if not isinstance(raw, dict):
        raise ConditionError(f"{path}: expected a mapping with 'all', 'any' or 'fact', got {raw!r}")
    if "all" in raw or "any" in raw:
        if len(raw) != 1:
            raise ConditionError(f"{path}: 'all'/'any' must stand alone, found keys {sorted(raw)}")
        key = "all" if "all" in raw else "any"
        items = raw[key]
        if not isinstance(items, list) or not items:
            raise ConditionError(f"{path}.{key}: expected a non-empty list")
        parsed = tuple(parse_condition(item, scope, f"{path}.{key}[{i}]") for i, item in enumerate(items))
        return AllOf(parsed) if key == "all" else AnyOf(parsed)
    return _parse_compare(raw, scope, path)


def _parse_compare(raw: dict, scope: str, path: str) -> Compare:
    fact = raw.get("fact")
    if not isinstance(fact, str):
        raise ConditionError(f"{path}: a comparison needs 'fact: <name>'")
    spec = FACTS.get(fact)
    if spec is None:
        raise ConditionError(f"{path}: unknown fact {fact!r} (see `scrubber facts`)")
    if spec.scope == "line" and scope != "line":
        raise ConditionError(f"{path}: {fact!r} is a line fact; the rule's scope is {scope!r}")
    ops = [key for key in raw if key != "fact"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        raise ConditionError(f"{path}: expected exactly one operator of {', '.join(OPERATORS)}, found {ops}")
    op = ops[0]
    value = raw[op]
    if op == "exists":
        if not isinstance(value, bool):
            raise ConditionError(f"{path}: 'exists' takes true or false")
        return Compare(fact, op, value)
    if op in ORDERING and spec.type is not int:
        raise ConditionError(f"{path}: {op!r} compares numbers; {fact!r} is {spec.type.__name__}")
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ConditionError(f"{path}: {op!r} takes a non-empty list")
        if len(value) > MAX_IN_VALUES:
            raise ConditionError(
                f"{path}: {op!r} lists {len(value)} values (at most {MAX_IN_VALUES}); "
                "put a code set in a boolean fact instead"
            )
        for item in value:
            _check_type(item, spec.type, fact, path)
        return Compare(fact, op, tuple(value))
    _check_type(value, spec.type, fact, path)
    return Compare(fact, op, value)


def _check_type(value: Any, expected: type, fact: str, path: str) -> None:
    # bool is a subclass of int in Python: check it apart so `eq: 1` on a boolean fact is refused.
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConditionError(
            f"{path}: {fact!r} is {expected.__name__}, but the value {value!r} is {type(value).__name__}"
            + (" (quote codes such as '01' in YAML)" if expected is str else "")
        )


def facts_used(condition: Condition) -> set[str]:
    if isinstance(condition, Compare):
        return {condition.fact}
    return set().union(*(facts_used(item) for item in condition.items))


def to_data(condition: Condition) -> Any:
    """Back to the YAML/JSON form (for docs and JSON listings)."""
    if isinstance(condition, Compare):
        value = list(condition.value) if isinstance(condition.value, tuple) else condition.value
        return {"fact": condition.fact, condition.op: value}
    key = "all" if isinstance(condition, AllOf) else "any"
    return {key: [to_data(item) for item in condition.items]}
