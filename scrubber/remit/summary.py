"""Remittance-side totals: dollars by action, denials by code and payer, unknown codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable

from scrubber.model.remit import ClaimPayment
from scrubber.remit.classify import ACTIONS, CarcTable
from scrubber.remit.match import effective_payments


@dataclass
class CodeTotal:
    code: str
    name: str | None
    claims: int = 0
    amount: Decimal = Decimal(0)


@dataclass
class RemitSummary:
    adjustments: int = 0
    by_action: dict[str, Decimal] = field(default_factory=lambda: {action: Decimal(0) for action in ACTIONS})
    count_by_action: dict[str, int] = field(default_factory=lambda: {action: 0 for action in ACTIONS})
    denials: dict[str, dict[str, CodeTotal]] = field(default_factory=dict)  # code -> payer -> total
    unknown: dict[str, CodeTotal] = field(default_factory=dict)  # code -> total

    @property
    def payers(self) -> list[str]:
        return sorted({payer for by_payer in self.denials.values() for payer in by_payer})


def summarize(payments: Iterable[ClaimPayment], table: CarcTable) -> RemitSummary:
    """Totals over the payments that stand once reversals are netted (a reversed denial is no denial)."""
    summary = RemitSummary()
    for payment in effective_payments(payments):
        payer = payment.payer_name or payment.payer_id or "(unnamed payer)"
        seen: set[tuple[str, str]] = set()
        for adj in payment.all_adjustments:
            summary.adjustments += 1
            classification = table.classify_adjustment(adj)
            summary.by_action[classification.action] += adj.amount
            summary.count_by_action[classification.action] += 1
            if not classification.known:
                total = summary.unknown.setdefault(adj.code, CodeTotal(adj.code, None))
                total.amount += adj.amount
                total.claims += (adj.code, "") not in seen
                seen.add((adj.code, ""))
            if classification.kind == "denial":
                total = summary.denials.setdefault(adj.code, {}).setdefault(payer, CodeTotal(adj.code, classification.name))
                total.amount += adj.amount
                total.claims += (adj.code, payer) not in seen
                seen.add((adj.code, payer))
    return summary
