"""Read FHIR R4 ``Claim`` resources: a single resource, a Bundle, or NDJSON (one resource per line).

Resources are validated with ``fhir.resources`` R4B models (R4 Claims parse with them; the package's
default models are R5). ``fhir.resources`` is an optional extra (``pip install 'claim-scrubber[fhir]'``)
imported only when a FHIR input is read, so ``scrubber check`` on X12 never pays for it.

References are resolved inside the Claim (``#id`` → ``contained``), inside the Bundle (``fullUrl`` or
``Type/id``) and, in NDJSON, against the resources of earlier lines. A reference that cannot be resolved
is a warning; the claim is still read with what it has.

How each model field is filled is declared next to the code that fills it (``@_maps``): the rows make
``MAPPING``, which both orders the conversion steps and renders ``docs/fhir-mapping.md``
(``scrubber schema --fhir-mapping``), so the table cannot drift from the code. Each row names the model
paths it fills (``assignment``, ``lines[].procedure``); the X12 element shown for it comes from the 837P
element map by those paths. What FHIR cannot carry is ``NOT_CARRIED`` (no place in an R4 Claim, or not
read) and ``PARTLY_CARRIED`` (carried with a loss), both keyed by model path and rendered in the same doc.

Providers: an identifier in the NPI system (``http://hl7.org/fhir/sid/us-npi``) is the NPI and implies
the NM108 qualifier ``XX``. ``Claim.careTeam`` members are told apart by role (claimcareteamrole, CARIN
Blue Button or X12 NM101 codes): a referring or supervising member that no item references is the
claim's (2310A, 2310D), one an item references is that line's (2420F, 2420D), as is an ordering member
(2420E; one no item references orders every line).

Bad input never raises: a Claim that fails FHIR validation, or that cannot become a model claim (no
item, an item without a code, a diagnosisSequence that points nowhere), is a ``ParseIssue`` with
``unreadable_claim=True``, its JSON pointer (``/entry/3/resource/item/0/net/value``) and, for NDJSON,
its line number; the other claims are still read.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from pydantic import ValidationError

from scrubber.mappings.csv_columns import PROVIDER_PATHS, x12_label  # model path -> X12 element, from the element map
from scrubber.mappings.fhir_codes import (  # code systems and code tables, shared with scrubber.writers.fhir
    ACT_CODE,
    C4BB_ADJUDICATION,
    C4BB_CARE_TEAM_ROLE,
    CARE_TEAM_ROLES,
    CLAIM_CARE_TEAM_ROLE,
    CMS_PLACE_OF_SERVICE,
    CPT,
    GENDERS,
    HCPCS,
    ICD9_CM,
    ICD10_CM,
    NDC,
    NPI,
    NUCC_TAXONOMY,
    PAYER_ORDER,
    RELATED_CAUSES,
    RELATIONSHIPS,
    SOPT,
    SOPT_FILING_INDICATORS,
    TOTAL_CATEGORIES,
    UCUM,
    UCUM_DRUG_UNITS,
    X12_ASSIGNMENT,
    X12_DATE_QUALIFIER,
    X12_DELAY_REASON,
    X12_ENTITY,
    X12_ENTITY_ROLES,
    X12_FILING_INDICATOR,
    X12_FREQUENCY,
    X12_RELEASE,
    X12_UNIT,
    filing_indicator_from_sopt,
)
from scrubber.model import Claim, ParseIssue
from scrubber.readers.common import read_opened, summarize, validation_problems

# --- the mapping table, declared by the steps that implement it -----------------------------------


@dataclass(frozen=True)
class MappingRow:
    fhir: str  # FHIR path (R4) and how it is read
    paths: tuple[str, ...]  # the model paths it fills: assignment, payer.sequence, lines[].procedure
    note: str = ""  # the value it gives, when that is part of the mapping: related_causes (AA)

    @property
    def field(self) -> str:
        """The model fields, as the table shows them."""
        return ", ".join(self.paths) + (f" ({self.note})" if self.note else "")

    @property
    def x12(self) -> str:
        """The X12 837P elements of ``paths``, from the element map."""
        return ", ".join(x12_label(path) for path in self.paths)


MAPPING: list[MappingRow] = []
_STEPS: list[Callable[["_Context"], None]] = []


def _maps(*rows: tuple[str, str | tuple[str, ...]] | tuple[str, str | tuple[str, ...], str]) -> Callable[
    [Callable[["_Context"], None]], Callable[["_Context"], None]
]:
    """Register a conversion step and the table rows it implements (steps run in this order): each row is
    (FHIR path, model path or paths, note)."""

    def register(step: Callable[["_Context"], None]) -> Callable[["_Context"], None]:
        for fhir, paths, *note in rows:
            MAPPING.append(MappingRow(fhir, (paths,) if isinstance(paths, str) else tuple(paths), *note))
        _STEPS.append(step)
        return step

    return register


# --- reading ---------------------------------------------------------------------------------------


def read_path(path: str | Path) -> Iterator[Claim | ParseIssue]:
    yield from read_opened(path, read)


def read(stream: BinaryIO, file: str | None = None) -> Iterator[Claim | ParseIssue]:
    """Every Claim in a FHIR resource, Bundle or NDJSON stream, and a ParseIssue for each bad one."""
    try:
        models = _models()
    except ImportError:
        yield ParseIssue(
            file=file,
            message="reading FHIR needs the fhir.resources package: pip install 'claim-scrubber[fhir]'",
        )
        return
    first = b""
    try:
        while not first.strip():
            first = stream.readline()
            if not first:
                yield ParseIssue(file=file, message="empty input: no FHIR resource")
                return
        ndjson = _complete_json(first)
        rest = stream if ndjson else None
        whole = None if ndjson else first + stream.read()
    except OSError as error:
        yield ParseIssue(file=file, message=f"read error: {error}")
        return
    index: dict[str, dict[str, Any]] = {}
    if whole is not None:
        try:
            resource = _loads(whole)
        except (ValueError, UnicodeDecodeError) as error:
            yield ParseIssue(file=file, message=f"not JSON: {_json_problem(error)}")
            return
        yield from _resource(resource, models, index, file, row=None, found=[0], top=True)
        return
    found = [0]
    number = 0
    line = first
    while line:
        number += 1
        if line.strip():
            try:
                resource = _loads(line)
            except (ValueError, UnicodeDecodeError) as error:
                yield ParseIssue(
                    file=file, location=f"line {number}", message=f"line {number}: not JSON: {_json_problem(error)}"
                )
            else:
                yield from _resource(resource, models, index, file, row=number, found=found, top=False)
        try:
            line = rest.readline()  # type: ignore[union-attr]
        except OSError as error:
            yield ParseIssue(file=file, message=f"read error: {error}")
            return
    if not found[0]:
        yield ParseIssue(file=file, message="no FHIR Claim resource in the input")


def read_resources(resources: Iterable[dict[str, Any]], file: str | None = None) -> Iterator[Claim | ParseIssue]:
    """Claims from resources already parsed (dicts: Claims, Bundles, and the resources they reference)."""
    try:
        models = _models()
    except ImportError:
        yield ParseIssue(file=file, message="reading FHIR needs the fhir.resources package: pip install 'claim-scrubber[fhir]'")
        return
    index: dict[str, dict[str, Any]] = {}
    found = [0]
    for position, resource in enumerate(resources):
        yield from _resource(resource, models, index, file, row=None, found=found, top=False, prefix=f"/{position}")


def _models() -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class


def _loads(text: bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def _complete_json(line: bytes) -> bool:
    try:
        _loads(line)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _json_problem(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(error)


def _key(resource: dict[str, Any]) -> str | None:
    if isinstance(resource.get("resourceType"), str) and isinstance(resource.get("id"), str):
        return f"{resource['resourceType']}/{resource['id']}"
    return None


def _resource(
    resource: Any,
    models: Any,
    index: dict[str, dict[str, Any]],
    file: str | None,
    *,
    row: int | None,
    found: list[int],
    top: bool,
    prefix: str = "",
) -> Iterator[Claim | ParseIssue]:
    where = f"line {row}" if row is not None else ""
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind == "Bundle":
        entries = resource.get("entry") or []
        bundle_index = dict(index)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                inner = entry["resource"]
                for name in (entry.get("fullUrl"), _key(inner)):
                    if isinstance(name, str):
                        bundle_index[name] = inner
        claims = 0
        for position, entry in enumerate(entries if isinstance(entries, list) else []):
            inner = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(inner, dict) and inner.get("resourceType") == "Claim":
                claims += 1
                found[0] += 1
                yield from _claim(inner, models, bundle_index, file, row, f"{prefix}/entry/{position}/resource")
        if not claims and top:
            yield ParseIssue(file=file, message="the Bundle holds no Claim resource")
        return
    if kind == "Claim":
        found[0] += 1
        yield from _claim(resource, models, index, file, row, prefix)
        return
    if isinstance(kind, str):
        key = _key(resource)
        if key is not None:
            index[key] = resource  # referenced by the Claims of later lines
        if top:
            yield ParseIssue(file=file, message=f"a {kind} resource, not a Claim or a Bundle of Claims")
        return
    location = where or prefix or None
    yield ParseIssue(
        file=file,
        location=location,
        message=f"{location + ': ' if location else ''}not a FHIR resource (no resourceType)",
    )


class _Unconvertible(Exception):
    def __init__(self, pointer: str, message: str):
        super().__init__(message)
        self.pointer = pointer
        self.message = message


def _claim(
    resource: dict[str, Any], models: Any, index: dict[str, dict[str, Any]], file: str | None, row: int | None, prefix: str
) -> Iterator[Claim | ParseIssue]:
    claim_id = _raw_claim_id(resource)
    where = f"line {row}" if row is not None else ""

    def unreadable(pointer: str, message: str) -> ParseIssue:
        location = ": ".join(part for part in (where, pointer) if part)
        return ParseIssue(
            file=file,
            location=location or None,
            claim_id=claim_id,
            unreadable_claim=True,
            message=": ".join(part for part in (where, message) if part),
        )

    try:
        model = models("Claim").model_validate(resource)
    except ValidationError as error:
        problems = validation_problems(error, prefix)
        yield unreadable(problems[0][0], f"not a valid FHIR R4 Claim: {summarize(problems)}")
        return
    context = _Context(model, resource, models, index, prefix)
    try:
        for step in _STEPS:
            step(context)
    except _Unconvertible as problem:
        yield unreadable(problem.pointer, f"{problem.pointer}: {problem.message}")
        return
    if context.unresolved:
        # One warning per claim: the claim is read, without what these references would have said.
        parts = [ref if why is None else f"{ref} ({why})" for ref, why in context.unresolved.items()]
        location = ": ".join(part for part in (where, prefix) if part) or None
        yield ParseIssue(
            file=file,
            location=location,
            claim_id=context.data.get("claim_id"),
            severity="warning",
            message=": ".join(part for part in (where, "references not resolved, read without them: ") if part)
            + "; ".join(parts),
        )
    data = context.data
    data["source"] = {"file": file, "row": row, "pointer": prefix}
    try:
        yield Claim.model_validate(data)
    except ValidationError as error:
        problems = validation_problems(error)
        yield unreadable(prefix, f"the claim does not fit the model: {summarize(problems)}")


def _raw_claim_id(resource: dict[str, Any]) -> str | None:
    identifiers = resource.get("identifier")
    if isinstance(identifiers, list) and identifiers and isinstance(identifiers[0], dict):
        value = identifiers[0].get("value")
        if isinstance(value, str) and value:
            return value
    value = resource.get("id")
    return value if isinstance(value, str) and value else None


class _Context:
    """One Claim being converted: the validated resource, reference resolution, the model data."""

    def __init__(self, claim: Any, raw: dict[str, Any], models: Any, index: dict[str, dict[str, Any]], prefix: str):
        self.claim = claim
        self.models = models
        self.index = index
        self.prefix = prefix
        self.contained = {
            item.get("id"): item for item in raw.get("contained") or [] if isinstance(item, dict) and item.get("id")
        }
        self.data: dict[str, Any] = {}
        self.coverages: list[tuple[Any, Any]] = []  # (insurance entry, Coverage or None), by sequence
        self.focal: int = 0
        self.line_adjudications: dict[int, list[dict[str, Any]]] = {}
        self.care_team: dict[int, tuple[str | None, dict[str, Any]]] = {}  # sequence -> (role, provider)
        self.claim_ordering: dict[str, Any] | None = None  # an ordering member no item references
        self.rendering_sequence: int | None = None
        self.diagnosis_positions: dict[int, int] = {}
        self.unresolved: dict[str, str | None] = {}  # reference -> why it was not used (None: not found)

    def resolve(self, reference: Any, kind: str | None = None) -> Any:
        """The resource a Reference points at (validated), or None."""
        if reference is None or not reference.reference:
            return None
        target = reference.reference
        raw = self.contained.get(target[1:]) if target.startswith("#") else self.index.get(target)
        if raw is None and "/" in target and not target.startswith("urn:"):
            raw = self.index.get("/".join(target.rstrip("/").split("/")[-2:]))  # absolute URL -> Type/id
        if raw is None or (kind is not None and raw.get("resourceType") != kind):
            self.unresolved.setdefault(target, None)
            return None
        try:
            return self.models(raw["resourceType"]).model_validate(raw)
        except ValidationError as error:
            self.unresolved.setdefault(target, f"not a valid {raw['resourceType']}: {summarize(validation_problems(error))}")
        except (KeyError, LookupError, TypeError):
            self.unresolved.setdefault(target, "not a FHIR resource type")
        return None

    def pointer(self, *parts: Any) -> str:
        return self.prefix + "".join(f"/{part}" for part in parts)


# --- helpers ---------------------------------------------------------------------------------------


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _code(concept: Any, systems: Iterable[str] | str | None = None) -> str | None:
    """The first code of a CodeableConcept in one of ``systems`` (any system when None)."""
    wanted = (systems,) if isinstance(systems, str) else tuple(systems) if systems is not None else None
    for coding in _codings(concept):
        if coding.code and (wanted is None or coding.system in wanted):
            return str(coding.code)
    return None


def _identifier(resource: Any, system: str | None = None) -> str | None:
    for identifier in getattr(resource, "identifier", None) or []:
        if identifier.value and (system is None or identifier.system == system):
            return str(identifier.value)
    return None


def _reference_identifier(reference: Any, system: str | None = None) -> str | None:
    identifier = getattr(reference, "identifier", None) if reference is not None else None
    if identifier is not None and identifier.value and (system is None or identifier.system in (None, system)):
        return str(identifier.value)
    return None


def _state(resource: Any) -> str | None:
    for address in getattr(resource, "address", None) or []:
        if address.state:
            return str(address.state)
    return None


def _person(resource: Any) -> dict[str, Any]:
    person: dict[str, Any] = {}
    names = getattr(resource, "name", None) or []
    if names:
        name = names[0]
        person["last_name"] = name.family or None
        person["first_name"] = (name.given or [None])[0]
    person["birth_date"] = _as_date(getattr(resource, "birthDate", None))
    person["sex"] = GENDERS.get(getattr(resource, "gender", None) or "")
    state = _state(resource)
    if state:
        person["state"] = state
    return {key: value for key, value in person.items() if value is not None}


def _npi(resource: Any, reference: Any = None) -> dict[str, Any]:
    """``{npi, id_qualifier: XX}`` from a resource's NPI identifier, else the reference's; ``{}`` without one."""
    npi = (_identifier(resource, NPI) if resource is not None else None) or _reference_identifier(reference, NPI)
    return {"npi": npi, "id_qualifier": "XX"} if npi else {}


def _role(member: Any) -> str | None:
    """rendering, referring, supervising, ordering, or None (other, or no role) for a careTeam member."""
    for coding in _codings(member.role):
        if coding.system == X12_ENTITY and coding.code in X12_ENTITY_ROLES:
            return X12_ENTITY_ROLES[coding.code]
        if coding.code in CARE_TEAM_ROLES:
            return CARE_TEAM_ROLES[coding.code]
    return None


def _filing_indicator(coverage: Any) -> str | None:
    if coverage is None:
        return None
    direct = _code(coverage.type, X12_FILING_INDICATOR)
    if direct:
        return direct
    sopt = _code(coverage.type, SOPT)
    return filing_indicator_from_sopt(sopt) if sopt else None


def _payer(context: _Context, coverage: Any, fallback: Any = None) -> dict[str, Any]:
    """payer_id and name from Coverage.payor[0] (an Organization), else from ``fallback`` (Claim.insurer)."""
    payer: dict[str, Any] = {}
    references = list(getattr(coverage, "payor", None) or []) if coverage is not None else []
    if fallback is not None:
        references.append(fallback)
    for reference in references:
        organization = context.resolve(reference, "Organization")
        payer_id = _identifier(organization) if organization is not None else None
        payer_id = payer_id or _reference_identifier(reference)
        name = (organization.name if organization is not None else None) or reference.display
        if payer_id or name:
            payer = {"payer_id": payer_id, "name": name}
            break
    return {key: value for key, value in payer.items() if value}


def _as_date(value: Any) -> dt.date | None:
    """A full date from a FHIR date/dateTime; partial dates (``1980``, ``1980-05``) give None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _money(money: Any) -> Decimal | None:
    return Decimal(str(money.value)) if money is not None and money.value is not None else None


