"""FHIR code systems and code tables, shared by ``scrubber.readers.fhir`` and ``scrubber.writers.fhir``:
the code-system URIs a FHIR Claim's codings name, and how FHIR codes become X12 ones (Source of Payment
Typology -> SBR09 claim filing indicator, insurance order -> SBR01, accident type -> CLM11, patient
relationship -> PAT01, gender -> DMG03, careTeam role -> the provider loop, UCUM drug units -> CTP05-1).

It lives here, below both, so that the writer does not import the reader (tests/test_layers.py).
"""

from __future__ import annotations

# --- code systems -------------------------------------------------------------------------------

SOPT = "urn:oid:2.16.840.1.113883.3.221.5"  # PHDSC Source of Payment Typology
X12_FILING_INDICATOR = "https://codesystem.x12.org/005010/1032"
X12_ASSIGNMENT = "https://codesystem.x12.org/005010/1359"  # CLM07 provider accept assignment
X12_FREQUENCY = "https://codesystem.x12.org/005010/1325"  # CLM05-3 claim frequency type
X12_RELEASE = "https://codesystem.x12.org/005010/1363"  # CLM09 release of information
X12_DELAY_REASON = "https://codesystem.x12.org/005010/1514"  # CLM20 delay reason
X12_DATE_QUALIFIER = "https://codesystem.x12.org/005010/374"  # DTP01: 431 onset, 454 initial treatment
X12_ENTITY = "https://codesystem.x12.org/005010/98"  # NM101: DN referring, DQ supervising, DK ordering
X12_UNIT = "https://codesystem.x12.org/005010/355"  # CTP05-1 unit of a drug quantity: F2, GR, ME, ML, UN
CLAIM_INFORMATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/claiminformationcategory"
CLAIM_CARE_TEAM_ROLE = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
C4BB_CARE_TEAM_ROLE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole"  # CARIN Blue Button
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
NDC = "http://hl7.org/fhir/sid/ndc"
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
# careTeam.role codes (any system) -> the provider the member is: claimcareteamrole, CARIN Blue Button,
# and X12 entity identifier codes (NM101, in X12_ENTITY). "other" and unknown codes name no role.
CARE_TEAM_ROLES: dict[str, str] = {
    **{code: "rendering" for code in RENDERING_ROLES},
    "referring": "referring",
    "supervisor": "supervising",
    "supervising": "supervising",
    "ordering": "ordering",
}
X12_ENTITY_ROLES: dict[str, str] = {"82": "rendering", "DN": "referring", "DQ": "supervising", "DK": "ordering"}
GENDERS: dict[str, str] = {"female": "F", "male": "M", "unknown": "U"}  # AdministrativeGender -> DMG03; other: none
UCUM_DRUG_UNITS: dict[str, str] = {"[iU]": "F2", "[IU]": "F2", "g": "GR", "mg": "ME", "mL": "ML"}  # -> CTP05-1
# C4BB adjudication categories of ClaimResponse.total -> the 2320 AMT amount they are.
TOTAL_CATEGORIES: dict[str, str] = {"noncovered": "noncovered", "memberliability": "remaining_patient_liability"}

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
    "C4BB_ADJUDICATION",
    "C4BB_CARE_TEAM_ROLE",
    "CARE_TEAM_ROLES",
    "CLAIM_CARE_TEAM_ROLE",
    "CLAIM_INFORMATION_CATEGORY",
    "CMS_PLACE_OF_SERVICE",
    "CPT",
    "GENDERS",
    "HCPCS",
    "ICD9_CM",
    "ICD10_CM",
    "NDC",
    "NPI",
    "NUCC_TAXONOMY",
    "PAYER_ORDER",
    "RELATED_CAUSES",
    "RELATIONSHIPS",
    "RENDERING_ROLES",
    "SOPT",
    "SOPT_FILING_INDICATORS",
    "TOTAL_CATEGORIES",
    "UCUM",
    "UCUM_DRUG_UNITS",
    "X12_ASSIGNMENT",
    "X12_DATE_QUALIFIER",
    "X12_DELAY_REASON",
    "X12_ENTITY",
    "X12_ENTITY_ROLES",
    "X12_FILING_INDICATOR",
    "X12_FREQUENCY",
    "X12_RELEASE",
    "X12_UNIT",
    "filing_indicator_from_sopt",
]
