"""`scrubber explain` for each seed denial code and for rules; `scrubber rules --format json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scrubber.explain import explain
from scrubber.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
RULES = load_rules()


@pytest.mark.parametrize("code", ["CO-111", "CO-21", "CO-23", "CO-122", "CO-121"])
def test_each_seed_code_is_explained_with_who_pays_what_to_do_and_its_rules(code):
    text = explain(code, RULES)
    assert text is not None
    for part in ("What it means:", "Who pays:", "What to do:", "Bill the patient?", "Rules that predict it"):
        assert part in text, part
    predicting = [rule.id for rule in RULES if code in (rule.carc, *rule.derived_from)]
    assert predicting and all(rule_id in text for rule_id in predicting)
    assert "(flags)" in text and "(passes)" in text


@pytest.mark.parametrize(
    ("code", "correction"),
    [("CO-122", "CARC 253"), ("CO-23", "only with group OA"), ("CO-121", "remittance side")],
)
def test_the_design_corrections_are_stated(code, correction):
    assert correction in explain(code, RULES)


def test_a_rule_is_explained_with_its_sources_and_every_case():
    rule = next(rule for rule in RULES if rule.id == "timely-filing-limit-passed")
    text = explain(rule.id, RULES)
    assert "derived from CO-121" in text
    assert all(source in text for source in rule.sources)
    assert all(case.name in text for case in rule.cases)


def test_unknown_code_is_not_guessed():
    assert explain("CO-999", RULES) is None


def test_rules_json_lists_the_documented_fields():
    done = subprocess.run([sys.executable, "-m", "scrubber", "rules", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    listing = json.loads(done.stdout)
    assert len(listing) == len(RULES)
    for entry in listing:
        assert {"id", "name", "carc", "severity", "status", "sources"} <= set(entry)
        assert entry["sources"]
