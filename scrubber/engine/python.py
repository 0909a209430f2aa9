"""The reference evaluator: rule conditions compiled to plain Python closures."""

from __future__ import annotations

import operator
from typing import Any, Callable, Sequence

from scrubber.engine import Hit
from scrubber.rules.conditions import AllOf, AnyOf, Compare, Condition
from scrubber.rules.spec import RuleSpec

Predicate = Callable[[dict[str, Any]], bool]
_ORDER = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def compile_condition(condition: Condition) -> Predicate:
    if isinstance(condition, AllOf):
        parts = [compile_condition(item) for item in condition.items]
        return lambda fact: all(part(fact) for part in parts)
    if isinstance(condition, AnyOf):
        parts = [compile_condition(item) for item in condition.items]
        return lambda fact: any(part(fact) for part in parts)
    return _compile_compare(condition)


def _compile_compare(compare: Compare) -> Predicate:
    key, op, value = compare.fact, compare.op, compare.value
    # A missing fact fails every comparison (as in durable_rules); only `exists: false` matches it.
    if op == "exists":
        return (lambda fact: key in fact) if value else (lambda fact: key not in fact)
    if op == "eq":
        return lambda fact: key in fact and fact[key] == value
    if op == "ne":
        return lambda fact: key in fact and fact[key] != value
    if op == "in":
        allowed = frozenset(value)
        return lambda fact: key in fact and fact[key] in allowed
    if op == "not_in":
        refused = frozenset(value)
        return lambda fact: key in fact and fact[key] not in refused
    compare_values = _ORDER[op]
    return lambda fact: key in fact and compare_values(fact[key], value)


class PythonEngine:
    name = "python"

    def __init__(self, rules: Sequence[RuleSpec]):
        self._by_kind: dict[str, list[tuple[str, Predicate]]] = {"claim": [], "line": []}
        for rule in rules:
            self._by_kind[rule.scope].append((rule.id, compile_condition(rule.condition)))

    def evaluate(self, facts: Sequence[dict[str, Any]]) -> list[Hit]:
        hits: list[Hit] = []
        by_kind = self._by_kind
        for fact in facts:
            fact_id = fact["id"]
            for rule_id, predicate in by_kind[fact["kind"]]:
                if predicate(fact):
                    hits.append((rule_id, fact_id))
        return hits
