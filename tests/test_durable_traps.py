"""One regression test per durable_rules trap of design §2 (and the ones our property test found)."""

from __future__ import annotations

import importlib
import sys
import threading
import time
import warnings
from types import SimpleNamespace

import pytest

from scrubber.engine import make_engine
from scrubber.engine.durable import RULES_PER_RULESET, DurableEngine, compile_ruleset
from scrubber.engine.python import PythonEngine
from scrubber.facts import FACTS, claim_facts
from scrubber.rules.conditions import AllOf, AnyOf, Compare, ConditionError, parse_condition
from scrubber.rules.testing import build_case_claim


def rule(rule_id, condition, scope="claim"):
    return SimpleNamespace(id=rule_id, scope=scope, condition=condition)


def claim_fact(fact_id="0", **values):
    return {"id": fact_id, "kind": "claim", **values}


def test_a_fact_matching_two_rules_fires_both():
    # With events (`post`) the first matching rule consumes the event; we assert facts.
    rules = [rule("a", Compare("assignment", "eq", "C")), rule("b", Compare("assignment", "ne", "A"))]
    assert sorted(DurableEngine(rules).evaluate([claim_fact(assignment="C")])) == [("a", "0"), ("b", "0")]


def test_a_fact_that_matches_no_rule_does_not_sink_the_batch():
    rules = [rule("a", Compare("assignment", "eq", "C"))]
    facts = [claim_fact("0", assignment="A"), claim_fact("1", assignment="C"), claim_fact("2")]
    assert DurableEngine(rules).evaluate(facts) == [("a", "1")]


def test_repeated_fact_ids_are_refused_before_reaching_the_engine():
    engine = DurableEngine([rule("a", Compare("assignment", "eq", "C"))])
    with pytest.raises(ValueError, match="unique"):
        engine.evaluate([claim_fact("0", assignment="C"), claim_fact("0", assignment="C")])


def test_seventy_rules_matching_one_fact_all_fire():
    # More than 64 matches on one fact in one ruleset is error 303 and nothing fires: we shard.
    rules = [rule(f"r{i}", Compare("assignment", "eq", "C")) for i in range(70)]
    engine = DurableEngine(rules)
    assert len(engine._shards) == 3
    assert len(engine.evaluate([claim_fact(assignment="C")])) == 70


def test_a_ruleset_never_holds_more_than_32_rules():
    with pytest.raises(ValueError):
        compile_ruleset([rule(f"r{i}", Compare("assignment", "eq", "C")) for i in range(RULES_PER_RULESET + 1)])


def test_long_in_lists_are_refused_at_load():
    # ~512 $or values hang create_ruleset forever; code sets are boolean facts instead.
    with pytest.raises(ConditionError, match="at most 32"):
        parse_condition({"fact": "line_procedure", "in": [str(80000 + i) for i in range(600)]}, "line")


def test_a_rule_of_negations_alone_does_not_loop():
    # Negations alone match the engine's state fact and loop forever; every rule gets a `kind` guard.
    definition, _ = compile_ruleset([rule("a", Compare("assignment", "exists", False))])
    assert definition["r0"]["all"][0]["m"]["$and"][0] == {"kind": "claim"}
    started = time.monotonic()
    hits = DurableEngine([rule("a", Compare("assignment", "exists", False))]).evaluate([claim_fact()])
    assert hits == [("a", "0")] and time.monotonic() - started < 5


def test_money_is_integer_cents_and_facts_hold_no_floats_or_number_strings():
    claim = build_case_claim({"lines": [{"charge": "939.41"}, {"charge": "2500.00"}]})
    facts = claim_facts(claim, "0")
    for fact in facts:
        for name, value in fact.items():
            assert not isinstance(value, float), name
            if name.endswith("_cents") or FACTS.get(name, SimpleNamespace(type=None)).type is int:
                assert isinstance(value, int), name
    assert facts[0]["charge_cents"] == 343941 and facts[1]["line_charge_cents"] == 93941
    engine = DurableEngine([rule("big", Compare("line_charge_cents", "gt", 250000), "line")])
    assert engine.evaluate(facts) == []  # "939.41" > 2500 would be true as text


