"""The rule language, operator by operator, on real claims (both engines), and its load-time checks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from scrubber.engine.durable import DurableEngine
from scrubber.engine.python import PythonEngine
from scrubber.facts import claim_facts
from scrubber.rules.conditions import ConditionError, ParseContext, parse_condition
from scrubber.rules.spec import render
from scrubber.rules.testing import build_case_claim


def hits(raw: dict, claim: dict, scope: str = "claim") -> set[tuple[str, str]]:
    """The (rule, fact) hits of one rule on one case claim; both engines must agree."""
    rule = SimpleNamespace(id="r", scope=scope, condition=parse_condition(raw, scope))
    facts = claim_facts(build_case_claim(claim), "0")
    durable = set(DurableEngine([rule]).evaluate([dict(f) for f in facts]))
    python = set(PythonEngine([rule]).evaluate([dict(f) for f in facts]))
    assert durable == python
    return python


def flags(raw: dict, claim: dict, scope: str = "claim") -> bool:
    return bool(hits(raw, claim, scope))


def test_model_facts_and_money_in_dollars():
    assert flags({"fact": "total_charge", "eq": 100}, {})  # the base line charges 100
    assert flags({"fact": "total_charge", "gt": "99.99"}, {})
    assert not flags({"fact": "total_charge", "gt": 100}, {})
    assert flags({"fact": "payer.filing_indicator", "eq": "MB"}, {"payer": {"filing_indicator": "MB"}})


def test_between_compares_codes_of_the_bounds_length():
    rule = {"fact": "line.procedure", "between": ["J0120", "J9999"]}
    assert flags(rule, {"lines": [{"procedure": "J3301"}]}, "line")
    assert not flags(rule, {"lines": [{"procedure": "J012"}]}, "line")
    assert not flags(rule, {"lines": [{"procedure": "K0001"}]}, "line")
    assert flags({"fact": "line.procedure", "between": [70551, 70553]}, {"lines": [{"procedure": "70552"}]}, "line")


def test_lists_never_missing():
    none_in = {"fact": "line.modifiers", "none_in": ["95", "GT"]}
    assert flags(none_in, {"lines": [{}]}, "line")  # an empty list holds none of them
    assert not flags({"fact": "line.modifiers", "all_in": ["25"]}, {"lines": [{}]}, "line")
    assert flags({"fact": "line.modifiers", "contains": "25"}, {"lines": [{"modifiers": ["59", "25"]}]}, "line")
    assert flags({"count": "diagnosis_codes", "eq": 1}, {})


def test_missing_fact_fails_negations_but_not_not():
    assert not flags({"fact": "frequency", "ne": "7"}, {"frequency": None})
    assert flags({"not": {"fact": "frequency", "eq": "7"}}, {"frequency": None})
    assert flags({"fact": "frequency", "missing": True}, {"frequency": None})


def test_dates_days_and_ages():
    assert flags({"fact": "line.service_date", "before": {"fact": "batch_date"}}, {}, "line")
    assert flags({"days_between": ["line.service_date", "batch_date"], "eq": 5}, {}, "line")
    born = {"subscriber": {"birth_date": "2008-01-10"}}
    age = {"age_years": {"born": "person.birth_date", "at": "line.service_date"}, "lt": 18}
    assert not flags(age, born, "line")  # 18 on the date of service
    assert flags(age, {"subscriber": {"birth_date": "2008-01-11"}}, "line")


def test_cross_line_forms():
    two = {"lines": [{"procedure": "99213"}, {"procedure": "11102"}]}
    assert flags({"any_line": {"fact": "line.procedure", "eq": "11102"}}, two)
    assert not flags({"all_lines": {"fact": "line.procedure", "eq": "11102"}}, two)
    assert flags({"count_lines": {"fact": "line.charge", "gte": 100}, "eq": 2}, two)
    other = {"other_line": {"fact": "line.procedure", "eq": "11102"}, "same": ["line.service_date"]}
    assert hits(other, two, "line") == {("r", "0.0")}  # line 1 has another line of 11102 the same day
    assert not flags(other, {"lines": [{"procedure": "99213"}, {"procedure": "11102", "service_date": "2026-01-11"}]}, "line")


def test_sum_by_keys_and_duplicates():
    lines = {"lines": [{"procedure": "97110", "units": "3"}, {"procedure": "97110", "units": "2"}, {"procedure": "97140", "units": "9"}]}
    rule = {"all": [{"fact": "line.procedure", "eq": "97110"}, {"sum": "line.units", "by": ["line.procedure", "line.service_date"], "gt": 4}]}
    assert hits(rule, lines, "line") == {("r", "0.0"), ("r", "0.1")}
    dup = {"duplicate_lines": ["line.procedure", "line.modifiers", "line.service_date"]}
    assert hits(dup, {"lines": [{"modifiers": ["59", "GP"]}, {"modifiers": ["GP", "59"]}]}, "line") == {("r", "0.0"), ("r", "0.1")}
    assert not flags(dup, {"lines": [{"modifiers": ["GP"]}, {"modifiers": ["59"]}]}, "line")


def test_code_sets_by_name_with_did_you_mean():
    assert flags({"fact": "line.procedure", "in_set": "clinical-lab"}, {"lines": [{"procedure": "80053"}]}, "line")
    with pytest.raises(ConditionError, match="did you mean 'clinical-lab'"):
        parse_condition({"fact": "line.procedure", "in_set": "clinical-labs"}, "line")


@pytest.mark.parametrize(
    ("raw", "scope", "message"),
    [
        ({"fact": "payer.filing_indicatr", "eq": "MB"}, "claim", "did you mean 'payer.filing_indicator'"),
        ({"fact": "line.procedure", "eq": "99213"}, "claim", "line fact"),
        ({"fact": "line.procedure", "between": ["100", "1000"]}, "line", "differ in length"),
        ({"fact": "assignment", "contains": "A"}, "claim", "tests a list"),
        ({"fact": "line.modifiers", "eq": "25"}, "line", "is a list"),
        ({"fact": "total_charge", "eq": "ten"}, "claim", "not a number"),
        ({"age_years": {"born": "person.birth_date", "on": "line.service_date"}, "lt": 18}, "line", "born: DATE_FACT, at: DATE_FACT"),
        ({"other_line": {"fact": "line.procedure", "eq": "1"}}, "claim", "line rule"),
        ({"fact": "assignment", "equals": "A"}, "claim", "did you mean"),
    ],
)
def test_bad_conditions_say_what_and_where(raw, scope, message):
    with pytest.raises(ConditionError, match=message):
        parse_condition(raw, scope)


def test_negation_on_a_fact_that_can_be_missing_warns_until_missing_is_spelled_out():
    def warnings(raw):
        context = ParseContext()
        parse_condition(raw, "claim", context=context)
        return context.warnings

    assert warnings({"all": [{"fact": "frequency", "ne": "7"}, {"fact": "assignment", "eq": "A"}]})
    assert not warnings({"all": [{"fact": "frequency", "ne": "7"}, {"fact": "frequency", "exists": True}]})
    assert not warnings({"any": [{"fact": "frequency", "ne": "7"}, {"fact": "frequency", "missing": True}]})
    assert not warnings({"fact": "claim_id", "ne": "X"})  # a claim always has an id


def test_placeholders_render_dollars_units_and_dates():
    facts = claim_facts(build_case_claim({"lines": [{"charge": "120", "units": "1.5"}]}), "0")
    text = render("{line.charge} {line.units} {line.service_date} {line.modifiers} {line.prior_auth}", facts[1])
    assert text == "120.00 1.5 2026-01-10 (none) (none)"
