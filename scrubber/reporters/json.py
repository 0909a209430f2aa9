"""``--format json``: one JSON document, streamed claim by claim.

Shape: ``{"claims": [...], "errors": [...], "summary": {...}}``. The summary comes last because it is
known only at the end; JSON objects are unordered, so readers index it by key.
"""

from __future__ import annotations

import json
from typing import TextIO

from scrubber.findings import ClaimResult, Report, Summary, issue_to_dict
from scrubber.model import ParseIssue


class JsonReporter:
    def __init__(self, out: TextIO):
        self.out = out
        self.errors: list[dict] = []  # input problems are few; claims stream straight out
        self.first = True
        out.write('{"claims": [')

    def claim(self, result: ClaimResult) -> None:
        self.out.write("\n  " if self.first else ",\n  ")
        self.first = False
        self.out.write(json.dumps(result.to_dict()))

    def issue(self, issue: ParseIssue) -> None:
        self.errors.append(issue_to_dict(issue))

    def finish(self, summary: Summary) -> None:
        self.out.write("\n],\n")
        self.out.write('"errors": ' + json.dumps(self.errors, indent=1) + ",\n")
        self.out.write('"summary": ' + json.dumps(summary.to_dict()) + "\n}\n")


def render(report: Report) -> str:
    from scrubber.reporters import render_with

    return render_with(JsonReporter, report)
