"""Read X12 837P (005010X222A1 / A2) into ``Claim`` records, one claim at a time.

The tokenizer (``x12_tokens``) yields segments; the loop table (``x12_837p_loops``) says which loop each
segment opens; the handlers below, looked up by (loop, segment id), copy elements into a claim builder.
A claim is emitted when the next claim, hierarchy level or transaction set starts, so memory holds
one claim at a time.

Bad input never raises: a claim that cannot be read becomes a ``ParseIssue`` with
``unreadable_claim=True`` (reading resumes at the next claim); envelope problems (ISA/GS/ST/SE/GE/IEA)
become ``ParseIssue``s without a claim, and every claim that could be read is still yielded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from pydantic import ValidationError

from scrubber.model import Claim, ParseIssue
from scrubber.readers.x12_837p_loops import LOOP_OPENERS, next_loop
from scrubber.readers.x12_tokens import Segment, TokenIssue, X12SyntaxError, iter_segments

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})
SUPPORTED_VERSIONS = ("005010X222A1", "005010X222A2", "005010X222")


class _BadSegment(ValueError):
    """A segment holds a value we cannot read; the message names the element."""


def read_path(path: str | Path, shard: tuple[int, int] | None = None) -> Iterator[Claim | ParseIssue]:
    """Read one 837P file. A file that cannot be opened becomes a ParseIssue."""
    name = str(path)
    try:
        stream = open(path, "rb")
    except OSError as error:
        yield ParseIssue(file=name, message=f"cannot open file: {error.strerror or error}")
        return
    with stream:
        yield from read(stream, name, shard)


def read(stream: BinaryIO, file: str | None = None, shard: tuple[int, int] | None = None) -> Iterator[Claim | ParseIssue]:
    """Yield every claim in ``stream`` and a ParseIssue for everything that could not be read.

    ``shard=(k, n)`` reads only the claims whose position in the file (0, 1, 2, ... counting every CLM
    segment) is k modulo n: n processes reading the same file with k = 0..n-1 together read every
    claim exactly once. Each still sees the whole envelope, so envelope issues come from all of them.
    """
    yield from _Reader(file, shard).run(stream)


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


def _date(qualifier: str, text: str, element: str) -> dt.date:
    if qualifier == "RD8" and "-" in text:
        text = text.split("-", 1)[0]  # a range: the start date is the date of service
    if len(text) != 8 or not text.isdigit():
        raise _BadSegment(f"{element} {text!r} is not a CCYYMMDD date")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise _BadSegment(f"{element} {text!r} is not a valid date") from None


def _int(text: str, element: str) -> int:
    if not text.isdigit():
        raise _BadSegment(f"{element} {text!r} is not a whole number")
    return int(text)


def _adjustments(segment: Segment) -> list[dict[str, Any]]:
    """CAS: group (CAS01) then up to six reason/amount/quantity triples."""
    group = segment.get(1)
    if not group:
        raise _BadSegment("CAS01 (group code) is missing")
    adjustments = []
    for start in range(2, 19, 3):
        reason = segment.get(start)
        if not reason:
            continue
        amount = _decimal(segment.get(start + 1), f"CAS{start + 1:02d}")
        quantity = _optional_decimal(segment.get(start + 2), f"CAS{start + 2:02d}")
        adjustments.append({"group": group, "reason": reason, "amount": amount, "quantity": quantity})
    return adjustments


_FALLBACK_COMPONENT_SEPARATORS = (">", ":", "^", "|")


def _composite(reader: "_Reader", segment: Segment, position: int, element: str) -> list[str]:
    """Components of a composite element, tolerating files whose data uses another separator than ISA16.

    Real files (some in the shared samples) declare ':' in ISA16 and write 'HC>99213'; we read them and
    say so once per transaction set as a warning.
    """
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
                    severity="warning",
                )
            return value.split(candidate)
    return [value]


def _pointer(text: str) -> int:
    """A diagnosis pointer (SV107); some files write '1.00' for 1."""
    if text.isdigit():
        return int(text)
    value = _decimal(text, "SV107")
    if value != value.to_integral_value() or value < 1:
        raise _BadSegment(f"SV107 {text!r} is not a diagnosis pointer")
    return int(value)


def _npi(segment: Segment) -> str | None:
    return segment.get(9) if segment.get(8) == "XX" else (segment.get(9) or None)


# --- the claim under construction ---------------------------------------------------------------


class _ClaimBuilder:
    __slots__ = ("data", "lines", "other_payers", "line", "other_payer", "adjudication", "error", "start")

    def __init__(self, data: dict[str, Any], start: int):
        self.data = data
        self.lines: list[dict[str, Any]] = []
        self.other_payers: list[dict[str, Any]] = []
        self.line: dict[str, Any] | None = None
        self.other_payer: dict[str, Any] | None = None
        self.adjudication: dict[str, Any] | None = None
        self.error: ParseIssue | None = None
        self.start = start

    @property
    def claim_id(self) -> str | None:
        return self.data.get("claim_id") or None


class _Reader:
    def __init__(self, file: str | None, shard: tuple[int, int] | None = None):
        self.file = file
        self.shard = shard
        self.ordinal = 0  # CLM segments seen so far (the claim's position, for sharding)
        self.skipping = False  # inside a claim another shard reads
        self.loop = "ISA"
        self.interchange: Segment | None = None
        self.group_count = 0
        self.group: Segment | None = None
        self.transaction_count = 0
        self.transaction: Segment | None = None
        self.implementation: str | None = None
        self.batch_date: dt.date | None = None
        self.billing: dict[str, Any] = {}
        self.subscriber_context: dict[str, Any] = {}
        self.patient: dict[str, Any] | None = None
        self.claim: _ClaimBuilder | None = None
        self.claims_seen = 0
        self.out: list[Claim | ParseIssue] = []  # produced by the current segment, handed on by run()
        self.warned_component = False
        self.outside_reported = False  # "outside a transaction set" is said once per stretch

    def issue(self, segment: int | None, message: str, **extra: Any) -> ParseIssue:
        return ParseIssue(file=self.file, segment=segment, message=message, **extra)

    def report(self, segment: int | None, message: str, **extra: Any) -> None:
        self.out.append(self.issue(segment, message, **extra))

    # --- driver ---------------------------------------------------------------------------------
    # Handlers append what they produce to ``self.out``; ``run`` hands it on after each segment.
    # (A generator per segment cost a third of the reading time.)

    def run(self, stream: BinaryIO) -> Iterator[Claim | ParseIssue]:
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
            self.close_claim_as_unreadable(error.segment, str(error))
            self.report(error.segment, str(error), location="envelope")
            self.at_end_of_input(after_error=True)
            yield from out
            return
        except OSError as error:
            self.close_claim_as_unreadable(None, f"read error: {error}")
            self.report(None, f"read error: {error}")
            yield from out
            return
        self.at_end_of_input()
        yield from out

    def on_token_issue(self, token: TokenIssue) -> None:
        if self.skipping:
            return  # inside another shard's claim: that shard reports it
        message = f"unreadable segment: {token.message}"
        if self.claim is not None:
            self.break_claim(token.index, message)
        else:
            self.report(token.index, message)

    def on_segment(self, segment: Segment) -> None:
        segment_id = segment.elements[0]
        envelope = _ENVELOPE.get(segment_id)
        if envelope is not None:
            self.skipping = False
            envelope(self, segment)
            return
        if self.transaction is None:
            self.outside_transaction(segment)
            return
        if segment_id in LOOP_OPENERS:
            loop = next_loop(self.loop, segment_id, segment.elements)
            if loop is not None:
                if loop in _CLAIM_BOUNDARIES:
                    self.finish_claim()
                    self.skipping = loop == "2300" and not self.owns_next_claim()
                self.loop = loop
        if self.skipping:
            return
        handler = _HANDLERS_BY_LOOP.get(self.loop, _NO_HANDLERS).get(segment_id)
        if handler is None:
            return
        claim = self.claim
        if claim is not None and claim.error is not None:
            return  # skip the rest of a broken claim
        try:
            handler(self, segment)
        except (_BadSegment, IndexError, ValueError) as error:
            message = f"{self.loop} {segment_id}: {error}"
            if self.claim is not None:
                self.break_claim(segment.index, message)
            else:
                self.report(segment.index, message)

    def owns_next_claim(self) -> bool:
        """Count a CLM segment; True when this reader's shard reads that claim."""
        ordinal = self.ordinal
        self.ordinal += 1
        return self.shard is None or ordinal % self.shard[1] == self.shard[0]

    def outside_transaction(self, segment: Segment) -> None:
        """A segment between SE and the next ST (a corrupt ST, a spurious SE): report it once, and
        still account for every claim in it as unreadable, so no claim vanishes."""
        if segment.elements[0] == "CLM" and not self.owns_next_claim():
            return
        if segment.elements[0] == "CLM":
            self.claims_seen += 1
            self.report(
                segment.index,
                "claim outside a transaction set (no ST before it, or a corrupt SE ended it early)",
                claim_id=segment.get(1) or None,
                unreadable_claim=True,
                claim_segment=segment.index,
            )
        elif not self.outside_reported:
            self.report(
                segment.index,
                f"{segment.elements[0]} segment outside a transaction set (ST/SE); "
                "skipping to the next ST (claims in between are reported as unreadable)",
                location="envelope",
            )
        self.outside_reported = True

    def at_end_of_input(self, after_error: bool = False) -> None:
        if self.claim is not None:
            self.close_claim_as_unreadable(None, "file ends inside this claim, before its SE segment (truncated?)")
        if self.interchange is None and self.claims_seen == 0:
            if not after_error:  # the error already said what was found instead
                self.report(None, "no X12 interchange found (empty input?)", location="envelope")
        elif self.loop != "IEA":
            self.report(None, "file ends without an IEA segment (truncated?)", location="envelope")

    # --- claims ---------------------------------------------------------------------------------

    def break_claim(self, segment: int | None, message: str) -> None:
        claim = self.claim
        assert claim is not None
        if claim.error is None:
            claim.error = self.issue(
                segment if segment is not None else claim.start,
                message,
                claim_id=claim.claim_id,
                unreadable_claim=True,
                claim_segment=claim.start,
            )

    def close_claim_as_unreadable(self, segment: int | None, message: str) -> None:
        if self.claim is None:
            return
        self.break_claim(segment, message)
        self.finish_claim()

    def finish_claim(self) -> None:
        builder = self.claim
        if builder is None:
            return
        self.claim = None
        self.claims_seen += 1
        if builder.error is not None:
            self.out.append(builder.error)
            return
        data = builder.data
        data["lines"] = builder.lines
        data["other_payers"] = builder.other_payers
        if not builder.lines:
            self.report(
                builder.start,
                "claim has no service lines (LX/SV1)",
                claim_id=builder.claim_id,
                unreadable_claim=True,
                claim_segment=builder.start,
            )
            return
        for line in builder.lines:
            if "procedure" not in line:
                self.report(
                    line["elements"].get("LX", builder.start),
                    f"service line {line['number']} has no SV1 segment",
                    claim_id=builder.claim_id,
                    unreadable_claim=True,
                    claim_segment=builder.start,
                )
                return
        try:
            self.out.append(Claim.model_validate(data))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            self.report(
                builder.start,
                f"claim does not fit the model at {where}: {first['msg']}",
                claim_id=builder.claim_id,
                unreadable_claim=True,
                claim_segment=builder.start,
            )

    def new_claim(self, segment: Segment) -> None:
        context = self.subscriber_context
        data: dict[str, Any] = {
            "batch_date": self.batch_date,
            "implementation": self.implementation,
            "billing_provider": self.billing.get("provider"),
            "billing_state": self.billing.get("state"),
            "payer": dict(context.get("payer", {})),
            "subscriber": dict(context.get("subscriber", {})),
            "patient": dict(self.patient) if self.patient is not None else None,
            "source": {
                "file": self.file,
                "segment": segment.index,
                "st_control": self.transaction.get(2) if self.transaction else None,
            },
            "elements": {"CLM": segment.index},
            "diagnoses": [],
            "claim_id": segment.get(1),
        }
        self.claim = _ClaimBuilder(data, segment.index)
        if not context:
            self.break_claim(segment.index, "claim has no subscriber (HL*22) before it")


