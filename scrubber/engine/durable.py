"""The durable_rules engine, driven through its C API (the only module that imports durable_rules).

Design §2 lists the traps this module avoids, each with a regression test in tests/test_durable_traps.py:
facts only (events are consumed by the first matching rule); a catch-all ``__seen__`` rule in every
ruleset (a batch where one fact matches nothing raises and fires nothing) and a check that every fact
was seen; at most 32 rules per ruleset (more than 64 matches on one fact is error 303); every rule
starts with a positive ``kind`` guard; no long ``$or`` lists; facts retracted after every batch; no
``engine.Host`` (its timer threads run actions concurrently); and one more found by our property test:
a rule fires once per satisfied ``$or`` branch, so hits are de-duplicated per (rule, fact).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from typing import Any, Mapping, Sequence

from scrubber.engine import EngineUnavailable, Hit
from scrubber.rules.conditions import AllOf, AnyOf, Compare, Condition, engine_native, facts_used
from scrubber.rules.evaluate import ClaimFacts, Predicate, compile_condition as compile_predicate, group_by_claim
from scrubber.rules.spec import RuleSpec

try:
    import durable_rules_engine as _engine
except Exception as error:  # noqa: BLE001 - on Python 3.13 the C module fails in several ways
    raise EngineUnavailable(f"durable_rules cannot be imported ({error})") from error

RULES_PER_RULESET = 32
SEEN = "__seen__"
_names = itertools.count()
# durable_rules keeps global state in C; findings cross between threads, so one call at a time.
_lock = threading.Lock()

_ORDER_OPERATORS = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}


def key(name: str) -> str:
    """A fact name as a durable_rules key: model paths (``payer.filing_indicator``) lose their dots."""
    return name.replace(".", "__")


def lower(
    condition: Condition, prefix: str, tables: Mapping[str, Any] | None = None
) -> tuple[Condition, list[tuple[str, Predicate]]]:
    """``condition`` as durable_rules can evaluate it, plus the pre-pass facts it then reads.

    Plain comparisons and all/any over them stay; every other part (code sets, lists, dates, cross-line
    conditions, ``not``) becomes a boolean fact named ``<prefix><n>``, computed by the pre-pass from the
    rule's own text, and tested with ``eq: true``. durable_rules still decides the rule."""
    prepass: list[tuple[str, Predicate]] = []

    def visit(node: Condition) -> Condition:
        if isinstance(node, Compare):
            return node
        if isinstance(node, (AllOf, AnyOf)) and not engine_native(node):
            return type(node)(tuple(visit(item) for item in node.items))
        if engine_native(node):
            return node
        name = f"{prefix}{len(prepass)}"
        prepass.append((name, compile_predicate(node, tables)))
        return Compare(name, "eq", True)

    return visit(condition), prepass


def prepass_guard(condition: Condition) -> Predicate | None:
    """The plain comparisons a rule's top-level ``all`` requires, as a predicate: where they fail, the
    rule cannot fire whatever its pre-pass facts say, so the pre-pass need not compute them (they are set
    false; durable_rules still evaluates the whole rule)."""
    if not isinstance(condition, AllOf):
        return None
    native = tuple(item for item in condition.items if engine_native(item))
    return compile_predicate(AllOf(native)) if native else None


def compile_condition(condition: Condition) -> dict[str, Any]:
    """A lowered condition in durable_rules' JSON expression form."""
    if isinstance(condition, AllOf):
        return {"$and": [compile_condition(item) for item in condition.items]}
    if isinstance(condition, AnyOf):
        return {"$or": [compile_condition(item) for item in condition.items]}
    return _compile_compare(condition)


def _compile_compare(compare: Compare) -> dict[str, Any]:
    name, op, value = key(compare.fact), compare.op, compare.value
    if op == "exists":
        return {"$ex" if value else "$nex": {name: 1}}
    if op == "eq":
        return {name: value}
    if op == "ne":
        return {"$neq": {name: value}}
    if op == "in":
        return {"$or": [{name: item} for item in value]}
    if op == "not_in":
        return {"$and": [{"$neq": {name: item}} for item in value]}
    return {_ORDER_OPERATORS[op]: {name: value}}


def lower_all(
    rules: Sequence[RuleSpec], offset: int = 0, tables: Mapping[str, Any] | None = None
) -> list[tuple[Condition, list[tuple[str, Predicate]]]]:
    """Each rule lowered, its pre-pass facts named after its position among all rules (``_s<n>_``)."""
    return [lower(rule.condition, f"_s{offset + number}_", tables) for number, rule in enumerate(rules)]


