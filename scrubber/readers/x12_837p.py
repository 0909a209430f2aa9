"""Read X12 837P (005010X222A1 / A2) into ``Claim`` records, one claim at a time.

The tokenizer (``x12_tokens``) yields segments; the loop table (``x12_837p_loops``) says which loop each
segment opens; the handlers below, looked up by (loop, segment id), copy elements into a claim builder.
The driver and the envelope (ISA/GS/ST/SE/GE/IEA) checks are shared with the 835 reader (``x12_reader``).
A claim is emitted when the next claim, hierarchy level or transaction set starts, so memory holds
one claim at a time.

Bad input never raises: a claim that cannot be read becomes a ``ParseIssue`` with
``unreadable_claim=True`` (reading resumes at the next claim); envelope problems (ISA/GS/ST/SE/GE/IEA)
become ``ParseIssue``s without a claim, and every claim that could be read is still yielded.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from scrubber.model import Claim, ParseIssue
from scrubber.readers.common import read_opened
from scrubber.readers.x12_837p_loops import LOOP_OPENERS
from scrubber.readers.x12_reader import RecordBuilder, SegmentHandlers, X12Reader
from scrubber.readers.x12_tokens import Segment
from scrubber.readers.x12_values import (
    BadSegment,
    cas_adjustments,
    parse_date,
    parse_decimal,
    parse_optional_decimal,
)

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})
SUPPORTED_VERSIONS = ("005010X222A1", "005010X222A2", "005010X222")


def read_path(path: str | Path, shard: tuple[int, int] | None = None) -> Iterator[Claim | ParseIssue]:
    """Read one 837P file. A file that cannot be opened becomes a ParseIssue."""
    yield from read_opened(path, read, shard)


def read(stream: BinaryIO, file: str | None = None, shard: tuple[int, int] | None = None) -> Iterator[Claim | ParseIssue]:
    """Yield every claim in ``stream`` and a ParseIssue for everything that could not be read.

    ``shard=(k, n)`` reads only the claims whose position in the file (0, 1, 2, ... counting every CLM
    segment) is k modulo n: n processes reading the same file with k = 0..n-1 together read every
    claim exactly once. Each still sees the whole envelope, so envelope issues come from all of them.
    """
    yield from _Reader(file, shard).run(stream)


# --- value parsing (the rest is in x12_values) ---------------------------------------------------


def _date(qualifier: str, text: str, element: str) -> dt.date:
    if qualifier == "RD8" and "-" in text:
        text = text.split("-", 1)[0]  # a range: the start date is the date of service
    return parse_date(text, element)


def _int(text: str, element: str) -> int:
    if not text.isdigit():
        raise BadSegment(f"{element} {text!r} is not a whole number")
    return int(text)


def _pointer(text: str) -> int:
    """A diagnosis pointer (SV107); some files write '1.00' for 1."""
    if text.isdigit():
        return int(text)
    value = parse_decimal(text, "SV107")
    if value != value.to_integral_value() or value < 1:
        raise BadSegment(f"SV107 {text!r} is not a diagnosis pointer")
    return int(value)


def _npi(segment: Segment) -> str | None:
    return segment.get(9) if segment.get(8) == "XX" else (segment.get(9) or None)


# --- the claim under construction ---------------------------------------------------------------


class _ClaimBuilder(RecordBuilder):
    __slots__ = ("other_payers", "other_payer", "adjudication")

    def __init__(self, data: dict[str, Any], start: int):
        super().__init__(data, start)
        self.other_payers: list[dict[str, Any]] = []
        self.other_payer: dict[str, Any] | None = None
        self.adjudication: dict[str, Any] | None = None


_HANDLERS = SegmentHandlers()
_on = _HANDLERS.on


class _Reader(X12Reader):
    TRANSACTION_SET = "837"
    SUPPORTED_VERSIONS = SUPPORTED_VERSIONS
    UNSUPPORTED_VERSION = "implementation {version!r} is not 005010X222A1/A2; reading it as 837P anyway"
    UNFINISHED_RECORD = "file ends inside this claim, before its SE segment (truncated?)"
    LOOP_OPENERS = LOOP_OPENERS
    HANDLERS = _HANDLERS.by_loop
    RECORD_BOUNDARIES = frozenset({"2000A", "2000B", "2000C", "2300"})

    record: _ClaimBuilder | None

    def __init__(self, file: str | None, shard: tuple[int, int] | None = None):
        super().__init__(file)
        self.shard = shard
        self.ordinal = 0  # CLM segments seen so far (the claim's position, for sharding)
        self.batch_date: dt.date | None = None
        self.billing: dict[str, Any] = {}
        self.subscriber_context: dict[str, Any] = {}
        self.patient: dict[str, Any] | None = None
        self.outside_reported = False  # "outside a transaction set" is said once per stretch

    def at_record_boundary(self, loop: str) -> None:
        """A new claim or hierarchy level ends the claim; a claim of another shard is skipped whole."""
        self.finish_record()
        self.skipping = loop == "2300" and not self.owns_next_claim()

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
            self.records_seen += 1
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

    # --- transaction sets -----------------------------------------------------------------------

    def st_before_se(self, segment: Segment) -> None:
        assert self.transaction is not None
        self.finish_record()
        self.report(
            segment.index,
            f"ST before the SE of transaction set {self.transaction.get(2)!r} (its SE is missing)",
            location="envelope",
        )

    def start_transaction(self, segment: Segment, version: str | None) -> None:
        self.outside_reported = False
        self.implementation = version
        self.batch_date = None
        self.billing = {}
        self.subscriber_context = {}
        self.patient = None

    # --- claims ---------------------------------------------------------------------------------

    def break_record(self, segment: int | None, message: str) -> None:
        claim = self.record
        assert claim is not None
        if claim.error is None:
            claim.error = self.issue(
                segment if segment is not None else claim.start,
                message,
                claim_id=claim.claim_id,
                unreadable_claim=True,
                claim_segment=claim.start,
            )

    def unreadable(self, builder: _ClaimBuilder, segment: int, message: str) -> None:
        self.report(segment, message, claim_id=builder.claim_id, unreadable_claim=True, claim_segment=builder.start)

    def emit(self, builder: _ClaimBuilder) -> None:
        data = builder.data
        data["lines"] = builder.lines
        data["other_payers"] = builder.other_payers
        if not builder.lines:
            self.unreadable(builder, builder.start, "claim has no service lines (LX/SV1)")
            return
        for line in builder.lines:
            if "procedure" not in line:
                self.unreadable(
                    builder, line["elements"].get("LX", builder.start), f"service line {line['number']} has no SV1 segment"
                )
                return
        claim = self.validated(Claim, builder, "claim", claim_segment=builder.start)
        if claim is not None:
            self.out.append(claim)

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
        self.record = _ClaimBuilder(data, segment.index)
        if not context:
            self.break_record(segment.index, "claim has no subscriber (HL*22) before it")


# --- segment handlers, by (loop, segment id) ------------------------------------------------------


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
    data = reader.record.data  # type: ignore[union-attr]
    claim_id = segment.get(1)
    data["claim_id"] = claim_id
    if not claim_id:
        raise BadSegment("CLM01 (patient control number) is missing")
    data["total_charge"] = parse_decimal(segment.get(2), "CLM02")
    facility = reader.composite(segment, 5, "CLM05")
    data["place_of_service"] = facility[0] or None
    data["frequency"] = (facility[2] if len(facility) > 2 else "") or None
    data["provider_signature"] = segment.get(6) or None
    data["assignment"] = segment.get(7) or None
    data["benefits_assignment"] = segment.get(8) or None
    data["release_of_information"] = segment.get(9) or None
    causes = reader.composite(segment, 11, "CLM11") if segment.get(11) else []
    data["related_causes"] = [cause for cause in causes[:3] if cause]
    data["accident_state"] = (causes[3] if len(causes) > 3 else "") or None


@_on("2300", "DTP")
def _claim_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "439":
        data = reader.record.data  # type: ignore[union-attr]
        data["accident_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        data["elements"]["DTP*439"] = segment.index


@_on("2300", "REF")
def _claim_reference(reader: _Reader, segment: Segment) -> None:
    data = reader.record.data  # type: ignore[union-attr]
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
    data = reader.record.data  # type: ignore[union-attr]
    found = False
    for position in range(1, len(segment.elements)):
        element = segment.elements[position]
        if not element:
            continue
        parts = reader.composite(segment, position, f"HI{position:02d}")
        qualifier = parts[0]
        if qualifier in DIAGNOSIS_QUALIFIERS:
            if len(parts) < 2 or not parts[1]:
                raise BadSegment(f"diagnosis {element!r} has no code")
            data["diagnoses"].append({"code": parts[1], "qualifier": qualifier})
            found = True
    if found:
        data["elements"].setdefault("HI", segment.index)


@_on("2310B", "NM1")
def _rendering_provider(reader: _Reader, segment: Segment) -> None:
    data = reader.record.data  # type: ignore[union-attr]
    data["rendering_provider"] = {"npi": _npi(segment), "elements": {"NM1*82": segment.index}}


@_on(("2310B", "2420A"), "PRV")
def _rendering_taxonomy(reader: _Reader, segment: Segment) -> None:
    claim = reader.record
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
    claim = reader.record
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
    other_payer = reader.record.other_payer  # type: ignore[union-attr]
    other_payer["adjustments"].extend(cas_adjustments(segment))
    other_payer["elements"].setdefault("CAS", segment.index)


@_on("2320", "AMT")
def _other_payer_paid(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "D":
        other_payer = reader.record.other_payer  # type: ignore[union-attr]
        other_payer["paid"] = parse_decimal(segment.get(2), "AMT02")
        other_payer["elements"]["AMT*D"] = segment.index


@_on("2330B", "NM1")
def _other_payer_name(reader: _Reader, segment: Segment) -> None:
    other_payer = reader.record.other_payer  # type: ignore[union-attr]
    other_payer["name"] = segment.get(3) or None
    other_payer["payer_id"] = segment.get(9) or None
    other_payer["elements"]["NM1*PR"] = segment.index


@_on("2330B", "DTP")
def _other_payer_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "573":
        other_payer = reader.record.other_payer  # type: ignore[union-attr]
        other_payer["adjudication_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        other_payer["elements"]["DTP*573"] = segment.index


@_on("2400", "LX")
def _service_line(reader: _Reader, segment: Segment) -> None:
    claim = reader.record
    assert claim is not None
    claim.line = {"number": _int(segment.get(1), "LX01"), "elements": {"LX": segment.index}}
    claim.adjudication = None
    claim.lines.append(claim.line)


@_on("2400", "SV1")
def _professional_service(reader: _Reader, segment: Segment) -> None:
    line = reader.record.line  # type: ignore[union-attr]
    procedure = reader.composite(segment, 1, "SV101")
    if len(procedure) < 2 or not procedure[1]:
        raise BadSegment(f"SV101 {segment.get(1)!r} has no procedure code")
    line["qualifier"] = procedure[0]
    line["procedure"] = procedure[1]
    line["modifiers"] = [modifier for modifier in procedure[2:6] if modifier]
    line["charge"] = parse_decimal(segment.get(2), "SV102")
    line["unit_basis"] = segment.get(3) or None
    line["units"] = parse_optional_decimal(segment.get(4), "SV104")
    line["place_of_service"] = segment.get(5) or None
    pointers = reader.composite(segment, 7, "SV107") if segment.get(7) else []
    line["diagnosis_pointers"] = [_pointer(pointer) for pointer in pointers if pointer]
    line["elements"]["SV1"] = segment.index


@_on("2400", "DTP")
def _service_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "472":
        line = reader.record.line  # type: ignore[union-attr]
        line["service_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        line["elements"]["DTP*472"] = segment.index


@_on("2400", "REF")
def _line_reference(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "G1":
        line = reader.record.line  # type: ignore[union-attr]
        line["prior_auth"] = segment.get(2) or None
        line["elements"]["REF*G1"] = segment.index


@_on("2420A", "NM1")
def _line_rendering_provider(reader: _Reader, segment: Segment) -> None:
    line = reader.record.line  # type: ignore[union-attr]
    line["rendering_provider"] = {"npi": _npi(segment), "elements": {"NM1*82": segment.index}}


@_on("2430", "SVD")
def _line_adjudication(reader: _Reader, segment: Segment) -> None:
    claim = reader.record
    assert claim is not None and claim.line is not None
    procedure = reader.composite(segment, 3, "SVD03")
    claim.adjudication = {
        "payer_id": segment.get(1) or None,
        "paid": parse_decimal(segment.get(2), "SVD02"),
        "procedure": (procedure[1] if len(procedure) > 1 else "") or None,
        "units": parse_optional_decimal(segment.get(5), "SVD05"),
        "adjustments": [],
        "elements": {"SVD": segment.index},
    }
    claim.line.setdefault("adjudications", []).append(claim.adjudication)


@_on("2430", "CAS")
def _line_adjustments(reader: _Reader, segment: Segment) -> None:
    adjudication = reader.record.adjudication  # type: ignore[union-attr]
    adjudication["adjustments"].extend(cas_adjustments(segment))
    adjudication["elements"].setdefault("CAS", segment.index)


@_on("2430", "DTP")
def _line_adjudication_date(reader: _Reader, segment: Segment) -> None:
    if segment.get(1) == "573":
        adjudication = reader.record.adjudication  # type: ignore[union-attr]
        adjudication["adjudication_date"] = _date(segment.get(2), segment.get(3), "DTP03")
        adjudication["elements"]["DTP*573"] = segment.index
