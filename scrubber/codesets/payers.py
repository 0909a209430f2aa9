"""Payer-side code sets: auto no-fault/PIP states and X12 claim filing indicators (SBR09)."""
from __future__ import annotations

from ._data import read_yaml, str_set

PAYER_DOC = read_yaml("payer_rules.yaml")
_NF = PAYER_DOC["no_fault"]
_FI = PAYER_DOC["filing_indicators"]

NO_FAULT_STATES: frozenset[str] = str_set(_NF["no_fault_states"], "payer_rules.yaml:no_fault_states")
PIP_STATES: frozenset[str] = str_set(_NF["pip_states"], "payer_rules.yaml:pip_states")
_AUTO_FIRST_STATES = NO_FAULT_STATES | PIP_STATES

MEDICAID_FILING_INDICATORS: frozenset[str] = str_set(_FI["medicaid"], "payer_rules.yaml:medicaid")
AUTO_FILING_INDICATORS: frozenset[str] = str_set(_FI["auto"], "payer_rules.yaml:auto")
MEDICARE_B_FILING_INDICATORS: frozenset[str] = str_set(_FI["medicare_b"], "payer_rules.yaml:medicare_b")
CLAIM_FILING_INDICATOR_CODES: frozenset[str] = str_set(_FI["all"], "payer_rules.yaml:all")


def is_no_fault_or_pip_state(state: str) -> bool:
    """USPS state code where auto no-fault/PIP coverage pays medical bills first."""
    return isinstance(state, str) and state.strip().upper() in _AUTO_FIRST_STATES