def compile_ruleset(
    rules: Sequence[RuleSpec], offset: int = 0, lowered: Sequence[tuple[Condition, Any]] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """One durable_rules ruleset definition for up to 32 rules, plus the map rule name → rule id.

    ``lowered``: the rules as ``lower_all(rules, offset)`` gives them, when the caller has them already."""
    if len(rules) > RULES_PER_RULESET:
        raise ValueError(f"at most {RULES_PER_RULESET} rules per ruleset, got {len(rules)}")
    lowered = lowered if lowered is not None else lower_all(rules, offset)
    definition: dict[str, Any] = {}
    names: dict[str, str] = {}
    for number, (rule, (condition, _)) in enumerate(zip(rules, lowered)):
        name = f"r{number}"
        names[name] = rule.id
        # The positive `kind` guard first: a rule of negations alone matches the engine's state fact.
        expression = {"$and": [{"kind": rule.scope}, compile_condition(condition)]}
        definition[name] = {"all": [{"m": expression}]}
    definition[SEEN] = {"all": [{"m": {"$ex": {"kind": 1}}}]}
    return definition, names


# A message is {"<rule>":{"m":{"id": "<fact id>", ...}}}, echoing our JSON with "id" first; reading
# the two names with a regex instead of json.loads halves the per-action cost. Anything else is parsed.
_MESSAGE = re.compile(r'\{"([^"]+)":\{"m":\{"id": ?"([^"\\]*)"')


def _parse_message(message: str) -> list[tuple[str, str]]:
    match = _MESSAGE.match(message)
    if match is not None and message.count('"m":') == 1:
        return [(match.group(1), match.group(2))]
    return [(name, matched["m"]["id"]) for name, matched in json.loads(message).items()]


def _compute(rules: list[tuple[Predicate | None, list[tuple[str, Predicate]]]], fact: dict[str, Any],
             claim: ClaimFacts, index: int | None) -> None:
    """Set the pre-pass facts that are true. A false one is left out: the lowered rules test each with
    ``eq: true``, which a missing fact fails as a false one does, and a third of the JSON sent to the engine
    was ``false``s."""
    for guard, prepass in rules:
        if guard is not None and not guard(fact, claim, index):
            continue  # the rule's plain comparisons already fail: its pre-pass facts stay out (false)
        for name, predicate in prepass:
            if predicate(fact, claim, index):
                fact[name] = True


class DurableEngine:
    name = "durable"

    def __init__(self, rules: Sequence[RuleSpec], tables: Mapping[str, Any] | None = None):
        # Per shard: the scope of its rules, the C handle, rule names, and the fact keys its rules read.
        # A shard holds rules of one scope and is sent only facts of that kind (a claim rule never looks
        # at a line fact), so each fact is asserted once per shard of its kind, not once per shard; and
        # only the keys its rules read (facts carry ~50), which cuts JSON encoding and the engine's
        # message decoding several-fold.
        self._shards: list[tuple[str, int, dict[str, str], tuple[tuple[str, str], ...]]] = []
        # The pre-pass: per scope, the boolean facts lowered rules read, each with its predicate.
        self._prepass: dict[str, list[tuple[Predicate | None, list[tuple[str, Predicate]]]]] = {"claim": [], "line": []}
        offset = 0  # rules lowered so far: pre-pass fact names stay unique across shards
        for scope in ("claim", "line"):
            scoped = [rule for rule in rules if rule.scope == scope]
            for start in range(0, len(scoped), RULES_PER_RULESET):
                shard = scoped[start : start + RULES_PER_RULESET]
                shard_lowered = lower_all(shard, offset, tables)
                definition, names = compile_ruleset(shard, offset, shard_lowered)
                offset += len(shard)
                handle = _engine.create_ruleset(f"scrubber{next(_names)}", json.dumps(definition))
                read: set[str] = set()
                for rule, (lowered, prepass) in zip(shard, shard_lowered):
                    if prepass:
                        self._prepass[scope].append((prepass_guard(rule.condition), prepass))
                    read |= facts_used(lowered)
                names_read = ("id", "kind", *sorted(read - {"id", "kind"}))
                self._shards.append((scope, handle, names, tuple((name, key(name)) for name in names_read)))

    def evaluate(self, facts: Sequence[dict[str, Any]]) -> list[Hit]:
        if not facts:
            return []
        if len({fact["id"] for fact in facts}) != len(facts):
            raise ValueError("fact ids must be unique within a batch")
        self._run_prepass(facts)
        hits: list[Hit] = []
        by_kind = {scope: [fact for fact in facts if fact["kind"] == scope] for scope in ("claim", "line")}
        # Retraction identifies a fact by its id alone (measured: state empties, memory stays flat).
        retractions = {scope: json.dumps([{"id": fact["id"]} for fact in kind]) for scope, kind in by_kind.items()}
        with _lock:
            for scope, handle, names, keys in self._shards:
                sent = by_kind[scope]
                if not sent:
                    continue
                payload = json.dumps([{safe: fact[name] for name, safe in keys if name in fact} for fact in sent])
                seen = self._run_shard(handle, names, payload, retractions[scope], hits)
                expected = {fact["id"] for fact in sent}
                if seen != expected:
                    missing = sorted(expected - seen)[:5]
                    raise RuntimeError(f"durable_rules did not see facts {missing}: findings would be lost")
        # The Rete network fires once per satisfied branch of an `$or` (measured): keep one hit per pair.
        return list(dict.fromkeys(hits))

    def _run_prepass(self, facts: Sequence[dict[str, Any]]) -> None:
        """Compute the boolean facts of the lowered rules on each claim and line fact."""
        claim_prepass, line_prepass = self._prepass["claim"], self._prepass["line"]
        if not claim_prepass and not line_prepass:
            return
        for claim in group_by_claim(facts):
            if claim.has_claim:
                _compute(claim_prepass, claim.claim, claim, None)
            for index, line in enumerate(claim.lines):
                _compute(line_prepass, line, claim, index)

    @staticmethod
    def _run_shard(handle: int, names: dict[str, str], payload: str, retraction: str, hits: list[Hit]) -> set[str]:
        seen: set[str] = set()
        state_handle = None
        try:
            result = _engine.assert_facts(handle, payload)
            state_handle = result[1]
            started = _engine.start_action_for_state(handle, state_handle)
            message = started[1] if started else None
            while message:
                for name, fact_id in _parse_message(message):
                    if name == SEEN:
                        seen.add(fact_id)
                    else:
                        hits.append((names[name], fact_id))
                message = _engine.complete_and_start_action(handle, state_handle)
        except BaseException:
            if state_handle is not None:
                try:
                    _engine.abandon_action(handle, state_handle)  # else the state stays locked for 30 s
                except Exception:  # noqa: BLE001 - nothing was in flight
                    pass
            raise
        finally:
            _engine.retract_facts(handle, retraction)
        return seen
