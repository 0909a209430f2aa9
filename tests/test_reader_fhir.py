"""FHIR R4 Claim input (scrubber/readers/fhir.py), its generated mapping table and the FHIR writer."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import ROOT, run_cli
from scrubber.mappings.fhir_codes import C4BB_ADJUDICATION, C4BB_CARE_TEAM_ROLE, X12_DATE_QUALIFIER, X12_DELAY_REASON, X12_ENTITY, X12_UNIT
from scrubber.model import Claim, ParseIssue, Provider
from scrubber.readers import fhir
from scrubber.writers import fhir as fhir_writer
from scrubber.x12map import element_map
from strategies import claims as claim_strategy
from strategies import comparable
from test_cross_format import model_paths, without

pytest.importorskip("fhir.resources")

CLAIM_FILE = ROOT / "fixtures" / "fhir" / "cross-format-claim.json"


def base_claim() -> dict:
    """A minimal valid R4 Claim with a contained Coverage (SOPT Medicare FFS), one item, one diagnosis."""
    return {
        "resourceType": "Claim",
        "id": "c1",
        "identifier": [{"value": "PCN-1"}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim",
        "patient": {"reference": "#pat"},
        "created": "2026-01-15",
        "provider": {"identifier": {"system": fhir.NPI, "value": "1234567893"}},
        "priority": {"coding": [{"code": "normal"}]},
        "contained": [
            {"resourceType": "Patient", "id": "pat", "name": [{"family": "DOE", "given": ["JANE"]}], "address": [{"state": "FL"}]},
            {
                "resourceType": "Coverage",
                "id": "cov",
                "status": "active",
                "type": {"coding": [{"system": fhir.SOPT, "code": "121"}]},
                "subscriberId": "1EG4TE5MK73",
                "beneficiary": {"reference": "#pat"},
                "payor": [{"identifier": {"value": "13202"}, "display": "MEDICARE"}],
            },
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#cov"}}],
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": fhir.ICD10_CM[0], "code": "E11.9"}]}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": fhir.CPT, "code": "80053"}]},
                "diagnosisSequence": [1],
                "servicedDate": "2026-01-10",
                "quantity": {"value": 1},
                "net": {"value": 25.10, "currency": "USD"},
            }
        ],
    }


def read_json(resource: object, file: str = "claim.json") -> list[Claim | ParseIssue]:
    return list(fhir.read(io.BytesIO(json.dumps(resource, indent=2).encode()), file))


def test_single_claim_maps_payer_patient_lines_and_diagnoses():
    (claim,) = read_json(base_claim())
    assert claim.claim_id == "PCN-1" and claim.batch_date == dt.date(2026, 1, 15)
    assert (claim.payer.sequence, claim.payer.filing_indicator, claim.payer.payer_id, claim.payer.name) == ("P", "MB", "13202", "MEDICARE")
    assert (claim.subscriber.member_id, claim.subscriber.last_name, claim.subscriber.state) == ("1EG4TE5MK73", "DOE", "FL")
    assert claim.patient is None and claim.billing_provider.npi == "1234567893"
    assert [(d.code, d.qualifier) for d in claim.diagnoses] == [("E119", "ABK")]
    (line,) = claim.lines
    assert (line.number, line.procedure, line.charge, line.units, line.diagnosis_pointers) == (1, "80053", Decimal("25.10"), Decimal(1), (1,))
    assert claim.total_charge == Decimal("25.10") and claim.source.pointer == "" and claim.source.file == "claim.json"


@pytest.mark.parametrize(
    ("coding", "indicator"),
    [
        ({"system": fhir.SOPT, "code": "1"}, "MB"),
        ({"system": fhir.SOPT, "code": "111"}, "16"),
        ({"system": fhir.SOPT, "code": "21"}, "MC"),
        ({"system": fhir.SOPT, "code": "521"}, "CI"),
        ({"system": fhir.SOPT, "code": "96"}, "AM"),
        ({"system": fhir.SOPT, "code": "953"}, "WC"),
        ({"system": fhir.X12_FILING_INDICATOR, "code": "BL"}, "BL"),
        ({"code": "12"}, None),  # no system: SOPT 12 or X12 12 (PPO)? not guessed
    ],
)
def test_coverage_type_to_filing_indicator(coding, indicator):
    resource = base_claim()
    resource["contained"][1]["type"] = {"coding": [coding]}
    (claim,) = read_json(resource)
    assert claim.payer.filing_indicator == indicator


def test_insurance_sequence_and_focal_give_payer_order_and_prior_payer_adjudication():
    resource = base_claim()
    resource["contained"] += [
        {"resourceType": "Coverage", "id": "prim", "status": "active", "beneficiary": {"reference": "#pat"},
         "type": {"coding": [{"system": fhir.SOPT, "code": "5"}]}, "payor": [{"reference": "#org"}]},
        {"resourceType": "Organization", "id": "org", "identifier": [{"value": "87726"}], "name": "UNITED"},
        {"resourceType": "ClaimResponse", "id": "resp", "status": "active", "type": {"coding": [{"code": "professional"}]},
         "use": "claim", "patient": {"reference": "#pat"}, "created": "2026-01-12", "insurer": {"reference": "#org"},
         "outcome": "complete",
         "payment": {"type": {"coding": [{"code": "complete"}]}, "amount": {"value": 18.5}, "date": "2026-01-12"},
         "item": [{"itemSequence": 1, "adjudication": [{"category": {"coding": [{"code": "benefit"}]}, "amount": {"value": 18.5}}]}]},
    ]
    resource["insurance"] = [
        {"sequence": 2, "focal": True, "coverage": {"reference": "#cov"}},
        {"sequence": 1, "focal": False, "coverage": {"reference": "#prim"}, "claimResponse": {"reference": "#resp"}},
    ]
    (claim,) = read_json(resource)
    assert claim.payer.sequence == "S" and claim.payer.filing_indicator == "MB"
    (other,) = claim.other_payers
    assert (other.sequence, other.filing_indicator, other.payer_id, other.name) == ("P", "CI", "87726", "UNITED")
    assert (other.paid, other.adjudication_date) == (Decimal("18.5"), dt.date(2026, 1, 12))
    (adjudication,) = claim.lines[0].adjudications
    assert (adjudication.payer_id, adjudication.paid, adjudication.procedure) == ("87726", Decimal("18.5"), "80053")


def test_accident_care_team_supporting_info_and_dependent():
    resource = base_claim()
    resource["accident"] = {"date": "2026-01-05", "type": {"coding": [{"system": fhir.ACT_CODE, "code": "MVA"}]},
                            "locationAddress": {"state": "NY"}}
    resource["contained"].append({"resourceType": "Practitioner", "id": "np", "identifier": [{"system": fhir.NPI, "value": "1654321987"}]})
    resource["careTeam"] = [{"sequence": 1, "provider": {"reference": "#np"}, "role": {"coding": [{"code": "primary"}]},
                             "qualification": {"coding": [{"system": fhir.NUCC_TAXONOMY, "code": "363LF0000X"}]}}]
    resource["supportingInfo"] = [
        {"sequence": 1, "category": {"coding": [{"code": "info"}]}, "code": {"coding": [{"system": fhir.X12_ASSIGNMENT, "code": "C"}]}},
        {"sequence": 2, "category": {"coding": [{"code": "info"}]}, "code": {"coding": [{"system": fhir.X12_FREQUENCY, "code": "7"}]}},
    ]
    resource["payee"] = {"type": {"coding": [{"code": "provider"}]}}
    resource["contained"].append({"resourceType": "Patient", "id": "holder", "name": [{"family": "DOE", "given": ["JOHN"]}],
                                  "address": [{"state": "NJ"}]})
    resource["contained"][1].update(subscriber={"reference": "#holder"}, relationship={"coding": [{"code": "child"}]})
    (claim,) = read_json(resource)
    assert (claim.related_causes, claim.accident_state, claim.accident_date) == (("AA",), "NY", dt.date(2026, 1, 5))
    assert (claim.rendering_provider.npi, claim.rendering_provider.taxonomy) == ("1654321987", "363LF0000X")
    assert (claim.assignment, claim.frequency, claim.benefits_assignment) == ("C", "7", "Y")
    assert claim.patient is not None and (claim.patient.relationship, claim.patient.state) == ("19", "FL")
    assert (claim.subscriber.first_name, claim.subscriber.state) == ("JOHN", "NJ")


def test_new_fields_come_from_their_natural_fhir_places():
    """Gender, delay reason, onset and initial treatment dates, referring/supervising/ordering careTeam
    members, the facility, item.detail NDCs and a prior payer's ClaimResponse totals."""
    resource = base_claim()
    resource["contained"][0]["gender"] = "female"
    resource["contained"] += [
        {"resourceType": "Practitioner", "id": "ref", "identifier": [{"system": fhir.NPI, "value": "1765432103"}]},
        {"resourceType": "Practitioner", "id": "sup", "identifier": [{"system": fhir.NPI, "value": "1543210987"}]},
        {"resourceType": "Practitioner", "id": "ord", "identifier": [{"system": fhir.NPI, "value": "1887654329"}]},
        {"resourceType": "Location", "id": "fac", "identifier": [{"system": fhir.NPI, "value": "1333444556"}]},
        {"resourceType": "Coverage", "id": "prim", "status": "active", "beneficiary": {"reference": "#pat"},
         "payor": [{"identifier": {"value": "87726"}}]},
        {"resourceType": "ClaimResponse", "id": "resp", "status": "active", "type": {"coding": [{"code": "professional"}]},
         "use": "claim", "patient": {"reference": "#pat"}, "created": "2026-01-12", "insurer": {"reference": "#org"},
         "outcome": "complete",
         "total": [{"category": {"coding": [{"system": C4BB_ADJUDICATION, "code": "noncovered"}]}, "amount": {"value": 25}},
                   {"category": {"coding": [{"system": C4BB_ADJUDICATION, "code": "memberliability"}]}, "amount": {"value": 30.5}}]},
    ]
    resource["insurance"] = [
        {"sequence": 2, "focal": True, "coverage": {"reference": "#cov"}},
        {"sequence": 1, "focal": False, "coverage": {"reference": "#prim"}, "claimResponse": {"reference": "#resp"}},
    ]
    resource["careTeam"] = [
        {"sequence": 1, "provider": {"reference": "#ref"}, "role": {"coding": [{"system": C4BB_CARE_TEAM_ROLE, "code": "referring"}]}},
        {"sequence": 2, "provider": {"reference": "#sup"}, "role": {"coding": [{"code": "supervisor"}]}},
        {"sequence": 3, "provider": {"reference": "#ord"}, "role": {"coding": [{"system": X12_ENTITY, "code": "DK"}]}},
    ]
    resource["facility"] = {"reference": "#fac"}
    resource["supportingInfo"] = [
        {"sequence": 1, "category": {"coding": [{"code": "info"}]}, "code": {"coding": [{"system": X12_DELAY_REASON, "code": "7"}]}},
        {"sequence": 2, "category": {"coding": [{"code": "onset"}]}, "timingDate": "2026-01-05"},
        {"sequence": 3, "category": {"coding": [{"code": "info"}]}, "code": {"coding": [{"system": X12_DATE_QUALIFIER, "code": "454"}]},
         "timingPeriod": {"start": "2026-01-06"}},
    ]
    resource["item"][0]["careTeamSequence"] = [3]
    resource["item"][0]["detail"] = [
        {"sequence": 1, "productOrService": {"coding": [{"system": fhir.NDC, "code": "00003029320"}]},
         "quantity": {"value": 1, "system": fhir.UCUM, "code": "mL"}},
    ]
    (claim,) = read_json(resource)
    assert (claim.subscriber.sex, claim.delay_reason) == ("F", "7")
    assert (claim.onset_date, claim.initial_treatment_date) == (dt.date(2026, 1, 5), dt.date(2026, 1, 6))
    assert claim.referring_provider == Provider(npi="1765432103", id_qualifier="XX")  # an NPI: NM108 XX
    assert claim.supervising_provider == Provider(npi="1543210987", id_qualifier="XX")
    assert claim.service_facility == Provider(npi="1333444556", id_qualifier="XX")
    assert claim.rendering_provider is None and claim.billing_provider.id_qualifier == "XX"
    (line,) = claim.lines
    assert (line.ndc, line.ndc_quantity, line.ndc_unit) == ("00003029320", Decimal(1), "ML")
    assert line.ordering_provider == Provider(npi="1887654329", id_qualifier="XX") and line.referring_provider is None
    (other,) = claim.other_payers
    assert (other.noncovered, other.remaining_patient_liability, other.paid) == (Decimal(25), Decimal("30.5"), None)


