"""``--redact``: patient-identifying values become stable hashes before any reporter sees them.

What is replaced, in every output format (text, json, jsonl, sarif, junit, github):

- claim ids (CLM01) wherever they appear: the claim's ``claim_id``, inside finding messages and fixes
  (rule templates may render ``{claim_id}``), inside input-problem messages;
- the names, member ids and birth dates of the subscriber and patient, and the payer's claim number
  (REF*F8) of each claim read, wherever they appear inside any message, whatever surrounds them (quotes,
  parentheses, nothing: pyx12 writes ``invalid date (1947-11-23)`` and ``Segment zz ZZNAME ZZID``),
  matched as written (case counts: a name that is also a word, MAY, must not leave every sentence); a
  birth date in every usual form (19471123, 1947-11-23, 11/23/1947, 11-23-1947, 1947/11/23, 11231947,
  11/23/47...). The values learned from every claim read so far (up to
  ``_MAX_KNOWN``) are hashed in every later message too, input problems included; callers that read
  more than the claim model holds (addresses in raw X12, patient names on an 835) add them with
  ``learn`` (``x12_identifying_values`` collects them from raw X12);
- every quoted input value inside an input-problem message (``CLM02 'ABC' is not a number``): such messages
  quote raw input, which may be anything, so quoted values longer than two characters are hashed;
- FHIR references inside an input-problem message (``#pat-smith``, ``Patient/smith-1947``): the id is hashed,
  the resource type kept (a reference id is chosen by the sender and may be built from a name).

A value becomes ``redacted:`` + the first 10 hex digits of HMAC-SHA256(key, value). The key comes from
the environment variable ``SCRUBBER_REDACT_KEY`` (hashes are then stable across runs: the same claim id
gives the same hash, so SARIF fingerprints and baselines keep matching); without it a random key is drawn
per run (hashes are consistent within one report, unlinkable across reports). File paths, rule ids,
denial codes, element names and segment positions are kept: they identify no one.

``remit``, ``backtest`` and ``report --html`` redact their data before rendering it (``redact_remits``,
``redact_backtest``): CLP01, CLP07, PLB references, the claims' ids, names, member ids and REF*F8 (birth
dates dropped), and every message with the values of both sides' raw X12 (NM1*QC/IL names and ids...).
"""

from __future__ import annotations

import datetime as dt
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
_MAX_KNOWN = 500_000  # values learned from the claims read (oldest forgotten first)
_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
_WORD = re.compile(r"[A-Za-z0-9]+")
# A FHIR reference: ``#id`` (contained) or ``Type/id`` (in a Bundle, or the tail of an absolute URL).
_FHIR_REFERENCE = re.compile(r"(?<![A-Za-z0-9_#/])(#|(?:[A-Z][a-z][A-Za-z]{1,40})/)([A-Za-z0-9\-.:]{2,64})")


class Redactor:
    def __init__(self, key: bytes | str | None = None):
        if isinstance(key, str):
            key = key.encode("utf-8")
        self.key = key or secrets.token_bytes(32)
        self._pending: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()
        self._known = _Vocabulary(_MAX_KNOWN)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Redactor:
        return cls(environ.get(KEY_ENV) or None)

    def token(self, value: str) -> str:
        if value.startswith(PREFIX):
            return value  # already redacted
        digest = hmac.new(self.key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:10]

    # --- claims read: remember what identifies each one until its result comes out ---------------

    def learn(self, values: Iterable[str | None]) -> None:
        """Hash these values wherever they appear in any message from now on (identifying values read
        outside the claim model: an address in raw X12, a patient name on an 835)."""
        for value in values:
            if value:
                self._known.add(value)

    def watch(self, items: Iterable[Claim | ParseIssue]) -> Iterator[Claim | ParseIssue]:
        """Pass ``items`` through, noting the identifying values of every claim (for its result later)."""
        for item in items:
            if isinstance(item, Claim):
                values = identifying_values(item)
                self._pending[_key(item.claim_id, item.source.file, item.source.segment, item.source.row)] = values
                self.learn(values)
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

    def text(self, text: str, values: Iterable[str] = ()) -> str:
        """``text`` with every whole occurrence of each value (2+ characters), and of every value learned so
        far, replaced by its token. Case counts: messages echo input values as they were read, and a name
        that is also a word (MAY, WILL) must not take that word out of every sentence."""
        if not text:
            return text
        candidates = {v for v in values if v and len(v) >= 2 and not v.startswith(PREFIX) and v in text}
        candidates |= self._known.candidates(text)
        for value in sorted(candidates, key=lambda v: (-len(v), v)):
            if value not in text:
                continue
            pattern = re.compile(rf"(?<![A-Za-z0-9:]){re.escape(value)}(?![A-Za-z0-9])")
            text = pattern.sub(self.token(value), text)
        return text

    def free_text(self, text: str, values: Iterable[str] = ()) -> str:
        """Text that may quote raw input (an input problem, a validator's message): known values, quoted
        values and FHIR reference ids hashed."""
        return self._input_message(text, values)

    def _input_message(self, message: str, values: Iterable[str]) -> str:
        if not message:
            return message
        message = self.text(message, values)
        message = _FHIR_REFERENCE.sub(
            lambda match: match.group(1) + (match.group(2) if match.group(2).startswith(PREFIX) else self.token(match.group(2))),
            message,
        )

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
    """The values of ``claim`` that identify a patient: claim id, names, member ids, birth dates (every
    usual form), REF*F8."""
    values = [claim.claim_id, claim.payer_claim_number]
    for party in (claim.subscriber, claim.patient):
        if party is None:
            continue
        values += [party.last_name, party.first_name, party.member_id]
        if party.birth_date is not None:
            values += date_forms(party.birth_date)
    return tuple(dict.fromkeys(value for value in values if value))


