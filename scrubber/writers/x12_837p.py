"""Write claims as an X12 837P (005010X222A1) interchange.

The writer is the inverse of ``scrubber.readers.x12_837p``: every field of the ``Claim`` model it
writes comes back from the reader unchanged (``elements`` and ``source`` are filled by the reader and
never written). It exists for tests (round-trip properties), fixtures and benchmarks; it is not a
billing system, so the parts of the 837P the model does not carry (provider names, addresses, the
billing tax id, the submitter contact, gender in DMG03) are filled with fixed placeholders.

Delimiters: element ``*``, repetition ``^`` (ISA11), component ``:`` (ISA16), segment ``~`` followed by
``segment_terminator``'s tail (a newline by default). Nothing is escaped (X12 has no escape): values
must not contain ``*``, ``^``, ``:``, ``~`` or line breaks. The writer does not check this.

Layout of one interchange::

    ISA GS
      ST BHT NM1*41 PER NM1*40                            (header, 1000A, 1000B)
        HL*20 [PRV*BI] NM1*85 N3 N4 REF*EI                 (2000A/2010AA; again when the provider changes)
          HL*22 SBR NM1*IL [N3 N4] [DMG] NM1*PR            (2000B/2010BA/2010BB, one per claim)
            [HL*23 PAT NM1*QC [N3 N4] [DMG]]               (2000C/2010CA, when claim.patient is set)
            CLM [DTP*439] [REF*G1] [REF*F8] HI… [NM1*82 PRV*PE]        (2300, 2310B)
            SBR CAS… [AMT*D] OI NM1*IL NM1*PR [DTP*573]               (2320/2330A/2330B, per other payer)
            LX SV1 [DTP*472] [REF*G1] [NM1*82 PRV*PE]                 (2400/2420A, per line)
              SVD CAS… [DTP*573]                                      (2430, per line adjudication)
      SE
    GE IEA

A new ST/SE starts when the BHT date (``claim.batch_date``) changes from one claim to the next or
after ``claims_per_transaction`` claims; a new GS/GE starts when ``claim.implementation`` changes.
For a batch sharing one batch date and implementation this is one ST per call.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TextIO

from scrubber.model import Adjustment, Claim, LineAdjudication, OtherPayer, Party, Payer, Provider, ServiceLine

__all__ = ["format_decimal", "write", "write_to"]

ELEMENT = "*"
REPETITION = "^"
COMPONENT = ":"
DEFAULT_IMPLEMENTATION = "005010X222A1"

# Placeholders for 837P content the model does not carry.
_BILLING_NAME = "BILLING PROVIDER"
_RENDERING_LAST, _RENDERING_FIRST = "RENDERING", "PROVIDER"
_ADDRESS = "N3*123 MAIN ST"
_CITY, _ZIP = "ANYTOWN", "12345"
_TAX_ID = "123456789"
_MAX_CAS_TRIPLES = 6
_MAX_HI_CODES = 12
_CHUNK_SEGMENTS = 2000  # segments per fp.write (about 50 kB)


def format_decimal(value: Decimal | int) -> str:
    """Canonical X12 number: no exponent, no trailing zeros after the point (``43``, ``21.04``)."""
    d = value if isinstance(value, Decimal) else Decimal(value)
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if not d:
        return "0"
    text = str(d)
    if "E" in text:
        return format(d.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@functools.lru_cache(maxsize=4096)
def _date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _seg(*elements: str | None) -> str:
    """One segment without its terminator; ``None`` becomes empty, trailing empties are dropped."""
    parts = [e or "" for e in elements]  # every element is a str or None
    while not parts[-1]:
        parts.pop()
    return ELEMENT.join(parts)


def _composite(*components: str | None) -> str:
    parts = [c or "" for c in components]
    while parts and not parts[-1]:
        parts.pop()
    return COMPONENT.join(parts)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


class _Transaction:
    """Segments of one ST/SE, counted as they are produced."""

    __slots__ = ("control", "count", "hl", "billing_key", "billing_hl")

    def __init__(self, control: str) -> None:
        self.control = control
        self.count = 0
        self.hl = 0
        self.billing_key: tuple | None = None
        self.billing_hl = 0


def _isa(sender: str, receiver: str, when: dt.datetime, control_number: int, usage: str) -> str:
    for name, value in (("sender", sender), ("receiver", receiver)):
        if len(value) > 15:
            raise ValueError(f"ISA {name} id longer than 15 characters: {value!r}")
    if not 0 <= control_number <= 999_999_999:
        raise ValueError(f"ISA13 control number out of range: {control_number}")
    return ELEMENT.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            sender.ljust(15),
            "ZZ",
            receiver.ljust(15),
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            REPETITION,
            "00501",
            f"{control_number:09d}",
            "0",
            usage,
            COMPONENT,
        ]
    )


def _cas(out: list[str], adjustments: tuple[Adjustment, ...]) -> None:
    """CAS segments: one per group code (in order of first appearance), at most 6 triples each."""
    if not adjustments:
        return
    groups: dict[str, list[Adjustment]] = {}
    for adj in adjustments:
        groups.setdefault(adj.group, []).append(adj)
    for group, adjs in groups.items():
        for start in range(0, len(adjs), _MAX_CAS_TRIPLES):
            elements: list[str | None] = ["CAS", group]
            for adj in adjs[start : start + _MAX_CAS_TRIPLES]:
                elements += [adj.reason, format_decimal(adj.amount), _num(adj.quantity)]
            out.append(_seg(*elements))


def _party_name(code: str, party: Party, with_id: bool) -> str:
    if with_id and party.member_id is not None:
        return _seg("NM1", code, "1", party.last_name, party.first_name, None, None, None, "MI", party.member_id)
    return _seg("NM1", code, "1", party.last_name, party.first_name)


def _party_details(out: list[str], party: Party) -> None:
    if party.state is not None:
        out.append(_ADDRESS)
        out.append(_seg("N4", _CITY, party.state, _ZIP))
    if party.birth_date is not None:
        out.append(_seg("DMG", "D8", _date(party.birth_date), "U"))


def _provider(out: list[str], code: str, provider: Provider) -> None:
    if provider.npi is not None:
        out.append(_seg("NM1", code, "1", _RENDERING_LAST, _RENDERING_FIRST, None, None, None, "XX", provider.npi))
    else:
        out.append(_seg("NM1", code, "1", _RENDERING_LAST, _RENDERING_FIRST))
    if provider.taxonomy is not None:
        out.append(_seg("PRV", "PE", "PXC", provider.taxonomy))


def _billing(out: list[str], tx: _Transaction, claim: Claim) -> None:
    tx.hl += 1
    provider = claim.billing_provider or Provider()
    out.append(_seg("HL", str(tx.hl), None, "20", "1"))
    if provider.taxonomy is not None:
        out.append(_seg("PRV", "BI", "PXC", provider.taxonomy))
    if provider.npi is not None:
        out.append(_seg("NM1", "85", "2", _BILLING_NAME, None, None, None, None, "XX", provider.npi))
    else:
        out.append(_seg("NM1", "85", "2", _BILLING_NAME))
    out.append(_ADDRESS)
    out.append(_seg("N4", _CITY, claim.billing_state, _ZIP))
    out.append(_seg("REF", "EI", _TAX_ID))


def _payer_name(payer: Payer | OtherPayer) -> str:
    if payer.payer_id is not None:
        return _seg("NM1", "PR", "2", payer.name, None, None, None, None, "PI", payer.payer_id)
    return _seg("NM1", "PR", "2", payer.name)


def _other_payer(out: list[str], claim: Claim, other: OtherPayer) -> None:
    out.append(
        _seg("SBR", other.sequence, "18", None, None, other.insurance_type, None, None, None, other.filing_indicator)
    )
    _cas(out, other.adjustments)
    if other.paid is not None:
        out.append(_seg("AMT", "D", format_decimal(other.paid)))
    out.append("OI***Y*P**Y")
    out.append(_party_name("IL", claim.subscriber, with_id=True))
    out.append(_payer_name(other))
    if other.adjudication_date is not None:
        out.append(_seg("DTP", "573", "D8", _date(other.adjudication_date)))


def _adjudication(out: list[str], line_adj: LineAdjudication) -> None:
    procedure = None if line_adj.procedure is None else _composite("HC", line_adj.procedure)
    out.append(_seg("SVD", line_adj.payer_id, _num(line_adj.paid), procedure, None, _num(line_adj.units)))
    _cas(out, line_adj.adjustments)
    if line_adj.adjudication_date is not None:
        out.append(_seg("DTP", "573", "D8", _date(line_adj.adjudication_date)))


def _line(out: list[str], line: ServiceLine) -> None:
    if len(line.modifiers) > 4:
        raise ValueError(f"line {line.number}: SV101 holds at most 4 modifiers, got {len(line.modifiers)}")
    if len(line.diagnosis_pointers) > 4:
        raise ValueError(f"line {line.number}: SV107 holds at most 4 diagnosis pointers")
    out.append(_seg("LX", str(line.number)))
    out.append(
        _seg(
            "SV1",
            _composite(line.qualifier, line.procedure, *line.modifiers),
            format_decimal(line.charge),
            line.unit_basis,
            _num(line.units),
            line.place_of_service,
            None,
            COMPONENT.join([str(p) for p in line.diagnosis_pointers]),
        )
    )
    if line.service_date is not None:
        out.append(_seg("DTP", "472", "D8", _date(line.service_date)))
    if line.prior_auth is not None:
        out.append(_seg("REF", "G1", line.prior_auth))
    if line.rendering_provider is not None:
        _provider(out, "82", line.rendering_provider)
    for line_adj in line.adjudications:
        _adjudication(out, line_adj)


def _clm(claim: Claim) -> str:
    if claim.place_of_service is None and claim.frequency is None:
        clm05 = None
    else:
        clm05 = _composite(claim.place_of_service, "B", claim.frequency)
    causes = claim.related_causes
    if len(causes) > 3:
        raise ValueError(f"claim {claim.claim_id}: CLM11 holds at most 3 related causes")
    if causes or claim.accident_state is not None:
        clm11 = _composite(*causes, *[None] * (3 - len(causes)), claim.accident_state)
    else:
        clm11 = None
    return _seg(
        "CLM",
        claim.claim_id,
        format_decimal(claim.total_charge),
        None,
        None,
        clm05,
        claim.provider_signature,
        claim.assignment,
        claim.benefits_assignment,
        claim.release_of_information,
        None,
        clm11,
    )


def _claim(out: list[str], tx: _Transaction, claim: Claim) -> None:
    """Append the segments of one claim: a billing provider HL when it changed, 2000B, 2000C, 2300."""
    billing = claim.billing_provider
    billing_key = ((billing.npi, billing.taxonomy) if billing is not None else None, claim.billing_state)
    if billing_key != tx.billing_key:
        tx.billing_key = billing_key
        _billing(out, tx, claim)
        tx.billing_hl = tx.hl
    # 2000B subscriber, 2010BA, 2010BB
    tx.hl += 1
    subscriber_hl = tx.hl
    patient = claim.patient
    payer = claim.payer
    out.append(_seg("HL", str(subscriber_hl), str(tx.billing_hl), "22", "0" if patient is None else "1"))
    out.append(
        _seg(
            "SBR",
            payer.sequence,
            "18" if patient is None else None,
            None,
            None,
            payer.insurance_type,
            None,
            None,
            None,
            payer.filing_indicator,
        )
    )
    out.append(_party_name("IL", claim.subscriber, with_id=True))
    _party_details(out, claim.subscriber)
    out.append(_payer_name(payer))
    # 2000C patient, 2010CA
    if patient is not None:
        tx.hl += 1
        out.append(_seg("HL", str(tx.hl), str(subscriber_hl), "23", "0"))
        out.append(_seg("PAT", patient.relationship))
        out.append(_party_name("QC", patient, with_id=False))
        _party_details(out, patient)
    # 2300 claim, 2310B, 2320/2330, 2400
    out.append(_clm(claim))
    if claim.accident_date is not None:
        out.append(_seg("DTP", "439", "D8", _date(claim.accident_date)))
    if claim.prior_auth is not None:
        out.append(_seg("REF", "G1", claim.prior_auth))
    if claim.payer_claim_number is not None:
        out.append(_seg("REF", "F8", claim.payer_claim_number))
    diagnoses = claim.diagnoses
    for start in range(0, len(diagnoses), _MAX_HI_CODES):
        out.append(_seg("HI", *[_composite(d.qualifier, d.code) for d in diagnoses[start : start + _MAX_HI_CODES]]))
    if claim.rendering_provider is not None:
        _provider(out, "82", claim.rendering_provider)
    for other in claim.other_payers:
        _other_payer(out, claim, other)
    for line in claim.lines:
        _line(out, line)


def _as_datetime(date: dt.date | dt.datetime | None) -> dt.datetime:
    if date is None:
        return dt.datetime.now().replace(second=0, microsecond=0)
    if isinstance(date, dt.datetime):
        return date
    return dt.datetime.combine(date, dt.time())


def _chunks(
    claims: Iterable[Claim],
    *,
    sender: str,
    receiver: str,
    control_number: int,
    date: dt.date | dt.datetime | None,
    implementation: str,
    claims_per_transaction: int | None,
    usage: str,
) -> Iterator[list[str]]:
    """The interchange as lists of segments (envelope pieces and one list per claim)."""
    when = _as_datetime(date)
    time = when.strftime("%H%M")
    yield [_isa(sender, receiver, when, control_number, usage)]
    groups = 0
    gs_control = control_number
    gs_key: str | None = None
    st_count_in_gs = 0
    st_number = 0
    tx: _Transaction | None = None
    tx_key: dt.date | None = None
    tx_claims = 0

    for claim in claims:
        impl = claim.implementation or implementation
        batch_date = claim.batch_date or when.date()
        out: list[str] = []
        if tx is not None and (
            gs_key != impl
            or tx_key != batch_date
            or (claims_per_transaction is not None and tx_claims >= claims_per_transaction)
        ):
            tx.count += 1
            out.append(_seg("SE", str(tx.count), tx.control))
            tx = None
        if gs_key != impl:
            if gs_key is not None:
                out.append(_seg("GE", str(st_count_in_gs), str(gs_control)))
                gs_control += 1
            gs_key = impl
            groups += 1
            st_count_in_gs = 0
            out.append(_seg("GS", "HC", sender, receiver, when.strftime("%Y%m%d"), time, str(gs_control), "X", impl))
        if tx is None:
            st_number += 1
            st_count_in_gs += 1
            tx = _Transaction(f"{st_number:04d}")
            tx_key = batch_date
            tx_claims = 0
            before = len(out)
            out += [
                _seg("ST", "837", tx.control, impl),
                _seg("BHT", "0019", "00", f"{control_number}-{st_number}", _date(batch_date), time, "CH"),
                _seg("NM1", "41", "2", sender.strip() or "SUBMITTER", None, None, None, None, "46", sender),
                "PER*IC*CONTACT*TE*8005551212",
                _seg("NM1", "40", "2", receiver.strip() or "RECEIVER", None, None, None, None, "46", receiver),
            ]
            tx.count = len(out) - before
        tx_claims += 1
        before = len(out)
        _claim(out, tx, claim)
        tx.count += len(out) - before
        yield out
    out = []
    if tx is not None:
        out.append(_seg("SE", str(tx.count + 1), tx.control))
    if gs_key is not None:
        out.append(_seg("GE", str(st_count_in_gs), str(gs_control)))
    out.append(_seg("IEA", str(groups), f"{control_number:09d}"))
    yield out


def write_to(
    fp: TextIO,
    claims: Iterable[Claim],
    *,
    sender: str = "SUBMITTER",
    receiver: str = "RECEIVER",
    control_number: int = 1,
    date: dt.date | dt.datetime | None = None,
    implementation: str = DEFAULT_IMPLEMENTATION,
    segment_terminator: str = "~\n",
    claims_per_transaction: int | None = None,
    usage: str = "T",
) -> None:
    """Stream an 837P interchange holding ``claims`` to the text file ``fp``.

    ``claims`` is consumed lazily and output is written in chunks, so memory stays flat for any
    number of claims. ``date`` (default: now) fills ISA09/10, GS04/05, BHT05 and BHT04 for claims
    without ``batch_date``; ``implementation`` fills GS08/ST03 for claims without ``implementation``.
    ``segment_terminator`` must start with ``~``; the rest (``"\\n"``, ``"\\r\\n"``, ``""``) is layout.
    ``usage`` is ISA15 (``P`` production, ``T`` test).
    """
    if not segment_terminator.startswith("~"):
        raise ValueError("segment_terminator must start with '~'")
    if claims_per_transaction is not None and claims_per_transaction < 1:
        raise ValueError("claims_per_transaction must be at least 1")
    buffer: list[str] = []
    for chunk in _chunks(
        claims,
        sender=sender,
        receiver=receiver,
        control_number=control_number,
        date=date,
        implementation=implementation,
        claims_per_transaction=claims_per_transaction,
        usage=usage,
    ):
        buffer += chunk
        if len(buffer) >= _CHUNK_SEGMENTS:
            buffer.append("")
            fp.write(segment_terminator.join(buffer))
            buffer.clear()
    if buffer:
        buffer.append("")
        fp.write(segment_terminator.join(buffer))


def write(
    claims: Iterable[Claim],
    *,
    sender: str = "SUBMITTER",
    receiver: str = "RECEIVER",
    control_number: int = 1,
    date: dt.date | dt.datetime | None = None,
    implementation: str = DEFAULT_IMPLEMENTATION,
    segment_terminator: str = "~\n",
    claims_per_transaction: int | None = None,
    usage: str = "T",
) -> str:
    """The 837P interchange for ``claims`` as a string; keywords as for :func:`write_to`."""
    out = io.StringIO()
    write_to(
        out,
        claims,
        sender=sender,
        receiver=receiver,
        control_number=control_number,
        date=date,
        implementation=implementation,
        segment_terminator=segment_terminator,
        claims_per_transaction=claims_per_transaction,
        usage=usage,
    )
    return out.getvalue()
