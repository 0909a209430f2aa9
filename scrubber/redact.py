"""``--redact``: patient-identifying values become stable hashes before any reporter sees them.

What is replaced, in every output format (text, json, jsonl, sarif, junit, github):

- claim ids (CLM01) wherever they appear: the claim's ``claim_id``, inside finding messages and fixes
  (rule templates may render ``{claim_id}``), inside input-problem messages;
- the names, member ids and birth dates of the subscriber and patient, and the payer's claim number
  (REF*F8) of each claim read, wherever they appear inside a message (no bundled rule renders them today;
  a rule written later, or a reader message, might);
- every quoted input value inside an input-problem message (``CLM02 'ABC' is not a number``): such messages
  quote raw input, which may be anything, so quoted values longer than two characters are hashed.

A value becomes ``redacted:`` + the first 10 hex digits of HMAC-SHA256(key, value). The key comes from
the environment variable ``SCRUBBER_REDACT_KEY`` (hashes are then stable across runs: the same claim id
gives the same hash, so SARIF fingerprints and baselines keep matching); without it a random key is drawn
per run (hashes are consistent within one report, unlinkable across reports). File paths, rule ids,
denial codes, element names and segment positions are kept: they identify no one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from scrubber.findings import ClaimResult, Finding, Report, Summary
from scrubber.model import Claim, ParseIssue

PREFIX = "redacted:"
KEY_ENV = "SCRUBBER_REDACT_KEY"
_MAX_PENDING = 100_000  # claims read whose result has not come out yet (the pipeline batches 256)
_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")


class Redactor:
    def __init__(self, key: bytes | str | None = None):
        if isinstance(key, str):
            key = key.encode("utf-8")
        self.key = key or secrets.token_bytes(32)
        self._pending: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Redactor:
        return cls(environ.get(KEY_ENV) or None)

    def token(self, value: str) -> str:
        if value.startswith(PREFIX):
            return value  # already redacted
        digest = hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:10]

    # --- claims read: remember what identifies each one until its result comes out ---------------

    def watch(self, items: Iterable[Claim | ParseIssue]) -> Iterator[Claim | ParseIssue]:
        """Pass ``items`` through, noting the identifying values of every claim (for its result later)."""
        for item in items:
            if isinstance(item, Claim):
                self._pending[_key(item.claim_id, item.source.file, item.source.segment, item.source.row)] = (
                    identifying_values(item)
                )
                if len(self._pending) > _MAX_PENDING:
                    self._pending.popitem(last=False)
            yield item

    # --- results ----------------------------------------------------------------------------------

    def claim_result(self, result: ClaimResult) -> ClaimResult:
        values = self._pending.pop(_key(result.claim_id, result.file, result.segment, result.row), ())
        values = tuple(v for v in (result.claim_id, *values) if v)
        return replace(
            result,
            claim_id=self.token(result.claim_id) if result.claim_id else result.claim_id,
            findings=[self.finding(finding, values) for finding in result.findings],
            error=self._input_message(result.error, values) if result.error is not None else None,
        )

    def finding(self, finding: Finding, values: Iterable[str]) -> Finding:
        values = tuple(values)
        return replace(finding, message=self.text(finding.message, values), fix=self.text(finding.fix, values))

    def parse_issue(self, issue: ParseIssue) -> ParseIssue:
        values = (issue.claim_id,) if issue.claim_id else ()
        return issue.model_copy(
            update={
                "claim_id": self.token(issue.claim_id) if issue.claim_id else issue.claim_id,
                "message": self._input_message(issue.message, values),
            }
        )

    def event(self, event: ClaimResult | ParseIssue) -> ClaimResult | ParseIssue:
        return self.claim_result(event) if isinstance(event, ClaimResult) else self.parse_issue(event)

    def report(self, report: Report) -> Report:
        """A redacted copy of a whole report (library use)."""
        return Report(
            results=[self.claim_result(result) for result in report.results],
            errors=[self.parse_issue(issue) for issue in report.errors],
            summary=report.summary,
        )

    def wrap(self, reporter) -> RedactingReporter:
        return RedactingReporter(reporter, self)

    # --- text ---------------------------------------------------------------------------------------

    def text(self, text: str, values: Iterable[str]) -> str:
        """``text`` with every whole occurrence of each value (2+ characters) replaced by its token."""
        for value in sorted({v for v in values if v and len(v) >= 2 and not v.startswith(PREFIX)}, key=len, reverse=True):
            if value not in text:
                continue
            pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")
            text = pattern.sub(self.token(value), text)
        return text

    def _input_message(self, message: str, values: Iterable[str]) -> str:
        message = self.text(message, values)

        def quoted(match: re.Match) -> str:
            quote = "'" if match.group(1) is not None else '"'
            value = match.group(1) if match.group(1) is not None else match.group(2)
            if len(value) <= 2 or value.startswith(PREFIX):
                return match.group(0)  # a delimiter or a code: identifies no one
            return f"{quote}{self.token(value)}{quote}"

        return _QUOTED.sub(quoted, message)


class RedactingReporter:
    """A reporter in front of another: every claim and input problem is redacted on its way through."""

    def __init__(self, inner, redactor: Redactor):
        self.inner = inner
        self.redactor = redactor

    def claim(self, result: ClaimResult) -> None:
        self.inner.claim(self.redactor.claim_result(result))

    def issue(self, issue: ParseIssue) -> None:
        self.inner.issue(self.redactor.parse_issue(issue))

    def finish(self, summary: Summary) -> None:
        self.inner.finish(summary)


def identifying_values(claim: Claim) -> tuple[str, ...]:
    """The values of ``claim`` that identify a patient: claim id, names, member ids, birth dates, REF*F8."""
    values = [claim.claim_id, claim.payer_claim_number]
    for party in (claim.subscriber, claim.patient):
        if party is None:
            continue
        values += [party.last_name, party.first_name, party.member_id]
        if party.birth_date is not None:
            values += [party.birth_date.strftime("%Y%m%d"), party.birth_date.isoformat()]
    return tuple(value for value in values if value)


def _key(claim_id: str | None, file: str | None, segment: int | None, row: int | None) -> tuple:
    return (claim_id, file, segment, row)


