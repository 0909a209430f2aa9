"""Baselines: record today's findings, then report only new ones.

A finding is identified by its claim id and rule (not by file, segment or order, so re-sorting or
re-batching claims does not resurface old findings). The file stores a hash of each key, never
the claim id itself: claim ids are patient identifiers and a baseline is meant to be committed.
Findings repeated on one claim (a rule on two lines) are counted, so a third occurrence is new.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

from scrubber.errors import ScrubberUserError
from scrubber.findings import ClaimResult, Finding

VERSION = 1


def finding_key(claim_id: str | None, finding: Finding) -> str:
    return hashlib.sha256(f"{claim_id or ''}\x1f{finding.rule}".encode()).hexdigest()[:24]


class BaselineError(ScrubberUserError):
    pass


class Baseline:
    def __init__(self, counts: Counter[str]):
        self._remaining = Counter(counts)

    @classmethod
    def load(cls, path: str | Path) -> "Baseline":
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
            if document.get("version") != VERSION:
                raise BaselineError(f"{path}: not a scrubber baseline (version {document.get('version')!r})")
            return cls(Counter(document["findings"]))
        except (OSError, ValueError, KeyError, AttributeError) as error:
            if isinstance(error, BaselineError):
                raise
            raise BaselineError(f"{path}: cannot read baseline: {error}") from None

    def filter(self, result: ClaimResult, claim_id: str | None = None) -> ClaimResult:
        """The result without findings already in the baseline (a claim left without any is clean).

        ``claim_id``: the claim id as read, when ``result`` carries a redacted one.
        """
        if not result.findings:
            return result
        kept = []
        for finding in result.findings:
            key = finding_key(claim_id or result.claim_id, finding)
            if self._remaining[key] > 0:
                self._remaining[key] -= 1
            else:
                kept.append(finding)
        if len(kept) == len(result.findings):
            return result
        return replace(result, findings=kept, status="flagged" if kept else "clean")


class BaselineWriter:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, result: ClaimResult, claim_id: str | None = None) -> None:
        for finding in result.findings:
            self.counts[finding_key(claim_id or result.claim_id, finding)] += 1

    def write(self, path: str | Path) -> None:
        document = {"version": VERSION, "findings": dict(sorted(self.counts.items()))}
        Path(path).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
