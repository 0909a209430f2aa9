"""``--format junit``: valid against Jenkins' junit-10.xsd (tests/schemas), read back by junitparser."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from conftest import BAD, ROOT, SAMPLES, batch, segment_index
from junitparser import Error, Failure, JUnitXml, Skipped
from reporter_inputs import (
    ERROR_RULE,
    SELECT,
    WARNING_RULE,
    check,
    clean_claim,
    error_claim,
    info_rule,
    mixed,
)

from scrubber.findings import ClaimResult, Finding, Summary
from scrubber.model import ParseIssue
from scrubber.reporters.junit import JunitReporter

SCHEMA = xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit-10.xsd"))


def junit(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    result = check(*args, "--format", "junit", cwd=cwd)
    SCHEMA.validate(result.stdout)
    return result.returncode, result.stdout


@pytest.fixture
def report(tmp_path):
    text = mixed()
    (tmp_path / "batch.837").write_text(text, encoding="latin-1")
    (tmp_path / "clean.837").write_text(batch(clean_claim("C1", 2) + clean_claim("C2", 3)), encoding="latin-1")
    code, xml = junit("batch.837", "clean.837", "missing.837", "--rules", str(info_rule(tmp_path)), *SELECT, cwd=tmp_path)
    return {"code": code, "xml": xml, "root": ET.fromstring(xml), "text": text, "dir": tmp_path}


def test_the_schema_rejects_what_jenkins_would_not_read():
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate('<testsuites><testsuite name="x" tests="1"><testcase name="a"/></testsuite></testsuites>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate('<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase name="a" file="f"/></testsuite></testsuites>')


def test_a_suite_per_file_and_a_case_per_claim(report):
    root = report["root"]
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["missing.837", "batch.837", "clean.837"]
    batch_suite = suites[1]
    cases = batch_suite.findall("testcase")
    text = report["text"]
    assert [c.get("name") for c in cases] == [
        f"{claim_id} (segment {segment_index(text, f'CLM*{claim_id}*')})" for claim_id in ("E1", "W1", "I1", "G1", "B1")
    ]
    assert {c.get("classname") for c in cases} == {"batch.837"}
    assert batch_suite.get("file") == "batch.837"
    assert root.findall(".//skipped") == []


def test_failures_errors_and_passes(report):
    cases = {c.get("name").split()[0]: c for c in report["root"].find("testsuite[@name='batch.837']")}
    error = cases["E1"].find("failure")
    assert error.get("type") == "error"
    assert error.get("message").startswith(f"error CO-111 {ERROR_RULE} (line 2, CLM07 in CLM (2300), segment ")
    assert "CLM07 is 'C'" in error.text and "fix: Set CLM07" in error.text
    warning = cases["W1"].find("failure")
    assert warning.get("type") == "warning" and WARNING_RULE in warning.get("message")
    assert cases["I1"].find("failure").get("type") == "info"
    assert list(cases["G1"]) == []
    unreadable = cases["B1"].find("error")
    assert unreadable.get("type") == "unreadable" and "CLM02 'ABC' is not a number" in unreadable.get("message")
    assert cases["B1"].find("failure") is None


def test_totals_are_the_sums(report):
    root = report["root"]
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("errors")) == sum(1 for c in cases if c.find("error") is not None)
        assert suite.get("skipped") == "0"
    for attribute in ("tests", "failures", "errors"):
        assert int(root.get(attribute)) == sum(int(s.get(attribute)) for s in suites)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "3", "2")


def test_junitparser_reads_the_same_counts(report, tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(report["xml"], encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"missing.837", "batch.837", "clean.837"}
    batch_suite = suites["batch.837"]
    assert (batch_suite.tests, batch_suite.failures, batch_suite.errors, batch_suite.skipped) == (5, 3, 1, 0)
    kinds = {}
    for case in batch_suite:
        kinds[case.name.split()[0]] = [type(r) for r in case.result]
    assert kinds == {"E1": [Failure], "W1": [Failure], "I1": [Failure], "G1": [], "B1": [Error]}
    assert suites["clean.837"].tests == 2 and suites["clean.837"].failures == 0
    assert [type(r) for case in suites["missing.837"] for r in case.result] == [Error]
    assert not any(isinstance(r, Skipped) for suite in xml for case in suite for r in case.result)


def test_input_files_that_cannot_be_read_and_binary_garbage():
    """Envelope errors become error testcases; bytes XML cannot hold are escaped, so the XML stays valid."""
    _, xml = junit(str((BAD / "binary.837").relative_to(ROOT)), str((BAD / "garbage.837").relative_to(ROOT)), str(BAD.relative_to(ROOT) / "bad-number.837"))
    root = ET.fromstring(xml)
    binary = root.find("testsuite[@name='fixtures/837p/bad/binary.837']")
    (case,) = binary.findall("testcase")
    assert case.get("name") == "input problem (segment 1)"
    assert case.find("error").get("type") == "input-error"
    assert "expected an ISA segment" in case.find("error").text


def test_envelope_warning_is_a_passing_case_with_the_warning_in_system_out():
    sample = SAMPLES / "lfh_demo.example6.837"
    _, xml = junit(str(sample.relative_to(ROOT)), "--select", "CO-111")
    suite = ET.fromstring(xml).find("testsuite")
    warning = [c for c in suite if c.get("name").startswith("input problem")]
    assert len(warning) == 1 and list(warning[0])[0].tag == "system-out"
    assert "'>'" in warning[0].find("system-out").text
    assert suite.get("errors") == "0" and suite.get("failures") == "0"


def test_claim_with_several_findings_lists_them_all(tmp_path):
    text = batch(error_claim("E1", 2) + clean_claim("G1", 3))
    # a second lab line: two CO-111 findings on one claim
    text = text.replace("DTP*472*D8*20260110~\nHL*3", "DTP*472*D8*20260110~\nLX*3~\nSV1*HC:80061*80*UN*1***1~\nDTP*472*D8*20260110~\nHL*3", 1)
    text = text.replace("CLM*E1*180", "CLM*E1*260")
    (tmp_path / "two.837").write_text(text, encoding="latin-1")
    _, xml = junit("two.837", "--select", "CO-111", cwd=tmp_path)
    failure = ET.fromstring(xml).find(".//testcase[@name]/failure")
    assert "(line 2," in failure.get("message")
    assert failure.text.count(ERROR_RULE) == 2 and "(line 3," in failure.text


def test_streaming_reporter_spills_suites_and_keeps_order():
    """Many claims over two files: the counts are right and nothing is lost on the way through the spools."""
    out = io.StringIO()
    reporter = JunitReporter(out)
    finding = Finding(ERROR_RULE, "n", "CO-111", (), (), "warning", None, "CLM07", 3, "m" * 1000, "f", ("s",))
    for file, count in (("a.837", 3000), ("b.837", 2000)):
        for number in range(count):
            flagged = number % 3 == 0
            reporter.claim(ClaimResult(f"C{number}", file, number, "flagged" if flagged else "clean", [finding] if flagged else []))
    reporter.issue(ParseIssue(file="b.837", segment=1, message="bad <envelope> & more", location="envelope"))
    assert reporter.suites._rolled  # finished suites went to disk, not to memory
    reporter.finish(Summary())
    xml = out.getvalue()
    SCHEMA.validate(xml)
    root = ET.fromstring(xml)
    assert [s.get("name") for s in root] == ["a.837", "b.837"]
    assert [s.get("tests") for s in root] == ["3000", "2001"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5001", str(1000 + 667), "1")
    assert root[1][-1].find("error").get("message") == "bad <envelope> & more"
