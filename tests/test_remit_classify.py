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
        ("CO", "21", "denial", "provider", "bill other payer", False),
        ("OA", "21", "denial", "other payer", "bill other payer", False),
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
        ("CO", "22", "denial", "provider", "bill other payer", False),
        # Codes that real remittances carry and the table used to call unknown.
        ("PR", "27", "patient share", "patient", "bill patient", True),
        ("CO", "27", "denial", "provider", "correct and resubmit", False),
        ("CO", "131", "reduction", "provider", "write off", False),
        ("OA", "131", "reduction", "provider", "write off", False),
        ("PR", "132", "patient share", "patient", "bill patient", True),
        ("CO", "204", "denial", "provider", "write off", False),
        ("PR", "204", "patient share", "patient", "bill patient", True),
        ("CO", "251", "denial", "provider", "correct and resubmit", False),
        ("OA", "252", "denial", "provider", "correct and resubmit", False),
        ("OA", "A7", "reduction", "provider", "write off", False),
        ("CO", "24", "reduction", "provider", "write off", False),
        ("CO", "59", "reduction", "provider", "write off", False),
        ("CO", "165", "denial", "provider", "appeal", False),
        ("CO", "B7", "denial", "provider", "correct and resubmit", False),
        ("OA", "18", "denial", "nobody", "none", False),
        ("CO", "109", "denial", "provider", "bill other payer", False),
        ("CO", "50", "denial", "provider", "appeal", False),
        ("PR", "50", "patient share", "patient", "bill patient", True),
        ("CO", "303", "reduction", "provider", "write off", False),
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
    c = classify("CO", "999")
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
    assert "type or specialty" in table.remark("N95") and table.remark("ZZ99") is None
    assert "assignment" not in table.remark("N95")
    assert set(c.to_dict()) >= {"code", "known", "meaning", "who_pays", "action", "patient_billable"}


def test_a_malformed_table_is_refused():
    with pytest.raises(ValidationError):
        parse_table("groups: {}\ncodes:\n  '1': {name: x, meaning: y, sources: [s], groups: {PR: {kind: denial, who_pays: patient, action: pay up, patient_billable: true}}}\n")
    with pytest.raises(ValidationError):
        parse_table("groups: {}\ncodes:\n  '1': {name: x, meaning: y, sources: [], groups: {PR: {kind: denial, who_pays: patient, action: none, patient_billable: true}}}\n")


@pytest.mark.parametrize(
    ("reason", "stop"),
    [("A7", "2015-07-01"), ("A2", "2008-01-01"), ("42", "2007-06-01"), ("B5", "2016-05-01"), ("W1", "2014-07-01")],
)
def test_a_retired_code_is_still_explained_and_carries_its_stop_date(reason, stop):
    c = classify("CO", reason)
    assert c.known and c.meaning and c.retired and c.stop_date == stop
    assert c.to_dict()["retired"] is True and c.to_dict()["stop_date"] == stop
    assert not classify("CO", "45").retired and classify("CO", "45").stop_date is None


def test_retired_codes_without_a_sourced_stop_date_still_say_retired():
    # The 2026 list marks 15, 138, 165 and 168 deactivated; no source we have gives the date.
    for reason in ("15", "138", "165", "168"):
        c = classify("CO", reason)
        assert c.retired and c.stop_date == "date not in our sources", reason


def test_a_code_x12_restricts_to_one_group_says_so_under_another():
    c = classify("CO", "133")
    assert c.known and c.action == "unknown" and "only with OA" in (c.note or "")
    assert classify("OA", "133").action == "none"


def test_a_code_note_beats_the_profile_note():
    # B7's own advice (enrollment, certification) rather than the generic provider-eligibility one.
    assert "certification" in (classify("CO", "B7").note or "")
