"""Property: the durable_rules engine and the plain-Python reference give identical hits, each once.

Random rule sets (any mix of operators, nested all/any, up to 70 rules so several 32-rule shards are
used) run over random batches of facts, with facts missing at random (the semantics most likely to
differ between engines).
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrubber.engine.durable import DurableEngine
from scrubber.engine.python import PythonEngine
from scrubber.facts import FACTS
from scrubber.rules.conditions import AllOf, AnyOf, Compare

# A few facts of each type are enough to explore the semantics; values come from small domains so
# that comparisons hit as often as they miss.
STR_FACTS = ["assignment", "payer_filing_indicator", "payer_sequence"]
INT_FACTS = ["charge_cents", "other_payer_count", "prior_payer_count"]
BOOL_FACTS = ["has_prior_auth", "related_cause_auto_accident", "has_medicaid_other_payer"]
LINE_FACTS = ["line_procedure", "line_charge_cents", "line_has_prior_auth"]
STR_VALUES = st.sampled_from(["A", "B", "C", "MB", "P", "S", "80053"])
INT_VALUES = st.integers(min_value=-2, max_value=3)
BOOL_VALUES = st.booleans()


def values_for(fact: str):
    kind = FACTS[fact].type
    return {str: STR_VALUES, int: INT_VALUES, bool: BOOL_VALUES}[kind]


@st.composite
def comparisons(draw, scope: str):
    names = STR_FACTS + INT_FACTS + BOOL_FACTS + (LINE_FACTS if scope == "line" else [])
    fact = draw(st.sampled_from(names))
    kind = FACTS[fact].type
    ops = ["eq", "ne", "in", "not_in", "exists"] + (["gt", "gte", "lt", "lte"] if kind is int else [])
    op = draw(st.sampled_from(ops))
    if op == "exists":
        return Compare(fact, op, draw(st.booleans()))
    if op in ("in", "not_in"):
        return Compare(fact, op, tuple(draw(st.lists(values_for(fact), min_size=1, max_size=4, unique=True))))
    return Compare(fact, op, draw(values_for(fact)))


def conditions(scope: str):
    return st.recursive(
        comparisons(scope),
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda items: AllOf(tuple(items))),
            st.lists(children, min_size=1, max_size=3).map(lambda items: AnyOf(tuple(items))),
        ),
        max_leaves=6,
    )


@st.composite
def rule_sets(draw):
    count = draw(st.integers(min_value=1, max_value=70))
    rules = []
    for number in range(count):
        scope = draw(st.sampled_from(["claim", "line"]))
        rules.append(SimpleNamespace(id=f"rule-{number}", scope=scope, condition=draw(conditions(scope))))
    return rules


@st.composite
def fact_batches(draw):
    facts = []
    for number in range(draw(st.integers(min_value=1, max_value=12))):
        kind = draw(st.sampled_from(["claim", "line"]))
        names = STR_FACTS + INT_FACTS + BOOL_FACTS + (LINE_FACTS if kind == "line" else [])
        fact = {"id": str(number), "kind": kind}
        for name in names:
            if draw(st.booleans()):  # leave about half of the facts out
                fact[name] = draw(values_for(name))
        facts.append(fact)
    return facts


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rules=rule_sets(), batches=st.lists(fact_batches(), min_size=1, max_size=3))
def test_durable_and_python_engines_give_identical_hits(rules, batches):
    durable, python = DurableEngine(rules), PythonEngine(rules)
    for facts in batches:  # several batches through one engine: retraction must leave nothing behind
        durable_hits = Counter(durable.evaluate(facts))
        python_hits = Counter(python.evaluate(facts))
        assert durable_hits == python_hits
        assert all(count == 1 for count in durable_hits.values())  # each (rule, fact) exactly once
