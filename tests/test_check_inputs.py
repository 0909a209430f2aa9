"""``scrubber check``'s inputs: an 835 is sent to ``scrubber remit``, ``-`` reads standard input, and
``--statistics`` counts findings by rule (scrubber/commands/check.py, scrubber/inputs.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import MIXED_BATCH, ROOT, run_cli

REMIT = ROOT / "fixtures" / "835" / "samples" / "lfh_demo.835"
PAIRED_REMIT = ROOT / "fixtures" / "paired" / "era-1.835"
CSV_EXPORT = ROOT / "fixtures" / "csv" / "cross-format.csv"
JSONL_EXPORT = ROOT / "fixtures" / "jsonl" / "cross-format.jsonl"


def run_stdin(data: bytes, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "scrubber", "check", *args], check=False, input=data, capture_output=True, cwd=ROOT, timeout=120
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    return result


# --- 5. an 835 given to check ---------------------------------------------------------------------------


def test_an_835_is_told_to_use_remit_and_exits_2(tmp_path):
    renamed = tmp_path / "era.x12"  # told by content, not by name
    shutil.copy(REMIT, renamed)
    for path in (REMIT, renamed, PAIRED_REMIT):
        result = run_cli("check", str(path), "--no-progress")
        assert result.returncode == 2, result.stdout
        assert "this is a remittance (835)" in result.stdout and "scrubber remit" in result.stdout
        assert "is not an 837P segment" not in result.stdout  # not one error per 835 segment
        assert "scrubber remit" in result.stderr


def test_an_835_beside_claims_is_an_input_error_and_the_claims_are_scrubbed(tmp_path):
    result = run_cli("check", str(REMIT), str(MIXED_BATCH), "--format", "json", "--no-progress")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["summary"]["claims"] == 3
    (problem,) = [e for e in document["errors"] if e["file"] == str(REMIT)]
    assert problem["severity"] == "error" and "use `scrubber remit`" in problem["message"]


def test_remittance_detection_by_content():
    from scrubber.inputs import is_remittance, read_file

    assert is_remittance(REMIT.read_bytes()[:65536])
    assert not is_remittance(MIXED_BATCH.read_bytes())
    assert is_remittance(b"ST*835*0001~BPR*I*10*C*ACH~TRN*1*1*1~")  # no envelope
    assert is_remittance(b"BPR*I*10*C*ACH~CLP*A1*1*100*80~")  # no ST: 835 segments and no CLM
    assert not is_remittance(b"claim_id,procedure_code\nA1,99213\n")
    (issue,) = list(read_file(REMIT))
    assert "use `scrubber remit`" in issue.message


# --- 6. standard input ------------------------------------------------------------------------------------


def test_dash_reads_x12_from_standard_input_named_stdin():
    result = run_stdin(MIXED_BATCH.read_bytes(), "-", "--format", "json", "--no-progress")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["claims"] == 3 and document["summary"]["files"] == 1
    assert {claim["file"] for claim in document["claims"]} == {"<stdin>"}
    assert {error["file"] for error in document["errors"]} == {"<stdin>"}


def test_dash_reads_json_lines_and_csv_told_by_content():
    for export in (JSONL_EXPORT, CSV_EXPORT):
        expected = json.loads(run_cli("check", str(export), "--format", "json", "--no-progress").stdout)
        result = run_stdin(export.read_bytes(), "-", "--format", "json", "--no-progress")
        document = json.loads(result.stdout)
        assert document["summary"]["claims"] == expected["summary"]["claims"] > 0, (export, result.stderr)
        assert [c["status"] for c in document["claims"]] == [c["status"] for c in expected["claims"]]
        assert {claim["file"] for claim in document["claims"]} == {"<stdin>"}


def test_dash_with_other_paths_and_in_text_format():
    result = run_stdin(MIXED_BATCH.read_bytes(), str(MIXED_BATCH), "-", "--no-progress")
    assert result.returncode == 1
    text = result.stdout.decode()
    assert "<stdin>: claim B2" in text and f"{MIXED_BATCH}:" in text
    assert "2 file(s), 6 claim(s)" in text


def test_an_835_on_standard_input_is_named_stdin():
    result = run_stdin(REMIT.read_bytes(), "-", "--no-progress")
    assert result.returncode == 2
    assert "<stdin>: error: this is a remittance (835)" in result.stdout.decode()


# --- 7. --statistics ----------------------------------------------------------------------------------------


def _table(text: str) -> list[tuple[int, str, str]]:
    rows = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((int(parts[0]), parts[1].strip(), parts[2]))
    return rows


def _expected(paths: list[str]) -> list[tuple[int, str, str]]:
    document = json.loads(run_cli("check", *paths, "--format", "json", "--no-progress").stdout)
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for claim in document["claims"]:
        for finding in claim["findings"]:
            counts[finding["rule"]] = counts.get(finding["rule"], 0) + 1
            names[finding["rule"]] = finding["name"]
    return sorted(((n, rule, names[rule]) for rule, n in counts.items()), key=lambda row: (-row[0], row[1]))


def test_statistics_in_text_replace_the_findings_and_keep_the_summary():
    paths = [str(p) for p in sorted((ROOT / "fixtures" / "837p" / "samples").iterdir())[:12]] + [str(MIXED_BATCH)]
    expected = _expected(paths)
    assert len(expected) > 1
    result = run_cli("check", *paths, "--statistics", "--no-progress")
    assert result.returncode in (0, 1), result.stderr
    assert _table(result.stdout) == expected
    assert "fix:" not in result.stdout and "finding(s)\n    " not in result.stdout  # no findings listed
    assert "claim B2 (segment 49): unreadable" in result.stdout  # input problems still are
    assert "claim(s):" in result.stdout.splitlines()[-1]
    counts = [count for count, _, _ in _table(result.stdout)]
    assert counts == sorted(counts, reverse=True)


def test_statistics_with_a_machine_format_come_after_the_report(tmp_path):
    report = tmp_path / "report.json"
    result = run_cli("check", str(MIXED_BATCH), "--format", "json", "-o", str(report), "--statistics", "--no-progress")
    assert result.returncode == 1
    assert _table(result.stdout) == _expected([str(MIXED_BATCH)])
    json.loads(report.read_text(encoding="utf-8"))  # the report itself is untouched JSON
    # with the report on stdout, the table goes to stderr so that stdout stays one JSON document
    result = run_cli("check", str(MIXED_BATCH), "--format", "json", "--statistics", "--no-progress")
    json.loads(result.stdout)
    assert _table(result.stderr) == _expected([str(MIXED_BATCH)])


def test_statistics_without_findings():
    result = run_cli(
        "check", str(MIXED_BATCH), "--statistics", "--ignore", "unassigned-mandatory-assignment-service", "--no-progress"
    )
    assert result.returncode == 1, result.stderr  # the unreadable claim
    assert "no findings\n" in result.stdout and _table(result.stdout) == []
