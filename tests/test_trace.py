"""`scrubber test --trace RULE`: the facts a rule saw and which part of its condition was false."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "rules"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrubber", *args], capture_output=True, text=True)


def test_trace_shows_facts_and_the_false_part():
    result = run("test", str(EXAMPLES / "therapeutic-exercise-units-per-day.yaml"), "--trace", "therapeutic-exercise-units-per-day")
    assert result.returncode == 0, result.stdout + result.stderr
    block = result.stdout.split("five-units-over-two-days (near-miss)")[-1].split("\nok")[0]
    assert "'line.units': '3'" in block and "'line.service_date': '2026-01-10'" in block  # units and ISO dates, not internals
    assert 'FALSE {"sum": "line.units"' in block
    assert 'true  {"fact": "line.procedure", "eq": "97110"}' in block


def test_trace_of_another_rule_prints_nothing_extra():
    result = run("test", str(EXAMPLES / "replacement-claim-zero-charge.yaml"), "--trace", "no-such-rule")
    assert result.returncode == 0
    assert "FALSE" not in result.stdout and "facts {" not in result.stdout
