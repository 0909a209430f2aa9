"""NPI check digit: Luhn over the 9 leading digits prefixed with 80840 (CMS NPI standard, 45 CFR 162.406)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=65536)
def is_valid_npi(npi: str) -> bool:
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():  # full-width and other Unicode digits are not NPIs
        return False
    total = 24  # the Luhn contribution of the constant prefix 80840
    for position, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if position % 2 == 0:  # doubled: the rightmost of the 9 digits, then every other one
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])
