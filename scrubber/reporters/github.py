"""``--format github``: GitHub Actions workflow-command annotations, plus the full table in the job summary.

GitHub shows at most 10 error and 10 warning annotations per step (and 10 notices): the first 10 of
each level are printed, in input order, as

    ::error file=batch.837,line=20,endLine=20,col=1,endColumn=28,title=CO-111 unassigned-...::Claim A1, line 2 (CLM07): ...

(severity error → ``::error``, warning → ``::warning``, info → ``::notice``; input problems as
``::error``/``::warning`` titled ``input-error``). The position is the finding's segment, so annotations
land on the right column of single-line X12 files. Messages escape ``%``, CR and LF; properties also
escape ``:`` and ``,`` (as GitHub's toolkit does).

When ``$GITHUB_STEP_SUMMARY`` is set, a markdown section is appended to that file: a summary line and a
table of *every* finding and input problem (cut, with a note, before GitHub's 1 MiB limit per step). The
rows wait in a temporary file (spilling to disk past 1 MiB), so memory stays flat on big batches.
Standard output ends with the summary line and how many annotations were left out.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any, TextIO

from scrubber.findings import ClaimResult, Report, Summary
from scrubber.model import ParseIssue
from scrubber.reporters.positions import display_path, resolve

LIMIT = 10  # annotations per level and step that GitHub displays
SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub accepts per step summary
_SUMMARY_MARGIN = 16 * 1024  # room for the heading, summary line and the truncation note
LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
INPUT_RULE = "input-error"
TABLE_HEAD = "| severity | file | segment | claim | line | denial | rule | element | message |\n|---|---|---|---|---|---|---|---|---|\n"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = html.escape(str(value), quote=False).replace("|", "\\|")
    return text.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def summary_line(summary: Summary) -> str:
    s = summary
    severities = ", ".join(f"{count} {name}" for name, count in s.by_severity.items())
    return (
        f"{s.files} file(s), {s.claims} claim(s): {s.clean} clean, {s.flagged} flagged, {s.unreadable} unreadable; "
        f"{s.findings} finding(s) ({severities}); {s.errors} input problem(s)"
    ) + s.suppressed_note() + (f"; {s.tables_line()}" if s.tables else "")


class GithubReporter:
    def __init__(self, out: TextIO, environ: Mapping[str, str] | None = None):
        self.out = out
        environ = os.environ if environ is None else environ
        self.summary_path = environ.get("GITHUB_STEP_SUMMARY") or None
        self.annotations: dict[str, list[dict[str, Any]]] = {"error": [], "warning": [], "notice": []}
        self.left_out: dict[str, int] = {"error": 0, "warning": 0, "notice": 0}
        self.rows = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8") if self.summary_path else None
        self.rows_bytes = 0
        self.rows_left_out = 0

    # --- events -----------------------------------------------------------------------------------

    def claim(self, result: ClaimResult) -> None:
        if result.status == "unreadable":
            return  # reported by its input problem
        for finding in result.findings:
            place = f", line {finding.line}" if finding.line is not None else ""
            self._annotate(
                LEVELS.get(finding.severity, "warning"),
                file=result.file,
                segment=finding.segment,
                element=(finding.position, finding.component) if finding.position is not None else None,
                title=f"{finding.carc} {finding.rule}",
                message=f"Claim {result.claim_id}{place} ({finding.where()}): "
                f"{finding.message}\nFix: {finding.fix}",
            )
            self._row(
                finding.severity, result.file, finding.segment, result.claim_id, finding.line,
                finding.carc, finding.rule, finding.element, finding.message,
            )

    def issue(self, issue: ParseIssue) -> None:
        level = "warning" if issue.severity == "warning" else "error"
        claim = f", claim {issue.claim_id}" if issue.claim_id else ""
        self._annotate(
            level,
            file=issue.file,
            segment=issue.segment,
            title=INPUT_RULE,
            message=f"{issue.where()}{claim}: {issue.message}",
        )
        self._row(issue.severity, issue.file, issue.segment, issue.claim_id, None, "", INPUT_RULE, issue.location, issue.message)

    def _annotate(self, level: str, **annotation: Any) -> None:
        if len(self.annotations[level]) < LIMIT:
            self.annotations[level].append(annotation)
        else:
            self.left_out[level] += 1

    def _row(self, severity, file, segment, claim, line, carc, rule, element, message) -> None:
        if self.rows is None:
            return
        row = "| " + " | ".join(
            _cell(value) for value in (severity, display_path(file), segment, claim, line, carc, f"`{rule}`", element, message)
        ) + " |\n"
        size = len(row.encode("utf-8"))
        if self.rows_left_out or self.rows_bytes + size > SUMMARY_LIMIT - _SUMMARY_MARGIN:
            self.rows_left_out += 1
            return
        self.rows.write(row)
        self.rows_bytes += size

    # --- output -------------------------------------------------------------------------------------

    def finish(self, summary: Summary) -> None:
        pending = [a for level in ("error", "warning", "notice") for a in self.annotations[level]]
        requests: dict[str | None, set[int]] = {}
        for annotation in pending:
            if annotation["segment"] is not None:
                requests.setdefault(annotation["file"], set()).add(annotation["segment"])
        spans = resolve(requests)
        for level in ("error", "warning", "notice"):
            for annotation in self.annotations[level]:
                self.out.write(self._command(level, annotation, spans) + "\n")
        line = summary_line(summary)
        self.out.write(f"claim-scrubber: {line}\n")
        left = sum(self.left_out.values())
        if left:
            detail = ", ".join(f"{count} {level}" for level, count in self.left_out.items() if count)
            where = "the job summary" if self.summary_path else "--format sarif or json"
            self.out.write(
                f"claim-scrubber: {left} more annotation(s) not shown ({detail}): GitHub shows {LIMIT} per level "
                f"and step; see {where} for all of them\n"
            )
        if self.summary_path:
            self._write_summary(line)

    def _command(self, level: str, annotation: dict[str, Any], spans) -> str:
        properties: list[tuple[str, str]] = []
        file = display_path(annotation["file"])
        if file:
            properties.append(("file", file))
        span = spans.get((annotation["file"], annotation["segment"])) if annotation["segment"] is not None else None
        element = annotation.get("element")
        if span is not None and element is not None and span.start_line == span.end_line:
            region = span.element_region(*element)  # the element the rule tested
            properties += [("line", str(region["startLine"])), ("endLine", str(region["endLine"])),
                           ("col", str(region["startColumn"])), ("endColumn", str(region["endColumn"]))]
        elif span is not None:
            properties += [("line", str(span.start_line)), ("endLine", str(span.end_line))]
            if span.start_line == span.end_line:  # GitHub uses columns on single-line annotations only
                properties += [("col", str(span.start_column)), ("endColumn", str(span.end_column))]
        elif file:
            properties.append(("line", "1"))
        properties.append(("title", annotation["title"]))
        props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
        return f"::{level} {props}::{escape_data(annotation['message'])}"

    def _write_summary(self, line: str) -> None:
        with open(self.summary_path, "a", encoding="utf-8") as summary:
            summary.write(f"### claim-scrubber\n\n{_cell(line)}\n\n")
            if self.rows_bytes or self.rows_left_out:
                summary.write(TABLE_HEAD)
                self.rows.seek(0)
                shutil.copyfileobj(self.rows, summary)
                if self.rows_left_out:
                    summary.write(
                        f"\n{self.rows_left_out} more row(s) not listed: GitHub limits a step summary to 1 MiB; "
                        "use `--format sarif` or `--format json` for the complete list.\n"
                    )
            else:
                summary.write("No findings and no input problems.\n")
            summary.write("\n")
        self.rows.close()


def render(report: Report, environ: Mapping[str, str] | None = None) -> str:
    """The annotations and summary line; the step summary is written only if ``environ`` names the file."""
    from scrubber.reporters import render_with

    return render_with(GithubReporter, report, environ=environ if environ is not None else {})
