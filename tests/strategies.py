"""Hypothesis strategies for ``Claim`` models the 837P writer can express exactly.

Every value drawn here survives ``write`` → ``read`` unchanged:

- identifiers are alphanumeric, names upper-case letters (payer names may hold inner spaces), so no
  value contains an X12 delimiter (``* ^ : ~``) or leading/trailing blanks;
- money is a whole number of cents written in the writer's canonical form, so ``Decimal(text)`` gives
  back the same ``Decimal`` (same value and the same digits);
- adjustments come grouped by group code in order of first appearance, as the writer groups CAS;
- the fields the reader fills (``elements``, ``source``) are left at their defaults: compare with
  :func:`comparable`.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from scrubber.model import (
    Adjustment,
    Claim,
    Diagnosis,
    LineAdjudication,
    OtherPayer,
    Party,
    Payer,
    Provider,
    ServiceLine,
)
from scrubber.writers.x12_837p import DEFAULT_IMPLEMENTATION, format_decimal

__all__ = [
    "PROCEDURES",
    "adjustments",
    "claim_batches",
    "claims",
    "comparable",
    "diagnosis_codes",
    "money",
]

SEQUENCES = ("P", "S", "T")
FILING_INDICATORS = ("MB", "MC", "AM", "CI", "BL", "HM", "WC", "16")
INSURANCE_TYPES = ("12", "13", "14", "15", "41", "42", "43", "47")
ASSIGNMENT = ("A", "B", "C")
RELATED_CAUSES = ("AA", "EM", "OA")
STATES = ("CA", "FL", "MI", "NJ", "NY", "PA", "TX", "UT", "HI", "KY", "OR", "MD", "WA", "PR")
PLACES_OF_SERVICE = ("11", "02", "10", "21", "22", "23", "41", "81")
FREQUENCIES = ("1", "7", "8")
PROCEDURES = ("80053", "85025", "A0425", "J3301", "90837", "90833", "99213", "99214", "26010")
MODIFIERS = ("25", "59", "GT", "QW")
CAS_GROUPS = ("CO", "CR", "OA", "PI", "PR")
CARCS = ("1", "2", "3", "16", "22", "23", "45", "96", "97", "121", "122", "253")
PATIENT_RELATIONSHIPS = ("01", "19", "20", "21", "39", "40", "53", "G8")
PAYER_NAMES = ("MEDICARE", "MEDICARE PART B", "MEDICAID", "AETNA", "BLUE CROSS", "STATE FARM", "UNITED")
TAXONOMIES = ("207Q00000X", "363LF0000X", "103T00000X", "1041C0700X", "207X00000X", "363A00000X")
KNOWN_DIAGNOSES = ("F329", "S52521A", "V4352XA", "E119", "I10", "Z0000", "F411", "M545", "V8979XA")

_ALNUM = string.ascii_uppercase + string.digits
_LETTERS = string.ascii_uppercase

# Hypothesis strategies are built once at import; these are the reusable pieces.
ids = st.text(alphabet=_ALNUM + string.ascii_lowercase, min_size=1, max_size=20)
short_ids = st.text(alphabet=_ALNUM, min_size=1, max_size=12)
names = st.text(alphabet=_LETTERS, min_size=1, max_size=15)
npis = st.from_regex(r"\A[12][0-9]{9}\Z")
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31))
birth_dates = st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2023, 12, 31))


def _canonical(value: Decimal) -> Decimal:
    """The Decimal the reader builds from the writer's text for ``value``."""
    return Decimal(format_decimal(value))


def money(min_cents: int = 1, max_cents: int = 999_999) -> st.SearchStrategy[Decimal]:
    """Whole cents, 0.01–9999.99 by default, in the writer's canonical form (``43``, ``21.4``)."""
    return st.integers(min_cents, max_cents).map(lambda cents: _canonical(Decimal(cents).scaleb(-2)))


units = st.integers(1, 4).map(Decimal)
SEXES = ("F", "M", "U")
DELAY_REASONS = ("1", "3", "7", "11")
NDCS = ("00002143380", "00069015001", "50242004062")
ndc_details = st.none().map(lambda _: {}) | st.fixed_dictionaries(
    {
        "ndc": st.sampled_from(NDCS),
        "ndc_quantity": st.integers(1, 50).map(Decimal),
        "ndc_unit": st.sampled_from(("ML", "UN", "GR", "F2", "ME")),
    }
)

