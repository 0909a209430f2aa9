"""``scrubber check --output``: reports are replaced whole or not at all, never written over an input, and
never read back as claims by the next run (scrubber/reporters/__init__.py ``atomic_output``,
scrubber/inputs.py ``output_conflict`` and ``own_report``, scrubber/readers/json.py ``report_kind``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MIXED_BATCH, ROOT, run_cli

GOOD_REPORT = '{"claims": [], "errors": [], "summary": {"claims": 1}}\n'


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.837"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate_837p.py"), "20000", str(path)],
        check=True, capture_output=True, cwd=ROOT,
    )
    return path


def _partial_output(directory: Path, report: Path) -> bool:
    """The killed run has written part of its report: into a temporary file, or (before the fix) over the report."""
    if report.read_text(encoding="utf-8") != GOOD_REPORT:
        return True
    return any(p.stat().st_size > 0 for p in directory.iterdir() if p.name.startswith(f".{report.name}."))


# --- 1. atomic reports -----------------------------------------------------------------------------------


def test_a_killed_run_leaves_the_previous_report_whole_and_a_finished_run_replaces_it(tmp_path, big_file):
    report = tmp_path / "report.json"
    report.write_text(GOOD_REPORT, encoding="utf-8")
    command = [sys.executable, "-m", "scrubber", "check", str(big_file), "--format", "json", "-o", str(report),
               "--no-progress", "--jobs", "1"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _partial_output(tmp_path, report):
            assert process.poll() is None, "the run finished before it could be killed mid-way"
            assert time.monotonic() < deadline, "the run never started writing its report"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert report.read_text(encoding="utf-8") == GOOD_REPORT

    result = run_cli("check", str(MIXED_BATCH), "--format", "json", "-o", str(report), "--no-progress")
    assert result.returncode == 1, result.stderr
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["summary"]["claims"] == 3


def test_a_run_that_fails_keeps_the_old_report_and_leaves_no_temporary_file(tmp_path):
    from scrubber.reporters import atomic_output

    report = tmp_path / "report.txt"
    report.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_output(report) as out:
        out.write("half a rep")
        raise RuntimeError("crash")
    assert report.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_the_replaced_report_keeps_its_permissions_and_a_new_one_follows_the_umask(tmp_path):
    from scrubber.reporters import atomic_output

    report = tmp_path / "report.txt"
    report.write_text("old\n", encoding="utf-8")
    os.chmod(report, 0o640)
    with atomic_output(report) as out:
        out.write("new\n")
    assert report.read_text(encoding="utf-8") == "new\n" and (report.stat().st_mode & 0o777) == 0o640
    fresh = tmp_path / "fresh.txt"
    mask = os.umask(0o022)
    try:
        with atomic_output(fresh) as out:
            out.write("x")
    finally:
        os.umask(mask)
    assert (fresh.stat().st_mode & 0o777) == 0o644


def test_write_baseline_is_written_whole(tmp_path):
    baseline = tmp_path / "baseline.json"
    result = run_cli("check", str(MIXED_BATCH), "--write-baseline", str(baseline), "--no-progress")
    assert result.returncode == 0, result.stderr  # the baseline was written: recording findings is not failing on them
    assert json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


def test_output_into_a_missing_directory_names_the_output_path(tmp_path):
    target = tmp_path / "missing" / "report.json"
    result = run_cli("check", str(MIXED_BATCH), "-o", str(target), "--no-progress")
    assert result.returncode == 2
    assert str(target) in result.stderr and ".tmp" not in result.stderr


# --- 2. --output never overwrites an input ------------------------------------------------------------------


def test_output_naming_an_input_file_is_refused_and_the_input_kept(tmp_path):
    claims = tmp_path / "claims.837"
    shutil.copy(MIXED_BATCH, claims)
    before = claims.read_bytes()
    result = run_cli("check", str(claims), "-o", str(claims), "--no-progress")
    assert result.returncode == 2
    assert "--output" in result.stderr and "is the input" in result.stderr
    assert claims.read_bytes() == before


def test_output_naming_an_input_through_a_link_or_another_spelling_is_refused(tmp_path):
    claims = tmp_path / "claims.837"
    shutil.copy(MIXED_BATCH, claims)
    before = claims.read_bytes()
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.837"
    link.symlink_to(claims)
    hard = tmp_path / "hard.837"
    os.link(claims, hard)
    for output in (link, hard, tmp_path / "sub" / ".." / "claims.837"):
        result = run_cli("check", str(claims), "-o", str(output), "--no-progress")
        assert result.returncode == 2, (output, result.stderr)
        assert claims.read_bytes() == before


def test_output_naming_a_file_inside_an_input_directory_is_refused(tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    claims = batch / "claims.837"
    shutil.copy(MIXED_BATCH, claims)
    before = claims.read_bytes()
    result = run_cli("check", str(batch), "-o", str(claims), "--no-progress")
    assert result.returncode == 2
    assert "is an input file" in result.stderr and str(batch) in result.stderr
    assert claims.read_bytes() == before


def test_write_baseline_naming_an_input_is_refused(tmp_path):
    claims = tmp_path / "claims.837"
    shutil.copy(MIXED_BATCH, claims)
    before = claims.read_bytes()
    result = run_cli("check", str(claims), "--write-baseline", str(claims), "--no-progress")
    assert result.returncode == 2 and "--write-baseline" in result.stderr
    assert claims.read_bytes() == before


# --- 3. our own reports are not inputs ---------------------------------------------------------------------


@pytest.mark.parametrize("report_format", ["json", "jsonl", "text", "sarif", "github", "junit"])
def test_a_report_in_the_input_directory_is_not_read_as_claims(tmp_path, report_format):
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(MIXED_BATCH, batch / "claims.837")
    suffix = {"json": "json", "jsonl": "jsonl", "text": "txt", "sarif": "json", "github": "txt", "junit": "txt"}
    report = batch / f"report.{suffix[report_format]}"
    for _ in range(2):  # the second run finds the first one's report in the directory
        result = run_cli("check", str(batch), "--format", report_format, "-o", str(report), "--no-progress")
        assert result.returncode == 1, result.stderr
    # an earlier report under another name is recognised by its content and skipped with an info
    result = run_cli("check", str(batch), "--format", "json", "-o", str(tmp_path / "out.json"), "--no-progress")
    assert result.returncode == 1, result.stderr
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert document["summary"]["claims"] == 3, document["errors"]
    skipped = [e for e in document["errors"] if e["file"] == str(report)]
    assert [e["severity"] for e in skipped] == ["info"] and "report" in skipped[0]["message"]


def test_the_current_output_is_left_out_of_the_inputs_silently(tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    shutil.copy(MIXED_BATCH, batch / "claims.837")
    report = batch / "report.json"
    for _ in range(2):
        result = run_cli("check", str(batch), "--format", "json", "-o", str(report), "--no-progress")
        assert result.returncode == 1, result.stderr
        document = json.loads(report.read_text(encoding="utf-8"))
        assert document["summary"]["files"] == 1 and document["summary"]["claims"] == 3
        assert all(e["file"] != str(report) for e in document["errors"])


def test_a_reformatted_json_report_named_directly_is_skipped_with_an_info(tmp_path):
    result = run_cli("check", str(MIXED_BATCH), "--format", "json", "--no-progress")
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(result.stdout), indent=4), encoding="utf-8")
    result = run_cli("check", str(pretty), str(MIXED_BATCH), "--no-progress")
    assert result.returncode == 1, result.stderr
    assert f"{pretty}: info: a scrubber json report, not claims: skipped" in result.stdout
    assert "3 claim(s)" in result.stdout


def test_output_to_dev_stdout_writes_the_stream_even_when_it_is_redirected_to_a_file(tmp_path):
    captured = tmp_path / "captured.txt"
    with open(captured, "a") as stdout:  # as `>> captured.txt`
        inode = os.fstat(stdout.fileno()).st_ino
        stdout.write("before\n")
        stdout.flush()
        result = subprocess.run(
            [sys.executable, "-m", "scrubber", "check", str(MIXED_BATCH), "-o", "/dev/stdout", "--no-progress"],
            check=False, stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120,
        )
        stdout.write("after\n")  # the same open file: not replaced under the caller
    assert result.returncode == 1, result.stderr
    text = captured.read_text(encoding="utf-8")
    assert text.startswith("before\n") and "3 claim(s)" in text and text.endswith("after\n")
    assert captured.stat().st_ino == inode and [p.name for p in tmp_path.iterdir()] == ["captured.txt"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_write_error_names_where_it_was_writing():
    result = run_cli("check", str(MIXED_BATCH), "--format", "json", "-o", "/dev/full", "--no-progress")
    assert result.returncode == 2 and "/dev/full" in result.stderr and "No space left" in result.stderr
    with open("/dev/full", "w") as full:
        piped = subprocess.run([sys.executable, "-m", "scrubber", "check", str(MIXED_BATCH), "--format", "json", "--no-progress"],
                               stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert piped.returncode == 2 and "writing standard output: No space left" in piped.stderr
    assert "Traceback" not in piped.stderr
