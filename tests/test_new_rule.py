"""`scrubber new-rule ID`: a template with every rule field and the three kinds of case, which loads and passes."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import run_cli
from scrubber.rules import RuleSpec, load_rules

INTERNAL_FIELDS = {"file", "warnings"}  # set by the loader, never written in a rule file


@pytest.mark.parametrize("scope", ["claim", "line"])
def test_the_template_has_every_field_loads_and_passes_its_cases(tmp_path, scope):
    result = run_cli("new-rule", f"my-{scope}-edit", "--scope", scope, "--dir", str(tmp_path / "rules"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "rules" / f"my-{scope}-edit.yaml"
    assert str(path) in result.stdout and "scrubber test" in result.stdout
    text = path.read_text()
    data = yaml.safe_load(text)
    assert set(data) == set(RuleSpec.model_fields) - INTERNAL_FIELDS
    assert data["id"] == f"my-{scope}-edit" and data["scope"] == scope
    assert [case["expect"] for case in data["cases"]] == ["flag", "pass", "near-miss"]
    assert re.search(r"^  # - name: .*\n  #   expect: todo-flag$", text, re.M)  # the commented known-gap example
    for field in set(RuleSpec.model_fields) - INTERNAL_FIELDS:  # every field says what it is
        assert re.search(rf"^# {field}: \S", text, re.M), field
    (rule,) = load_rules([path])
    assert rule.id == f"my-{scope}-edit"
    tested = run_cli("test", str(path), cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout
    assert "6 passed, 0 failed, 0 todo (1 rules)" in tested.stdout


def test_the_commented_todo_example_is_a_valid_todo_case(tmp_path):
    assert run_cli("new-rule", "my-edit", "--dir", str(tmp_path), cwd=tmp_path).returncode == 0
    path = tmp_path / "my-edit.yaml"
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  # - name:"))
    lines[start:] = [line.replace("  # ", "  ", 1) for line in lines[start:]]
    path.write_text("\n".join(lines) + "\n")
    tested = run_cli("test", str(path), "--engine", "python", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout
    assert "3 passed, 0 failed, 1 todo (1 rules)" in tested.stdout


def test_the_default_directory_is_the_current_one(tmp_path):
    result = run_cli("new-rule", "here-edit", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "here-edit.yaml").is_file()


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("# my work\n")
    result = run_cli("new-rule", "mine", "--dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "already exists" in result.stderr and str(path) in result.stderr
    assert path.read_text() == "# my work\n"


@pytest.mark.parametrize(("rule_id", "says"), [("Bad_Id", "lowercase"), ("unassigned-dual-eligible", "bundled rule")])
def test_bad_or_taken_ids_are_refused(tmp_path, rule_id, says):
    result = run_cli("new-rule", rule_id, "--dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and says in result.stderr
    assert list(tmp_path.iterdir()) == []
