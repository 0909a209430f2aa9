"""Integrity facts: whether each NPI on the claim can be an NPI at all.

Every provider loop of an 837P identifies its provider by NPI (NM108 = XX, NM109 = the NPI): the billing
provider (2010AA), the claim's referring (2310A), rendering (2310B), service facility (2310C) and
supervising (2310D) providers, and each line's rendering (2420A), supervising (2420D), ordering (2420E)
and referring (2420F) providers. For each, ``<role>_npi_problem`` says why its NM109 is not an NPI:
``is not a 10-digit number`` (NM108 says XX but NM109 holds letters or the wrong number of digits) or
``fails the NPI check digit`` (ten digits, but the Luhn check over 80840 + the first nine fails). The fact
is missing when the NPI is good, when the provider is not on the claim, and when NM108 names another kind
of identifier (a qualifier other than XX says NM109 is not an NPI; a missing NM108, as JSON and CSV input
may leave it, counts as XX).

One fact per role lets a rule point at the NM1 that holds the bad number; ``invalid_npi_count_all`` and
``invalid_npis`` sum them up over the whole claim for a rule that wants one finding per claim.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from scrubber.codesets.npi import is_valid_npi
from scrubber.facts.spec import ClaimContext
from scrubber.facts.spec import claim_spec as _claim
from scrubber.facts.spec import line_spec as _line
from scrubber.model import Claim, Provider, ServiceLine

NOT_TEN_DIGITS = "is not a 10-digit number"
BAD_CHECK_DIGIT = "fails the NPI check digit"

# (fact name, model field, who it is, label in ``invalid_npis``, the NM109 it comes from)
CLAIM_ROLES = (
    ("billing_provider_npi_problem", "billing_provider", "billing provider", "billing", "2010AA NM109"),
    ("referring_provider_npi_problem", "referring_provider", "referring provider (claim level)", "referring", "2310A NM109"),
    ("rendering_provider_npi_problem", "rendering_provider", "rendering provider (claim level)", "rendering", "2310B NM109"),
    ("service_facility_npi_problem", "service_facility", "service facility location", "service facility", "2310C NM109"),
    ("supervising_provider_npi_problem", "supervising_provider", "supervising provider (claim level)", "supervising", "2310D NM109"),
)
LINE_ROLES = (
    ("line_rendering_provider_npi_problem", "rendering_provider", "line's rendering provider", "rendering", "2420A NM109"),
    ("line_supervising_provider_npi_problem", "supervising_provider", "line's supervising provider", "supervising", "2420D NM109"),
    ("line_ordering_provider_npi_problem", "ordering_provider", "line's ordering provider", "ordering", "2420E NM109"),
    ("line_referring_provider_npi_problem", "referring_provider", "line's referring provider", "referring", "2420F NM109"),
)

_WHY = "why its NM109 is not a valid NPI ('is not a 10-digit number', 'fails the NPI check digit')"
_ALL_NPIS = " / ".join(element for *_, element in (*CLAIM_ROLES, *LINE_ROLES))

SPECS = [
    *(_claim(name, str, f"{who}: {_WHY}", element) for name, _, who, _, element in CLAIM_ROLES),
    *(_line(name, str, f"{who}: {_WHY}", element) for name, _, who, _, element in LINE_ROLES),
    _claim(
        "invalid_npi_count_all",
        int,
        "NPIs of every provider loop, claim and line level, that are not 10 digits or fail the check digit",
        _ALL_NPIS,
    ),
    _claim("invalid_npis", str, "each NPI that is not valid, with its role (and line): 'ordering 1234567890 (line 2)'", _ALL_NPIS),
]


def npi_problem(provider: Provider | None) -> str | None:
    """Why ``provider``'s NM109 is not a valid NPI, or None (valid, absent, or not declared an NPI)."""
    if provider is None or not provider.npi or provider.id_qualifier not in (None, "XX"):
        return None
    return _problem(provider.npi)


@lru_cache(maxsize=65536)
def _problem(npi: str) -> str | None:
    if len(npi) != 10 or not (npi.isascii() and npi.isdigit()):  # isdigit alone takes '１' and '²'
        return NOT_TEN_DIGITS
    return None if is_valid_npi(npi) else BAD_CHECK_DIGIT


_CLAIM_FIELDS = tuple((name, field, label) for name, field, _, label, _ in CLAIM_ROLES)
_LINE_FIELDS = tuple((name, field, label) for name, field, _, label, _ in LINE_ROLES)


def add_claim_facts(claim: Claim, context: ClaimContext, fact: dict[str, Any]) -> None:
    invalid: list[str] = []
    for name, field, label in _CLAIM_FIELDS:
        provider = getattr(claim, field)
        if provider is not None and provider.npi:
            problem = npi_problem(provider)
            if problem is not None:
                fact[name] = problem
                invalid.append(f"{label} {provider.npi}")
    for line in claim.lines:
        for _, field, label in _LINE_FIELDS:
            provider = getattr(line, field)
            if provider is not None and provider.npi and npi_problem(provider) is not None:
                invalid.append(f"{label} {provider.npi} (line {line.number})")
    fact["invalid_npi_count_all"] = len(invalid)
    if invalid:
        fact["invalid_npis"] = ", ".join(invalid)


def add_line_facts(claim: Claim, line: ServiceLine, context: ClaimContext, fact: dict[str, Any]) -> None:
    for name, field, _ in _LINE_FIELDS:
        provider = getattr(line, field)
        if provider is not None and provider.npi:
            problem = npi_problem(provider)
            if problem is not None:
                fact[name] = problem
