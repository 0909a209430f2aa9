"""Cells of a reference table (codes, dates, indicators), header recognition, and quarter detection."""

from __future__ import annotations

from datetime import date

import pytest

from scrubber.tables.layouts import header_key, match_header
from scrubber.tables.model import AddonEdit, AddonRow, PairEdit, UnitLimit, choose_limit, choose_pair, combine_addon
from scrubber.tables.reader import _is_continuation
from scrubber.tables.values import (
    parse_addon_type,
    parse_code,
    parse_date,
    parse_modifier_indicator,
    parse_mue_indicator,
    parse_optional_date,
    parse_units,
    to_date,
)
from scrubber.tables.versions import combine, version_from_name, version_from_text


@pytest.mark.parametrize(
    ("text", "code"), [("10001", "10001"), (" 0001u ", "0001U"), ("A1234", "A1234"), ("g0463\t", "G0463")]
)
def test_codes_are_stripped_upper_cased_and_kept_as_strings(text, code):
    assert parse_code(text) == code


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "missing code"),
        ("   ", "missing code"),
        ("1234", "code '1234' is not a HCPCS/CPT code"),
        ("123456", "code '123456' is not a HCPCS/CPT code"),
        ("12.34", "is not a HCPCS/CPT code"),
        ("99213-25", "is not a HCPCS/CPT code"),
    ],
)
def test_bad_codes(text, message):
    with pytest.raises(ValueError, match=message):
        parse_code(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("20260101", 20260101),
        (" 19960101 ", 19960101),
        ("2026091", 20260401),  # Julian: day 91 of 2026
        ("2024366", 20241231),  # a leap year's last day
        ("2023001", 20230101),
        ("2026-04-01", 20260401),
        ("4/1/2026", 20260401),
        ("20260101.0", 20260101),
    ],
)
def test_dates(text, value):
    assert parse_date(text) == value


@pytest.mark.parametrize("text", ["20261301", "20260230", "2023366", "2023000", "2026", "01/01/26", "tomorrow", ""])
def test_bad_dates(text):
    with pytest.raises(ValueError, match="date"):
        parse_date(text, "effective date")


def test_optional_dates_and_conversion():
    assert parse_optional_date("*") is None and parse_optional_date("  ") is None
    assert parse_optional_date("20231231") == 20231231
    assert to_date(20231231) == date(2023, 12, 31)


def test_indicators():
    assert [parse_modifier_indicator(t) for t in ("0", " 1", "9 ")] == [0, 1, 9]
    for bad in ("2", "01", "", "yes"):
        with pytest.raises(ValueError, match="modifier indicator"):
            parse_modifier_indicator(bad)
    assert parse_mue_indicator("2 Date of Service Edit: Policy") == 2
    assert parse_mue_indicator("1 Line Edit") == 1
    assert parse_mue_indicator("3 Date of Service Edit: Clinical") == 3
    assert parse_mue_indicator("3") == 3
    for bad in ("4 Something", "12", "Line Edit", ""):
        with pytest.raises(ValueError, match="MUE adjudication indicator"):
            parse_mue_indicator(bad)
    assert [parse_units(t) for t in ("0", "250", "1,000")] == [0, 250, 1000]
    for bad in ("-1", "1.5", "two", ""):
        with pytest.raises(ValueError, match="MUE value"):
            parse_units(bad)
    assert [parse_addon_type(t) for t in ("1", "2", "3", "II", "Type III")] == [1, 2, 3, 2, 3]
    with pytest.raises(ValueError, match="add-on edit type '4'"):
        parse_addon_type("4")


def test_header_keys_and_layouts():
    assert header_key("Deletion Date *=no data") == "deletiondatenodata"
    assert header_key("Add-On_Code") == "addoncode"
    assert header_key("HCPCS/\nCPT Code") == "hcpcscptcode"
    layout, columns = match_header(
        "ncci-ptp", ["Column 1", "Column 2", "*=in existence", "Effective", "Deletion", "Modifier"]
    )
    assert (layout.name, columns) == (
        "cms",
        {"column1": 0, "column2": 1, "effective": 3, "deletion": 4, "modifier_indicator": 5},
    )
    layout, columns = match_header(
        "ncci-ptp", ["deletion", "Column1", "X", "column2", "EFFECTIVE", "modifier_indicator"]
    )
    assert (layout.name, columns["column1"], columns["deletion"]) == ("neutral", 1, 0)
    layout, columns = match_header(
        "addon",
        [
            "AOC_Edit_Type",
            "Add-On_Code",
            "AOC_DelDT",
            "Primary_Code",
            "Primary_Code_DelDT",
            "AOC_Edit_EffDT",
            "AOC_Edit_DelDT",
        ],
    )
    assert layout.name == "cms"
    assert columns == {
        "addon": 1,
        "primary": 3,
        "type": 0,
        "primary_deletion": 4,
        "edit_deletion": 6,
        "addon_deletion": 2,
        "effective": 5,
    }
    assert match_header(
        "mue", ["HCPCS/CPT Code", "Outpatient Hospital Services MUE Values", "MUE Adjudication Indicator"]
    )
    assert match_header("mue", ["column1", "column2"]) is None


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("ccipra-v321r0-f1.txt", "2026Q2 v32.1r0"),
        ("ccipra-v320r0-f4.TXT", "2026Q1 v32.0r0"),
        ("ccipra-v313r1-f2.txt", "2025Q4 v31.3r1"),
        ("medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip", "2026Q2 v32.1r0"),
        ("MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", "2026Q1 eff 2026-01-01"),
        ("MCR_MUE_PractitionerServices_Eff_07-01-2025.csv", "2025Q3 eff 2025-07-01"),
        ("AOC_V2025Q4_01-MCR.txt", "2025Q4"),
        ("medicare-ncci-2026q1-add-on-code-edits.zip", "2026Q1"),
        ("payer-list.csv", None),
        ("ccipra-v324r0-f1.txt", None),  # no fifth quarter
    ],
)
def test_version_from_file_name(name, version):
    assert version_from_name(name) == version


