"""Reference tables read from files: the neutral CSV and the CMS layouts, lookups, dates, bad rows, bad tables.

The fixtures under ``fixtures/tables/`` are synthetic files in the published layouts (made-up codes,
no descriptor); ``fixtures/tables/README.md`` says what each row is there for. The store, its import
and the store-versus-CSV property live in ``test_tables_store.py``; cell parsers and version
detection in ``test_tables_values.py``.
"""

from __future__ import annotations

import pickle
import zipfile
from datetime import date
from pathlib import Path

import pytest

from scrubber.errors import ScrubberUserError
from scrubber.tables import (
    AddonTable,
    PairEdit,
    PairTable,
    TableError,
    TableProblem,
    UnitTable,
    open_table,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tables"
PTP_F1 = FIXTURES / "ccipra-v321r0-f1.txt"
PTP_F2 = FIXTURES / "ccipra-v321r0-f2.txt"
MUE_CMS = FIXTURES / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
MUE_CMS_BAD = FIXTURES / "MCR_MUE_DMESupplierServices_Eff_01-01-2026.csv"
AOC_CMS = FIXTURES / "AOC_V2026Q2-MCR.txt"
PAYER_PTP = FIXTURES / "payer-ptp.csv"
PAYER_MUE = FIXTURES / "payer-mue.csv"
PAYER_ADDON = FIXTURES / "payer-addon.csv"


def values(edit: PairEdit | None) -> tuple | None:
    """A pair edit without its citation."""
    if edit is None:
        return None
    return (edit.column1, edit.column2, edit.effective, edit.deletion, edit.modifier_indicator)


@pytest.fixture(scope="module")
def ptp() -> PairTable:
    return open_table("ncci-ptp", [PTP_F1, PTP_F2])


# --- CMS PTP layout ---------------------------------------------------------------------------------


def test_cms_ptp_file_skips_the_preamble_and_merges_the_wrapped_header(ptp):
    table = open_table("ncci-ptp", PTP_F1)
    assert isinstance(table, PairTable) and table.kind == "ncci-ptp"
    assert table.rows == 8 and table.problems == []
    assert table.version == "2026Q2 v32.1r0"  # from the file name ccipra-v321r0
    assert table.source == "ccipra-v321r0-f1.txt (ncci-ptp 2026Q2 v32.1r0)"
    # The first data row is line 7: two preamble lines, the header on lines 3-6.
    first = table.pair("10001", "10002", date(2026, 1, 1))
    assert values(first) == ("10001", "10002", date(1996, 1, 1), None, 1)
    assert first.citation == "ccipra-v321r0-f1.txt row 7"


def test_pairs_for_lists_every_row_of_a_column_1_code_by_column_2(ptp):
    pairs = ptp.pairs_for("10001")
    assert sorted(pairs) == ["10002", "10003", "10004", "10005", "A1234"]
    assert [values(e) for e in pairs["10005"]] == [
        ("10001", "10005", date(2022, 1, 1), date(2022, 1, 1), 9),
        ("10001", "10005", date(2022, 1, 1), None, 0),
    ]
    assert ptp.pairs_for("99999") == {}
    assert ptp.pairs_for("10001") is pairs  # cached: a batch asks about the same codes again


def test_pairs_for_a_date_gives_the_row_in_force_per_column_2_code(ptp):
    on = ptp.pairs_for("10001", date(2022, 1, 1))
    assert {k: values(v) for k, v in on.items()} == {
        "10002": ("10001", "10002", date(1996, 1, 1), None, 1),
        "10003": ("10001", "10003", date(2020, 1, 1), date(2023, 12, 31), 0),
        "10005": ("10001", "10005", date(2022, 1, 1), None, 0),
        "A1234": ("10001", "A1234", date(2019, 7, 1), None, 9),
    }  # 10004 starts on 2026-04-01
    assert sorted(ptp.pairs_for("10001", date(2026, 4, 1))) == ["10002", "10004", "10005", "A1234"]
    assert ptp.pairs_for("10001", date(1995, 12, 31)) == {}


def test_deletion_star_and_empty_mean_no_deletion(ptp):
    assert ptp.pair("10001", "10002", date(2100, 1, 1)).deletion is None  # '*' in the CMS file
    payer = open_table("ncci-ptp", PAYER_PTP)
    assert payer.pair("50001", "50002", date(2100, 1, 1)).deletion is None  # empty in the neutral CSV


def test_deletion_date_is_the_last_day_in_force(ptp):
    # 10001/10003: effective 2020-01-01, deletion 2023-12-31
    assert ptp.pair("10001", "10003", date(2019, 12, 31)) is None
    assert ptp.pair("10001", "10003", date(2020, 1, 1)).modifier_indicator == 0
    assert ptp.pair("10001", "10003", date(2023, 12, 31)).deletion == date(2023, 12, 31)
    assert ptp.pair("10001", "10003", date(2024, 1, 1)) is None
    # 0007U/10002 ends at a quarter's last day, as CMS writes deletions
    assert ptp.pair("0007U", "10002", date(2026, 6, 30)) is not None
    assert ptp.pair("0007U", "10002", date(2026, 7, 1)) is None


def test_a_pair_not_yet_effective_is_not_returned(ptp):
    assert ptp.pair("10001", "10004", date(2026, 3, 31)) is None
    assert values(ptp.pair("10001", "10004", date(2026, 4, 1))) == ("10001", "10004", date(2026, 4, 1), None, 0)


def test_the_row_in_force_wins_over_a_retroactively_deleted_duplicate(ptp):
    # 10001/10005 has a row deleted the day it took effect (indicator 9) and a live row (indicator 0)
    on_first_day = ptp.pair("10001", "10005", date(2022, 1, 1))
    assert values(on_first_day) == ("10001", "10005", date(2022, 1, 1), None, 0)
    assert on_first_day.citation == "ccipra-v321r0-f1.txt row 11"
    assert ptp.pair("10001", "10005", date(2021, 12, 31)) is None


def test_modifier_indicators_0_1_9(ptp):
    day = date(2025, 1, 1)
    allowed, never, not_applicable = ptp.pair("10001", "10002", day), ptp.pair("10001", "10005", day), None
    not_applicable = ptp.pair("10001", "A1234", day)
    assert (allowed.modifier_indicator, allowed.modifier_allowed, allowed.not_applicable) == (1, True, False)
    assert (never.modifier_indicator, never.modifier_allowed, never.not_applicable) == (0, False, False)
    assert (not_applicable.modifier_indicator, not_applicable.modifier_allowed, not_applicable.not_applicable) == (
        9,
        False,
        True,
    )


def test_codes_keep_leading_zeros_and_are_normalized_on_lookup(ptp):
    assert values(ptp.pair(" 0007u ", "10002", date(2020, 1, 1)))[0] == "0007U"
    assert values(ptp.pair("20005", "0007U", date(2021, 1, 1))) == ("20005", "0007U", date(2021, 1, 1), None, 1)
    assert ptp.pair("7U", "10002", date(2020, 1, 1)) is None


def test_a_datetime_is_taken_as_its_date(ptp):
    from datetime import datetime

    assert ptp.pair("10001", "10003", datetime(2023, 12, 31, 23, 59)).deletion == date(2023, 12, 31)
    assert open_table("mue", PAYER_MUE).limit("50002", datetime(2026, 1, 1, 8)).max_units == 1
    assert open_table("addon", AOC_CMS).primaries("40004", datetime(2025, 1, 1, 0, 1)) is None


def test_pair_edits_are_directional(ptp):
    assert ptp.pair("10002", "10001", date(2025, 1, 1)) is None


def test_malformed_rows_are_reported_with_file_and_line_and_the_rest_loads(ptp):
    assert ptp.rows == 10  # 8 from f1, 2 from f2
    f2 = [(p.file, p.row, p.message) for p in ptp.problems]
    assert f2 == [
        ("ccipra-v321r0-f2.txt", 8, "effective date '20241340' is not a date (YYYYMMDD)"),
        ("ccipra-v321r0-f2.txt", 9, "modifier indicator '7' is not 0, 1 or 9"),
        ("ccipra-v321r0-f2.txt", 10, "missing column 2 code"),
        ("ccipra-v321r0-f2.txt", 11, "row has 3 fields; the header has 7"),
        ("ccipra-v321r0-f2.txt", 12, "column 1 code '3000' is not a HCPCS/CPT code (five letters or digits)"),
        ("ccipra-v321r0-f2.txt", 13, "deletion date '2023' is not a date (YYYYMMDD)"),
        ("ccipra-v321r0-f2.txt", 14, "column 2 code '3000é' is not a HCPCS/CPT code (five letters or digits)"),
    ]
    assert str(ptp.problems[0]) == "ccipra-v321r0-f2.txt:8: effective date '20241340' is not a date (YYYYMMDD)"
    # the good rows around them, one with a Latin-1 byte in its rationale, one after a blank line
    assert ptp.pair("30001", "30002", date(2024, 1, 1)).citation == "ccipra-v321r0-f2.txt row 7"
    assert ptp.pair("30002", "30001", date(2024, 1, 1)).citation == "ccipra-v321r0-f2.txt row 16"
    assert ptp.pairs_for("30001").keys() == {"30002"}


def test_rows_with_more_fields_than_the_header(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text(
        "code,max_units,indicator\n"
        "10001,1,1,,\n"  # empty trailing fields: fine
        "10002,2,1,oops\n"
    )
    table = open_table("mue", path)
    assert table.limit("10001").max_units == 1 and table.limit("10002") is None
    assert [(p.row, p.message) for p in table.problems] == [(3, "row has 4 fields; the header has 3")]


def test_the_problem_list_is_capped_per_file(tmp_path):
    rows = ["column1,column2,effective,deletion,modifier_indicator", "10001,10002,20200101,,1"]
    rows += [f"10001,{n:05d},2020XXXX,,1" for n in range(20000, 20500)]
    path = tmp_path / "many-bad.csv"
    path.write_text("\n".join(rows) + "\n")
    table = open_table("ncci-ptp", path)
    assert table.rows == 1
    assert len(table.problems) == 201
    assert table.problems[-1] == TableProblem("many-bad.csv", 0, "300 more problems not listed (500 in all)")


# --- neutral PTP -------------------------------------------------------------------------------------


def test_neutral_pair_csv_columns_in_any_order_extra_columns_ignored_names_case_insensitive():
    table = open_table("ncci-ptp", PAYER_PTP)
    assert table.problems == [] and table.rows == 4
    assert table.version == "payer-ptp.csv"  # nothing says the quarter: the file name
    assert table.source == "payer-ptp.csv"
    day = date(2025, 6, 1)
    assert values(table.pair("50001", "50002", day)) == ("50001", "50002", date(2025, 1, 1), None, 1)
    assert values(table.pair("50001", "50003", day)) == ("50001", "50003", date(2025, 1, 1), date(2025, 12, 31), 0)
    assert table.pair("50001", "50003", date(2026, 1, 1)) is None
    assert values(table.pair("0042U", "50001", day)) == ("0042U", "50001", date(2025, 1, 1), None, 1)
    assert table.pair("50001", "50002", day).citation == "payer-ptp.csv row 2"


def test_neutral_tab_separated_and_utf8_bom(tmp_path):
    path = tmp_path / "payer.tsv"
    text = "\ufeffCOLUMN1\tColumn2\tEffective\tDeletion\tModifier_Indicator\n60001\t60002\t20250101\t\t0\n"
    path.write_text(text, encoding="utf-8")
    table = open_table("ncci-ptp", path)
    assert values(table.pair("60001", "60002", date(2025, 1, 1))) == ("60001", "60002", date(2025, 1, 1), None, 0)


def test_utf16_export_is_read(tmp_path):
    path = tmp_path / "unicode-text.txt"
    path.write_text(
        "column1\tcolumn2\teffective\tdeletion\tmodifier_indicator\r\n60001\t60002\t20250101\t*\t1\r\n", "utf-16"
    )
    table = open_table("ncci-ptp", path)
    assert values(table.pair("60001", "60002", date(2025, 1, 1))) == ("60001", "60002", date(2025, 1, 1), None, 1)


def test_a_single_line_cms_ptp_header_and_a_comma_separated_cms_file(tmp_path):
    path = tmp_path / "ccipra-v320r0-f3.csv"
    path.write_text(
        '"CPT-style notice line, in our own words"\n'
        "Column 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,"
        "Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n"
        '60001,60002,,20260101,*,1,"Synthetic, quoted rationale"\n'
    )
    table = open_table("ncci-ptp", path)
    assert table.version == "2026Q1 v32.0r0"
    assert values(table.pair("60001", "60002", date(2026, 1, 1))) == ("60001", "60002", date(2026, 1, 1), None, 1)


# --- MUE ------------------------------------------------------------------------------------------


def test_cms_mue_csv_with_preamble_and_a_header_cell_spanning_two_lines():
    table = open_table("mue", MUE_CMS)
    assert isinstance(table, UnitTable) and table.kind == "mue"
    assert table.problems == [] and table.rows == 5
    assert table.version == "2026Q2 eff 2026-04-01"
    limit = table.limit("10001")
    assert (limit.code, limit.max_units, limit.indicator) == ("10001", 1, 2)
    assert limit.per_date_of_service and not limit.per_line
    assert limit.citation == "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv row 6"
    assert (table.limit("10002").max_units, table.limit("10002").indicator, table.limit("10002").per_line) == (
        4,
        1,
        True,
    )
    assert (table.limit("0007u").max_units, table.limit("0007U").indicator) == (1, 3)
    assert table.limit("A1234").max_units == 250
    assert table.limit("10003").max_units == 0
    assert table.limit("10009") is None
    assert table.limit("10001", date(2026, 5, 1)).max_units == 1  # no dates in the CMS file: always in force


def test_cms_mue_bad_rows_reported_good_rows_loaded():
    table = open_table("mue", MUE_CMS_BAD)
    assert table.rows == 2
    assert table.limit("E0001").max_units == 1 and table.limit("E0006").indicator == 3
    assert [(p.row, p.message) for p in table.problems] == [
        (4, "MUE adjudication indicator '7 Unknown Edit' is not 1, 2 or 3"),
        (5, "MUE value 'two' is not a non-negative whole number"),
        (6, "MUE value '-1' is not a non-negative whole number"),
        (7, "code '1234' is not a HCPCS/CPT code (five letters or digits)"),
        (8, "row has 2 fields; the header has 4"),
    ]
    assert {p.file for p in table.problems} == {"MCR_MUE_DMESupplierServices_Eff_01-01-2026.csv"}


def test_neutral_mue_with_effective_and_deletion_dates():
    table = open_table("mue", PAYER_MUE)
    assert table.problems == [] and table.rows == 3
    assert (table.limit("50001").max_units, table.limit("50001").indicator) == (2, 1)
    assert table.limit("50002", date(2024, 12, 31)) is None
    assert table.limit("50002", date(2025, 12, 31)).max_units == 3
    assert table.limit("50002", date(2026, 1, 1)).max_units == 1
    assert table.limit("50002").max_units == 1  # on=None: the rows without a deletion date


# --- add-on codes ---------------------------------------------------------------------------------


def test_cms_addon_file_with_julian_dates():
    table = open_table("addon", AOC_CMS)
    assert isinstance(table, AddonTable) and table.kind == "addon"
    assert table.problems == [] and table.rows == 9 and table.version == "2026Q2"
    edit = table.primaries("40001", date(2024, 1, 1))
    assert (edit.addon, edit.primaries, edit.edit_type, edit.exhaustive) == (
        "40001",
        frozenset({"40010", "40011"}),
        1,
        True,
    )
    # primary 40012 was deleted on 2023365 (2023-12-31, its last day); 40013 starts on 2026091 (2026-04-01)
    assert table.primaries("40001", date(2023, 12, 31)).primaries == {"40010", "40011", "40012"}
    assert table.primaries("40001", date(2026, 4, 1)).primaries == {"40010", "40011", "40013"}
    assert table.primaries("40001", date(2013, 3, 31)) is None  # before the edit's effective date 2013091
    assert table.primaries("40001").primaries == {"40010", "40011", "40013"}  # on=None: rows not deleted


def test_addon_type_2_has_no_primaries_and_cannot_say_a_primary_is_missing():
    table = open_table("addon", AOC_CMS)
    edit = table.primaries("40002", date(2026, 1, 1))
    assert (edit.primaries, edit.edit_type, edit.contractor_defined, edit.exhaustive) == (frozenset(), 2, True, False)
    assert edit.has_primary_in(["99999"]) is None  # the contractor decides: never a "missing primary" finding
    assert edit.citation == "AOC_V2026Q2-MCR.txt row 7"


def test_addon_types_1_and_3_and_has_primary_in():
    table = open_table("addon", AOC_CMS)
    type1 = table.primaries("40001", date(2025, 1, 1))
    assert type1.has_primary_in(["40010", "12345"]) is True
    assert type1.has_primary_in(["12345"]) is False
    type3 = table.primaries("40003", date(2025, 1, 1))
    assert (type3.edit_type, type3.primaries) == (3, frozenset({"40010"}))
    assert type3.has_primary_in(["40010"]) is True
    assert type3.has_primary_in(["12345"]) is None  # the MAC may accept other primaries


def test_addon_code_deletion_and_edit_deletion():
    table = open_table("addon", AOC_CMS)
    # add-on 40004 deleted on 2024366 = 2024-12-31 (a leap year's last day)
    assert table.primaries("40004", date(2024, 12, 31)).primaries == {"40010"}
    assert table.primaries("40004", date(2025, 1, 1)) is None
    # 40005: primary 40010 until 2019181 (2019-06-30), then 40011 from 2019182 (2019-07-01)
    assert table.primaries("40005", date(2019, 6, 30)).primaries == {"40010"}
    assert table.primaries("40005", date(2019, 7, 1)).primaries == {"40011"}
    assert table.primaries("99999") is None  # not an add-on code


def test_neutral_addon_csv_type_2_by_empty_primary_and_bad_rows():
    table = open_table("addon", PAYER_ADDON)
    assert table.rows == 4
    assert table.primaries("50010", date(2024, 6, 1)).primaries == {"50001"}
    assert table.primaries("50010", date(2025, 6, 1)).primaries == {"50001", "50002"}
    type2 = table.primaries("50011")
    assert (type2.primaries, type2.edit_type) == (frozenset(), 2)
    assert table.primaries("50012").edit_type == 3
    assert [(p.file, p.row, p.message) for p in table.problems] == [
        ("payer-addon.csv", 6, "a type 1 add-on edit needs a primary code"),
        ("payer-addon.csv", 7, "add-on code '5001X3' is not a HCPCS/CPT code (five letters or digits)"),
        ("payer-addon.csv", 8, "add-on edit type '4' is not 1, 2 or 3"),
    ]


def test_minimal_neutral_addon_csv(tmp_path):
    path = tmp_path / "addons.csv"
    path.write_text("Primary,ADDON\n70001,70009\n70002,70009\n")
    edit = open_table("addon", path).primaries("70009", date(2020, 1, 1))
    assert (edit.primaries, edit.edit_type) == (frozenset({"70001", "70002"}), 1)


# --- zips, directories, several files -------------------------------------------------------------


def test_a_zip_archive_of_cms_files(tmp_path):
    archive = tmp_path / "medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(PTP_F1, "ccipra-v321r0-f1.TXT")
        zipped.writestr("Readme.txt", "Synthetic readme without a table.\n")
    table = open_table("ncci-ptp", archive)
    assert table.rows == 8 and table.version == "2026Q2 v32.1r0"
    assert table.pair("10001", "10002", date(2025, 1, 1)).citation == (
        "medicare-ncci-2026q2-practitioner-ptp-edits-ccipra-v321r0-f1.zip!ccipra-v321r0-f1.TXT row 7"
    )
    assert [p.message for p in table.problems] == ["skipped: no ncci-ptp header row in this archive member"]


def test_a_directory_of_files(tmp_path):
    for source in (PTP_F1, PTP_F2):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4 not a table")
    table = open_table("ncci-ptp", tmp_path)
    assert table.rows == 10 and len(table.problems) == 7


def test_tables_pickle_and_answer_the_same(ptp):
    copy = pickle.loads(pickle.dumps(ptp))
    assert values(copy.pair("10001", "10005", date(2022, 1, 1))) == values(ptp.pair("10001", "10005", date(2022, 1, 1)))
    assert copy.problems == ptp.problems and copy.version == ptp.version


# --- tables that cannot be used ---------------------------------------------------------------------


def test_table_error_is_a_user_error():
    assert issubclass(TableError, ScrubberUserError)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "missing.csv: no such file"),
        ("empty.csv", b"", "empty.csv: empty file"),
        ("blank.csv", b"\n\n  \n", "blank.csv: empty file"),
        ("garbage.txt", b"lorem ipsum\ndolor,sit,amet\n", "garbage.txt: no ncci-ptp header row in the first"),
        ("binary.txt", bytes(range(256)) * 4, "binary.txt: not a text table (it holds binary data)"),
        ("header-only.csv", b"column1,column2,effective,deletion,modifier_indicator\n", "no usable ncci-ptp row"),
        ("all-bad.csv", b"column1,column2,effective,deletion,modifier_indicator\nx,y,z,,1\n", "no usable ncci-ptp row"),
        ("wrong-kind.csv", b"code,max_units,indicator\n10001,1,1\n", "this looks like a mue table, not ncci-ptp"),
        ("bad.zip", b"PK\x03\x04 not really a zip", "bad.zip: not a readable zip archive"),
        ("book.xlsx", None, "an Excel workbook; save it as CSV"),
    ],
)
def test_unusable_tables_raise_table_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if name == "book.xlsx":
        with zipfile.ZipFile(path, "w") as zipped:
            zipped.writestr("xl/workbook.xml", "<workbook/>")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(TableError) as caught:
        open_table("ncci-ptp", path)
    assert message in str(caught.value)
    assert name in str(caught.value)


