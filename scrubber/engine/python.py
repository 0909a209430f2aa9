"""The reference evaluator: whole rule conditions compiled to plain Python closures (``rules.evaluate``).

It evaluates every part of a rule itself (code sets, lists, cross-line conditions included), so the
property test comparing it with the durable_rules engine (which evaluates plain comparisons itself and the
rest through the pre-pass) checks the lowering as well as the engine.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from scrubber.engine import Hit
from scrubber.rules.evaluate import Predicate, compile_condition, group_by_claim
from scrubber.rules.spec import RuleSpec

__all__ = ["PythonEngine", "compile_condition"]


class PythonEngine:
    name = "python"

    def __init__(self, rules: Sequence[RuleSpec], tables: Mapping[str, Any] | None = None):
        self._by_kind: dict[str, list[tuple[str, Predicate]]] = {"claim": [], "line": []}
        for rule in rules:
            self._by_kind[rule.scope].append((rule.id, compile_condition(rule.condition, tables)))

    def evaluate(self, facts: Sequence[dict[str, Any]]) -> list[Hit]:
        hits: list[Hit] = []
        claim_rules, line_rules = self._by_kind["claim"], self._by_kind["line"]
        for claim in group_by_claim(facts):
            header = claim.claim
            if claim_rules and claim.has_claim:
                for rule_id, predicate in claim_rules:
                    if predicate(header, claim, None):
                        hits.append((rule_id, header["id"]))
            for index, line in enumerate(claim.lines):
                for rule_id, predicate in line_rules:
                    if predicate(line, claim, index):
                        hits.append((rule_id, line["id"]))
        return hits
