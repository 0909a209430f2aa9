"""Match 835 claim payments to the 837 claims they pay, and service lines to service lines.

Claims: 835 CLP01 is the 837 CLM01 the provider sent. When several claims share a CLM01, each payment
goes to the claim whose dates of service overlap its own (DTM*472 on the lines, else DTM*232/233) and
whose total charge (CLM02) equals CLP03; date counts before charge. A tie left after both is resolved
in favour of a claim that has no payment yet, and the match is marked ambiguous.

Reversals: a CLP02 22 payment takes back an earlier payment of the same claim (same CLP07 payer claim
number when both have one, and the negated charge). Both are then out of the claim's *effective*
payments; a corrected payment that follows stays in. A reversal whose original is not in the input is
kept as an orphan, outside the effective payments. ``net_paid`` adds up everything, reversals included.

Lines: by REF*6R (line item control number) when it equals the 837 line's number (LX01, which is what
a submitter that sends REF*6R usually puts there) and the procedure agrees; else by procedure code
(SVC06 when the payer changed the code, else SVC01) + date of service + charge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from scrubber.model import Claim, ServiceLine
from scrubber.model.remit import ClaimPayment, ServicePayment


@dataclass
class LineMatch:
    payment: ClaimPayment
    line: ServicePayment
    claim_line: ServiceLine | None
    by: str | None  # "REF*6R", "procedure+date+charge", or None when unmatched


@dataclass
class ClaimMatch:
    claim: Claim
    payments: list[ClaimPayment] = field(default_factory=list)  # every payment of this claim, in input order
    effective: list[ClaimPayment] = field(default_factory=list)  # neither reversed nor reversals
    reversed: list[tuple[ClaimPayment, ClaimPayment]] = field(default_factory=list)  # (original, reversal)
    orphan_reversals: list[ClaimPayment] = field(default_factory=list)
    lines: list[LineMatch] = field(default_factory=list)  # lines of the effective payments
    ambiguous: bool = False

    @property
    def net_paid(self) -> Decimal:
        return sum((payment.paid for payment in self.payments), Decimal(0))

    @property
    def unmatched_lines(self) -> list[LineMatch]:
        return [match for match in self.lines if match.claim_line is None]


@dataclass
class MatchResult:
    matches: list[ClaimMatch]  # claims that received at least one payment, in claim order
    unmatched_claims: list[Claim]
    unmatched_payments: list[ClaimPayment]
    notes: list[str] = field(default_factory=list)


def _claim_dates(claim: Claim) -> set[dt.date]:
    return {line.service_date for line in claim.lines if line.service_date is not None}


def _dates_overlap(payment: ClaimPayment, claim: Claim) -> bool:
    claim_dates = _claim_dates(claim)
    line_dates = {line.service_date for line in payment.lines if line.service_date is not None}
    if line_dates:
        return bool(line_dates & claim_dates)
    if payment.statement_from is not None:
        end = payment.statement_to or payment.statement_from
        return any(payment.statement_from <= date <= end for date in claim_dates)
    return False


def _score(payment: ClaimPayment, claim: Claim) -> tuple[bool, bool]:
    return (_dates_overlap(payment, claim), abs(payment.charge) == claim.total_charge)


def match(claims: Iterable[Claim], payments: Iterable[ClaimPayment]) -> MatchResult:
    claims = list(claims)
    by_id: dict[str, list[int]] = {}
    for position, claim in enumerate(claims):
        by_id.setdefault(claim.claim_id, []).append(position)
    assigned: dict[int, ClaimMatch] = {}
    unmatched_payments: list[ClaimPayment] = []
    notes: list[str] = []
    ambiguous: set[int] = set()
    for payment in payments:
        candidates = by_id.get(payment.claim_id)
        if not candidates:
            unmatched_payments.append(payment)
            continue
        chosen = candidates[0]
        if len(candidates) > 1:
            scores = {position: _score(payment, claims[position]) for position in candidates}
            best = max(scores.values())
            tied = [position for position in candidates if scores[position] == best]
            fresh = [position for position in tied if position not in assigned]
            chosen = (fresh or tied)[0]
            if len(tied) > 1:
                ambiguous.add(chosen)
                notes.append(
                    f"{payment.source.file}, segment {payment.source.segment}: CLP01 {payment.claim_id!r} fits "
                    f"{len(tied)} claims equally well (same id, dates and charge); matched to the one at segment "
                    f"{claims[chosen].source.segment}"
                )
        claim_match = assigned.setdefault(chosen, ClaimMatch(claims[chosen]))
        claim_match.payments.append(payment)
    for position, claim_match in assigned.items():
        claim_match.ambiguous = position in ambiguous
        claim_match.effective, claim_match.reversed, claim_match.orphan_reversals = net_reversals(claim_match.payments)
        for reversal in claim_match.orphan_reversals:
            notes.append(
                f"{reversal.source.file}, segment {reversal.source.segment}: reversal of claim "
                f"{reversal.claim_id!r} has no original payment in the input"
            )
        claim_match.lines = [
            line_match for payment in claim_match.effective for line_match in match_lines(payment, claim_match.claim)
        ]
    matches = [assigned[position] for position in sorted(assigned)]
    unmatched_claims = [claim for position, claim in enumerate(claims) if position not in assigned]
    return MatchResult(matches, unmatched_claims, unmatched_payments, notes)


def net_reversals(
    payments: list[ClaimPayment],
) -> tuple[list[ClaimPayment], list[tuple[ClaimPayment, ClaimPayment]], list[ClaimPayment]]:
    """Split one claim's payments into (effective, [(original, reversal)], orphan reversals)."""
    cancelled: set[int] = set()
    pairs: list[tuple[ClaimPayment, ClaimPayment]] = []
    orphans: list[ClaimPayment] = []
    for position, reversal in enumerate(payments):
        if not reversal.is_reversal:
            continue
        candidates = [
            index
            for index, original in enumerate(payments)
            if not original.is_reversal
            and index not in cancelled
            and original.charge == -reversal.charge
            and (
                reversal.payer_claim_number is None
                or original.payer_claim_number is None
                or original.payer_claim_number == reversal.payer_claim_number
            )
        ]
        # The latest original before the reversal, else the first one after it (files given out of order).
        before = [index for index in candidates if index < position]
        original_index = before[-1] if before else (candidates[0] if candidates else None)
        if original_index is None:
            orphans.append(reversal)
            continue
        cancelled.add(original_index)
        pairs.append((payments[original_index], reversal))
    effective = [payment for index, payment in enumerate(payments) if not payment.is_reversal and index not in cancelled]
    return effective, pairs, orphans


