"""Structural facts (SNIP 3-5 edits that end in denials): balancing, pointers, code validity, NPIs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from scrubber import codesets
from scrubber.codesets.npi import is_valid_npi
from scrubber.facts.spec import ClaimContext
from scrubber.facts.spec import claim_spec as _claim
from scrubber.facts.spec import line_spec as _line
from scrubber.model import Claim, ServiceLine

ICD10_QUALIFIERS = ("ABK", "ABF")
_DX_DATES = "HI / SV107 / DTP*472"  # codes, the lines pointing to them, their dates

SPECS = [
    _claim("charge_matches_line_total", bool, "CLM02 equals the sum of SV102", "CLM02 / SV102"),
    _claim(
        "prior_payers_unbalanced",
        int,
        "prior payers for which CLM02 != AMT*D + their 2320 CAS + their 2430 CAS",
        "CLM02 / 2320 AMT*D / 2320 CAS / 2430 CAS",
    ),
    _claim("unbalanced_prior_payer", str, "payer id of the first unbalanced prior payer", "2330B NM109"),
    _claim(
        "prior_payers_unbalanced_payer_formula",
        int,
        "prior payers for which CLM02 != their 2430 SVD02 + their 2320 CAS (a payer-specific formula)",
        "CLM02 / SVD02 / 2320 CAS",
    ),
    _claim("duplicate_diagnosis_count", int, "diagnosis codes listed more than once", "HI"),
    _claim("principal_dx_is_external_cause", bool, "the principal (first) diagnosis is ICD-10-CM V00-Y99", "HI01"),
    _claim(
        "invalid_diagnosis_count", int,
        "ICD-10-CM codes that do not exist in the edition in force on their date of service", _DX_DATES,
    ),
    _claim("first_invalid_diagnosis", str, "the first ICD-10-CM code that does not exist on its date of service", "HI"),
    _claim(
        "first_invalid_diagnosis_reason", str,
        "why: the fiscal year judged against, and when the code was added or deleted", _DX_DATES,
    ),
    _claim(
        "not_billable_diagnosis_count", int,
        "valid ICD-10-CM headers that are not billable (not leaves) on their date of service", _DX_DATES,
    ),
    _claim("first_not_billable_diagnosis", str, "the first non-billable ICD-10-CM code", "HI"),
    _claim(
        "first_not_billable_diagnosis_reason", str,
        "why: the fiscal year in which it is a header, and when it was billable", _DX_DATES,
    ),
    _claim("accident_date_after_service", bool, "the accident date (DTP*439) is after a line's date of service", "DTP*439 / DTP*472"),
    _claim("invalid_npi_count", int, "NPIs (billing, rendering) failing the check digit", "2010AA NM109 / 2310B NM109 / 2420A NM109"),
    _claim("first_invalid_npi", str, "the first NPI failing the check digit", "2010AA NM109 / 2310B NM109 / 2420A NM109"),
    _line("line_pointer_past_last_diagnosis", bool, "a diagnosis pointer (SV107) beyond the last HI code", "SV107"),
    _line("line_prior_adjudication_unbalanced", bool, "SV102 != SVD02 + 2430 CAS for a prior payer", "SV102 / SVD02 / 2430 CAS"),
]


def _sum(amounts: list[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))


def add_claim_facts(claim: Claim, context: ClaimContext, fact: dict[str, Any]) -> None:
    total = claim.total_charge
    fact["charge_matches_line_total"] = total == _sum([line.charge for line in claim.lines])
    unbalanced: list[str] = []
    unbalanced_payer_formula = 0
    for other in context.prior_payers:
        claim_cas = _sum([adjustment.amount for adjustment in other.adjustments])
        adjudications = [
            adjudication
            for line in claim.lines
            for adjudication in line.adjudications
            if adjudication.payer_id == other.payer_id
        ]
        line_cas = _sum([a.amount for adjudication in adjudications for a in adjudication.adjustments])
        if other.paid is not None and total != other.paid + claim_cas + line_cas:
            unbalanced.append(other.payer_id or "?")
        if adjudications and total != _sum([a.paid or Decimal(0) for a in adjudications]) + claim_cas:
            unbalanced_payer_formula += 1
    fact["prior_payers_unbalanced"] = len(unbalanced)
    if unbalanced:
        fact["unbalanced_prior_payer"] = unbalanced[0]
    fact["prior_payers_unbalanced_payer_formula"] = unbalanced_payer_formula

    codes = [diagnosis.code for diagnosis in claim.diagnoses]
    fact["duplicate_diagnosis_count"] = len(codes) - len(set(codes))
    fact["principal_dx_is_external_cause"] = bool(
        claim.diagnoses
        and claim.diagnoses[0].qualifier in ICD10_QUALIFIERS
        and codesets.is_external_cause(claim.diagnoses[0].code)
    )
    _add_diagnosis_validity(claim, fact)
    fact["accident_date_after_service"] = claim.accident_date is not None and any(
        line.service_date is not None and claim.accident_date > line.service_date for line in claim.lines
    )
    npis = [provider.npi for provider in _providers(claim) if provider is not None and provider.npi]
    bad_npis = [npi for npi in npis if not is_valid_npi(npi)]
    fact["invalid_npi_count"] = len(bad_npis)
    if bad_npis:
        fact["first_invalid_npi"] = bad_npis[0]


def _add_diagnosis_validity(claim: Claim, fact: dict[str, Any]) -> None:
    """ICD-10-CM codes judged against the edition in force on their date of service.

    A code is judged on the dates of service of the lines that point to it (SV107), and on the
    claim's earliest line date when no line points to it; with no line date at all, against the
    newest edition shipped. A code pointed to from lines on both sides of October 1 must be valid
    (and billable) on each of those dates. Dates outside the editions shipped use the nearest one.
    """
    invalid: list[codesets.Icd10Verdict] = []
    not_billable: list[codesets.Icd10Verdict] = []
    lines = claim.lines
    known = {line.service_date for line in lines} - {None}
    if len(known) <= 1:  # the common case: one date of service (or none) judges every code
        on = next(iter(known)) if known else None
        for diagnosis in claim.diagnoses:
            if diagnosis.qualifier not in ICD10_QUALIFIERS:
                continue
            status = codesets.icd10_status(diagnosis.code, on)  # cheap: cached lookups
            if status == "invalid":
                invalid.append(codesets.icd10_verdict(diagnosis.code, on))
            elif status == "not_billable":
                not_billable.append(codesets.icd10_verdict(diagnosis.code, on))
    else:
        dates_by_position: dict[int, set] = {}
        for line in lines:
            if line.service_date is not None:
                for pointer in line.diagnosis_pointers:
                    dates_by_position.setdefault(pointer - 1, set()).add(line.service_date)
        earliest = min(known)
        for position, diagnosis in enumerate(claim.diagnoses):
            if diagnosis.qualifier not in ICD10_QUALIFIERS:
                continue
            dates = sorted(dates_by_position.get(position, ())) or [earliest]
            statuses = [codesets.icd10_status(diagnosis.code, date) for date in dates]
            if "invalid" in statuses:
                invalid.append(codesets.icd10_verdict(diagnosis.code, dates[statuses.index("invalid")]))
            elif "not_billable" in statuses:
                not_billable.append(codesets.icd10_verdict(diagnosis.code, dates[statuses.index("not_billable")]))
    fact["invalid_diagnosis_count"] = len(invalid)
    if invalid:
        fact["first_invalid_diagnosis"] = invalid[0].code
        fact["first_invalid_diagnosis_reason"] = invalid[0].reason
    fact["not_billable_diagnosis_count"] = len(not_billable)
    if not_billable:
        fact["first_not_billable_diagnosis"] = not_billable[0].code
        fact["first_not_billable_diagnosis_reason"] = not_billable[0].reason


def _providers(claim: Claim) -> list:
    return [claim.billing_provider, claim.rendering_provider, *(line.rendering_provider for line in claim.lines)]


def add_line_facts(claim: Claim, line: ServiceLine, context: ClaimContext, fact: dict[str, Any]) -> None:
    fact["line_pointer_past_last_diagnosis"] = any(p > len(claim.diagnoses) for p in line.diagnosis_pointers)
    prior_ids = context.prior_payer_ids
    fact["line_prior_adjudication_unbalanced"] = any(
        adjudication.paid is not None
        and line.charge != adjudication.paid + _sum([a.amount for a in adjudication.adjustments])
        for adjudication in line.adjudications
        if adjudication.payer_id in prior_ids
    )
