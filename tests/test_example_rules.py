"""The ten analyst edits in examples/rules: their cases pass on both engines, and `scrubber check --rules
examples/rules` flags, in a real 837P, every claim a flag case describes (and no pass or near-miss claim)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scrubber.rules import load_rules
from scrubber.rules.testing import build_case_claim
from scrubber.writers.x12_837p import write

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "rules"
RULES = [rule for rule in load_rules([EXAMPLES]) if rule.file and Path(rule.file).parent == EXAMPLES]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrubber", *args], capture_output=True, text=True)


def test_ten_edits_one_file_each():
    assert len(RULES) == 10
    assert len({rule.file for rule in RULES}) == 10


def test_scrubber_test_passes_on_both_engines():
    result = run("test", str(EXAMPLES))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert " 0 failed" in result.stdout


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> tuple[dict, dict]:
    """Every case claim of every example rule in one 837P, checked with the examples added."""
    claims, expected = [], {}
    for rule in RULES:
        for number, case in enumerate(rule.cases):
            claim_id = f"{rule.id[:20]}-{number}"
            claim = build_case_claim({**case.claim, "claim_id": claim_id})
            try:
                write([claim])
            except ValueError:
                continue  # more than the 837P carries (five pointers): the case runs on the model only
            claims.append(claim)
            expected[claim_id] = (rule.id, case.expect)
    path = tmp_path_factory.mktemp("edits") / "example-edits.837"
    path.write_text(write(claims, date=claims[0].batch_date))
    result = run("check", str(path), "--rules", str(EXAMPLES), "--format", "json", "--no-progress", "--jobs", "1")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    return {claim["claim_id"]: claim for claim in report["claims"]}, expected


def test_check_flags_what_each_case_says(checked):
    results, expected = checked
    assert set(results) == set(expected)
    for claim_id, (rule_id, expect) in expected.items():
        fired = {finding["rule"] for finding in results[claim_id]["findings"]}
        if expect == "flag":
            assert rule_id in fired, f"{claim_id}: {rule_id} should flag"
        else:
            assert rule_id not in fired, f"{claim_id}: {rule_id} should not flag ({expect})"


def test_findings_point_at_real_segments(checked):
    results, expected = checked
    for claim_id, (rule_id, expect) in expected.items():
        for finding in results[claim_id]["findings"]:
            if finding["rule"] == rule_id:
                assert finding["segment"] is not None and finding["segment_id"], finding