def date_forms(date: dt.date) -> list[str]:
    """The ways a date is written in claims, reports and messages: 19471123, 1947-11-23, 11/23/1947, ..."""
    y, m, d = f"{date.year:04d}", f"{date.month:02d}", f"{date.day:02d}"
    short_m, short_d, yy = str(date.month), str(date.day), y[2:]
    forms = [
        y + m + d, f"{y}-{m}-{d}", f"{m}/{d}/{y}", f"{m}-{d}-{y}", f"{y}/{m}/{d}", m + d + y, f"{d}/{m}/{y}",
        f"{d}.{m}.{y}", f"{short_m}/{short_d}/{y}", f"{m}/{d}/{yy}", f"{short_m}/{short_d}/{yy}", f"{y}.{m}.{d}",
    ]
    return list(dict.fromkeys(forms))


# Raw X12 (837P and 835): the segments whose values identify a patient.
_PERSON_ENTITIES = {"IL", "QC", "74", "QD"}  # insured/subscriber, patient, corrected patient, responsible party
_PERSON_REFS = {"F8", "SY", "1W", "EA", "IG", "Y4", "G1", "9F"}


def x12_identifying_values(data: bytes) -> set[str]:
    """Every value in raw X12 that identifies a patient: NM1 of a subscriber, patient or responsible party
    (names, id) and the N3/N4 address and DMG birth date after it, CLM01 / CLP01 / CLP07, and REF ids
    (F8 payer claim number, SY social security number, 1W member id, EA medical record, ...). Read by our own
    tokenizer, so an unknown segment stops nothing."""
    import datetime as _dt
    import io

    from scrubber.readers.x12_tokens import Segment, X12SyntaxError, iter_segments

    values: set[str] = set()
    person = False
    try:
        for segment in iter_segments(io.BytesIO(data)):
            if not isinstance(segment, Segment):
                continue
            kind = segment.id
            if kind == "NM1":
                person = segment.get(1) in _PERSON_ENTITIES
                if person:
                    values.update(segment.get(position) for position in (3, 4, 5, 9))
            elif kind in ("N3", "N4") and person:
                values.update(segment.get(position) for position in ((1, 2) if kind == "N3" else (1, 3)))
            elif kind == "DMG" and person:
                raw = segment.get(2)
                values.add(raw)
                try:
                    values.update(date_forms(_dt.datetime.strptime(raw, "%Y%m%d").date()))
                except ValueError:
                    pass
            elif kind == "CLM":
                values.add(segment.get(1))
                person = False
            elif kind == "CLP":
                values.update((segment.get(1), segment.get(7)))
                person = False
            elif kind == "REF" and segment.get(1) in _PERSON_REFS:
                values.add(segment.get(2))
            elif kind in ("HL", "LX", "SBR", "SVC", "SV1"):
                person = False
    except X12SyntaxError:
        pass
    return {value.strip() for value in values if value and len(value.strip()) >= 2}


class _Vocabulary:
    """Values to hash in any text, found by their first word (so a text is checked against the words it holds,
    not against every value), the oldest forgotten past ``limit``."""

    def __init__(self, limit: int):
        self.limit = limit
        self._values: OrderedDict[str, str] = OrderedDict()  # value -> its first word
        self._by_word: dict[str, set[str]] = {}  # first word -> values

    def add(self, value: str) -> None:
        value = value.strip()
        if len(value) < 2 or value.startswith(PREFIX) or value in self._values:
            return
        first = _WORD.search(value)
        if first is None:
            return
        word = first.group(0)
        self._values[value] = word
        self._by_word.setdefault(word, set()).add(value)
        if len(self._values) > self.limit:
            old, old_word = self._values.popitem(last=False)
            bucket = self._by_word.get(old_word)
            if bucket is not None:
                bucket.discard(old)
                if not bucket:
                    del self._by_word[old_word]

    def candidates(self, text: str) -> set[str]:
        """The values that occur in ``text``, whole or not."""
        if not self._values:
            return set()
        found: set[str] = set()
        for word in {match.group(0) for match in _WORD.finditer(text)}:
            bucket = self._by_word.get(word)
            if bucket:
                found.update(value for value in bucket if value in text)
        return found

    def __len__(self) -> int:
        return len(self._values)


def _key(claim_id: str | None, file: str | None, segment: int | None, row: int | None) -> tuple:
    return (claim_id, file, segment, row)




