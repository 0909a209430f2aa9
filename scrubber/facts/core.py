"""The core facts: payer, assignment, accident, coordination of benefits, code-set flags."""

from __future__ import annotations

from typing import Any

from scrubber import codesets
from scrubber.facts.spec import SECONDARY_SEQUENCES, ClaimContext, cents
from scrubber.facts.spec import claim_spec as _claim
from scrubber.facts.spec import line_spec as _line
from scrubber.model import Claim, ServiceLine

SPECS = [
    _claim("kind", str, "'claim' or 'line'", "-"),
    _claim("payer_sequence", str, "payer responsibility sequence of the destination payer", "2000B SBR01"),
    _claim("payer_insurance_type", str, "insurance type when Medicare is not primary", "2000B SBR05"),
    _claim("payer_filing_indicator", str, "claim filing indicator (MB, MC, AM, CI, ...)", "2000B SBR09"),
    _claim("payer_id", str, "destination payer id", "2010BB NM109"),
    _claim("payer_is_secondary_or_later", bool, "SBR01 is S, T or A-H", "2000B SBR01"),
    _claim("charge_cents", int, "total claim charge in cents", "CLM02"),
    _claim("line_charge_total_cents", int, "sum of the line charges in cents", "SV102"),
    _claim("line_count", int, "number of service lines", "LX"),
    _claim("diagnosis_count", int, "number of diagnosis codes", "HI"),
    _claim("related_cause_auto_accident", bool, "CLM11 holds AA", "CLM11-1..3"),
    _claim("related_cause_employment", bool, "CLM11 holds EM", "CLM11-1..3"),
    _claim("related_cause_other_accident", bool, "CLM11 holds OA", "CLM11-1..3"),
    _claim("has_accident_date", bool, "an accident date is present", "DTP*439"),
    _claim("has_traffic_accident_diagnosis", bool, "an ICD-10-CM external-cause code for a traffic accident", "HI"),
    _claim("patient_state", str, "state of the patient (2010CA), else the subscriber (2010BA)", "2010BA N402 / 2010CA N402"),
    _claim("effective_accident_state", str, "CLM11-4, else the patient's state", "CLM11-4 / 2010BA N402 / 2010CA N402"),
    _claim(
        "accident_state_is_no_fault_or_pip",
        bool,
        "the effective accident state has no-fault or compulsory PIP auto insurance",
        "CLM11-4 / 2010BA N402 / 2010CA N402",
    ),
    _claim("has_auto_other_payer", bool, "an other payer files as automobile medical (AM)", "2320 SBR09"),
    _claim("has_medicaid_other_payer", bool, "an other payer is Medicaid (MC): dual eligible", "2320 SBR09"),
    _claim("other_payer_count", int, "number of 2320 loops", "2320 SBR"),
    _claim("prior_payer_count", int, "other payers ahead of the destination payer (cost-avoided ones included)", "2320 SBR01"),
    _claim("adjudicated_prior_payer_count", int, "other payers ahead of the destination payer that adjudicated the claim (not cost-avoided with AMT*A8)", "2320 SBR01 / 2320 AMT*A8"),
    _claim("prior_payers_without_paid_amount", int, "prior payers with no AMT*D", "2320 AMT*D"),
    _claim(
        "prior_payers_without_adjudication_date",
        int,
        "prior payers with no DTP*573 at claim level (2330B) nor on every line (2430)",
        "2330B DTP*573 / 2430 DTP*573",
    ),
    _claim("prior_payer_claim_adjustment_count", int, "CAS triples of prior payers at claim level", "2320 CAS"),
    _claim("lines_without_prior_adjudication", int, "lines with no 2430 from a prior payer", "2430 SVD"),
    _claim("has_prior_auth", bool, "a prior authorization number at claim level", "2300 REF*G1"),
    _claim(
        "same_claim_id_as_segment",
        int,
        "the CLM segment of an earlier claim in the same transaction set with this CLM01 (X12 input; missing when none)",
        "2300 CLM01",
    ),
    _claim("has_payer_claim_number", bool, "the payer's claim number is present", "2300 REF*F8"),
    _claim(
        "rendering_must_accept_assignment",
        bool,
        "claim-level rendering provider's taxonomy is a practitioner who must accept Medicare assignment",
        "2310B PRV03",
    ),
    _claim("has_clinical_lab_line", bool, "a line is a clinical lab service", "SV101-2"),
    _claim("has_mandatory_assignment_line", bool, "a line is a Medicare mandatory-assignment service", "SV101-2"),
    _claim(
        "has_non_lab_mandatory_assignment_line",
        bool,
        "a line is an ambulance or Part B drug service",
        "SV101-2",
    ),
    _line("line_number", int, "service line number", "LX01"),
    _line("line_procedure", str, "procedure code", "SV101-2"),
    _line("line_modifiers", str, "modifiers joined with ':'", "SV101-3..6"),
    _line("line_charge_cents", int, "line charge in cents", "SV102"),
    _line("line_has_prior_adjudication", bool, "a 2430 SVD from a prior payer", "2430 SVD"),
    _line(
        "line_rendering_must_accept_assignment",
        bool,
        "line (2420A) or claim (2310B) rendering taxonomy must accept Medicare assignment",
        "2420A PRV03 / 2310B PRV03",
    ),
    _line("line_has_prior_auth", bool, "prior authorization at line or claim level", "2400 REF*G1 / 2300 REF*G1"),
    _line("line_max_diagnosis_pointer", int, "highest diagnosis pointer on the line", "SV107"),
]

