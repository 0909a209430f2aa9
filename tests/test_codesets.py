"""Tests for scrubber.codesets: range boundaries, normalization, traffic codes, ICD-10-CM status."""
from __future__ import annotations

import datetime as dt
import importlib.util
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrubber import codesets as cs

ROOT = Path(__file__).resolve().parents[1]
TRAFFIC_FILE = files("scrubber.codesets").joinpath("data/traffic_accident_codes.txt")


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_traffic_codes", ROOT / "scripts" / "build_traffic_codes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- procedure codes -------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("80047", True), ("80046", False), ("89398", True), ("89399", False), ("80053", True),
    ("85025", True), ("8004T", False), ("0001U", True), ("0001T", False), ("36415", True), (" 80053 ", True), ("8005", False),
    ("800530", False), ("", False), (None, False), (80053, False),
])
def test_is_clinical_lab(code, expected):
    assert cs.is_clinical_lab(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    ("A0021", True), ("A0020", False), ("A0999", True), ("A1000", False), ("A0425", True),
    ("a0425", True), (" a0427\t", True), ("B0425", False), ("A04250", False),
])
def test_is_ambulance(code, expected):
    assert cs.is_ambulance(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    ("J0120", True), ("J0119", False), ("J9999", True), ("J3301", True), ("j3301", True),
    ("Q5101", True), ("Q5199", True), ("Q5100", False), ("Q5200", False),
    ("Q4101", False),  # skin substitute: not a drug
    ("K0001", False), ("90837", False),
])
def test_is_part_b_drug(code, expected):
    assert cs.is_part_b_drug(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    ("90785", True), ("90899", True), ("90784", False), ("90900", False), ("90837", True),
    ("9083T", False),
])
def test_is_psychiatric(code, expected):
    assert cs.is_psychiatric(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    ("80053", True), ("A0425", True), ("J3301", True), ("Q5103", True),
    ("90837", False), ("99213", False), ("G0008", False), ("", False),
])
def test_is_mandatory_assignment_service(code, expected):
    assert cs.is_mandatory_assignment_service(code) is expected


# --- rendering taxonomy ----------------------------------------------------------------------

@pytest.mark.parametrize("taxonomy", [
    "363A00000X", "363AM0700X", "363L00000X", "363LF0000X", "364S00000X", "364SP0808X",
    "367A00000X", "367500000X", "103T00000X", "103TC0700X", "1041C0700X", "133V00000X",
    "133VN1005X", " 363la2100x ",
    "133N00000X",  # nutritionist (nutrition professional, SSA 1842(b)(18)(C)(vi))
    "367H00000X",  # anesthesiologist assistant
])
def test_mandatory_assignment_practitioner(taxonomy):
    assert cs.is_mandatory_assignment_practitioner(taxonomy) is True


@pytest.mark.parametrize("taxonomy", [
    "207Q00000X",  # family medicine physician
    "104100000X",  # social worker, not clinical
    "133P00000X",  # not a nutrition classification (made-up neighbour of 133N/133V)
    "367H00000Y",  # a taxonomy must end in X
    "363A",        # a prefix alone is not a taxonomy code
    "1041C0700",   # 9 characters
    "", None,
])
def test_not_mandatory_assignment_practitioner(taxonomy):
    assert cs.is_mandatory_assignment_practitioner(taxonomy) is False


# --- ICD-10-CM ranges ------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "expected"), [
    ("V0001XA", True), ("W01.0XXA", True), ("X58XXXA", True), ("Y99.8", True), ("y998", True),
    ("U07.1", False), ("T14.8XXA", False), ("S52521A", False), ("V", False), ("", False), (None, False),
])
def test_is_external_cause(code, expected):
    assert cs.is_external_cause(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    ("F01.50", True), ("F99", True), ("F32.A", True), ("f32a", True), ("F4310", True),
    ("F00", False), ("G30.9", False), ("F", False), ("FF1", False),
])
def test_is_mental_health_dx(code, expected):
    assert cs.is_mental_health_dx(code) is expected


# --- traffic accidents -----------------------------------------------------------------------

