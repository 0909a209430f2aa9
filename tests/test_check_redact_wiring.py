"""What ``scrubber check`` does with the redaction and baseline pieces: pyx12's messages redacted with
``--jobs`` too, the suppressed count in the summary, ``--write-baseline`` exits 0. (Needs the three
check.py lines: ``with_ig_findings(..., redactor)``, ``summary.suppressed = baseline.suppressed``,
``return EXIT_CLEAN`` after writing a baseline.)"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import batch, claim, subscriber
from test_redaction_everywhere import KEY, WHO, assert_hidden, phi_claim, run

from scrubber.redact import PREFIX


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_validate_redact_hides_pyx12_values_with_and_without_workers(tmp_path, jobs):
    pytest.importorskip("pyx12")
    segments = phi_claim("ZZCLAIM7", 2, WHO, charge="ZZBADCHARGE")
    segments.insert(5, "zz*ZZRANDOMVALUE*ZZMEMBER12345")
    body = segments + subscriber(3, birth="1947-11-23", last="ZZOTHERNAME") + claim("ZZCLAIM8")
    (tmp_path / "bad.837").write_text(batch(body))
    plain = run("check", "bad.837", "--validate", "--format", "json", "--jobs", jobs, cwd=tmp_path)
    assert "ZZBADCHARGE" in plain.stdout and "1947-11-23" in plain.stdout
    secrets = ["ZZBADCHARGE", "1947-11-23", "ZZTOPNAME", "ZZFIRSTNM", "ZZMEMBER12345", "ZZRANDOMVALUE", "ZZSTREET",
               "ZZCITYNAME", "ZZCLAIM7", "ZZCLAIM8", "ZZOTHERNAME", "ZZPAYERNO77", "19471123"]
    for fmt in ("json", "text", "sarif", "github"):
        done = run("check", "bad.837", "--validate", "--redact", "--format", fmt, "--jobs", jobs, cwd=tmp_path,
                   env={"SCRUBBER_REDACT_KEY": KEY})
        assert done.returncode == 2, done.stderr  # both claims unreadable (CLM02, DMG02)
        assert_hidden(secrets, done.stdout, done.stderr)
        assert PREFIX in done.stdout


def test_baseline_suppressed_count_and_write_baseline_exit(tmp_path):
    shutil.copy(__import__("conftest").ROOT / "fixtures" / "837p" / "seeds" / "co-121-timely-and-indemnification.837", tmp_path / "batch.837")
    written = run("check", "batch.837", "--write-baseline", "b.json", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "b.json").exists()
    plain = json.loads(run("check", "batch.837", "--format", "json", cwd=tmp_path).stdout)
    assert "suppressed" not in plain["summary"]
    total = plain["summary"]["findings"]
    again = run("check", "batch.837", "--baseline", "b.json", "--format", "json", cwd=tmp_path)
    assert json.loads(again.stdout)["summary"]["suppressed"] == total > 0
    text = run("check", "batch.837", "--baseline", "b.json", cwd=tmp_path)
    assert f"{total} finding(s) suppressed by the baseline" in text.stdout
    github = run("check", "batch.837", "--baseline", "b.json", "--format", "github", cwd=tmp_path)
    assert f"{total} finding(s) suppressed by the baseline" in github.stdout


def test_keyed_baseline_through_the_cli(tmp_path):
    shutil.copy(__import__("conftest").ROOT / "fixtures" / "837p" / "seeds" / "co-121-timely-and-indemnification.837", tmp_path / "batch.837")
    env = {"SCRUBBER_REDACT_KEY": KEY}
    assert run("check", "batch.837", "--redact", "--write-baseline", "b.json", cwd=tmp_path, env=env).returncode == 0
    assert json.loads((tmp_path / "b.json").read_text())["keyed"] is True
    assert run("check", "batch.837", "--redact", "--baseline", "b.json", cwd=tmp_path, env=env).returncode == 0
    without = run("check", "batch.837", "--baseline", "b.json", cwd=tmp_path)
    assert without.returncode == 2 and "SCRUBBER_REDACT_KEY" in without.stderr and "b.json" in without.stderr