def test_a_member_an_item_references_is_the_lines_and_an_unreferenced_ordering_member_every_lines():
    resource = base_claim()
    resource["contained"] += [
        {"resourceType": "Practitioner", "id": "ref", "identifier": [{"system": fhir.NPI, "value": "1765432103"}]},
        {"resourceType": "Practitioner", "id": "ord", "identifier": [{"system": fhir.NPI, "value": "1887654329"}]},
    ]
    resource["careTeam"] = [
        {"sequence": 1, "provider": {"reference": "#ref"}, "role": {"coding": [{"code": "referring"}]}},
        {"sequence": 2, "provider": {"reference": "#ord"}, "role": {"coding": [{"code": "ordering"}]}},
    ]
    second = copy.deepcopy(resource["item"][0]) | {"sequence": 2, "careTeamSequence": [1]}
    resource["item"].append(second)
    (claim,) = read_json(resource)
    assert claim.referring_provider is None
    assert [line.referring_provider and line.referring_provider.npi for line in claim.lines] == [None, "1765432103"]
    assert [line.ordering_provider.npi for line in claim.lines] == ["1887654329", "1887654329"]


def test_written_new_fields_are_valid_r4b_and_use_the_documented_places():
    from fhir.resources.R4B import get_fhir_model_class

    claims = [c for c in fhir.read_path(ROOT / "fixtures" / "fhir" / "cross-format-bundle.json") if isinstance(c, Claim)]
    written = fhir_writer.claim_resources(next(c for c in claims if c.claim_id == "XF-OK"))[0]
    get_fhir_model_class("Claim").model_validate(written)
    (drug,) = written["item"][1]["detail"]
    assert drug["productOrService"]["coding"] == [{"system": fhir.NDC, "code": "00003029320"}]
    assert drug["quantity"] == {"value": 1, "system": X12_UNIT, "code": "ML"}
    roles = {team["role"]["coding"][-1]["code"] for team in written["careTeam"]}
    assert {"DN", "DQ"} <= roles  # the line's referring (DN) and the claim's and line's supervising (DQ)
    other = Provider(npi="123456789", id_qualifier="24")  # not an NPI: written without the NPI system
    practitioner = fhir_writer.claim_resources(claims[0].model_copy(update={"rendering_provider": other}))[0]
    written_ids = [r.get("identifier") for r in practitioner["contained"] if r["resourceType"] == "Practitioner"]
    assert [{"value": "123456789"}] in written_ids


