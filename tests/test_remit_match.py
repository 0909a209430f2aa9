"""Matching 835 payments to 837 claims: ids, duplicate ids, reversals, lines, unmatched on both sides."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from scrubber.model.remit import ClaimPayment
from scrubber.remit.match import effective_payments, match, match_lines, net_reversals
from scrubber.rules.testing import build_case_claim


def claim(claim_id: str, *lines: tuple[str, str, str], **overrides: Any):
    specs = lines or (("99213", "100", "2026-01-10"),)
    return build_case_claim(
        {"claim_id": claim_id, "lines": [{"procedure": p, "charge": c, "service_date": d} for p, c, d in specs], **overrides}
    )


def pay(claim_id: str, *lines: tuple[str, str, str], status: str = "1", sign: int = 1, pcn: str | None = None,
        segment: int = 10, control: str | None = None, **extra: Any) -> ClaimPayment:
    specs = lines or (("99213", "100", "2026-01-10"),)
    service_lines = [
        {"procedure": p, "charge": Decimal(c) * sign, "paid": Decimal(c) * sign * Decimal("0.8"), "service_date": d,
         "control_number": control, "adjustments": [{"group": "CO", "reason": "45", "amount": Decimal(c) * sign * Decimal("0.2")}]}
        for p, c, d in specs
    ]
    charge = sum((line["charge"] for line in service_lines), Decimal(0))
    return ClaimPayment.model_validate({
        "claim_id": claim_id, "status": status, "charge": charge, "paid": charge * Decimal("0.8"),
        "payer_claim_number": pcn, "lines": service_lines, "source": {"file": "era.835", "segment": segment}, **extra,
    })


def test_ids_match_and_both_sides_list_the_unmatched():
    result = match([claim("A1"), claim("A2")], [pay("A1"), pay("Z9")])
    assert [(m.claim.claim_id, len(m.payments)) for m in result.matches] == [("A1", 1)]
    assert [c.claim_id for c in result.unmatched_claims] == ["A2"]
    assert [p.claim_id for p in result.unmatched_payments] == ["Z9"]
    assert result.notes == []


def test_duplicate_ids_are_told_apart_by_date_of_service():
    early, late = claim("D1", ("99213", "100", "2026-01-05")), claim("D1", ("99213", "100", "2026-01-20"))
    result = match([early, late], [pay("D1", ("99213", "100", "2026-01-20")), pay("D1", ("99213", "100", "2026-01-05"))])
    assert {m.claim.lines[0].service_date.day: m.payments[0].lines[0].service_date.day for m in result.matches} == {5: 5, 20: 20}
    assert not any(m.ambiguous for m in result.matches)


def test_duplicate_ids_are_told_apart_by_charge():
    small, big = claim("D1", ("99213", "90", "2026-01-05")), claim("D1", ("99214", "150", "2026-01-05"))
    result = match([small, big], [pay("D1", ("99214", "150", "2026-01-05"))])
    assert [m.claim.total_charge for m in result.matches] == [Decimal("150")]
    assert [c.total_charge for c in result.unmatched_claims] == [Decimal("90")]


def test_date_counts_before_charge():
    same_charge_other_day = claim("D1", ("99213", "100", "2026-01-05"))
    same_day_other_charge = claim("D1", ("99213", "120", "2026-01-20"))
    result = match([same_charge_other_day, same_day_other_charge], [pay("D1", ("99213", "100", "2026-01-20"))])
    assert result.matches[0].claim is same_day_other_charge


def test_identical_duplicates_are_paired_one_to_one_and_flagged_ambiguous():
    first, second = claim("D1"), claim("D1")
    result = match([first, second], [pay("D1", segment=10), pay("D1", segment=30)])
    assert [len(m.payments) for m in result.matches] == [1, 1]
    assert all(m.ambiguous for m in result.matches)
    assert len(result.notes) == 2 and "fits 2 claims equally well" in result.notes[0]


def test_statement_dates_when_the_payment_has_no_lines():
    early, late = claim("D1", ("99213", "100", "2026-01-05")), claim("D1", ("99213", "100", "2026-01-20"))
    bare = ClaimPayment.model_validate({"claim_id": "D1", "status": "1", "charge": "100", "paid": "80",
                                        "statement_from": "2026-01-19", "statement_to": "2026-01-21"})
    assert match([early, late], [bare]).matches[0].claim is late


def test_a_reversal_nets_out_the_payment_it_takes_back():
    original = pay("R1", pcn="PCN1", segment=10)
    reversal = pay("R1", status="22", sign=-1, pcn="PCN1", segment=40)
    corrected = pay("R1", pcn="PCN2", segment=60)
    result = match([claim("R1")], [original, reversal, corrected])
    (only,) = result.matches
    assert only.effective == [corrected]
    assert only.reversed == [(original, reversal)]
    assert only.net_paid == Decimal("80.0")  # 80 - 80 + 80
    assert [lm.payment for lm in only.lines] == [corrected]


def test_a_reversal_read_before_its_original_still_nets():
    original, reversal = pay("R1", pcn="PCN1"), pay("R1", status="22", sign=-1, pcn="PCN1")
    effective, pairs, orphans = net_reversals([reversal, original])
    assert (effective, pairs, orphans) == ([], [(original, reversal)], [])


def test_a_reversal_takes_back_the_payment_with_its_payer_claim_number():
    first, second = pay("R1", pcn="PCN1"), pay("R1", pcn="PCN2")
    reversal = pay("R1", status="22", sign=-1, pcn="PCN1")
    effective, pairs, _ = net_reversals([first, second, reversal])
    assert effective == [second] and pairs == [(first, reversal)]


def test_a_reversal_without_its_original_is_an_orphan():
    result = match([claim("R1")], [pay("R1", status="22", sign=-1)])
    (only,) = result.matches
    assert only.effective == [] and len(only.orphan_reversals) == 1
    assert any("no original payment" in note for note in result.notes)


def test_effective_payments_without_claims():
    original, reversal, other = pay("R1", pcn="P"), pay("R1", status="22", sign=-1, pcn="P"), pay("R2")
    assert effective_payments([original, reversal, other]) == [other]


def test_lines_by_ref_6r_then_by_procedure_date_and_charge():
    two = claim("L1", ("99213", "100", "2026-01-10"), ("80053", "80", "2026-01-10"))
    by_control = pay("L1", ("80053", "80", "2026-01-10"), control="2")
    (line_match,) = match_lines(by_control, two)
    assert (line_match.claim_line.number, line_match.by) == (2, "REF*6R")
    by_content = pay("L1", ("80053", "80", "2026-01-10"), ("99213", "100", "2026-01-10"))
    assert [(m.claim_line.number, m.by) for m in match_lines(by_content, two)] == [
        (2, "procedure+date+charge"), (1, "procedure+date+charge"),
    ]


def test_ref_6r_that_names_another_procedure_is_not_trusted():
    two = claim("L1", ("99213", "100", "2026-01-10"), ("80053", "80", "2026-01-10"))
    wrong_control = pay("L1", ("80053", "80", "2026-01-10"), control="1")  # line 1 is 99213
    (line_match,) = match_lines(wrong_control, two)
    assert (line_match.claim_line.number, line_match.by) == (2, "procedure+date+charge")


def test_a_line_that_matches_nothing_is_listed():
    result = match([claim("L1")], [pay("L1", ("99999", "100", "2026-01-10"))])
    (unmatched,) = result.matches[0].unmatched_lines
    assert unmatched.line.procedure == "99999" and unmatched.claim_line is None


def test_svc06_names_the_procedure_as_billed():
    billed = claim("L1", ("99214", "150", "2026-01-10"))
    payment = ClaimPayment.model_validate({
        "claim_id": "L1", "status": "1", "charge": "150", "paid": "100",
        "lines": [{"procedure": "99213", "submitted_procedure": "99214", "charge": "150", "paid": "100",
                   "service_date": "2026-01-10"}],
    })
    (line_match,) = match_lines(payment, billed)
    assert line_match.claim_line is billed.lines[0]
