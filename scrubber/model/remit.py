"""Frozen pydantic models for X12 835 remittances (005010X221A1), one record per claim payment.

Remittance                              (one ST/SE: BPR payment, TRN trace, 1000A payer, 1000B payee)
└── provider_adjustments: [ProviderAdjustment]      (PLB, one per reason/amount pair)
ClaimPayment                            (2100 CLP, with the payment's header copied in)
├── adjustments: [RemitAdjustment]      (2100 CAS, every group/reason/amount triple)
├── remarks                             (2100 MOA03-07, MIA05/MIA20-23)
└── lines: [ServicePayment]             (2110 SVC, DTM*472, REF*6R, AMT*B6, LQ*HE)
    └── adjustments: [RemitAdjustment]  (2110 CAS)

The reader streams: each ClaimPayment is yielded when it ends, and its Remittance when the transaction
set ends (after its PLB). Every record knows the segment it came from (``segment``, 1-based, ISA = 1),
and ``elements`` maps each model field to the segment it was read from (``scrubber/x12map/835.yaml`` names the element), as in the claim model.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from scrubber.model.claim import SourceRef


# CLP02 claim status codes (005010X221A1).
CLAIM_STATUS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded",
    "20": "processed as secondary, forwarded",
    "21": "processed as tertiary, forwarded",
    "22": "reversal of previous payment",
    "23": "not our claim, forwarded",
    "25": "predetermination pricing only",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RemitAdjustment(_Frozen):
    """One CAS triple: group (CO/OA/PI/PR/CR) + reason (CARC) + amount (+ quantity)."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None
    segment: int | None = None  # the CAS segment

    @property
    def code(self) -> str:
        """The denial signature as the rules write it: ``CO-111``."""
        return f"{self.group}-{self.reason}"


class ServicePayment(_Frozen):
    """Loop 2110: how the payer paid one service line."""

    qualifier: str | None = None  # SVC01-1 (HC, AD, ...)
    procedure: str | None = None  # SVC01-2 as adjudicated; None when SVC01 holds no code
    modifiers: tuple[str, ...] = ()  # SVC01-3..6
    charge: Decimal | None = None  # SVC02 submitted charge
    paid: Decimal | None = None  # SVC03 paid amount
    revenue_code: str | None = None  # SVC04
    units: Decimal | None = None  # SVC05 paid units
    submitted_procedure: str | None = None  # SVC06-2: the code billed, when the payer paid another one
    submitted_modifiers: tuple[str, ...] = ()  # SVC06-3..6
    service_date: dt.date | None = None  # DTM*472, or DTM*150 (start of a period)
    service_end_date: dt.date | None = None  # DTM*151
    control_number: str | None = None  # REF*6R line item control number (837 REF*6R comes back here)
    allowed: Decimal | None = None  # AMT*B6
    adjustments: tuple[RemitAdjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # LQ*HE
    segment: int | None = None  # the SVC segment
    elements: dict[str, int] = Field(default_factory=dict)

    @property
    def billed_procedure(self) -> str | None:
        """The procedure as the provider billed it (SVC06 when the payer changed it, else SVC01)."""
        return self.submitted_procedure or self.procedure


class ClaimPayment(_Frozen):
    """Loop 2100: the payer's adjudication of one claim, with the remittance header copied in."""

    claim_id: str  # CLP01 = 837 CLM01 patient control number
    status: str  # CLP02: 1/2/3 processed as primary/secondary/tertiary, 4 denied, 19-21 forwarded, 22 reversal
    charge: Decimal  # CLP03 total claim charge
    paid: Decimal  # CLP04 claim payment amount
    patient_responsibility: Decimal | None = None  # CLP05
    filing_indicator: str | None = None  # CLP06
    payer_claim_number: str | None = None  # CLP07 (goes into 837 REF*F8 on a corrected claim)
    facility_code: str | None = None  # CLP08
    frequency: str | None = None  # CLP09
    statement_from: dt.date | None = None  # DTM*232
    statement_to: dt.date | None = None  # DTM*233
    adjustments: tuple[RemitAdjustment, ...] = ()  # claim-level CAS
    remarks: tuple[str, ...] = ()  # MOA03-07, MIA05, MIA20-23
    lines: tuple[ServicePayment, ...] = ()
    payer_name: str | None = None  # 1000A N102
    payer_id: str | None = None  # 1000A N104, else REF*2U
    payee_name: str | None = None  # 1000B N102
    payee_id: str | None = None  # 1000B N104
    trace_number: str | None = None  # TRN02 (check or EFT number)
    payment_date: dt.date | None = None  # BPR16
    source: SourceRef = Field(default_factory=SourceRef)  # segment = the CLP segment
    elements: dict[str, int] = Field(default_factory=dict)

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"

    @property
    def all_adjustments(self) -> tuple[RemitAdjustment, ...]:
        """Claim-level then line-level adjustments."""
        return self.adjustments + tuple(adj for line in self.lines for adj in line.adjustments)

    @property
    def all_remarks(self) -> tuple[str, ...]:
        return self.remarks + tuple(remark for line in self.lines for remark in line.remarks)

    @property
    def service_dates(self) -> frozenset[dt.date]:
        """Dates of service: the lines' DTM*472/150, else the claim's statement dates (DTM*232/233)."""
        dates = {line.service_date for line in self.lines if line.service_date is not None}
        if not dates:
            dates = {date for date in (self.statement_from, self.statement_to) if date is not None}
        return frozenset(dates)


class ProviderAdjustment(_Frozen):
    """One PLB reason/amount pair: money taken back (positive) or added (negative) outside any claim."""

    provider_id: str | None = None  # PLB01
    fiscal_period: dt.date | None = None  # PLB02
    reason: str  # PLB03-1 (e.g. WO overpayment recovery, L6 interest, CV capital pass-through)
    reference: str | None = None  # PLB03-2
    amount: Decimal
    segment: int | None = None


class Remittance(_Frozen):
    """One 835 transaction set: the payment (BPR/TRN), who paid whom, and the PLB adjustments."""

    handling: str | None = None  # BPR01: I remittance + payment, H notification only, ...
    amount: Decimal | None = None  # BPR02 total actual provider payment
    credit_debit: str | None = None  # BPR03: C credit, D debit
    method: str | None = None  # BPR04: ACH, CHK, NON, ...
    payment_date: dt.date | None = None  # BPR16
    trace_number: str | None = None  # TRN02
    originator: str | None = None  # TRN03
    payer_name: str | None = None
    payer_id: str | None = None
    payee_name: str | None = None
    payee_id: str | None = None
    claim_count: int = 0  # CLP segments in this transaction set
    total_paid: Decimal | None = None  # sum of CLP04; None when a CLP04 could not be read
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    source: SourceRef = Field(default_factory=SourceRef)  # segment = the ST segment
    elements: dict[str, int] = Field(default_factory=dict)
