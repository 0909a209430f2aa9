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
from typing import Any, Iterable, Iterator, Sequence

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


OK, FAIL, TODO, FIXED = "ok", "fail", "todo", "fixed"


@dataclass(frozen=True)
class CaseResult:
    """What one case gave on one engine. ``status``: ``ok`` (the verdict the case expects), ``fail``, ``todo`` (a
    known gap still there: reported, not failed) or ``fixed`` (a todo case the rule now gets right: it fails,
    so that the case is turned into a flag or pass case). ``passed`` is whether the run may succeed."""

    rule: str
    case: str
    expect: str
    engine: str
    passed: bool
    detail: str
    file: str | None = None
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", OK if self.passed else FAIL)


def case_tables(case: RuleCase, directory: str) -> dict[str, Any]:
    """The case's reference tables, written as neutral CSV files in ``directory`` and opened as ``check`` opens
    them (the table's own parser reads them; a bad row is a ``TableError`` here, not a skipped row)."""
    from pathlib import Path

    from scrubber.tables import TableError, open_table
    from scrubber.tables.neutral import write_neutral_csv

    tables = {}
    for name, rows in case.tables.items():
        path = write_neutral_csv(Path(directory) / f"{case.name}.{name}.csv", rows)
        table = open_table(name, path)
        if table.problems:
            raise TableError(f"case {case.name}: table {name}: {table.problems[0].message}")
        tables[name] = table
    return tables


def run_case(rule: RuleSpec, case: RuleCase, scrubber: Scrubber) -> CaseResult:
    """Run one case through the 837P writer and reader and the scrubber, and judge the rule's findings.

    A case with its own reference tables runs in a scrubber of its own with them."""

    def result(status: str, detail: str) -> CaseResult:
        return CaseResult(rule.id, case.name, case.expect, scrubber.engine.name, status in (OK, TODO), detail,
                          rule.file, status)

    if case.tables:
        import tempfile

        from scrubber.tables import TableError

        with tempfile.TemporaryDirectory(prefix="scrubber-case-") as directory:
            try:
                tables = case_tables(case, directory)
            except TableError as error:
                return result(FAIL, f"case tables: {error}")
            return run_case(rule, case.model_copy(update={"tables": {}}), case_scrubber(
                rule, scrubber.engine.name, scrubber.profiles, scrubber.severity, tables=tables,
                profile_only=scrubber.profile_only,
            ))
    try:
        claim = build_case_claim(case.claim)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        return result(FAIL, f"case claim is malformed at {where}: {problem['msg']}")
    try:
        before = [build_case_claim(other) for other in case.batch]
    except ValidationError as error:
        return result(FAIL, f"a case batch claim is malformed: {error.errors()[0]['msg']}")
    claim = through_x12(claim, before)
    findings = [finding for finding in scrubber.check([claim])[0] if finding.rule == rule.id]
    problem = _verdict_problem(case, findings)
    if not case.todo:
        if problem is not None:
            return result(FAIL, problem)
        return result(OK, findings[0].message if findings else "no finding")
    if problem is None:  # the gap is closed
        if case.should_flag:
            return result(FIXED, "the rule now flags it: turn it into a flag case")
        return result(FIXED, "the rule no longer flags it: turn it into a pass case")
    return result(TODO, problem)


def _verdict_problem(case: RuleCase, findings: list) -> str | None:
    """Why ``findings`` are not the verdict the case says the rule should give (None: they are)."""
    if case.should_flag:
        if not findings:
            return "expected the rule to flag, it did not"
        if case.lines is not None:
            flagged = sorted({finding.line for finding in findings if finding.line is not None})
            if flagged != sorted(case.lines):
                return f"expected lines {sorted(case.lines)} to flag, got {flagged}"
        return _pin_problem(case, findings)
    if findings:
        where = ", ".join(f"line {f.line}" if f.line else "claim" for f in findings)
        return f"expected no finding, the rule flagged ({where}): {findings[0].message}"
    return None


