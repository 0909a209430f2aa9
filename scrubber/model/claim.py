"""Frozen pydantic models for one professional (837P) claim."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Money and quantities: X12 allows at most 15 digits before the point (R 1/18); a bound also keeps a
# value such as 1E+999999 from overflowing the integer-cents facts (the claim is then unreadable).
Amount = Annotated[Decimal, Field(gt=-(10**15), lt=10**15)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRef(_Frozen):
    """Where a claim came from: file plus segment index (X12), row (CSV) or JSON pointer."""

    file: str | None = None
    segment: int | None = None  # 1-based position of the CLM segment in the file (ISA = 1)
    st_control: str | None = None  # ST02 of the transaction set holding the claim
    row: int | None = None  # CSV row / JSONL line number
    pointer: str | None = None  # JSON pointer
    # X12: the CLM segment of an earlier claim of the same transaction set with the same CLM01 (a duplicate)
    same_id_as_segment: int | None = None


class Party(_Frozen):
    """Subscriber (2010BA) or patient (2010CA)."""

    last_name: str | None = None
    first_name: str | None = None
    member_id: str | None = None  # NM109 (subscriber only)
    state: str | None = None  # N402
    birth_date: dt.date | None = None  # DMG02
    sex: str | None = None  # DMG03: F, M, U
    relationship: str | None = None  # PAT01 (patient only)
    elements: dict[str, int] = Field(default_factory=dict)


class Payer(_Frozen):
    """The payer this claim is sent to (2000B SBR + 2010BB NM1*PR)."""

    sequence: str | None = None  # SBR01: P, S, T, A-H, U
    insurance_type: str | None = None  # SBR05
    filing_indicator: str | None = None  # SBR09: MB, MC, AM, CI, ...
    payer_id: str | None = None  # 2010BB NM109
    name: str | None = None
    elements: dict[str, int] = Field(default_factory=dict)


class Provider(_Frozen):
    """A provider named on the claim: billing, rendering, referring, supervising, ordering, service facility."""

    npi: str | None = None  # NM109 (an NPI when NM108 = XX)
    id_qualifier: str | None = None  # NM108: XX = NPI
    taxonomy: str | None = None  # PRV03 with PRV01 = PE
    elements: dict[str, int] = Field(default_factory=dict)


class Diagnosis(_Frozen):
    code: str
    qualifier: str  # ABK principal, ABF other (ICD-10); BK / BF (ICD-9)


class Adjustment(_Frozen):
    """One CAS triple: group (CO/CR/OA/PI/PR), reason (CARC), amount."""

    group: str
    reason: str
    amount: Amount
    quantity: Amount | None = None


class OtherPayer(_Frozen):
    """Loop 2320 (other subscriber) with 2330B (other payer)."""

    sequence: str | None = None  # 2320 SBR01
    insurance_type: str | None = None  # 2320 SBR05
    filing_indicator: str | None = None  # 2320 SBR09
    payer_id: str | None = None  # 2330B NM109
    name: str | None = None
    paid: Amount | None = None  # 2320 AMT*D
    noncovered: Amount | None = None  # 2320 AMT*A8 (cost avoidance)
    remaining_patient_liability: Amount | None = None  # 2320 AMT*EAF
    adjustments: tuple[Adjustment, ...] = ()  # 2320 CAS
    adjudication_date: dt.date | None = None  # 2330B DTP*573
    elements: dict[str, int] = Field(default_factory=dict)


class LineAdjudication(_Frozen):
    """Loop 2430: a prior payer's adjudication of one service line."""

    payer_id: str | None = None  # SVD01 (= 2330B NM109)
    paid: Amount | None = None  # SVD02
    procedure: str | None = None  # SVD03-2
    units: Amount | None = None  # SVD05
    adjustments: tuple[Adjustment, ...] = ()  # 2430 CAS
    adjudication_date: dt.date | None = None  # 2430 DTP*573
    elements: dict[str, int] = Field(default_factory=dict)


class ServiceLine(_Frozen):
    """Loop 2400 (LX + SV1)."""

    number: int  # LX01
    procedure: str  # SV101-2
    qualifier: str = "HC"  # SV101-1
    modifiers: tuple[str, ...] = ()  # SV101-3..6
    charge: Amount = Decimal(0)  # SV102
    unit_basis: str | None = "UN"  # SV103
    units: Amount | None = None  # SV104
    place_of_service: str | None = None  # SV105
    diagnosis_pointers: tuple[int, ...] = ()  # SV107-1..4
    service_date: dt.date | None = None  # DTP*472
    prior_auth: str | None = None  # 2400 REF*G1
    ndc: str | None = None  # 2410 LIN03
    ndc_quantity: Amount | None = None  # 2410 CTP04
    ndc_unit: str | None = None  # 2410 CTP05-1
    rendering_provider: Provider | None = None  # 2420A
    supervising_provider: Provider | None = None  # 2420D
    ordering_provider: Provider | None = None  # 2420E
    referring_provider: Provider | None = None  # 2420F
    adjudications: tuple[LineAdjudication, ...] = ()
    elements: dict[str, int] = Field(default_factory=dict)


class Claim(_Frozen):
    """One 837P claim (loop 2300) with the hierarchy above it copied in."""

    claim_id: str  # CLM01 patient control number
    total_charge: Amount = Decimal(0)  # CLM02
    place_of_service: str | None = None  # CLM05-1
    frequency: str | None = None  # CLM05-3: 1 original, 7 replacement, 8 void
    provider_signature: str | None = None  # CLM06
    assignment: str | None = None  # CLM07: A assigned, B lab only, C not assigned
    benefits_assignment: str | None = None  # CLM08: Y, N, W
    release_of_information: str | None = None  # CLM09
    related_causes: tuple[str, ...] = ()  # CLM11-1..3: AA, EM, OA
    accident_state: str | None = None  # CLM11-4
    delay_reason: str | None = None  # CLM20
    accident_date: dt.date | None = None  # DTP*439
    onset_date: dt.date | None = None  # DTP*431
    initial_treatment_date: dt.date | None = None  # DTP*454
    prior_auth: str | None = None  # 2300 REF*G1
    payer_claim_number: str | None = None  # 2300 REF*F8
    diagnoses: tuple[Diagnosis, ...] = ()  # HI
    batch_date: dt.date | None = None  # BHT04
    implementation: str | None = None  # ST03 / GS08, e.g. 005010X222A1
    billing_provider: Provider | None = None  # 2010AA
    billing_state: str | None = None  # 2010AA N402
    payer: Payer = Field(default_factory=Payer)
    subscriber: Party = Field(default_factory=Party)
    patient: Party | None = None  # 2000C/2010CA when the patient is not the subscriber
    referring_provider: Provider | None = None  # 2310A
    rendering_provider: Provider | None = None  # 2310B
    service_facility: Provider | None = None  # 2310C
    supervising_provider: Provider | None = None  # 2310D
    other_payers: tuple[OtherPayer, ...] = ()
    lines: tuple[ServiceLine, ...] = ()
    source: SourceRef = Field(default_factory=SourceRef)
    elements: dict[str, int] = Field(default_factory=dict)

    @property
    def patient_state(self) -> str | None:
        """State of the person treated: the 2010CA patient if present, else the subscriber."""
        if self.patient is not None and self.patient.state:
            return self.patient.state
        return self.subscriber.state
