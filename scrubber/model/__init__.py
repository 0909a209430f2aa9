"""The claim model: frozen pydantic records that know where each value came from.

Claim
├── payer: Payer                      (2000B SBR, 2010BB NM1*PR)
├── subscriber / patient: Party       (2010BA, 2010CA)
├── billing_provider: Provider        (2010AA)
├── referring / rendering / service_facility / supervising_provider: Provider  (2310A-D)
├── diagnoses: [Diagnosis]            (2300 HI)
├── other_payers: [OtherPayer]        (2320 / 2330B)
│   └── adjustments: [Adjustment]     (2320 CAS)
└── lines: [ServiceLine]              (2400)
    ├── rendering / supervising / ordering / referring_provider  (2420A, D, E, F)
    └── adjudications: [LineAdjudication]  (2430 SVD/CAS/DTP*573)

Every record with an ``elements`` map records, per segment read, the segment's index under the model field of
its first element in the element map (``claim_id`` for the CLM, ``npi`` for an NM1; X12 input only). The element map (``scrubber.x12map``) says which X12 element
fills which field (``assignment`` ← 2300 CLM07), so a finding can say "2300 CLM07, segment 14 of batch.837".
"""

from scrubber.model.claim import (
    Adjustment,
    Claim,
    Diagnosis,
    LineAdjudication,
    OtherPayer,
    Party,
    Payer,
    Provider,
    ServiceLine,
    SourceRef,
)
from scrubber.model.issues import ParseIssue

__all__ = [
    "Adjustment",
    "Claim",
    "Diagnosis",
    "LineAdjudication",
    "OtherPayer",
    "ParseIssue",
    "Party",
    "Payer",
    "Provider",
    "ServiceLine",
    "SourceRef",
]
