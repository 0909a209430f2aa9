"""Every inline case of every bundled rule, as its own test, on both engines."""

from __future__ import annotations

import pytest

from scrubber.profiles import load_profiles
from scrubber.rules import load_rules
from scrubber.rules.testing import case_scrubber, run_case

RULES = load_rules()
PROFILES = load_profiles()
CASES = [(rule, case) for rule in RULES for case in rule.cases]


@pytest.fixture(scope="module", params=["durable", "python"])
def engine_name(request):
    return request.param


_scrubbers: dict = {}


@pytest.mark.parametrize(("rule", "case"), CASES, ids=[f"{rule.id}::{case.name}" for rule, case in CASES])
def test_inline_case(rule, case, engine_name):
    key = (engine_name, rule.id)
    if key not in _scrubbers:
        _scrubbers[key] = case_scrubber(rule, engine_name, PROFILES)
    result = run_case(rule, case, _scrubbers[key])
    assert result.passed, result.detail


def test_every_rule_has_flag_pass_and_near_miss():
    for rule in RULES:
        assert {case.expect for case in rule.cases} >= {"flag", "pass", "near-miss"}, rule.id


def test_bundled_rules_cover_all_five_seed_denials():
    covered = {code for rule in RULES for code in (rule.carc, *rule.derived_from)}
    assert {"CO-111", "CO-21", "CO-23", "CO-122", "CO-121"} <= covered


def test_every_rule_cites_a_seed_or_a_cms_or_x12_source():
    for rule in RULES:
        assert any(".txt" in source or "CMS" in source or "X12" in source for source in rule.sources), rule.id
