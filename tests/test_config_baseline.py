"""[tool.scrubber] configuration, baselines, progress display and the pre-commit entry points."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "fixtures" / "837p" / "seeds"


def scrub(*args, cwd=ROOT, **kw):
    done = subprocess.run([sys.executable, "-m", "scrubber", *args], capture_output=True, text=True, cwd=cwd, **kw)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def rules_in(stdout: str) -> set[str]:
    return {f["rule"] for claim in json.loads(stdout)["claims"] for f in claim["findings"]}


@pytest.fixture
def project(tmp_path):
    shutil.copy(SEEDS / "co-121-timely-and-indemnification.837", tmp_path / "batch.837")
    return tmp_path


def test_pyproject_config_selects_and_sets_fail_on(project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.scrubber]\nselect = ["OA-121"]\nfail-on = "info"\nformat = "json"\n')
    done = scrub("check", "batch.837", cwd=project)
    assert rules_in(done.stdout) == {"prior-payer-left-patient-responsibility"}
    assert done.returncode == 1  # an info finding fails at fail-on = info


def test_cli_flags_win_over_config(project):
    (project / "scrubber.toml").write_text('select = ["OA-121"]\nfail-on = "info"\n')
    done = scrub("check", "batch.837", "--fail-on", "error", "--format", "json", cwd=project)
    assert done.returncode == 0 and rules_in(done.stdout) == {"prior-payer-left-patient-responsibility"}
    done = scrub("check", "batch.837", "--select", "CO-29", "--format", "json", cwd=project)
    assert rules_in(done.stdout) == {"timely-filing-limit-passed"}


def test_config_found_in_a_parent_directory_and_paths_are_relative_to_it(project):
    (project / "payers").mkdir()
    (project / "payers" / "acme.yaml").write_text(
        "id: acme\nname: Acme\nmatch: {filing_indicators: [CI]}\ntimely_filing_days: 400\ntimely_filing_source: contract\n")
    (project / "scrubber.toml").write_text('profiles = ["payers"]\nformat = "json"\n')
    (project / "sub").mkdir()
    done = scrub("check", "../batch.837", cwd=project / "sub")
    assert "timely-filing-limit-passed" not in rules_in(done.stdout)  # 400 days: not late any more


def test_per_rule_severity_from_config(project):
    (project / "scrubber.toml").write_text('format = "json"\n[severity]\n"timely-filing-limit-passed" = "warning"\n')
    done = scrub("check", "batch.837", cwd=project)
    severities = {f["rule"]: f["severity"] for c in json.loads(done.stdout)["claims"] for f in c["findings"]}
    assert severities["timely-filing-limit-passed"] == "warning"
    assert done.returncode == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('selct = ["CO-111"]\n', "unknown key 'selct'"),
        ('fail-on = "fatal"\n', "'fail-on' must be one of"),
        ('select = "CO-111"\n', "'select' must be a list"),
        ("select = [\n", "cannot read TOML"),
        ('[severity]\n"x" = "loud"\n', "severity of 'x'"),
    ],
)
def test_bad_config_is_a_usage_error_naming_the_key(project, text, message):
    (project / "scrubber.toml").write_text(text)
    done = scrub("check", "batch.837", cwd=project)
    assert done.returncode == 2 and message in done.stderr and "scrubber.toml" in done.stderr


def test_baseline_reports_only_new_findings_and_survives_reordering(project, tmp_path):
    baseline = tmp_path / "baseline.json"
    first = scrub("check", "batch.837", "--write-baseline", str(baseline), "--format", "json", cwd=project)
    assert first.returncode == 0 and rules_in(first.stdout)  # recording the findings is not failing on them
    assert "LATE-COMM" not in baseline.read_text()  # claim ids are hashed, never stored
    again = scrub("check", "batch.837", "--baseline", str(baseline), "--format", "json", cwd=project)
    report = json.loads(again.stdout)
    assert again.returncode == 0 and rules_in(again.stdout) == set()
    assert report["summary"]["claims"] == 3 and report["summary"]["clean"] == 3
    # The same claims in another order and another file, plus one new problem: only the new one shows.
    shutil.copy(SEEDS / "co-111-assignment.837", project / "other.837")
    mixed = scrub("check", "other.837", "batch.837", "--baseline", str(baseline), "--format", "json", cwd=project)
    assert rules_in(mixed.stdout) == {"unassigned-mandatory-assignment-service", "lab-only-assignment-on-non-lab-service"}


def test_unreadable_baseline_is_a_usage_error(project):
    (project / "baseline.json").write_text("{not json")
    done = scrub("check", "batch.837", "--baseline", "baseline.json", cwd=project)
    assert done.returncode == 2 and "baseline.json" in done.stderr


def _run_on_a_terminal(args, cwd):
    """Run the CLI with stderr on a pseudo-terminal; return what appeared there."""
    parent, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "scrubber", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=child, env={**os.environ, "COLUMNS": "120"})
    os.close(child)
    seen = b""
    while True:
        ready, _, _ = select.select([parent], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(parent, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=60)
    os.close(parent)
    return seen.decode("utf-8", "replace")


def test_progress_shows_on_a_terminal_only(project):
    assert "scrubbing" in _run_on_a_terminal(["check", "batch.837"], project)
    assert "scrubbing" not in _run_on_a_terminal(["check", "batch.837", "--no-progress"], project)
    assert "scrubbing" not in scrub("check", "batch.837", cwd=project).stderr  # not a terminal


def test_guard_refuses_production_interchanges(tmp_path):
    text = (SEEDS / "co-111-assignment.837").read_text()
    test_file, production = tmp_path / "test.837", tmp_path / "prod.837"
    test_file.write_text(text)
    isa = text.split("~", 1)[0]
    fields = isa.split("*")
    fields[15] = "P"
    production.write_text("*".join(fields) + text[len(isa):])
    assert scrub("guard", str(test_file)).returncode == 0
    done = scrub("guard", str(test_file), str(production))
    assert done.returncode == 1 and "prod.837" in done.stderr and "test.837" not in done.stderr


def test_pre_commit_hook_entries_run():
    import yaml

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"scrubber-check", "scrubber-no-production-data"}
    for hook in hooks.values():
        assert hook["entry"].split()[0] == "scrubber"
    check_args = hooks["scrubber-check"]["entry"].split()[1:]
    assert scrub(*check_args, str(SEEDS / "co-21-auto-accident.837")).returncode == 1
    guard_args = hooks["scrubber-no-production-data"]["entry"].split()[1:]
    assert scrub(*guard_args, str(SEEDS / "co-21-auto-accident.837")).returncode == 0
