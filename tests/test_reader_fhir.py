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
from scrubber.model import Claim, ParseIssue
from scrubber.readers import fhir
from scrubber.writers import fhir as fhir_writer
from strategies import claims as claim_strategy
from strategies import comparable

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
    fields = " ".join(row.field for row in fhir.MAPPING)
    for field in ("claim_id", "payer.filing_indicator", "related_causes", "accident_state", "assignment",
                  "lines[].diagnosis_pointers", "rendering_provider.taxonomy", "other_payers[].paid", "diagnoses[].code"):
        assert field in fields
    committed = (ROOT / "docs" / "fhir-mapping.md").read_text(encoding="utf-8")
    assert committed == fhir.mapping_markdown(), "regenerate: scrubber schema --fhir-mapping > docs/fhir-mapping.md"
    assert run_cli("schema", "--fhir-mapping").stdout == committed


def test_sopt_prefixes():
    assert [fhir.filing_indicator_from_sopt(code) for code in ("1", "121", "11", "119", "2", "311", "32", "5", "523", "6", "96", "99")] == [
        "MB", "MB", "16", "16", "MC", "CH", "VA", "CI", "CI", "BL", "AM", "ZZ"]


# --- the writer: what FHIR carries comes back -------------------------------------------------------

# Fields the writer documents as not carried, and what they come back as.
_LOSSY = {"implementation": None, "provider_signature": None, "payer_claim_number": None}


def fhir_projection(claim: Claim) -> dict:
    """What a claim should look like after a trip through FHIR (see scrubber/writers/fhir.py)."""
    data = comparable(claim)
    data.update(_LOSSY)
    data["payer"]["insurance_type"] = None
    if data["benefits_assignment"] == "W":
        data["benefits_assignment"] = None
    if claim.accident_date is None or not claim.related_causes:
        data["related_causes"], data["accident_date"], data["accident_state"] = [], None, None
    else:
        data["related_causes"] = [next(c for c in ("AA", "EM", "OA") if c in claim.related_causes)]
    if data["billing_provider"]:
        data["billing_provider"]["taxonomy"] = None
    if data["patient"] is not None:
        data["patient"]["relationship"] = {"01": "01", "19": "19"}.get(data["patient"]["relationship"], "G8")
        data["patient"]["member_id"] = None
    # FHIR lists insurances in coordination-of-benefits order (Claim.insurance.sequence).
    order = "PSTABCDEFGH"
    data["other_payers"].sort(key=lambda other: order.index(other["sequence"]))
    payer_order = [other["payer_id"] for other in data["other_payers"]]
    for other in data["other_payers"]:
        other.update(insurance_type=None, adjustments=[])
        if other["paid"] is None:
            other["adjudication_date"] = None
    for line in data["lines"]:
        line.update(qualifier="HC", prior_auth=None)
        if line["rendering_provider"] == data["rendering_provider"]:
            line["rendering_provider"] = None  # the same careTeam member as the claim's: nothing line-specific
        line["unit_basis"] = "MJ" if line["unit_basis"] == "MJ" and line["units"] is not None else "UN"
        line["adjudications"] = [
            {"payer_id": a["payer_id"], "paid": a["paid"], "procedure": line["procedure"], "units": None,
             "adjustments": [], "adjudication_date": None}
            for a in sorted(line["adjudications"], key=lambda a: payer_order.index(a["payer_id"]))
        ]
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
    assert comparable(back) == fhir_projection(claim)


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