def test_bundle_resolves_entries_by_full_url_and_reports_bad_claims_with_pointer():
    good = base_claim()
    bad = copy.deepcopy(good)
    bad["identifier"] = [{"value": "PCN-BAD"}]
    bad["item"][0]["net"]["value"] = "lots"
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": "urn:uuid:1", "resource": good}, {"fullUrl": "urn:uuid:2", "resource": bad}]}
    first, second = read_json(bundle, "bundle.json")
    assert isinstance(first, Claim) and first.source.pointer == "/entry/0/resource"
    assert isinstance(second, ParseIssue) and second.unreadable_claim and second.claim_id == "PCN-BAD"
    assert second.location == "/entry/1/resource/item/0/net/value"
    assert "not a valid FHIR R4 Claim" in second.message


def test_ndjson_lines_are_claims_and_earlier_resources_resolve():
    claim = base_claim()
    claim["contained"] = [claim["contained"][0]]
    claim["insurance"][0]["coverage"] = {"reference": "Coverage/cov9"}
    coverage = {"resourceType": "Coverage", "id": "cov9", "status": "active", "beneficiary": {"reference": "#pat"},
                "type": {"coding": [{"system": fhir.SOPT, "code": "2"}]}, "payor": [{"display": "MEDICAID"}]}
    no_items = {**claim, "identifier": [{"value": "EMPTY"}]}
    no_items.pop("item")
    lines = [json.dumps(coverage), "", json.dumps(claim), "{oops", json.dumps(no_items), json.dumps({"no": "type"})]
    items = list(fhir.read(io.BytesIO(("\n".join(lines) + "\n").encode()), "claims.ndjson"))
    read, not_json, empty, not_fhir = items
    assert read.payer.filing_indicator == "MC" and read.source.row == 3
    assert not_json.location == "line 4" and not not_json.unreadable_claim
    assert empty.unreadable_claim and empty.claim_id == "EMPTY" and empty.location == "line 5: /item"
    assert not_fhir.location == "line 6" and "resourceType" in not_fhir.message


