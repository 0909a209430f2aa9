"""Read X12 835 remittances (005010X221A1) into ``ClaimPayment`` and ``Remittance`` records, streaming.

The tokenizer (``x12_tokens``, shared with the 837P reader) yields segments; the loop table
(``x12_835_loops``) says which loop each segment opens; the handlers below, looked up by
(loop, segment id), copy elements into a builder. The driver and the envelope (ISA/GS/ST/SE/GE/IEA)
checks are shared with the 837P reader (``x12_reader``). A claim payment is yielded when the next one, a
new LX, the PLB summary or the SE starts; the transaction set's ``Remittance`` (BPR/TRN, payer, payee,
PLB) is yielded at its SE. Memory holds one claim payment at a time.

Balancing (design §3) is checked as the records close, and an imbalance is a warning ``ParseIssue``
with ``location="balancing"`` and the segment of the SVC, CLP or BPR that does not add up:

    line        SVC02 - sum of the line's CAS          = SVC03
    claim       CLP03 - sum of claim and line CAS      = CLP04
    payment     BPR02 = sum of CLP04 - sum of PLB amounts     (negated when BPR03 is D, a debit)

Bad input never raises: a claim payment that cannot be read becomes a ``ParseIssue`` with
``unreadable_claim=True`` and reading resumes at the next CLP; envelope problems become ``ParseIssue``s
with ``location="envelope"``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from pydantic import ValidationError

from scrubber.model import ParseIssue
from scrubber.model.remit import ClaimPayment, Remittance
from scrubber.readers.common import read_opened
from scrubber.readers.x12_835_loops import LOOP_OPENERS
from scrubber.readers.x12_reader import RecordBuilder, SegmentHandlers, X12Reader
from scrubber.readers.x12_tokens import Segment
from scrubber.readers.x12_values import (
    BadSegment,
    cas_adjustments,
    parse_date,
    parse_decimal,
    parse_optional_decimal,
)

SUPPORTED_VERSIONS = ("005010X221A1", "005010X221")
GROUP_CODES = frozenset({"CO", "CR", "OA", "PI", "PR"})

Record = ClaimPayment | Remittance | ParseIssue


def read_path(path: str | Path) -> Iterator[Record]:
    """Read one 835 file. A file that cannot be opened becomes a ParseIssue."""
    yield from read_opened(path, read)


def read(stream: BinaryIO, file: str | None = None) -> Iterator[Record]:
    """Yield every claim payment and remittance in ``stream``, and a ParseIssue for what could not be read."""
    yield from _Reader(file).run(stream)


# --- value parsing (the rest is in x12_values) ---------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _adjustments(reader: "_Reader", segment: Segment) -> list[dict[str, Any]]:
    """CAS: group (CAS01), then up to six reason/amount/quantity triples, each kept with its segment."""
    group = segment.get(1)
    if group and group not in GROUP_CODES:  # a missing one is refused by cas_adjustments
        reader.report(
            segment.index,
            f"CAS01 {group!r} is not a claim adjustment group code (CO, CR, OA, PI, PR)",
            **reader.warning_context(),
            severity="warning",
        )
    adjustments = cas_adjustments(segment, strict=True)
    for adjustment in adjustments:
        adjustment["segment"] = segment.index
    return adjustments


# --- the claim payment under construction ------------------------------------------------------


class _PaymentBuilder(RecordBuilder):
    __slots__ = ("unchecked_lines",)

    def __init__(self, data: dict[str, Any], start: int):
        super().__init__(data, start)
        self.unchecked_lines: set[int] = set()  # positions of lines whose amounts could not be read


_HANDLERS = SegmentHandlers()
_on = _HANDLERS.on


class _Reader(X12Reader):
    TRANSACTION_SET = "835"
    SUPPORTED_VERSIONS = SUPPORTED_VERSIONS
    UNSUPPORTED_VERSION = "implementation {version!r} is not 005010X221A1; reading it as an 835 anyway"
    UNSUPPORTED_VERSION_SEVERITY = "warning"
    UNFINISHED_RECORD = "file ends inside this claim payment, before its SE (truncated?)"
    LOOP_OPENERS = LOOP_OPENERS
    HANDLERS = _HANDLERS.by_loop
    RECORD_BOUNDARIES = frozenset({"2000", "2100", "PLB"})
    RECORD_LOOPS = frozenset({"2100", "2110"})
    RECORD_STARTERS = frozenset({"CLP", "SVC"})  # their handlers cope with no payment open (SVC reports it)
    ISA_ENDS_TRANSACTION = True

    record: _PaymentBuilder | None

    def __init__(self, file: str | None):
        super().__init__(file)
        self.header: dict[str, Any] = {}
        self.provider_adjustments: list[dict[str, Any]] = []
        self.claim_count = 0
        self.total_paid = Decimal(0)
        self.total_known = True  # false once a CLP04 or PLB amount could not be read

    def warning_context(self) -> dict[str, Any]:
        return {"claim_id": self.record.claim_id if self.record is not None else None}

    # --- claim payments -------------------------------------------------------------------------

    def new_payment(self, segment: Segment) -> _PaymentBuilder:
        header = self.header
        data: dict[str, Any] = {
            "payer_name": header.get("payer_name"),
            "payer_id": header.get("payer_id"),
            "payee_name": header.get("payee_name"),
            "payee_id": header.get("payee_id"),
            "trace_number": header.get("trace_number"),
            "payment_date": header.get("payment_date"),
            "source": {
                "file": self.file,
                "segment": segment.index,
                "st_control": self.transaction.get(2) if self.transaction else None,
            },
            "elements": {"CLP": segment.index},
            "adjustments": [],
            "remarks": [],
        }
        self.record = _PaymentBuilder(data, segment.index)
        return self.record

    def break_record(self, segment: int | None, message: str) -> None:
        payment = self.record
        assert payment is not None
        if payment.error is None:
            payment.error = self.issue(segment, message, claim_id=payment.claim_id, unreadable_claim=True)

    def emit(self, builder: _PaymentBuilder) -> None:
        builder.data["lines"] = builder.lines
        payment = self.validated(ClaimPayment, builder, "claim payment")
        if payment is not None:
            self.out.append(payment)
            self.check_payment_balance(payment, builder.unchecked_lines)

    def check_payment_balance(self, payment: ClaimPayment, unchecked_lines: set[int]) -> None:
        for position, line in enumerate(payment.lines):
            if position in unchecked_lines or line.charge is None or line.paid is None:
                continue
            adjusted = sum((adj.amount for adj in line.adjustments), Decimal(0))
            if line.charge - adjusted != line.paid:
                self.report(
                    line.segment,
                    f"2110 SVC does not balance: SVC02 {_money(line.charge)} - line CAS {_money(adjusted)} = "
                    f"{_money(line.charge - adjusted)}, but SVC03 (paid) is {_money(line.paid)}",
                    claim_id=payment.claim_id,
                    location="balancing",
                    severity="warning",
                )
        adjusted = sum((adj.amount for adj in payment.all_adjustments), Decimal(0))
        if payment.charge - adjusted != payment.paid:
            self.report(
                payment.source.segment,
                f"2100 CLP does not balance: CLP03 {_money(payment.charge)} - claim and line CAS "
                f"{_money(adjusted)} = {_money(payment.charge - adjusted)}, but CLP04 (paid) is "
                f"{_money(payment.paid)}",
                claim_id=payment.claim_id,
                location="balancing",
                severity="warning",
            )

    # --- transaction sets -----------------------------------------------------------------------

    def st_before_se(self, segment: Segment) -> None:
        self.close_record_as_unreadable(segment.index, "ST before the previous transaction set's SE")
        self.report(segment.index, "ST before the previous transaction set's SE", location="envelope")

    def start_transaction(self, segment: Segment, version: str | None) -> None:
        self.header = {"elements": {"ST": segment.index}}
        self.provider_adjustments = []
        self.claim_count = 0
        self.total_paid = Decimal(0)
        self.total_known = True

    def finish_transaction(self, segment: Segment) -> None:
        """At SE: close the last payment, check the payment total, yield the Remittance."""
        self.finish_record()
        transaction = self.transaction
        assert transaction is not None
        header = self.header
        total = self.total_paid if self.total_known else None
        data = {
            key: header.get(key)
            for key in (
                "handling", "amount", "credit_debit", "method", "payment_date", "trace_number", "originator",
                "payer_name", "payer_id", "payee_name", "payee_id",
            )
        }
        data.update(
            claim_count=self.claim_count,
            total_paid=total,
            provider_adjustments=self.provider_adjustments,
            source={"file": self.file, "segment": transaction.index, "st_control": transaction.get(2)},
            elements=header["elements"],
        )
        try:
            remittance = Remittance.model_validate(data)
        except ValidationError as error:  # not expected: every value was parsed already
            first = error.errors()[0]
            self.report(transaction.index, f"remittance does not fit the model: {first['msg']}")
            return
        self.out.append(remittance)
        self.check_payment_total(remittance)

    def check_payment_total(self, remittance: Remittance) -> None:
        if remittance.amount is None or remittance.total_paid is None:
            return  # a BPR02, CLP04 or PLB amount could not be read: already reported
        plb = sum((adj.amount for adj in remittance.provider_adjustments), Decimal(0))
        expected = remittance.total_paid - plb
        actual = -remittance.amount if remittance.credit_debit == "D" else remittance.amount
        if actual != expected:
            self.report(
                remittance.elements.get("BPR", remittance.source.segment),
                f"payment does not balance: BPR02 {_money(actual)} but sum of CLP04 {_money(remittance.total_paid)}"
                f" - PLB {_money(plb)} = {_money(expected)}",
                location="balancing",
                severity="warning",
            )


# --- segment handlers, by (loop, segment id) ------------------------------------------------------


@_on("ST", "BPR")
def _bpr(reader: _Reader, segment: Segment) -> None:
    header = reader.header
    header["elements"]["BPR"] = segment.index
    header["handling"] = segment.get(1) or None
    header["credit_debit"] = segment.get(3) or None
    header["method"] = segment.get(4) or None
    if segment.get(16):
        try:
            header["payment_date"] = parse_date(segment.get(16), "BPR16")
        except BadSegment as error:  # only the date is lost: the payment and its claims read on
            reader.report(segment.index, f"ST BPR: {error}; the payment date is left empty", severity="warning")
    header["amount"] = parse_decimal(segment.get(2), "BPR02")


@_on("ST", "TRN")
def _trn(reader: _Reader, segment: Segment) -> None:
    reader.header["trace_number"] = segment.get(2) or None
    reader.header["originator"] = segment.get(3) or None
    reader.header["elements"]["TRN"] = segment.index


@_on("1000A", "N1")
def _payer(reader: _Reader, segment: Segment) -> None:
    reader.header["payer_name"] = segment.get(2) or None
    if segment.get(4):
        reader.header["payer_id"] = segment.get(4)
    reader.header["elements"]["N1*PR"] = segment.index


@_on("1000A", "REF")
def _payer_reference(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "2U" and not reader.header.get("payer_id"):
        reader.header["payer_id"] = segment.get(2) or None


@_on("1000B", "N1")
def _payee(reader: _Reader, segment: Segment) -> None:
    reader.header["payee_name"] = segment.get(2) or None
    reader.header["payee_id"] = segment.get(4) or None
    reader.header["elements"]["N1*PE"] = segment.index


@_on("2100", "CLP")
def _clp(reader: _Reader, segment: Segment) -> None:
    payment = reader.new_payment(segment)
    data = payment.data
    reader.claim_count += 1
    known, reader.total_known = reader.total_known, False  # unknown until CLP04 is read
    claim_id = segment.get(1)
    data["claim_id"] = claim_id
    if not claim_id:
        raise BadSegment("CLP01 (patient control number) is missing")
    status = segment.get(2)
    if not status:
        raise BadSegment("CLP02 (claim status) is missing")
    data["status"] = status
    data["charge"] = parse_decimal(segment.get(3), "CLP03")
    data["paid"] = parse_decimal(segment.get(4), "CLP04")
    reader.total_paid += data["paid"]
    reader.total_known = known
    data["patient_responsibility"] = parse_optional_decimal(segment.get(5), "CLP05")
    data["filing_indicator"] = segment.get(6) or None
    data["payer_claim_number"] = segment.get(7) or None
    data["facility_code"] = segment.get(8) or None
    data["frequency"] = segment.get(9) or None


@_on("2100", "CAS")
def _claim_adjustments(reader: _Reader, segment: Segment) -> None:
    data = reader.record.data  # type: ignore[union-attr]
    data["adjustments"].extend(_adjustments(reader, segment))
    data["elements"].setdefault("CAS", segment.index)


def _remarks(segment: Segment, positions: range | tuple[int, ...]) -> list[str]:
    return [segment.get(position) for position in positions if segment.get(position)]


@_on("2100", "MOA")
def _outpatient_remarks(reader: _Reader, segment: Segment) -> None:
    data = reader.record.data  # type: ignore[union-attr]
    data["remarks"].extend(_remarks(segment, range(3, 8)))
    data["elements"]["MOA"] = segment.index


@_on("2100", "MIA")
def _inpatient_remarks(reader: _Reader, segment: Segment) -> None:
    data = reader.record.data  # type: ignore[union-attr]
    data["remarks"].extend(_remarks(segment, (5, 20, 21, 22, 23)))
    data["elements"]["MIA"] = segment.index


@_on("2100", "DTM")
def _claim_date(reader: _Reader, segment: Segment) -> None:
    field = {"232": "statement_from", "233": "statement_to"}.get(segment.get(1))
    if field is not None:
        data = reader.record.data  # type: ignore[union-attr]
        data[field] = parse_date(segment.get(2), "DTM02")
        data["elements"][f"DTM*{segment.get(1)}"] = segment.index


@_on("2110", "SVC")
def _svc(reader: _Reader, segment: Segment) -> None:
    payment = reader.record
    if payment is None:
        raise BadSegment("SVC before any CLP: a service line needs its claim payment")
    line: dict[str, Any] = {"segment": segment.index, "adjustments": [], "remarks": [], "elements": {"SVC": segment.index}}
    payment.line = line
    payment.lines.append(line)
    procedure = reader.composite(segment, 1, "SVC01")
    line["qualifier"] = procedure[0] or None
    code = procedure[1] if len(procedure) > 1 else ""
    if not code:
        # Without SVC01 the rest of the segment cannot be trusted (a known sample writes HC*24599.00*...).
        payment.unchecked_lines.add(len(payment.lines) - 1)
        reader.report(
            segment.index,
            f"2110 SVC: SVC01 {segment.get(1)!r} has no procedure code, so the elements after it cannot be "
            "trusted; the line is kept without amounts and left out of line balancing",
            claim_id=payment.claim_id,
            severity="warning",
        )
        return
    line["procedure"] = code
    line["modifiers"] = [modifier for modifier in procedure[2:6] if modifier]
    line["charge"] = parse_decimal(segment.get(2), "SVC02")
    line["paid"] = parse_decimal(segment.get(3), "SVC03")
    line["revenue_code"] = segment.get(4) or None
    line["units"] = parse_optional_decimal(segment.get(5), "SVC05")
    if segment.get(6):
        submitted = reader.composite(segment, 6, "SVC06")
        line["submitted_procedure"] = (submitted[1] if len(submitted) > 1 else "") or None
        line["submitted_modifiers"] = [modifier for modifier in submitted[2:6] if modifier]


@_on("2110", "DTM")
def _service_date(reader: _Reader, segment: Segment) -> None:
    field = {"472": "service_date", "150": "service_date", "151": "service_end_date"}.get(segment.get(1))
    if field is not None:
        line = reader.record.line  # type: ignore[union-attr]
        line[field] = parse_date(segment.get(2), "DTM02")
        line["elements"][f"DTM*{segment.get(1)}"] = segment.index


@_on("2110", "CAS")
def _line_adjustments(reader: _Reader, segment: Segment) -> None:
    line = reader.record.line  # type: ignore[union-attr]
    line["adjustments"].extend(_adjustments(reader, segment))
    line["elements"].setdefault("CAS", segment.index)


@_on("2110", "REF")
def _line_reference(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "6R":
        line = reader.record.line  # type: ignore[union-attr]
        line["control_number"] = segment.get(2) or None
        line["elements"]["REF*6R"] = segment.index


@_on("2110", "AMT")
def _line_amount(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "B6":
        line = reader.record.line  # type: ignore[union-attr]
        line["allowed"] = parse_decimal(segment.get(2), "AMT02")
        line["elements"]["AMT*B6"] = segment.index


@_on("2110", "LQ")
def _line_remark(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "HE" and segment.get(2):
        line = reader.record.line  # type: ignore[union-attr]
        line["remarks"].append(segment.get(2))
        line["elements"].setdefault("LQ", segment.index)


@_on("PLB", "PLB")
def _plb(reader: _Reader, segment: Segment) -> None:
    provider_id = segment.get(1) or None
    fiscal_period = parse_date(segment.get(2), "PLB02") if segment.get(2) else None
    reader.header["elements"].setdefault("PLB", segment.index)
    found = False
    for position in range(3, 15, 2):
        if not segment.get(position):
            continue
        reason = reader.composite(segment, position, f"PLB{position:02d}")
        try:
            amount = parse_decimal(segment.get(position + 1), f"PLB{position + 1:02d}")
        except BadSegment:
            reader.total_known = False
            raise
        reader.provider_adjustments.append(
            {
                "provider_id": provider_id,
                "fiscal_period": fiscal_period,
                "reason": reason[0],
                "reference": (reason[1] if len(reason) > 1 else "") or None,
                "amount": amount,
                "segment": segment.index,
            }
        )
        found = True
    if not found:
        raise BadSegment("PLB has no adjustment reason and amount (PLB03/PLB04)")
