"""Behavioral-health facts (CO-122): add-on integrity, exclusive pairs, pointed mental-health diagnoses."""

from __future__ import annotations

from typing import Any

from scrubber import codesets
from scrubber.codesets.addons import addon_rule, is_evaluation_and_management
from scrubber.facts.spec import ClaimContext
from scrubber.facts.spec import line_spec as _line
from scrubber.model import Claim, ServiceLine

SPECS = [
    _line(
        "line_addon_missing_primary",
        bool,
        "an add-on whose required primary service is not on the claim (on the same date where required)",
        "SV101-2 / DTP*472",
    ),
    _line("line_has_exclusive_conflict", bool, "the claim also bills a code this one may not be billed with", "SV101-2"),
    _line("line_conflicting_procedure", str, "the first code this line may not be billed with", "SV101-2"),
    _line("line_has_mental_health_dx", bool, "a diagnosis the line points to is ICD-10-CM F01-F99", "SV107 / HI"),
]


def add_claim_facts(claim: Claim, context: ClaimContext, fact: dict[str, Any]) -> None:
    return None


def add_line_facts(claim: Claim, line: ServiceLine, context: ClaimContext, fact: dict[str, Any]) -> None:
    rule = addon_rule(line.procedure)
    if rule is not None:
        others = [other for other in claim.lines if other is not line]
        if rule.same_date:
            others = [other for other in others if other.service_date == line.service_date]
        fact["line_addon_missing_primary"] = not any(
            other.procedure in rule.primaries or (rule.needs_em and is_evaluation_and_management(other.procedure))
            for other in others
        )
        conflicts = sorted({other.procedure for other in claim.lines if other.procedure in rule.excludes})
        fact["line_has_exclusive_conflict"] = bool(conflicts)
        if conflicts:
            fact["line_conflicting_procedure"] = conflicts[0]
    else:
        fact["line_addon_missing_primary"] = False
        fact["line_has_exclusive_conflict"] = False
    if codesets.is_psychiatric(line.procedure):
        fact["line_has_mental_health_dx"] = any(
            codesets.is_mental_health_dx(claim.diagnoses[pointer - 1].code)
            for pointer in (line.diagnosis_pointers or (1,))
            if 0 < pointer <= len(claim.diagnoses)
        )
