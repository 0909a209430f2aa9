"""RuleSpec validation: a bad rule file is refused at load, with a message naming file and field."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from scrubber.rules import RuleLoadError, load_rules

GOOD = {
    "id": "example-rule",
    "name": "Example",
    "carc": "CO-111",
    "severity": "error",
    "scope": "claim",
    "element": "CLM07",
    "when": {"all": [{"fact": "assignment", "eq": "C"}]},
    "message": "CLM07 is {assignment}",
    "fix": "Set CLM07",
    "explanation": "Because.",
    "sources": ["004_b016a48625364ce5.txt, How to Prevent CO-111"],
    "cases": [
        {"name": "flags", "expect": "flag", "claim": {"assignment": "C"}},
        {"name": "passes", "expect": "pass", "claim": {"assignment": "A"}},
        {"name": "near", "expect": "near-miss", "claim": {"assignment": "B"}},
    ],
}


def write(tmp_path, rule, name="rule.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(rule))
    return path


def without(key):
    return {k: v for k, v in GOOD.items() if k != key}


def test_good_rule_loads(tmp_path):
    (rule,) = load_rules([write(tmp_path, GOOD)])
    assert rule.id == "example-rule" and rule.facts == {"assignment"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (without("sources"), "sources"),
        ({**GOOD, "sources": []}, "sources"),
        ({**GOOD, "sources": ["  "]}, "blank"),
        ({**GOOD, "cases": GOOD["cases"][:1]}, "missing"),
        ({**GOOD, "cases": GOOD["cases"][1:]}, "flag"),
        ({**GOOD, "cases": [GOOD["cases"][0], GOOD["cases"][1]]}, "near-miss"),
        ({**GOOD, "when": {"fact": "no_such_fact", "eq": "x"}}, "unknown fact"),
        ({**GOOD, "when": {"fact": "line_procedure", "eq": "80053"}}, "line fact"),
        ({**GOOD, "when": {"fact": "charge_cents", "eq": "abc"}}, "not a number"),
        ({**GOOD, "when": {"fact": "line_count", "eq": True}}, "is integer"),
        ({**GOOD, "when": {"fact": "has_prior_auth", "eq": 1}}, "is boolean"),
        ({**GOOD, "when": {"fact": "assignment", "gt": "A"}}, "compares numbers"),
        ({**GOOD, "when": {"fact": "assignment", "matches": "A.*"}}, "operator"),
        ({**GOOD, "when": {"fact": "assignment", "in": [f"X{i}" for i in range(40)]}}, "at most 32"),
        ({**GOOD, "when": {"all": []}}, "non-empty"),
        ({**GOOD, "carc": "111"}, "carc"),
        ({**GOOD, "id": "Bad Id"}, "id"),
        ({**GOOD, "severity": "fatal"}, "severity"),
        ({**GOOD, "message": "{no_such_fact}"}, "not a claim fact"),
        ({**GOOD, "unknown_key": 1}, "unknown_key"),
    ],
)
def test_bad_rule_is_refused_with_a_clear_message(tmp_path, change, expected):
    path = write(tmp_path, change)
    with pytest.raises(RuleLoadError) as raised:
        load_rules([path])
    message = str(raised.value)
    assert str(path) in message and "example-rule" in message or "Bad Id" in message
    assert expected in message


def test_duplicate_rule_id_across_files_is_refused(tmp_path):
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(RuleLoadError, match="already used"):
        load_rules([first, second])


def test_a_family_file_holds_several_rules(tmp_path):
    other = {**GOOD, "id": "example-two"}
    path = tmp_path / "family.yaml"
    path.write_text(yaml.safe_dump({"rules": [GOOD, other]}))
    assert [rule.id for rule in load_rules([path])] == ["example-rule", "example-two"]


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent("id: [unclosed\n"))
    with pytest.raises(RuleLoadError, match="broken.yaml"):
        load_rules([path])