diagnosis_codes = st.one_of(
    st.sampled_from(KNOWN_DIAGNOSES),
    # ICD-10-CM shape: letter, digit, digit-or-letter, then up to 4 more characters (no dot in X12).
    st.builds(
        lambda a, b, c, rest: a + b + c + rest,
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTVWXYZ"),
        st.sampled_from(string.digits),
        st.sampled_from(string.digits + "AB"),
        st.text(alphabet=_ALNUM, max_size=4),
    ),
)


@st.composite
def adjustments(draw: st.DrawFn, max_size: int = 3) -> tuple[Adjustment, ...]:
    """0–``max_size`` CAS triples, grouped by group code in order of first appearance."""
    drawn = draw(
        st.lists(
            st.builds(
                Adjustment,
                group=st.sampled_from(CAS_GROUPS),
                reason=st.sampled_from(CARCS),
                amount=money(),
                quantity=st.none() | units,
            ),
            max_size=max_size,
        )
    )
    order: dict[str, list[Adjustment]] = {}
    for adj in drawn:
        order.setdefault(adj.group, []).append(adj)
    return tuple(adj for group in order.values() for adj in group)


def providers(with_taxonomy: bool = True) -> st.SearchStrategy[Provider]:
    taxonomy = st.none() | st.sampled_from(TAXONOMIES) if with_taxonomy else st.none()
    return st.builds(Provider, npi=npis, id_qualifier=st.just("XX"), taxonomy=taxonomy)


@st.composite
def other_payers(draw: st.DrawFn, payer_id: str) -> OtherPayer:
    return OtherPayer(
        sequence=draw(st.sampled_from(SEQUENCES)),
        insurance_type=draw(st.none() | st.sampled_from(INSURANCE_TYPES)),
        filing_indicator=draw(st.sampled_from(FILING_INDICATORS)),
        payer_id=payer_id,
        name=draw(st.sampled_from(PAYER_NAMES)),
        paid=draw(st.none() | money(0)),
        noncovered=draw(st.none() | money(0)),
        remaining_patient_liability=draw(st.none() | money(0)),
        adjustments=draw(adjustments()),
        adjudication_date=draw(st.none() | dates),
    )


@st.composite
def service_lines(draw: st.DrawFn, number: int, n_diagnoses: int, payer_ids: list[str]) -> ServiceLine:
    procedure = draw(st.sampled_from(PROCEDURES))
    max_pointers = min(4, n_diagnoses, 12)
    pointers = draw(st.lists(st.integers(1, min(n_diagnoses, 12)), min_size=1, max_size=max_pointers, unique=True))
    adjudications = tuple(
        LineAdjudication(
            payer_id=payer_id,
            paid=draw(money(0)),
            procedure=draw(st.just(procedure) | st.sampled_from(PROCEDURES)),
            units=draw(st.none() | units),
            adjustments=draw(adjustments()),
            adjudication_date=draw(st.none() | dates),
        )
        for payer_id in draw(st.lists(st.sampled_from(payer_ids), unique=True) if payer_ids else st.just([]))
    )
    return ServiceLine(
        number=number,
        procedure=procedure,
        modifiers=tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=2, unique=True))),
        charge=draw(money()),
        unit_basis=draw(st.sampled_from(("UN", "MJ"))),
        units=draw(units),
        place_of_service=draw(st.none() | st.sampled_from(PLACES_OF_SERVICE)),
        diagnosis_pointers=tuple(pointers),
        service_date=draw(dates | st.none()),
        prior_auth=draw(st.none() | short_ids),
        rendering_provider=draw(st.none() | providers()),
        supervising_provider=draw(st.none() | providers(with_taxonomy=False)),
        ordering_provider=draw(st.none() | providers(with_taxonomy=False)),
        referring_provider=draw(st.none() | providers(with_taxonomy=False)),
        **draw(ndc_details),
        adjudications=adjudications,
    )


