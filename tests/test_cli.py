"""The ``scrubber`` command line, run for real (``python -m scrubber``) on files made in tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MIXED_BATCH, ROOT, batch, claim, count_clm, line, run_cli, segment_index, simple_claims, subscriber

# --- inputs --------------------------------------------------------------------------------------

CLEAN = batch(simple_claims(["C1", "C2"]))
# Medicare Part B, CLM07 'C', a lab line that Medicare pays only on assignment: CO-111 (error).
ERROR = batch(
    subscriber(2, filing="MB", payer_name="MEDICARE PART B", member="1EG4TE5MK73")
    + claim("E1", "180", assignment="C", lines=[line(1, "99213", "100"), line(2, "80053", "80")])
)
# CLM11 AA:::CA (a tort state) billed to a commercial plan (SBR09 CI): only a warning.
WARNING = batch(subscriber(2, filing="CI") + claim("W1", related="AA:::CA"))
# One good claim, one unreadable (CLM02 'ABC'), one good claim.
ONE_BROKEN = batch(simple_claims(["G1"]) + subscriber(3) + claim("B1", "ABC") + subscriber(4) + claim("G2"))

CLAIM_KEYS = {"claim_id", "file", "segment", "status", "findings"}
FINDING_KEYS = {"rule", "carc", "rarc", "severity", "line", "message", "fix", "sources"}
SUMMARY_KEYS = {"files", "claims", "clean", "flagged", "unreadable", "findings"}
ERROR_KEYS = {"file", "segment", "claim_id", "message"}


def check(*args: str) -> subprocess.CompletedProcess:
    result = run_cli("check", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def check_json(*args: str) -> tuple[int, dict]:
    result = check(*args, "--format", "json")
    return result.returncode, json.loads(result.stdout)


@pytest.fixture
def files(write_file):
    return {
        "clean": write_file("clean.837", CLEAN),
        "error": write_file("error.837", ERROR),
        "warning": write_file("warning.837", WARNING),
        "broken": write_file("broken.837", ONE_BROKEN),
    }


# --- exit status ---------------------------------------------------------------------------------


def test_clean_file_exits_0(files):
    result = check(str(files["clean"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 claim(s)" in result.stdout


def test_error_finding_exits_1(files):
    code, report = check_json(str(files["error"]))
    assert code == 1
    (only,) = report["claims"]
    assert only["status"] == "flagged"
    assert [(f["rule"], f["carc"], f["severity"]) for f in only["findings"]] == [
        ("unassigned-mandatory-assignment-service", "CO-111", "error")
    ]


def test_mixed_batch_fixture_exit_and_report():
    code, report = check_json(str(MIXED_BATCH))
    assert code == 1
    assert [(c["claim_id"], c["status"], c["segment"]) for c in report["claims"]] == [
        ("A1", "flagged", 20),
        ("A2", "clean", 37),
        ("B2", "unreadable", 49),
    ]
    assert [f["carc"] for f in report["claims"][0]["findings"]] == ["CO-111"]
    assert report["summary"]["claims"] == 3 == count_clm(MIXED_BATCH.read_text())


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(None, 0), ("warning", 1), ("info", 1)],
)
def test_fail_on_with_only_a_warning(files, fail_on, expected):
    args = [str(files["warning"])] + (["--fail-on", fail_on] if fail_on else [])
    code, report = check_json(*args)
    assert code == expected
    (only,) = report["claims"]
    assert [(f["rule"], f["severity"]) for f in only["findings"]] == [
        ("auto-accident-billed-to-health-plan-tort-state", "warning")
    ]


def test_fail_on_info_with_a_clean_file(files):
    assert check(str(files["clean"]), "--fail-on", "info").returncode == 0


def test_fail_on_info_with_an_error(files):
    assert check(str(files["error"]), "--fail-on", "info").returncode == 1


@pytest.mark.parametrize("which", ["error", "broken"])
def test_exit_zero(files, which):
    result = check(str(files[which]), "--exit-zero")
    assert result.returncode == 0
    assert "1 flagged" in result.stdout or "1 unreadable" in result.stdout


def test_exit_zero_does_not_hide_usage_errors(tmp_path):
    assert check(str(tmp_path / "missing.837"), "--exit-zero").returncode == 2


def test_one_broken_claim_among_good_ones_exits_1_and_reports_the_good_ones(files):
    code, report = check_json(str(files["broken"]))
    assert code == 1
    assert [(c["claim_id"], c["status"]) for c in report["claims"]] == [
        ("G1", "clean"),
        ("B1", "unreadable"),
        ("G2", "clean"),
    ]
    broken = report["claims"][1]
    assert broken["segment"] == segment_index(ONE_BROKEN, "CLM*B1")
    assert broken["file"] == str(files["broken"])
    assert "CLM02" in broken["error"]
    assert report["summary"]["unreadable"] == 1 and report["summary"]["clean"] == 2
    (error,) = report["errors"]
    assert error["claim_id"] == "B1" and error["file"] == str(files["broken"]) and error["segment"] == broken["segment"]


def test_usage_error_no_such_path(tmp_path):
    result = check(str(tmp_path / "missing.837"))
    assert result.returncode == 2
    assert "missing.837" in result.stdout + result.stderr


def test_usage_error_directory_without_x12_files(tmp_path):
    (tmp_path / "notes.md").write_text("nothing here")
    result = check(str(tmp_path))
    assert result.returncode == 2
    assert "no .837" in result.stdout + result.stderr or "no claim" in result.stderr


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not an X12 file\n" * 5, bytes(range(256))],
    ids=["empty", "text", "binary"],
)
def test_no_claim_readable_exits_2(write_file, content):
    path = write_file("input.837", content)
    result = check(str(path))
    assert result.returncode == 2
    assert "no claim" in result.stderr


def test_only_unreadable_claims_exits_2(write_file):
    path = write_file("allbad.837", batch(subscriber(2) + claim("B1", "ABC")))
    code, report = check_json(str(path))
    assert code == 2
    assert report["summary"]["unreadable"] == 1 == report["summary"]["claims"]


def test_bad_flag_exits_2(files):
    result = run_cli("check", str(files["clean"]), "--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "unrecognized" in result.stderr


def test_unknown_select_prefix_exits_2(files):
    result = check(str(files["clean"]), "--select", "NO-SUCH-RULE")
    assert result.returncode == 2
    assert "NO-SUCH-RULE" in result.stderr


def test_unknown_ignore_prefix_exits_2(files):
    assert check(str(files["clean"]), "--ignore", "zzz-nothing").returncode == 2


def test_output_into_a_missing_directory_exits_2(files, tmp_path):
    result = check(str(files["clean"]), "--output", str(tmp_path / "no" / "such" / "dir" / "report.json"))
    assert result.returncode == 2


def test_missing_path_next_to_a_good_file_fails(files, tmp_path):
    result = check(str(files["clean"]), str(tmp_path / "typo.837"))
    assert result.returncode != 0


def test_unreadable_file_next_to_a_good_file_fails(files, write_file):
    garbage = write_file("garbage.837", b"this is not an X12 file\n" * 5)
    result = check(str(files["clean"]), str(garbage))
    assert result.returncode != 0


# --- JSON report ---------------------------------------------------------------------------------


def test_json_shape(files):
    code, report = check_json(str(files["error"]), str(files["broken"]), str(files["clean"]))
    assert code == 1
    assert set(report) == {"summary", "claims", "errors"}
    assert SUMMARY_KEYS <= set(report["summary"])
    assert report["summary"]["files"] == 3
    assert report["claims"], "claims are reported"
    for result in report["claims"]:
        assert CLAIM_KEYS <= set(result)
        assert result["status"] in ("clean", "flagged", "unreadable")
        assert isinstance(result["segment"], int) and result["file"]
        assert (result["status"] == "flagged") == bool(result["findings"])
        for finding in result["findings"]:
            assert FINDING_KEYS <= set(finding)
            assert isinstance(finding["rarc"], list) and isinstance(finding["sources"], list)
            assert finding["severity"] in ("error", "warning", "info")
            assert finding["message"] and finding["fix"]
    assert report["errors"]
    for error in report["errors"]:
        assert ERROR_KEYS <= set(error)
    summary = report["summary"]
    assert summary["claims"] == len(report["claims"]) == summary["clean"] + summary["flagged"] + summary["unreadable"]
    assert summary["findings"] == sum(len(c["findings"]) for c in report["claims"])


def test_claim_count_in_equals_claim_count_out(write_file):
    paths = [
        write_file("a.837", CLEAN),
        write_file("b.837", ERROR),
        write_file("c.837", ONE_BROKEN),
        write_file("d.837", WARNING),
        write_file("e.837", batch(simple_claims([f"M{i}" for i in range(40)]))),
    ]
    code, report = check_json(*map(str, paths))
    expected = sum(count_clm(p.read_text()) for p in paths)
    assert report["summary"]["claims"] == len(report["claims"]) == expected == 47
    order = [(c["file"], c["segment"]) for c in report["claims"]]
    assert order == sorted(order, key=lambda item: (paths.index(Path(item[0])), item[1]))  # input order


def test_directory_is_searched_recursively(write_file, tmp_path):
    write_file("in/one.837", CLEAN)
    write_file("in/deeper/two.x12", ERROR)
    write_file("in/readme.md", "not X12")
    code, report = check_json(str(tmp_path / "in"))
    assert code == 1
    assert report["summary"]["files"] == 2 and report["summary"]["claims"] == 3


def test_output_file(files, tmp_path):
    target = tmp_path / "report.json"
    result = check(str(files["error"]), "--format", "json", "--output", str(target))
    assert result.returncode == 1
    assert result.stdout.strip() == ""
    report = json.loads(target.read_text())
    assert report["summary"]["claims"] == 1 and report["claims"][0]["claim_id"] == "E1"


# --- rule selection --------------------------------------------------------------------------------


def test_select_by_carc(files):
    code, report = check_json(str(files["error"]), str(files["warning"]), "--select", "CO-111")
    assert code == 1
    rules = {f["rule"] for c in report["claims"] for f in c["findings"]}
    assert rules == {"unassigned-mandatory-assignment-service"}
    assert {c["claim_id"]: c["status"] for c in report["claims"]} == {"E1": "flagged", "W1": "clean"}


def test_select_other_carc_drops_the_finding(files):
    code, report = check_json(str(files["error"]), "--select", "CO-21")
    assert code == 0
    assert report["claims"][0]["status"] == "clean"


def test_ignore_by_prefix(files):
    code, report = check_json(str(files["error"]), str(files["warning"]), "--ignore", "unassigned-")
    assert code == 0
    assert {f["rule"] for c in report["claims"] for f in c["findings"]} == {
        "auto-accident-billed-to-health-plan-tort-state"
    }


# --- other commands ------------------------------------------------------------------------------


def test_rules_json():
    result = run_cli("rules", "--format", "json")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    rules = json.loads(result.stdout)
    assert isinstance(rules, list) and len(rules) >= 5
    for rule in rules:
        assert {"id", "name", "carc", "severity", "status", "sources"} <= set(rule)
        assert rule["severity"] in ("error", "warning", "info")
    ids = {rule["id"] for rule in rules}
    assert {"unassigned-dual-eligible", "auto-accident-billed-to-health-plan-tort-state"} <= ids
    assert len(ids) == len(rules)


def test_rules_select_json():
    result = run_cli("rules", "--format", "json", "--select", "CO-111")
    assert result.returncode == 0
    assert {rule["carc"] for rule in json.loads(result.stdout)} == {"CO-111"}


@pytest.mark.parametrize(
    ("name", "mentions"),
    [("CO-111", ["CO-111", "unassigned-dual-eligible"]), ("unassigned-dual-eligible", ["unassigned-dual-eligible", "CO-111"])],
)
def test_explain(name, mentions):
    result = run_cli("explain", name)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    for word in mentions:
        assert word in result.stdout


def test_explain_unknown_exits_2():
    result = run_cli("explain", "NOPE")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "NOPE" in result.stderr


def test_rule_cases_pass():
    result = run_cli("test")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Traceback" not in result.stderr
    assert " 0 failed" in result.stdout


# --- output into a closed pipe ------------------------------------------------------------------


def test_closed_pipe_is_not_an_error(write_file):
    """`scrubber check ... | head`: the reader of stdout goes away; no error message, exit 0."""
    big = write_file(
        "flagged.837",
        batch(
            [
                segment
                for i in range(400)
                for segment in subscriber(2 + i, filing="CI") + claim(f"W{i}", related="AA:::CA")
            ]
        ),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "scrubber", "check", str(big), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    process.stdout.read(100)
    process.stdout.close()  # like `| head -c 100`
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=120)
    assert "Traceback" not in stderr
    assert "Broken pipe" not in stderr
    assert code == 0
