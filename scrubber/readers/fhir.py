"""Read FHIR R4 ``Claim`` resources: a single resource, a Bundle, or NDJSON (one resource per line).

Resources are validated with ``fhir.resources`` R4B models (R4 Claims parse with them; the package's
default models are R5). ``fhir.resources`` is an optional extra (``pip install 'claim-scrubber[fhir]'``)
imported only when a FHIR input is read, so ``scrubber check`` on X12 never pays for it.

References are resolved inside the Claim (``#id`` → ``contained``), inside the Bundle (``fullUrl`` or
``Type/id``) and, in NDJSON, against the resources of earlier lines. A reference that cannot be resolved
is a warning; the claim is still read with what it has.

How each model field is filled is declared next to the code that fills it (``@_maps``): the rows make
``MAPPING``, which both orders the conversion steps and renders ``docs/fhir-mapping.md``
(``scrubber schema --fhir-mapping``), so the table cannot drift from the code.

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

from scrubber.mappings.fhir_codes import (  # code systems and code tables, shared with scrubber.writers.fhir
    ACT_CODE,
    CMS_PLACE_OF_SERVICE,
    CPT,
    HCPCS,
    ICD9_CM,
    ICD10_CM,
    NPI,
    NUCC_TAXONOMY,
    PAYER_ORDER,
    RELATED_CAUSES,
    RELATIONSHIPS,
    RENDERING_ROLES,
    SOPT,
    SOPT_FILING_INDICATORS,
    UCUM,
    X12_ASSIGNMENT,
    X12_FILING_INDICATOR,
    X12_FREQUENCY,
    X12_RELEASE,
    filing_indicator_from_sopt,
)
from scrubber.model import Claim, ParseIssue
from scrubber.readers.common import read_opened, summarize, validation_problems

# --- the mapping table, declared by the steps that implement it -----------------------------------


@dataclass(frozen=True)
class MappingRow:
    fhir: str  # FHIR path (R4)
    field: str  # model field
    x12: str  # X12 837P element


MAPPING: list[MappingRow] = []
_STEPS: list[Callable[["_Context"], None]] = []


def _maps(*rows: tuple[str, str, str]) -> Callable[[Callable[["_Context"], None]], Callable[["_Context"], None]]:
    """Register a conversion step and the table rows it implements (steps run in this order)."""

    def register(step: Callable[["_Context"], None]) -> Callable[["_Context"], None]:
        MAPPING.extend(MappingRow(*row) for row in rows)
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
        self.care_team: dict[int, dict[str, Any]] = {}
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
    state = _state(resource)
    if state:
        person["state"] = state
    return {key: value for key, value in person.items() if value is not None}


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
    ("Claim.identifier[0].value, else Claim.id", "claim_id", "2300 CLM01"),
    ("Claim.created", "batch_date", "BHT04"),
)
def _identity(context: _Context) -> None:
    claim = context.claim
    identifier = _identifier(claim)
    context.data["claim_id"] = identifier or claim.id
    if not context.data["claim_id"]:
        raise _Unconvertible(context.pointer("identifier"), "the Claim has neither an identifier nor an id")
    context.data["batch_date"] = _as_date(claim.created)


@_maps(
    ("Claim.insurance with focal = true", "payer", "2000B SBR, 2010BB"),
    (
        "Claim.insurance.sequence (the coordination-of-benefits order: 1 P, 2 S, 3 T, 4-11 A-H)",
        "payer.sequence, other_payers[].sequence",
        "2000B SBR01, 2320 SBR01",
    ),
    (
        f"Coverage.type: X12 claim filing indicator ({X12_FILING_INDICATOR}), else Source of Payment "
        f"Typology ({SOPT}; e.g. 1/12x Medicare -> MB, 11x -> 16, 2 -> MC, 5 -> CI, 6 -> BL, 96 auto -> AM)",
        "payer.filing_indicator, other_payers[].filing_indicator",
        "2000B SBR09, 2320 SBR09",
    ),
    (
        "Coverage.payor[0] -> Organization.identifier[0].value (else the reference's identifier); "
        "Claim.insurer for the focal payer when its Coverage has no payor",
        "payer.payer_id, other_payers[].payer_id",
        "2010BB NM109, 2330B NM109",
    ),
    ("Organization.name (else the reference's display)", "payer.name, other_payers[].name", "2010BB NM103, 2330B NM103"),
    ("Claim.insurance.preAuthRef[0] of the focal insurance", "prior_auth", "2300 REF*G1"),
    ("Claim.insurance with focal = false", "other_payers[]", "2320, 2330B"),
    ("Claim.insurance.claimResponse -> ClaimResponse.payment.amount", "other_payers[].paid", "2320 AMT*D"),
    ("ClaimResponse.payment.date", "other_payers[].adjudication_date", "2330B DTP*573"),
    (
        "ClaimResponse.item[itemSequence].adjudication (category benefit).amount",
        "lines[].adjudications[].paid",
        "2430 SVD02",
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
            for item in response.item or []:
                for adjudication in item.adjudication or []:
                    if _code(adjudication.category) == "benefit" and adjudication.amount is not None:
                        context.line_adjudications.setdefault(item.itemSequence, []).append(
                            {"payer_id": other.get("payer_id"), "paid": _money(adjudication.amount)}
                        )
        other_payers.append({key: value for key, value in other.items() if value is not None})
    context.data["other_payers"] = other_payers


@_maps(
    ("Coverage.subscriberId of the focal insurance", "subscriber.member_id", "2010BA NM109"),
    (
        "Coverage.subscriber -> Patient/RelatedPerson name, birthDate, address.state "
        "(Claim.patient when Coverage.relationship is self or absent)",
        "subscriber.last_name, first_name, birth_date, state",
        "2010BA NM103, NM104, DMG02, N402",
    ),
    ("Coverage.relationship (spouse 01, child 19, any other G8) when not self", "patient.relationship", "2000C PAT01"),
    (
        "Claim.patient -> Patient name, birthDate, address.state, when the patient is not the subscriber",
        "patient.last_name, first_name, birth_date, state",
        "2010CA NM103, NM104, DMG02, N402",
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
    (f"Claim.provider -> Organization/Practitioner.identifier ({NPI}), else the reference's identifier", "billing_provider.npi", "2010AA NM109"),
    ("Claim.provider -> .address.state", "billing_state", "2010AA N402"),
)
def _billing(context: _Context) -> None:
    reference = context.claim.provider
    provider = context.resolve(reference)
    npi = (_identifier(provider, NPI) if provider is not None else None) or _reference_identifier(reference, NPI)
    if npi:
        context.data["billing_provider"] = {"npi": npi}
    state = _state(provider) if provider is not None else None
    if state:
        context.data["billing_state"] = state


@_maps(
    (
        f"Claim.careTeam with role primary/performing/rendering (else the only member, if it has no role) -> "
        f"Practitioner.identifier ({NPI})",
        "rendering_provider.npi",
        "2310B NM109",
    ),
    (f"Claim.careTeam.qualification ({NUCC_TAXONOMY}), else Practitioner.qualification", "rendering_provider.taxonomy", "2310B PRV03"),
)
def _care_team(context: _Context) -> None:
    members = context.claim.careTeam or []
    for member in members:
        practitioner = context.resolve(member.provider)
        npi = (_identifier(practitioner, NPI) if practitioner is not None else None) or _reference_identifier(member.provider, NPI)
        taxonomy = _code(member.qualification, NUCC_TAXONOMY)
        if taxonomy is None and practitioner is not None:
            for qualification in getattr(practitioner, "qualification", None) or []:
                taxonomy = _code(qualification.code, NUCC_TAXONOMY)
                if taxonomy:
                    break
        provider = {key: value for key, value in (("npi", npi), ("taxonomy", taxonomy)) if value}
        context.care_team[member.sequence] = provider
        if context.rendering_sequence is None and _code(member.role) in RENDERING_ROLES:
            context.rendering_sequence = member.sequence
    if context.rendering_sequence is None and len(members) == 1 and members[0].role is None:
        context.rendering_sequence = members[0].sequence
    if context.rendering_sequence is not None and context.care_team[context.rendering_sequence]:
        context.data["rendering_provider"] = context.care_team[context.rendering_sequence]


@_maps(
    (
        "Claim.diagnosis (by sequence): diagnosisCodeableConcept, or diagnosisReference -> Condition.code; "
        "ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm), dots removed",
        "diagnoses[].code",
        "2300 HI",
    ),
    (
        "Claim.diagnosis.type principal, else the lowest sequence",
        "diagnoses[0] (qualifier ABK; the others ABF; ICD-9-CM: BK/BF)",
        "2300 HI01-1",
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
    (f"Claim.accident.type MVA ({ACT_CODE})", "related_causes = [AA]", "2300 CLM11-1"),
    ("Claim.accident.type WPA; any other type, or none", "related_causes = [EM]; [OA]", "2300 CLM11-1"),
    ("Claim.accident.date", "accident_date", "2300 DTP*439"),
    ("Claim.accident.locationAddress.state, else locationReference -> Location.address.state", "accident_state", "2300 CLM11-4"),
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
    (f"Claim.supportingInfo.code in {X12_ASSIGNMENT} (any category; info recommended)", "assignment", "2300 CLM07"),
    (f"Claim.supportingInfo.code in {X12_FREQUENCY}", "frequency", "2300 CLM05-3"),
    (f"Claim.supportingInfo.code in {X12_RELEASE}", "release_of_information", "2300 CLM09"),
    (f"Claim.supportingInfo.code in {CMS_PLACE_OF_SERVICE}, else the place of service all items share", "place_of_service", "2300 CLM05-1"),
    ("Claim.payee.type: provider -> Y, subscriber -> N", "benefits_assignment", "2300 CLM08"),
)
def _supporting_info(context: _Context) -> None:
    claim = context.claim
    fields = {X12_ASSIGNMENT: "assignment", X12_FREQUENCY: "frequency", X12_RELEASE: "release_of_information", CMS_PLACE_OF_SERVICE: "place_of_service"}
    for info in claim.supportingInfo or []:
        for system, field in fields.items():
            code = _code(info.code, system)
            if code and field not in context.data:
                context.data[field] = code
    payee = _code(claim.payee.type) if claim.payee is not None else None
    if payee in ("provider", "subscriber"):
        context.data["benefits_assignment"] = "Y" if payee == "provider" else "N"


@_maps(
    ("Claim.item.sequence", "lines[].number", "2400 LX01"),
    (f"Claim.item.productOrService: CPT ({CPT}) or HCPCS, else its first code", "lines[].procedure (qualifier HC)", "2400 SV101-2"),
    ("Claim.item.modifier[].coding[0].code", "lines[].modifiers", "2400 SV101-3..6"),
    ("Claim.item.net.value, else unitPrice.value x quantity.value x factor", "lines[].charge", "2400 SV102"),
    (f"Claim.item.quantity.value (code min in {UCUM}: minutes, MJ; else UN)", "lines[].units, lines[].unit_basis", "2400 SV104, SV103"),
    ("Claim.item.locationCodeableConcept (CMS place of service)", "lines[].place_of_service", "2400 SV105"),
    ("Claim.item.diagnosisSequence -> position of that diagnosis", "lines[].diagnosis_pointers", "2400 SV107"),
    ("Claim.item.servicedDate, else servicedPeriod.start", "lines[].service_date", "2400 DTP*472"),
    ("Claim.item.careTeamSequence, when not the claim's rendering provider", "lines[].rendering_provider", "2420A NM109, PRV03"),
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
        for sequence in item.careTeamSequence or []:
            if sequence != context.rendering_sequence and context.care_team.get(sequence):
                line["rendering_provider"] = context.care_team[sequence]
                break
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


@_maps(("Claim.total.value, else the sum of the lines' charges", "total_charge", "2300 CLM02"))
def _total(context: _Context) -> None:
    total = _money(context.claim.total)
    if total is None:
        total = sum((line.get("charge", Decimal(0)) for line in context.data["lines"]), Decimal(0))
    context.data["total_charge"] = total


# --- the table as documentation ----------------------------------------------------------------------

# Model fields FHIR R4 Claim has no place for (or none this reader reads), with why.
NOT_READ: list[tuple[str, str, str]] = [
    ("payer.insurance_type, other_payers[].insurance_type", "SBR05", "no Coverage element for the Medicare secondary payer type"),
    ("provider_signature", "CLM06", "no Claim element"),
    ("benefits_assignment W", "CLM08", "payee.type says provider or subscriber only"),
    ("related_causes beyond the first", "CLM11-2, -3", "Claim.accident.type holds one code"),
    ("related_causes, accident_state without accident_date", "CLM11", "Claim.accident.date is required"),
    ("payer_claim_number", "REF*F8", "not read"),
    ("lines[].prior_auth", "2400 REF*G1", "no item element"),
    ("lines[].qualifier other than HC", "SV101-1", "read as HC"),
    ("other_payers[].adjustments, lines[].adjudications[].adjustments", "2320 / 2430 CAS", "not read (no CAS group code in ClaimResponse)"),
    ("other_payers[].adjudication_date without a paid amount", "DTP*573", "ClaimResponse.payment needs an amount"),
    ("lines[].adjudications[].units, .adjudication_date", "SVD05, 2430 DTP*573", "not read"),
    ("billing_provider.taxonomy", "2000A PRV03", "not read"),
    ("patient.relationship other than spouse / child", "PAT01", "read as G8"),
    ("implementation", "GS08 / ST03", "X12 only"),
]


def mapping_markdown() -> str:
    """``docs/fhir-mapping.md``: the MAPPING rows as a Markdown table."""
    lines = [
        "# FHIR R4 Claim -> claim model -> X12 837P",
        "",
        "Generated from `MAPPING` in `scrubber/readers/fhir.py` by `scrubber schema --fhir-mapping`;",
        "do not edit by hand (a test compares this file with the code). Rows are in the order the",
        "reader applies them. Anything not listed is not read from FHIR.",
        "",
        "| FHIR (R4, read with fhir.resources R4B) | model field | X12 837P |",
        "|---|---|---|",
    ]
    for row in MAPPING:
        cells = (row.fhir, row.field, row.x12)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "## Not carried by FHIR", "", "| model field | X12 837P | why |", "|---|---|---|"]
    lines += [f"| {field} | {x12} | {why} |" for field, x12, why in NOT_READ]
    return "\n".join(lines) + "\n"


__all__ = [
    "MAPPING",
    "NOT_READ",
    "MappingRow",
    "SOPT_FILING_INDICATORS",
    "filing_indicator_from_sopt",
    "mapping_markdown",
    "read",
    "read_path",
    "read_resources",
]
