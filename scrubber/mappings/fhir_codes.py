"""FHIR code systems and code tables, shared by ``scrubber.readers.fhir`` and ``scrubber.writers.fhir``:
the code-system URIs a FHIR Claim's codings name, and how FHIR codes become X12 ones (Source of Payment
Typology -> SBR09 claim filing indicator, insurance order -> SBR01, accident type -> CLM11, patient
relationship -> PAT01).

It lives here, below both, so that the writer does not import the reader (tests/test_layers.py).
"""

from __future__ import annotations

# --- code systems -------------------------------------------------------------------------------

SOPT = "urn:oid:2.16.840.1.113883.3.221.5"  # PHDSC Source of Payment Typology
X12_FILING_INDICATOR = "https://codesystem.x12.org/005010/1032"
X12_ASSIGNMENT = "https://codesystem.x12.org/005010/1359"  # CLM07 provider accept assignment
X12_FREQUENCY = "https://codesystem.x12.org/005010/1325"  # CLM05-3 claim frequency type
X12_RELEASE = "https://codesystem.x12.org/005010/1363"  # CLM09 release of information
CMS_PLACE_OF_SERVICE = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
ICD10_CM = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
ICD9_CM = ("http://hl7.org/fhir/sid/icd-9-cm",)
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = ("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "urn:oid:2.16.840.1.113883.6.285")
NPI = "http://hl7.org/fhir/sid/us-npi"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
UCUM = "http://unitsofmeasure.org"

PAYER_ORDER = "PSTABCDEFGH"  # SBR01 by position among the claim's insurances
RELATED_CAUSES = {"MVA": "AA", "WPA": "EM"}  # v3-ActCode incident -> CLM11; any other type is OA
RELATIONSHIPS = {"spouse": "01", "child": "19"}  # subscriber-relationship -> PAT01; other -> G8
RENDERING_ROLES = frozenset({"primary", "performing", "rendering"})

# Source of Payment Typology -> claim filing indicator (SBR09), longest code prefix first. Professional
# claims to traditional Medicare go to Part B (MB); Medicare managed care is Medicare Advantage (16).
SOPT_FILING_INDICATORS: dict[str, str] = {
    "11": "16",  # Medicare managed care
    "1": "MB",  # Medicare (12 fee-for-service, 13 hospice, 14 dual, 19 other)
    "2": "MC",  # Medicaid
    "311": "CH",  # TRICARE (CHAMPUS)
    "32": "VA",  # Department of Veterans Affairs
    "36": "11",  # State government: other non-federal program
    "37": "11",  # Local government
    "3": "OF",  # Other government
    "4": "11",  # Departments of corrections
    "511": "HM",  # Commercial HMO
    "512": "12",  # Commercial PPO
    "513": "13",  # Commercial POS
    "514": "14",  # EPO
    "5": "CI",  # Private health insurance
    "6": "BL",  # Blue Cross / Blue Shield
    "7": "CI",  # Managed care, unspecified
    "81": "09",  # Self-pay
    "8": "ZZ",  # No payment
    "93": "DS",  # Disability insurance
    "95": "WC",  # Workers' compensation
    "96": "AM",  # Auto insurance (includes no fault)
    "97": "LM",  # Liability insurance
    "9": "ZZ",  # Miscellaneous
}


def filing_indicator_from_sopt(code: str) -> str | None:
    """SBR09 for a Source of Payment Typology code (longest matching prefix), e.g. ``121`` -> ``MB``."""
    for length in range(len(code), 0, -1):
        indicator = SOPT_FILING_INDICATORS.get(code[:length])
        if indicator is not None:
            return indicator
    return None


__all__ = [
    "ACT_CODE",
    "CMS_PLACE_OF_SERVICE",
    "CPT",
    "HCPCS",
    "ICD9_CM",
    "ICD10_CM",
    "NPI",
    "NUCC_TAXONOMY",
    "PAYER_ORDER",
    "RELATED_CAUSES",
    "RELATIONSHIPS",
    "RENDERING_ROLES",
    "SOPT",
    "SOPT_FILING_INDICATORS",
    "UCUM",
    "X12_ASSIGNMENT",
    "X12_FILING_INDICATOR",
    "X12_FREQUENCY",
    "X12_RELEASE",
    "filing_indicator_from_sopt",
]