def test_version_from_preamble_lines():
    assert version_from_text(["CPT notice", "NCCI PTP edits, Version 32.2 r0"]) == "2026Q3 v32.2r0"
    assert version_from_text(["Medically Unlikely Edits, effective July 1, 2026"]) == "2026Q3 eff 2026-07-01"
    assert version_from_text(["Effective date: 10/01/2025"]) == "2025Q4 eff 2025-10-01"
    assert version_from_text(["Payer list for 2026 Q1"]) == "2026Q1"
    assert version_from_text(["nothing here", ""]) is None


def test_combined_version_is_the_distinct_versions_else_the_file_names():
    assert combine(["2026Q2 v32.1r0", "2026Q2 v32.1r0"], ["f1", "f2"]) == "2026Q2 v32.1r0"
    assert combine(["2026Q2 v32.1r0", "2026Q1 v32.0r0"], ["f1", "f2"]) == "2026Q2 v32.1r0 + 2026Q1 v32.0r0"
    assert combine([None, None], ["a.csv", "b.csv"]) == "a.csv, b.csv"


def test_choosing_the_row_in_force():
    day = date(2025, 1, 1)
    rows = [
        PairEdit("10001", "10002", date(2020, 1, 1), date(2024, 12, 31), 0, "a"),
        PairEdit("10001", "10002", date(2025, 1, 1), date(2025, 1, 1), 9, "b"),
        PairEdit("10001", "10002", date(2021, 1, 1), None, 1, "c"),
        PairEdit("10001", "10002", date(2022, 1, 1), None, 0, "d"),
    ]
    assert choose_pair(rows, day).citation == "d"  # not 9, then the latest effective date
    assert choose_pair(rows, date(2019, 12, 31)) is None
    assert choose_pair(rows[:2], day).citation == "b"  # only the retroactive 9 is in force that day
    limits = [
        UnitLimit("10001", 4, 1, "a", date(2020, 1, 1), None),
        UnitLimit("10001", 2, 1, "b", date(2020, 1, 1), None),
        UnitLimit("10001", 9, 1, "c", date(2026, 1, 1), None),
    ]
    assert choose_limit(limits, day).citation == "b"  # same effective date: the lower limit
    assert choose_limit(limits, date(2026, 1, 1)).citation == "c"
    assert choose_limit(limits, date(2019, 1, 1)) is None


def test_addon_edit_answers():
    type1 = AddonEdit("40001", frozenset({"40010"}), 1, "x")
    assert (type1.has_primary_in({"40010"}), type1.has_primary_in(set()), type1.exhaustive) == (True, False, True)
    type2 = AddonEdit("40002", frozenset(), 2, "x")
    assert (type2.has_primary_in({"40010"}), type2.contractor_defined) == (None, True)


def test_addon_rows_disagreeing_on_type_give_the_most_permissive_type():
    def row(primary: str, edit_type: int, deletion: date | None = None) -> AddonRow:
        return AddonRow("40001", primary, edit_type, date(2020, 1, 1), deletion, f"row {primary or edit_type}")

    assert combine_addon([row("40010", 1), row("", 2)], None).edit_type == 2
    assert combine_addon([row("40010", 1), row("40011", 3)], None).edit_type == 3
    assert combine_addon([row("40010", 3), row("", 2)], None).edit_type == 2
    mixed = combine_addon([row("40010", 1), row("", 2, date(2020, 6, 30))], date(2021, 1, 1))
    assert (mixed.edit_type, mixed.primaries, mixed.citation) == (1, frozenset({"40010"}), "row 40010")
    both = combine_addon([row("40010", 1), row("40011", 1), row("40012", 1)], date(2021, 1, 1))
    assert both.citation == "row 40010 and 2 more rows"


def test_the_lines_of_a_wrapped_header_are_told_from_data_rows():
    continuation = [
        ["", "", "prior to 1996", "Date", "Date", "0=not allowed", ""],
        ["", "", "", "", "*=no data", "1=allowed", ""],
        ["", "", "", "", "", "9=not applicable", ""],
    ]
    assert all(_is_continuation(cells) for cells in continuation)
    assert not _is_continuation(["", "10002", "", "20200101", "*", "1", ""])  # a data row missing column 1
    assert not _is_continuation(["", "", "", "", "", "", ""])  # a blank row
    assert not _is_continuation(["10001", "10002", "", "20200101", "*", "1", ""])
