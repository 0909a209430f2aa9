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
from typing import Any, TextIO

from scrubber.model import Adjustment, Claim, LineAdjudication, OtherPayer, Party, Provider, ServiceLine
from scrubber.x12map import ElementRow, element_map

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
_FACILITY = "SERVICE FACILITY"
_MAP = element_map("837p")
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


# --- segments through the element map -------------------------------------------------------------


def _value_text(element: ElementRow, value: Any) -> str | list[str] | None:
    """A model value as X12 text (a list for a run of components)."""
    if value is None:
        return None
    kind = element.type
    if kind in ("amount", "quantity"):
        return format_decimal(value)
    if kind == "date":
        return _date(value)
    if kind in ("list", "pointers"):
        return [str(part) for part in value]
    return str(value)


def _map_segment(loop: str, key: str, record: Any, **fixed: str | None) -> str:
    """The segment ``key`` of ``loop`` with every mapped element taken from ``record`` (a model object).

    ``fixed`` fills elements the model does not carry (placeholders, qualifiers), by element name:
    ``NM102="1"``, ``CLM05_2="B"`` (``_`` for ``-``).
    """
    row = _MAP.segment_row(loop, key)
    assert row is not None, f"{loop} {key} is not in the 837P element map"
    elements: dict[int, str | dict[int, str]] = {}
    if row.qualifier is not None:
        elements[1] = row.qualifier
    for name, text in fixed.items():
        _place(elements, name.replace("_", "-"), text)
    for element in row.elements:
        text = _value_text(element, getattr(record, element.field))
        if text is None:
            continue
        if isinstance(text, list):
            for offset, part in enumerate(text):
                _place_at(elements, element.position, element.component + offset, part)
        else:
            _place_at(elements, element.position, element.component, text)
            if element.type == "date" and element.format_position is not None:
                elements[element.format_position] = "D8"
    width = max(elements, default=0)
    parts = [row.segment_id]
    for position in range(1, width + 1):
        value = elements.get(position)
        if isinstance(value, dict):
            value = _composite(*[value.get(c) for c in range(1, max(value) + 1)])
        parts.append(value or "")
    return _seg(*parts)


def _place(elements: dict, name: str, text: str | None) -> None:
    head, _, tail = name.partition("-")
    position = int(head[-2:])
    _place_at(elements, position, int(tail) if tail else None, text)


def _place_at(elements: dict, position: int, component: int | None, text: str | None) -> None:
    if text is None:
        return
    if component is None:
        elements[position] = text
    else:
        composite = elements.get(position)
        if not isinstance(composite, dict):
            composite = elements[position] = {}
        composite[component] = text


def _cas(out: list[str], adjustments: tuple[Adjustment, ...]) -> None:
    """CAS segments (CAS01..19): one per group code (in order of first appearance), at most 6 triples each."""
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


def _party(out: list[str], loop: str, code: str, party: Party) -> None:
    """NM1 (name, member id), N3/N4 and DMG of the subscriber (2010BA) or patient (2010CA)."""
    member_id = "MI" if getattr(party, "member_id", None) is not None and code == "IL" else None
    out.append(_map_segment(loop, f"NM1*{code}", party, NM102="1", NM108=member_id))
    if party.state is not None:
        out.append(_ADDRESS)
        out.append(_map_segment(loop, "N4", party, N401=_CITY, N403=_ZIP))
    if party.birth_date is not None or party.sex is not None:
        out.append(_map_segment(loop, "DMG", party))


def _provider(out: list[str], loop: str, code: str, provider: Provider, taxonomy: bool = True) -> None:
    names = {"NM103": _RENDERING_LAST, "NM104": _RENDERING_FIRST} if code != "77" else {"NM103": _FACILITY}
    entity = "2" if code == "77" else "1"
    qualifier = "XX" if provider.npi is not None and provider.id_qualifier is None else None
    out.append(_map_segment(loop, f"NM1*{code}", provider, NM102=entity, NM108=qualifier, **names))
    if taxonomy and provider.taxonomy is not None:
        out.append(_map_segment(loop, "PRV*PE", provider, PRV02="PXC"))


def _billing(out: list[str], tx: _Transaction, claim: Claim) -> None:
    tx.hl += 1
    provider = claim.billing_provider or Provider()
    out.append(_seg("HL", str(tx.hl), None, "20", "1"))
    if provider.taxonomy is not None:
        out.append(_map_segment("2000A", "PRV*BI", provider, PRV02="PXC"))
    qualifier = "XX" if provider.npi is not None and provider.id_qualifier is None else None
    out.append(_map_segment("2010AA", "NM1*85", provider, NM102="2", NM103=_BILLING_NAME, NM108=qualifier))
    out.append(_ADDRESS)
    out.append(_map_segment("2010AA", "N4", claim, N401=_CITY, N403=_ZIP))
    out.append(_seg("REF", "EI", _TAX_ID))


