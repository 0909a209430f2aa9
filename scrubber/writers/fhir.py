"""Write claims as FHIR R4 resources: the inverse of ``scrubber.readers.fhir`` for what FHIR can carry.

For fixtures and round-trip tests, like the X12 writer: plain JSON-ready dicts, no ``fhir.resources``
needed (the tests validate the output with its R4B models). Each claim becomes a ``Claim`` plus the
resources it references: a ``Patient`` per person, an ``Organization`` per payer and for the billing
provider, a ``Coverage`` per payer, a ``Practitioner`` per care-team member (rendering, referring,
supervising, ordering), a ``Location`` for the service facility and a ``ClaimResponse`` per prior payer
whose adjudication the claim carries.

``bundle(claims)`` puts them all in one collection Bundle (``urn:uuid`` references);
``ndjson(claims)`` writes one Claim per line with the others ``contained`` (``#id`` references).

What FHIR cannot carry is dropped: ``NOT_CARRIED`` and ``PARTLY_CARRIED`` in ``scrubber.readers.fhir``
(rendered in ``docs/fhir-mapping.md``) list it by model path, e.g. SBR05 insurance type, CLM06, CLM08
``W``, a second or third CLM11 related cause, an accident without a date, REF*F8, line-level prior
authorization, SV101-1 qualifiers other than HC, prior payers' CAS adjustments, line adjudication dates
and units, the billing provider's taxonomy, patient relationships other than spouse/child (they come
back as G8), NM108 qualifiers other than XX, and ``implementation``.

Where the 837P fields without a FHIR R4 Claim element of their own go: patient sex in
``Patient.gender``; CLM20 delay reason as ``supportingInfo`` coded in the X12 delay reason code list;
the onset date (DTP*431) as ``supportingInfo`` of category ``onset`` and the initial treatment date
(DTP*454) as ``supportingInfo`` coded 454, both with ``timingDate``; referring, supervising and ordering
providers as ``careTeam`` members with that role (a claim-level one referenced by no item, a line-level
one by its item); the service facility as ``Claim.facility``; a line's NDC, quantity and unit as
``item.detail``; AMT*A8 and AMT*EAF as ``ClaimResponse.total`` (CARIN categories noncovered and
memberliability).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from scrubber.mappings.fhir_codes import (
    ACT_CODE,
    C4BB_ADJUDICATION,
    C4BB_CARE_TEAM_ROLE,
    CLAIM_CARE_TEAM_ROLE,
    CLAIM_INFORMATION_CATEGORY,
    CMS_PLACE_OF_SERVICE,
    CPT,
    HCPCS,
    ICD9_CM,
    ICD10_CM,
    NDC,
    NPI,
    NUCC_TAXONOMY,
    UCUM,
    X12_ASSIGNMENT,
    X12_DATE_QUALIFIER,
    X12_DELAY_REASON,
    X12_ENTITY,
    X12_FILING_INDICATOR,
    X12_FREQUENCY,
    X12_RELEASE,
    X12_UNIT,
    SOPT,
    filing_indicator_from_sopt,
)
from scrubber.model import Claim, OtherPayer, Party, Payer, Provider, ServiceLine

__all__ = ["bundle", "claim_resources", "dumps", "ndjson"]

_NAMESPACE = uuid.UUID("6f1c1f0e-5d2b-4c59-9d0e-3f6c2b1a7e11")
# SBR09 -> the Source of Payment Typology code written for it (only where the reader maps it back).
_SOPT_FOR = {
    "MB": "121",
    "16": "11",
    "MC": "2",
    "CH": "311",
    "VA": "32",
    "OF": "39",
    "11": "36",
    "HM": "511",
    "12": "512",
    "13": "513",
    "14": "514",
    "CI": "521",
    "BL": "6",
    "09": "81",
    "DS": "93",
    "WC": "95",
    "AM": "96",
    "LM": "97",
    "ZZ": "98",
}
_CAUSE_TYPES = (("AA", "MVA"), ("EM", "WPA"), ("OA", None))
_RELATIONSHIPS = {"01": "spouse", "19": "child"}
_GENDERS = {"F": "female", "M": "male", "U": "unknown"}
# careTeam.role codings per provider role: a standard code where one exists, and the X12 NM101 code.
_ROLE_CODINGS: dict[str, list[dict[str, str]]] = {
    "rendering": [{"system": CLAIM_CARE_TEAM_ROLE, "code": "primary"}],
    "line-rendering": [{"system": CLAIM_CARE_TEAM_ROLE, "code": "other"}],  # not read as the claim's
    "referring": [{"system": C4BB_CARE_TEAM_ROLE, "code": "referring"}, {"system": X12_ENTITY, "code": "DN"}],
    "supervising": [{"system": CLAIM_CARE_TEAM_ROLE, "code": "supervisor"}, {"system": X12_ENTITY, "code": "DQ"}],
    "ordering": [{"system": X12_ENTITY, "code": "DK"}],
}
_FIXED_CREATED = dt.date(2026, 1, 1)


def _usd(amount: Decimal) -> dict[str, Any]:
    return {"value": amount, "currency": "USD"}


def _concept(system: str | None, code: str) -> dict[str, Any]:
    coding: dict[str, Any] = {"code": code}
    if system:
        coding = {"system": system, "code": code}
    return {"coding": [coding]}


def _safe_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9\-.]", "-", text)[:60]
    return cleaned or "claim"


def _icd10(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _coverage_type(filing_indicator: str | None) -> dict[str, Any] | None:
    if filing_indicator is None:
        return None
    sopt = _SOPT_FOR.get(filing_indicator)
    if sopt is not None and filing_indicator_from_sopt(sopt) == filing_indicator:
        return _concept(SOPT, sopt)
    return _concept(X12_FILING_INDICATOR, filing_indicator)


def _person(resource_type: str, rid: str, party: Party) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": resource_type, "id": rid}
    name = {key: value for key, value in (("family", party.last_name), ("given", [party.first_name] if party.first_name else None)) if value}
    if name:
        resource["name"] = [name]
    if party.birth_date is not None:
        resource["birthDate"] = party.birth_date.isoformat()
    if party.sex in _GENDERS:
        resource["gender"] = _GENDERS[party.sex]
    if party.state is not None:
        resource["address"] = [{"state": party.state}]
    return resource


def _organization(rid: str, payer: Payer | OtherPayer) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Organization", "id": rid}
    if payer.payer_id is not None:
        resource["identifier"] = [{"value": payer.payer_id}]
    if payer.name is not None:
        resource["name"] = payer.name
    return resource


def _identifiers(provider: Provider) -> list[dict[str, Any]]:
    """The provider's NM109 as an identifier: an NPI (NM108 XX, or no qualifier) in the NPI system; any other
    identifier without a system (readers read NPIs only)."""
    if provider.npi is None:
        return []
    if provider.id_qualifier in (None, "XX"):
        return [{"system": NPI, "value": provider.npi}]
    return [{"value": provider.npi}]


def _practitioner(rid: str, provider: Provider) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Practitioner", "id": rid}
    identifiers = _identifiers(provider)
    if identifiers:
        resource["identifier"] = identifiers
    return resource


def claim_resources(claim: Claim, *, contained: bool = True) -> list[dict[str, Any]]:
    """The Claim (first) and the resources it references.

    ``contained=True``: one resource, the others inside ``Claim.contained`` (``#id`` references).
    ``contained=False``: the Claim and its resources side by side, referenced as ``urn:uuid:...``; each
    resource then carries its full URL in ``_fullUrl`` (``bundle`` moves it to the entry).
    """
    key = claim.claim_id
    others: list[dict[str, Any]] = []

    def add(resource: dict[str, Any]) -> dict[str, Any]:
        """Register ``resource`` and return a Reference to it."""
        if contained:
            others.append(resource)
            return {"reference": f"#{resource['id']}"}
        url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, key + '/' + resource['id'])}"
        others.append({**resource, "_fullUrl": url})
        return {"reference": url}

    subscriber_ref = add(_person("Patient", "subscriber", claim.subscriber))
    patient_ref = subscriber_ref
    if claim.patient is not None:
        patient_ref = add(_person("Patient", "patient", claim.patient))
    created = claim.batch_date or _FIXED_CREATED

    billing: dict[str, Any] = {"resourceType": "Organization", "id": "billing"}
    if claim.billing_provider is not None and claim.billing_provider.npi is not None:
        billing["identifier"] = _identifiers(claim.billing_provider)
    if claim.billing_state is not None:
        billing["address"] = [{"state": claim.billing_state}]
    billing_ref = add(billing)

    # Payers in SBR01 order: the claim's own payer is focal.
    payers: list[tuple[Payer | OtherPayer, bool]] = [(claim.payer, True)] + [(other, False) for other in claim.other_payers]
    order = "PSTABCDEFGH"
    payers.sort(key=lambda pair: order.index(pair[0].sequence) if pair[0].sequence in order else len(order))
    insurance = []
    for position, (payer, focal) in enumerate(payers, start=1):
        number = order.index(payer.sequence) + 1 if payer.sequence in order else len(order) + position
        organization_ref = add(_organization(f"payer{position}", payer))
        coverage: dict[str, Any] = {
            "resourceType": "Coverage",
            "id": f"coverage{position}",
            "status": "active",
            "beneficiary": patient_ref,
            "payor": [organization_ref],
        }
        kind = _coverage_type(payer.filing_indicator)
        if kind is not None:
            coverage["type"] = kind
        if focal:
            if claim.subscriber.member_id is not None:
                coverage["subscriberId"] = claim.subscriber.member_id
            if claim.patient is not None:
                coverage["subscriber"] = subscriber_ref
                coverage["relationship"] = _concept(
                    "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    _RELATIONSHIPS.get(claim.patient.relationship or "", "other"),
                )
            else:
                coverage["relationship"] = _concept("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self")
        entry: dict[str, Any] = {"sequence": number, "focal": focal, "coverage": add(coverage)}
        if focal and claim.prior_auth is not None:
            entry["preAuthRef"] = [claim.prior_auth]
        if not focal:
            response = _claim_response(claim, payer, position, patient_ref, organization_ref, created)  # type: ignore[arg-type]
            if response is not None:
                entry["claimResponse"] = add(response)
        insurance.append(entry)

    care_team: list[dict[str, Any]] = []
    members: dict[tuple[str, str | None, str | None, str | None], int] = {}

    def member(provider: Provider, role: str) -> int:
        """The careTeam sequence of ``provider`` in ``role`` (one member per provider and role)."""
        identity = (role, provider.npi, provider.id_qualifier, provider.taxonomy)
        if identity in members:
            return members[identity]
        sequence = len(care_team) + 1
        reference = add(_practitioner(f"practitioner{sequence}", provider))
        team: dict[str, Any] = {"sequence": sequence, "provider": reference}
        team["role"] = {"coding": [dict(coding) for coding in _ROLE_CODINGS[role]]}
        if provider.taxonomy is not None:
            team["qualification"] = _concept(NUCC_TAXONOMY, provider.taxonomy)
        care_team.append(team)
        members[identity] = sequence
        return sequence

    claim_rendering = member(claim.rendering_provider, "rendering") if claim.rendering_provider is not None else None
    # Claim-level referring and supervising providers: members no item references.
    for role, provider in (("referring", claim.referring_provider), ("supervising", claim.supervising_provider)):
        if provider is not None:
            member(provider, role)

    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": _safe_id(claim.claim_id),
        "identifier": [{"value": claim.claim_id}],
        "status": "active",
        "type": _concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": patient_ref,
        "created": created.isoformat(),
        "provider": billing_ref,
        "priority": _concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
    }
    if claim.benefits_assignment in ("Y", "N"):
        resource["payee"] = {
            "type": _concept(
                "http://terminology.hl7.org/CodeSystem/payeetype", "provider" if claim.benefits_assignment == "Y" else "subscriber"
            )
        }
    supporting = []
    for system, value in (
        (X12_ASSIGNMENT, claim.assignment),
        (X12_FREQUENCY, claim.frequency),
        (X12_RELEASE, claim.release_of_information),
        (CMS_PLACE_OF_SERVICE, claim.place_of_service),
        (X12_DELAY_REASON, claim.delay_reason),
    ):
        if value is not None:
            supporting.append(
                {
                    "sequence": len(supporting) + 1,
                    "category": _concept(CLAIM_INFORMATION_CATEGORY, "info"),
                    "code": _concept(system, value),
                }
            )
    for category, qualifier, when in (("onset", "431", claim.onset_date), ("info", "454", claim.initial_treatment_date)):
        if when is not None:
            supporting.append(
                {
                    "sequence": len(supporting) + 1,
                    "category": _concept(CLAIM_INFORMATION_CATEGORY, category),
                    "code": _concept(X12_DATE_QUALIFIER, qualifier),
                    "timingDate": when.isoformat(),
                }
            )
    if supporting:
        resource["supportingInfo"] = supporting
    facility = claim.service_facility
    if facility is not None and facility.npi is not None:
        resource["facility"] = add({"resourceType": "Location", "id": "facility", "identifier": _identifiers(facility)})
    diagnoses = []
    for sequence, diagnosis in enumerate(claim.diagnoses, start=1):
        icd9 = diagnosis.qualifier in ("BK", "BF")
        entry = {
            "sequence": sequence,
            "diagnosisCodeableConcept": _concept(ICD9_CM[0] if icd9 else ICD10_CM[0], diagnosis.code if icd9 else _icd10(diagnosis.code)),
        }
        if diagnosis.qualifier in ("ABK", "BK"):
            entry["type"] = [_concept("http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "principal")]
        diagnoses.append(entry)
    if diagnoses:
        resource["diagnosis"] = diagnoses
    resource["insurance"] = insurance
    accident = _accident(claim)
    if accident is not None:
        resource["accident"] = accident
    items = []
    for line in claim.lines:
        item: dict[str, Any] = {"sequence": line.number}
        team = _line_team(claim, line, member, claim_rendering)
        if team:
            item["careTeamSequence"] = team
        if line.diagnosis_pointers:
            item["diagnosisSequence"] = list(line.diagnosis_pointers)
        system = CPT if re.fullmatch(r"\d{4}[0-9FTU]", line.procedure) else HCPCS[0]
        item["productOrService"] = _concept(system, line.procedure)
        if line.modifiers:
            item["modifier"] = [_concept(None, modifier) for modifier in line.modifiers]
        if line.service_date is not None:
            item["servicedDate"] = line.service_date.isoformat()
        if line.place_of_service is not None:
            item["locationCodeableConcept"] = _concept(CMS_PLACE_OF_SERVICE, line.place_of_service)
        if line.units is not None:
            quantity: dict[str, Any] = {"value": line.units}
            if line.unit_basis == "MJ":
                quantity.update(unit="minutes", system=UCUM, code="min")
            item["quantity"] = quantity
        item["net"] = _usd(line.charge)
        drug = _drug(line)
        if drug is not None:
            item["detail"] = [drug]
        items.append(item)
    if care_team:
        resource["careTeam"] = care_team
    resource["item"] = items
    resource["total"] = _usd(claim.total_charge)
    if contained:
        resource["contained"] = others
        return [resource]
    return [resource, *others]


def _line_team(claim: Claim, line: ServiceLine, member: Any, claim_rendering: int | None) -> list[int]:
    """The careTeam sequences of a line: its rendering provider (else the claim's), then its own referring,
    supervising and ordering providers (one equal to the claim's of the same role is the claim's)."""
    team = []
    if line.rendering_provider is not None and not _same(line.rendering_provider, claim.rendering_provider):
        team.append(member(line.rendering_provider, "line-rendering"))
    elif claim_rendering is not None:
        team.append(claim_rendering)
    for role, provider, claim_level in (
        ("referring", line.referring_provider, claim.referring_provider),
        ("supervising", line.supervising_provider, claim.supervising_provider),
        ("ordering", line.ordering_provider, None),
    ):
        if provider is not None and not _same(provider, claim_level):
            team.append(member(provider, role))
    return team


def _same(provider: Provider | None, other: Provider | None) -> bool:
    """The same provider (what FHIR carries of it; ``elements`` say where a reader found it, not who)."""
    def key(p: Provider | None) -> tuple[Any, ...] | None:
        return None if p is None else (p.npi, p.id_qualifier, p.taxonomy)

    return key(provider) == key(other)


def _drug(line: ServiceLine) -> dict[str, Any] | None:
    """2410 LIN/CTP as an item.detail: the NDC, and its quantity in the X12 unit code list."""
    if line.ndc is None:
        return None  # a detail needs a productOrService
    detail: dict[str, Any] = {"sequence": 1, "productOrService": _concept(NDC, line.ndc)}
    quantity: dict[str, Any] = {}
    if line.ndc_quantity is not None:
        quantity["value"] = line.ndc_quantity
    if line.ndc_unit is not None:
        quantity.update(system=X12_UNIT, code=line.ndc_unit)
    if quantity:
        detail["quantity"] = quantity
    return detail


def _accident(claim: Claim) -> dict[str, Any] | None:
    if claim.accident_date is None:
        return None  # FHIR requires Claim.accident.date
    accident: dict[str, Any] = {"date": claim.accident_date.isoformat()}
    for cause, code in _CAUSE_TYPES:
        if cause in claim.related_causes:
            if code is not None:
                accident["type"] = _concept(ACT_CODE, code)
            break
    else:
        return None  # a date without a cause: nothing says it was an accident
    if claim.accident_state is not None:
        accident["locationAddress"] = {"state": claim.accident_state}
    return accident


def _claim_response(
    claim: Claim,
    payer: OtherPayer,
    position: int,
    patient_ref: dict[str, Any],
    insurer_ref: dict[str, Any],
    created: dt.date,
) -> dict[str, Any] | None:
    line_items = []
    for line in claim.lines:
        paid = [adj.paid for adj in line.adjudications if adj.payer_id == payer.payer_id and adj.paid is not None]
        if paid:
            line_items.append(
                {
                    "itemSequence": line.number,
                    "adjudication": [
                        {
                            "category": _concept("http://terminology.hl7.org/CodeSystem/adjudication", "benefit"),
                            "amount": _usd(paid[0]),
                        }
                    ],
                }
            )
    totals = [
        {"category": _concept(C4BB_ADJUDICATION, category), "amount": _usd(amount)}
        for category, amount in (("noncovered", payer.noncovered), ("memberliability", payer.remaining_patient_liability))
        if amount is not None
    ]
    if payer.paid is None and not line_items and not totals:
        return None
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": f"response{position}",
        "status": "active",
        "type": _concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": patient_ref,
        "created": (payer.adjudication_date or created).isoformat(),
        "insurer": insurer_ref,
        "outcome": "complete",
    }
    if line_items:
        response["item"] = line_items
    if totals:
        response["total"] = totals
    if payer.paid is not None:
        payment: dict[str, Any] = {
            "type": _concept("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete"),
            "amount": _usd(payer.paid),
        }
        if payer.adjudication_date is not None:
            payment["date"] = payer.adjudication_date.isoformat()
        response["payment"] = payment
    return response


def bundle(claims: Iterable[Claim]) -> dict[str, Any]:
    """One collection Bundle: every Claim and the resources it references, as entries."""
    entries = []
    for claim in claims:
        for resource in claim_resources(claim, contained=False):
            resource = dict(resource)
            url = resource.pop("_fullUrl", None) or f"urn:uuid:{uuid.uuid5(_NAMESPACE, claim.claim_id + '/Claim')}"
            entries.append({"fullUrl": url, "resource": resource})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def dumps(resource: Any, indent: int | None = 2) -> str:
    """JSON text for a resource (decimals as JSON numbers)."""
    return json.dumps(_plain(resource), indent=indent)


def ndjson(claims: Iterable[Claim]) -> str:
    """One Claim per line, the resources it references contained in it."""
    return "".join(dumps(claim_resources(claim)[0], indent=None) + "\n" for claim in claims)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Shortest float repr of a cents amount reads back (as a Decimal) to the same number.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
