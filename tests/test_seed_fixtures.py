"""The 837P fixtures built for each seed denial code: each claim gets exactly the findings listed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_seed_fixtures", ROOT / "fixtures" / "make_seed_fixtures.py")
make_seed_fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_seed_fixtures)


@pytest.mark.parametrize("file", sorted(make_seed_fixtures.FIXTURES))
def test_committed_fixture_is_the_scripts_output(file):
    assert (make_seed_fixtures.OUT / file).read_text(encoding="ascii") == make_seed_fixtures.render(file)


@pytest.mark.parametrize("file", sorted(make_seed_fixtures.FIXTURES))
def test_each_claim_gets_exactly_its_expected_findings(file):
    done = subprocess.run(
        [sys.executable, "-m", "scrubber", "check", str(make_seed_fixtures.OUT / file), "--format", "json"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    got = {claim["claim_id"]: {f["rule"] for f in claim["findings"]} for claim in report["claims"]}
    expected = {claim_id: rules for claim_id, _, rules in make_seed_fixtures.FIXTURES[file]}
    assert got == expected
    assert report["errors"] == []
    assert done.returncode == (1 if any(
        f["severity"] == "error" for claim in report["claims"] for f in claim["findings"]) else 0)


def test_every_seed_code_fires_on_its_fixture():
    rules_by_file = {file: set().union(*(r for _, _, r in rows)) for file, rows in make_seed_fixtures.FIXTURES.items()}
    from scrubber.rules import load_rules

    codes = {rule.id: {rule.carc, *rule.derived_from} for rule in load_rules()}
    for seed, file in [("CO-111", "co-111-assignment.837"), ("CO-21", "co-21-auto-accident.837"),
                       ("CO-23", "co-23-prior-payer.837"), ("CO-122", "co-122-behavioral-health.837"),
                       ("CO-121", "co-121-timely-and-indemnification.837")]:
        assert any(seed in codes[rule] for rule in rules_by_file[file]), seed
