"""Findings (a rule matched a claim or line), per-claim results and the report over a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from scrubber.model import Claim, ParseIssue, ServiceLine
from scrubber.rules.spec import SEVERITY_RANK
from scrubber.x12map import ElementRow, element_map

_MAP = element_map("837p")

Status = Literal["clean", "flagged", "unreadable"]


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
    loop: str | None = None  # the element's loop (2010AA)
    segment_id: str | None = None  # the tag of the segment pointed at (NM1*85): the element's, or where it belongs
    present: bool = True  # False: the element is missing; ``segment`` is the segment it belongs after
    position: int | None = None  # the element's position in that segment (NM109 → 9), when present
    component: int | None = None  # its component (CLM05-1 → 1)
    pointer: str | None = None  # input other than X12: the model field, ``lines[0].procedure``, in the claim record

    def where(self) -> str:
        """``NM109 in NM1*85 (2010AA), segment 10`` / ``REF02 missing (REF*G1 belongs in 2300 after CLM, segment 14)``."""
        tag = f" in {self.segment_id}" if self.segment_id and self.present else ""
        loop = f" ({self.loop})" if self.loop else ""
        place = f", segment {self.segment}" if self.segment is not None else (f", field {self.pointer}" if self.pointer else "")
        if self.present:
            return f"{self.element}{tag}{loop}{place}"
        if self.position is not None:
            return f"{self.element} empty in {self.segment_id}{loop}{place}"
        anchor = f", belongs after {self.segment_id}" if self.segment_id else ""
        return f"{self.element} missing{loop}{anchor}{place}"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "rule": self.rule,
            "name": self.name,
            "carc": self.carc,
            "rarc": list(self.rarc),
            "remit_codes": list(self.remit_codes),
            "severity": self.severity,
            "line": self.line,
            "element": self.element,
            "loop": self.loop,
            "segment": self.segment,
            "segment_id": self.segment_id,
            "present": self.present,
            "message": self.message,
            "fix": self.fix,
            "sources": list(self.sources),
        }
        if self.pointer is not None:
            data["field"] = self.pointer
        return data


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
    pointer: str | None = None  # JSON pointer of the claim record (a JSON array, a FHIR Bundle entry)
    profile: str | None = None  # id of the payer profile the claim matched (None: no profile matched)

    @classmethod
    def unreadable(cls, issue: ParseIssue) -> "ClaimResult":
        segment = issue.claim_segment if issue.claim_segment is not None else issue.segment
        return cls(issue.claim_id, issue.file, segment, "unreadable", error=issue.message)

    @classmethod
    def for_claim(cls, claim: Claim, findings: list[Finding], profile: str | None = None) -> "ClaimResult":
        source = claim.source
        return cls(
            claim.claim_id,
            source.file,
            source.segment,
            "flagged" if findings else "clean",
            findings,
            st_control=source.st_control,
            row=source.row,
            pointer=source.pointer or None,
            profile=profile,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "claim_id": self.claim_id,
            "file": self.file,
            "segment": self.segment,
            "status": self.status,
            "profile": self.profile,
            "findings": [finding.to_dict() for finding in self.findings],
        }
        if self.row is not None:
            data["row"] = self.row
        if self.pointer is not None:
            data["pointer"] = self.pointer
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


@dataclass(frozen=True, slots=True)
class Location:
    """Where an element sits in a claim: its segment (X12) or its model field (other input), present or missing."""

    loop: str
    segment: int | None
    segment_id: str
    present: bool
    position: int | None
    component: int | None
    pointer: str | None


_RECORD_ANCHORS = {"claim": "claim_id"}  # the field whose segment stands for the record (CLM for the claim)


def locate(claim: Claim, line: ServiceLine | None, element: ElementRow) -> Location:
    """Where ``element`` (a row of the element map) is in ``claim``, or where it belongs when missing.

    A line-level element is looked up on ``line`` (a line finding), else on the first line holding it; an
    other payer's on the first other payer holding it. A missing element points at the first segment of
    the nearest record that exists (the line's LX, the claim's CLM), named by its own tag.
    """
    records = _records(claim, line, element)
    record, path = records[-1]
    value = getattr(record, element.field, None) if record is not None else None
    present = value is not None and value != () and value != ""
    if present:
        segment = record.elements.get(element.key) if record.elements else None
        return Location(element.loop, segment, element.segment, True, element.position, element.component,
                        _pointer(claim, path + [element.field]))
    if record is not None and record.elements and element.key in record.elements:  # the segment is there, empty
        return Location(element.loop, record.elements[element.key], element.segment, False, element.position,
                        element.component, _pointer(claim, path + [element.field]))
    for record, path in reversed(records):
        if record is not None:
            anchor = _anchor(record, path)
            if anchor is not None:
                row, segment = anchor
                return Location(element.loop, segment, row.segment, False, None, None, _pointer(claim, path))
    return Location(element.loop, claim.source.segment, "CLM", False, None, None, _pointer(claim, []))


def _records(claim: Claim, line: ServiceLine | None, element: ElementRow) -> list[tuple[Any, list[str]]]:
    """The chain of records from the claim down to the one holding ``element`` (None where one is absent)."""
    chain: list[tuple[Any, list[str]]] = [(claim, [])]
    if element.record == "claim":
        return chain
    current: Any = claim
    path: list[str] = []
    for part in element.record.split("."):
        if current is None:
            chain.append((None, path))
            continue
        name = part.removesuffix("[]")
        if part.endswith("[]"):
            items = getattr(current, name)
            if name == "lines" and line is not None:
                index = claim.lines.index(line)
            else:
                index = next(
                    (i for i, item in enumerate(items) if _holds(item, element, part == element.record.split(".")[-1])),
                    0,
                )
            current = items[index] if items else None
            path = path + [name, str(index)]
        else:
            current = getattr(current, name)
            path = path + [name]
        chain.append((current, path))
    return chain


def _holds(item: Any, element: ElementRow, last: bool) -> bool:
    if not last:
        return True
    value = getattr(item, element.field, None)
    return value is not None and value != () and value != ""


def _anchor(record: Any, path: list[str]) -> tuple[ElementRow, int | None] | None:
    """The map row and segment that stand for ``record``: its anchor field's, else its first segment."""
    elements: dict[str, int] = getattr(record, "elements", None) or {}
    kind = _record_kind(path)
    rows = _MAP.for_record(kind)
    if not rows:
        return None
    field = _RECORD_ANCHORS.get(kind)
    row = next((r for r in rows if r.field == field), None) or next((r for r in rows if r.segment.startswith("NM1")), rows[0])
    if row.key in elements:
        return row, elements[row.key]
    if elements:
        first_key = min(elements, key=elements.__getitem__)
        first = next((r for r in rows if r.key == first_key), row)
        return first, elements[first_key]
    return row, None


