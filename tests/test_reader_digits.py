"""Digits that are not ASCII: ``str.isdigit`` says yes to '²' (a Latin-1 byte, B2), ``int('²')`` raises, and
``int``/``Decimal`` read '¹²' or '１２' as numbers. An X12 number is ASCII; anything else is a bad value,
reported as such, never a traceback or a silent number. (Read as Latin-1, a file's UTF-8 full-width digits
arrive as control characters, refused as such; the superscripts arrive as themselves.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from scrubber.model import Claim, ParseIssue
from scrubber.readers.x12_837p import read

MIXED = (Path(__file__).resolve().parents[1] / "fixtures" / "837p" / "mixed-batch.837").read_text(encoding="latin-1")


def read_text(text: str) -> list:
    data = text.encode("latin-1") if max(map(ord, text)) < 256 else text.encode("utf-8")
    return list(read(io.BytesIO(data), "digits.837"))


def test_the_fixture_has_two_readable_claims_before_the_changes():
    items = read_text(MIXED)
    assert sum(isinstance(item, Claim) for item in items) == 2


@pytest.mark.parametrize("digit", ["\u00b2", "\uff11", "\u0661"])  # superscript two, full-width one, Arabic-Indic one
def test_a_hierarchical_id_with_another_scripts_digit_breaks_the_hierarchy_not_the_reader(digit):
    text = MIXED.replace("HL*1**20", f"HL*{digit}**20", 1)
    assert text != MIXED
    items = read_text(text)
    problems = [item for item in items if isinstance(item, ParseIssue)]
    assert any("HL01" in item.message and "not a hierarchical id number" in item.message for item in problems)
    assert not any(isinstance(item, Claim) for item in items)  # nothing under a broken billing provider


def test_superscript_digits_are_not_a_date_or_an_amount():
    clm = next(segment for segment in MIXED.split("~") if segment.strip().startswith("CLM*"))
    fields = clm.split("*")
    charge = fields[2]
    full_width = "\u00b9" + charge[1:]  # a superscript one in front
    text = MIXED.replace(clm, clm.replace(f"*{charge}*", f"*{full_width}*", 1), 1)
    items = read_text(text)
    assert sum(isinstance(item, Claim) for item in items) == 1
    assert any(isinstance(item, ParseIssue) and f"{full_width!r} is not a number" in item.message for item in items)

    dtp = next(segment for segment in MIXED.split("~") if segment.strip().startswith("DTP*472*D8*"))
    date = dtp.strip().split("*")[3]
    bad_date = date[:4] + "\u00b2" + date[5:]
    text = MIXED.replace(dtp, dtp.replace(date, bad_date), 1)
    items = read_text(text)
    assert sum(isinstance(item, Claim) for item in items) == 1
    assert any(isinstance(item, ParseIssue) and f"{bad_date!r} is not a CCYYMMDD date" in item.message for item in items)


def test_an_amount_with_an_underscore_is_not_a_number():
    clm = next(segment for segment in MIXED.split("~") if segment.strip().startswith("CLM*"))
    charge = clm.split("*")[2]
    assert len(charge) > 1
    grouped = f"{charge[0]}_{charge[1:]}"
    items = read_text(MIXED.replace(clm, clm.replace(f"*{charge}*", f"*{grouped}*", 1), 1))
    assert sum(isinstance(item, Claim) for item in items) == 1
    assert any(isinstance(item, ParseIssue) and f"{grouped!r} is not a number" in item.message for item in items)
