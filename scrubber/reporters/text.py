"""``--format text``: for people. Flagged and unreadable claims as they come, a summary at the end."""

from __future__ import annotations

import textwrap
from typing import TextIO

from scrubber.findings import ClaimResult, Report, Summary
from scrubber.model import ParseIssue


def _where(file: str | None, segment: int | None) -> str:
    return f"{file or '<input>'}" + (f":{segment}" if segment is not None else "")


class TextReporter:
    def __init__(self, out: TextIO):
        self.out = out

    def claim(self, result: ClaimResult) -> None:
        if result.status == "clean":
            return
        write = self.out.write
        if result.status == "unreadable":
            write(f"{_where(result.file, result.segment)}: claim {result.claim_id or '?'}: unreadable: {result.error}\n")
            return
        write(f"{_where(result.file, result.segment)}: claim {result.claim_id}: {len(result.findings)} finding(s)\n")
        for finding in result.findings:
            place = f"line {finding.line}" if finding.line is not None else "claim"
            write(f"  {place:<8} {finding.severity:<7} {finding.carc:<7} {finding.rule}  [{finding.element}, segment {finding.segment}]\n")
            write(textwrap.indent(textwrap.fill(finding.message, 96), "           ") + "\n")
            write(textwrap.indent(textwrap.fill(f"fix: {finding.fix}", 96), "           ") + "\n")

    def issue(self, issue: ParseIssue) -> None:
        if issue.unreadable_claim:
            return  # already shown with its claim
        where = _where(issue.file, issue.segment)
        self.out.write(f"{where}: {issue.severity}: {issue.message}\n")

    def finish(self, summary: Summary) -> None:
        s = summary
        severities = ", ".join(f"{count} {name}" for name, count in s.by_severity.items())
        self.out.write(
            f"\n{s.files} file(s), {s.claims} claim(s): {s.clean} clean, {s.flagged} flagged, "
            f"{s.unreadable} unreadable; {s.findings} finding(s) ({severities}); {s.errors} input problem(s)\n"
        )


def render(report: Report) -> str:
    from scrubber.reporters import render_with

    return render_with(TextReporter, report)
