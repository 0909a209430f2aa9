"""``scrubber check --validate``: pyx12's implementation-guide errors as ``x12-ig-*`` findings, run for real."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import MIXED_BATCH, SAMPLES, batch, claim, line, run_cli, segment_index, simple_claims, subscriber
from scrubber.validate_ig import CARC, DECLARED, VALIDATED, _rewrite_a2, validate


# 2400 order: LX, SV1, PWK, DTP*472. PWK02 'AD' was a 4010 code, not a 5010 one.
PWK_LINE = ["LX*1", "SV1*HC:99213*100*UN*1***1", "PWK*OZ*AD", "DTP*472*D8*20260110"]


def check_json(*args: str) -> tuple[int, dict]:
    result = run_cli("check", *args, "--format", "json", timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def ig_findings(report: dict) -> list[tuple[str, dict]]:
    return [(c["claim_id"], f) for c in report["claims"] for f in c["findings"] if f["rule"].startswith("x12-ig-")]


def test_clean_file_has_no_ig_findings(write_file):
    path = write_file("clean.837", batch(simple_claims(["C1", "C2"])))
    code, report = check_json(str(path), "--validate")
    assert code == 0, report
    assert ig_findings(report) == [] and report["errors"] == []


def test_broken_file_line_and_subscriber_errors(write_file):
    # Line 1 of L1 carries PWK02 'AD' (not a 5010 code); subscriber 4's SBR09 'XX' is not a filing indicator,
    # so both of its claims (L2, L3) get that finding; L0 under a good subscriber gets nothing.
    text = batch(
        subscriber(2) + claim("L0")
        + subscriber(3) + claim("L1", lines=[PWK_LINE, line(2, "99214")], charge="200")
        + subscriber(4, filing="XX") + claim("L2") + claim("L3")
    )
    path = write_file("broken.837", text)
    code, report = check_json(str(path), "--validate")
    assert code == 1
    found = ig_findings(report)
    by_claim = Counter(claim_id for claim_id, _ in found)
    assert by_claim == {"L1": 1, "L2": 1, "L3": 1}, found
    pwk = next(f for claim_id, f in found if claim_id == "L1")
    assert pwk["rule"] == "x12-ig-invalid-code" and pwk["element"] == "PWK02" and pwk["line"] == 1
    assert pwk["segment"] == segment_index(text, "PWK*OZ*AD")
    assert pwk["carc"] == CARC and pwk["rarc"] == ["MA130"] and pwk["severity"] == "error"
    assert "AD" in pwk["message"] and pwk["sources"][0].startswith("X12 005010X222A1")
    sbr = [f for claim_id, f in found if claim_id in ("L2", "L3")]
    assert {f["element"] for f in sbr} == {"SBR09"} and {f["segment"] for f in sbr} == {segment_index(text, "SBR*P*18*******XX")}
    assert sbr[0]["line"] is None
    statuses = {c["claim_id"]: c["status"] for c in report["claims"]}
    assert statuses["L0"] == "clean" and statuses["L1"] == "flagged"


def test_envelope_errors_are_input_problems(write_file):
    text = batch(simple_claims(["E1"]))
    start = text.index("\nSE*") + 1
    broken = text[:start] + "SE*99" + text[text.index("*", start + 3):]
    code, report = check_json(str(write_file("se.837", broken)), "--validate")
    ig = [error for error in report["errors"] if (error.get("location") or "").startswith("x12-ig-")]
    assert [error["location"] for error in ig] == ["x12-ig-transaction"]
    assert ig[0]["segment"] == segment_index(broken, "SE*99") and "99" in ig[0]["message"]
    assert ig_findings(report) == []


def test_unreadable_claim_errors_go_with_the_input_problems():
    code, report = check_json(str(MIXED_BATCH), "--validate")
    assert code == 1
    assert ig_findings(report) == []
    clm02 = [e for e in report["errors"] if (e.get("location") or "").startswith("x12-ig-invalid-character")]
    assert len(clm02) == 1 and clm02[0]["claim_id"] == "B2" and clm02[0]["segment"] == 49 and "CLM02" in clm02[0]["message"]
    # the rule findings are the same as without --validate
    _, plain = check_json(str(MIXED_BATCH))
    assert [c["findings"] for c in report["claims"]] == [c["findings"] for c in plain["claims"]]


def test_a2_files_are_checked_against_a1_and_say_so():
    sample = SAMPLES / "lfh_demo.cob.example4.837"
    before = sample.read_bytes()
    assert DECLARED.encode() in before
    code, report = check_json(str(sample), "--validate")
    assert sample.read_bytes() == before  # the rewrite is on a copy
    (amt,) = [f for _, f in ig_findings(report) if f["element"] == "AMT"]
    assert amt["rule"] == "x12-ig-unrecognized-segment" and "AMT*F2" in amt["message"]
    assert f"checked against {VALIDATED}" in amt["message"] and DECLARED in amt["message"]
    assert not any("could not run" in e["message"] for e in report["errors"])


def test_rewrite_touches_only_gs08_and_st03():
    text = batch(simple_claims(["A1"]), version="005010X222A2").replace("SYNTHETIC CLINIC", "005010X222A2")
    rewritten, changed = _rewrite_a2(text)
    assert changed and len(rewritten) == len(text)
    assert rewritten.count(VALIDATED) == 2 and rewritten.count(DECLARED) == 1  # the NM1 name is data
    assert _rewrite_a2("not x12") == ("not x12", False)


def test_input_pyx12_cannot_walk_is_one_problem():
    by_claim, issues, _ = validate(b"ISA*00*garbage~", "bad.837")
    assert by_claim == {} and len(issues) == 1 and "could not run" in issues[0].message
    by_claim, issues, _ = validate(b"", "empty.837")
    assert by_claim == {} and all(issue.file == "empty.837" for issue in issues)


def test_pyx12_logs_no_claim_values(write_file):
    path = write_file("broken.837", batch(subscriber(2) + claim("SECRET1", "ABCSECRET")))
    result = run_cli("check", str(path), "--validate", "--format", "json")
    assert "SECRET" not in result.stderr and "Line:" not in result.stderr, result.stderr


def test_shared_samples_validate():
    code, report = check_json(str(SAMPLES), "--validate")
    assert code in (0, 1)
    assert report["summary"]["claims"] == 35 and report["summary"]["unreadable"] == 0
    assert not [e for e in report["errors"] if "could not run" in e["message"]]  # every sample was validated
    found = ig_findings(report)
    assert len(found) >= 20
    for _, finding in found:
        assert finding["segment"] and finding["element"] and finding["message"] and finding["carc"] == CARC
    by_file = Counter(c["file"].rsplit("/", 1)[-1] for c in report["claims"] for f in c["findings"] if f["rule"].startswith("x12-ig-"))
    # the '>' component separator that ISA16 does not declare makes CLM05 and SV1 fail in example6; the
    # wheelchair claim has PWK02 'AD'; the ambulance sample is valid
    assert by_file["lfh_demo.example6.837"] >= 4 and by_file["badx12_X222-wheelchair.edi"] == 1
    assert by_file["badx12_X222-ambulance.edi"] == 0
    _, plain = check_json(str(SAMPLES))
    rule_findings = [[f for f in c["findings"] if not f["rule"].startswith("x12-ig-")] for c in report["claims"]]
    assert rule_findings == [c["findings"] for c in plain["claims"]]


def test_validate_without_pyx12_is_a_usage_error(tmp_path):
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['pyx12'] = None\n", encoding="utf-8")
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    result = subprocess.run(
        [sys.executable, "-m", "scrubber", "check", str(MIXED_BATCH), "--validate"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2 and "claim-scrubber[validate]" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["badx12_X222-wheelchair.edi", "lfh_demo.example6.837"])
def test_known_sample_errors_point_at_their_segment(name):
    text = (SAMPLES / name).read_text(encoding="latin-1")
    _, report = check_json(str(SAMPLES / name), "--validate")
    for _, finding in ig_findings(report):
        terminator = text[105]
        segments = [piece.strip() for piece in text.split(terminator) if piece.strip()]
        assert segments[finding["segment"] - 1].split(text[3])[0] in finding["element"] or finding["rule"].endswith("missing-segment")