def test_fact_keys_never_use_reserved_names():
    claim = build_case_claim({})
    for fact in claim_facts(claim, "0"):
        assert "sid" not in fact
        assert not any(key.startswith("$") for key in fact)
    assert "sid" not in FACTS and "id" not in FACTS


def test_rules_are_single_fact():
    definition, _ = compile_ruleset([rule("a", Compare("assignment", "eq", "C"))])
    assert all(len(entry["all"]) == 1 for entry in definition.values())


def test_missing_fact_fails_every_comparison_in_both_engines():
    for op, value in [("eq", "A"), ("ne", "A"), ("in", ("A", "B")), ("not_in", ("A",))]:
        rules = [rule("r", Compare("assignment", op, value))]
        assert DurableEngine(rules).evaluate([claim_fact()]) == [], op
        assert PythonEngine(rules).evaluate([claim_fact()]) == [], op


def test_an_or_with_two_true_branches_is_one_hit():
    rules = [rule("r", AnyOf((Compare("assignment", "eq", "A"), Compare("assignment", "ne", "B"))))]
    assert DurableEngine(rules).evaluate([claim_fact(assignment="A")]) == [("r", "0")]


def test_regex_matching_is_not_in_the_language():
    with pytest.raises(ConditionError, match="operator"):
        parse_condition({"fact": "assignment", "mt": "A.*"}, "claim")


def test_facts_are_retracted_after_each_batch():
    engine = DurableEngine([rule("r", Compare("assignment", "eq", "C"))])
    for _ in range(3):
        assert engine.evaluate([claim_fact("0", assignment="C")]) == [("r", "0")]
    assert engine.evaluate([claim_fact("0", assignment="A")]) == []


def test_concurrent_callers_do_not_mix_findings():
    engine = DurableEngine([rule("r", Compare("charge_cents", "gt", 0))])
    errors = []

    def work(offset):
        for round_ in range(50):
            facts = [claim_fact(f"{offset}-{i}", charge_cents=(i % 2)) for i in range(20)]
            expected = sorted(("r", f"{offset}-{i}") for i in range(20) if i % 2)
            if sorted(engine.evaluate(facts)) != expected:
                errors.append((offset, round_))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_without_durable_rules_the_python_engine_is_used_with_a_warning(monkeypatch):
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)  # import now fails, as on 3.13
    monkeypatch.delitem(sys.modules, "scrubber.engine.durable", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engine = make_engine([rule("r", Compare("assignment", "eq", "C"))], "durable")
    assert engine.name == "python"
    assert any("Python engine" in str(w.message) for w in caught)
    monkeypatch.undo()
    importlib.import_module("scrubber.engine.durable")


def test_nested_all_any_compiles_for_durable():
    condition = AllOf((Compare("assignment", "eq", "C"), AnyOf((Compare("has_prior_auth", "eq", True), Compare("charge_cents", "lte", 5)))))
    engine = DurableEngine([rule("r", condition)])
    facts = [claim_fact("0", assignment="C", charge_cents=3), claim_fact("1", assignment="C", charge_cents=9)]
    assert engine.evaluate(facts) == [("r", "0")]


def test_rules_of_each_scope_get_their_own_shards_and_only_their_facts():
    # A shard of claim rules is sent claim facts only, a shard of line rules line facts only.
    rules = [rule("c", Compare("assignment", "eq", "C")), rule("l", Compare("assignment", "eq", "C"), scope="line")]
    engine = DurableEngine(rules)
    assert [shard[0] for shard in engine._shards] == ["claim", "line"]
    facts = [claim_fact("0", assignment="C"), {"id": "0.0", "kind": "line", "assignment": "C"}]
    assert sorted(engine.evaluate(facts)) == [("c", "0"), ("l", "0.0")]
    assert engine.evaluate([{"id": "1.0", "kind": "line", "assignment": "C"}]) == [("l", "1.0")]
