"""Run the inline cases of rule files: each case is a small claim and the verdict the rule must give.

A case's ``claim`` holds only what differs from ``BASE_CLAIM``: mappings merge, lists replace, and each
entry of ``lines``, ``other_payers`` and a line's ``adjudications`` is merged over its own base, so
a case reads like the billing situation it shows.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Sequence

from pydantic import ValidationError

from scrubber.engine import make_engine
from scrubber.model import Claim
from scrubber.pipeline import Scrubber
from scrubber.profiles import ProfileSet, load_profiles
from scrubber.rules.spec import RuleCase, RuleSpec

BASE_CLAIM: dict[str, Any] = {
    "claim_id": "CASE-1",
    "place_of_service": "11",
    "frequency": "1",
    "assignment": "A",
    "benefits_assignment": "Y",
    "batch_date": "2026-01-15",
    "payer": {"sequence": "P", "filing_indicator": "CI", "payer_id": "PAYER1", "name": "TEST PAYER"},
    "subscriber": {"last_name": "DOE", "first_name": "JANE", "member_id": "M123", "state": "CA"},
    "diagnoses": [{"code": "J449", "qualifier": "ABK"}],
    "billing_provider": {"npi": "1234567893"},
}
BASE_LINE: dict[str, Any] = {
    "procedure": "99213",
    "charge": "100",
    "units": "1",
    "diagnosis_pointers": [1],
    "service_date": "2026-01-10",
}
BASE_OTHER_PAYER: dict[str, Any] = {
    "sequence": "P",
    "filing_indicator": "CI",
    "payer_id": "PRIOR1",
    "name": "PRIOR PAYER",
    "paid": "80",
    "adjudication_date": "2026-01-12",
}
BASE_ADJUDICATION: dict[str, Any] = {"payer_id": "PRIOR1", "paid": "80"}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def build_case_claim(overrides: dict[str, Any]) -> Claim:
    """The claim a case describes (raises pydantic's ValidationError when the case is malformed)."""
    data = _merge(BASE_CLAIM, {k: v for k, v in overrides.items() if k not in ("lines", "other_payers")})
    lines = []
    for number, line in enumerate(overrides.get("lines", [{}]), start=1):
        merged = _merge({**BASE_LINE, "number": number}, {k: v for k, v in line.items() if k != "adjudications"})
        merged["adjudications"] = [
            _merge({**BASE_ADJUDICATION, "procedure": merged["procedure"]}, adjudication)
            for adjudication in line.get("adjudications", [])
        ]
        lines.append(merged)
    data["lines"] = lines
    data["other_payers"] = [_merge(BASE_OTHER_PAYER, other) for other in overrides.get("other_payers", [])]
    data.setdefault("total_charge", str(sum(Decimal(str(line["charge"])) for line in lines)))
    return Claim.model_validate(data)


@dataclass(frozen=True)
class CaseResult:
    rule: str
    case: str
    expect: str
    engine: str
    passed: bool
    detail: str
    file: str | None = None


def run_case(rule: RuleSpec, case: RuleCase, scrubber: Scrubber) -> CaseResult:
    try:
        claim = build_case_claim(case.claim)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, False,
                          f"case claim is malformed at {where}: {problem['msg']}", rule.file)
    claim = through_x12(claim)
    findings = [finding for finding in scrubber.check([claim])[0] if finding.rule == rule.id]
    if case.expect == "flag":
        if not findings:
            return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, False,
                              "expected the rule to flag, it did not", rule.file)
        if case.lines is not None:
            flagged = sorted({finding.line for finding in findings if finding.line is not None})
            if flagged != sorted(case.lines):
                return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, False,
                                  f"expected lines {sorted(case.lines)} to flag, got {flagged}", rule.file)
        problem = _pin_problem(case, findings)
        if problem is not None:
            return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, False, problem, rule.file)
        return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, True,
                          findings[0].message, rule.file)
    if findings:
        where = ", ".join(f"line {f.line}" if f.line else "claim" for f in findings)
        return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, False,
                          f"expected no finding, the rule flagged ({where}): {findings[0].message}", rule.file)
    return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, True, "no finding", rule.file)


def _pin_problem(case: RuleCase, findings: list) -> str | None:
    """What a flag case pins (segment tag, element, message text) that a finding does not match."""
    for finding in findings:
        if case.segment is not None and finding.segment_id != case.segment:
            return f"expected the finding at segment {case.segment}, got {finding.segment_id} ({finding.where()})"
        if case.element is not None and case.element not in (finding.element, f"{finding.segment_id} {finding.element}"):
            return f"expected the finding on element {case.element}, got {finding.element} ({finding.where()})"
        if case.message_contains is not None and case.message_contains not in finding.message:
            return f"expected the message to contain {case.message_contains!r}, got: {finding.message}"
    return None


def through_x12(claim: Claim) -> Claim:
    """The claim written as an 837P and read back, so findings carry real segment positions.

    A case claim the 837P cannot carry as given (more than 4 modifiers, say) is used as it is."""
    from scrubber.readers.x12_837p import read
    from scrubber.writers.x12_837p import write

    try:
        text = write([claim], date=claim.batch_date)
    except ValueError:
        return claim
    items = list(read(io.BytesIO(text.encode("latin-1", errors="replace")), "case.837"))
    read_back = [item for item in items if isinstance(item, Claim)]
    return read_back[0] if len(read_back) == 1 else claim


def case_scrubber(rule: RuleSpec, engine_name: str, profiles: ProfileSet | None = None) -> Scrubber:
    """The rule alone in its engine (so other rules cannot mask it), under the payer profiles.

    An opt-in rule is tested as if selected: its cases say what it does when it runs.
    """
    return Scrubber([rule], make_engine([rule], engine_name), profiles=profiles or load_profiles())


def run_rule_cases(
    rules: Sequence[RuleSpec],
    engines: Iterable[str] = ("durable", "python"),
    profiles: ProfileSet | None = None,
) -> list[CaseResult]:
    """Every case of every rule, on each engine, with the bundled (or given) payer profiles."""
    results = []
    profiles = profiles or load_profiles()
    for engine_name in engines:
        for rule in rules:
            scrubber = case_scrubber(rule, engine_name, profiles)
            results.extend(run_case(rule, case, scrubber) for case in rule.cases)
    return results
