"""``--format text``: for people. Flagged and unreadable claims as they come, a summary at the end."""

from __future__ import annotations

import textwrap
from typing import TextIO

from scrubber.findings import ClaimResult, Report, Summary
from scrubber.model import ParseIssue
from scrubber.reporters.positions import SpanCursor


class TextReporter:
    """``path:line:col: ...`` lines, like ruff and gcc: an editor jumps from them to the element.

    X12 lines and columns are real (a one-line file is line 1 and the element's column); JSONL input gives
    the line, CSV the row, a JSON array or FHIR Bundle the claim's JSON pointer; findings name their model field."""

    def __init__(self, out: TextIO):
        self.out = out
        self.spans = SpanCursor()

    def _where(self, file: str | None, segment: int | None, row: int | None = None,
               position: int | None = None, component: int | None = None) -> str:
        path = file or "<input>"
        span = self.spans.span(file, segment) if segment is not None else None
        if span is not None:
            line, column, _ = span.element_start(position, component) if position is not None else (
                span.start_line, span.start_column, span.offset)
            return f"{path}:{line}:{column}"
        if row is not None:
            return f"{path}:{row}"
        return path

    def claim(self, result: ClaimResult) -> None:
        if result.status == "clean":
            return
        write = self.out.write
        where = self._where(result.file, result.segment, result.row)
        if result.pointer and result.segment is None and result.row is None:
            where += f": {result.pointer}"
        if result.status == "unreadable":
            segment = f" (segment {result.segment})" if result.segment is not None else ""
            write(f"{where}: claim {result.claim_id or '?'}{segment}: unreadable: {result.error}\n")
            return
        write(f"{where}: claim {result.claim_id}: {len(result.findings)} finding(s)\n")
        for finding in result.findings:
            place = f"line {finding.line}" if finding.line is not None else "claim"
            at = self._where(result.file, finding.segment, result.row, finding.position, finding.component)
            write(f"{at}: {finding.severity} {finding.carc} {finding.rule} ({place}) [{finding.where()}]\n")
            write(textwrap.indent(textwrap.fill(finding.message, 96), "    ") + "\n")
            write(textwrap.indent(textwrap.fill(f"fix: {finding.fix}", 96), "    ") + "\n")

    def issue(self, issue: ParseIssue) -> None:
        if issue.unreadable_claim:
            return  # already shown with its claim
        where = self._where(issue.file, issue.segment, getattr(issue, "row", None))
        segment = f" (segment {issue.segment})" if issue.segment is not None else ""
        self.out.write(f"{where}: {issue.severity}{segment}: {issue.message}\n")

    def finish(self, summary: Summary) -> None:
        self.spans.close()
        s = summary
        severities = ", ".join(f"{count} {name}" for name, count in s.by_severity.items())
        self.out.write(
            f"\n{s.files} file(s), {s.claims} claim(s): {s.clean} clean, {s.flagged} flagged, "
            f"{s.unreadable} unreadable; {s.findings} finding(s) ({severities}); {s.errors} input problem(s)"
            f"{s.suppressed_note()}\n"
        )
        if s.tables:
            self.out.write(s.tables_line() + "\n")


def render(report: Report) -> str:
    from scrubber.reporters import render_with

    return render_with(TextReporter, report)
