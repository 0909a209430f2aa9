"""Read X12 835 remittances (005010X221A1) into ``ClaimPayment`` and ``Remittance`` records, streaming.

The tokenizer (``x12_tokens``, shared with the 837P reader) yields segments; the loop table
(``x12_835_loops``) says which loop each segment opens; the handlers below, looked up by
(loop, segment id), read the segment's values through its row of the element map
(``scrubber/x12map/835.yaml``, compiled by ``x12_elements``) into a builder. Each record's ``elements``
maps a model field (``paid``, ``control_number``) to the segment it was read from, as in the 837P. The driver and the envelope (ISA/GS/ST/SE/GE/IEA)
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
from scrubber.readers.x12_elements import compile_element
from scrubber.readers.x12_values import BadSegment, cas_adjustments
from scrubber.x12map import ElementRow, SegmentRow, element_map

SUPPORTED_VERSIONS = ("005010X221A1", "005010X221")

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
            "elements": {},
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
                    f"2110 SVC does not balance: {_N['svc_charge']} {_money(line.charge)} - line CAS {_money(adjusted)} = "
                    f"{_money(line.charge - adjusted)}, but {_N['svc_paid']} (paid) is {_money(line.paid)}",
                    claim_id=payment.claim_id,
                    location="balancing",
                    severity="warning",
                )
        adjusted = sum((adj.amount for adj in payment.all_adjustments), Decimal(0))
        if payment.charge - adjusted != payment.paid:
            self.report(
                payment.source.segment,
                f"2100 CLP does not balance: {_N['clp_charge']} {_money(payment.charge)} - claim and line CAS "
                f"{_money(adjusted)} = {_money(payment.charge - adjusted)}, but {_N['clp_paid']} (paid) is "
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
        self.header = {"elements": {}}
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
                remittance.elements.get("amount", remittance.source.segment),  # the BPR (BPR02)
                f"payment does not balance: {_N['bpr_amount']} {_money(actual)} but sum of {_N['clp_paid']} "
                f"{_money(remittance.total_paid)}"
                f" - PLB {_money(plb)} = {_money(expected)}",
                location="balancing",
                severity="warning",
            )


# --- segment handlers, by (loop, segment id) ------------------------------------------------------
#
# Every value is read through its row of the element map (scrubber/x12map/835.yaml). The handlers say
# where a record starts (CLP, SVC) and hold what the map cannot: the lenient BPR16, the running CLP04
# total, strict CAS, the SVC without a procedure code, the REF*2U fallback and the PLB pairs.


@_on("ST", "BPR")
def _bpr(reader: _Reader, segment: Segment) -> None:
    header = reader.header
    _fill(_BPR, segment, reader, header, ("handling", "credit_debit", "method"))
    try:
        _fill(_BPR, segment, reader, header, ("payment_date",))
    except BadSegment as error:  # only the date is lost: the payment and its claims read on
        reader.report(segment.index, f"ST BPR: {error}; the payment date is left empty", severity="warning")
    _fill(_BPR, segment, reader, header, ("amount",))


@_on("ST", "TRN")
def _trn(reader: _Reader, segment: Segment) -> None:
    _fill(_TRN, segment, reader, reader.header)


@_on("1000A", "N1")
def _payer(reader: _Reader, segment: Segment) -> None:
    _fill(_N1_PR, segment, reader, reader.header)


@_on("1000A", "REF")
def _payer_reference(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == _REF_2U.row.qualifier and not reader.header.get("payer_id"):
        _fill(_REF_2U, segment, reader, reader.header)


@_on("1000B", "N1")
def _payee(reader: _Reader, segment: Segment) -> None:
    _fill(_N1_PE, segment, reader, reader.header)


@_on("2100", "CLP")
def _clp(reader: _Reader, segment: Segment) -> None:
    payment = reader.new_payment(segment)
    data = payment.data
    reader.claim_count += 1
    known, reader.total_known = reader.total_known, False  # unknown until CLP04 is read
    _fill(_CLP, segment, reader, data, _CLP_THROUGH_PAID)
    reader.total_paid += data[_PAID]
    reader.total_known = known
    _fill(_CLP, segment, reader, data, _CLP_AFTER_PAID)


@_on("2100", "CAS")
def _claim_adjustments(reader: _Reader, segment: Segment) -> None:
    _read_adjustments(reader, segment, _CLAIM_CAS, reader.record.data)  # type: ignore[union-attr]


@_on("2100", "MOA")
def _outpatient_remarks(reader: _Reader, segment: Segment) -> None:
    _fill(_MOA, segment, reader, reader.record.data)  # type: ignore[union-attr]


@_on("2100", "MIA")
def _inpatient_remarks(reader: _Reader, segment: Segment) -> None:
    _fill(_MIA, segment, reader, reader.record.data)  # type: ignore[union-attr]


@_on("2100", "DTM")
def _claim_date(reader: _Reader, segment: Segment) -> None:
    row = _CLAIM_DATES.get(segment.get(1))
    if row is not None:
        _fill(row, segment, reader, reader.record.data)  # type: ignore[union-attr]


@_on("2110", "SVC")
def _svc(reader: _Reader, segment: Segment) -> None:
    payment = reader.record
    if payment is None:
        raise BadSegment("SVC before any CLP: a service line needs its claim payment")
    line: dict[str, Any] = {"segment": segment.index, "adjustments": [], "remarks": [], "elements": {}}
    payment.line = line
    payment.lines.append(line)
    _fill(_SVC, segment, reader, line, _SVC_PROCEDURE)
    if "procedure" not in line:
        # Without SVC01-2 the rest of the segment cannot be trusted (a known sample writes HC*24599.00*...).
        payment.unchecked_lines.add(len(payment.lines) - 1)
        composite = _SVC_CODE.name.split("-")[0]
        reader.report(
            segment.index,
            f"2110 SVC: {composite} {segment.get(_SVC_CODE.position)!r} has no procedure code, so the elements "
            "after it cannot be trusted; the line is kept without amounts and left out of line balancing",
            claim_id=payment.claim_id,
            severity="warning",
        )
        return
    _fill(_SVC, segment, reader, line, _SVC_AFTER_PROCEDURE)


@_on("2110", "DTM")
def _service_date(reader: _Reader, segment: Segment) -> None:
    row = _LINE_DATES.get(segment.get(1))
    if row is not None:
        _fill(row, segment, reader, reader.record.line)  # type: ignore[union-attr]


@_on("2110", "CAS")
def _line_adjustments(reader: _Reader, segment: Segment) -> None:
    _read_adjustments(reader, segment, _LINE_CAS, reader.record.line)  # type: ignore[union-attr]


@_on("2110", "REF")
def _line_reference(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == _REF_6R.row.qualifier:
        _fill(_REF_6R, segment, reader, reader.record.line)  # type: ignore[union-attr]


@_on("2110", "AMT")
def _line_amount(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == _AMT_B6.row.qualifier:
        _fill(_AMT_B6, segment, reader, reader.record.line)  # type: ignore[union-attr]


@_on("2110", "LQ")
def _line_remark(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == _LQ_HE.row.qualifier:
        _fill(_LQ_HE, segment, reader, reader.record.line)  # type: ignore[union-attr]


@_on("PLB", "PLB")
def _plb(reader: _Reader, segment: Segment) -> None:
    """PLB01/PLB02, then each reason/amount pair (PLB03/04 ... PLB13/14) as one provider adjustment."""
    cache: dict[int, list[str]] = {}
    provider_id = _PLB_PROVIDER(segment, reader, cache)
    fiscal_period = _PLB_PERIOD(segment, reader, cache)
    reader.header["elements"].setdefault("provider_adjustments", segment.index)
    found = False
    for reason_element, read_reason, read_reference, amount_element, read_amount in _PLB_PAIRS:
        if not segment.get(reason_element.position):
            continue
        try:
            reason = read_reason(segment, reader, cache)
            if reason is None:
                raise BadSegment(f"{reason_element.name} ({reason_element.meaning}) is missing")
            amount = read_amount(segment, reader, cache)
            if amount is None:
                raise BadSegment(f"{amount_element.name} ({amount_element.meaning}) is missing")
        except BadSegment:
            reader.total_known = False
            raise
        reader.provider_adjustments.append(
            {
                "provider_id": provider_id,
                "fiscal_period": fiscal_period,
                "reason": reason,
                "reference": read_reference(segment, reader, cache),
                "amount": amount,
                "segment": segment.index,
            }
        )
        found = True
    if not found:
        first = _PLB_PAIRS[0]
        raise BadSegment(f"PLB has no adjustment reason and amount ({first[0].name.split('-')[0]}/{first[3].name})")


# --- reading through the element map -------------------------------------------------------------


def _fill(row: _Row, segment: Segment, reader: _Reader, record: dict[str, Any], fields: tuple[str, ...] | None = None) -> None:
    """Read ``row``'s elements (those filling ``fields``, when given) into ``record``, in map order.

    A value replaces the field's, an absent one leaves it (a required one raises), a list is added to the
    field's list (remarks from MOA, MIA and LQ add up). ``record["elements"][field]`` is the segment a
    value came from. Unlike ``x12_elements.CompiledRow.read`` (837P), a repeated segment is not refused: the 835
    reader has always taken the last one, and still does.
    """
    positions = record["elements"]
    cache: dict[int, list[str]] = {}
    index = segment.index
    for element, read in row.readers:
        field = element.field
        if fields is not None and field not in fields:
            continue
        value = read(segment, reader, cache)
        if isinstance(value, list):
            if value:
                record.setdefault(field, []).extend(value)
                positions.setdefault(field, index)
        elif value is None:
            if element.required:
                raise BadSegment(f"{element.name} ({element.meaning}) is missing")
        else:
            record[field] = value
            positions[field] = index


def _read_adjustments(reader: _Reader, segment: Segment, row: _Row, record: dict[str, Any]) -> None:
    """CAS, strictly (an amount needs its reason); a group code outside the map's list is a warning."""
    element = row.row.elements[0]
    group = segment.get(element.position)
    if group and group not in GROUP_CODES:  # a missing one is refused by cas_adjustments
        reader.report(
            segment.index,
            f"{element.segment}{element.position:02d} {group!r} is not a claim adjustment group code "
            f"({', '.join(sorted(GROUP_CODES))})",
            **reader.warning_context(),
            severity="warning",
        )
    adjustments = cas_adjustments(segment, strict=True)
    for adjustment in adjustments:
        adjustment["segment"] = segment.index
    record[element.field].extend(adjustments)
    record["elements"].setdefault(element.field, segment.index)