_CLAIM_BOUNDARIES = frozenset({"2000A", "2000B", "2000C", "2300"})


def _envelope_handlers() -> dict[str, Callable[[_Reader, Segment], None]]:
    def isa(reader: _Reader, segment: Segment) -> None:
        reader.finish_claim()
        if reader.interchange is not None and reader.loop != "IEA":
            reader.report(segment.index, "ISA before the previous interchange's IEA", location="envelope")
        reader.interchange = segment
        reader.group_count = 0
        reader.loop = "ISA"

    def gs(reader: _Reader, segment: Segment) -> None:
        reader.group = segment
        reader.group_count += 1
        reader.transaction_count = 0
        reader.implementation = segment.get(8) or None
        reader.loop = "GS"

    def st(reader: _Reader, segment: Segment) -> None:
        if reader.transaction is not None:
            reader.finish_claim()
            reader.report(
                segment.index,
                f"ST before the SE of transaction set {reader.transaction.get(2)!r} (its SE is missing)",
                location="envelope",
            )
        reader.outside_reported = False
        if segment.get(1) != "837":
            reader.report(segment.index, f"ST01 is {segment.get(1)!r}: not an 837 transaction set", location="envelope")
        version = segment.get(3) or reader.implementation
        if version and version not in SUPPORTED_VERSIONS:
            reader.report(
                segment.index,
                f"implementation {version!r} is not 005010X222A1/A2; reading it as 837P anyway",
                location="envelope",
            )
        reader.transaction = segment
        reader.warned_component = False
        reader.transaction_count += 1
        reader.implementation = version
        reader.batch_date = None
        reader.billing = {}
        reader.subscriber_context = {}
        reader.patient = None
        reader.loop = "ST"

    def se(reader: _Reader, segment: Segment) -> None:
        reader.finish_claim()
        transaction = reader.transaction
        if transaction is None:
            reader.report(segment.index, "SE without ST", location="envelope")
        else:
            counted = segment.index - transaction.index + 1
            declared = segment.get(1)
            if declared != str(counted):
                reader.report(
                    segment.index,
                    f"SE01 says {declared!r} segments but the transaction set has {counted}",
                    location="envelope",
                )
            if segment.get(2) != transaction.get(2):
                reader.report(
                    segment.index,
                    f"SE02 {segment.get(2)!r} does not match ST02 {transaction.get(2)!r}",
                    location="envelope",
                )
        reader.transaction = None
        reader.loop = "SE"

    def close_transaction(reader: _Reader, segment: Segment, closer: str) -> None:
        if reader.transaction is not None:
            reader.close_claim_as_unreadable(segment.index, f"{closer} before the transaction set's SE")
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
        reader.group = None
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


