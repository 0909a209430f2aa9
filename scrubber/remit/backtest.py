"""Measure each rule, and each denial code, against what the payers did.

Only claims matched to a remittance count (an unmatched claim has no outcome yet). For a rule R:

    flagged       claims R flagged (any finding, any severity)
    denied        claims whose effective remittance carries one of R's codes (its ``carc`` and its
                  declared ``remit_codes``: CO-23 rules count OA-23 and CO-16 too)
    hits          flagged and denied            false_alarms  flagged, not denied
    misses        denied, not flagged           precision = hits / flagged, recall = hits / denied
    dollars_caught  the amounts of those adjustments on the hits (dollars_denied: on all denied claims)

A denial code's row is the same over the claims flagged by any rule with that ``carc``, counting the
codes any of them declares. Two refinements keep the counts honest:

- an adjustment counts as a denial when its code is a denial by kind (``carc.yaml``: CO-111, CO-21,
  CO-16...), or, for any other code (OA-23 is informational), only when it left its line (SVC03), or its
  claim for a claim-level CAS (CLP04), unpaid: OA-23 on a secondary claim that was paid is no denial;
- a code that X12 says needs a remark (CARC 16: "lacks information" says nothing by itself) counts for
  a rule only with one of the rule's RARCs on the same claim payment (CO-16 + MA04 for the CO-23 rules).

Reversed payments (CLP02 22 and the payment it takes back) are left out: ``match.net_reversals``.
The reader streams, but matching needs both sides at once: claims and payments are held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Sequence

from scrubber.findings import Finding, issue_to_dict
from scrubber.model import Claim, ParseIssue
from scrubber.model.remit import ClaimPayment
from scrubber.remit.classify import CarcTable, load_table
from scrubber.remit.load import RemitBatch, read_remits
from scrubber.remit.match import ClaimMatch, MatchResult, match
from scrubber.rules.spec import RuleSpec

BATCH_SIZE = 256


@dataclass(frozen=True)
class Signature:
    """A remittance code that counts as "denied with" a prediction; ``remarks``: one of them is required."""

    code: str
    remarks: frozenset[str] = frozenset()

    def describe(self) -> str:
        return self.code + (f" with {'/'.join(sorted(self.remarks))}" if self.remarks else "")


def rule_signatures(rule: RuleSpec, table: CarcTable) -> tuple[Signature, ...]:
    signatures: list[Signature] = []
    for code in [rule.carc, *rule.remit_codes]:
        reason = code.partition("-")[2]
        remarks = frozenset(rule.rarc) if table.needs_remark(reason) and rule.rarc else frozenset()
        signature = Signature(code, remarks)
        if signature not in signatures:
            signatures.append(signature)
    return tuple(signatures)


@dataclass
class Stats:
    signature: list[str] = field(default_factory=list)
    flagged: int = 0
    denied: int = 0
    hits: int = 0
    false_alarms: int = 0
    misses: int = 0
    dollars_caught: Decimal = Decimal(0)
    dollars_denied: Decimal = Decimal(0)

    @property
    def precision(self) -> float | None:
        return round(self.hits / self.flagged, 4) if self.flagged else None

    @property
    def recall(self) -> float | None:
        return round(self.hits / self.denied, 4) if self.denied else None

    def add(self, flagged: bool, denied_amount: Decimal | None) -> None:
        denied = denied_amount is not None
        self.flagged += flagged
        if denied:
            self.denied += 1
            self.dollars_denied += denied_amount
        if flagged and denied:
            self.hits += 1
            self.dollars_caught += denied_amount
        elif flagged:
            self.false_alarms += 1
        elif denied:
            self.misses += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": self.flagged,
            "denied": self.denied,
            "hits": self.hits,
            "false_alarms": self.false_alarms,
            "misses": self.misses,
            "precision": self.precision,
            "recall": self.recall,
            "dollars_caught": float(self.dollars_caught),
            "dollars_denied": float(self.dollars_denied),
            "counts": list(self.signature),
        }


def denied_amount(claim_match: ClaimMatch, signatures: Sequence[Signature], table: CarcTable) -> Decimal | None:
    """The amount the claim's effective payments denied with ``signatures``, or None if they did not."""
    total: Decimal | None = None
    for payment in claim_match.effective:
        remarks = set(payment.all_remarks)
        adjustments = [(adj, payment.paid == 0) for adj in payment.adjustments]
        for line in payment.lines:
            unpaid = line.paid == 0 if line.paid is not None else payment.paid == 0
            adjustments += [(adj, unpaid) for adj in line.adjustments]
        for adj, unpaid in adjustments:
            if not any(sig.code == adj.code and (not sig.remarks or sig.remarks & remarks) for sig in signatures):
                continue
            if unpaid or table.classify_adjustment(adj).kind == "denial":
                total = (total or Decimal(0)) + adj.amount
    return total