def _other_payer(out: list[str], claim: Claim, other: OtherPayer) -> None:
    out.append(_map_segment("2320", "SBR", other, SBR02="18"))
    _cas(out, other.adjustments)
    for key in ("AMT*D", "AMT*A8", "AMT*EAF"):
        row = _MAP.segment_row("2320", key)
        if getattr(other, row.elements[0].field) is not None:
            out.append(_map_segment("2320", key, other))
    out.append("OI***Y*P**Y")
    subscriber = claim.subscriber  # 2330A is not read: the model keeps one subscriber
    member = ("MI", subscriber.member_id) if subscriber.member_id is not None else (None, None)
    out.append(_seg("NM1", "IL", "1", subscriber.last_name, subscriber.first_name, None, None, None, *member))
    out.append(_map_segment("2330B", "NM1*PR", other, NM102="2", NM108="PI" if other.payer_id is not None else None))
    if other.adjudication_date is not None:
        out.append(_map_segment("2330B", "DTP*573", other))


def _adjudication(out: list[str], line_adj: LineAdjudication) -> None:
    out.append(_map_segment("2430", "SVD", line_adj, SVD03_1="HC" if line_adj.procedure is not None else None))
    _cas(out, line_adj.adjustments)
    if line_adj.adjudication_date is not None:
        out.append(_map_segment("2430", "DTP*573", line_adj))


_LINE_PROVIDERS = (("2420A", "82", "rendering_provider"), ("2420D", "DQ", "supervising_provider"),
                   ("2420E", "DK", "ordering_provider"), ("2420F", "DN", "referring_provider"))


def _line(out: list[str], line: ServiceLine) -> None:
    if len(line.modifiers) > 4:
        raise ValueError(f"line {line.number}: SV101 holds at most 4 modifiers, got {len(line.modifiers)}")
    if len(line.diagnosis_pointers) > 4:
        raise ValueError(f"line {line.number}: SV107 holds at most 4 diagnosis pointers")
    out.append(_map_segment("2400", "LX", line))
    out.append(_map_segment("2400", "SV1", line))
    if line.service_date is not None:
        out.append(_map_segment("2400", "DTP*472", line))
    if line.prior_auth is not None:
        out.append(_map_segment("2400", "REF*G1", line))
    if line.ndc is not None:
        out.append(_map_segment("2410", "LIN", line, LIN02="N4"))
        if line.ndc_quantity is not None:
            out.append(_map_segment("2410", "CTP", line))
    for loop, code, field in _LINE_PROVIDERS:
        provider = getattr(line, field)
        if provider is not None:
            _provider(out, loop, code, provider, taxonomy=loop == "2420A")
    for line_adj in line.adjudications:
        _adjudication(out, line_adj)


def _clm(claim: Claim) -> str:
    if len(claim.related_causes) > 3:
        raise ValueError(f"claim {claim.claim_id}: CLM11 holds at most 3 related causes")
    clm05 = claim.place_of_service is not None or claim.frequency is not None
    return _map_segment("2300", "CLM", claim, CLM05_2="B" if clm05 else None)


_CLAIM_PROVIDERS = (("2310A", "DN", "referring_provider"), ("2310B", "82", "rendering_provider"),
                    ("2310C", "77", "service_facility"), ("2310D", "DQ", "supervising_provider"))


def _claim(out: list[str], tx: _Transaction, claim: Claim) -> None:
    """Append the segments of one claim: a billing provider HL when it changed, 2000B, 2000C, 2300."""
    billing = claim.billing_provider
    billing_key = (billing, claim.billing_state)
    if billing_key != tx.billing_key:
        tx.billing_key = billing_key
        _billing(out, tx, claim)
        tx.billing_hl = tx.hl
    # 2000B subscriber, 2010BA, 2010BB
    tx.hl += 1
    subscriber_hl = tx.hl
    patient = claim.patient
    out.append(_seg("HL", str(subscriber_hl), str(tx.billing_hl), "22", "0" if patient is None else "1"))
    out.append(_map_segment("2000B", "SBR", claim.payer, SBR02="18" if patient is None else None))
    _party(out, "2010BA", "IL", claim.subscriber)
    out.append(_map_segment("2010BB", "NM1*PR", claim.payer, NM102="2", NM108="PI" if claim.payer.payer_id is not None else None))
    # 2000C patient, 2010CA
    if patient is not None:
        tx.hl += 1
        out.append(_seg("HL", str(tx.hl), str(subscriber_hl), "23", "0"))
        out.append(_map_segment("2000C", "PAT", patient))
        _party(out, "2010CA", "QC", patient)
    # 2300 claim, 2310A-D, 2320/2330, 2400
    out.append(_clm(claim))
    for key, field in (("DTP*431", "onset_date"), ("DTP*439", "accident_date"), ("DTP*454", "initial_treatment_date"),
                       ("REF*G1", "prior_auth"), ("REF*F8", "payer_claim_number")):
        if getattr(claim, field) is not None:
            out.append(_map_segment("2300", key, claim))
    diagnoses = claim.diagnoses
    for start in range(0, len(diagnoses), _MAX_HI_CODES):  # HI01..12, qualifier:code
        out.append(_seg("HI", *[_composite(d.qualifier, d.code) for d in diagnoses[start : start + _MAX_HI_CODES]]))
    for loop, code, field in _CLAIM_PROVIDERS:
        provider = getattr(claim, field)
        if provider is not None:
            _provider(out, loop, code, provider, taxonomy=loop == "2310B")
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
