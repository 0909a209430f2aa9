"""Loading rule files reports every problem of every file at once: file, line, YAML path, and a "did you mean"."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from conftest import MIXED_BATCH, run_cli
from scrubber.rules import RuleLoadError, load_rules
from scrubber.rules.load import RuleProblem, format_path, load_rule_file, parse_path, suggest, with_suggestion

GOOD = {
    "id": "example-rule",
    "name": "Example",
    "carc": "CO-111",
    "severity": "error",
    "scope": "claim",
    "element": "CLM07",
    "when": {"all": [{"fact": "assignment", "eq": "C"}, {"fact": "payer_filing_indicator", "eq": "MB"}]},
    "message": "CLM07 is {assignment}",
    "fix": "Set CLM07",
    "explanation": "Because.",
    "sources": ["004_b016a48625364ce5.txt, How to Prevent CO-111"],
    "cases": [
        {"name": "flags", "expect": "flag", "claim": {"assignment": "C", "payer": {"filing_indicator": "MB"}}},
        {"name": "passes", "expect": "pass", "claim": {"assignment": "A"}},
        {"name": "near", "expect": "near-miss", "claim": {"assignment": "C"}},
    ],
}

# One family file with three broken rules and a stray item; the line numbers below are this text's.
FAMILY = """\
rules:
  - id: first-rule
    name: First
    carc: CO-111
    severity: fatal
    scope: claim
    element: CLM07
    when:
      all:
        - {fact: assignment, eq: C}
        - {fact: payer_filing_indicatr, eq: MB}
    message: "CLM07 is {assignment}"
    fix: Set CLM07
    explanation: Because.
    sources: ["a seed file"]
    cases:
      - {name: flags, expect: flag, claim: {assignment: C}}
      - {name: passes, expect: pass}
      - {name: passes, expect: near-miss}
  - id: second-rule
    name: Second
    carc: CO-111
    severity: error
    scope: claim
    element: CLM07
    when: {fact: assignment, equals: C}
    message: "CLM07 is {asignment}"
    fix: Set CLM07
    explanation: Because.
    sources: ["a seed file"]
    surprise: 1
    cases:
      - {name: flags, expect: flag, claim: {assignment: C}}
      - {name: passes, expect: pass}
  - 3
