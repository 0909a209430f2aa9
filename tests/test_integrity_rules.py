"""Claim integrity: every NPI checked (scrubber/facts/integrity.py), the integrity rules on real files, the
837P envelope's GS01, and dates that are not calendar dates in X12, JSON and CSV input.

The rules' own cases (``scrubber test scrubber/rulesets/structural``) prove each rule on small claims; here
the facts are pinned directly, and the rules and readers are run on the real 837P files in fixtures/.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import scrubber
from scrubber.codesets.sets import bundled_code_sets
from scrubber.facts import FACTS, claim_facts
from scrubber.facts.integrity import BAD_CHECK_DIGIT, CLAIM_ROLES, LINE_ROLES, NOT_TEN_DIGITS, npi_problem
from scrubber.model import Claim, ParseIssue, Provider
from scrubber.readers.csv import read_rows
from scrubber.rules.testing import build_case_claim

from conftest import ROOT, SAMPLES, run_cli

CROSS_FORMAT = ROOT / "fixtures"
NEW_RULES = (
    "invalid-npi", "invalid-referring-npi", "invalid-rendering-npi", "invalid-service-facility-npi",
    "invalid-supervising-npi", "invalid-line-rendering-npi", "invalid-line-supervising-npi",
    "invalid-ordering-npi", "invalid-line-referring-npi", "duplicate-service-line", "invalid-place-of-service",
    "invalid-line-place-of-service", "two-primary-payers", "medicare-secondary-without-msp-type",
    "service-date-after-batch-date",
)


def _items(path: Path) -> tuple[list[Claim], list[ParseIssue]]:
    items = list(scrubber.read(path))
    return [i for i in items if isinstance(i, Claim)], [i for i in items if isinstance(i, ParseIssue)]


def _findings(claims: list[Claim], rule: str) -> list:
    return [f for f in scrubber.scrub(claims, select=[rule]).findings if f.rule == rule]


# --- the NPI facts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("npi", "qualifier", "problem"),
    [
        ("1234567893", "XX", None),  # valid
        ("1234567893", None, None),  # JSON/CSV may leave NM108 out: still an NPI
        ("1234567890", "XX", BAD_CHECK_DIGIT),
        ("1234567890", None, BAD_CHECK_DIGIT),
        ("123456789", "XX", NOT_TEN_DIGITS),
        ("12345678901", "XX", NOT_TEN_DIGITS),
        ("12345678AB", "XX", NOT_TEN_DIGITS),
        ("１２３４５６７８９３", "XX", NOT_TEN_DIGITS),  # full-width digits are not ASCII digits
        ("123456789", "24", None),  # NM108 24 (EIN): NM109 is not declared an NPI
        ("", "XX", None),
        (None, "XX", None),
    ],
)
def test_npi_problem(npi, qualifier, problem):
    assert npi_problem(Provider(npi=npi, id_qualifier=qualifier)) == problem


def test_every_provider_loop_has_its_fact_and_they_are_registered():
    roles = {field for _, field, *_ in CLAIM_ROLES} | {f"lines[].{field}" for _, field, *_ in LINE_ROLES}
    assert roles == {
        "billing_provider", "referring_provider", "rendering_provider", "service_facility", "supervising_provider",
        "lines[].rendering_provider", "lines[].supervising_provider", "lines[].ordering_provider",
        "lines[].referring_provider",
    }
    for name, *_ in (*CLAIM_ROLES, *LINE_ROLES):
        assert name in FACTS
    assert FACTS["line_ordering_provider_npi_problem"].scope == "line"


def test_invalid_npis_names_every_bad_npi_with_its_role_and_line():
    claim = build_case_claim({
        "billing_provider": {"npi": "1234567890"},
        "referring_provider": {"npi": "1765432103"},  # valid
        "service_facility": {"npi": "13334445"},
        "lines": [{}, {"procedure": "E2402", "ordering_provider": {"npi": "1234567890"},
                        "rendering_provider": {"npi": "1497758544"}}],
    })
    header, first, second = claim_facts(claim, "c")
    assert header["invalid_npi_count_all"] == 3
    assert header["invalid_npis"] == "billing 1234567890, service facility 13334445, ordering 1234567890 (line 2)"
    assert header["billing_provider_npi_problem"] == BAD_CHECK_DIGIT
    assert header["service_facility_npi_problem"] == NOT_TEN_DIGITS
    assert "referring_provider_npi_problem" not in header
    assert "line_ordering_provider_npi_problem" not in first
    assert second["line_ordering_provider_npi_problem"] == BAD_CHECK_DIGIT
    assert "line_rendering_provider_npi_problem" not in second


def test_a_clean_claim_has_no_npi_problem():
    (header, line) = claim_facts(build_case_claim({}), "c")
    assert header["invalid_npi_count_all"] == 0 and "invalid_npis" not in header
    assert not [name for name in (*header, *line) if name.endswith("_npi_problem")]


# --- the place-of-service code set ---------------------------------------------------------------------


def test_place_of_service_set_holds_the_cms_codes_and_no_unassigned_number():
    pos = bundled_code_sets()["place-of-service"]
    assigned = {f"{n:02d}" for n in (*range(1, 28), 31, 32, 33, 34, 41, 42, *range(49, 59), 60, 61, 62, 65, 66, 71, 72, 81, 99)}
    assert len(assigned) == 52
    for number in range(100):
        code = f"{number:02d}"
        assert pos.contains(code) == (code in assigned), code
    assert not pos.contains("2") and not pos.contains("011")


@pytest.mark.parametrize(("code", "first_day"), [("10", dt.date(2022, 1, 1)), ("27", dt.date(2023, 10, 1)), ("58", dt.date(2020, 1, 1))])
def test_place_of_service_codes_added_lately_count_from_their_effective_date(code, first_day):
    pos = bundled_code_sets()["place-of-service"]
    assert pos.contains(code, first_day) and not pos.contains(code, first_day - dt.timedelta(days=1))
    assert pos.contains(code, None)


# --- the rules on the real files ----------------------------------------------------------------------


def test_the_wheelchair_claim_with_a_bad_ordering_npi_is_flagged_at_its_nm1_dk():
    """The DME sample passed clean although its ordering provider's NPI (1111155555) fails the check digit."""
    claims, issues = _items(SAMPLES / "badx12_X222-wheelchair.edi")
    assert issues == [] and [c.claim_id for c in claims] == ["SMI123"]
    assert claims[0].lines[0].ordering_provider.npi == "1111155555"
    (finding,) = _findings(claims, "invalid-ordering-npi")
    assert (finding.line, finding.segment_id, finding.element, finding.loop) == (1, "NM1*DK", "NM109", "2420E")
    assert "'1111155555'" in finding.message and BAD_CHECK_DIGIT in finding.message