def _row(loop: str, segment: str) -> _Row:
    """The compiled map row of ``segment`` (``DTM*232``) in ``loop``; a missing row fails at import."""
    return _ROWS[(loop, segment)]


def _dates(loop: str) -> dict[str | None, _Row]:
    """The loop's DTM rows by qualifier (DTM01)."""
    return {row.row.qualifier: row for (in_loop, _), row in _ROWS.items() if in_loop == loop and row.row.segment_id == "DTM"}


def _element(row: _Row, field: str) -> ElementRow:
    (element,) = [element for element in row.row.elements if element.field == field]
    return element


def _fields(row: _Row, after: str | None = None, through: str | None = None) -> tuple[str, ...]:
    """The row's fields in map order: those after ``after`` or up to and with ``through``."""
    names = [element.field for element in row.row.elements]
    if through is not None:
        return tuple(names[: names.index(through) + 1])
    return tuple(names[names.index(after) + 1 :] if after is not None else names)


class _Row:
    """A map row with a value reader per element (``x12_elements.compile_element``)."""

    __slots__ = ("row", "readers")

    def __init__(self, row: SegmentRow):
        self.row = row
        self.readers = tuple((element, compile_element(element)) for element in row.elements)


ELEMENT_MAP = element_map("835")
_ROWS = {(row.loop, row.segment): _Row(row) for row in ELEMENT_MAP.segments}
_BPR, _TRN = _row("ST", "BPR"), _row("ST", "TRN")
_N1_PR, _REF_2U, _N1_PE = _row("1000A", "N1*PR"), _row("1000A", "REF*2U"), _row("1000B", "N1*PE")
_CLP, _CLAIM_CAS, _MOA, _MIA = _row("2100", "CLP"), _row("2100", "CAS"), _row("2100", "MOA"), _row("2100", "MIA")
_PAID = _element(_CLP, "paid").field
_CLP_THROUGH_PAID, _CLP_AFTER_PAID = _fields(_CLP, through=_PAID), _fields(_CLP, after=_PAID)
_CLAIM_DATES = _dates("2100")
_SVC, _LINE_CAS = _row("2110", "SVC"), _row("2110", "CAS")
_SVC_CODE = _element(_SVC, "procedure")
_SVC_PROCEDURE, _SVC_AFTER_PROCEDURE = _fields(_SVC, through="procedure"), _fields(_SVC, after="procedure")
_LINE_DATES = _dates("2110")
_REF_6R, _AMT_B6, _LQ_HE = _row("2110", "REF*6R"), _row("2110", "AMT*B6"), _row("2110", "LQ*HE")
GROUP_CODES = _element(_CLAIM_CAS, "adjustments").codes or frozenset()
assert GROUP_CODES == _element(_LINE_CAS, "adjustments").codes, "835.yaml: the 2100 and 2110 CAS group codes differ"


