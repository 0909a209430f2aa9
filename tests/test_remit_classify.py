"""Classifying adjustments: the seed codes, group codes, design §4 corrections, and unknown codes."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources

import pytest
from pydantic import ValidationError

from scrubber.model.remit import RemitAdjustment
from scrubber.remit.classify import ACTIONS, classify, load_table, parse_table

SEED_CODES = {"111", "21", "23", "122", "121"}


def test_the_table_ships_as_package_data():
    assert resources.files("scrubber.remit").joinpath("carc.yaml").is_file()
    table = load_table()
    assert SEED_CODES <= set(table.data.codes)
    assert sorted(table.seed_codes()) == ["CO-111", "CO-121", "CO-122", "CO-21", "CO-23"]


def test_every_code_cites_a_source_and_uses_the_action_vocabulary():
    for reason, entry in load_table().data.codes.items():
        assert entry.sources, reason
        for group, treatment in entry.groups.items():
            assert group in {"CO", "OA", "PI", "PR", "CR"}, (reason, group)
            assert treatment.action in ACTIONS
            if treatment.patient_billable:
                assert group == "PR", f"{group}-{reason}: only patient responsibility may be billed to the patient"


@pytest.mark.parametrize(
    "group, reason, kind, who_pays, action, billable",
    [
        ("CO", "111", "denial", "provider", "correct and resubmit", False),
        ("PR", "111", "patient share", "patient", "bill patient", True),
        ("CO", "21", "denial", "provider", "correct and resubmit", False),
        ("OA", "21", "denial", "other payer", "correct and resubmit", False),
        ("OA", "23", "informational", "other payer", "none", False),
        ("CO", "122", "reduction", "provider", "write off", False),
        ("PR", "122", "patient share", "patient", "bill patient", True),
        ("CO", "121", "reduction", "provider", "write off", False),
        ("CO", "253", "reduction", "provider", "write off", False),
        ("CO", "16", "denial", "provider", "correct and resubmit", False),
        ("CO", "45", "reduction", "provider", "write off", False),
        ("PR", "45", "patient share", "patient", "bill patient", True),
        ("PR", "1", "patient share", "patient", "bill patient", True),
        ("PR", "2", "patient share", "patient", "bill patient", True),
        ("PR", "3", "patient share", "patient", "bill patient", True),
        ("CO", "97", "denial", "provider", "write off", False),
        ("CO", "22", "denial", "provider", "correct and resubmit", False),
    ],
)
def test_known_codes(group, reason, kind, who_pays, action, billable):
    c = classify(group, reason)
    assert c.known and c.code == f"{group}-{reason}"
    assert (c.kind, c.who_pays, c.action, c.patient_billable) == (kind, who_pays, action, billable)
    assert c.meaning and c.sources and c.basis == "CARC and group code"


def test_design_corrections_are_in_the_data():
    # §4: CARC 23 goes with OA; the CO-23 reading carries the X12 note.
    assert set(load_table().data.codes["23"].groups) == {"OA", "CO"}
    assert classify("OA", "23").action == "none" and "only with OA" in (classify("CO", "23").note or "")
    # §4: sequestration is 253, and 122's note says so.
    assert "253" in (classify("CO", "122").note or "")
    assert classify("CO", "253").name == "Sequestration"
    # §4: 121 is remittance side and never billed to the patient.
    assert classify("CO", "121").patient_billable is False and classify("OA", "121").patient_billable is False
    # CARC 16 needs a remark code to say what is missing.
    assert load_table().needs_remark("16") and not load_table().needs_remark("111")


def test_an_unknown_code_is_reported_as_unknown_not_guessed():
    c = classify("CO", "B7")
    assert not c.known and c.meaning is None and c.name is None
    assert (c.kind, c.action) == ("unknown", "unknown")
    # What the group code itself defines still holds: a CO amount is the provider's.
    assert (c.who_pays, c.patient_billable) == ("provider", False)
    assert "unknown CARC" in c.basis
    other = classify("OA", "ZZ9")
    assert (other.who_pays, other.patient_billable, other.action) == ("unknown", None, "unknown")


def test_a_known_code_with_an_unusual_group_gets_only_the_groups_liability():
    c = classify("PR", "16")
    assert c.known and c.meaning and c.action == "unknown" and c.kind == "unknown"
    assert (c.who_pays, c.patient_billable) == ("patient", True)
    assert "CO" in (c.note or "")


def test_an_unknown_group_code():
    c = classify("XX", "45")
    assert c.action == "unknown" and c.patient_billable is None and "not a claim adjustment group code" in c.group_meaning


def test_classify_adjustment_and_remarks():
    table = load_table()
    c = table.classify_adjustment(RemitAdjustment(group="CO", reason="111", amount=Decimal("80")))
    assert c.code == "CO-111"
    assert "assignment" in table.remark("N95") and table.remark("ZZ99") is None
    assert set(c.to_dict()) >= {"code", "known", "meaning", "who_pays", "action", "patient_billable"}


def test_a_malformed_table_is_refused():
    with pytest.raises(ValidationError):
        parse_table("groups: {}\ncodes:\n  '1': {name: x, meaning: y, sources: [s], groups: {PR: {kind: denial, who_pays: patient, action: pay up, patient_billable: true}}}\n")
    with pytest.raises(ValidationError):
        parse_table("groups: {}\ncodes:\n  '1': {name: x, meaning: y, sources: [], groups: {PR: {kind: denial, who_pays: patient, action: none, patient_billable: true}}}\n")
