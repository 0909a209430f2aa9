"""Findings (a rule matched a claim or line), per-claim results and the report over a batch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from scrubber.model import Claim, ParseIssue, ServiceLine
from scrubber.rules.spec import SEVERITY_RANK

Status = Literal["clean", "flagged", "unreadable"]
_ELEMENT = re.compile(r"^([A-Z][A-Z0-9]{1,2})\d{2}(-\d+)?$")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    name: str
    carc: str
    rarc: tuple[str, ...]
    remit_codes: tuple[str, ...]
    severity: str
    line: int | None  # LX01 of the service line, None for claim-level findings
    element: str  # e.g. CLM07
    segment: int | None  # 1-based position of that element's segment in the file
    message: str
    fix: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "carc": self.carc,
            "rarc": list(self.rarc),
            "remit_codes": list(self.remit_codes),
            "severity": self.severity,
            "line": self.line,
            "element": self.element,
            "segment": self.segment,
            "message": self.message,
            "fix": self.fix,
            "sources": list(self.sources),
        }


@dataclass(slots=True)
class ClaimResult:
    """Every claim read ends as exactly one ClaimResult: clean, flagged or unreadable."""

    claim_id: str | None
    file: str | None
    segment: int | None
    status: Status
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # why an unreadable claim could not be read
    st_control: str | None = None
    row: int | None = None

    @classmethod
    def unreadable(cls, issue: ParseIssue) -> "ClaimResult":
        segment = issue.claim_segment if issue.claim_segment is not None else issue.segment
        return cls(issue.claim_id, issue.file, segment, "unreadable", error=issue.message)

    @classmethod
    def for_claim(cls, claim: Claim, findings: list[Finding]) -> "ClaimResult":
        source = claim.source
        return cls(
            claim.claim_id,
            source.file,
            source.segment,
            "flagged" if findings else "clean",
            findings,
            st_control=source.st_control,
            row=source.row,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "claim_id": self.claim_id,
            "file": self.file,
            "segment": self.segment,
            "status": self.status,
            "findings": [finding.to_dict() for finding in self.findings],
        }
        if self.row is not None:
            data["row"] = self.row
        if self.error is not None:
            data["error"] = self.error
        return data


def issue_to_dict(issue: ParseIssue) -> dict[str, Any]:
    data: dict[str, Any] = {"file": issue.file, "segment": issue.segment, "claim_id": issue.claim_id}
    if issue.location:
        data["location"] = issue.location
    data["severity"] = issue.severity
    data["message"] = issue.message
    return data


def locate(claim: Claim, line: ServiceLine | None, element: str) -> int | None:
    """The segment position of ``element`` (``CLM07`` → the CLM segment) for a claim or one of its lines."""
    match = _ELEMENT.match(element)
    key = match.group(1) if match else element
    maps: list[dict[str, int]] = []
    if line is not None:
        maps.append(line.elements)
    maps += [claim.elements, claim.payer.elements, claim.subscriber.elements]
    if claim.patient is not None:
        maps.append(claim.patient.elements)
    if claim.rendering_provider is not None:
        maps.append(claim.rendering_provider.elements)
    maps += [other.elements for other in claim.other_payers]
    for elements in maps:
        if key in elements:
            return elements[key]
    return claim.source.segment


@dataclass
class Summary:
    files: int = 0
    claims: int = 0
    clean: int = 0
    flagged: int = 0
    unreadable: int = 0
    findings: int = 0
    errors: int = 0
    failed_inputs: int = 0  # input problems of severity error (a missing file, a broken envelope)
    by_severity: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})

    def add(self, result: ClaimResult) -> None:
        self.claims += 1
        if result.status == "clean":
            self.clean += 1
        elif result.status == "flagged":
            self.flagged += 1
        else:
            self.unreadable += 1
        self.findings += len(result.findings)
        for finding in result.findings:
            self.by_severity[finding.severity] = self.by_severity.get(finding.severity, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "claims": self.claims,
            "clean": self.clean,
            "flagged": self.flagged,
            "unreadable": self.unreadable,
            "findings": self.findings,
            "errors": self.errors,
            "by_severity": dict(self.by_severity),
        }

    def exit_code(self, fail_on: str = "error") -> int:
        """0 nothing at or above ``fail_on``; 1 something was; 2 nothing could be read at all."""
        if self.claims == 0 or self.claims == self.unreadable:
            return 2
        threshold = SEVERITY_RANK[fail_on]
        worst = max((SEVERITY_RANK[s] for s, n in self.by_severity.items() if n), default=-1)
        return 1 if worst >= threshold or self.unreadable or self.failed_inputs else 0

    def add_issue(self, issue: ParseIssue) -> None:
        self.errors += 1
        if issue.severity == "error" and not issue.unreadable_claim:
            self.failed_inputs += 1


@dataclass
class Report:
    """A whole batch in memory (the library's return value; the CLI streams instead)."""

    results: list[ClaimResult] = field(default_factory=list)
    errors: list[ParseIssue] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    def exit_code(self, fail_on: str = "error") -> int:
        return self.summary.exit_code(fail_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary.to_dict(),
            "claims": [result.to_dict() for result in self.results],
            "errors": [issue_to_dict(issue) for issue in self.errors],
        }

    def to_json(self, indent: int | None = 2) -> str:
        import json

        return json.dumps(self.to_dict(), indent=indent)

    # No to_sarif here: findings sit below the reporters. SARIF (and every other format) comes from
    # the reporter modules: ``scrubber.reporters.sarif.render(report, rules)``.

    @classmethod
    def collect(cls, events: Iterable[ClaimResult | ParseIssue], files: int = 0) -> "Report":
        report = cls()
        report.summary.files = files
        for event in events:
            if isinstance(event, ClaimResult):
                report.results.append(event)
                report.summary.add(event)
            else:
                report.errors.append(event)
                report.summary.add_issue(event)
        return report
