"""The same claims in every input format give the same findings (fixtures/make_cross_format.py)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
import scrubber
from scrubber.model import Claim
from strategies import comparable

FIXTURES = ROOT / "fixtures"
spec = importlib.util.spec_from_file_location("make_cross_format", FIXTURES / "make_cross_format.py")
make_cross_format = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_cross_format)

REFERENCE = FIXTURES / "837p" / "cross-format.837"
# Every format that carries what the bundled rules read about these claims, with the mapping it needs.
SAME_FINDINGS = {
    "json/cross-format.json": None,
    "jsonl/cross-format.jsonl": None,
    "csv/cross-format.csv": "charge-export",
    "fhir/cross-format-bundle.json": None,
    "fhir/cross-format.ndjson": None,
}
OPENEMR = "csv/openemr/cross-format.csv"


def findings(path: Path, mapping: str | None = None) -> dict[str, set[tuple[str, int | None]]]:
    report = scrubber.scrub(path, mapping=mapping)
    assert not [issue for issue in report.errors if issue.severity == "error"], report.errors
    return {result.claim_id: {(f.rule, f.line) for f in result.findings} for result in report.results}


@pytest.fixture(scope="module")
def reference() -> dict[str, set[tuple[str, int | None]]]:
    return findings(REFERENCE)


def test_the_reference_claims_show_what_they_are_for(reference):
    """The fixtures must keep flagging CO-111, CO-21 and CO-23, and keep one clean claim."""
    assert list(reference) == ["XF-111", "XF-21", "XF-23", "XF-OK"]
    report = scrubber.scrub(REFERENCE)
    carcs = {result.claim_id: {f.carc for f in result.findings} for result in report.results}
    assert "CO-111" in carcs["XF-111"] and ("unassigned-mandatory-assignment-service", 2) in reference["XF-111"]
    assert "CO-21" in carcs["XF-21"]
    assert "CO-23" in carcs["XF-23"] and ("prior-payer-adjudication-date-missing", None) in reference["XF-23"]
    assert reference["XF-OK"] == set()


@pytest.mark.parametrize("name", sorted(SAME_FINDINGS))
def test_every_format_gives_the_same_findings(name, reference):
    assert findings(FIXTURES / name, SAME_FINDINGS[name]) == reference


def test_openemr_export_loses_only_what_it_cannot_carry(reference):
    """An OpenEMR billing export has no accident fields (XF-21's car accident goes unseen) and no prior
    payer's payment (XF-23 looks like a secondary claim without a primary); the rest agrees."""
    got = findings(FIXTURES / OPENEMR)  # mapping chosen from the header
    lost = {"XF-21", "XF-23"}
    assert {c: got[c] for c in got if c not in lost} == {c: reference[c] for c in reference if c not in lost}
    assert ("auto-accident-billed-to-health-plan", None) in reference["XF-21"] and got["XF-21"] == set()
    assert got["XF-23"] == {("secondary-claim-without-prior-payer", None)}


def test_json_formats_carry_every_field_of_the_837():
    x12 = [comparable(c) for c in scrubber.read(REFERENCE) if isinstance(c, Claim)]
    for name in ("json/cross-format.json", "jsonl/cross-format.jsonl"):
        assert [comparable(c) for c in scrubber.read(FIXTURES / name) if isinstance(c, Claim)] == x12


def test_committed_fixtures_equal_the_generator_output(tmp_path: Path):
    subprocess.run([sys.executable, str(FIXTURES / "make_cross_format.py"), str(tmp_path)], check=True, capture_output=True)
    for name in make_cross_format.render():
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), f"regenerate {name}: python fixtures/make_cross_format.py"


def test_format_detection_and_override_on_the_command_line():
    paths = [str(FIXTURES / name) for name in SAME_FINDINGS]
    result = run_cli("check", *paths, "--format", "json", "--no-progress")
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == len(paths) and report["summary"]["claims"] == 4 * len(paths)
    assert report["summary"]["unreadable"] == 0 and result.returncode == 1
    forced = run_cli("check", str(FIXTURES / "json" / "cross-format.json"), "--input-format", "csv", "--format", "json")
    assert forced.returncode == 2 and json.loads(forced.stdout)["summary"]["claims"] == 0


def test_directory_holds_every_export_format():
    report = scrubber.scrub(FIXTURES / "fhir")
    assert report.summary.files == 3 and report.summary.claims == 4 + 4 + 1
    report = scrubber.scrub(FIXTURES / "csv")
    assert report.summary.files == 2 and [r.claim_id for r in report.results] == ["XF-111", "XF-21", "XF-23", "XF-OK"] * 2