def _record_kind(path: list[str]) -> str:
    """``['lines', '0', 'rendering_provider']`` → ``lines[].rendering_provider``; ``[]`` → ``claim``."""
    parts: list[str] = []
    for part in path:
        if part.isdigit():
            parts[-1] += "[]"
        else:
            parts.append(part)
    return ".".join(parts) or "claim"


def _pointer(claim: Claim, path: list[str]) -> str | None:
    """The model field a finding is about, in a claim read from JSON, CSV or FHIR (``lines[0].procedure``);
    the claim's own place (JSON pointer, JSONL line, CSV row, FHIR resource) is on its result."""
    if claim.source.segment is not None:
        return None  # X12: the segment says where
    field = ""
    for part in path:
        field += f"[{part}]" if part.isdigit() else (f".{part}" if field else part)
    return field or "claim"


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
    # findings left out because the baseline records them (``Baseline.suppressed``); None: no baseline in use
    suppressed: int | None = None
    by_severity: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})
    # the reference tables the run used: name, version, source, rows (``pipeline.table_descriptions``)
    tables: list[dict[str, Any]] = field(default_factory=list)

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
        data: dict[str, Any] = {
            "files": self.files,
            "claims": self.claims,
            "clean": self.clean,
            "flagged": self.flagged,
            "unreadable": self.unreadable,
            "findings": self.findings,
            "errors": self.errors,
            "by_severity": dict(self.by_severity),
            "tables": [dict(table) for table in self.tables],
        }
        if self.suppressed is not None:  # a baseline was in use
            data["suppressed"] = self.suppressed
        return data

    def suppressed_note(self) -> str:
        """``; 3 finding(s) suppressed by the baseline`` when a baseline left findings out, else ''."""
        return f"; {self.suppressed} finding(s) suppressed by the baseline" if self.suppressed else ""

    def tables_line(self) -> str:
        """``tables: mue = payer-mue.csv, 3 rows; ncci-ptp = ncci.sqlite: ncci-ptp 2026Q2 ...``, or '' without tables."""
        if not self.tables:
            return ""
        return "tables: " + "; ".join(
            f"{t['name']} = {t['source']}" + ("" if t["version"] in t["source"] else f" ({t['version']})") + f", {t['rows']} rows"
            for t in self.tables
        )

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
    def collect(
        cls, events: Iterable[ClaimResult | ParseIssue], files: int = 0, tables: list[dict[str, Any]] | None = None
    ) -> "Report":
        report = cls()
        report.summary.files = files
        report.summary.tables = list(tables or [])
        for event in events:
            if isinstance(event, ClaimResult):
                report.results.append(event)
                report.summary.add(event)
            else:
                report.errors.append(event)
                report.summary.add_issue(event)
        return report