@dataclass
class ScrubbedClaims:
    """837 claims with their findings, and what could not be read."""

    files: list[Path] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    findings: list[list[Finding]] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)


def scrub_paths(paths: Iterable[str | Path], scrubber: Any) -> ScrubbedClaims:
    """Read claim files (as ``scrubber check`` does) and run the rules on every claim."""
    from scrubber.inputs import discover, read_file

    files, problems = discover(paths)
    result = ScrubbedClaims(files=files, issues=list(problems))
    for file in files:
        for item in read_file(file):
            if isinstance(item, Claim):
                result.claims.append(item)
            else:
                result.issues.append(item)
    for start in range(0, len(result.claims), BATCH_SIZE):
        result.findings.extend(scrubber.check(result.claims[start : start + BATCH_SIZE]))
    return result


@dataclass
class Backtest:
    codes: dict[str, Stats]
    rules: dict[str, Stats]
    matching: MatchResult
    claims: ScrubbedClaims
    remits: RemitBatch
    flagged_rules: dict[int, set[str]]  # id(claim) -> rules that flagged it

    def to_dict(self) -> dict[str, Any]:
        matching = self.matching
        return {
            "codes": {code: stats.to_dict() for code, stats in self.codes.items()},
            "rules": {rule: stats.to_dict() for rule, stats in self.rules.items()},
            "matching": {
                "claims": len(self.claims.claims),
                "payments": len(self.remits.payments),
                "matched_claims": len(matching.matches),
                "matched_payments": sum(len(m.payments) for m in matching.matches),
                "reversals": sum(len(m.reversed) for m in matching.matches),
                "unmatched_claims": [
                    {"claim_id": c.claim_id, "file": c.source.file, "segment": c.source.segment}
                    for c in matching.unmatched_claims
                ],
                "unmatched_payments": [
                    {"claim_id": p.claim_id, "file": p.source.file, "segment": p.source.segment, "payer": p.payer_name}
                    for p in matching.unmatched_payments
                ],
                "notes": list(matching.notes),
            },
            "errors": [issue_to_dict(issue) for issue in self.claims.issues + self.remits.issues],
        }


def backtest(
    claims: Sequence[Claim],
    findings: Sequence[Sequence[Finding]],
    payments: Sequence[ClaimPayment],
    rules: Sequence[RuleSpec],
    *,
    table: CarcTable | None = None,
    scrubbed: ScrubbedClaims | None = None,
    remits: RemitBatch | None = None,
) -> Backtest:
    table = table or load_table()
    rule_sigs = {rule.id: rule_signatures(rule, table) for rule in rules}
    code_rules: dict[str, list[str]] = {}
    for rule in sorted(rules, key=lambda r: (r.carc, r.id)):
        code_rules.setdefault(rule.carc, []).append(rule.id)
    code_sigs: dict[str, tuple[Signature, ...]] = {}
    for code, ids in code_rules.items():
        merged: list[Signature] = []
        for rule_id in ids:
            merged += [sig for sig in rule_sigs[rule_id] if sig not in merged]
        code_sigs[code] = tuple(merged)
    rule_stats = {
        rule.id: Stats([sig.describe() for sig in rule_sigs[rule.id]]) for rule in sorted(rules, key=lambda r: (r.carc, r.id))
    }
    code_stats = {code: Stats([sig.describe() for sig in sigs]) for code, sigs in code_sigs.items()}
    flagged_rules = {id(claim): {finding.rule for finding in found} for claim, found in zip(claims, findings)}
    result = match(claims, payments)
    for claim_match in result.matches:
        flagged = flagged_rules.get(id(claim_match.claim), set())
        for code, sigs in code_sigs.items():
            code_stats[code].add(any(rule_id in flagged for rule_id in code_rules[code]), denied_amount(claim_match, sigs, table))
        for rule_id, sigs in rule_sigs.items():
            rule_stats[rule_id].add(rule_id in flagged, denied_amount(claim_match, sigs, table))
    return Backtest(
        code_stats,
        rule_stats,
        result,
        scrubbed or ScrubbedClaims(claims=list(claims), findings=[list(f) for f in findings]),
        remits or RemitBatch(payments=list(payments)),
        flagged_rules,
    )


def run_backtest(claim_paths: Iterable[str | Path], remit_paths: Iterable[str | Path], scrubber: Any) -> Backtest:
    """Read and scrub the claims, read the remittances, and backtest ``scrubber``'s rules."""
    scrubbed = scrub_paths(claim_paths, scrubber)
    remits = read_remits(remit_paths)
    rules = list(scrubber.rules.values())
    return backtest(scrubbed.claims, scrubbed.findings, remits.payments, rules, scrubbed=scrubbed, remits=remits)
