"""`scrubber test`: todo cases, payer profiles and duplicate ids as `check` has them, one line per case, a summary."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import run_cli
from scrubber.profiles import load_profiles
from scrubber.rules import RuleLoadError, load_rules
from scrubber.rules.testing import case_scrubber, run_case, run_rule_cases

MEDICARE_UNASSIGNED = {
    "id": "my-medicare-unassigned",
    "name": "Medicare claim not assigned",
    "carc": "CO-111",
    "severity": "error",
    "scope": "claim",
    "element": "CLM07",
    "when": {"all": [{"fact": "payer_filing_indicator", "eq": "MB"}, {"fact": "assignment", "eq": "C"}]},
    "message": "CLM07 is {assignment} on a {payer_filing_indicator} claim",
    "fix": "Set CLM07 to A",
    "explanation": "Medicare pays these on assignment only.",
    "sources": ["CMS IOM 100-04 ch.1 §30.3"],
    "cases": [
        {"name": "medicare-unassigned", "expect": "flag", "claim": {"payer": {"filing_indicator": "MB"}, "assignment": "C"}},
        {"name": "medicare-assigned", "expect": "pass", "claim": {"payer": {"filing_indicator": "MB"}}},
        {"name": "commercial-unassigned", "expect": "near-miss", "claim": {"assignment": "C"}},
    ],
}
TODO_CASES = [
    # a gap still there: reported, not failed
    {"name": "medicare-advantage-unassigned", "expect": "todo-flag",
     "claim": {"payer": {"filing_indicator": "16"}, "assignment": "C"}},
    {"name": "lab-only-assignment", "expect": "todo-pass", "claim": {"payer": {"filing_indicator": "MB"}, "assignment": "C"},
     "note": "the rule cannot tell a lab-only claim yet"},
    # gaps closed: they fail until turned into flag/pass cases
    {"name": "now-flags", "expect": "todo-flag", "claim": {"payer": {"filing_indicator": "MB"}, "assignment": "C"}},
    {"name": "now-passes", "expect": "todo-pass", "claim": {"payer": {"filing_indicator": "MB"}}},
]
CASE_LINE = re.compile(r"^(ok   |FAIL |todo |fixed) \[(durable|python)\] ([a-z0-9-]+)::([a-z0-9-]+) \(([a-z-]+)\)(: .*)?$")


def write_rule(directory, rule, name=None):
    path = directory / f"{name or rule['id']}.yaml"
    path.write_text(yaml.safe_dump(rule, sort_keys=False))
    return path


def write_profile(directory, **fields):
    directory.mkdir(exist_ok=True)
    data = {"id": "acme-health", "name": "Acme Health", "match": {"payer_ids": ["ACME1"]}, **fields}
    path = directory / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def case_lines(stdout):
    return [CASE_LINE.match(line).groups() for line in stdout.splitlines() if CASE_LINE.match(line)]


def summary(stdout):
    found = re.search(r"^(\d+) passed, (\d+) failed, (\d+) todo \((\d+) rules\)$", stdout, re.M)
    assert found, stdout
    return tuple(int(n) for n in found.groups())


# --- todo cases ------------------------------------------------------------------------------------


def test_todo_cases_do_not_count_toward_flag_pass_and_near_miss(tmp_path):
    cases = [case for case in MEDICARE_UNASSIGNED["cases"] if case["expect"] != "near-miss"]
    rule = {**MEDICARE_UNASSIGNED, "cases": [*cases, {**TODO_CASES[1], "expect": "todo-pass"}]}
    with pytest.raises(RuleLoadError, match="near-miss"):
        load_rules([write_rule(tmp_path, rule)])


@pytest.mark.parametrize("engine", ["durable", "python"])
def test_todo_cases_are_reported_and_fixed_ones_fail(tmp_path, engine):
    (rule,) = load_rules([write_rule(tmp_path, {**MEDICARE_UNASSIGNED, "cases": [*MEDICARE_UNASSIGNED["cases"], *TODO_CASES]})])
    scrubber = case_scrubber(rule, engine, load_profiles())
    results = {case.name: run_case(rule, case, scrubber) for case in rule.cases}
    statuses = {name: (result.status, result.passed) for name, result in results.items()}
    assert statuses == {
        "medicare-unassigned": ("ok", True),
        "medicare-assigned": ("ok", True),
        "commercial-unassigned": ("ok", True),
        "medicare-advantage-unassigned": ("todo", True),
        "lab-only-assignment": ("todo", True),
        "now-flags": ("fixed", False),
        "now-passes": ("fixed", False),
    }
    assert "turn it into a flag case" in results["now-flags"].detail
    assert "turn it into a pass case" in results["now-passes"].detail
    assert "did not" in results["medicare-advantage-unassigned"].detail  # why it is still a todo


def test_the_command_prints_every_case_and_the_summary(tmp_path):
    rule = {**MEDICARE_UNASSIGNED, "cases": [*MEDICARE_UNASSIGNED["cases"], *TODO_CASES]}
    path = write_rule(tmp_path, rule)
    result = run_cli("test", str(path), cwd=tmp_path)
    assert result.returncode == 1
    lines = case_lines(result.stdout)
    assert len(lines) == 14  # 7 cases, 2 engines
    marks = {(case, engine): mark.strip() for mark, engine, _, case, _, _ in lines}
    assert marks[("medicare-unassigned", "durable")] == "ok"
    assert marks[("medicare-advantage-unassigned", "python")] == "todo"
    assert marks[("now-flags", "durable")] == "fixed" and marks[("now-passes", "python")] == "fixed"
    assert summary(result.stdout) == (6, 4, 4, 1)


def test_todo_cases_alone_do_not_fail_the_run(tmp_path):
    rule = {**MEDICARE_UNASSIGNED, "cases": [*MEDICARE_UNASSIGNED["cases"], *TODO_CASES[:2]]}
    result = run_cli("test", str(write_rule(tmp_path, rule)), "--engine", "python", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert summary(result.stdout) == (3, 0, 2, 1)
    assert "todo  [python] my-medicare-unassigned::lab-only-assignment (todo-pass): expected no finding" in result.stdout


def test_failures_exit_1_and_say_why(tmp_path):
    cases = [*MEDICARE_UNASSIGNED["cases"], {"name": "pinned-wrong", "expect": "flag", "element": "CLM05-1",
                                            "claim": {"payer": {"filing_indicator": "MB"}, "assignment": "C"}}]
    result = run_cli("test", str(write_rule(tmp_path, {**MEDICARE_UNASSIGNED, "cases": cases})), "--engine", "python",
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL  [python] my-medicare-unassigned::pinned-wrong (flag): expected the finding on element CLM05-1" in result.stdout
    assert summary(result.stdout) == (3, 1, 0, 1)


def test_pins_still_hold_for_flag_cases(tmp_path):
    cases = [*MEDICARE_UNASSIGNED["cases"],
             {"name": "pinned", "expect": "flag", "segment": "CLM", "element": "CLM07", "message_contains": "on a MB claim",
              "claim": {"payer": {"filing_indicator": "MB"}, "assignment": "C"}}]
    (rule,) = load_rules([write_rule(tmp_path, {**MEDICARE_UNASSIGNED, "cases": cases})])
    results = run_rule_cases([rule], ["python"])
    assert all(result.status == "ok" for result in results), [r.detail for r in results]


# --- profiles, as check applies them ----------------------------------------------------------------

OPT_IN = {
    **MEDICARE_UNASSIGNED,
    "id": "acme-unassigned",
    "default_enabled": False,
    "when": {"fact": "assignment", "eq": "C"},
    "message": "CLM07 is {assignment}",
    "cases": [
        {"name": "acme-unassigned", "expect": "flag", "claim": {"payer": {"payer_id": "ACME1"}, "assignment": "C"}},
        {"name": "acme-assigned", "expect": "pass", "claim": {"payer": {"payer_id": "ACME1"}}},
        {"name": "other-payer-unassigned", "expect": "near-miss", "note": "only Acme's contract says so",
         "claim": {"payer": {"payer_id": "OTHER"}, "assignment": "C"}},
    ],
}


def test_an_opt_in_rule_a_profile_enables_runs_only_for_that_profiles_claims(tmp_path):
    rule = write_rule(tmp_path, OPT_IN)
    profiles = write_profile(tmp_path / "payers", enable=["acme-unassigned"])
    enabled = run_cli("test", str(rule), "--profiles", str(profiles.parent), cwd=tmp_path)
    assert enabled.returncode == 0, enabled.stdout
    assert summary(enabled.stdout) == (6, 0, 0, 1)
    # without the profile, no profile enables it: tested as if selected, so the near miss flags
    alone = run_cli("test", str(rule), "--engine", "python", cwd=tmp_path)
    assert alone.returncode == 1
    assert "FAIL  [python] acme-unassigned::other-payer-unassigned (near-miss)" in alone.stdout


def test_a_profile_disabling_the_rule_drops_its_findings(tmp_path):
    rule = write_rule(tmp_path, {**OPT_IN, "default_enabled": True, "cases": [
        *OPT_IN["cases"][:2],
        {"name": "other-payer-assigned", "expect": "near-miss", "claim": {"payer": {"payer_id": "OTHER"}}},
    ]})
    profiles = write_profile(tmp_path / "payers", disable=["acme-unassigned"])
    result = run_cli("test", str(rule), "--engine", "python", "--profiles", str(profiles), cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL  [python] acme-unassigned::acme-unassigned (flag): expected the rule to flag" in result.stdout


def test_the_configurations_profiles_apply(tmp_path):
    rule = write_rule(tmp_path, OPT_IN)
    write_profile(tmp_path / "payers", enable=["acme-unassigned"])
    (tmp_path / "scrubber.toml").write_text('profiles = ["payers/"]\n')
    result = run_cli("test", str(rule), "--engine", "python", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert summary(result.stdout) == (3, 0, 0, 1)


# --- rule ids, as check loads them -----------------------------------------------------------------


def test_a_rule_reusing_a_bundled_id_is_refused_as_check_refuses_it(tmp_path):
    path = write_rule(tmp_path, {**MEDICARE_UNASSIGNED, "id": "unassigned-dual-eligible"})
    result = run_cli("test", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert str(path) in result.stderr and "already used" in result.stderr and result.stdout == ""


def test_duplicate_ids_between_named_files_are_refused(tmp_path):
    first = write_rule(tmp_path, MEDICARE_UNASSIGNED, "a")
    second = write_rule(tmp_path, MEDICARE_UNASSIGNED, "b")
    result = run_cli("test", str(first), str(second), cwd=tmp_path)
    assert result.returncode == 2 and "already used" in result.stderr


def test_every_broken_rule_is_named(tmp_path):
    write_rule(tmp_path, {**MEDICARE_UNASSIGNED, "carc": "111"}, "a")
    write_rule(tmp_path, {**MEDICARE_UNASSIGNED, "id": "other-rule", "severity": "fatal"}, "b")
    result = run_cli("test", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "a.yaml:3:" in result.stderr and "b.yaml:4:" in result.stderr


def test_only_the_named_files_are_tested(tmp_path):
    path = write_rule(tmp_path, MEDICARE_UNASSIGNED)
    result = run_cli("test", str(path), "--engine", "durable", cwd=tmp_path)
    assert result.returncode == 0
    assert {rule for _, _, rule, _, _, _ in case_lines(result.stdout)} == {"my-medicare-unassigned"}
    assert summary(result.stdout) == (3, 0, 0, 1)