@pytest.mark.parametrize(
    ("change", "location"),
    [
        (lambda r: r["item"][0].update(diagnosisSequence=[3]), "/item/0/diagnosisSequence/0"),
        (lambda r: r["item"][0].update(productOrService={"text": "office visit"}), "/item/0/productOrService"),
        (lambda r: r.update(diagnosis=[{"sequence": 1, "diagnosisCodeableConcept": {"text": "diabetes"}}]), "/diagnosis/0"),
    ],
)
def test_claims_that_cannot_become_model_claims(change, location):
    resource = base_claim()
    change(resource)
    (issue,) = read_json(resource)
    assert issue.unreadable_claim and issue.location == location and issue.claim_id == "PCN-1"


def test_not_a_claim_and_not_json():
    (issue,) = read_json({"resourceType": "Patient", "id": "p"})
    assert "not a Claim" in issue.message
    (issue,) = list(fhir.read(io.BytesIO(b"{\n  'single quotes'\n}"), "x.json"))
    assert "not JSON" in issue.message
    (issue,) = read_json({"resourceType": "Bundle", "type": "collection", "entry": []})
    assert "no Claim" in issue.message


def test_unresolvable_reference_still_reads_the_claim():
    resource = base_claim()
    resource["insurance"][0]["coverage"] = {"reference": "Coverage/elsewhere"}
    resource["patient"] = {"reference": "Patient/p1"}
    bad_patient = {"resourceType": "Patient", "id": "p1", "birthDate": "not a date"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": resource}, {"resource": bad_patient}]}
    warning, claim = read_json(bundle)
    assert claim.payer.sequence == "P" and claim.payer.filing_indicator is None
    assert warning.severity == "warning" and warning.claim_id == "PCN-1" and not warning.unreadable_claim
    assert "Coverage/elsewhere" in warning.message and "Patient/p1 (not a valid Patient" in warning.message
    assert warning.location == "/entry/0/resource" and claim.subscriber.state is None


# --- the mapping table ----------------------------------------------------------------------------


def test_every_step_declares_rows_and_the_committed_doc_is_generated_from_them():
    assert len(fhir.MAPPING) >= 30
    paths = {path for row in fhir.MAPPING for path in row.paths}
    for path in ("claim_id", "payer.filing_indicator", "related_causes", "accident_state", "assignment",
                 "lines[].diagnosis_pointers", "rendering_provider.taxonomy", "other_payers[].paid", "diagnoses",
                 "subscriber.sex", "delay_reason", "onset_date", "initial_treatment_date", "referring_provider.npi",
                 "service_facility.npi", "supervising_provider.npi", "other_payers[].noncovered",
                 "other_payers[].remaining_patient_liability", "lines[].ndc", "lines[].ndc_unit",
                 "lines[].ordering_provider.npi", "lines[].referring_provider.npi", "lines[].supervising_provider.npi"):
        assert path in paths
    committed = (ROOT / "docs" / "fhir-mapping.md").read_text(encoding="utf-8")
    assert committed == fhir.mapping_markdown(), "regenerate: scrubber schema --fhir-mapping > docs/fhir-mapping.md"
    assert run_cli("schema", "--fhir-mapping").stdout == committed


def test_mapping_rows_name_model_paths_and_take_their_x12_elements_from_the_element_map():
    """No row restates an X12 element: its X12 column is the element map's label of its model paths."""
    emap = element_map("837p")
    known = model_paths()
    for row in fhir.MAPPING:
        assert row.paths and set(row.paths) <= known, row
        for path in row.paths:
            labels = [element.label for element in emap.for_path(path)]
            assert not labels or ", ".join(labels) in row.x12, (path, row.x12)
    assert next(row for row in fhir.MAPPING if row.paths == ("assignment",)).x12 == emap.for_path("assignment")[0].label


def test_every_element_of_the_map_is_mapped_or_documented_as_not_carried():
    mapped = {path for row in fhir.MAPPING for path in row.paths}
    documented = set(fhir.NOT_CARRIED) | set(fhir.PARTLY_CARRIED)
    assert documented <= model_paths()
    assert not set(fhir.NOT_CARRIED) & mapped, "a path is either read or not carried"
    missing = {element.path for element in element_map("837p").elements} - mapped - documented
    assert not missing, f"say how FHIR carries these, or add them to NOT_CARRIED: {sorted(missing)}"


def test_sopt_prefixes():
    assert [fhir.filing_indicator_from_sopt(code) for code in ("1", "121", "11", "119", "2", "311", "32", "5", "523", "6", "96", "99")] == [
        "MB", "MB", "16", "16", "MC", "CH", "VA", "CI", "CI", "BL", "AM", "ZZ"]


# --- the writer: what FHIR carries comes back -------------------------------------------------------

def _provider(provider: dict | None) -> dict | None:
    """A provider after FHIR: an NPI (NM108 XX or none) in the NPI system, read back with XX; another
    qualifier's NM109 is not an NPI and is not read back."""
    if provider is None:
        return None
    provider = dict(provider)
    if provider.get("npi") is not None and provider.get("id_qualifier") not in (None, "XX"):
        provider["npi"] = None
    provider["id_qualifier"] = "XX" if provider.get("npi") is not None else None
    return provider if any(value is not None for value in provider.values()) else None


def fhir_projection(claim: Claim) -> dict:
    """What a claim should look like after a trip through FHIR: NOT_CARRIED dropped, and each
    PARTLY_CARRIED loss applied as scrubber/readers/fhir.py documents it."""
    assert set(fhir.PARTLY_CARRIED) <= model_paths()
    data = without(comparable(claim), fhir.NOT_CARRIED)
    if data["benefits_assignment"] == "W":
        data["benefits_assignment"] = None
    if claim.accident_date is None or not claim.related_causes:
        data["related_causes"], data["accident_date"], data["accident_state"] = [], None, None
    else:
        data["related_causes"] = [next(c for c in ("AA", "EM", "OA") if c in claim.related_causes)]
    if data["patient"] is not None:
        data["patient"]["relationship"] = {"01": "01", "19": "19"}.get(data["patient"]["relationship"], "G8")
        data["patient"]["member_id"] = None  # no 837P element either (the subscriber's id is on the Coverage)
    # FHIR lists insurances in coordination-of-benefits order (Claim.insurance.sequence).
    order = "PSTABCDEFGH"
    data["other_payers"].sort(key=lambda other: order.index(other["sequence"]))
    payer_order = [other["payer_id"] for other in data["other_payers"]]
    for other in data["other_payers"]:
        if other["paid"] is None:
            other["adjudication_date"] = None
    for line in data["lines"]:
        line["qualifier"] = "HC"
        for role in ("rendering", "referring", "supervising"):  # the same careTeam member as the claim's
            if line[f"{role}_provider"] == data[f"{role}_provider"]:
                line[f"{role}_provider"] = None
        for role in ("rendering", "referring", "supervising", "ordering"):
            line[f"{role}_provider"] = _provider(line[f"{role}_provider"])
        line["unit_basis"] = "MJ" if line["unit_basis"] == "MJ" and line["units"] is not None else "UN"
        if line["ndc"] is None:
            line["ndc_quantity"] = line["ndc_unit"] = None
        line["adjudications"] = [
            {**a, "procedure": line["procedure"]}
            for a in sorted(line["adjudications"], key=lambda a: payer_order.index(a["payer_id"]))
        ]
    for role in ("billing_provider", "referring_provider", "rendering_provider", "supervising_provider"):
        data[role] = _provider(data[role])
    facility = _provider(data["service_facility"])
    if facility is not None:
        facility["taxonomy"] = None  # a Location has none (nor has 2310C)
    data["service_facility"] = facility if facility is not None and facility["npi"] is not None else None
    if data["place_of_service"] is None:
        places = {line["place_of_service"] for line in data["lines"]}
        if len(places) == 1 and None not in places:
            data["place_of_service"] = places.pop()
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_strategy())
def test_written_bundles_are_valid_r4b_and_read_back(claim):
    from fhir.resources.R4B import get_fhir_model_class

    bundle = fhir_writer.bundle([claim])
    get_fhir_model_class("Bundle").model_validate(bundle)
    (back,) = list(fhir.read(io.BytesIO(fhir_writer.dumps(bundle).encode()), "b.json"))
    assert isinstance(back, Claim), back
    assert without(comparable(back), fhir.NOT_CARRIED) == fhir_projection(claim)


def test_fixture_single_claim_file_is_one_claim():
    (claim,) = list(fhir.read_path(CLAIM_FILE))
    assert claim.claim_id == "XF-111" and claim.assignment == "C"


def test_fhir_resources_is_imported_only_when_fhir_is_read():
    code = (
        "import sys, scrubber, scrubber.readers.fhir, scrubber.inputs\n"
        "from scrubber.commands import schema\n"
        "assert 'fhir.resources' not in sys.modules\n"
        f"list(scrubber.read({str(ROOT / 'fixtures' / '837p' / 'cross-format.837')!r}))\n"
        "assert 'fhir.resources' not in sys.modules\n"
        f"list(scrubber.read({str(CLAIM_FILE)!r}))\n"
        "assert 'fhir.resources' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_without_fhir_resources_installed_the_file_is_an_issue_not_a_traceback():
    code = (
        "import sys; sys.modules['fhir.resources.R4B'] = None\n"
        "from scrubber.readers import fhir\n"
        f"(issue,) = list(fhir.read_path({str(CLAIM_FILE)!r}))\n"
        "assert 'pip install' in issue.message and \"claim-scrubber[fhir]\" in issue.message, issue\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
