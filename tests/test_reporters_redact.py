"""``--redact``: no claim id, name or member id survives in any output format; hashes are stable with a key."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from conftest import batch, read_text
from reporter_inputs import (
    INFO_RULE_ID,
    SELECT,
    broken_claim,
    check,
    clean_claim,
    error_claim,
    info_claim,
    info_rule,
    warning_claim,
)

from scrubber.findings import ClaimResult, Finding, Report, Summary
from scrubber.model import ParseIssue
from scrubber.redact import PREFIX, Redactor

WHO = {"last": "ZQWSMITH", "first": "ZQWJOHN", "member": "MBR99887766"}
IDS = ["PCN7771", "PCN7772", "PCN7773", "PCN7774", "PCN7775"]
SECRETS = [*IDS, *WHO.values()]
TOKEN = re.compile(re.escape(PREFIX) + r"[0-9a-f]{10}")
KEY = "test-key-not-a-secret"


def phi_batch() -> str:
    return batch(
        error_claim(IDS[0], 2, **WHO)
        + warning_claim(IDS[1], 3, **WHO)
        + info_claim(IDS[2], 4, **WHO)
        + clean_claim(IDS[3], 5, **WHO)
        + broken_claim(IDS[4], 6, **WHO)
    )


def token(value: str, key: str = KEY) -> str:
    return PREFIX + hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:10]


@pytest.fixture
def phi(tmp_path):
    (tmp_path / "phi.837").write_text(phi_batch(), encoding="latin-1")
    return tmp_path, ["phi.837", "--rules", str(info_rule(tmp_path)), *SELECT]


def test_the_input_really_holds_the_values(phi):
    cwd, args = phi
    result = check(*args, "--format", "json", cwd=cwd)
    for claim_id in IDS:
        assert claim_id in result.stdout
    assert f"claim {IDS[2]} uses place of service 99" in result.stdout  # a message that renders the claim id


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif", "junit", "github"])
def test_nothing_identifying_in_any_format(phi, fmt):
    cwd, args = phi
    summary = cwd / "summary.md"
    result = check(*args, "--format", fmt, "--redact", cwd=cwd, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 1
    outputs = [result.stdout, result.stderr] + ([summary.read_text(encoding="utf-8")] if summary.exists() else [])
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output, (fmt, secret)
    assert TOKEN.search(result.stdout), result.stdout
    if fmt == "github":
        assert TOKEN.search(outputs[-1])


def test_tokens_are_stable_with_a_key_and_unlinkable_without(phi):
    cwd, args = phi
    keyed = [json.loads(check(*args, "--format", "json", "--redact", cwd=cwd, env={"SCRUBBER_REDACT_KEY": KEY}).stdout) for _ in range(2)]
    assert keyed[0] == keyed[1]
    claims = keyed[0]["claims"]
    assert [c["claim_id"] for c in claims] == [token(claim_id) for claim_id in IDS]
    info = next(c for c in claims if c["findings"] and c["findings"][0]["rule"] == INFO_RULE_ID)
    assert info["findings"][0]["message"] == f"claim {token(IDS[2])} uses place of service 99"
    assert info["findings"][0]["fix"] == f"Check the place of service of claim {token(IDS[2])}"
    unreadable = claims[-1]
    assert unreadable["status"] == "unreadable" and unreadable["error"].startswith("2300 CLM: CLM02 'redacted:")
    assert keyed[0]["errors"][0]["claim_id"] == token(IDS[4])
    random_keys = [json.loads(check(*args, "--format", "json", "--redact", cwd=cwd).stdout) for _ in range(2)]
    first, second = ([c["claim_id"] for c in r["claims"]] for r in random_keys)
    assert all(TOKEN.fullmatch(value) for value in first)
    assert set(first).isdisjoint(second)


def test_sarif_fingerprints_stable_across_runs_with_the_key(phi):
    cwd, args = phi

    def prints() -> list[str]:
        result = check(*args, "--format", "sarif", "--redact", cwd=cwd, env={"SCRUBBER_REDACT_KEY": KEY})
        return [r["partialFingerprints"]["claimScrubber/v1"] for r in json.loads(result.stdout)["runs"][0]["results"]]

    assert prints() == prints()


def test_redaction_does_not_change_what_is_found(phi):
    cwd, args = phi
    plain = json.loads(check(*args, "--format", "json", cwd=cwd).stdout)
    redacted = json.loads(check(*args, "--format", "json", "--redact", cwd=cwd).stdout)
    assert plain["summary"] == redacted["summary"]
    assert [[f["rule"] for f in c["findings"]] for c in plain["claims"]] == [[f["rule"] for f in c["findings"]] for c in redacted["claims"]]


# --- the Redactor itself ---------------------------------------------------------------------------


def claims_of(text: str):
    claims, _ = read_text(text, "phi.837")
    return claims


def test_names_and_member_ids_of_the_claim_are_hashed_inside_messages():
    redactor = Redactor(KEY)
    claims = claims_of(batch(error_claim("PCN1", 2, **WHO)))
    list(redactor.watch(claims))
    claim = claims[0]
    finding = Finding("r", "n", "CO-1", (), (), "error", None, "NM109", 3, "member MBR99887766 (ZQWSMITH, ZQWJOHN) on PCN1", "call ZQWSMITH", ("s",))
    result = ClaimResult("PCN1", claim.source.file, claim.source.segment, "flagged", [finding], st_control="0001")
    redacted = redactor.claim_result(result)
    assert redacted.claim_id == token("PCN1")
    assert redacted.findings[0].message == f"member {token('MBR99887766')} ({token('ZQWSMITH')}, {token('ZQWJOHN')}) on {token('PCN1')}"
    assert redacted.findings[0].fix == f"call {token('ZQWSMITH')}"
    assert redacted.st_control == "0001" and redacted.file == claim.source.file
    assert result.claim_id == "PCN1"  # the original is untouched


def test_only_whole_values_are_replaced():
    redactor = Redactor(KEY)
    assert redactor.text("LAB lines in ALBANY", ["LAB"]) == f"{token('LAB')} lines in ALBANY"
    assert redactor.text("claim A1 and A12", ["A1"]) == f"claim {token('A1')} and A12"
    assert redactor.text("a 'B' code", ["B"]) == "a 'B' code"  # one character identifies no one


def test_quoted_input_values_in_input_problems_are_hashed():
    redactor = Redactor(KEY)
    issue = ParseIssue(file="f.837", segment=9, claim_id="PCN9", message="2010BA NM1: NM103 'ZQWSMITH' is not valid; separator ':' for PCN9")
    redacted = redactor.parse_issue(issue)
    assert redacted.claim_id == token("PCN9")
    assert redacted.message == f"2010BA NM1: NM103 '{token('ZQWSMITH')}' is not valid; separator ':' for {token('PCN9')}"
    assert redactor.parse_issue(redacted) == redacted  # redacting twice changes nothing


def test_report_for_the_library():
    redactor = Redactor(KEY)
    report = Report(
        results=[ClaimResult("PCN1", "f.837", 3, "clean")],
        errors=[ParseIssue(file="f.837", segment=3, claim_id="PCN1", message="x")],
        summary=Summary(claims=1, clean=1),
    )
    redacted = redactor.report(report)
    assert redacted.results[0].claim_id == redacted.errors[0].claim_id == token("PCN1")
    assert redacted.summary is report.summary


def test_key_from_the_environment():
    assert Redactor.from_env({"SCRUBBER_REDACT_KEY": KEY}).token("X1") == token("X1")
    assert Redactor.from_env({}).token("X1") != Redactor.from_env({}).token("X1")