@st.composite
def claims(draw: st.DrawFn, claim_id: st.SearchStrategy[str] = ids) -> Claim:
    """One claim: 1–6 lines, 1–14 diagnoses (a second HI past 12), 0–2 other payers, optional dependent."""
    causes = tuple(draw(st.lists(st.sampled_from(RELATED_CAUSES), max_size=3, unique=True)))
    accident_state = draw(st.none() | st.sampled_from(STATES)) if "AA" in causes else None
    codes = draw(st.lists(diagnosis_codes, min_size=1, max_size=14, unique=True))
    diagnoses = tuple(Diagnosis(code=c, qualifier="ABK" if i == 0 else "ABF") for i, c in enumerate(codes))
    payer_ids = draw(st.lists(short_ids, max_size=2, unique=True))
    others = tuple(draw(other_payers(pid)) for pid in payer_ids)
    lines = tuple(
        draw(service_lines(n, len(diagnoses), payer_ids)) for n in range(1, draw(st.integers(1, 6)) + 1)
    )
    patient = draw(
        st.none()
        | st.builds(
            Party,
            last_name=names,
            first_name=st.none() | names,
            state=st.none() | st.sampled_from(STATES),
            birth_date=st.none() | birth_dates,
            sex=st.none() | st.sampled_from(SEXES),
            relationship=st.sampled_from(PATIENT_RELATIONSHIPS),
        )
    )
    return Claim(
        claim_id=draw(claim_id),
        total_charge=_canonical(sum((line.charge for line in lines), Decimal(0))),
        place_of_service=draw(st.none() | st.sampled_from(PLACES_OF_SERVICE)),
        frequency=draw(st.none() | st.sampled_from(FREQUENCIES)),
        provider_signature=draw(st.none() | st.sampled_from(("Y", "N"))),
        assignment=draw(st.none() | st.sampled_from(ASSIGNMENT)),
        benefits_assignment=draw(st.none() | st.sampled_from(("Y", "N", "W"))),
        release_of_information=draw(st.none() | st.sampled_from(("Y", "I"))),
        related_causes=causes,
        accident_state=accident_state,
        delay_reason=draw(st.none() | st.sampled_from(DELAY_REASONS)),
        accident_date=draw(st.none() | dates),
        onset_date=draw(st.none() | dates),
        initial_treatment_date=draw(st.none() | dates),
        prior_auth=draw(st.none() | short_ids),
        payer_claim_number=draw(st.none() | short_ids),
        diagnoses=diagnoses,
        # A small pool, so batches share (and switch) BHT dates and billing providers.
        batch_date=draw(st.sampled_from((dt.date(2025, 3, 1), dt.date(2025, 3, 2)))),
        implementation=DEFAULT_IMPLEMENTATION,
        billing_provider=draw(
            st.sampled_from(
                (
                    Provider(npi="1234567893", id_qualifier="XX"),
                    Provider(npi="1497758544", id_qualifier="XX", taxonomy="207Q00000X"),
                )
            )
            | providers()
        ),
        billing_state=draw(st.sampled_from(STATES)),
        payer=Payer(
            sequence=draw(st.sampled_from(SEQUENCES)),
            insurance_type=draw(st.none() | st.sampled_from(INSURANCE_TYPES)),
            filing_indicator=draw(st.sampled_from(FILING_INDICATORS)),
            payer_id=draw(short_ids),
            name=draw(st.sampled_from(PAYER_NAMES)),
        ),
        subscriber=Party(
            last_name=draw(names),
            first_name=draw(st.none() | names),
            member_id=draw(short_ids),
            state=draw(st.none() | st.sampled_from(STATES)),
            birth_date=draw(st.none() | birth_dates),
            sex=draw(st.none() | st.sampled_from(SEXES)),
        ),
        patient=patient,
        referring_provider=draw(st.none() | providers(with_taxonomy=False)),
        rendering_provider=draw(st.none() | providers()),
        service_facility=draw(st.none() | providers(with_taxonomy=False)),
        supervising_provider=draw(st.none() | providers(with_taxonomy=False)),
        other_payers=others,
        lines=lines,
    )


def claim_batches(min_size: int = 1, max_size: int = 5) -> st.SearchStrategy[list[Claim]]:
    """Lists of claims with unique claim ids."""
    return st.lists(claims(), min_size=min_size, max_size=max_size, unique_by=lambda c: c.claim_id)


_READER_FILLED = frozenset({"elements", "source"})


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _READER_FILLED}
    if isinstance(value, (list, tuple)):
        return [_strip(v) for v in value]
    return value


def comparable(claim: Claim) -> dict[str, Any]:
    """``claim`` as a plain dict without the reader-filled ``elements`` and ``source``, at every level."""
    return _strip(claim.model_dump())
