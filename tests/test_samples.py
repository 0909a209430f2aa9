"""Third-party X12 837P samples (fixtures/837p/samples): every claim read, only the known '>' warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scrubber.model import Claim, ParseIssue
from scrubber.readers.x12_837p import read_path

from conftest import SAMPLES, run_cli

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.is_file() and p.suffix in (".837", ".edi"))

# Files whose composites use '>' while ISA16 declares ':' (the reader reads them and warns once per ST).
WARNS_ABOUT_COMPONENT_SEPARATOR = {
    "lfh_demo.cob.2ndary.example4.837",
    "lfh_demo.example11.837",
    "lfh_demo.example12.837",
    "lfh_demo.example6.837",
    "lfh_demo.example9.837",
}


def clm_count(path: Path) -> int:
    """CLM segments, counted without the reader: ISA gives the element separator and terminator."""
    text = path.read_bytes().decode("latin-1")
    element, terminator = text[3], text[105]
    return sum(1 for piece in text.split(terminator) if piece.strip().split(element)[0] == "CLM")


def test_the_sample_set_is_there():
    assert len(SAMPLE_FILES) == 35
    assert WARNS_ABOUT_COMPONENT_SEPARATOR <= {p.name for p in SAMPLE_FILES}
    assert sum(clm_count(p) for p in SAMPLE_FILES) >= 35


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_reads_every_claim(path: Path):
    items = list(read_path(path))
    claims = [i for i in items if isinstance(i, Claim)]
    issues = [i for i in items if isinstance(i, ParseIssue)]
    assert len(claims) == clm_count(path) > 0
    assert [i for i in issues if i.unreadable_claim] == []
    for issue in issues:
        assert issue.severity == "warning", issue
        assert "'>'" in issue.message and issue.file == str(path) and issue.segment is not None
    for c in claims:
        assert c.source.file == str(path)
        assert c.lines, "every claim has service lines"
        assert all(line.procedure for line in c.lines)
        assert c.implementation in ("005010X222A1", "005010X222A2")


def test_exactly_these_samples_warn():
    warned = set()
    for path in SAMPLE_FILES:
        issues = [i for i in read_path(path) if isinstance(i, ParseIssue)]
        if issues:
            assert len(issues) == 1, issues  # once per transaction set
            warned.add(path.name)
    assert warned == WARNS_ABOUT_COMPONENT_SEPARATOR


def test_samples_with_gt_separator_read_their_composites():
    for name in sorted(WARNS_ABOUT_COMPONENT_SEPARATOR):
        for item in read_path(SAMPLES / name):
            if isinstance(item, Claim):
                assert item.place_of_service and item.place_of_service.isdigit()
                assert ">" not in (item.frequency or "")
                assert all(">" not in line.procedure for line in item.lines)
                assert all(">" not in d.code for d in item.diagnoses)


def test_scrubber_check_on_the_samples_directory():
    """Every sample claim is reported and none is unreadable, so the exit status reflects findings only.

    (The issue asked for exit 0 here; since the structural rule `invalid-npi` the samples' made-up NPIs
    such as 1234567890 are error findings, so the status is 1 exactly when there are error findings.)
    """
    result = run_cli("check", str(SAMPLES), "--format", "json")
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    total = sum(clm_count(p) for p in SAMPLE_FILES)
    assert summary["claims"] == total == len(report["claims"])
    assert summary["files"] == len(SAMPLE_FILES)
    assert summary["unreadable"] == 0
    assert {Path(e["file"]).name for e in report["errors"]} == WARNS_ABOUT_COMPONENT_SEPARATOR
    errors = sum(f["severity"] == "error" for c in report["claims"] for f in c["findings"])
    assert result.returncode == (1 if errors else 0), result.stderr


def test_scrubber_check_on_the_samples_directory_with_exit_zero():
    result = run_cli("check", str(SAMPLES), "--exit-zero")
    assert "Traceback" not in result.stderr
    assert result.returncode == 0
    assert f"{sum(clm_count(p) for p in SAMPLE_FILES)} claim(s)" in result.stdout