# --- the steps, in order ----------------------------------------------------------------------------


@_maps(
    ("Claim.identifier[0].value, else Claim.id", "claim_id"),
    ("Claim.created", "batch_date"),
)
def _identity(context: _Context) -> None:
    claim = context.claim
    identifier = _identifier(claim)
    context.data["claim_id"] = identifier or claim.id
    if not context.data["claim_id"]:
        raise _Unconvertible(context.pointer("identifier"), "the Claim has neither an identifier nor an id")
    context.data["batch_date"] = _as_date(claim.created)


@_maps(
    ("Claim.insurance with focal = true", "payer"),
    (
        "Claim.insurance.sequence (the coordination-of-benefits order: 1 P, 2 S, 3 T, 4-11 A-H)",
        ("payer.sequence", "other_payers[].sequence"),
    ),
    (
        f"Coverage.type: X12 claim filing indicator ({X12_FILING_INDICATOR}), else Source of Payment "
        f"Typology ({SOPT}; e.g. 1/12x Medicare -> MB, 11x -> 16, 2 -> MC, 5 -> CI, 6 -> BL, 96 auto -> AM)",
        ("payer.filing_indicator", "other_payers[].filing_indicator"),
    ),
    (
        "Coverage.payor[0] -> Organization.identifier[0].value (else the reference's identifier); "
        "Claim.insurer for the focal payer when its Coverage has no payor",
        ("payer.payer_id", "other_payers[].payer_id"),
    ),
    ("Organization.name (else the reference's display)", ("payer.name", "other_payers[].name")),
    ("Claim.insurance.preAuthRef[0] of the focal insurance", "prior_auth"),
    ("Claim.insurance with focal = false, in sequence order", "other_payers[]"),
    ("Claim.insurance.claimResponse -> ClaimResponse.payment.amount", "other_payers[].paid"),
    ("ClaimResponse.payment.date", "other_payers[].adjudication_date"),
    (
        f"ClaimResponse.total.amount with category noncovered ({C4BB_ADJUDICATION})",
        "other_payers[].noncovered",
    ),
    ("ClaimResponse.total.amount with category memberliability", "other_payers[].remaining_patient_liability"),
    (
        "ClaimResponse.item[itemSequence].adjudication (category benefit).amount",
        ("lines[].adjudications[].paid", "lines[].adjudications[].payer_id"),
    ),
)
def _insurance(context: _Context) -> None:
    claim = context.claim
    insurances = sorted(enumerate(claim.insurance or []), key=lambda pair: (pair[1].sequence, pair[0]))
    if not insurances:
        raise _Unconvertible(context.pointer("insurance"), "the Claim has no insurance")
    focal = [position for position, (_, insurance) in enumerate(insurances) if insurance.focal]
    context.focal = focal[0] if focal else 0
    other_payers = []
    for position, (_, insurance) in enumerate(insurances):
        coverage = context.resolve(insurance.coverage, "Coverage")
        context.coverages.append((insurance, coverage))
        # The number itself, not the entry's place: a lone insurance with sequence 2 is a secondary claim.
        order = insurance.sequence
        sequence = PAYER_ORDER[order - 1] if isinstance(order, int) and 1 <= order <= len(PAYER_ORDER) else None
        if position == context.focal:
            payer = {"sequence": sequence, "filing_indicator": _filing_indicator(coverage)}
            payer.update(_payer(context, coverage, claim.insurer))
            context.data["payer"] = payer
            if insurance.preAuthRef:
                context.data["prior_auth"] = insurance.preAuthRef[0]
            continue
        other: dict[str, Any] = {"sequence": sequence, "filing_indicator": _filing_indicator(coverage)}
        other.update(_payer(context, coverage))
        response = context.resolve(insurance.claimResponse, "ClaimResponse")
        if response is not None:
            payment = response.payment
            if payment is not None:
                other["paid"] = _money(payment.amount)
                other["adjudication_date"] = _as_date(payment.date)
            for total in response.total or []:
                field = next((TOTAL_CATEGORIES[c.code] for c in _codings(total.category) if c.code in TOTAL_CATEGORIES), None)
                if field is not None and field not in other:
                    other[field] = _money(total.amount)
            for item in response.item or []:
                for adjudication in item.adjudication or []:
                    if _code(adjudication.category) == "benefit" and adjudication.amount is not None:
                        context.line_adjudications.setdefault(item.itemSequence, []).append(
                            {"payer_id": other.get("payer_id"), "paid": _money(adjudication.amount)}
                        )
        other_payers.append({key: value for key, value in other.items() if value is not None})
    context.data["other_payers"] = other_payers