@_on("ST", "BHT")
def _bht(reader: _Reader, segment: Segment) -> None:
    date = segment.get(4)
    reader.batch_date = _date("D8", date, "BHT04") if date else None


@_on("2000A", "HL")
def _billing_level(reader: _Reader, segment: Segment) -> None:
    reader.billing = {}  # a new billing provider: nothing carries over from the previous one


@_on("2010AA", "NM1")
def _billing_provider(reader: _Reader, segment: Segment) -> None:
    provider = reader.billing.setdefault("provider", {"elements": {}})  # PRV*BI may come first
    provider["npi"] = _npi(segment)
    provider["elements"]["NM1*85"] = segment.index


@_on("2010AA", "N4")
def _billing_state(reader: _Reader, segment: Segment) -> None:
    reader.billing["state"] = segment.get(2) or None


@_on("2000A", "PRV")
def _billing_taxonomy(reader: _Reader, segment: Segment) -> None:
    provider = reader.billing.setdefault("provider", {"elements": {}})
    provider["taxonomy"] = segment.get(3) or None
    provider["elements"]["PRV"] = segment.index


@_on("2000B", "HL")
def _subscriber_level(reader: _Reader, segment: Segment) -> None:
    reader.subscriber_context = {"payer": {"elements": {}}, "subscriber": {"elements": {}}}
    reader.patient = None