TRAFFIC = [
    "V4352XA",   # car driver, collision with other car, traffic (4th char 5)
    "V43.52XA", "v43.52xa ", "V4352", "V43.52",
    "V0310XA",   # pedestrian on foot vs car, traffic
    "V870XXA",   # V87: traffic accident, mode of transport unknown; "(traffic)"
    "V89.2XXA",  # "unspecified motor-vehicle accident, traffic"
    "V8601XA",   # V86 reversed: .0 is traffic
    "V093XXA",   # pedestrian, unspecified traffic accident
    "V104XXA",   # pedal cyclist driver, traffic
    "V435",      # a traffic subcategory header
]
NONTRAFFIC = [
    "V4302XA",   # same collision, nontraffic (4th char 0)
    "V0100XA",   # pedestrian vs pedal cycle, nontraffic
    "V0190XA",   # "unspecified whether traffic or nontraffic"
    "V8651XA",   # V86 reversed: .5 is nontraffic
    "V8641XA",   # boarding/alighting: title silent about traffic
    "V880XXA",   # V88: nontraffic, mode unknown
    "V890XXA",   # "unspecified motor-vehicle accident, nontraffic"
    "V103XXA",   # boarding a pedal cycle: no traffic mention
    "V0001XA",   # pedestrian conveyance accident
    "V99XXXA",   # unspecified transport accident
    "V43",       # category mixes traffic and nontraffic
    "W0110XA",   # fall on same level
    "S52521A", "", None, "V", "V4352XAA",
]


@pytest.mark.parametrize("code", TRAFFIC)
def test_traffic_accident_codes(code):
    assert cs.is_traffic_accident_code(code) is True


@pytest.mark.parametrize("code", NONTRAFFIC)
def test_nontraffic_codes(code):
    assert cs.is_traffic_accident_code(code) is False


def test_traffic_file_header_and_shape():
    lines = TRAFFIC_FILE.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    codes = [line for line in lines if not line.startswith("#")]
    assert any(line.startswith("# source:") and "simple-icd-10-cm" in line for line in header)
    assert any(line.startswith("# as_of:") for line in header)
    assert codes == sorted(set(codes)) and len(codes) > 400
    assert all(code[0] == "V" and "." not in code and 3 <= len(code) <= 6 for code in codes)
    assert frozenset(codes) == cs.TRAFFIC_ACCIDENT_CODES


def test_traffic_codes_are_valid_external_causes():
    for code in cs.TRAFFIC_ACCIDENT_CODES:
        assert cs.is_external_cause(code), code
        assert cs.icd10_status(code) in {"billable", "not_billable"}, code


def test_regenerated_traffic_file_matches_shipped(tmp_path):
    build = _load_build_script()
    out = tmp_path / "traffic.txt"
    count = build.write(out)
    assert count == len(cs.TRAFFIC_ACCIDENT_CODES)
    assert out.read_bytes() == TRAFFIC_FILE.read_bytes(), "run scripts/build_traffic_codes.py"


@pytest.mark.parametrize(("title", "verdict"), [
    ("Car driver injured in collision with car in traffic accident", True),
    ("Car driver injured in collision with car in nontraffic accident", False),
    ("Pedestrian injured in collision with pedal cycle, unspecified whether traffic or nontraffic accident", False),
    ("Person injured in unspecified motor-vehicle accident, traffic", True),
    ("Person injured in collision between car and bus (traffic)", True),
    ("Unspecified transport accident", None),
])
def test_build_title_verdict(title, verdict):
    assert _load_build_script().title_verdict(title) is verdict


@given(code=st.sampled_from(sorted(cs.TRAFFIC_ACCIDENT_CODES)), lower=st.booleans(), dot=st.booleans(),
       pad=st.sampled_from(["", " ", "\t"]))
def test_traffic_lookup_ignores_case_dot_and_spaces(code, lower, dot, pad):
    variant = f"{code[:3]}.{code[3:]}" if dot and len(code) > 3 else code
    variant = pad + (variant.lower() if lower else variant) + pad
    assert cs.is_traffic_accident_code(variant)
    extended = code.ljust(6, "X") + "D"  # 7th character with X placeholders
    assert cs.is_traffic_accident_code(extended)


