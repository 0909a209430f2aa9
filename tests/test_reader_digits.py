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


@pytest.mark.parametrize("fee", ["\u0661\u0662\u0660", "\uff11\uff12\uff10", "1_200", "\u00b9\u00b2"])
def test_a_csv_amount_in_another_script_or_grouped_with_underscores_is_a_bad_cell(fee):
    from scrubber.readers import csv as csv_reader

    mapping = {"claim_id": "claim", "fields": {"line.procedure": "cpt", "line.charge": "fee", "line.service_date": "dos"}}
    text = f"claim,cpt,fee,dos\nA1,99213,120,2026-01-10\nB1,99213,{fee},2026-01-10\n"
    items = list(csv_reader.read(io.BytesIO(text.encode("utf-8")), "export.csv", mapping))
    assert [type(item).__name__ for item in items] == ["Claim", "ParseIssue"]
    assert f"{fee!r} is not an amount" in items[1].message and items[1].claim_id == "B1"