@_maps(
    ("Coverage.subscriberId of the focal insurance", "subscriber.member_id"),
    (
        "Coverage.subscriber -> Patient/RelatedPerson name, birthDate, gender (female F, male M, unknown U), "
        "address.state (Claim.patient when Coverage.relationship is self or absent)",
        ("subscriber.last_name", "subscriber.first_name", "subscriber.birth_date", "subscriber.sex", "subscriber.state"),
    ),
    ("Coverage.relationship (spouse 01, child 19, any other G8) when not self", "patient.relationship"),
    (
        "Claim.patient -> Patient name, birthDate, gender, address.state, when the patient is not the subscriber",
        ("patient.last_name", "patient.first_name", "patient.birth_date", "patient.sex", "patient.state"),
    ),
)
def _people(context: _Context) -> None:
    claim = context.claim
    insurance, coverage = context.coverages[context.focal]
    patient = context.resolve(claim.patient, "Patient")
    relationship = _code(coverage.relationship) if coverage is not None else None
    subscriber: dict[str, Any] = {}
    if relationship in (None, "self"):
        subscriber.update(_person(patient) if patient is not None else {})
    else:
        holder = context.resolve(coverage.subscriber) if coverage is not None else None
        subscriber.update(_person(holder) if holder is not None else {})
        context.data["patient"] = {"relationship": RELATIONSHIPS.get(relationship, "G8"), **(_person(patient) if patient is not None else {})}
    if coverage is not None and coverage.subscriberId:
        subscriber["member_id"] = coverage.subscriberId
    context.data["subscriber"] = subscriber


