"""What every fact provider shares: the FactSpec record, the per-claim context, money in cents."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from typing import TYPE_CHECKING

from scrubber.model import Claim, OtherPayer

if TYPE_CHECKING:
    from scrubber.profiles import PayerProfile

# SBR01 payer responsibility order: a payer's prior payers are the ones before it here.
PAYER_ORDER = "PSTABCDEFGH"
SECONDARY_SEQUENCES = tuple(PAYER_ORDER[1:])


_KIND_OF_TYPE = {str: "text", int: "integer", bool: "boolean", list: "list"}


@dataclass(frozen=True, slots=True)
class FactSpec:
    name: str
    type: type  # what the engines see: str, int, bool (list: only the pre-pass reads it)
    scope: str  # "claim" (on claim and line facts) or "line" (line facts only)
    description: str
    element: str  # the X12 element(s) it comes from
    kind: str = ""  # text, integer, boolean, money (cents), quantity (thousandths), date (ordinal), list
    optional: bool = True  # the fact may be missing from a claim
    item_kind: str | None = None  # for a list: the kind of its items

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", _KIND_OF_TYPE[self.type])


def claim_spec(name: str, kind: type, description: str, element: str) -> FactSpec:
    return FactSpec(name, kind, "claim", description, element, "money" if name.endswith("_cents") else "")


def line_spec(name: str, kind: type, description: str, element: str) -> FactSpec:
    return FactSpec(name, kind, "line", description, element, "money" if name.endswith("_cents") else "")


_CENTS: dict[Decimal, int] = {}  # charges repeat across claims (fee schedules): a lookup is a tenth of the arithmetic
_CENTS_LIMIT = 4096


def cents(amount: Decimal) -> int:
    """Money as integer cents (rounded half-up at the third decimal, as payers round)."""
    found = _CENTS.get(amount)
    if found is None:
        found = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
        if len(_CENTS) < _CENTS_LIMIT:
            _CENTS[amount] = found
    return found


def prior_sequences(sequence: str | None) -> str:
    """The SBR01 codes of the payers ahead of ``sequence`` ('' for primary or unknown)."""
    if not sequence or sequence not in PAYER_ORDER:
        return ""
    return PAYER_ORDER[: PAYER_ORDER.index(sequence)]


@dataclass
class ClaimContext:
    """Things several providers need, computed once per claim."""

    claim: Claim
    profile: "PayerProfile | None" = None
    prior_payers: list[OtherPayer] = field(init=False)  # the payers ahead of this one that adjudicated the claim
    prior_payer_ids: set[str | None] = field(init=False)
    # payers ahead of this one that the claim bypassed under the destination payer's cost-avoidance policy:
    # their 2320 carries AMT*A8 and legitimately no AMT*D, CAS or adjudication date (X12 005010X222A1 2320 AMT*A8)
    cost_avoided_payers: list[OtherPayer] = field(init=False)

    def __post_init__(self) -> None:
        ahead = prior_sequences(self.claim.payer.sequence)
        prior = [o for o in self.claim.other_payers if o.sequence and o.sequence in ahead]
        self.cost_avoided_payers = [o for o in prior if o.noncovered is not None and o.paid is None]
        self.prior_payers = [o for o in prior if not (o.noncovered is not None and o.paid is None)]
        self.prior_payer_ids = {o.payer_id for o in self.prior_payers}
