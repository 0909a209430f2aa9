"""The 835 reader: the shared samples, bad input (never raises, always a location), balancing, streaming."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import ROOT, GeneratedStream, segment_index
from remit_builders import era, payment, read_era, service, transaction

from scrubber.readers.x12_835 import read, read_path

SAMPLES = ROOT / "fixtures" / "835" / "samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.835"))


def _clp_count(path: Path) -> int:
    return sum(1 for piece in path.read_text(encoding="latin-1").split("~") if piece.strip().startswith("CLP*"))


def _read_file(path: Path):
    return read_era(path.read_bytes(), file=str(path))


# --- the shared samples ----------------------------------------------------------------------------


def test_the_samples_are_all_here():
    shared = ROOT.parent / "shared" / "samples" / "835"
    assert len(SAMPLE_FILES) == 6
    if shared.is_dir():  # the copies are unchanged
        for path in SAMPLE_FILES:
            assert path.read_bytes() == (shared / path.name).read_bytes(), path.name


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_reads_every_claim_without_an_error(path):
    payments, remittances, issues = _read_file(path)
    assert len(payments) == _clp_count(path)
    assert len(remittances) == 1
    assert [i for i in issues if i.severity == "error"] == []
    assert [i for i in issues if i.location == "balancing"] == [], "the samples balance"
    for issue in issues:
        assert issue.file == str(path) and issue.segment is not None


# The only notices the samples deserve, each true of the file: (file, segment, words in the message).
EXPECTED_WARNINGS = {
    "lfh_cob-contractural-adjustment.835": [(21, "'>'")],
    "lfh_demo.835": [],
    "lfh_managed-care.835": [(4, "BPR16 '20002316'")],
    "lfh_medicare-part-a.835": [],
    "lfh_secondary-payment.835": [(29, "'>'")],
    "lfh_tertiary-payment.835": [(20, "SVC01 'HC' has no procedure code")],
}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_warnings_are_exactly_the_known_quirks(path):
    _, _, issues = _read_file(path)
    found = [(issue.segment, issue.message) for issue in issues]
    expected = EXPECTED_WARNINGS[path.name]
    assert len(found) == len(expected), found
    for (segment, message), (want_segment, words) in zip(found, expected):
        assert segment == want_segment and words in message


def test_cob_sample_values():
    (only,), (remittance,), _ = _read_file(SAMPLES / "lfh_cob-contractural-adjustment.835")
    assert (only.claim_id, only.status, only.charge, only.paid) == ("0001000055", "2", Decimal("541.00"), Decimal("34.00"))
    assert only.payer_claim_number == "50650619501"
    (line,) = only.lines
    assert (line.procedure, line.charge, line.paid, line.service_date) == ("55669", Decimal("541"), Decimal("34"), dt.date(2005, 2, 2))
    assert [(a.code, a.amount, a.segment) for a in line.adjustments] == [("OA-23", Decimal("516.00"), 23), ("OA-94", Decimal("-9.00"), 24)]
    assert line.allowed == Decimal("550.00")
    # The file writes its check date one element early (BPR15): BPR16, the payment date, is empty.
    assert (remittance.amount, remittance.total_paid, remittance.payment_date) == (Decimal("34.00"), Decimal("34.00"), None)
    assert (remittance.trace_number, remittance.payer_name) == ("0063158ABC", "YOUR TAX DOLLARS AT WORK")


def test_demo_sample_plb_and_remarks():
    payments, (remittance,), _ = _read_file(SAMPLES / "lfh_demo.835")
    assert [p.claim_id for p in payments] == ["666123", "777777"]
    assert payments[1].remarks == ("MA02",)
    assert payments[0].lines == () and payments[0].adjustments[0].code == "CO-45"
    assert payments[0].service_dates == {dt.date(2002, 8, 16), dt.date(2002, 8, 24)}
    (plb,) = remittance.provider_adjustments
    text = (SAMPLES / "lfh_demo.835").read_text(encoding="latin-1")
    assert (plb.reason, plb.reference, plb.amount, plb.segment) == ("CV", "CP", Decimal("-1.27"), segment_index(text, "PLB*"))
    assert remittance.payer_id == "999"  # REF*2U
    assert remittance.payment_date == dt.date(2002, 9, 13)


def test_secondary_sample_multiple_triples_and_modifiers():
    payments, _, _ = _read_file(SAMPLES / "lfh_secondary-payment.835")
    second = payments[1]
    assert [line.procedure for line in second.lines] == ["12345", "66543"]
    assert second.lines[0].modifiers == ("26",)
    assert [(a.code, a.amount) for a in second.lines[1].adjustments] == [
        ("PR-1", Decimal("150.00")), ("PR-2", Decimal("70.00")), ("CO-42", Decimal("85.00")),
    ]


def test_tertiary_sample_keeps_the_line_without_guessing_its_amounts():
    (only,), _, _ = _read_file(SAMPLES / "lfh_tertiary-payment.835")
    (line,) = only.lines
    assert (line.procedure, line.charge, line.paid) == (None, None, None)
    assert [a.code for a in line.adjustments] == ["OA-23"]  # its CAS still counts for the claim's balance


# --- bad input -------------------------------------------------------------------------------------

THREE = [payment("A1"), payment("A2"), payment("A3")]


def _three(middle: list[str]) -> str:
    return era([transaction(payment("A1"), middle, payment("A3"), amount="240.00")])


BAD = {
    "clp-charge-not-a-number": (_three(payment("A2", charge="ABC")), "CLP*A2", "CLP03 'ABC'"),
    "cas-amount-not-a-number": (_three(payment("A2", lines=[service(cas=["CO*45*X"])])), "CAS*CO*45*X", "CAS03 'X'"),
    "service-date-impossible": (_three(payment("A2", lines=[service(date="20261340")])), "DTM*472*20261340", "20261340"),
    "svc-charge-not-a-number": (_three(payment("A2", lines=[service(charge="X")])), "SVC*HC:99213*X", "SVC02 'X'"),
    "garbage-segment": (_three(payment("A2", lines=[service(extra=["@@ not a segment"])])), "@@", "not a segment id"),
    "clp-without-id": (_three(payment("")), "CLP**", "CLP01"),
    "cas-without-group": (_three(payment("A2", lines=[service(cas=["*45*20.00"])])), "CAS**45", "CAS01"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_claim_payment_is_reported_where_it_is_and_the_others_are_read(name):
    text, segment_prefix, words = BAD[name]
    payments, remittances, issues = read_era(text)
    assert [p.claim_id for p in payments] == ["A1", "A3"]
    (broken,) = [issue for issue in issues if issue.unreadable_claim]
    assert broken.segment == segment_index(text, segment_prefix)
    assert words in broken.message and broken.file == "test.835"
    assert broken.claim_id == (None if name == "clp-without-id" else "A2")
    (remittance,) = remittances
    clp_unreadable = name in ("clp-charge-not-a-number", "clp-without-id")
    assert remittance.total_paid == (None if clp_unreadable else Decimal("240.00"))
    assert [issue for issue in issues if issue.location == "balancing"] == []


def test_nothing_to_read():
    for text, words in (("", "no X12 interchange"), ("hello, world\n", "expected an ISA"), (bytes(range(256)) * 2, "ISA")):
        payments, remittances, issues = read_era(text)
        assert payments == [] and remittances == []
        assert len(issues) == 1 and words in issues[0].message and issues[0].location == "envelope"


def test_file_that_cannot_be_opened(tmp_path):
    (issue,) = list(read_path(tmp_path / "missing.835"))
    assert "cannot open file" in issue.message


def test_truncated_in_the_middle_of_a_claim_payment():
    text = _three(payment("A2"))
    cut = text[: text.index("CLP*A2") + text[text.index("CLP*A2"):].index("SVC") + 8]  # inside A2's SVC
    payments, remittances, issues = read_era(cut)
    assert [p.claim_id for p in payments] == ["A1"]
    (broken,) = [issue for issue in issues if issue.unreadable_claim]
    assert broken.claim_id == "A2" and broken.segment is not None
    assert any("IEA" in issue.message for issue in issues)
    assert remittances == []


def test_envelope_counts_and_ids():
    text = era([transaction(payment("A1"), se_count=99)]).replace("GE*1*", "GE*2*")
    payments, _, issues = read_era(text)
    assert [p.claim_id for p in payments] == ["A1"]
    messages = {issue.segment: issue.message for issue in issues}
    assert "SE01 says '99'" in messages[segment_index(text, "SE*")]
    assert "GE01 says '2'" in messages[segment_index(text, "GE*")]
    _, _, issues = read_era(era([transaction(payment("A1"), st_id="837")]))
    assert any("not an 835" in issue.message for issue in issues)
    _, _, issues = read_era(era([transaction(payment("A1"))], iea=False))
    assert any("without an IEA" in issue.message for issue in issues)


def test_svc_before_any_clp_is_reported_and_reading_goes_on():
    body = transaction(payment("A1"))
    body[6:6] = service()  # right after LX, before the CLP
    text = era([body])
    payments, _, issues = read_era(text)
    assert [p.claim_id for p in payments] == ["A1"]
    (issue,) = [i for i in issues if "before any CLP" in i.message]
    assert issue.segment == segment_index(text, "SVC*") and not issue.unreadable_claim


def test_bad_plb_amount_is_an_error_and_the_payment_total_is_not_checked():
    text = era([transaction(payment("A1"), amount="999.00", plb=["WO:X1*ABC"])])
    payments, (remittance,), issues = read_era(text)
    assert len(payments) == 1 and remittance.total_paid is None
    assert [i.segment for i in issues] == [segment_index(text, "PLB*")]


def test_st_before_the_previous_se():
    first = transaction(payment("A1"))[:-1]  # no SE
    text = era([first, transaction(payment("B1"), control="0002")])
    payments, _, issues = read_era(text)
    assert "B1" in [p.claim_id for p in payments]
    assert any("ST before the previous" in i.message and i.segment == segment_index(text, "ST*", 2) for i in issues)


def test_several_transaction_sets_carry_their_own_payer():
    text = era([transaction(payment("A1"), payer="FIRST"), transaction(payment("B1"), payer="SECOND", control="0002")])
    payments, remittances, issues = read_era(text)
    assert [(p.claim_id, p.payer_name) for p in payments] == [("A1", "FIRST"), ("B1", "SECOND")]
    assert [r.source.st_control for r in remittances] == ["0001", "0002"]
    assert issues == []


def test_record_locations():
    text = era([transaction(payment("A1", lines=[service(control="1", remarks=["N95"])]))])
    (only,), (remittance,), issues = read_era(text, file="era.835")
    assert issues == []
    assert (only.source.file, only.source.segment, only.source.st_control) == ("era.835", segment_index(text, "CLP*"), "0001")
    line = only.lines[0]
    assert line.segment == segment_index(text, "SVC*") and line.elements["control_number"] == segment_index(text, "REF*6R")
    assert (line.control_number, line.remarks) == ("1", ("N95",))
    assert line.adjustments[0].segment == segment_index(text, "CAS*")
    assert remittance.source.segment == segment_index(text, "ST*") and remittance.elements["amount"] == segment_index(text, "BPR*")


# --- balancing -------------------------------------------------------------------------------------


def _balancing(text: str) -> list:
    return [issue for issue in read_era(text)[2] if issue.location == "balancing"]


def test_balanced_payment_has_no_notice():
    text = era([transaction(payment("A1", "180.00", "130.00", [
        service("99213", "100.00", "80.00", cas=["CO*45*20.00"]),
        service("80053", "80.00", "50.00", cas=["CO*45*10.00**253*1.00", "PR*2*19.00"]),
    ]), amount="130.00")])
    assert _balancing(text) == []


def test_line_that_does_not_balance():
    # SVC 100 - CAS 20 = 80, but SVC03 says 70; the claim (100 - 20 = 80 = CLP04) balances.
    text = era([transaction(payment("A1", lines=[service(paid="70.00")]))])
    (notice,) = _balancing(text)
    assert notice.severity == "warning" and notice.claim_id == "A1"
    assert notice.segment == segment_index(text, "SVC*")
    assert "SVC02 100.00" in notice.message and "SVC03 (paid) is 70.00" in notice.message


def test_claim_that_does_not_balance_counts_claim_and_line_cas():
    # CLP03 100 - (claim CAS 5 + line CAS 20) = 75, but CLP04 says 80.
    text = era([transaction(payment("A1", cas=["OA*94*5.00"]))])
    (notice,) = _balancing(text)
    assert notice.segment == segment_index(text, "CLP*") and notice.claim_id == "A1"
    assert "25.00" in notice.message and "CLP04 (paid) is 80.00" in notice.message


def test_payment_total_that_does_not_balance():
    text = era([transaction(payment("A1"), payment("A2"), amount="150.00")])
    (notice,) = _balancing(text)
    assert notice.segment == segment_index(text, "BPR*") and "160.00" in notice.message


def test_plb_and_debits_in_the_payment_total():
    # 80 + 80 paid, 10 withheld for an overpayment recovery (PLB positive): BPR02 = 150.
    assert _balancing(era([transaction(payment("A1"), payment("A2"), amount="150.00", plb=["WO:OLD1*10.00"])])) == []
    # A reversal alone: -80 is taken back: BPR 80 with D (debit).
    reversal = payment("A1", "-100.00", "-80.00", [service(charge="-100.00", paid="-80.00", cas=["CO*45*-20.00"])], status="22")
    assert _balancing(era([transaction(reversal, amount="80.00", credit_debit="D")])) == []
    assert len(_balancing(era([transaction(reversal, amount="80.00", credit_debit="C")]))) == 1


def test_reversal_is_read_with_negative_amounts():
    reversal = payment("A1", "-100.00", "-80.00", [service(charge="-100.00", paid="-80.00", cas=["CO*45*-20.00"])], status="22")
    (only,), _, _ = read_era(era([transaction(reversal, amount="80.00", credit_debit="D")]))
    assert only.is_reversal and only.paid == Decimal("-80.00") and only.lines[0].adjustments[0].amount == Decimal("-20.00")


# --- streaming -------------------------------------------------------------------------------------


def test_reader_streams_one_claim_payment_at_a_time():
    text = era([transaction(payment("HEAD"), payment("BLOCK"), amount="0")])
    head, rest = text.split("CLP*BLOCK", 1)
    block_text = "CLP*BLOCK" + rest[: rest.index("SE*")]
    stream = GeneratedStream(head.encode(), block_text.encode(), None, b"", limit=1 << 20)
    records = read(stream, "endless.835")
    first = [next(records) for _ in range(3)]
    assert [r.claim_id for r in first] == ["HEAD", "BLOCK", "BLOCK"]
    assert stream.consumed < 1 << 18