@_maps(
    (
        f"Claim.provider -> Organization/Practitioner.identifier ({NPI}: qualifier XX), else the reference's identifier",
        ("billing_provider.npi", "billing_provider.id_qualifier"),
    ),
    ("Claim.provider -> .address.state", "billing_state"),
    (
        f"Claim.facility -> Location.identifier ({NPI}: qualifier XX), else the reference's identifier",
        ("service_facility.npi", "service_facility.id_qualifier"),
    ),
)
def _billing(context: _Context) -> None:
    reference = context.claim.provider
    provider = context.resolve(reference)
    billing = _npi(provider, reference)
    if billing:
        context.data["billing_provider"] = billing
    state = _state(provider) if provider is not None else None
    if state:
        context.data["billing_state"] = state
    facility_reference = context.claim.facility
    if facility_reference is not None:
        facility = _npi(context.resolve(facility_reference, "Location"), facility_reference)
        if facility:
            context.data["service_facility"] = facility


@_maps(
    (
        f"Claim.careTeam with role primary/performing/rendering (else the only member, if it has no role) -> "
        f"Practitioner.identifier ({NPI}: qualifier XX)",
        ("rendering_provider.npi", "rendering_provider.id_qualifier"),
    ),
    (f"Claim.careTeam.qualification ({NUCC_TAXONOMY}), else Practitioner.qualification", "rendering_provider.taxonomy"),
    (
        f"Claim.careTeam with role referring ({C4BB_CARE_TEAM_ROLE}, or DN in {X12_ENTITY}) that no item "
        "references -> Practitioner.identifier",
        ("referring_provider.npi", "referring_provider.id_qualifier"),
    ),
    (
        f"Claim.careTeam with role supervisor ({CLAIM_CARE_TEAM_ROLE}; or supervising, or DQ) that no item references",
        ("supervising_provider.npi", "supervising_provider.id_qualifier"),
    ),
)
def _care_team(context: _Context) -> None:
    members = context.claim.careTeam or []
    referenced = {sequence for item in context.claim.item or [] for sequence in item.careTeamSequence or []}
    for member in members:
        practitioner = context.resolve(member.provider)
        taxonomy = _code(member.qualification, NUCC_TAXONOMY)
        if taxonomy is None and practitioner is not None:
            for qualification in getattr(practitioner, "qualification", None) or []:
                taxonomy = _code(qualification.code, NUCC_TAXONOMY)
                if taxonomy:
                    break
        provider = _npi(practitioner, member.provider)
        if taxonomy:
            provider["taxonomy"] = taxonomy
        role = _role(member)
        context.care_team[member.sequence] = (role, provider)
        if role == "rendering" and context.rendering_sequence is None:
            context.rendering_sequence = member.sequence
        elif role in ("referring", "supervising") and member.sequence not in referenced and provider:
            context.data.setdefault(f"{role}_provider", provider)
        elif role == "ordering" and member.sequence not in referenced and provider and context.claim_ordering is None:
            context.claim_ordering = provider
    if context.rendering_sequence is None and len(members) == 1 and members[0].role is None:
        context.rendering_sequence = members[0].sequence
    if context.rendering_sequence is not None and context.care_team[context.rendering_sequence][1]:
        context.data["rendering_provider"] = context.care_team[context.rendering_sequence][1]