@_on("2000B", "SBR")
def _subscriber_payer(reader: _Reader, segment: Segment) -> None:
    payer = reader.subscriber_context.setdefault("payer", {"elements": {}})
    payer.update(
        sequence=segment.get(1) or None,
        insurance_type=segment.get(5) or None,
        filing_indicator=segment.get(9) or None,
    )
    payer["elements"]["SBR"] = segment.index


def _person_name(party: dict[str, Any], segment: Segment) -> None:
    party["last_name"] = segment.get(3) or None
    party["first_name"] = segment.get(4) or None


@_on("2010BA", "NM1")
def _subscriber_name(reader: _Reader, segment: Segment) -> None:
    subscriber = reader.subscriber_context.setdefault("subscriber", {"elements": {}})
    _person_name(subscriber, segment)
    subscriber["member_id"] = segment.get(9) or None
    subscriber["elements"]["NM1*IL"] = segment.index


@_on(("2010BA", "2010CA"), "N4")
def _party_state(reader: _Reader, segment: Segment) -> None:
    party = _current_party(reader)
    party["state"] = segment.get(2) or None
    party["elements"]["N4"] = segment.index


@_on(("2010BA", "2010CA"), "DMG")
def _party_birth_date(reader: _Reader, segment: Segment) -> None:
    party = _current_party(reader)
    if segment.get(2):
        party["birth_date"] = _date(segment.get(1) or "D8", segment.get(2), "DMG02")
    party["elements"]["DMG"] = segment.index