# --- ICD-10-CM status ------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "status"), [
    ("E11.9", "billable"), ("E119", "billable"), ("I10", "billable"), ("e11.9 ", "billable"),
    ("S52521A", "billable"), ("S52.521A", "billable"), ("s52.521a", "billable"),
    ("V4352XA", "billable"), ("O321XX0", "billable"), ("T148XXA", "billable"),
    ("E11", "not_billable"), ("E11.6", "not_billable"), ("S52521", "not_billable"),
    ("S52.52", "not_billable"), ("V435", "not_billable"), ("Z3A", "not_billable"),
    ("ZZZ99", "invalid"), ("V4350XA", "invalid"), ("V4352A", "invalid"), ("S52521Z", "invalid"),
    ("E11.99", "invalid"), ("A00-A09", "invalid"), ("1", "invalid"), ("", "invalid"), (None, "invalid"),
])
def test_icd10_status(code, status):
    assert cs.icd10_status(code) == status


# --- payer code sets -------------------------------------------------------------------------

def test_state_sets():
    assert cs.NO_FAULT_STATES == frozenset("FL HI KS KY MA MI MN NJ NY ND PA UT PR".split())
    assert cs.PIP_STATES == frozenset({"AR", "DE", "MD", "OR"})
    assert not cs.NO_FAULT_STATES & cs.PIP_STATES
    assert isinstance(cs.NO_FAULT_STATES, frozenset)


@pytest.mark.parametrize(("state", "expected"), [
    ("NY", True), ("ny", True), (" MI ", True), ("PR", True), ("MD", True), ("OR", True),
    ("CA", False), ("TX", False), ("", False), (None, False),
])
def test_is_no_fault_or_pip_state(state, expected):
    assert cs.is_no_fault_or_pip_state(state) is expected


def test_filing_indicators():
    assert cs.MEDICAID_FILING_INDICATORS == frozenset({"MC"})
    assert cs.AUTO_FILING_INDICATORS == frozenset({"AM"})
    assert cs.MEDICARE_B_FILING_INDICATORS == frozenset({"MB"})
    subsets = cs.MEDICAID_FILING_INDICATORS | cs.AUTO_FILING_INDICATORS | cs.MEDICARE_B_FILING_INDICATORS
    assert subsets <= cs.CLAIM_FILING_INDICATOR_CODES
    assert {"11", "ZZ", "CI", "WC"} <= cs.CLAIM_FILING_INDICATOR_CODES


# --- describe --------------------------------------------------------------------------------

def test_describe_lists_every_set_with_source_and_date():
    entries = cs.describe()
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names))
    assert {"clinical_lab", "ambulance", "part_b_drug", "psychiatric", "mandatory_assignment_practitioner",
            "external_cause", "mental_health_dx", "traffic_accident", "icd10_status", "no_fault_states",
            "pip_states", "medicaid_filing_indicators", "auto_filing_indicators",
            "medicare_b_filing_indicators"} <= set(names)
    for entry in entries:
        assert entry["source"].strip(), entry["name"]
        dt.date.fromisoformat(entry["as_of"])
    traffic = next(e for e in entries if e["name"] == "traffic_accident")
    assert traffic["count"] == len(cs.TRAFFIC_ACCIDENT_CODES)


def test_every_data_file_names_source_and_date():
    data = files("scrubber.codesets").joinpath("data")
    shipped = [p for p in data.iterdir() if p.name.endswith((".yaml", ".txt"))]
    assert len(shipped) >= 5
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        assert "source:" in text and "as_of:" in text, path.name


def test_public_api():
    assert sorted(cs.__all__) == cs.__all__
    for name in cs.__all__:
        assert hasattr(cs, name), name


def test_unicode_digits_are_not_an_npi():
    from scrubber.codesets.npi import is_valid_npi

    assert is_valid_npi("1234567893")
    assert not is_valid_npi("１２３４５６７８９３")  # full-width digits pass str.isdigit
    assert not is_valid_npi("١٢٣٤٥٦٧٨٩٣")  # Arabic-Indic digits too