def add_claim_facts(claim: Claim, context: ClaimContext, fact: dict[str, Any]) -> None:
    payer = claim.payer
    # a missing or empty value leaves the fact out
    if payer.sequence:
        fact["payer_sequence"] = payer.sequence
    if payer.insurance_type:
        fact["payer_insurance_type"] = payer.insurance_type
    if payer.filing_indicator:
        fact["payer_filing_indicator"] = payer.filing_indicator
    if payer.payer_id:
        fact["payer_id"] = payer.payer_id
    fact["payer_is_secondary_or_later"] = payer.sequence in SECONDARY_SEQUENCES
    lines = claim.lines
    fact["charge_cents"] = cents(claim.total_charge)
    total = 0
    lab = mandatory = non_lab_mandatory = False
    for line in lines:  # one pass over the lines for the charges and the code-set flags
        total += cents(line.charge)
        procedure = line.procedure
        lab = lab or codesets.is_clinical_lab(procedure)
        mandatory = mandatory or codesets.is_mandatory_assignment_service(procedure)
        non_lab_mandatory = non_lab_mandatory or codesets.is_ambulance(procedure) or codesets.is_part_b_drug(procedure)
    fact["line_charge_total_cents"] = total
    fact["line_count"] = len(lines)
    fact["diagnosis_count"] = len(claim.diagnoses)

    causes = claim.related_causes
    fact["related_cause_auto_accident"] = "AA" in causes
    fact["related_cause_employment"] = "EM" in causes
    fact["related_cause_other_accident"] = "OA" in causes
    fact["has_accident_date"] = claim.accident_date is not None
    traffic = False
    for diagnosis in claim.diagnoses:
        if diagnosis.qualifier in ("ABK", "ABF") and codesets.is_traffic_accident_code(diagnosis.code):
            traffic = True
            break
    fact["has_traffic_accident_diagnosis"] = traffic
    patient_state = claim.patient_state
    if patient_state:
        fact["patient_state"] = patient_state
    effective_state = claim.accident_state or patient_state
    if effective_state:
        fact["effective_accident_state"] = effective_state
    fact["accident_state_is_no_fault_or_pip"] = bool(
        effective_state and codesets.is_no_fault_or_pip_state(effective_state)
    )

    other_payers = claim.other_payers
    indicators = {other.filing_indicator for other in other_payers}
    fact["has_auto_other_payer"] = not codesets.AUTO_FILING_INDICATORS.isdisjoint(indicators)
    fact["has_medicaid_other_payer"] = not codesets.MEDICAID_FILING_INDICATORS.isdisjoint(indicators)
    fact["other_payer_count"] = len(other_payers)
    prior = context.prior_payers
    prior_ids = context.prior_payer_ids
    fact["prior_payer_count"] = len(prior) + len(context.cost_avoided_payers)
    fact["adjudicated_prior_payer_count"] = len(prior)
    without_paid = without_date = adjustments = 0
    for other in prior:
        if other.paid is None:
            without_paid += 1
        if not _has_adjudication_date(claim, other.adjudication_date, other.payer_id):
            without_date += 1
        adjustments += len(other.adjustments)
    fact["prior_payers_without_paid_amount"] = without_paid
    fact["prior_payers_without_adjudication_date"] = without_date
    fact["prior_payer_claim_adjustment_count"] = adjustments
    fact["lines_without_prior_adjudication"] = sum(1 for line in lines if not _line_adjudicated_by(line, prior_ids)) if prior_ids else len(lines)
    fact["has_prior_auth"] = claim.prior_auth is not None
    if claim.source is not None and claim.source.same_id_as_segment is not None:
        fact["same_claim_id_as_segment"] = claim.source.same_id_as_segment
    fact["has_payer_claim_number"] = claim.payer_claim_number is not None

    rendering = claim.rendering_provider
    fact["rendering_must_accept_assignment"] = bool(
        rendering and rendering.taxonomy and codesets.is_mandatory_assignment_practitioner(rendering.taxonomy)
    )
    fact["has_clinical_lab_line"] = lab
    fact["has_mandatory_assignment_line"] = mandatory
    fact["has_non_lab_mandatory_assignment_line"] = non_lab_mandatory


def _has_adjudication_date(claim: Claim, claim_level_date: Any, payer_id: str | None) -> bool:
    """DTP*573 sits at claim level (2330B) or on the lines (2430), one level, not both."""
    if claim_level_date is not None:
        return True
    line_dates = [
        adjudication.adjudication_date
        for line in claim.lines
        for adjudication in line.adjudications
        if adjudication.payer_id == payer_id
    ]
    return bool(line_dates) and all(date is not None for date in line_dates)


def _line_adjudicated_by(line: ServiceLine, payer_ids: set[str | None]) -> bool:
    return any(adjudication.payer_id in payer_ids for adjudication in line.adjudications)


def add_line_facts(claim: Claim, line: ServiceLine, context: ClaimContext, fact: dict[str, Any]) -> None:
    prior_ids = context.prior_payer_ids
    procedure = line.procedure
    fact["line_number"] = line.number
    fact["line_procedure"] = procedure
    if line.modifiers:
        fact["line_modifiers"] = ":".join(line.modifiers)
    fact["line_charge_cents"] = cents(line.charge)
    fact["line_has_prior_adjudication"] = _line_adjudicated_by(line, prior_ids)
    rendering = line.rendering_provider if line.rendering_provider and line.rendering_provider.taxonomy else None
    if rendering is not None:
        fact["line_rendering_must_accept_assignment"] = codesets.is_mandatory_assignment_practitioner(
            rendering.taxonomy or ""
        )
    else:
        fact["line_rendering_must_accept_assignment"] = fact["rendering_must_accept_assignment"]
    fact["line_has_prior_auth"] = line.prior_auth is not None or claim.prior_auth is not None
    if line.diagnosis_pointers:
        fact["line_max_diagnosis_pointer"] = max(line.diagnosis_pointers)