def test_each_bad_npi_of_a_sample_points_at_its_own_loop():
    claims, _ = _items(SAMPLES / "lfh_demo.autoaccident.837")
    where = {(f.rule, f.segment_id, f.loop) for f in scrubber.scrub(claims, select=list(NEW_RULES)).findings}
    assert {
        ("invalid-npi", "NM1*85", "2010AA"),
        ("invalid-rendering-npi", "NM1*82", "2310B"),
        ("invalid-service-facility-npi", "NM1*77", "2310C"),
    } <= where


def test_the_clean_cross_format_claims_stay_clean():
    claims, issues = _items(CROSS_FORMAT / "837p" / "cross-format.837")
    assert issues == [] and claims
    assert scrubber.scrub(claims, select=list(NEW_RULES)).findings == []


# --- the envelope: GS01 -------------------------------------------------------------------------------


def _gs01_issues(issues: list[ParseIssue]) -> list[ParseIssue]:
    return [issue for issue in issues if "GS01" in issue.message]


def test_a_real_837p_with_gs01_hc_has_no_envelope_issue():
    for path in sorted(SAMPLES.glob("*.edi")) + sorted(SAMPLES.glob("*.837")):
        _, issues = _items(path)
        assert _gs01_issues(issues) == [], path.name


def test_a_real_837p_whose_gs01_is_not_hc_is_an_envelope_error(tmp_path):
    text = (SAMPLES / "badx12_X222-wheelchair.edi").read_bytes()
    assert text.count(b"~GS*HC*") == 1
    path = tmp_path / "wheelchair-gs-hp.837"
    path.write_bytes(text.replace(b"~GS*HC*", b"~GS*HP*"))
    claims, issues = _items(path)
    assert [c.claim_id for c in claims] == ["SMI123"], "the claims are still read and checked"
    (issue,) = _gs01_issues(issues)
    assert issue.segment == 2 and issue.location == "envelope" and issue.severity == "error"
    assert not issue.unreadable_claim and issue.claim_id is None
    assert "'HP'" in issue.message and "'HC'" in issue.message


def test_a_wrong_gs01_fails_the_run(tmp_path):
    text = (SAMPLES / "lfh_demo.example1.837").read_bytes()
    path = tmp_path / "gs-fa.837"
    path.write_bytes(text.replace(b"GS*HC*", b"GS*FA*", 1))
    result = run_cli("check", str(path), "--format", "json", "--select", "CO-111")
    report = json.loads(result.stdout)
    assert result.returncode == 1, "an envelope error fails the run even with no finding"
    (error,) = [e for e in report["errors"] if "GS01" in e["message"]]
    assert error["location"] == "envelope" and error["severity"] == "error"


# --- dates that are not calendar dates ----------------------------------------------------------------


def test_x12_date_of_service_day_32_makes_its_claim_unreadable(tmp_path):
    text = (CROSS_FORMAT / "837p" / "cross-format.837").read_text()
    assert text.count("DTP*472*D8*20260110~") >= 2
    path = tmp_path / "day32.837"
    path.write_text(text.replace("DTP*472*D8*20260110~", "DTP*472*D8*20260132~", 1))
    claims, issues = _items(path)
    (issue,) = issues
    assert issue.unreadable_claim and issue.claim_id == "XF-111"
    assert "DTP03" in issue.message and "'20260132'" in issue.message and "not a valid date" in issue.message
    assert "XF-111" not in [c.claim_id for c in claims] and len(claims) >= 3, "the other claims are read"


