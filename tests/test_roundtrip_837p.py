"""837P writer: structure of its output, and read(write(claims)) == claims."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrubber.model import (
    Adjustment,
    Claim,
    Diagnosis,
    OtherPayer,
    ParseIssue,
    Party,
    Payer,
    Provider,
    ServiceLine,
)
from scrubber.writers.x12_837p import format_decimal, write

from strategies import claim_batches, comparable  # tests/ is on sys.path, as for conftest

WHEN = dt.datetime(2025, 3, 1, 12, 30)


def _segments(text: str) -> list[list[str]]:
    """A deliberately tiny tokenizer, independent of the reader: fixed '*' and '~'."""
    assert text[:3] == "ISA" and text[105] == "~", "ISA is 106 characters wide"
    pieces = [piece.strip("\r\n") for piece in text.split("~")]
    assert pieces[-1] == ""
    return [piece.split("*") for piece in pieces[:-1]]


def _check_envelope(text: str) -> list[list[str]]:
    segments = _segments(text)
    isa = segments[0]
    assert len(isa) == 17 and isa[11] == "^" and isa[16] == ":"
    st_at = None
    transactions_in_group = groups = 0
    for i, segment in enumerate(segments):
        if segment[0] != "ISA":
            assert segment[-1] != "", f"trailing empty element in {segment}"
        if segment[0] == "GS":
            groups += 1
            transactions_in_group = 0
            gs06 = segment[6]
        elif segment[0] == "ST":
            st_at, st02 = i, segment[2]
            transactions_in_group += 1
        elif segment[0] == "SE":
            assert int(segment[1]) == i - st_at + 1, "SE01 counts ST..SE"
            assert segment[2] == st02
        elif segment[0] == "GE":
            assert (int(segment[1]), segment[2]) == (transactions_in_group, gs06)
    assert segments[-1] == ["IEA", str(groups), isa[13]]
    return segments


def _claim(claim_id: str = "C1", **overrides) -> Claim:
    base = dict(
        claim_id=claim_id,
        total_charge=Decimal("143.04"),
        place_of_service="11",
        frequency="1",
        provider_signature="Y",
        assignment="C",
        benefits_assignment="Y",
        release_of_information="Y",
        related_causes=("AA",),
        accident_state="NY",
        accident_date=dt.date(2025, 2, 1),
        diagnoses=(Diagnosis(code="S52521A", qualifier="ABK"), Diagnosis(code="V4352XA", qualifier="ABF")),
        batch_date=dt.date(2025, 3, 1),
        implementation="005010X222A1",
        billing_provider=Provider(npi="1234567893", id_qualifier="XX"),
        billing_state="NY",
        payer=Payer(sequence="S", filing_indicator="MB", payer_id="MCR01", name="MEDICARE"),
        subscriber=Party(last_name="DOE", first_name="JANE", member_id="M1", state="NY"),
        other_payers=(
            OtherPayer(
                sequence="P",
                filing_indicator="AM",
                payer_id="AUTO1",
                name="STATE FARM",
                paid=Decimal("100"),
                adjustments=(
                    Adjustment(group="CO", reason="45", amount=Decimal("20")),
                    Adjustment(group="PR", reason="1", amount=Decimal("23.04"), quantity=Decimal("1")),
                ),
                adjudication_date=dt.date(2025, 2, 20),
            ),
        ),
        lines=(
            ServiceLine(
                number=1,
                procedure="99213",
                modifiers=("25",),
                charge=Decimal("143.04"),
                units=Decimal("1"),
                diagnosis_pointers=(1, 2),
                service_date=dt.date(2025, 2, 1),
            ),
        ),
    )
    base.update(overrides)
    return Claim(**base)


# --- the writer alone --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [("43", "43"), ("43.00", "43"), ("21.040", "21.04"), ("100", "100"), ("1E+2", "100"), ("0.00", "0"),
     ("-0", "0"), ("-5.50", "-5.5"), ("0.01", "0.01")],
)
def test_decimals_are_canonical(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text


def test_one_claim_segments() -> None:
    segments = _check_envelope(write([_claim()], date=WHEN))
    lines = ["*".join(s) for s in segments]
    assert "CLM*C1*143.04***11:B:1*Y*C*Y*Y**AA:::NY" in lines
    assert "DTP*439*D8*20250201" in lines
    assert "HI*ABK:S52521A*ABF:V4352XA" in lines
    assert "SBR*S*18*******MB" in lines
    assert "CAS*CO*45*20" in lines and "CAS*PR*1*23.04*1" in lines
    assert "AMT*D*100" in lines
    assert "NM1*PR*2*STATE FARM*****PI*AUTO1" in lines
    assert "SV1*HC:99213:25*143.04*UN*1***1:2" in lines
    assert "BHT*0019*00*1-1*20250301*1230*CH" in lines
    assert [s[0] for s in segments].count("ST") == 1


def test_more_than_twelve_diagnoses_and_six_adjustments_split() -> None:
    diagnoses = tuple(Diagnosis(code=f"E11{i}", qualifier="ABK" if i == 0 else "ABF") for i in range(14))
    adjustments = tuple(Adjustment(group="CO", reason=str(r), amount=Decimal(r)) for r in range(1, 9))
    other = _claim().other_payers[0].model_copy(update={"adjustments": adjustments})
    segments = _check_envelope(write([_claim(diagnoses=diagnoses, other_payers=(other,))], date=WHEN))
    assert [len(s) - 1 for s in segments if s[0] == "HI"] == [12, 2]
    assert [len(s) for s in segments if s[0] == "CAS"] == [2 + 6 * 3 - 1, 2 + 2 * 3 - 1]


def test_transactions_split_by_batch_date_and_size() -> None:
    claims = [_claim(f"C{i}", batch_date=dt.date(2025, 3, 1 + i // 3)) for i in range(7)]
    segments = _check_envelope(write(claims, date=WHEN, claims_per_transaction=2))
    assert [s[0] for s in segments].count("ST") == 5  # dates 3+3+1, then at most 2 per ST
    assert [s[0] for s in segments].count("GS") == 1


def test_a_new_implementation_opens_a_new_functional_group() -> None:
    claims = [_claim("C1"), _claim("C2", implementation="005010X222A2"), _claim("C3")]
    segments = _check_envelope(write(claims, date=WHEN))
    assert [s[8] for s in segments if s[0] == "GS"] == ["005010X222A1", "005010X222A2", "005010X222A1"]
    assert [s[6] for s in segments if s[0] == "GS"] == ["1", "2", "3"]


def test_a_new_billing_provider_opens_a_new_hl_20() -> None:
    claims = [_claim("C1"), _claim("C2"), _claim("C3", billing_provider=Provider(npi="1497758544", id_qualifier="XX"))]
    segments = _check_envelope(write(claims, date=WHEN))
    assert [s[1:] for s in segments if s[0] == "HL"] == [
        ["1", "", "20", "1"], ["2", "1", "22", "0"], ["3", "1", "22", "0"], ["4", "", "20", "1"], ["5", "4", "22", "0"]
    ]


@settings(max_examples=100, deadline=None)
@given(claim_batches(), st.sampled_from(["~\n", "~", "~\r\n"]))
def test_envelope_is_well_formed(batch: list[Claim], terminator: str) -> None:
    _check_envelope(write(batch, date=WHEN, segment_terminator=terminator))


# --- the round trip ----------------------------------------------------------------------------


def _read(data: bytes | str) -> list:
    from scrubber.readers.x12_837p import read

    stream = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)
    return list(read(stream, "roundtrip.837"))


@settings(max_examples=100, deadline=None)
@given(claim_batches(), st.sampled_from(["~\n", "~", "~\r\n"]))
def test_read_inverts_write(batch: list[Claim], terminator: str) -> None:
    text = write(batch, date=WHEN, segment_terminator=terminator)
    result = _read(text.encode("ascii"))
    issues = [item for item in result if isinstance(item, ParseIssue)]
    assert issues == []
    assert [comparable(claim) for claim in result] == [comparable(claim) for claim in batch]


def test_read_accepts_a_text_stream() -> None:
    claims = [_claim("A1"), _claim("A2", patient=Party(last_name="DOE", first_name="JIM", relationship="19"))]
    result = _read(write(claims, date=WHEN))
    assert [comparable(c) for c in result] == [comparable(c) for c in claims]
