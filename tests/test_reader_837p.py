"""837P reader (scrubber.readers.x12_837p): loops → model fields, locations, bad input, streaming.

Inputs are built in the tests (conftest builders); expected segment indexes are counted with an
independent tokenizer (``segment_index``), never taken from the reader.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import re
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scrubber.model import Claim, ParseIssue
from scrubber.readers.x12_837p import read, read_path
from scrubber.x12map import element_map
from scrubber.readers.x12_tokens import Segment, X12SyntaxError, iter_segments

from conftest import (
    BAD,
    MIXED_BATCH,
    GeneratedStream,
    batch,
    billing,
    claim,
    count_clm,
    group,
    interchange,
    line,
    patient,
    read_text,
    repeated_claim_parts,
    segment_index,
    segments_of,
    simple_claims,
    subscriber,
    transaction,
    unreadable,
)

# --- helpers -----------------------------------------------------------------------------------



def fields_at(segments: dict[str, int]) -> dict[str, int]:
    """``{"2300 CLM": 14}`` → the segment's key (its first element's field) → 14."""
    expected = {}
    for where, index in segments.items():
        loop, key = where.split()
        row = element_map("837p").segment_row(loop, key)
        assert row is not None, where
        if row.repeat:  # HI, CAS: under the field they accumulate into
            expected[row.elements[0].field] = index
        else:
            expected[row.elements[0].field] = index
    return expected

def claim_ids(claims: list[Claim]) -> list[str]:
    return [c.claim_id for c in claims]


def envelope(issues: list[ParseIssue]) -> list[ParseIssue]:
    return [issue for issue in issues if issue.location == "envelope"]


def three_claims(middle: list[str]) -> str:
    """A1 (good), ``middle`` under its own subscriber, A3 (good)."""
    return batch(subscriber(2) + claim("A1") + subscriber(3) + middle + subscriber(4) + claim("A3"))


def segment_after(text: str, anchor: str, prefix: str) -> int:
    """Index of the first segment starting with ``prefix`` at or after the one starting with ``anchor``."""
    start = segment_index(text, anchor)
    for position, segment in enumerate(segments_of(text), start=1):
        if position >= start and segment.startswith(prefix):
            return position
    raise AssertionError(prefix)


def tokenizer_clm_count(data: bytes, where: str = "all") -> int:
    """CLM segments the tokenizer can see (it may stop early on a syntax error).

    ``where``: "all", "inside" (between an ST and its SE) or "outside" (no transaction set open).
    """
    counts = {"inside": 0, "outside": 0}
    in_transaction = False
    try:
        for token in iter_segments(io.BytesIO(data)):
            if not isinstance(token, Segment):
                # a CLM whose element delimiter is broken (``CLM:A1``) is still a claim
                if re.match(r"CLM[^A-Za-z0-9]", token.segment_id) and in_transaction:
                    counts["inside"] += 1
                continue
            if token.id == "ST":
                in_transaction = True
            elif token.id == "SE":
                in_transaction = False
            elif token.id == "CLM":
                counts["inside" if in_transaction else "outside"] += 1
    except X12SyntaxError:
        pass
    return counts["inside"] + counts["outside"] if where == "all" else counts[where]


def assert_well_formed(items: list, file: str) -> None:
    for item in items:
        assert isinstance(item, (Claim, ParseIssue)), item
        if isinstance(item, ParseIssue):
            assert item.file == file
            assert item.message
            if item.unreadable_claim:
                assert item.severity == "error"
        else:
            assert item.source.file == file
            assert item.source.segment is not None


# --- the shared fixture ----------------------------------------------------------------------


def test_mixed_batch_fixture():
    items = list(read_path(MIXED_BATCH))
    claims = [i for i in items if isinstance(i, Claim)]
    issues = [i for i in items if isinstance(i, ParseIssue)]
    text = MIXED_BATCH.read_text()
    assert claim_ids(claims) == ["A1", "A2"]
    assert [c.source.segment for c in claims] == [segment_index(text, "CLM*A1"), segment_index(text, "CLM*A2")] == [20, 37]
    assert all(c.source.file == str(MIXED_BATCH) for c in claims)
    assert len(issues) == 1
    (b2,) = issues
    assert b2.unreadable_claim and b2.claim_id == "B2"
    assert b2.segment == segment_index(text, "CLM*B2") == 49
    assert b2.file == str(MIXED_BATCH)
    assert "CLM02" in b2.message and "ABC" in b2.message
    # items come out in file order: A1, A2, then B2
    assert [getattr(i, "claim_id", None) for i in items] == ["A1", "A2", "B2"]


def test_read_path_of_a_missing_file_is_an_issue(tmp_path: Path):
    missing = tmp_path / "nope.837"
    (issue,) = list(read_path(missing))
    assert isinstance(issue, ParseIssue)
    assert issue.file == str(missing)
    assert "cannot open" in issue.message


# --- layout and delimiters -----------------------------------------------------------------------


def _dump(claims: list[Claim]) -> list[dict]:
    return [c.model_dump() for c in claims]


@pytest.mark.parametrize("newline", ["", "\n", "\r\n"])
def test_newlines_after_terminators_do_not_change_claims(newline):
    reference, _ = read_text(batch(simple_claims(["A1", "A2"]), newline="\n"))
    claims, issues = read_text(batch(simple_claims(["A1", "A2"]), newline=newline))
    assert issues == []
    assert _dump(claims) == _dump(reference)


@pytest.mark.parametrize(
    ("element", "component", "repetition", "terminator"),
    [("|", ">", "^", "~"), ("^", "\\", "{", "'"), ("!", "@", "*", "\n"), ("*", ":", "^", "\r")],
)
def test_other_delimiters_give_the_same_claims(element, component, repetition, terminator):
    body = subscriber(2) + claim("A1", related="AA:::NY", lines=[line(1, pointers="1:2"), ["LX*2", "SV1*HC:80053:25*80*UN*1***1"]])
    reference, _ = read_text(batch(body))
    text = batch(body, element=element, component=component, repetition=repetition, terminator=terminator, newline="")
    claims, issues = read_text(text)
    assert issues == []
    assert _dump(claims) == _dump(reference)
    (c,) = claims
    assert c.related_causes == ("AA",) and c.accident_state == "NY"
    assert c.lines[0].diagnosis_pointers == (1, 2)
    assert c.lines[1].modifiers == ("25",)


def test_several_interchanges_groups_and_transactions():
    first = interchange(
        [
            group([transaction(billing() + simple_claims(["A1"]), control="0001"),
                   transaction(billing() + simple_claims(["A2"]), control="0002", version="005010X222A2")],
                  control="1", version="005010X222A1"),
            group([transaction(billing() + simple_claims(["A3"]), control="0003")], control="2"),
        ],
        control="000000001",
    )
    second = interchange(
        [group([transaction(billing() + simple_claims(["B1", "B2"]), control="0004")], control="3")],
        control="000000002",
        element="|",
        component=">",
        repetition="!",
        terminator="\n",
        newline="",
    )
    text = first + second
    claims, issues = read_text(text)
    assert issues == []
    assert claim_ids(claims) == ["A1", "A2", "A3", "B1", "B2"]
    assert [c.source.st_control for c in claims] == ["0001", "0002", "0003", "0004", "0004"]
    assert [c.implementation for c in claims] == ["005010X222A1", "005010X222A2", "005010X222A1", "005010X222A1", "005010X222A1"]
    first_count = len(segments_of(first))
    expected = [segment_index(first, f"CLM*{cid}") for cid in ("A1", "A2", "A3")]
    expected += [first_count + segment_index(second, f"CLM|{cid}", terminator="\n") for cid in ("B1", "B2")]
    assert [c.source.segment for c in claims] == expected
    assert claims[3].lines[0].procedure == "99213" and claims[3].frequency == "1"


@pytest.mark.parametrize("version", ["005010X222A1", "005010X222A2"])
def test_supported_implementations(version):
    claims, issues = read_text(batch(simple_claims(["A1"]), version=version))
    assert issues == []
    assert claims[0].implementation == version


def test_unsupported_implementation_is_reported_and_read_anyway():
    text = batch(simple_claims(["A1"]), version="004010X098A1")
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]
    (issue,) = issues
    assert issue.segment == segment_index(text, "ST*") and "004010X098A1" in issue.message
    assert not issue.unreadable_claim


# --- hierarchy: 2000A / 2000B / 2000C ---------------------------------------------------------------


def test_subscriber_is_the_patient():
    text = batch(subscriber(2, state="PA", birth="19500101", member="1EG4TE5MK73", filing="MB", sequence="P") + claim("A1"))
    (c,), issues = read_text(text)
    assert issues == []
    assert c.patient is None
    assert c.subscriber.state == "PA" and c.patient_state == "PA"
    assert c.subscriber.birth_date == dt.date(1950, 1, 1)
    assert c.subscriber.member_id == "1EG4TE5MK73"
    assert (c.subscriber.last_name, c.subscriber.first_name) == ("TESTPERSON", "BETA")
    assert c.payer.filing_indicator == "MB" and c.payer.sequence == "P"
    assert c.payer.payer_id == "CIPAYER" and c.payer.name == "SYNTHETIC HEALTH PLAN"
    assert c.subscriber.elements == fields_at(
        {
            "2010BA NM1*IL": segment_index(text, "NM1*IL"),
            "2010BA N4": segment_index(text, "N4*", 2),
            "2010BA DMG": segment_index(text, "DMG*"),
        }
    )
    assert c.payer.elements == fields_at(
        {"2000B SBR": segment_index(text, "SBR*"), "2010BB NM1*PR": segment_index(text, "NM1*PR")}
    )


def test_dependent_patient_comes_from_2010ca_and_subscriber_from_2010ba():
    body = (
        subscriber(2, state="NY", birth="19800202", children=True)
        + patient(3, 2, state="NJ", birth="20100505", relationship="19")
        + claim("C1")
        + claim("C2")
        + patient(4, 2, state="CT", birth="20120606", first="EPSILON")
        + claim("C3")
        + subscriber(5, state="FL")
        + claim("C4")
    )
    text = batch(body)
    claims, issues = read_text(text)
    assert issues == []
    assert claim_ids(claims) == ["C1", "C2", "C3", "C4"]
    c1, c2, c3, c4 = claims
    for c in (c1, c2):
        assert c.patient is not None
        assert c.patient.state == "NJ" and c.patient.birth_date == dt.date(2010, 5, 5)
        assert c.patient.relationship == "19"
        assert (c.patient.last_name, c.patient.first_name) == ("TESTCHILD", "DELTA")
        assert c.patient_state == "NJ"
        assert c.subscriber.state == "NY" and c.subscriber.birth_date == dt.date(1980, 2, 2)
        assert c.patient.elements == fields_at(
            {
                "2000C PAT": segment_index(text, "PAT*"),
                "2010CA NM1*QC": segment_index(text, "NM1*QC"),
                "2010CA N4": segment_index(text, "N4*TRENTON*NJ"),
                "2010CA DMG": segment_index(text, "DMG*D8*20100505"),
            }
        )
    assert c3.patient.state == "CT" and c3.patient.first_name == "EPSILON"
    assert c3.patient.birth_date == dt.date(2012, 6, 6)
    assert c3.subscriber.state == "NY"
    assert c4.patient is None and c4.patient_state == "FL"


def test_billing_provider_2010aa():
    text = batch(simple_claims(["A1"]))
    (c,), _ = read_text(text)
    assert c.billing_provider is not None
    assert c.billing_provider.npi == "1234567893"
    assert c.billing_provider.elements.get("npi") == segment_index(text, "NM1*85")
    assert c.billing_state == "NY"
    assert c.batch_date == dt.date(2026, 1, 15)


def test_billing_provider_taxonomy_from_2000a_prv():
    text = batch(simple_claims(["A1"]))
    assert text.index("PRV*BI*PXC*207Q00000X") < text.index("NM1*85")
    (c,), _ = read_text(text)
    assert c.billing_provider.taxonomy == "207Q00000X"
    assert c.billing_provider.npi == "1234567893"
    assert c.billing_provider.elements == fields_at(
        {"2000A PRV*BI": segment_index(text, "PRV*BI"), "2010AA NM1*85": segment_index(text, "NM1*85")}
    )


# --- claim loops -----------------------------------------------------------------------------------


RICH_BEFORE_LINES = [
    "DTP*439*D8*20260105",
    "REF*G1*AUTH123",
    "REF*F8*ORIG999",
    "REF*EA*MEDREC",
    "NM1*82*1*DOCTOR*TEST****XX*1234567893",
    "PRV*PE*PXC*207Q00000X",
    "SBR*S*18***12****MB",
    "CAS*CO*45*20**253*1.5",
    "CAS*PR*2*5*1",
    "AMT*D*80",
    "OI***Y*P**Y",
    "NM1*IL*1*TESTPERSON*BETA****MI*1EG4TE5MK73",
    "NM1*PR*2*MEDICARE*****PI*MBPAYER",
    "DTP*573*D8*20260120",
]
RICH_LINES = [
    line(
        1,
        "99213",
        "150",
        extra=[
            "REF*G1*LINEAUTH",
            "NM1*82*1*OTHER*DOC****XX*1111111112",
            "PRV*PE*PXC*363LF0000X",
            "SVD*MBPAYER*60*HC:99213**1",
            "CAS*CO*45*70",
            "CAS*PR*1*20",
            "DTP*573*D8*20260121",
        ],
    ),
    ["LX*2", "SV1*HC:80053:25:59*100*UN*2*11**1:2", "DTP*472*RD8*20260111-20260112"],
]


@pytest.fixture(scope="module")
def rich():
    body = subscriber(2, children=True) + patient(3, 2) + claim(
        "C1",
        "250",
        pos="22",
        frequency="7",
        assignment="C",
        related="AA:::NY",
        accident_date=None,  # RICH_BEFORE_LINES has its own DTP*439
        diagnoses="HI*ABK:S52521A*ABF:V4352XA*BP:99999*ABF:I10",
        before_lines=RICH_BEFORE_LINES,
        lines=RICH_LINES,
    )
    text = batch(body)
    claims, issues = read_text(text, file="rich.837")
    assert issues == []
    (c,) = claims
    return text, c


def test_2300_clm(rich):
    text, c = rich
    assert c.claim_id == "C1"
    assert c.total_charge == Decimal("250")
    assert c.place_of_service == "22"
    assert c.frequency == "7"  # CLM05-3
    assert c.provider_signature == "Y"
    assert c.assignment == "C"
    assert c.benefits_assignment == "Y"
    assert c.release_of_information == "Y"
    assert c.related_causes == ("AA",)  # CLM11 AA:::NY
    assert c.accident_state == "NY"
    assert c.source.file == "rich.837"
    assert c.source.segment == segment_index(text, "CLM*C1")
    assert c.source.st_control == "0001"


def test_2300_dates_references_and_diagnoses(rich):
    text, c = rich
    assert c.accident_date == dt.date(2026, 1, 5)
    assert c.prior_auth == "AUTH123"  # REF*G1
    assert c.payer_claim_number == "ORIG999"  # REF*F8
    assert [(d.qualifier, d.code) for d in c.diagnoses] == [("ABK", "S52521A"), ("ABF", "V4352XA"), ("ABF", "I10")]
    assert c.elements == fields_at(
        {
            "ST BHT": segment_index(text, "BHT*"),
            "2010AA N4": segment_index(text, "N4*"),
            "2300 CLM": segment_index(text, "CLM*"),
            "2300 HI": segment_index(text, "HI*"),
            "2300 DTP*439": segment_index(text, "DTP*439"),
            "2300 REF*G1": segment_index(text, "REF*G1*AUTH123"),
            "2300 REF*F8": segment_index(text, "REF*F8"),
        }
    )


def test_2310b_rendering_provider(rich):
    text, c = rich
    assert c.rendering_provider is not None
    assert c.rendering_provider.npi == "1234567893"
    assert c.rendering_provider.taxonomy == "207Q00000X"
    assert c.rendering_provider.elements == fields_at(
        {"2310B NM1*82": segment_index(text, "NM1*82"), "2310B PRV*PE": segment_index(text, "PRV*PE")}
    )


def test_2320_and_2330b_other_payer(rich):
    text, c = rich
    (other,) = c.other_payers
    assert other.sequence == "S"  # 2320 SBR01
    assert other.insurance_type == "12"  # 2320 SBR05
    assert other.filing_indicator == "MB"  # 2320 SBR09
    assert other.paid == Decimal("80")  # AMT*D
    assert [(a.group, a.reason, a.amount, a.quantity) for a in other.adjustments] == [
        ("CO", "45", Decimal("20"), None),
        ("CO", "253", Decimal("1.5"), None),
        ("PR", "2", Decimal("5"), Decimal("1")),
    ]
    assert other.payer_id == "MBPAYER"  # 2330B NM109 (not the 2330A NM109)
    assert other.name == "MEDICARE"
    assert other.adjudication_date == dt.date(2026, 1, 20)  # 2330B DTP*573
    assert other.elements == fields_at(
        {
            "2320 SBR": segment_index(text, "SBR*S"),
            "2320 CAS": segment_index(text, "CAS*CO*45*20"),
            "2320 AMT*D": segment_index(text, "AMT*D"),
            "2330B NM1*PR": segment_index(text, "NM1*PR*2*MEDICARE"),
            "2330B DTP*573": segment_index(text, "DTP*573*D8*20260120"),
        }
    )
    # the 2330A subscriber name did not overwrite the 2010BA subscriber
    assert c.subscriber.member_id == "W000000002"
    assert c.payer.filing_indicator == "CI" and c.payer.payer_id == "CIPAYER"


def test_2400_service_lines(rich):
    text, c = rich
    first, second = c.lines
    assert first.number == 1 and first.qualifier == "HC" and first.procedure == "99213"
    assert first.charge == Decimal("150") and first.units == Decimal("1") and first.unit_basis == "UN"
    assert first.diagnosis_pointers == (1,)
    assert first.service_date == dt.date(2026, 1, 10)
    assert first.prior_auth == "LINEAUTH"
    assert first.modifiers == ()
    assert first.elements == fields_at(
        {
            "2400 LX": segment_index(text, "LX*1"),
            "2400 SV1": segment_index(text, "SV1*HC:99213"),
            "2400 DTP*472": segment_index(text, "DTP*472"),
            "2400 REF*G1": segment_index(text, "REF*G1*LINEAUTH"),
        }
    )
    assert second.number == 2 and second.procedure == "80053"
    assert second.modifiers == ("25", "59")
    assert second.units == Decimal("2") and second.place_of_service == "11"
    assert second.diagnosis_pointers == (1, 2)
    assert second.service_date == dt.date(2026, 1, 11)  # RD8: the start of the range
    assert second.rendering_provider is None and second.adjudications == ()


def test_2420a_line_rendering_provider(rich):
    text, c = rich
    provider = c.lines[0].rendering_provider
    assert provider is not None
    assert provider.npi == "1111111112"
    assert provider.taxonomy == "363LF0000X"  # PRV on the line, not the claim's
    assert provider.elements == fields_at(
        {"2420A NM1*82": segment_index(text, "NM1*82", 2), "2420A PRV*PE": segment_index(text, "PRV*PE", 2)}
    )
    assert c.rendering_provider.taxonomy == "207Q00000X"


def test_2430_line_adjudication(rich):
    text, c = rich
    (adjudication,) = c.lines[0].adjudications
    assert adjudication.payer_id == "MBPAYER"
    assert adjudication.paid == Decimal("60")
    assert adjudication.procedure == "99213"
    assert adjudication.units == Decimal("1")
    assert [(a.group, a.reason, a.amount) for a in adjudication.adjustments] == [
        ("CO", "45", Decimal("70")),
        ("PR", "1", Decimal("20")),
    ]
    assert adjudication.adjudication_date == dt.date(2026, 1, 21)
    assert adjudication.elements == fields_at(
        {
            "2430 SVD": segment_index(text, "SVD*"),
            "2430 CAS": segment_index(text, "CAS*CO*45*70"),
            "2430 DTP*573": segment_index(text, "DTP*573", 2),
        }
    )


def test_icd9_qualifiers():
    (c,), issues = read_text(batch(subscriber(2) + claim("A1", diagnoses="HI*BK:25000*BF:4019")))
    assert issues == []
    assert [(d.qualifier, d.code) for d in c.diagnoses] == [("BK", "25000"), ("BF", "4019")]


def test_several_claims_do_not_share_state():
    body = subscriber(2, filing="MB") + claim("A1", before_lines=RICH_BEFORE_LINES[:8]) + claim("A2") + subscriber(3, filing="CI") + claim("A3")
    claims, issues = read_text(batch(body))
    assert issues == []
    a1, a2, a3 = claims
    assert len(a1.other_payers) == 1 and a1.prior_auth == "AUTH123"
    assert a2.other_payers == () and a2.prior_auth is None and a2.rendering_provider is None
    assert a2.payer.filing_indicator == "MB" and a3.payer.filing_indicator == "CI"


def test_component_separator_fallback_is_a_warning():
    body = subscriber(2) + ["CLM*A1*100***11>B>7*Y*A*Y*Y", "HI*ABK>J449", "LX*1", "SV1*HC>99213*100*UN*1***1"]
    text = batch(body)
    (c,), issues = read_text(text)
    assert c.frequency == "7" and c.lines[0].procedure == "99213"
    assert [(c.qualifier, c.code) for c in c.diagnoses] == [("ABK", "J449")]
    (warning,) = issues
    assert warning.severity == "warning" and not warning.unreadable_claim
    assert warning.segment == segment_index(text, "CLM*") and "'>'" in warning.message


# --- bad input: never raises, always says where --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "middle", "bad_segment", "words"),
    [
        ("bad-number", claim("A2", "ABC"), "CLM*A2", ["CLM02", "ABC"]),
        ("bad-date", claim("A2", lines=[line(date="20261340")]), "DTP*472*D8*20261340", ["DTP03", "20261340"]),
        ("short-date", claim("A2", lines=[line(date="2026011")]), "DTP*472*D8*2026011", ["DTP03"]),
        ("sv1-no-procedure", claim("A2", lines=[["LX*1", "SV1*HC*100*UN*1***1"]]), "SV1*HC*100", ["SV101"]),
        ("sv1-empty-procedure", claim("A2", lines=[["LX*1", "SV1**100*UN*1***1"]]), "SV1**100", ["SV101"]),
        ("lx-without-sv1", claim("A2", lines=[["LX*1", "DTP*472*D8*20260110"]]), "LX*1", ["SV1"]),
        ("no-lines", claim("A2", lines=[]), "CLM*A2", ["service lines"]),
        ("garbage-segment", claim("A2", before_lines=["@@garbage**"]), "@@garbage", ["@@garbage"]),
        ("bad-lx-number", claim("A2", lines=[["LX*one", "SV1*HC:99213*100*UN*1***1"]]), "LX*one", ["LX01"]),
        ("bad-cas-amount", claim("A2", before_lines=["SBR*S*18*******MB", "CAS*CO*45*lots"]), "CAS*CO*45*lots", ["CAS03"]),
        ("bad-pointer", claim("A2", lines=[line(pointers="A")]), "SV1*HC:99213", ["SV107"]),
        ("missing-clm01", claim("", "100"), "CLM**", ["CLM01"]),
    ],
)
def test_bad_claim_is_unreadable_and_reading_resumes(name, middle, bad_segment, words):
    text = three_claims(middle)
    claims, issues = read_text(text, file=f"{name}.837")
    assert claim_ids(claims) == ["A1", "A3"]
    assert claims[1].source.segment == segment_index(text, "CLM*A3")  # resumed with the right location
    (issue,) = issues
    assert issue.unreadable_claim
    assert issue.claim_id == ("A2" if name != "missing-clm01" else None)
    assert issue.file == f"{name}.837"
    assert issue.segment == segment_after(text, "CLM*A2" if name != "missing-clm01" else "CLM**", bad_segment)
    for word in words:
        assert word in issue.message


def test_garbage_segment_in_a_hierarchy_level_makes_its_claims_unreadable():
    """Garbage inside the billing provider level (it may have been its NM1*85 or N4): that level was not
    read whole, so no claim is judged with it; the next billing provider level reads again."""
    text = batch(["##junk##"] + simple_claims(["A1"]))
    claims, issues = read_text(text)
    assert claim_ids(claims) == []
    garbage = segment_index(text, "##junk##")
    assert any(not issue.unreadable_claim and issue.segment == garbage for issue in issues)
    (broken,) = unreadable(issues)
    assert broken.claim_id == "A1" and f"segment {garbage}" in broken.message


def test_garbage_segment_before_the_hierarchy_is_an_issue_and_claims_still_read():
    clean = batch(simple_claims(["A1"]))
    count = segment_index(clean, "SE*") - segment_index(clean, "ST*") + 1
    text = clean.replace("HL*1*", "##junk##~\nHL*1*", 1).replace(f"SE*{count}*", f"SE*{count + 1}*")
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]
    (junk,) = issues
    assert not junk.unreadable_claim and junk.segment == segment_index(text, "##junk##")


def test_claim_before_any_subscriber_is_unreadable():
    text = batch(claim("A0") + simple_claims(["A1"]))
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]
    (issue,) = unreadable(issues)
    assert issue.segment == segment_index(text, "CLM*A0")
    assert "HL*22" in issue.message
    assert len(issues) == 1


def test_claim_before_any_subscriber_keeps_its_id():
    (issue,) = unreadable(read_text(batch(claim("A0") + simple_claims(["A1"])))[1])
    assert issue.claim_id == "A0"


def test_bad_date_above_the_claim_is_reported_with_its_segment():
    text = batch(subscriber(2, birth="19801399") + claim("A1") + subscriber(3) + claim("A2"))
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A2"]  # A1's subscriber level was not read whole
    (issue,) = [i for i in issues if "DMG" in i.message and not i.unreadable_claim]
    assert issue.segment == segment_index(text, "DMG*D8*19801399") and issue.file == "test.837"
    (broken,) = unreadable(issues)
    assert broken.claim_id == "A1" and "DMG" in broken.message


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("empty", "", ["no X12 interchange"]),
        ("blank", " \r\n\n  ", ["no X12 interchange"]),
        ("garbage", "this is certainly not X12 " * 10, ["ISA"]),
        ("binary", bytes(range(256)).decode("latin-1") * 4, ["ISA"]),
        ("isa-too-short", batch(simple_claims(["A1"])).replace("*00501*000000101*0*T*:~", "*00501~", 1), ["ISA"]),
        ("isa-no-16-elements", "ISA*00*          *00*~", ["ISA"]),
        ("isa-alnum-separator", batch(simple_claims(["A1"])).replace("ISA*", "ISAX", 1), ["separator"]),
    ],
)
def test_unreadable_input_is_one_envelope_issue(name, text, words):
    claims, issues = read_text(text, file=f"{name}.837")
    assert claims == []
    (issue,) = issues
    assert issue.location == "envelope" and issue.file == f"{name}.837"
    assert not issue.unreadable_claim
    if name not in ("empty", "blank"):
        assert issue.segment == 1
    for word in words:
        assert word in issue.message


def test_missing_iea():
    text = interchange([group([transaction(billing() + simple_claims(["A1", "A2"]))])], iea=False)
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1", "A2"]
    (issue,) = issues
    assert issue.location == "envelope" and "IEA" in issue.message


def test_se_count_wrong():
    text = interchange([group([transaction(billing() + simple_claims(["A1", "A2"]), se_count=99)])])
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]  # the claim the SE closes may have been cut there
    (broken,) = unreadable(issues)
    assert broken.claim_id == "A2" and "SE01" in broken.message
    (issue,) = [i for i in issues if not i.unreadable_claim]
    right = segment_index(text, "SE*") - segment_index(text, "ST*") + 1
    assert issue.segment == segment_index(text, "SE*") and issue.location == "envelope"
    assert "'99'" in issue.message and str(right) in issue.message


def test_se02_must_match_st02():
    text = batch(simple_claims(["A1"])).replace("*0001~\nGE*", "*0009~\nGE*")
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]
    (issue,) = issues
    assert issue.segment == segment_index(text, "SE*") and "SE02" in issue.message


def test_ge_count_wrong():
    text = interchange([group([transaction(billing() + simple_claims(["A1"]))], ge_count=3)])
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]
    (issue,) = issues
    assert issue.segment == segment_index(text, "GE*") and "GE01" in issue.message


def test_iea_count_wrong():
    text = interchange([group([transaction(billing() + simple_claims(["A1"]))])], iea_count=2)
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]
    (issue,) = issues
    assert issue.segment == segment_index(text, "IEA*") and "IEA01" in issue.message


def test_transaction_without_se_before_ge():
    segments = transaction(billing() + simple_claims(["A1", "A2"]))[:-1]  # no SE
    text = interchange([group([segments])])
    claims, issues = read_text(text)
    assert claim_ids(claims) == ["A1"]
    assert [i.claim_id for i in unreadable(issues)] == ["A2"]
    assert any(i.location == "envelope" and i.segment == segment_index(text, "GE*") for i in issues)


def test_st_before_previous_se_is_reported():
    first = transaction(billing() + simple_claims(["A1"]), control="0001")[:-1]
    second = transaction(billing() + simple_claims(["A2"]), control="0002")
    text = interchange([group([first, second], ge_count=2)])
    claims, issues = read_text(text)
    assert len(claims) + len(unreadable(issues)) == 2
    assert any(i.segment == segment_index(text, "ST*837*0002") for i in issues)


@pytest.mark.parametrize(
    ("old", "new"),
    [("ST*837", "SX*837"), ("GS*HC*SUBMITTER01*RECEIVER01*20260115*0930*101*X*005010X222A1~\n", "GS*HC*SUBMITTER01*RECEIVER01*20260115*0930*101*X*005010X222A1\n"), ("CLEARINGHOUSE", "CLEARINGHO~SE")],
    ids=["corrupt-st-id", "lost-terminator-before-st", "spurious-se"],
)
def test_claims_outside_a_transaction_set_are_still_counted(old, new):
    text = batch(simple_claims(["A1", "A2"]))
    assert old in text
    text = text.replace(old, new, 1)
    assert tokenizer_clm_count(text.encode(), "outside") == 2
    claims, issues = read_text(text)
    assert sorted(claim_ids(claims) + [i.claim_id for i in unreadable(issues)]) == ["A1", "A2"]


# --- truncation ------------------------------------------------------------------------------------


def _truncation_text() -> str:
    return three_claims(claim("A2", lines=[line(1), line(2, "80053")]))


def test_truncated_at_a_segment_boundary_mid_claim():
    text = _truncation_text()
    cut = text.index("LX*2")  # A2 has one complete line; the file ends there
    claims, issues = read_text(text[:cut])
    assert claim_ids(claims) == ["A1"]
    (broken,) = unreadable(issues)
    assert broken.claim_id == "A2" and broken.file == "test.837"
    assert "ends" in broken.message
    assert any(i.location == "envelope" and "IEA" in i.message for i in issues)


def test_truncated_claim_keeps_a_location():
    text = _truncation_text()
    (broken,) = unreadable(read_text(text[: text.index("LX*2")])[1])
    assert broken.segment is not None and broken.segment >= segment_index(text, "CLM*A2")


def test_truncated_inside_a_segment():
    text = _truncation_text()
    cut = text.index("SV1*HC:80053") + 7
    claims, issues = read_text(text[:cut])
    assert claim_ids(claims) == ["A1"]
    (broken,) = unreadable(issues)
    assert broken.claim_id == "A2"
    assert broken.segment == segment_index(text, "SV1*HC:80053")
    assert any(i.location == "envelope" and i.segment == segment_index(text, "SV1*HC:80053") for i in issues)


def test_truncated_inside_a_segment_says_iea_is_missing():
    text = _truncation_text()
    _, issues = read_text(text[: text.index("SV1*HC:80053") + 7])
    assert any(i.location == "envelope" and "IEA" in i.message for i in issues)


# --- streaming --------------------------------------------------------------------------------------


def test_reading_is_lazy_on_an_endless_stream():
    head, block, tail = repeated_claim_parts(None)
    stream = GeneratedStream(head, block, None, tail, limit=1 << 22)  # never ends
    items = read(stream, "endless.837")
    first = next(items)
    second = next(items)
    assert isinstance(first, Claim) and isinstance(second, Claim)
    assert first.source.segment < second.source.segment
    assert stream.consumed < 4 * 65536


def test_first_claim_comes_before_the_file_is_read():
    count = 5000
    head, block, tail = repeated_claim_parts(count)
    total = len(head) + len(block) * count + len(tail)
    stream = GeneratedStream(head, block, count, tail)
    items = read(stream, "many.837")
    first = next(items)
    assert isinstance(first, Claim)
    assert stream.consumed < total / 2
    rest = list(items)
    assert stream.consumed == total
    assert len(rest) == count - 1 and all(isinstance(i, Claim) for i in rest)


def _peak_while_reading(count: int) -> tuple[int, int]:
    head, block, tail = repeated_claim_parts(count)
    stream = GeneratedStream(head, block, count, tail)
    gc.collect()
    tracemalloc.start()
    try:
        seen = 0
        for item in read(stream, "big.837"):
            assert isinstance(item, Claim), item
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seen, peak


def test_memory_does_not_grow_with_the_number_of_claims():
    small_count, small_peak = _peak_while_reading(2_000)
    large_count, large_peak = _peak_while_reading(20_000)
    assert (small_count, large_count) == (2_000, 20_000)
    assert large_peak < 2 * small_peak, (small_peak, large_peak)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=800))
def test_arbitrary_bytes_never_raise(data):
    items = list(read(io.BytesIO(data), "fuzz.837"))
    assert_well_formed(items, "fuzz.837")
    assert items, "something is always said about the input"


_ISA = batch([])[:107]


@settings(max_examples=200, deadline=None)
@given(tail=st.binary(max_size=800))
def test_valid_isa_then_arbitrary_bytes_never_raise(tail):
    data = _ISA.encode() + tail
    items = list(read(io.BytesIO(data), "fuzz.837"))
    assert_well_formed(items, "fuzz.837")


def _base_file() -> str:
    """Claims in several shapes, one of them unreadable, over two transaction sets."""
    first = billing() + subscriber(2, children=True) + patient(3, 2) + claim(
        "P1", before_lines=RICH_BEFORE_LINES, lines=RICH_LINES
    ) + claim("P2") + subscriber(4) + claim("P3", "ABC") + claim("P4", related="AA:::CA")
    second = billing() + simple_claims(["Q1", "Q2"])
    return interchange([group([transaction(first, "0001"), transaction(second, "0002")])])


BASE = _base_file()
BASE_BYTES = BASE.encode()


def _spans(text: str) -> list[tuple[str, int]]:
    """(segment text, offset of its terminator) for every segment of a '~'-terminated file."""
    spans, start = [], 0
    while True:
        end = text.find("~", start)
        if end < 0:
            return spans
        spans.append((text[start:end].strip(), end))
        start = end + 1


SPANS = _spans(BASE)


def _claim_windows() -> dict[str, tuple[int, int]]:
    """claim id → (terminator offset of its CLM, terminator offset of the segment that closes it)."""
    windows = {}
    for position, (segment, end) in enumerate(SPANS):
        if segment.startswith("CLM*"):
            claim_id = segment.split("*")[1]
            closing = next(
                later_end
                for later, later_end in SPANS[position + 1 :]
                if later.split("*")[0] in ("HL", "CLM", "SE", "GE", "IEA")
            )
            windows[claim_id] = (end, closing)
    return windows


WINDOWS = _claim_windows()


def _full_read() -> tuple[dict[str, Claim], set[str]]:
    claims, issues = read_text(BASE, file="base.837")
    return {c.claim_id: c for c in claims}, {i.claim_id for i in unreadable(issues)}


FULL_CLAIMS, FULL_UNREADABLE = _full_read()


def test_base_file_for_properties():
    assert set(FULL_CLAIMS) == {"P1", "P2", "P4", "Q1", "Q2"} and FULL_UNREADABLE == {"P3"}
    assert count_clm(BASE) == len(WINDOWS) == 6


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(BASE_BYTES)))
def test_truncation_at_any_byte(cut):
    data = BASE_BYTES[:cut]
    items = list(read(io.BytesIO(data), "base.837"))
    assert_well_formed(items, "base.837")
    claims = {i.claim_id: i for i in items if isinstance(i, Claim)}
    broken = [i.claim_id for i in items if isinstance(i, ParseIssue) and i.unreadable_claim]
    expected_claims, expected_broken = {}, set()
    for claim_id, (clm_end, closing_end) in WINDOWS.items():
        if closing_end < cut:  # closed before the cut: exactly as in the whole file
            if claim_id in FULL_CLAIMS:
                expected_claims[claim_id] = FULL_CLAIMS[claim_id]
            else:
                expected_broken.add(claim_id)
        elif clm_end < cut:  # started, not finished
            expected_broken.add(claim_id)
    assert claims == expected_claims
    assert sorted(broken) == sorted(expected_broken)
    assert len(claims) + len(broken) == tokenizer_clm_count(data)
    if BASE_BYTES[cut:].strip():
        assert any(i.location == "envelope" for i in items if isinstance(i, ParseIssue))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(position=st.integers(min_value=0, max_value=len(BASE_BYTES) - 1), value=st.integers(0, 255))
def test_single_byte_corruption(position, value):
    data = bytearray(BASE_BYTES)
    data[position] = value
    data = bytes(data)
    # A CLM outside ST..SE (corrupt ST, or a spurious SE) is a known bug, see
    # test_claims_outside_a_transaction_set_are_still_counted; the property is about everything else.
    assume(tokenizer_clm_count(data, "outside") == 0)
    items = list(read(io.BytesIO(data), "base.837"))
    assert_well_formed(items, "base.837")
    claims = [i for i in items if isinstance(i, Claim)]
    broken = [i for i in items if isinstance(i, ParseIssue) and i.unreadable_claim]
    # every CLM the tokenizer can see is accounted for, once
    assert len(claims) + len(broken) == tokenizer_clm_count(data)
    # claims closed before the corrupt byte are exactly what the whole file gives
    by_id = {c.claim_id: c for c in claims}
    for claim_id, (_, closing_end) in WINDOWS.items():
        if closing_end < position and claim_id in FULL_CLAIMS:
            assert by_id.get(claim_id) == FULL_CLAIMS[claim_id]


# --- fixtures/837p/bad ------------------------------------------------------------------------------

BAD_FILES = sorted(p for p in BAD.glob("*") if p.suffix != ".md")


def test_bad_fixtures_exist_and_are_documented():
    assert len(BAD_FILES) >= 5
    readme = (BAD / "README.md").read_text()
    for path in BAD_FILES:
        assert path.name in readme, f"{path.name} is not described in fixtures/837p/bad/README.md"


# file → (claims read, number of unreadable claims, segment prefix each unreadable claim points at, words in an issue)
BAD_EXPECTED = {
    "empty.837": ([], 0, None, "no X12 interchange"),
    "garbage.837": ([], 0, None, "ISA"),
    "binary.837": ([], 0, None, "ISA"),
    "isa-too-short.837": ([], 0, None, "ISA"),
    "truncated-mid-claim.837": (["A1"], 1, "SV1*HC:", "file ends"),  # the last, cut, SV1
    "missing-iea.837": (["A1", "A2"], 0, None, "IEA"),
    "se-count-wrong.837": (["A1"], 1, "SE*", "SE01"),
    "ge-iea-count-wrong.837": (["A1", "A2"], 0, None, "GE01"),
    "garbage-segment-in-claim.837": (["A1", "A3"], 1, "@@", "not a segment"),
    "bad-number.837": (["A1", "A3"], 1, "CLM*A2", "CLM02"),
    "bad-date.837": (["A1", "A3"], 1, "DTP*472*D8*20261340", "DTP03"),
    "sv1-no-procedure.837": (["A1", "A3"], 1, "SV1*HC*", "SV101"),
    "lx-without-sv1.837": (["A1", "A3"], 1, "LX*1~\nDTP", "SV1"),
    "claim-without-lines.837": (["A1", "A3"], 1, "CLM*A2", "service lines"),
    "claim-before-subscriber.837": (["A1"], 1, "CLM*A0", "HL*22"),
}


def test_every_bad_fixture_has_expectations():
    assert sorted(p.name for p in BAD_FILES) == sorted(BAD_EXPECTED)


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_bad_fixture_outcome(path):
    expected_claims, expected_unreadable, bad_segment, words = BAD_EXPECTED[path.name]
    items = list(read_path(path))
    claims = [i for i in items if isinstance(i, Claim)]
    issues = [i for i in items if isinstance(i, ParseIssue)]
    assert claim_ids(claims) == expected_claims
    broken = unreadable(issues)
    assert len(broken) == expected_unreadable
    text = path.read_bytes().decode("latin-1")
    if bad_segment is not None:
        prefix, _, follower = bad_segment.partition("~\n")
        candidates = [n for n, seg in enumerate(segments_of(text), start=1) if seg.startswith(prefix)]
        if follower:  # the segment whose next segment starts with ``follower``
            after = segments_of(text)
            candidates = [n for n in candidates if n < len(after) and after[n].startswith(follower)]
        assert candidates and broken[0].segment == candidates[-1]
    assert any(words in i.message for i in issues)
    for c in claims:
        assert c.source.segment == segment_index(text, f"CLM*{c.claim_id}")


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_bad_fixtures_never_raise_and_account_for_every_claim(path):
    items = list(read_path(path))
    assert_well_formed(items, str(path))
    assert any(isinstance(i, ParseIssue) and i.severity == "error" for i in items)
    claims = [i for i in items if isinstance(i, Claim)]
    broken = [i for i in items if isinstance(i, ParseIssue) and i.unreadable_claim]
    assert len(claims) + len(broken) == tokenizer_clm_count(path.read_bytes())