@_maps(
    (
        "Claim.diagnosis (by sequence): diagnosisCodeableConcept, or diagnosisReference -> Condition.code; "
        "ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm), dots removed",
        "diagnoses",
    ),
    (
        "Claim.diagnosis.type principal, else the lowest sequence",
        "diagnoses",
        "the first: qualifier ABK, the others ABF; ICD-9-CM BK, BF",
    ),
)
def _diagnoses(context: _Context) -> None:
    entries = sorted(enumerate(context.claim.diagnosis or []), key=lambda pair: (pair[1].sequence, pair[0]))
    found = []
    for index, diagnosis in entries:
        concept = diagnosis.diagnosisCodeableConcept
        if concept is None and diagnosis.diagnosisReference is not None:
            condition = context.resolve(diagnosis.diagnosisReference, "Condition")
            concept = condition.code if condition is not None else None
        code, icd9 = _code(concept, ICD10_CM), False
        if code is None:
            code, icd9 = _code(concept, ICD9_CM), True
        if code is None:
            code, icd9 = _code(concept), False
        if code is None:
            raise _Unconvertible(context.pointer("diagnosis", index), "a diagnosis without a code")
        principal = any(_code(kind) == "principal" for kind in diagnosis.type or [])
        found.append((not principal, diagnosis.sequence, code.replace(".", "").upper(), icd9))
    principal_first = sorted(found, key=lambda entry: entry[0]) if any(not entry[0] for entry in found) else found
    diagnoses = []
    for position, (_, sequence, code, icd9) in enumerate(principal_first):
        qualifier = ("BK" if position == 0 else "BF") if icd9 else ("ABK" if position == 0 else "ABF")
        diagnoses.append({"code": code, "qualifier": qualifier})
        context.diagnosis_positions[sequence] = position + 1
    context.data["diagnoses"] = diagnoses


