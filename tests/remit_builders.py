"""X12 835 text builders for the remittance tests (canonical delimiters: ``*`` ``:`` ``^`` ``~``).

Amounts are written as given, so a test can build a file that does not balance. Segment positions are
counted by ``conftest.segment_index`` (an independent tokenizer), never by the reader under test.

    text = era([transaction(payment("A1", "100", "80", [service("99213", "100", "80", cas=["CO*45*20"])]))])
    payments, remittances, issues = read_era(text)
"""

from __future__ import annotations

import io
from typing import Sequence

from conftest import isa_segment

from scrubber.model import ParseIssue
from scrubber.model.remit import ClaimPayment, Remittance
from scrubber.readers.x12_835 import read


def service(
    procedure: str = "99213",
    charge: str = "100.00",
    paid: str = "80.00",
    *,
    date: str = "20260110",
    cas: Sequence[str] = ("CO*45*20.00",),
    control: str | None = None,
    remarks: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> list[str]:
    """2110: SVC + DTM*472 + CAS (each ``cas`` entry is the CAS segment after ``CAS*``) + REF*6R + LQ*HE."""
    segments = [f"SVC*HC:{procedure}*{charge}*{paid}**1", f"DTM*472*{date}"]
    segments += [f"CAS*{text}" for text in cas]
    if control is not None:
        segments.append(f"REF*6R*{control}")
    segments += [f"LQ*HE*{remark}" for remark in remarks]
    return segments + list(extra)


def payment(
    claim_id: str = "A1",
    charge: str = "100.00",
    paid: str = "80.00",
    lines: Sequence[Sequence[str]] | None = None,
    *,
    status: str = "1",
    patient: str = "",
    pcn: str | None = None,
    cas: Sequence[str] = (),
    statement: str | None = None,
) -> list[str]:
    """2100: CLP (+ claim-level CAS, NM1*QC, DTM*232) + service lines (default: one balanced line)."""
    segments = [f"CLP*{claim_id}*{status}*{charge}*{paid}*{patient}*MB*{pcn or 'PCN-' + claim_id}"]
    segments += [f"CAS*{text}" for text in cas]
    segments.append("NM1*QC*1*TESTPERSON*BETA****MI*M123")
    if statement:
        segments.append(f"DTM*232*{statement}")
    for line in [service()] if lines is None else lines:
        segments += list(line)
    return segments


def transaction(
    *payments: Sequence[str],
    amount: str = "80.00",
    credit_debit: str = "C",
    control: str = "0001",
    payer: str = "SYNTHETIC PAYER",
    plb: Sequence[str] = (),
    se_count: int | None = None,
    st_id: str = "835",
) -> list[str]:
    """ST + BPR + TRN + N1*PR + N1*PE + LX + payments + PLB + SE (SE01 counted unless given)."""
    segments = [
        f"ST*{st_id}*{control}*005010X221A1",
        f"BPR*I*{amount}*{credit_debit}*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20260220",
        f"TRN*1*TRACE{control}*1512345678",
        f"N1*PR*{payer}*XV*PAYER1",
        "N1*PE*SYNTHETIC CLINIC*XX*1234567893",
        "LX*1",
    ]
    for segs in payments:
        segments += list(segs)
    segments += [f"PLB*1234567893*20261231*{text}" for text in plb]
    segments.append(f"SE*{len(segments) + 1 if se_count is None else se_count}*{control}")
    return segments


def era(transactions: Sequence[Sequence[str]], *, control: str = "000000301", iea: bool = True) -> str:
    """ISA + one GS holding ``transactions`` + GE + IEA, one segment per line."""
    segments = [isa_segment(control), "GS*HP*PAYER01*PROVIDER01*20260220*1200*301*X*005010X221A1"]
    for segs in transactions:
        segments += list(segs)
    segments.append(f"GE*{len(transactions)}*301")
    if iea:
        segments.append(f"IEA*1*{control}")
    return "".join(segment + "~\n" for segment in segments)


def read_era(
    text: str | bytes, file: str = "test.835"
) -> tuple[list[ClaimPayment], list[Remittance], list[ParseIssue]]:
    data = text.encode("latin-1") if isinstance(text, str) else text
    records = list(read(io.BytesIO(data), file))
    payments = [r for r in records if isinstance(r, ClaimPayment)]
    remittances = [r for r in records if isinstance(r, Remittance)]
    issues = [r for r in records if isinstance(r, ParseIssue)]
    assert len(payments) + len(remittances) + len(issues) == len(records), records
    return payments, remittances, issues