def _current_party(reader: _Reader) -> dict[str, Any]:
    if reader.loop == "2010CA":
        assert reader.patient is not None
        return reader.patient
    return reader.subscriber_context.setdefault("subscriber", {"elements": {}})


@_on("2010BB", "NM1")
def _payer_name(reader: _Reader, segment: Segment) -> None:
    payer = reader.subscriber_context.setdefault("payer", {"elements": {}})
    payer["name"] = segment.get(3) or None
    payer["payer_id"] = segment.get(9) or None
    payer["elements"]["NM1*PR"] = segment.index


@_on("2000C", "HL")
def _patient_level(reader: _Reader, segment: Segment) -> None:
    reader.patient = {"elements": {}}


@_on("2000C", "PAT")
def _patient_relationship(reader: _Reader, segment: Segment) -> None:
    assert reader.patient is not None
    reader.patient["relationship"] = segment.get(1) or None


@_on("2010CA", "NM1")
def _patient_name(reader: _Reader, segment: Segment) -> None:
    assert reader.patient is not None
    _person_name(reader.patient, segment)
    reader.patient["elements"]["NM1*QC"] = segment.index


@_on("2300", "CLM")
def _clm(reader: _Reader, segment: Segment) -> None:
    reader.new_claim(segment)
    data = reader.claim.data  # type: ignore[union-attr]
    claim_id = segment.get(1)
    data["claim_id"] = claim_id
    if not claim_id:
        raise _BadSegment("CLM01 (patient control number) is missing")
    data["total_charge"] = _decimal(segment.get(2), "CLM02")
    facility = _composite(reader, segment, 5, "CLM05")
    data["place_of_service"] = facility[0] or None
    data["frequency"] = (facility[2] if len(facility) > 2 else "") or None
    data["provider_signature"] = segment.get(6) or None
    data["assignment"] = segment.get(7) or None
    data["benefits_assignment"] = segment.get(8) or None
    data["release_of_information"] = segment.get(9) or None
    causes = _composite(reader, segment, 11, "CLM11") if segment.get(11) else []
    data["related_causes"] = [cause for cause in causes[:3] if cause]
    data["accident_state"] = (causes[3] if len(causes) > 3 else "") or None


