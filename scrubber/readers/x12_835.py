"""Read X12 835 remittances (005010X221A1) into ``ClaimPayment`` and ``Remittance`` records, streaming.

The tokenizer (``x12_tokens``, shared with the 837P reader) yields segments; the loop table
(``x12_835_loops``) says which loop each segment opens; the handlers below, looked up by
(loop, segment id), copy elements into a builder. A claim payment is yielded when the next one, a new
LX, the PLB summary or the SE starts; the transaction set's ``Remittance`` (BPR/TRN, payer, payee, PLB)
is yielded at its SE. Memory holds one claim payment at a time.

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

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from pydantic import ValidationError

from scrubber.model import ParseIssue
from scrubber.model.remit import ClaimPayment, Remittance
from scrubber.readers.x12_835_loops import LOOP_OPENERS, next_loop
from scrubber.readers.x12_tokens import Segment, TokenIssue, X12SyntaxError, iter_segments

SUPPORTED_VERSIONS = ("005010X221A1", "005010X221")
GROUP_CODES = frozenset({"CO", "CR", "OA", "PI", "PR"})
_PAYMENT_BOUNDARIES = frozenset({"2000", "2100", "PLB"})
_PAYMENT_LOOPS = frozenset({"2100", "2110"})

Record = ClaimPayment | Remittance | ParseIssue


class _BadSegment(ValueError):
    """A segment holds a value we cannot read; the message names the element."""


def read_path(path: str | Path) -> Iterator[Record]:
    """Read one 835 file. A file that cannot be opened becomes a ParseIssue."""
    name = str(path)
    try:
        stream = open(path, "rb")
    except OSError as error:
        yield ParseIssue(file=name, message=f"cannot open file: {error.strerror or error}")
        return
    with stream:
        yield from read(stream, name)


def read(stream: BinaryIO, file: str | None = None) -> Iterator[Record]:
    """Yield every claim payment and remittance in ``stream``, and a ParseIssue for what could not be read."""
    yield from _Reader(file).run(stream)


# --- value parsing -----------------------------------------------------------------------------


def _decimal(text: str, element: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _BadSegment(f"{element} {text!r} is not a number") from None
    if not value.is_finite():
        raise _BadSegment(f"{element} {text!r} is not a number")
    return value


def _optional_decimal(text: str, element: str) -> Decimal | None:
    return _decimal(text, element) if text else None


def _date(text: str, element: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise _BadSegment(f"{element} {text!r} is not a CCYYMMDD date")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise _BadSegment(f"{element} {text!r} is not a valid date") from None


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


_FALLBACK_COMPONENT_SEPARATORS = (">", ":", "^", "|")


def _composite(reader: "_Reader", segment: Segment, position: int, element: str) -> list[str]:
    """Components of a composite, tolerating data written with another separator than ISA16 (warned once)."""
    value = segment.get(position)
    declared = segment.delimiters.component
    if declared in value or not value:
        return value.split(declared)
    for candidate in _FALLBACK_COMPONENT_SEPARATORS:
        if candidate != declared and candidate in value:
            if not reader.warned_component:
                reader.warned_component = True
                reader.report(
                    segment.index,
                    f"{element} {value!r} uses {candidate!r} between components but ISA16 declares "
                    f"{declared!r}; read with {candidate!r}",
                    claim_id=reader.payment.claim_id if reader.payment else None,
                    severity="warning",
                )
            return value.split(candidate)
    return [value]


def _adjustments(reader: "_Reader", segment: Segment) -> list[dict[str, Any]]:
    """CAS: group (CAS01), then up to six reason/amount/quantity triples, each kept."""
    group = segment.get(1)
    if not group:
        raise _BadSegment("CAS01 (group code) is missing")
    if group not in GROUP_CODES:
        reader.report(
            segment.index,
            f"CAS01 {group!r} is not a claim adjustment group code (CO, CR, OA, PI, PR)",
            claim_id=reader.payment.claim_id if reader.payment else None,
            severity="warning",
        )
    adjustments = []
    for start in range(2, 19, 3):
        reason = segment.get(start)
        if not reason:
            if segment.get(start + 1):
                raise _BadSegment(f"CAS{start + 1:02d} has an amount but CAS{start:02d} no reason code")
            continue
        amount = _decimal(segment.get(start + 1), f"CAS{start + 1:02d}")
        quantity = _optional_decimal(segment.get(start + 2), f"CAS{start + 2:02d}")
        adjustments.append(
            {"group": group, "reason": reason, "amount": amount, "quantity": quantity, "segment": segment.index}
        )
    if not adjustments:
        raise _BadSegment("CAS has no reason code")
    return adjustments


# --- the claim payment under construction ------------------------------------------------------


class _PaymentBuilder:
    __slots__ = ("data", "lines", "line", "error", "start", "unchecked_lines")

    def __init__(self, data: dict[str, Any], start: int):
        self.data = data
        self.lines: list[dict[str, Any]] = []
        self.line: dict[str, Any] | None = None
        self.error: ParseIssue | None = None
        self.start = start
        self.unchecked_lines: set[int] = set()  # positions of lines whose amounts could not be read

    @property
    def claim_id(self) -> str | None:
        return self.data.get("claim_id") or None


class _Reader:
    def __init__(self, file: str | None):
        self.file = file
        self.loop = "ISA"
        self.interchange: Segment | None = None
        self.group_count = 0
        self.transaction_count = 0
        self.transaction: Segment | None = None
        self.implementation: str | None = None
        self.header: dict[str, Any] = {}
        self.provider_adjustments: list[dict[str, Any]] = []
        self.payment: _PaymentBuilder | None = None
        self.claim_count = 0
        self.total_paid = Decimal(0)
        self.total_known = True  # false once a CLP04 or PLB amount could not be read
        self.payments_seen = 0
        self.out: list[Record] = []
        self.warned_component = False

    def issue(self, segment: int | None, message: str, **extra: Any) -> ParseIssue:
        return ParseIssue(file=self.file, segment=segment, message=message, **extra)

    def report(self, segment: int | None, message: str, **extra: Any) -> None:
        self.out.append(self.issue(segment, message, **extra))

    # --- driver ---------------------------------------------------------------------------------

    def run(self, stream: BinaryIO) -> Iterator[Record]:
        out = self.out
        try:
            for token in iter_segments(stream):
                if token.__class__ is TokenIssue:
                    self.on_token_issue(token)
                else:
                    self.on_segment(token)
                if out:
                    yield from out
                    out.clear()
        except X12SyntaxError as error:
            self.close_payment_as_unreadable(error.segment, str(error))
            self.report(error.segment, str(error), location="envelope")
            if self.interchange is not None and self.loop != "IEA":
                self.report(None, "file ends without an IEA segment (truncated?)", location="envelope")
            yield from out
            return
        except OSError as error:
            self.close_payment_as_unreadable(None, f"read error: {error}")
            self.report(None, f"read error: {error}")
            yield from out
            return
        self.at_end_of_input()
        yield from out

    def on_token_issue(self, token: TokenIssue) -> None:
        message = f"unreadable segment: {token.message}"
        if self.payment is not None:
            self.break_payment(token.index, message)
        else:
            self.report(token.index, message)

    def on_segment(self, segment: Segment) -> None:
        segment_id = segment.elements[0]
        envelope = _ENVELOPE.get(segment_id)
        if envelope is not None:
            envelope(self, segment)
            return
        if self.transaction is None:
            self.report(segment.index, f"{segment_id} segment outside a transaction set (ST/SE)", location="envelope")
            return
        if segment_id in LOOP_OPENERS:
            loop = next_loop(self.loop, segment_id, segment.elements)
            if loop is not None:
                if loop in _PAYMENT_BOUNDARIES:
                    self.finish_payment()
                self.loop = loop
        handler = _HANDLERS_BY_LOOP.get(self.loop, _NO_HANDLERS).get(segment_id)
        if handler is None:
            return
        payment = self.payment
        if payment is None and self.loop in _PAYMENT_LOOPS and segment_id not in ("CLP", "SVC"):
            return  # the rest of a payment whose CLP could not be read, or of an SVC without a CLP
        if payment is not None and payment.error is not None:
            return  # skip the rest of a broken claim payment
        try:
            handler(self, segment)
        except (_BadSegment, IndexError, ValueError) as error:
            message = f"{self.loop} {segment_id}: {error}"
            if self.payment is not None:
                self.break_payment(segment.index, message)
            else:
                self.report(segment.index, message)

    def at_end_of_input(self) -> None:
        if self.payment is not None:
            self.close_payment_as_unreadable(None, "file ends inside this claim payment, before its SE (truncated?)")
        if self.interchange is None and self.payments_seen == 0:
            self.report(None, "no X12 interchange found (empty input?)", location="envelope")
        elif self.loop != "IEA":
            self.report(None, "file ends without an IEA segment (truncated?)", location="envelope")

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
        self.payment = _PaymentBuilder(data, segment.index)
        return self.payment

    def break_payment(self, segment: int | None, message: str) -> None:
        payment = self.payment
        assert payment is not None
        if payment.error is None:
            payment.error = self.issue(segment, message, claim_id=payment.claim_id, unreadable_claim=True)

    def close_payment_as_unreadable(self, segment: int | None, message: str) -> None:
        if self.payment is None:
            return
        self.break_payment(segment, message)
        self.finish_payment()

    def finish_payment(self) -> None:
        builder = self.payment
        if builder is None:
            return
        self.payment = None
        self.payments_seen += 1
        if builder.error is not None:
            self.out.append(builder.error)
            return
        data = builder.data
        data["lines"] = builder.lines
        try:
            payment = ClaimPayment.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self.report(
                builder.start,
                f"claim payment does not fit the model at {where}: {first['msg']}",
                claim_id=builder.claim_id,
                unreadable_claim=True,
            )
            return
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

    def start_transaction(self, segment: Segment) -> None:
        self.transaction = segment
        self.transaction_count += 1
        self.warned_component = False
        self.header = {"elements": {"ST": segment.index}}
        self.provider_adjustments = []
        self.claim_count = 0
        self.total_paid = Decimal(0)
        self.total_known = True
        self.loop = "ST"

    def finish_transaction(self, segment: Segment) -> None:
        """At SE: close the last payment, check the payment total, yield the Remittance."""
        self.finish_payment()
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


def _envelope_handlers() -> dict[str, Callable[[_Reader, Segment], None]]:
    def isa(reader: _Reader, segment: Segment) -> None:
        reader.finish_payment()
        if reader.interchange is not None and reader.loop != "IEA":
            reader.report(segment.index, "ISA before the previous interchange's IEA", location="envelope")
        reader.interchange = segment
        reader.group_count = 0
        reader.transaction = None
        reader.loop = "ISA"

    def gs(reader: _Reader, segment: Segment) -> None:
        reader.group_count += 1
        reader.transaction_count = 0
        reader.implementation = segment.get(8) or None
        reader.loop = "GS"

    def st(reader: _Reader, segment: Segment) -> None:
        if reader.transaction is not None:
            reader.close_payment_as_unreadable(segment.index, "ST before the previous transaction set's SE")
            reader.report(segment.index, "ST before the previous transaction set's SE", location="envelope")
        if segment.get(1) != "835":
            reader.report(segment.index, f"ST01 is {segment.get(1)!r}: not an 835 transaction set", location="envelope")
        version = segment.get(3) or reader.implementation
        if version and version not in SUPPORTED_VERSIONS:
            reader.report(
                segment.index,
                f"implementation {version!r} is not 005010X221A1; reading it as an 835 anyway",
                location="envelope",
                severity="warning",
            )
        reader.start_transaction(segment)

    def se(reader: _Reader, segment: Segment) -> None:
        transaction = reader.transaction
        if transaction is None:
            reader.report(segment.index, "SE without ST", location="envelope")
            reader.loop = "SE"
            return
        reader.finish_transaction(segment)
        counted = segment.index - transaction.index + 1
        if segment.get(1) != str(counted):
            reader.report(
                segment.index,
                f"SE01 says {segment.get(1)!r} segments but the transaction set has {counted}",
                location="envelope",
            )
        if segment.get(2) != transaction.get(2):
            reader.report(
                segment.index, f"SE02 {segment.get(2)!r} does not match ST02 {transaction.get(2)!r}", location="envelope"
            )
        reader.transaction = None
        reader.loop = "SE"

    def close_transaction(reader: _Reader, segment: Segment, closer: str) -> None:
        if reader.transaction is not None:
            reader.close_payment_as_unreadable(segment.index, f"{closer} before the transaction set's SE")
            reader.report(segment.index, f"{closer} before the transaction set's SE", location="envelope")
            reader.transaction = None

    def ge(reader: _Reader, segment: Segment) -> None:
        close_transaction(reader, segment, "GE")
        if segment.get(1) != str(reader.transaction_count):
            reader.report(
                segment.index,
                f"GE01 says {segment.get(1)!r} transaction sets but the group has {reader.transaction_count}",
                location="envelope",
            )
        reader.loop = "GE"

    def iea(reader: _Reader, segment: Segment) -> None:
        close_transaction(reader, segment, "IEA")
        if segment.get(1) != str(reader.group_count):
            reader.report(
                segment.index,
                f"IEA01 says {segment.get(1)!r} functional groups but the interchange has {reader.group_count}",
                location="envelope",
            )
        reader.loop = "IEA"

    return {"ISA": isa, "GS": gs, "ST": st, "SE": se, "GE": ge, "IEA": iea}


_ENVELOPE = _envelope_handlers()


# --- segment handlers, by (loop, segment id) ------------------------------------------------------

Handler = Callable[[_Reader, Segment], None]
_HANDLERS: dict[tuple[str, str], Handler] = {}


def _on(loop: str | tuple[str, ...], segment_id: str) -> Callable[[Handler], Handler]:
    loops = (loop,) if isinstance(loop, str) else loop

    def register(function: Handler) -> Handler:
        for name in loops:
            _HANDLERS[(name, segment_id)] = function
        return function

    return register


@_on("ST", "BPR")
def _bpr(reader: _Reader, segment: Segment) -> None:
    header = reader.header
    header["elements"]["BPR"] = segment.index
    header["handling"] = segment.get(1) or None
    header["credit_debit"] = segment.get(3) or None
    header["method"] = segment.get(4) or None
    if segment.get(16):
        try:
            header["payment_date"] = _date(segment.get(16), "BPR16")
        except _BadSegment as error:  # only the date is lost: the payment and its claims read on
            reader.report(segment.index, f"ST BPR: {error}; the payment date is left empty", severity="warning")
    header["amount"] = _decimal(segment.get(2), "BPR02")


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
        raise _BadSegment("CLP01 (patient control number) is missing")
    status = segment.get(2)
    if not status:
        raise _BadSegment("CLP02 (claim status) is missing")
    data["status"] = status
    data["charge"] = _decimal(segment.get(3), "CLP03")
    data["paid"] = _decimal(segment.get(4), "CLP04")
    reader.total_paid += data["paid"]
    reader.total_known = known
    data["patient_responsibility"] = _optional_decimal(segment.get(5), "CLP05")
    data["filing_indicator"] = segment.get(6) or None
    data["payer_claim_number"] = segment.get(7) or None
    data["facility_code"] = segment.get(8) or None
    data["frequency"] = segment.get(9) or None


@_on("2100", "CAS")
def _claim_adjustments(reader: _Reader, segment: Segment) -> None:
    data = reader.payment.data  # type: ignore[union-attr]
    data["adjustments"].extend(_adjustments(reader, segment))
    data["elements"].setdefault("CAS", segment.index)


def _remarks(segment: Segment, positions: range | tuple[int, ...]) -> list[str]:
    return [segment.get(position) for position in positions if segment.get(position)]


@_on("2100", "MOA")
def _outpatient_remarks(reader: _Reader, segment: Segment) -> None:
    data = reader.payment.data  # type: ignore[union-attr]
    data["remarks"].extend(_remarks(segment, range(3, 8)))
    data["elements"]["MOA"] = segment.index


@_on("2100", "MIA")
def _inpatient_remarks(reader: _Reader, segment: Segment) -> None:
    data = reader.payment.data  # type: ignore[union-attr]
    data["remarks"].extend(_remarks(segment, (5, 20, 21, 22, 23)))
    data["elements"]["MIA"] = segment.index


@_on("2100", "DTM")
def _claim_date(reader: _Reader, segment: Segment) -> None:
    field = {"232": "statement_from", "233": "statement_to"}.get(segment.get(1))
    if field is not None:
        data = reader.payment.data  # type: ignore[union-attr]
        data[field] = _date(segment.get(2), "DTM02")
        data["elements"][f"DTM*{segment.get(1)}"] = segment.index


@_on("2110", "SVC")
def _svc(reader: _Reader, segment: Segment) -> None:
    payment = reader.payment
    if payment is None:
        raise _BadSegment("SVC before any CLP: a service line needs its claim payment")
    line: dict[str, Any] = {"segment": segment.index, "adjustments": [], "remarks": [], "elements": {"SVC": segment.index}}
    payment.line = line
    payment.lines.append(line)
    procedure = _composite(reader, segment, 1, "SVC01")
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
    line["charge"] = _decimal(segment.get(2), "SVC02")
    line["paid"] = _decimal(segment.get(3), "SVC03")
    line["revenue_code"] = segment.get(4) or None
    line["units"] = _optional_decimal(segment.get(5), "SVC05")
    if segment.get(6):
        submitted = _composite(reader, segment, 6, "SVC06")
        line["submitted_procedure"] = (submitted[1] if len(submitted) > 1 else "") or None
        line["submitted_modifiers"] = [modifier for modifier in submitted[2:6] if modifier]


@_on("2110", "DTM")
def _service_date(reader: _Reader, segment: Segment) -> None:
    field = {"472": "service_date", "150": "service_date", "151": "service_end_date"}.get(segment.get(1))
    if field is not None:
        line = reader.payment.line  # type: ignore[union-attr]
        line[field] = _date(segment.get(2), "DTM02")
        line["elements"][f"DTM*{segment.get(1)}"] = segment.index


@_on("2110", "CAS")
def _line_adjustments(reader: _Reader, segment: Segment) -> None:
    line = reader.payment.line  # type: ignore[union-attr]
    line["adjustments"].extend(_adjustments(reader, segment))
    line["elements"].setdefault("CAS", segment.index)


@_on("2110", "REF")
def _line_reference(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "6R":
        line = reader.payment.line  # type: ignore[union-attr]
        line["control_number"] = segment.get(2) or None
        line["elements"]["REF*6R"] = segment.index


@_on("2110", "AMT")
def _line_amount(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "B6":
        line = reader.payment.line  # type: ignore[union-attr]
        line["allowed"] = _decimal(segment.get(2), "AMT02")
        line["elements"]["AMT*B6"] = segment.index


@_on("2110", "LQ")
def _line_remark(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "HE" and segment.get(2):
        line = reader.payment.line  # type: ignore[union-attr]
        line["remarks"].append(segment.get(2))
        line["elements"].setdefault("LQ", segment.index)


@_on("PLB", "PLB")
def _plb(reader: _Reader, segment: Segment) -> None:
    provider_id = segment.get(1) or None
    fiscal_period = _date(segment.get(2), "PLB02") if segment.get(2) else None
    reader.header["elements"].setdefault("PLB", segment.index)
    found = False
    for position in range(3, 15, 2):
        if not segment.get(position):
            continue
        reason = _composite(reader, segment, position, f"PLB{position:02d}")
        try:
            amount = _decimal(segment.get(position + 1), f"PLB{position + 1:02d}")
        except _BadSegment:
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
        raise _BadSegment("PLB has no adjustment reason and amount (PLB03/PLB04)")


# Handlers grouped by loop, so the hot path does two plain dict lookups per segment.
_HANDLERS_BY_LOOP: dict[str, dict[str, Handler]] = {}
for (_loop, _segment_id), _handler in _HANDLERS.items():
    _HANDLERS_BY_LOOP.setdefault(_loop, {})[_segment_id] = _handler
_NO_HANDLERS: dict[str, Handler] = {}
