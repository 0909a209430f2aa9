"""Property: over random claims, random rules using every operator of the language give the same hits
in the durable_rules engine (plain comparisons in the engine, the rest through the pre-pass) and in the
Python reference engine (everything evaluated directly).

Rules are written as rule text (the YAML form) and parsed, so the parser, the lowering, the pre-pass,
durable_rules and the reference evaluator are all exercised; claims come from the writer's strategies.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrubber.engine.durable import DurableEngine
from scrubber.engine.python import PythonEngine
from scrubber.facts import claim_facts
from scrubber.rules.conditions import ParseContext, parse_condition
from scrubber.rules.evaluate import age_in_years

from strategies import claim_batches  # tests/ is on sys.path, as for conftest


class PlacesSet:
    """A code set standing in for a bundled one: office and telehealth places, 02 only from 2025-06-01."""

    name = "test-places"

    def contains(self, code: str, on: dt.date | None = None) -> bool:
        if code == "02":
            return on is None or on >= dt.date(2025, 6, 1)
        return code in ("11", "10")


CONTEXT_SETS = {"test-places": PlacesSet()}
CODES = ["F329", "I10", "Z0000", "E119", "S52521A"]
MODIFIERS = ["25", "59", "GT", "95"]


def claim_leaves() -> st.SearchStrategy[dict]:
    return st.one_of(
        st.builds(lambda op, v: {"fact": "payer.filing_indicator", op: v}, st.sampled_from(["eq", "ne"]), st.sampled_from(["MB", "CI", "MC"])),
        st.builds(lambda v: {"fact": "payer.filing_indicator", "in": v}, st.lists(st.sampled_from(["MB", "CI", "HM"]), min_size=1, max_size=2, unique=True)),
        st.builds(lambda op, v: {"fact": "total_charge", op: v}, st.sampled_from(["gt", "lte", "eq"]), st.sampled_from([0, 50, 100.5, 500, "1000.00"])),
        st.builds(lambda v: {"fact": "assignment", "exists": v}, st.booleans()),
        st.builds(lambda v: {"fact": "frequency", "missing": v}, st.booleans()),
        st.builds(lambda op, v: {"fact": "diagnosis_codes", op: v}, st.sampled_from(["any_in", "all_in", "none_in"]), st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True)),
        st.builds(lambda op, v: {"fact": "diagnosis_codes", op: v}, st.sampled_from(["contains", "not_contains"]), st.sampled_from(CODES)),
        st.builds(lambda op, n: {"count": "diagnosis_codes", op: n}, st.sampled_from(["gt", "eq", "lte"]), st.integers(0, 4)),
        st.builds(lambda op, d: {"fact": "subscriber.birth_date", op: d}, st.sampled_from(["before", "after", "on_or_before"]), st.dates(dt.date(1930, 1, 1), dt.date(2020, 1, 1))),
        st.builds(lambda n: {"days_between": ["subscriber.birth_date", "batch_date"], "gt": n}, st.integers(0, 40000)),
        st.builds(lambda op: {"fact": "place_of_service", op: "test-places"}, st.sampled_from(["in_set", "not_in_set"])),
        st.builds(lambda p: {"fact": "claim_id", "starts_with": p}, st.lists(st.sampled_from(["A", "B", "0", "z"]), min_size=1, max_size=2)),
        st.builds(lambda n: {"sum": "line.units", "by": ["line.procedure"], "gt": n}, st.integers(0, 6)),
        st.builds(lambda keys: {"duplicate_lines": keys}, st.sampled_from([["line.procedure"], ["line.procedure", "line.service_date"], ["line.procedure", "line.modifiers"]])),
    )


def line_leaves() -> st.SearchStrategy[dict]:
    return st.one_of(
        claim_leaves(),
        st.builds(lambda op, v: {"fact": "line.procedure", op: v}, st.sampled_from(["eq", "ne"]), st.sampled_from(["99213", "80053", "97110"])),
        st.builds(lambda lo, hi: {"fact": "line.procedure", "between": [lo, hi]}, st.sampled_from(["80000", "90000", "99202"]), st.sampled_from(["99215", "99999"])),
        st.builds(lambda op, v: {"fact": "line.modifiers", op: v}, st.sampled_from(["any_in", "none_in", "all_in"]), st.lists(st.sampled_from(MODIFIERS), min_size=1, max_size=2, unique=True)),
        st.builds(lambda op, v: {"fact": "line.modifiers", op: v}, st.sampled_from(["contains", "not_contains"]), st.sampled_from(MODIFIERS)),
        st.builds(lambda op: {"fact": "line.place_of_service", op: "test-places"}, st.sampled_from(["in_set", "not_in_set"])),
        st.builds(lambda op: {"fact": "line.service_date", op: {"fact": "batch_date"}}, st.sampled_from(["before", "after", "on_or_after"])),
        st.builds(lambda op, v: {"fact": "line.charge", op: v}, st.sampled_from(["gt", "gte", "lt"]), st.sampled_from([10, 100, "250.50"])),
        st.builds(lambda op, v: {"fact": "line.units", op: v}, st.sampled_from(["gt", "eq"]), st.sampled_from([1, 2, 3])),
        st.builds(lambda n: {"age_years": {"born": "person.birth_date", "at": "line.service_date"}, "lt": n}, st.integers(0, 90)),
        st.builds(lambda n: {"count": "line.diagnosis_pointers", "gt": n}, st.integers(0, 3)),
        st.builds(lambda n: {"sum": "line.units", "by": ["line.procedure", "line.service_date"], "gt": n}, st.integers(0, 6)),
        st.just({"duplicate_lines": ["line.procedure", "line.modifiers", "line.service_date"]}),
    )


def combine(leaves: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda items: {"all": items}),
            st.lists(children, min_size=1, max_size=3).map(lambda items: {"any": items}),
            children.map(lambda item: {"not": item}),
        ),
        max_leaves=5,
    )


LINE_CONDITIONS = combine(line_leaves())
CLAIM_CONDITIONS = combine(
    st.one_of(
        claim_leaves(),
        LINE_CONDITIONS.map(lambda c: {"any_line": c}),
        LINE_CONDITIONS.map(lambda c: {"all_lines": c}),
        st.builds(lambda c, n: {"count_lines": c, "gte": n}, LINE_CONDITIONS, st.integers(0, 3)),
    )
)
LINE_RULE_CONDITIONS = combine(
    st.one_of(
        line_leaves(),
        st.builds(lambda c, same: {"other_line": c, "same": same}, LINE_CONDITIONS, st.sampled_from([[], ["line.service_date"], ["line.procedure"]])),
    )
)


@st.composite
def rule_sets(draw):
    rules = []
    for number in range(draw(st.integers(1, 40))):
        scope = draw(st.sampled_from(["claim", "line"]))
        raw = draw(CLAIM_CONDITIONS if scope == "claim" else LINE_RULE_CONDITIONS)
        condition = parse_condition(raw, scope, context=ParseContext(code_sets=CONTEXT_SETS))
        rules.append(SimpleNamespace(id=f"rule-{number}", scope=scope, condition=condition))
    return rules


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rules=rule_sets(), claims=claim_batches(max_size=4))
def test_engines_agree_on_every_operator(rules, claims):
    durable, python = DurableEngine(rules), PythonEngine(rules)
    facts = [fact for position, claim in enumerate(claims) for fact in claim_facts(claim, str(position))]
    durable_hits = Counter(durable.evaluate(facts))
    python_hits = Counter(python.evaluate([{k: v for k, v in fact.items() if not k.startswith("_s")} for fact in facts]))
    assert durable_hits == python_hits
    assert all(count == 1 for count in durable_hits.values())


def test_age_counts_a_birthday_on_its_day():
    born = dt.date(2008, 1, 10).toordinal()
    assert age_in_years(born, dt.date(2026, 1, 9).toordinal()) == 17
    assert age_in_years(born, dt.date(2026, 1, 10).toordinal()) == 18
