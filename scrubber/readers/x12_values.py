"""Element values of X12 segments, as the 837P and 835 readers read them: numbers, dates, CAS adjustments.

A value that cannot be read raises ``BadSegment`` with a message naming the element (``CLM02 'x' is not
a number``); the reader turns it into a ``ParseIssue`` and goes on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from scrubber.readers.x12_tokens import Segment


class BadSegment(ValueError):
    """A segment holds a value we cannot read; the message names the element."""


def parse_decimal(text: str, element: str) -> Decimal:
    if not text.isascii() or "_" in text:  # Decimal() also takes other scripts' digits and 1_000
        raise BadSegment(f"{element} {text!r} is not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadSegment(f"{element} {text!r} is not a number") from None
    if not value.is_finite():
        raise BadSegment(f"{element} {text!r} is not a number")
    return value


def parse_optional_decimal(text: str, element: str) -> Decimal | None:
    return parse_decimal(text, element) if text else None


# A batch repeats its dates (service dates, birth dates): each text is parsed once. Dates are immutable.
_DATES: dict[str, dt.date] = {}
_DATES_KEPT = 8192


def parse_date(text: str, element: str) -> dt.date:
    """A CCYYMMDD date."""
    date = _DATES.get(text)
    if date is not None:
        return date
    if len(text) != 8 or not text.isascii() or not text.isdigit():  # int() would take other scripts' digits
        raise BadSegment(f"{element} {text!r} is not a CCYYMMDD date")
    try:
        date = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise BadSegment(f"{element} {text!r} is not a valid date") from None
    if len(_DATES) >= _DATES_KEPT:
        _DATES.clear()
    _DATES[text] = date
    return date


def cas_adjustments(segment: Segment, strict: bool = False) -> list[dict[str, Any]]:
    """CAS: group (CAS01), then up to six reason/amount/quantity triples.

    ``strict`` (the 835) also refuses an amount without its reason code and a CAS without any reason.
    """
    group = segment.get(1)
    if not group:
        raise BadSegment("CAS01 (group code) is missing")
    adjustments = []
    for start in range(2, 19, 3):
        reason = segment.get(start)
        if not reason:
            if strict and segment.get(start + 1):
                raise BadSegment(f"CAS{start + 1:02d} has an amount but CAS{start:02d} no reason code")
            continue
        amount = parse_decimal(segment.get(start + 1), f"CAS{start + 1:02d}")
        quantity = parse_optional_decimal(segment.get(start + 2), f"CAS{start + 2:02d}")
        adjustments.append({"group": group, "reason": reason, "amount": amount, "quantity": quantity})
    if strict and not adjustments:
        raise BadSegment("CAS has no reason code")
    return adjustments
