"""The X12 element maps against the models they fill, and the 835 reader reading through its map.

Every row of ``scrubber/x12map/835.yaml`` and ``837p.yaml`` names a model record and a field; the field
must exist on that record's pydantic model, so a renamed model field cannot leave a map row behind.
"""

from __future__ import annotations

import datetime as dt
import typing
from decimal import Decimal

import pytest
from pydantic import BaseModel

from conftest import ROOT, segment_index
from remit_builders import era, payment, read_era, service, transaction

from scrubber.model import Claim, LineAdjudication, OtherPayer, Party, Payer, Provider, ServiceLine
from scrubber.model.remit import ClaimPayment, ProviderAdjustment, Remittance, ServicePayment
from scrubber.readers import x12_835
from scrubber.x12map import element_map

SAMPLES = ROOT / "fixtures" / "835" / "samples"

REMIT_RECORDS: dict[str, type[BaseModel]] = {
    "remittance": Remittance,
    "provider_adjustments[]": ProviderAdjustment,
    "payment": ClaimPayment,
    "lines[]": ServicePayment,
}


def _inner(annotation: typing.Any) -> type[BaseModel]:
    """The model inside ``Provider | None`` or ``tuple[ServiceLine, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        if argument is not type(None) and argument is not Ellipsis:
            return _inner(argument)
    raise AssertionError(f"{annotation!r} holds no model")


def claim_record(path: str) -> type[BaseModel]:
    """The model of an 837P map record, walked from Claim: ``lines[].rendering_provider`` → Provider."""
    model: type[BaseModel] = Claim
    if path == "claim":
        return model
    for part in path.split("."):
        name = part.removesuffix("[]")
        assert name in model.model_fields, f"{model.__name__} has no {name!r} (record {path!r})"
        annotation = model.model_fields[name].annotation
        if part.endswith("[]"):
            assert typing.get_origin(annotation) is tuple, f"{path}: {name} is not a list"
        model = _inner(annotation)
    return model


# --- every map row fills a field its model has --------------------------------------------------


@pytest.mark.parametrize("row", element_map("835").elements, ids=lambda e: f"{e.loop} {e.segment} {e.name}")
def test_every_835_row_fills_a_field_of_its_record(row):
    model = REMIT_RECORDS[row.record]
    assert row.field in model.model_fields, f"{row.label}: {model.__name__} has no field {row.field!r}"
    assert row.meaning, f"{row.label} says nothing about what it means"


@pytest.mark.parametrize("row", element_map("837p").elements, ids=lambda e: f"{e.loop} {e.segment} {e.name}")
def test_every_837p_row_fills_a_field_of_its_record(row):
    model = claim_record(row.record)
    assert row.field in model.model_fields, f"{row.label}: {model.__name__} has no field {row.field!r}"
    assert row.meaning, f"{row.label} says nothing about what it means"


def test_837p_records_are_the_models_we_expect():
    expected = {
        "claim": Claim,
        "payer": Payer,
        "lines[]": ServiceLine,
        "lines[].rendering_provider": Provider,
        "other_payers[]": OtherPayer,
        "lines[].adjudications[]": LineAdjudication,
        "subscriber": Party,
        "patient": Party,
        "billing_provider": Provider,
        "rendering_provider": Provider,
        "service_facility": Provider,
    }
    records = {row.record for row in element_map("837p").segments}
    for record, model in expected.items():
        assert record in records and claim_record(record) is model, record
    for record in records:
        if record.endswith("_provider") or record == "service_facility":
            assert claim_record(record) is Provider, record


def test_the_835_map_names_its_elements_once():
    names = element_map("835")
    assert names.resolve("CLP04").field == "paid" and names.resolve("CLP04").record == "payment"
    assert names.resolve("2110 AMT02").field == "allowed"
    assert names.resolve("MOA05").field == "remarks"  # within the run MOA03..07
    assert names.resolve("PLB10").field == "amount"
    assert names.resolve("2100 DTM*232 DTM02").field == "statement_from"


def test_the_reader_reads_every_row_of_the_835_map():
    read = {(row.row.loop, row.row.segment) for row in x12_835._ROWS.values()}
    handled = {(loop, segment_id) for loop, handlers in x12_835._Reader.HANDLERS.items() for segment_id in handlers}
    for row in element_map("835").segments:
        assert (row.loop, row.segment) in read
        assert (row.loop, row.segment_id) in handled, f"no handler reads {row.loop} {row.segment}"


# --- the 835 reads as it did before the map -------------------------------------------------------


def _read(name: str):
    path = SAMPLES / name
    return read_era(path.read_bytes(), file=str(path))


def test_demo_sample_reads_as_before():
    text = (SAMPLES / "lfh_demo.835").read_text(encoding="latin-1")
    payments, (remittance,), issues = _read("lfh_demo.835")
    assert issues == []
    assert [p.claim_id for p in payments] == ["666123", "777777"]
    assert payments[1].remarks == ("MA02",)
    assert payments[0].lines == () and payments[0].adjustments[0].code == "CO-45"
    assert payments[0].service_dates == {dt.date(2002, 8, 16), dt.date(2002, 8, 24)}
    (plb,) = remittance.provider_adjustments
    assert (plb.reason, plb.reference, plb.amount, plb.segment) == ("CV", "CP", Decimal("-1.27"), segment_index(text, "PLB*"))
    assert remittance.payer_id == "999"  # REF*2U, N104 being empty
    assert remittance.payment_date == dt.date(2002, 9, 13)
    assert remittance.elements["payer_id"] == segment_index(text, "REF*2U")
    assert remittance.total_paid == sum((p.paid for p in payments), Decimal(0))
    for claim in payments:  # the header is copied onto every claim payment
        assert (claim.payer_name, claim.payer_id, claim.trace_number) == (remittance.payer_name, "999", remittance.trace_number)


def test_cob_sample_reads_as_before():
    text = (SAMPLES / "lfh_cob-contractural-adjustment.835").read_text(encoding="latin-1")
    (only,), (remittance,), issues = _read("lfh_cob-contractural-adjustment.835")
    assert [(issue.segment, "'>'" in issue.message) for issue in issues] == [(21, True)]
    assert (only.claim_id, only.status, only.charge, only.paid) == ("0001000055", "2", Decimal("541.00"), Decimal("34.00"))
    assert only.payer_claim_number == "50650619501"
    assert only.elements["paid"] == only.source.segment == segment_index(text, "CLP*")
    (line,) = only.lines
    assert (line.procedure, line.charge, line.paid, line.service_date) == ("55669", Decimal("541"), Decimal("34"), dt.date(2005, 2, 2))
    assert [(a.code, a.amount, a.segment) for a in line.adjustments] == [("OA-23", Decimal("516.00"), 23), ("OA-94", Decimal("-9.00"), 24)]
    assert line.allowed == Decimal("550.00")
    assert line.elements["procedure"] == line.segment and line.elements["adjustments"] == 23
    assert (remittance.amount, remittance.total_paid, remittance.payment_date) == (Decimal("34.00"), Decimal("34.00"), None)
    assert (remittance.trace_number, remittance.payer_name) == ("0063158ABC", "YOUR TAX DOLLARS AT WORK")


def test_built_remittance_reads_every_mapped_element():
    text = era([transaction(
        payment("A1", "180.00", "130.00", [
            service("99213", "100.00", "80.00", cas=["CO*45*20.00"], control="L1", remarks=["N95", "M15"]),
            service("80053", "80.00", "50.00", cas=["CO*45*10.00**253*1.00", "PR*2*19.00"]),
        ], patient="19.00", statement="20260105"),
        amount="125.00",
        plb=["WO:OLD1*10.00*L6*-5.00"],
    )])
    (claim,), (remittance,), issues = read_era(text)
    assert issues == []
    assert (claim.patient_responsibility, claim.filing_indicator, claim.payer_claim_number) == (Decimal("19.00"), "MB", "PCN-A1")
    assert claim.statement_from == dt.date(2026, 1, 5) and claim.elements["statement_from"] == segment_index(text, "DTM*232")
    first, second = claim.lines
    assert (first.qualifier, first.units, first.control_number, first.remarks) == ("HC", Decimal(1), "L1", ("N95", "M15"))
    assert first.elements["remarks"] == segment_index(text, "LQ*HE")
    assert [a.code for a in second.adjustments] == ["CO-45", "CO-253", "PR-2"]
    assert [(p.reason, p.reference, p.amount) for p in remittance.provider_adjustments] == [
        ("WO", "OLD1", Decimal("10.00")), ("L6", None, Decimal("-5.00")),
    ]
    assert (remittance.handling, remittance.credit_debit, remittance.method, remittance.originator) == ("I", "C", "ACH", "1512345678")
    assert remittance.payment_date == dt.date(2026, 2, 20) and remittance.elements["payment_date"] == segment_index(text, "BPR*")


def test_a_missing_required_element_is_named_from_the_map():
    text = era([transaction(payment("A1"), payment("A2", charge=""), payment("A3"), amount="160.00")])
    payments, _, issues = read_era(text)
    assert [p.claim_id for p in payments] == ["A1", "A3"]
    (broken,) = [issue for issue in issues if issue.unreadable_claim]
    assert "CLP03 (total charge of the claim as billed) is missing" in broken.message
    assert broken.segment == segment_index(text, "CLP*A2")