def _plb_readers() -> tuple[Any, Any, tuple[tuple[ElementRow, Any, Any, ElementRow, Any], ...]]:
    """PLB01 and PLB02 readers, and per pair: (reason element, reason, reference, amount element, amount)."""
    by_field: dict[str, list[tuple[ElementRow, Any]]] = {}
    for element, read in _row("PLB", "PLB").readers:
        by_field.setdefault(element.field, []).append((element, read))
    (_, provider), (_, period) = by_field["provider_id"][0], by_field["fiscal_period"][0]
    pairs = tuple(
        (reason[0], reason[1], reference[1], amount[0], amount[1])
        for reason, reference, amount in zip(by_field["reason"], by_field["reference"], by_field["amount"], strict=True)
    )
    for (reason, _), (reference, _), (amount, _) in zip(by_field["reason"], by_field["reference"], by_field["amount"]):
        # PLB03-1 / PLB03-2 / PLB04, and so on
        assert reference.position == reason.position and amount.position == reason.position + 1, f"835.yaml: {reason.name}"
    return provider, period, pairs


_PLB_PROVIDER, _PLB_PERIOD, _PLB_PAIRS = _plb_readers()
# The elements the balancing notices name (SVC02, SVC03, CLP03, CLP04, BPR02), from the map.
_N = {
    "svc_charge": _element(_SVC, "charge").name,
    "svc_paid": _element(_SVC, "paid").name,
    "clp_charge": _element(_CLP, "charge").name,
    "clp_paid": _element(_CLP, "paid").name,
    "bpr_amount": _element(_BPR, "amount").name,
}