"""

BROKEN_YAML = "id: third-rule\nname: [unclosed\n"


def write(directory, name, content):
    path = directory / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    return path


def problems_of(*paths, **kw):
    with pytest.raises(RuleLoadError) as raised:
        load_rules(list(paths), **kw)
    return raised.value


def test_every_problem_of_every_file_is_reported_with_file_line_and_path(tmp_path):
    family = write(tmp_path, "a.yaml", FAMILY)
    broken = write(tmp_path, "b.yaml", BROKEN_YAML)
    duplicate = write(tmp_path, "c.yaml", {**GOOD, "id": "second-rule"})
    error = problems_of(tmp_path)
    found = [(p.file, p.line, p.path) for p in error.errors]
    a, b, c = str(family), str(broken), str(duplicate)
    assert found == [
        (a, 5, "rules[0].severity"),
        (a, 11, "rules[0].when.all[1].fact"),
        (a, 19, "rules[0].cases[2].name"),
        (a, 26, "rules[1].when.equals"),
        (a, 27, "rules[1].message"),
        (a, 31, "rules[1].surprise"),
        (a, 32, "rules[1].cases"),
        (a, 35, "rules[2]"),
        (b, 3, ""),
        (c, 1, "id"),
    ]
    by_path = {p.path: p for p in error.errors}
    assert "severity" in by_path["rules[0].severity"].message or "error" in by_path["rules[0].severity"].message
    assert "payer_filing_indicator" in by_path["rules[0].when.all[1].fact"].message
    assert "same name" in by_path["rules[0].cases[2].name"].message
    assert "asignment" in by_path["rules[1].message"].message
    assert "near-miss" in by_path["rules[1].cases"].message
    assert f"already used in {family}:20" in by_path["id"].message
    assert by_path["rules[0].severity"].rule == "first-rule"
    # the message lists them all, one per line, sorted by file and line
    text = str(error)
    assert text.startswith("10 problems in 3 rule files:")
    lines = text.splitlines()[1:]
    assert len(lines) == 10
    assert lines[0].strip().startswith(f"{a}:5: rule 'first-rule': rules[0].severity: ")
    assert lines[-1].strip().startswith(f"{c}:1: rule 'second-rule': id: rule id 'second-rule' is already used")


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    broken = write(tmp_path, "broken.yaml", BROKEN_YAML)
    (problem,) = problems_of(broken).errors
    assert (problem.file, problem.line, problem.column) == (str(broken), 3, 1)
    assert problem.message.startswith("YAML syntax error:")
    assert "line 2" in problem.message  # where the unclosed list started


def test_one_rule_file_has_paths_without_a_rules_prefix(tmp_path):
    path = write(tmp_path, "rule.yaml", {**GOOD, "carc": "111", "when": {"all": [GOOD["when"]["all"][0], {"fact": "nope"}]}})
    error = problems_of(path)
    assert [(p.path, p.line) for p in error.errors] == [("carc", 3), ("when.all[1].fact", 11)]
    assert str(error).startswith("2 problems in 1 rule file:")


def test_a_broken_condition_does_not_hide_the_other_fields(tmp_path):
    rule = {**GOOD, "when": {"fact": "assignment", "eq": 1}, "severity": "fatal", "message": "{nope}"}
    paths = {p.path for p in problems_of(write(tmp_path, "rule.yaml", rule)).errors}
    assert {path for path in paths if not path.startswith("when")} == {"severity", "message"}
    assert any(path.startswith("when") for path in paths)


def test_a_field_error_does_not_hide_the_case_checks(tmp_path):
    rule = {**GOOD, "severity": "fatal", "cases": GOOD["cases"][:2]}
    error = problems_of(write(tmp_path, "rule.yaml", rule))
    assert [p.path for p in error.errors] == ["severity", "cases"]
    assert "near-miss" in error.errors[1].message


def test_a_single_problem_reads_as_one_line(tmp_path):
    path = write(tmp_path, "rule.yaml", {**GOOD, "carc": "111"})
    error = problems_of(path)
    assert str(error) == str(error.errors[0])
    assert "\n" not in str(error) and str(error).startswith(f"{path}:3: rule 'example-rule': carc: ")


def test_did_you_mean_a_fact(tmp_path):
    rule = {**GOOD, "when": {"fact": "payer_filing_indicatr", "eq": "MB"}}
    (problem,) = problems_of(write(tmp_path, "rule.yaml", rule)).errors
    assert problem.path == "when.fact"
    assert "unknown fact 'payer_filing_indicatr'" in problem.message
    assert "did you mean" in problem.message and "'payer_filing_indicator'" in problem.message


@pytest.mark.parametrize(("written", "meant"), [("equals", "eq"), ("exist", "exists"), ("not_equal", "ne"), ("iin", "in")])
def test_did_you_mean_an_operator(tmp_path, written, meant):
    rule = {**GOOD, "when": {"fact": "assignment", written: "C" if meant != "exists" else True}}
    (problem,) = problems_of(write(tmp_path, "rule.yaml", rule)).errors
    assert problem.path == f"when.{written}"
    assert "did you mean" in problem.message and repr(meant) in problem.message


def test_did_you_mean_a_code_set(tmp_path):
    from scrubber.rules import conditions

    if "in_set" not in getattr(conditions, "OPERATORS", ()):
        pytest.skip("the condition language has no code sets yet")
    rule = {**GOOD, "when": {"fact": "diagnosis_codes", "any_in": {"set": "no-such-set-at-all"}}}
    error = problems_of(write(tmp_path, "rule.yaml", rule))
    assert any("unknown code set" in p.message for p in error.errors)


def test_suggestions_from_messages():
    assert suggest("payer_filing_indicatr", ["payer_filing_indicator", "assignment"]) == "payer_filing_indicator"
    assert suggest("zzz", ["payer_filing_indicator"]) is None
    assert suggest("EQ", ["eq", "ne"]) == "eq"
    message = with_suggestion("when: expected exactly one operator of eq, ne, found ['equals']")
    assert message.endswith("did you mean 'eq' for 'equals'?")
    assert with_suggestion("when: unknown fact 'asignment'").endswith("did you mean 'assignment'?")
    already = "when: unknown fact 'x'; did you mean 'y'?"
    assert with_suggestion(already) == already

    class Structured(ValueError):
        unknown, choices = "minor-procs", ["minor-procedures", "clinical-lab"]

    assert with_suggestion("when: no such set", Structured()).endswith("did you mean 'minor-procedures'?")


def test_yaml_paths_round_trip():
    parts = ["rules", 2, "when", "all", 1, "fact"]
    assert format_path(parts) == "rules[2].when.all[1].fact"
    assert parse_path("rules[2].when.all[1].fact") == parts
    assert format_path([]) == "" and parse_path("") == []


def test_a_missing_path_is_one_problem_among_the_others(tmp_path):
    bad = write(tmp_path, "bad.yaml", {**GOOD, "carc": "111"})
    error = problems_of(bad, tmp_path / "nowhere.yaml")
    assert [(p.file, p.message) for p in error.errors if p.line is None] == [
        (str(tmp_path / "nowhere.yaml"), "no such rule file or directory")
    ]
    assert any(p.file == str(bad) for p in error.errors)


def test_empty_and_non_rule_files(tmp_path):
    empty = write(tmp_path, "empty.yaml", "")
    scalar = write(tmp_path, "scalar.yaml", "just text\n")
    error = problems_of(empty, scalar)
    assert [(p.file, p.line) for p in error.errors] == [(str(empty), 1), (str(scalar), 1)]
    assert "empty" in error.errors[0].message and "rule mapping" in error.errors[1].message


def test_duplicate_ids_and_aliases(tmp_path):
    first = write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", {**GOOD, "id": "another-rule", "aliases": ["example-rule"]})
    (problem,) = problems_of(first, second).errors
    assert (problem.file, problem.path) == (str(second), "aliases[0]") and problem.line is not None
    assert f"already used in {first}:1" in problem.message


def test_a_user_rule_reusing_a_bundled_id_is_refused(tmp_path):
    path = write(tmp_path, "mine.yaml", {**GOOD, "id": "unassigned-dual-eligible"})
    (problem,) = problems_of(path, include_bundled=True).errors
    assert problem.file == str(path) and problem.path == "id"
    assert "unassigned-dual-eligible.yaml" in problem.message


def test_the_same_file_named_twice_loads_once(tmp_path):
    path = write(tmp_path, "rule.yaml", GOOD)
    assert [rule.id for rule in load_rules([path, tmp_path, str(path)])] == ["example-rule"]


def test_load_rule_file_reports_every_problem_of_its_file(tmp_path):
    path = write(tmp_path, "a.yaml", FAMILY)
    with pytest.raises(RuleLoadError) as raised:
        load_rule_file(path)
    assert len(raised.value.errors) == 8


def test_problems_as_json(tmp_path):
    path = write(tmp_path, "rule.yaml", {**GOOD, "carc": "111"})
    data = json.loads(json.dumps(problems_of(path).to_dict()))
    (problem,) = data["errors"]
    assert problem["file"] == str(path) and problem["line"] == 3 and problem["path"] == "carc"
    assert problem["rule"] == "example-rule" and "message" in problem and "column" in problem


def test_a_plain_message_still_makes_a_rule_load_error():
    error = RuleLoadError("something is wrong")
    assert str(error) == "something is wrong"
    assert error.errors == [RuleProblem("", None, "", "something is wrong")]


def test_check_refuses_to_run_and_names_every_broken_rule(tmp_path):
    write(tmp_path, "a.yaml", FAMILY)
    write(tmp_path, "b.yaml", BROKEN_YAML)
    result = run_cli("check", str(MIXED_BATCH), "--rules", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "10 problems in 2 rule files" not in result.stderr  # 9: no duplicate here
    assert "9 problems in 2 rule files:" in result.stderr
    for where in ("a.yaml:5:", "a.yaml:11:", "a.yaml:26:", "a.yaml:35:", "b.yaml:3:1:"):
        assert where in result.stderr, where


def test_bundled_rules_still_load():
    assert len(load_rules()) >= 20


@pytest.mark.parametrize("content", [textwrap.dedent("""\
    rules:
      - id: a-rule
        name: A
    """)])
def test_missing_fields_point_at_the_rule(tmp_path, content):
    path = write(tmp_path, "rule.yaml", content)
    error = problems_of(path)
    assert {p.line for p in error.errors} == {2}  # the rule's first line: the missing fields are its own
    assert {"rules[0].carc", "rules[0].when", "rules[0].cases"} <= {p.path for p in error.errors}


# --- code sets beside the rules --------------------------------------------------------------------

SET_RULE = {
    **GOOD,
    "id": "set-rule",
    "when": {"fact": "diagnosis_codes", "any_in": {"set": "our-wellness-codes"}},
    "message": "a wellness diagnosis",
    "cases": [
        {"name": "flags", "expect": "flag", "claim": {"diagnoses": [{"code": "Z0000", "qualifier": "ABK"}]}},
        {"name": "passes", "expect": "pass"},
        {"name": "near", "expect": "near-miss", "claim": {"diagnoses": [{"code": "Z0001", "qualifier": "ABK"}]}},
    ],
}
WELLNESS_SET = 'name: our-wellness-codes\nsource: "our payer contract, exhibit B"\ncodes: ["Z00.00"]\n'


def needs_code_sets():
    from scrubber.rules import conditions

    if "in_set" not in getattr(conditions, "OPERATORS", ()):
        pytest.skip("the condition language has no code sets yet")


def test_a_code_set_file_beside_the_rules_is_loaded_with_them(tmp_path):
    needs_code_sets()
    rule = write(tmp_path, "set-rule.yaml", SET_RULE)
    write(tmp_path, "our-wellness-codes.yaml", WELLNESS_SET)
    assert [r.id for r in load_rules([tmp_path])] == ["set-rule"]  # the directory: the set is not a rule
    assert [r.id for r in load_rules([rule])] == ["set-rule"]  # the rule file alone: the set beside it
    result = run_cli("test", str(rule), "--engine", "python", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed, 0 failed, 0 todo (1 rules)" in result.stdout


def test_a_broken_code_set_is_reported_with_its_lines_not_at_each_rule(tmp_path):
    needs_code_sets()
    write(tmp_path, "set-rule.yaml", SET_RULE)
    broken = write(tmp_path, "our-wellness-codes.yaml", WELLNESS_SET.replace('["Z00.00"]', '["Z00.00", 1]'))
    (problem,) = problems_of(tmp_path).errors
    assert (problem.file, problem.line, problem.path) == (str(broken), 3, "codes[1]")
    assert "not a string" in problem.message


def test_did_you_mean_a_user_code_set(tmp_path):
    needs_code_sets()
    write(tmp_path, "set-rule.yaml", {**SET_RULE, "when": {"fact": "diagnosis_codes", "any_in": {"set": "our-welness-codes"}}})
    write(tmp_path, "our-wellness-codes.yaml", WELLNESS_SET)
    (problem,) = problems_of(tmp_path).errors
    assert "unknown code set 'our-welness-codes'" in problem.message
    assert "did you mean 'our-wellness-codes'" in problem.message