def effective_payments(payments: Iterable[ClaimPayment]) -> list[ClaimPayment]:
    """The payments that still stand once reversals are netted, per CLP01 (for remittance-only analytics)."""
    payments = list(payments)
    groups: dict[str, list[ClaimPayment]] = {}
    for payment in payments:
        groups.setdefault(payment.claim_id, []).append(payment)
    standing = {id(payment) for group in groups.values() for payment in net_reversals(group)[0]}
    return [payment for payment in payments if id(payment) in standing]


def match_lines(payment: ClaimPayment, claim: Claim) -> list[LineMatch]:
    """Each service payment of ``payment`` with the 837 line it pays (or None)."""
    taken: set[int] = set()
    results: list[LineMatch] = []
    for line in payment.lines:
        procedure = line.billed_procedure
        date = line.service_date or payment.statement_from
        found: tuple[int, str] | None = None
        if line.control_number is not None:
            for index, claim_line in enumerate(claim.lines):
                if (
                    index not in taken
                    and line.control_number == str(claim_line.number)
                    and (procedure is None or procedure == claim_line.procedure)
                ):
                    found = (index, "REF*6R")
                    break
        if found is None and procedure is not None:
            for index, claim_line in enumerate(claim.lines):
                if (
                    index not in taken
                    and claim_line.procedure == procedure
                    and claim_line.service_date == date
                    and line.charge is not None
                    and abs(line.charge) == claim_line.charge
                ):
                    found = (index, "procedure+date+charge")
                    break
        if found is None:
            results.append(LineMatch(payment, line, None, None))
        else:
            taken.add(found[0])
            results.append(LineMatch(payment, line, claim.lines[found[0]], found[1]))
    return results
