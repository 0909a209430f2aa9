"""``--jobs N`` gives exactly the report of one process: same claims, same order, same findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scrubber.parallel import MIN_BYTES_PER_WORKER, effective_jobs

ROOT = Path(__file__).resolve().parents[1]


def check(*args):
    done = subprocess.run([sys.executable, "-m", "scrubber", "check", *args, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "batch.837"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate_837p.py"), "1500", str(path), "--seed", "7"],
                   check=True, capture_output=True)
    return path


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_parallel_report_equals_the_single_process_report(generated, jobs):
    inputs = [str(generated), "fixtures/837p/seeds", "fixtures/837p/bad", "fixtures/837p/mixed-batch.837"]
    single = check(*inputs, "--jobs", "1")
    parallel = check(*inputs, "--jobs", jobs)
    assert parallel == single
    code, report = single
    assert report["summary"]["claims"] == len(report["claims"]) > 1500
    assert report["summary"]["unreadable"] > 0 and report["summary"]["flagged"] > 0


def test_parallel_keeps_baselines_and_redaction_consistent(generated, tmp_path):
    baseline = tmp_path / "baseline.json"
    check(str(generated), "--jobs", "1", "--write-baseline", str(baseline))
    code, report = check(str(generated), "--jobs", "2", "--baseline", str(baseline), "--redact")
    assert report["summary"]["findings"] == 0 and report["summary"]["claims"] == 1500
    assert all(claim["claim_id"].startswith("redacted:") for claim in report["claims"])


def test_default_jobs_follow_the_input_size(tmp_path):
    small = tmp_path / "small.837"
    small.write_bytes(b"x" * 1000)
    assert effective_jobs(None, [small]) == 1
    assert effective_jobs(3, [small]) == 3
    big = tmp_path / "big.837"
    with open(big, "wb") as stream:
        stream.truncate(MIN_BYTES_PER_WORKER * 64)
    assert effective_jobs(None, [big]) >= 1