@_maps(
    (f"Claim.accident.type MVA ({ACT_CODE})", "related_causes", "AA"),
    ("Claim.accident.type WPA; any other type, or none", "related_causes", "EM; OA"),
    ("Claim.accident.date", "accident_date"),
    ("Claim.accident.locationAddress.state, else locationReference -> Location.address.state", "accident_state"),
)
def _accident(context: _Context) -> None:
    accident = context.claim.accident
    if accident is None:
        return
    kind = _code(accident.type, ACT_CODE) or _code(accident.type)
    context.data["related_causes"] = [RELATED_CAUSES.get(kind or "", "OA")]
    context.data["accident_date"] = _as_date(accident.date)
    state = accident.locationAddress.state if accident.locationAddress is not None else None
    if state is None and accident.locationReference is not None:
        location = context.resolve(accident.locationReference, "Location")
        address = getattr(location, "address", None)
        state = address.state if address is not None else None
    if state:
        context.data["accident_state"] = state


@_maps(
    (f"Claim.supportingInfo.code in {X12_ASSIGNMENT} (any category; info recommended)", "assignment"),
    (f"Claim.supportingInfo.code in {X12_FREQUENCY}", "frequency"),
    (f"Claim.supportingInfo.code in {X12_RELEASE}", "release_of_information"),
    (f"Claim.supportingInfo.code in {X12_DELAY_REASON}", "delay_reason"),
    (f"Claim.supportingInfo.code in {CMS_PLACE_OF_SERVICE}, else the place of service all items share", "place_of_service"),
    (
        f"Claim.supportingInfo.timingDate (else timingPeriod.start) with code 431 in {X12_DATE_QUALIFIER}, "
        "else of the first with category onset and no code",
        "onset_date",
    ),
    (f"Claim.supportingInfo.timingDate (else timingPeriod.start) with code 454 in {X12_DATE_QUALIFIER}", "initial_treatment_date"),
    ("Claim.payee.type: provider -> Y, subscriber -> N", "benefits_assignment"),
)
def _supporting_info(context: _Context) -> None:
    claim = context.claim
    fields = {
        X12_ASSIGNMENT: "assignment",
        X12_FREQUENCY: "frequency",
        X12_RELEASE: "release_of_information",
        X12_DELAY_REASON: "delay_reason",
        CMS_PLACE_OF_SERVICE: "place_of_service",
    }
    dates = {"431": "onset_date", "454": "initial_treatment_date"}
    for info in claim.supportingInfo or []:
        for system, field in fields.items():
            code = _code(info.code, system)
            if code and field not in context.data:
                context.data[field] = code
        when = _as_date(info.timingDate)
        if when is None and info.timingPeriod is not None:
            when = _as_date(info.timingPeriod.start)
        qualifier = _code(info.code, X12_DATE_QUALIFIER)
        field = dates.get(qualifier or "")
        if field is None and info.code is None and _code(info.category) == "onset":
            field = "onset_date"
        if field is not None and when is not None and field not in context.data:
            context.data[field] = when
    payee = _code(claim.payee.type) if claim.payee is not None else None
    if payee in ("provider", "subscriber"):
        context.data["benefits_assignment"] = "Y" if payee == "provider" else "N"