def test_x12_batch_date_month_13_is_reported(tmp_path):
    text = (CROSS_FORMAT / "837p" / "cross-format.837").read_text()
    path = tmp_path / "bht13.837"
    path.write_text(text.replace("BHT*0019*00*1-1*20260115", "BHT*0019*00*1-1*20261315", 1))
    claims, issues = _items(path)
    (issue,) = issues
    assert "BHT04" in issue.message and "'20261315'" in issue.message and issue.severity == "error"
    assert claims and all(c.batch_date is None for c in claims), "read without a batch date, and said so"


def _json_claims() -> list[dict]:
    return json.loads((CROSS_FORMAT / "json" / "cross-format.json").read_text())


@pytest.mark.parametrize(("value", "problem"), [("2026-13-10", "month"), ("2026-01-32", "day"), ("2026-02-29", "day")])
def test_json_date_of_service_that_is_not_a_date_names_its_pointer(tmp_path, value, problem):
    claims = _json_claims()
    claims[0]["lines"][0]["service_date"] = value
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(claims))
    read, issues = _items(path)
    (issue,) = issues
    assert issue.unreadable_claim and issue.claim_id == claims[0]["claim_id"]
    assert issue.location == "/0/lines/0/service_date" and problem in issue.message
    assert len(read) == len(claims) - 1


def test_json_birth_date_that_is_not_a_date_names_its_pointer(tmp_path):
    claims = _json_claims()
    claims[1]["subscriber"]["birth_date"] = "1961-04-31"
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in claims) + "\n")
    _, issues = _items(path)
    (issue,) = issues
    assert issue.location == "line 2: /subscriber/birth_date"


def _csv_with(tmp_path: Path, column: str, value: str) -> Path:
    lines = (CROSS_FORMAT / "csv" / "cross-format.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index(column)] = value
    lines[1] = ",".join(cells)
    path = tmp_path / "claims.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("column", "value"), [("service_date", "13/10/2026"), ("service_date", "01/32/2026"),
                                               ("subscriber_dob", "02/29/1950"), ("claim_created", "02/30/2026")])
def test_csv_date_that_is_not_a_date_names_its_row_and_column(tmp_path, column, value):
    claims, issues = _items(_csv_with(tmp_path, column, value))
    (issue,) = issues
    assert issue.unreadable_claim and issue.location == f"row 2, column {column}"
    assert f"'{value}'" in issue.message
    assert claims, "the other claims are read"


@pytest.mark.parametrize("value", ["2026-13-01", "20261301", "2026-02-30", "13/01/2026"])
def test_csv_without_a_date_format_refuses_impossible_dates(value):
    mapping = {"claim_id": "claim", "fields": {"line.procedure": "cpt", "line.charge": "fee", "line.service_date": "dos"}}
    (item,) = read_rows([{"claim": "C1", "cpt": "99213", "fee": "80", "dos": value}], mapping)
    assert isinstance(item, ParseIssue) and item.location == "row 2, column dos"


def test_scrubber_check_reports_each_bad_date_where_it_is(tmp_path):
    x12 = tmp_path / "a.837"
    x12.write_text((CROSS_FORMAT / "837p" / "cross-format.837").read_text()
                   .replace("DTP*472*D8*20260110~", "DTP*472*D8*20261310~", 1))
    claims = _json_claims()
    claims[2]["lines"][0]["service_date"] = "2026-01-32"
    (tmp_path / "b.json").write_text(json.dumps(claims))
    csv_path = _csv_with(tmp_path, "service_date", "02/30/2026")
    result = run_cli("check", str(x12), str(tmp_path / "b.json"), str(csv_path), "--format", "json", "--exit-zero")
    assert "Traceback" not in result.stderr
    errors = {Path(e["file"]).name: e for e in json.loads(result.stdout)["errors"]}
    assert set(errors) == {"a.837", "b.json", "claims.csv"}
    assert "DTP03 '20261310'" in errors["a.837"]["message"] and errors["a.837"]["segment"]
    assert errors["b.json"]["location"] == "/2/lines/0/service_date"
    assert errors["claims.csv"]["location"] == "row 2, column service_date"


# --- malformed dates that used to be read: an RD8 range's end, a compact CSV date of the wrong width -------


def test_x12_rd8_range_whose_end_is_not_a_date_is_reported(tmp_path):
    text = (CROSS_FORMAT / "837p" / "cross-format.837").read_text()
    path = tmp_path / "rd8.837"
    path.write_text(text.replace("DTP*472*D8*20260110~", "DTP*472*RD8*20260110-20261340~", 1))
    _, issues = _items(path)
    assert issues and "20261340" in issues[0].message


@pytest.mark.parametrize("value", ["202611", "2026131"])
def test_csv_compact_date_that_is_not_ccyymmdd_is_refused(value):
    mapping = {"claim_id": "claim", "fields": {"line.procedure": "cpt", "line.charge": "fee", "line.service_date": "dos"}}
    (item,) = read_rows([{"claim": "C1", "cpt": "99213", "fee": "80", "dos": value}], mapping)
    assert isinstance(item, ParseIssue)