def test_all_bad_rows_error_quotes_the_first_problems(tmp_path):
    path = tmp_path / "all-bad.csv"
    path.write_text("code,max_units,indicator\n10001,x,1\n")
    with pytest.raises(TableError, match=r"all-bad.csv: no usable mue row \(all-bad.csv:2: MUE value 'x'"):
        open_table("mue", path)


def test_unknown_kind_and_empty_directory(tmp_path):
    with pytest.raises(TableError, match="unknown table kind 'ptp': use one of ncci-ptp, mue, addon"):
        open_table("ptp", PTP_F1)
    with pytest.raises(TableError, match="holds no .txt, .csv or .zip table file"):
        open_table("mue", tmp_path)
    with pytest.raises(TableError, match="no table file given"):
        open_table("mue", [])


def test_a_zip_without_a_table_member(tmp_path):
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("announcement.pdf", "%PDF")
    with pytest.raises(TableError, match="docs.zip: the zip archive holds no .txt or .csv file"):
        open_table("addon", archive)


def test_a_corrupted_zip_member(tmp_path):
    archive = tmp_path / "corrupt.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zipped:
        zipped.writestr("table.csv", "code,max_units,indicator\n10001,1,1\n10002,2,2\n")
    data = bytearray(archive.read_bytes())
    data[data.find(b"10002")] = ord("9")  # the stored bytes no longer match the CRC
    archive.write_bytes(bytes(data))
    with pytest.raises(TableError, match=r"corrupt.zip!table.csv: cannot be read \(Bad CRC-32"):
        open_table("mue", archive)
