"""Timely filing and patient responsibility left by prior payers (CO-121 and timely submission)."""

from __future__ import annotations

from typing import Any

from scrubber.facts.spec import ClaimContext, FactSpec, cents
from scrubber.facts.spec import claim_spec as _claim
from scrubber.model import Claim, ServiceLine
from scrubber.profiles import filing_deadline, filing_limit_text

SPECS = [
    _claim("payer_profile", str, "id of the payer profile that covers this claim", "2000B SBR09 / 2010BB NM109"),
    _claim("filing_limit_days", int, "the payer profile's timely filing limit in days (when it counts days)", "(payer profile)"),
    _claim("filing_limit", str, "the payer profile's timely filing limit as messages say it ('90 days', 'one calendar year')", "(payer profile)"),
    _claim("days_since_first_service", int, "days from the earliest line date of service to the batch date", "DTP*472 / BHT04"),
    _claim("days_left_to_file", int, "days from the batch date to the filing deadline of the earliest date of service (negative: past it)", "DTP*472 / BHT04"),
    FactSpec("line.filing_deadline", int, "line", "the last day this line may be filed: its date of service plus the payer profile's limit", "DTP*472 / (payer profile)", "date"),
    FactSpec("line.days_left_to_file", int, "line", "days from the batch date to this line's filing deadline (negative: past it)", "DTP*472 / BHT04", "integer"),
    _claim(
        "prior_payer_patient_responsibility_cents",
        int,
        "patient responsibility (CAS group PR) left by prior payers, claim and line level, in cents",
        "2320 CAS / 2430 CAS",
    ),
    _claim(
        "prior_payer_patient_responsibility",
        str,
        "the same amount in dollars, for messages (e.g. '20.00')",
        "2320 CAS / 2430 CAS",
    ),
    _claim("profile_requires_bh_prior_auth", bool, "the payer profile requires prior auth for behavioral health", "(payer profile)"),
]


def add_claim_facts(claim: Claim, context: ClaimContext, fact: dict[str, Any]) -> None:
    profile = context.profile
    if profile is not None:
        fact["payer_profile"] = profile.id
        if profile.timely_filing_days is not None:
            fact["filing_limit_days"] = profile.timely_filing_days
        limit = filing_limit_text(profile)
        if limit is not None:
            fact["filing_limit"] = limit
    fact["profile_requires_bh_prior_auth"] = bool(profile and profile.behavioral_health_prior_auth)
    dates = [line.service_date for line in claim.lines if line.service_date is not None]
    if dates and claim.batch_date is not None:
        first = min(dates)
        fact["days_since_first_service"] = (claim.batch_date - first).days
        deadline = filing_deadline(first, profile) if profile is not None else None
        if deadline is not None:
            fact["days_left_to_file"] = (deadline - claim.batch_date).days
    prior_ids = context.prior_payer_ids
    responsibility = sum(
        adjustment.amount
        for other in context.prior_payers
        for adjustment in other.adjustments
        if adjustment.group == "PR"
    ) + sum(
        adjustment.amount
        for line in claim.lines
        for adjudication in line.adjudications
        if adjudication.payer_id in prior_ids
        for adjustment in adjudication.adjustments
        if adjustment.group == "PR"
    )
    fact["prior_payer_patient_responsibility_cents"] = cents(responsibility) if responsibility else 0
    fact["prior_payer_patient_responsibility"] = f"{responsibility:.2f}"


def add_line_facts(claim: Claim, line: ServiceLine, context: ClaimContext, fact: dict[str, Any]) -> None:
    profile = context.profile
    if profile is None or line.service_date is None:
        return
    deadline = filing_deadline(line.service_date, profile)
    if deadline is None:
        return
    fact["line.filing_deadline"] = deadline.toordinal()
    if claim.batch_date is not None:
        fact["line.days_left_to_file"] = (deadline - claim.batch_date).days