def _pin_problem(case: RuleCase, findings: list) -> str | None:
    """What a flag case pins (segment tag, element, message text) that a finding does not match."""
    for finding in findings:
        if case.segment is not None and finding.segment_id != case.segment:
            return f"expected the finding at segment {case.segment}, got {finding.segment_id} ({finding.where()})"
        if case.element is not None and not _same_element(case.element, finding):
            return f"expected the finding on element {case.element}, got {finding.element} ({finding.where()})"
        if case.message_contains is not None and case.message_contains not in finding.message:
            return f"expected the message to contain {case.message_contains!r}, got: {finding.message}"
    return None


def _same_element(pinned: str, finding: Any) -> bool:
    """``SV101-3`` pins the finding on ``SV101-3..6``; ``REF02`` on ``2400 REF*G1 REF02``."""
    if pinned in (finding.element, f"{finding.segment_id} {finding.element}"):
        return True
    from scrubber.x12map import UnknownElement, element_map

    try:
        row = element_map("837p").resolve(pinned if " " in pinned else f"{finding.loop} {pinned}")
    except UnknownElement:
        return False
    return row.name == finding.element and row.loop == finding.loop


def through_x12(claim: Claim, before: Sequence[Claim] = ()) -> Claim:
    """The claim written as an 837P (after the ``before`` claims, in one transaction set) and read back, so
    findings carry real segment positions.

    A case claim the 837P cannot carry as given (more than 4 modifiers, say) is used as it is."""
    from scrubber.readers.x12_837p import read
    from scrubber.writers.x12_837p import write

    try:
        text = write([*before, claim], date=claim.batch_date)
    except ValueError:
        return claim
    items = list(read(io.BytesIO(text.encode("latin-1", errors="replace")), "case.837"))
    read_back = [item for item in items if isinstance(item, Claim)]
    return read_back[-1] if len(read_back) == len(before) + 1 else claim


def case_scrubber(
    rule: RuleSpec, engine_name: str, profiles: ProfileSet | None = None, severity: dict[str, str] | None = None,
    tables: dict[str, Any] | None = None, profile_only: Iterable[str] | None = None,
) -> Scrubber:
    """The rule alone in its engine (so other rules cannot mask it), under the payer profiles, as ``check`` runs it.

    A profile that disables the rule drops its findings on the claims it covers; an opt-in rule
    (``default_enabled: false``) that some profile enables runs only for the claims of those profiles, as in
    ``check``. An opt-in rule that no profile enables is tested as if selected: its cases say what it does
    when it runs.
    """
    profiles = profiles or load_profiles()
    enabled_by_a_profile = not rule.default_enabled and any(rule.id in profile.enable for profile in profiles.profiles)
    return Scrubber(
        [rule],
        make_engine([rule], engine_name, tables),
        profiles=profiles,
        profile_only=profile_only if profile_only is not None else [rule.id] if enabled_by_a_profile else [],
        severity=severity,
        tables=tables,
    )


def run_rule_cases(
    rules: Sequence[RuleSpec],
    engines: Iterable[str] = ("durable", "python"),
    profiles: ProfileSet | None = None,
) -> list[CaseResult]:
    """Every case of every rule, on each engine, with the bundled (or given) payer profiles."""
    return [result for _, _, _, result in iter_rule_cases(rules, engines, profiles)]


def iter_rule_cases(
    rules: Sequence[RuleSpec],
    engines: Iterable[str] = ("durable", "python"),
    profiles: ProfileSet | None = None,
) -> Iterator[tuple[RuleSpec, RuleCase, Scrubber, CaseResult]]:
    """Each case's rule, case, scrubber and result, as they are run (engine by engine, rule by rule)."""
    profiles = profiles or load_profiles()
    for engine_name in engines:
        for rule in rules:
            scrubber = case_scrubber(rule, engine_name, profiles)
            for case in rule.cases:
                yield rule, case, scrubber, run_case(rule, case, scrubber)