@_maps(
    ("Claim.item.sequence", "lines[].number"),
    (f"Claim.item.productOrService: CPT ({CPT}) or HCPCS, else its first code", "lines[].procedure"),
    ("always HC (CPT/HCPCS)", "lines[].qualifier"),
    ("Claim.item.modifier[].coding[0].code", "lines[].modifiers"),
    ("Claim.item.net.value, else unitPrice.value x quantity.value x factor", "lines[].charge"),
    (f"Claim.item.quantity.value (code min in {UCUM}: minutes, MJ; else UN)", ("lines[].units", "lines[].unit_basis")),
    ("Claim.item.locationCodeableConcept (CMS place of service)", "lines[].place_of_service"),
    ("Claim.item.diagnosisSequence -> position of that diagnosis", "lines[].diagnosis_pointers"),
    ("Claim.item.servicedDate, else servicedPeriod.start", "lines[].service_date"),
    (
        f"Claim.item.detail.productOrService in {NDC} (the first such detail)",
        "lines[].ndc",
    ),
    (
        f"Claim.item.detail.quantity: value; code in {X12_UNIT} (F2, GR, ME, ML, UN), "
        f"else {UCUM} ([iU] F2, g GR, mg ME, mL ML)",
        ("lines[].ndc_quantity", "lines[].ndc_unit"),
    ),
    (
        "Claim.item.careTeamSequence -> a member with no role, role other or a rendering role, when not the "
        "claim's rendering provider",
        ("lines[].rendering_provider.npi", "lines[].rendering_provider.id_qualifier", "lines[].rendering_provider.taxonomy"),
    ),
    (
        "Claim.item.careTeamSequence -> a member with role referring",
        ("lines[].referring_provider.npi", "lines[].referring_provider.id_qualifier"),
    ),
    (
        "Claim.item.careTeamSequence -> a member with role supervisor",
        ("lines[].supervising_provider.npi", "lines[].supervising_provider.id_qualifier"),
    ),
    (
        f"Claim.item.careTeamSequence -> a member with role ordering (DK in {X12_ENTITY}); else a member with "
        "that role no item references",
        ("lines[].ordering_provider.npi", "lines[].ordering_provider.id_qualifier"),
    ),
)
def _items(context: _Context) -> None:
    items = context.claim.item or []
    if not items:
        raise _Unconvertible(context.pointer("item"), "the Claim has no item (service line)")
    lines = []
    for index, item in enumerate(items):
        procedure = _code(item.productOrService, (CPT, *HCPCS)) or _code(item.productOrService)
        if not procedure:
            raise _Unconvertible(context.pointer("item", index, "productOrService"), "no procedure code")
        line: dict[str, Any] = {"number": item.sequence, "procedure": procedure, "qualifier": "HC"}
        modifiers = [_code(modifier) for modifier in item.modifier or []]
        line["modifiers"] = [modifier for modifier in modifiers if modifier]
        charge = _money(item.net)
        if charge is None and item.unitPrice is not None and item.unitPrice.value is not None:
            quantity = Decimal(str(item.quantity.value)) if item.quantity is not None and item.quantity.value is not None else Decimal(1)
            factor = Decimal(str(item.factor)) if item.factor is not None else Decimal(1)
            charge = _money(item.unitPrice) * quantity * factor  # type: ignore[operator]
        if charge is not None:
            line["charge"] = charge
        if item.quantity is not None and item.quantity.value is not None:
            line["units"] = Decimal(str(item.quantity.value))
            line["unit_basis"] = "MJ" if item.quantity.system == UCUM and item.quantity.code == "min" else "UN"
        place = _code(item.locationCodeableConcept, CMS_PLACE_OF_SERVICE) or _code(item.locationCodeableConcept)
        if place:
            line["place_of_service"] = place
        pointers = []
        for position, sequence in enumerate(item.diagnosisSequence or []):
            if sequence not in context.diagnosis_positions:
                raise _Unconvertible(
                    context.pointer("item", index, "diagnosisSequence", position), f"no diagnosis has sequence {sequence}"
                )
            pointers.append(context.diagnosis_positions[sequence])
        line["diagnosis_pointers"] = pointers
        served = _as_date(item.servicedDate)
        if served is None and item.servicedPeriod is not None:
            served = _as_date(item.servicedPeriod.start)
        if served is not None:
            line["service_date"] = served
        line.update(_drug(item))
        for sequence in item.careTeamSequence or []:
            role, provider = context.care_team.get(sequence, (None, {}))
            if sequence == context.rendering_sequence or not provider:
                continue
            field = f"{role}_provider" if role in ("referring", "supervising", "ordering") else "rendering_provider"
            line.setdefault(field, provider)
        if "ordering_provider" not in line and context.claim_ordering is not None:
            line["ordering_provider"] = context.claim_ordering
        adjudications = [
            {**adjudication, "procedure": procedure} for adjudication in context.line_adjudications.get(item.sequence, [])
        ]
        if adjudications:
            line["adjudications"] = adjudications
        lines.append(line)
    context.data["lines"] = lines
    if "place_of_service" not in context.data:
        places = {line.get("place_of_service") for line in lines}
        if len(places) == 1 and None not in places:
            context.data["place_of_service"] = places.pop()


