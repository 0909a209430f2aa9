"""``--format jsonl``: one JSON object per line, written as the batch is read, for batches of any size.

Every line has a ``type``:

- ``{"type": "claim", ...}``: one per claim read, the same object as in ``--format json``'s ``claims``
  (``claim_id``, ``file``, ``segment``, ``status``, ``findings``, and ``error`` for unreadable claims);
- ``{"type": "error", ...}``: one per input problem, the same object as in ``--format json``'s ``errors``
  (an unreadable claim has both its claim line and its error line, as in ``--format json``);
- ``{"type": "summary", ...}``: the last line, the same object as ``--format json``'s ``summary``.

A reader can act on each line as it comes (``jq -c 'select(.type == "claim" and .status != "clean")'``);
a file without a summary line was cut short.
"""

from __future__ import annotations

import json
from typing import TextIO

from scrubber.findings import ClaimResult, Report, Summary, issue_to_dict
from scrubber.model import ParseIssue


class JsonlReporter:
    def __init__(self, out: TextIO):
        self.out = out

    def _line(self, kind: str, data: dict) -> None:
        self.out.write(json.dumps({"type": kind, **data}) + "\n")

    def claim(self, result: ClaimResult) -> None:
        self._line("claim", result.to_dict())

    def issue(self, issue: ParseIssue) -> None:
        self._line("error", issue_to_dict(issue))

    def finish(self, summary: Summary) -> None:
        self._line("summary", summary.to_dict())
        self.out.flush()


def render(report: Report) -> str:
    from scrubber.reporters import render_with

    return render_with(JsonlReporter, report)
