"""The library API (scrubber/__init__.py, scrubber/api.py): exported names, inputs, report, doctests."""

from __future__ import annotations

import doctest
import importlib
import json
import subprocess
import sys

import pytest

import scrubber
from conftest import ROOT
from scrubber.model import Claim, ParseIssue

FIXTURES = ROOT / "fixtures"
CLAIM = {
    "claim_id": "A1",
    "assignment": "C",
    "payer": {"filing_indicator": "MB"},
    "diagnoses": [{"code": "E119", "qualifier": "ABK"}],
    "lines": [{"number": 1, "procedure": "80053", "charge": "25", "diagnosis_pointers": [1]}],
}


def test_exported_members():
    assert scrubber.__all__ == [
        "INPUT_FORMATS", "Claim", "ClaimResult", "Finding", "ParseIssue", "Report", "ScrubOptions", "read", "scrub"
    ]
    for name in scrubber.__all__:
        assert getattr(scrubber, name) is not None
    assert scrubber.INPUT_FORMATS == ("auto", "x12", "json", "jsonl", "csv", "fhir")


def test_scrub_dicts_and_models_alike():
    from_dicts = scrubber.scrub([CLAIM], select=["CO-111"])
    from_models = scrubber.scrub([Claim.model_validate(CLAIM)], select=["CO-111"])
    key = lambda report: [(f.rule, f.carc, f.line) for f in report.findings]  # noqa: E731
    assert key(from_dicts) == key(from_models) == [("unassigned-mandatory-assignment-service", "CO-111", 1)]
    assert from_dicts.exit_code() == 1 and from_dicts.exit_code(fail_on="error") == 1


def test_a_bad_dict_is_an_unreadable_claim_named_by_its_pointer():
    report = scrubber.scrub([CLAIM, {"claim_id": "B1", "lines": [{"number": "one"}]}], select=["CO-111"])
    assert [(r.claim_id, r.status) for r in report.results] == [("A1", "flagged"), ("B1", "unreadable")]
    (issue,) = report.errors
    assert issue.location == "/1/lines/0/number" and "/1/lines/0/procedure" in issue.message


def test_scrub_csv_rows_with_a_mapping_file(tmp_path):
    mapping = tmp_path / "my-ehr.yaml"
    mapping.write_text(
        "claim_id: Visit\nfields:\n  payer.filing_indicator: Plan\n  assignment: Assign\n"
        "  line.procedure: Code\n  line.charge: Amount\n",
        encoding="utf-8",
    )
    rows = [{"Visit": "V1", "Plan": "MB", "Assign": "C", "Code": "80053", "Amount": "25"}]
    report = scrubber.scrub(rows, format="csv", mapping=str(mapping), select=["CO-111"])
    assert [(r.claim_id, r.row, r.status) for r in report.results] == [("V1", 2, "flagged")]


def test_scrub_fhir_resources():
    bundle = json.loads((FIXTURES / "fhir" / "cross-format-bundle.json").read_text(encoding="utf-8"))
    report = scrubber.scrub([bundle], format="fhir")
    assert [r.claim_id for r in report.results] == ["XF-111", "XF-21", "XF-23", "XF-OK"]


@pytest.mark.parametrize(
    "name", ["837p/cross-format.837", "json/cross-format.json", "jsonl/cross-format.jsonl", "csv/cross-format.csv", "fhir/cross-format.ndjson"]
)
def test_scrub_a_path_in_any_format(name):
    report = scrubber.scrub(str(FIXTURES / name))
    assert report.summary.files == 1 and report.summary.claims == 4 and report.summary.flagged == 3


def test_read_yields_claims_and_issues_and_never_raises_on_bad_input(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"[1, 2")
    (issue,) = list(scrubber.read(garbage))
    assert isinstance(issue, ParseIssue) and "not JSON" in issue.message
    (missing,) = list(scrubber.read(tmp_path / "nope.837"))
    assert "no such file" in missing.message
    assert [type(item) for item in scrubber.read(FIXTURES / "jsonl" / "cross-format.jsonl")] == [Claim] * 4


def test_usage_errors_raise():
    with pytest.raises(ValueError, match="unknown format"):
        scrubber.scrub([CLAIM], format="xml")
    with pytest.raises(ValueError, match="needs a path"):
        list(scrubber.read([CLAIM], format="x12"))
    with pytest.raises(TypeError):
        scrubber.read(b"ISA*...")


def test_report_to_json_and_to_sarif():
    from scrubber.reporters import sarif as sarif_reporter
    from scrubber.rules import load_rules

    report = scrubber.scrub(FIXTURES / "json" / "cross-format.json")
    data = json.loads(report.to_json())
    assert data["summary"]["claims"] == 4 and [c["claim_id"] for c in data["claims"]][0] == "XF-111"
    assert not hasattr(report, "to_sarif")  # findings sit below the reporters (tests/test_layers.py)
    sarif = json.loads(sarif_reporter.render(report, load_rules()))
    assert sarif["version"] == "2.1.0"
    rules = {result["ruleId"] for result in sarif["runs"][0]["results"]}
    assert {"unassigned-mandatory-assignment-service", "auto-accident-billed-to-health-plan"} <= rules
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) == len(load_rules()) + 1  # + input-error


# --- doctests ---------------------------------------------------------------------------------------

DOCTEST_MODULES = ["scrubber", "scrubber.api", "scrubber.inputs", "scrubber.readers.json", "scrubber.readers.csv"]


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples name fixtures by relative path
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- start-up --------------------------------------------------------------------------------------


def test_version_does_not_import_heavy_optional_packages():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "scrubber", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0 and result.stdout.startswith("scrubber ")
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "scrubber" in imported
    assert not {name for name in imported if name.split(".")[0] in ("fhir", "fastapi", "uvicorn", "starlette")}


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\xef\xbb\xbfISA*00*", "claims.txt", "x12"),
        (b"  \n[]", "x.json", "json"),
        (b'[{"claim_id": "A"}]\n', "x", "json"),
        (b'{"claim_id": "A",\n "lines": []}', "x", "json"),
        (b'{"claim_id": "A"}\n{"claim_id": "B"}\n', "x", "jsonl"),
        (b'{"resourceType": "Claim", "id": "1"}', "x.json", "fhir"),
        (b'{"resourceType":"Claim"}\n{"resourceType":"Claim"}\n', "x.ndjson", "fhir"),
        (b"encounter,code,fee\n1,99213,80\n", "export.txt", "csv"),
        (b"Visit\tCode\n", "export.tab", "csv"),
        (b"anything", "x.csv", "csv"),
        (b"Dear billing office,\nhere are our claims", "letter.837", "x12"),
        (b"\x00\x01\x02binary", "x.bin", "x12"),
    ],
)
def test_detect_format(head, name, expected):
    from scrubber.inputs import detect_format

    assert detect_format(head, name) == expected