def _drug(item: Any) -> dict[str, Any]:
    """ndc, ndc_quantity, ndc_unit of the first item.detail coded in the NDC system (2410 LIN/CTP)."""
    for detail in item.detail or []:
        ndc = _code(detail.productOrService, NDC)
        if not ndc:
            continue
        drug: dict[str, Any] = {"ndc": ndc}
        quantity = detail.quantity
        if quantity is not None:
            if quantity.value is not None:
                drug["ndc_quantity"] = Decimal(str(quantity.value))
            if quantity.code and quantity.system == X12_UNIT:
                drug["ndc_unit"] = quantity.code
            elif quantity.code and quantity.system == UCUM and quantity.code in UCUM_DRUG_UNITS:
                drug["ndc_unit"] = UCUM_DRUG_UNITS[quantity.code]
        return drug
    return {}


@_maps(("Claim.total.value, else the sum of the lines' charges", "total_charge"))
def _total(context: _Context) -> None:
    total = _money(context.claim.total)
    if total is None:
        total = sum((line.get("charge", Decimal(0)) for line in context.data["lines"]), Decimal(0))
    context.data["total_charge"] = total


# --- what FHIR cannot carry ----------------------------------------------------------------------------

# Model paths an R4 Claim has no place for, or that this reader does not read, with why. The writer
# (scrubber.writers.fhir) drops them; tests compare formats without them.
NOT_CARRIED: dict[str, str] = {
    "payer.insurance_type": "no Coverage element for the Medicare secondary payer type",
    "other_payers[].insurance_type": "no Coverage element for the Medicare secondary payer type",
    "provider_signature": "no Claim element",
    "payer_claim_number": "not read (Claim.related.reference could hold it; not mapped)",
    "lines[].prior_auth": "no item element (Claim.insurance.preAuthRef is claim-level)",
    "other_payers[].adjustments": "not read (no CAS group code in ClaimResponse.adjudication)",
    "lines[].adjudications[].adjustments": "not read (no CAS group code in ClaimResponse.adjudication)",
    "lines[].adjudications[].units": "not read",
    "lines[].adjudications[].adjudication_date": "not read (ClaimResponse.payment.date is claim-level)",
    "billing_provider.taxonomy": "not read (an Organization has no qualification)",
    "implementation": "X12 only",
}

# Model paths FHIR carries with a loss, with what is lost.
PARTLY_CARRIED: dict[str, str] = {
    "benefits_assignment": "Y and N only: payee.type says provider or subscriber (no W)",
    "related_causes": "the first cause only (Claim.accident.type holds one code), and only with an accident_date",
    "accident_date": "only with a related cause (an accident without a cause says nothing happened)",
    "accident_state": "only with an accident_date (Claim.accident.date is required)",
    "patient.relationship": "spouse 01 and child 19; any other comes back as G8",
    "lines[].qualifier": "always HC",
    "lines[].unit_basis": "MJ (minutes, UCUM min) or UN; UN when the line has no units",
    "lines[].adjudications[].procedure": "the line's procedure",
    "other_payers[].adjudication_date": "only with a paid amount (ClaimResponse.payment.amount is required)",
    "lines[].ndc_quantity": "only with an NDC (item.detail needs a productOrService)",
    "lines[].ndc_unit": "only with an NDC (item.detail needs a productOrService)",
    **{
        f"{path}.id_qualifier": "XX, implied by the NPI identifier system; another qualifier is not an NPI: "
        "its NM109 is written without a system and not read back"
        for path in PROVIDER_PATHS
    },
    **{
        f"lines[].{role}_provider": "a line's provider equal to the claim's of the same role is the claim's (one careTeam member)"
        for role in ("rendering", "referring", "supervising")
    },
}


def mapping_markdown() -> str:
    """``docs/fhir-mapping.md``: the MAPPING rows as a Markdown table, then what FHIR cannot carry."""
    lines = [
        "# FHIR R4 Claim -> claim model -> X12 837P",
        "",
        "Generated from `MAPPING`, `NOT_CARRIED` and `PARTLY_CARRIED` in `scrubber/readers/fhir.py` by",
        "`scrubber schema --fhir-mapping`; do not edit by hand (a test compares this file with the code).",
        "Rows are in the order the reader applies them; the X12 column comes from the element map",
        "(`scrubber/x12map/837p.yaml`) by model path. Anything not listed is not read from FHIR.",
        "",
        "| FHIR (R4, read with fhir.resources R4B) | model field | X12 837P |",
        "|---|---|---|",
    ]
    for row in MAPPING:
        cells = (row.fhir, row.field, row.x12)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "## Not carried by FHIR", "", "| model field | X12 837P | why |", "|---|---|---|"]
    lines += [f"| {path} | {x12_label(path)} | {why} |" for path, why in NOT_CARRIED.items()]
    lines += ["", "## Carried in part", "", "| model field | X12 837P | what is lost |", "|---|---|---|"]
    lines += [f"| {path} | {x12_label(path)} | {why} |" for path, why in PARTLY_CARRIED.items()]
    return "\n".join(lines) + "\n"


__all__ = [
    "MAPPING",
    "NOT_CARRIED",
    "PARTLY_CARRIED",
    "MappingRow",
    "SOPT_FILING_INDICATORS",
    "filing_indicator_from_sopt",
    "mapping_markdown",
    "read",
    "read_path",
    "read_resources",
]
