"""Inputs shared by the reporter tests (tests/test_reporters_*.py): claims with one known finding each.

Rules are pinned with ``SELECT`` so that rules added later do not change the counts the tests check:
CO-111 (an error on service line 2), CO-21 (a tort-state warning, claim level) and a test-only ``info``
rule (``INFO_RULE``, written to a file by ``info_rule``) whose message and fix render ``{claim_id}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from conftest import ROOT, batch, claim, line, subscriber

INFO_RULE_ID = "test-place-of-service-99"
INFO_RULE = f"""
id: {INFO_RULE_ID}
name: Place of service 99 (reporter test rule)
carc: CO-5
rarc: [M77]
severity: info
scope: claim
element: CLM05-1
when:
  all:
    - {{fact: place_of_service, eq: "99"}}
message: "claim {{claim_id}} uses place of service {{place_of_service}}"
fix: "Check the place of service of claim {{claim_id}}"
explanation: A rule that exists only for the reporter tests, to have an info finding that names its claim.
sources:
  - "tests/reporter_inputs.py: written for the reporter tests"
cases:
  - name: pos-99
    expect: flag
    claim: {{place_of_service: "99"}}
  - name: pos-11
    expect: pass
    claim: {{place_of_service: "11"}}
  - name: pos-98
    expect: near-miss
    claim: {{place_of_service: "98"}}
"""
SELECT = ("--select", "CO-111", "--select", "CO-21", "--select", INFO_RULE_ID)
ERROR_RULE = "unassigned-mandatory-assignment-service"
WARNING_RULE = "auto-accident-billed-to-health-plan-tort-state"


def error_claim(claim_id: str, hl: int, member: str = "1EG4TE5MK73", last: str = "TESTPERSON", first: str = "ALPHA") -> list[str]:
    """Medicare Part B, CLM07 'C', line 2 a lab test: CO-111 error on line 2."""
    return subscriber(hl, filing="MB", payer_name="MEDICARE PART B", member=member, last=last, first=first) + claim(
        claim_id, "180", assignment="C", lines=[line(1, "99213"), line(2, "80053", "80")]
    )


def warning_claim(claim_id: str, hl: int, **who) -> list[str]:
    """CLM11 AA:::CA (a tort state) billed to a commercial plan: CO-21 warning, claim level."""
    return subscriber(hl, filing="CI", **who) + claim(claim_id, related="AA:::CA")


def info_claim(claim_id: str, hl: int, **who) -> list[str]:
    return subscriber(hl, **who) + claim(claim_id, pos="99")


def clean_claim(claim_id: str, hl: int, **who) -> list[str]:
    return subscriber(hl, **who) + claim(claim_id)


def broken_claim(claim_id: str, hl: int, **who) -> list[str]:
    """CLM02 'ABC': the claim cannot be read."""
    return subscriber(hl, **who) + claim(claim_id, "ABC")


def mixed(newline: str = "\n", ids: Sequence[str] = ("E1", "W1", "I1", "G1", "B1")) -> str:
    """One file: an error, a warning, an info, a clean and an unreadable claim, in that order."""
    e, w, i, g, b = ids
    return batch(
        error_claim(e, 2) + warning_claim(w, 3) + info_claim(i, 4) + clean_claim(g, 5) + broken_claim(b, 6),
        newline=newline,
    )


def info_rule(directory: Path) -> Path:
    path = directory / "rules" / f"{INFO_RULE_ID}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(INFO_RULE, encoding="utf-8")
    return path


def check(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m scrubber check ...`` for real (``env`` added to the environment); never a traceback."""
    environ = {key: value for key, value in os.environ.items() if key not in ("GITHUB_STEP_SUMMARY", "SCRUBBER_REDACT_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "scrubber", "check", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
        env={**environ, **(env or {})},
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def json_report(*args: str, cwd: Path | None = None) -> dict:
    return json.loads(check(*args, "--format", "json", cwd=cwd).stdout)