@_on("2300", "DTP")
def _claim_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "439":
        data = reader.claim.data  # type: ignore[union-attr]
        data["accident_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        data["elements"]["DTP*439"] = segment.index


@_on("2300", "REF")
def _claim_reference(reader: _Reader, segment: Segment) -> None:
    data = reader.claim.data  # type: ignore[union-attr]
    qualifier = segment.get(1)
    if qualifier == "G1":
        data["prior_auth"] = segment.get(2) or None
    elif qualifier == "F8":
        data["payer_claim_number"] = segment.get(2) or None
    else:
        return
    data["elements"][f"REF*{qualifier}"] = segment.index


@_on("2300", "HI")
def _diagnoses(reader: _Reader, segment: Segment) -> None:
    data = reader.claim.data  # type: ignore[union-attr]
    found = False
    for position in range(1, len(segment.elements)):
        element = segment.elements[position]
        if not element:
            continue
        parts = _composite(reader, segment, position, f"HI{position:02d}")
        qualifier = parts[0]
        if qualifier in DIAGNOSIS_QUALIFIERS:
            if len(parts) < 2 or not parts[1]:
                raise _BadSegment(f"diagnosis {element!r} has no code")
            data["diagnoses"].append({"code": parts[1], "qualifier": qualifier})
            found = True
    if found:
        data["elements"].setdefault("HI", segment.index)


@_on("2310B", "NM1")
def _rendering_provider(reader: _Reader, segment: Segment) -> None:
    data = reader.claim.data  # type: ignore[union-attr]
    data["rendering_provider"] = {"npi": _npi(segment), "elements": {"NM1*82": segment.index}}


@_on(("2310B", "2420A"), "PRV")
def _rendering_taxonomy(reader: _Reader, segment: Segment) -> None:
    claim = reader.claim
    assert claim is not None
    owner = claim.data if reader.loop == "2310B" else claim.line
    if owner is None or segment.get(1) != "PE":
        return
    provider = owner.get("rendering_provider") or {"elements": {}}
    provider["taxonomy"] = segment.get(3) or None
    provider["elements"]["PRV"] = segment.index
    owner["rendering_provider"] = provider


@_on("2320", "SBR")
def _other_payer(reader: _Reader, segment: Segment) -> None:
    claim = reader.claim
    assert claim is not None
    claim.other_payer = {
        "sequence": segment.get(1) or None,
        "insurance_type": segment.get(5) or None,
        "filing_indicator": segment.get(9) or None,
        "adjustments": [],
        "elements": {"SBR": segment.index},
    }
    claim.other_payers.append(claim.other_payer)


@_on("2320", "CAS")
def _other_payer_adjustments(reader: _Reader, segment: Segment) -> None:
    other_payer = reader.claim.other_payer  # type: ignore[union-attr]
    other_payer["adjustments"].extend(_adjustments(segment))
    other_payer["elements"].setdefault("CAS", segment.index)


@_on("2320", "AMT")
def _other_payer_paid(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "D":
        other_payer = reader.claim.other_payer  # type: ignore[union-attr]
        other_payer["paid"] = _decimal(segment.get(2), "AMT02")
        other_payer["elements"]["AMT*D"] = segment.index


@_on("2330B", "NM1")
def _other_payer_name(reader: _Reader, segment: Segment) -> None:
    other_payer = reader.claim.other_payer  # type: ignore[union-attr]
    other_payer["name"] = segment.get(3) or None
    other_payer["payer_id"] = segment.get(9) or None
    other_payer["elements"]["NM1*PR"] = segment.index


@_on("2330B", "DTP")
def _other_payer_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "573":
        other_payer = reader.claim.other_payer  # type: ignore[union-attr]
        other_payer["adjudication_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        other_payer["elements"]["DTP*573"] = segment.index


@_on("2400", "LX")
def _service_line(reader: _Reader, segment: Segment) -> None:
    claim = reader.claim
    assert claim is not None
    claim.line = {"number": _int(segment.get(1), "LX01"), "elements": {"LX": segment.index}}
    claim.adjudication = None
    claim.lines.append(claim.line)


@_on("2400", "SV1")
def _professional_service(reader: _Reader, segment: Segment) -> None:
    line = reader.claim.line  # type: ignore[union-attr]
    procedure = _composite(reader, segment, 1, "SV101")
    if len(procedure) < 2 or not procedure[1]:
        raise _BadSegment(f"SV101 {segment.get(1)!r} has no procedure code")
    line["qualifier"] = procedure[0]
    line["procedure"] = procedure[1]
    line["modifiers"] = [modifier for modifier in procedure[2:6] if modifier]
    line["charge"] = _decimal(segment.get(2), "SV102")
    line["unit_basis"] = segment.get(3) or None
    line["units"] = _optional_decimal(segment.get(4), "SV104")
    line["place_of_service"] = segment.get(5) or None
    pointers = _composite(reader, segment, 7, "SV107") if segment.get(7) else []
    line["diagnosis_pointers"] = [_pointer(pointer) for pointer in pointers if pointer]
    line["elements"]["SV1"] = segment.index


@_on("2400", "DTP")
def _service_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "472":
        line = reader.claim.line  # type: ignore[union-attr]
        line["service_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        line["elements"]["DTP*472"] = segment.index


@_on("2400", "REF")
def _line_reference(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "G1":
        line = reader.claim.line  # type: ignore[union-attr]
        line["prior_auth"] = segment.get(2) or None
        line["elements"]["REF*G1"] = segment.index


@_on("2420A", "NM1")
def _line_rendering_provider(reader: _Reader, segment: Segment) -> None:
    line = reader.claim.line  # type: ignore[union-attr]
    line["rendering_provider"] = {"npi": _npi(segment), "elements": {"NM1*82": segment.index}}


@_on("2430", "SVD")
def _line_adjudication(reader: _Reader, segment: Segment) -> None:
    claim = reader.claim
    assert claim is not None and claim.line is not None
    procedure = _composite(reader, segment, 3, "SVD03")
    claim.adjudication = {
        "payer_id": segment.get(1) or None,
        "paid": _decimal(segment.get(2), "SVD02"),
        "procedure": (procedure[1] if len(procedure) > 1 else "") or None,
        "units": _optional_decimal(segment.get(5), "SVD05"),
        "adjustments": [],
        "elements": {"SVD": segment.index},
    }
    claim.line.setdefault("adjudications", []).append(claim.adjudication)


@_on("2430", "CAS")
def _line_adjustments(reader: _Reader, segment: Segment) -> None:
    adjudication = reader.claim.adjudication  # type: ignore[union-attr]
    adjudication["adjustments"].extend(_adjustments(segment))
    adjudication["elements"].setdefault("CAS", segment.index)


@_on("2430", "DTP")
def _line_adjudication_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "573":
        adjudication = reader.claim.adjudication  # type: ignore[union-attr]
        adjudication["adjudication_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        adjudication["elements"]["DTP*573"] = segment.index


# Handlers grouped by loop, so the hot path does two plain dict lookups per segment.
_HANDLERS_BY_LOOP: dict[str, dict[str, Handler]] = {}
for (_loop, _segment_id), _handler in _HANDLERS.items():
    _HANDLERS_BY_LOOP.setdefault(_loop, {})[_segment_id] = _handler
_NO_HANDLERS: dict[str, Handler] = {}