# --- remittances and backtests (``scrubber remit / backtest / report --redact``) ----------------------


def _learn_files(redactor: Redactor, files: Iterable) -> None:
    from pathlib import Path

    for file in files:
        try:
            data = Path(file).read_bytes()
        except OSError:
            continue
        if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] == b"ISA":
            redactor.learn(x12_identifying_values(data))


def payment_values(payment) -> tuple[str, ...]:
    """CLP01 (the claim id) and CLP07 (the payer's claim number) of a claim payment."""
    return tuple(value for value in (payment.claim_id, payment.payer_claim_number) if value)


def redact_payment(redactor: Redactor, payment):
    """A copy of an 835 ``ClaimPayment`` with CLP01 and CLP07 hashed."""
    return payment.model_copy(
        update={
            "claim_id": redactor.token(payment.claim_id),
            "payer_claim_number": redactor.token(payment.payer_claim_number) if payment.payer_claim_number else None,
        }
    )


def redact_claim(redactor: Redactor, claim: Claim) -> Claim:
    """A copy of a claim with its claim id, REF*F8, names and member ids hashed and birth dates dropped."""
    parties = {}
    for name in ("subscriber", "patient"):
        party = getattr(claim, name)
        if party is not None:
            parties[name] = party.model_copy(
                update={
                    field: redactor.token(getattr(party, field)) if getattr(party, field) else getattr(party, field)
                    for field in ("last_name", "first_name", "member_id")
                }
                | {"birth_date": None}
            )
    return claim.model_copy(
        update={
            "claim_id": redactor.token(claim.claim_id),
            "payer_claim_number": redactor.token(claim.payer_claim_number) if claim.payer_claim_number else None,
            **parties,
        }
    )


def redact_remits(redactor: Redactor, batch):
    """A copy of a ``RemitBatch`` with every identifying value hashed: CLP01, CLP07, PLB references, and
    (in input-problem messages) everything the 835 files name a patient with (NM1*QC, NM1*IL...)."""
    from scrubber.remit.load import RemitBatch

    _learn_files(redactor, batch.files)
    for payment in batch.payments:
        redactor.learn(payment_values(payment))
    remittances = [
        remittance.model_copy(
            update={
                "provider_adjustments": tuple(
                    plb.model_copy(update={"reference": redactor.token(plb.reference) if plb.reference else plb.reference})
                    for plb in remittance.provider_adjustments
                )
            }
        )
        for remittance in batch.remittances
    ]
    return RemitBatch(
        files=list(batch.files),
        payments=[redact_payment(redactor, payment) for payment in batch.payments],
        remittances=remittances,
        issues=[redactor.parse_issue(issue) for issue in batch.issues],
    )


def redact_backtest(redactor: Redactor, result):
    """A copy of a ``Backtest`` with every identifying value of the claims and payments hashed (the
    statistics are computed before, on the values as read, and do not change)."""
    from scrubber.remit.backtest import Backtest, ScrubbedClaims
    from scrubber.remit.match import MatchResult

    _learn_files(redactor, result.claims.files)
    for claim in result.claims.claims:
        redactor.learn(identifying_values(claim))
    remits = redact_remits(redactor, result.remits)
    claims: dict[int, Claim] = {id(claim): redact_claim(redactor, claim) for claim in result.claims.claims}
    payments = {id(old): new for old, new in zip(result.remits.payments, remits.payments)}

    def claim_of(claim: Claim) -> Claim:
        return claims.get(id(claim)) or claims.setdefault(id(claim), redact_claim(redactor, claim))

    def payment_of(payment):
        return payments.get(id(payment)) or payments.setdefault(id(payment), redact_payment(redactor, payment))

    scrubbed = ScrubbedClaims(
        files=list(result.claims.files),
        claims=[claims[id(claim)] for claim in result.claims.claims],
        findings=[
            [redactor.finding(finding, identifying_values(claim)) for finding in found]
            for claim, found in zip(result.claims.claims, result.claims.findings)
        ],
        issues=[redactor.parse_issue(issue) for issue in result.claims.issues],
    )
    matching = result.matching
    matches = [
        replace(
            claim_match,
            claim=claim_of(claim_match.claim),
            payments=[payment_of(p) for p in claim_match.payments],
            effective=[payment_of(p) for p in claim_match.effective],
            reversed=[(payment_of(a), payment_of(b)) for a, b in claim_match.reversed],
            orphan_reversals=[payment_of(p) for p in claim_match.orphan_reversals],
            lines=[replace(line, payment=payment_of(line.payment)) for line in claim_match.lines],
        )
        for claim_match in matching.matches
    ]
    redacted_matching = MatchResult(
        matches,
        [claim_of(claim) for claim in matching.unmatched_claims],
        [payment_of(payment) for payment in matching.unmatched_payments],
        [redactor.free_text(note) for note in matching.notes],
    )
    flagged = {id(claims[key]) if key in claims else key: rules for key, rules in result.flagged_rules.items()}
    return Backtest(result.codes, result.rules, redacted_matching, scrubbed, remits, flagged)
