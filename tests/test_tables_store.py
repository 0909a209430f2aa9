"""The SQLite store: import, list, replace, open, bad stores, and the store answering like the CSV it came from."""

from __future__ import annotations

import csv
import pickle
import sqlite3
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrubber.tables import ImportResult, TableError, TableInfo, import_files, list_tables, open_table

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tables"
PTP_FILES = [FIXTURES / "ccipra-v321r0-f1.txt", FIXTURES / "ccipra-v321r0-f2.txt"]
MUE_CMS = FIXTURES / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"
AOC_CMS = FIXTURES / "AOC_V2026Q2-MCR.txt"
PAYER_PTP = FIXTURES / "payer-ptp.csv"


def values(edit) -> tuple | None:
    """An edit without its citation (PairEdit, UnitLimit) or an AddonEdit's primaries and type."""
    if edit is None:
        return None
    if hasattr(edit, "primaries"):
        return (edit.addon, edit.primaries, edit.edit_type)
    return tuple(edit[:-1]) if hasattr(edit, "column1") else (edit.code, edit.max_units, edit.indicator)


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "ncci.sqlite"
    import_files("ncci-ptp", PTP_FILES, path)
    import_files("mue", MUE_CMS, path)
    import_files("addon", AOC_CMS, path)
    return path


def test_import_reports_rows_problems_version_and_time(tmp_path):
    before = datetime.now(UTC).replace(microsecond=0)
    result = import_files("ncci-ptp", PTP_FILES, tmp_path / "ncci.sqlite")
    after = datetime.now(UTC)
    assert isinstance(result, ImportResult)
    assert (result.kind, result.rows, result.version) == ("ncci-ptp", 10, "2026Q2 v32.1r0")
    assert result.sources == ("ccipra-v321r0-f1.txt", "ccipra-v321r0-f2.txt")
    assert result.problem_count == 7 and len(result.problems) == 7
    assert (result.problems[0].file, result.problems[0].row) == ("ccipra-v321r0-f2.txt", 8)
    imported = datetime.fromisoformat(result.imported_at)
    assert imported.utcoffset() == timedelta(0) and before <= imported <= after


def test_list_tables_shows_each_kind_with_version_import_date_and_row_count(store):
    tables = list_tables(store)
    assert [t.kind for t in tables] == ["addon", "mue", "ncci-ptp"]
    by_kind = {t.kind: t for t in tables}
    ptp = by_kind["ncci-ptp"]
    assert isinstance(ptp, TableInfo)
    assert (ptp.version, ptp.rows, ptp.problems) == ("2026Q2 v32.1r0", 10, 7)
    assert ptp.sources == ("ccipra-v321r0-f1.txt", "ccipra-v321r0-f2.txt")
    assert ptp.layouts == ("cms",)
    assert datetime.fromisoformat(ptp.imported_at).tzinfo is not None
    assert abs(datetime.now(UTC) - datetime.fromisoformat(ptp.imported_at)) < timedelta(minutes=5)
    assert (by_kind["mue"].version, by_kind["mue"].rows) == ("2026Q2 eff 2026-04-01", 5)
    assert (by_kind["addon"].version, by_kind["addon"].rows) == ("2026Q2", 9)


def test_store_lookups_match_the_files_and_cite_store_version_file_and_row(store):
    ptp = open_table("ncci-ptp", store)
    from_files = open_table("ncci-ptp", PTP_FILES)
    for column1 in ("10001", "0007U", "20005", "30001", "30002", "99999"):
        for column2 in ("10002", "10003", "10004", "10005", "A1234", "0007U", "30001", "30002"):
            for day in (date(2019, 12, 31), date(2022, 1, 1), date(2023, 12, 31), date(2024, 1, 1), date(2026, 7, 1)):
                assert values(ptp.pair(column1, column2, day)) == values(from_files.pair(column1, column2, day))
        assert {k: [values(e) for e in v] for k, v in ptp.pairs_for(column1).items()} == {
            k: [values(e) for e in v] for k, v in from_files.pairs_for(column1).items()
        }
    edit = ptp.pair("10001", "10005", date(2022, 1, 1))
    assert values(edit) == ("10001", "10005", date(2022, 1, 1), None, 0)
    assert edit.citation == "ncci.sqlite ncci-ptp 2026Q2 v32.1r0: ccipra-v321r0-f1.txt row 11"
    assert ptp.version == "2026Q2 v32.1r0" and ptp.rows == 10
    assert ptp.source.startswith("ncci.sqlite: ncci-ptp 2026Q2 v32.1r0, imported ")
    assert ptp.problems == from_files.problems  # the import's problems are kept in the store

    mue = open_table("mue", store)
    limit = mue.limit("10001", date(2026, 5, 1))
    assert (limit.max_units, limit.indicator) == (1, 2)
    assert (
        limit.citation == "ncci.sqlite mue 2026Q2 eff 2026-04-01: MCR_MUE_PractitionerServices_Eff_04-01-2026.csv row 6"
    )
    assert mue.limit("0007U").indicator == 3 and mue.limit("10009") is None

    addon = open_table("addon", store)
    assert addon.primaries("40001", date(2024, 1, 1)).primaries == {"40010", "40011"}
    type2 = addon.primaries("40002")
    assert (type2.primaries, type2.edit_type, type2.contractor_defined) == (frozenset(), 2, True)
    assert addon.primaries("40004", date(2025, 1, 1)) is None


def test_reimport_replaces_that_kind_only(store):
    result = import_files("ncci-ptp", PAYER_PTP, store)
    assert result.rows == 4 and result.version == "payer-ptp.csv" and result.problems == []
    ptp = open_table("ncci-ptp", store)
    assert ptp.rows == 4 and ptp.problems == []
    assert ptp.pairs_for("10001") == {}  # the CMS rows are gone
    assert (
        ptp.pair("50001", "50002", date(2025, 6, 1)).citation
        == "ncci.sqlite ncci-ptp payer-ptp.csv: payer-ptp.csv row 2"
    )
    by_kind = {t.kind: t for t in list_tables(store)}
    assert (by_kind["ncci-ptp"].rows, by_kind["ncci-ptp"].version, by_kind["ncci-ptp"].problems) == (
        4,
        "payer-ptp.csv",
        0,
    )
    assert by_kind["ncci-ptp"].layouts == ("neutral",)
    assert by_kind["mue"].rows == 5  # untouched
    assert open_table("mue", store).limit("10002").max_units == 4


def test_a_failed_import_leaves_the_store_as_it_was(store, tmp_path):
    before = list_tables(store)
    bad = tmp_path / "bad.csv"
    bad.write_text("column1,column2,effective,deletion,modifier_indicator\n1,2,3,4,5\n")
    with pytest.raises(TableError, match="no usable ncci-ptp row"):
        import_files("ncci-ptp", bad, store)
    with pytest.raises(TableError, match="no such file"):
        import_files("ncci-ptp", tmp_path / "missing.txt", store)
    assert list_tables(store) == before
    assert open_table("ncci-ptp", store).pair("10001", "10002", date(2025, 1, 1)) is not None


def test_store_found_by_magic_bytes_whatever_its_name(store, tmp_path):
    renamed = tmp_path / "tables.bin"
    renamed.write_bytes(store.read_bytes())
    assert open_table("mue", renamed).limit("10002").max_units == 4


def test_store_tables_pickle_by_path_and_close(store):
    table = open_table("ncci-ptp", store)
    copy = pickle.loads(pickle.dumps(table))
    assert values(copy.pair("10001", "10002", date(2025, 1, 1))) == ("10001", "10002", date(1996, 1, 1), None, 1)
    with open_table("addon", store) as addon:
        assert addon.primaries("40003").edit_type == 3


def test_store_without_the_kind(tmp_path):
    path = tmp_path / "only-mue.sqlite"
    import_files("mue", MUE_CMS, path)
    with pytest.raises(TableError, match=r"only-mue.sqlite: no ncci-ptp table in this store \(it holds mue;"):
        open_table("ncci-ptp", path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.sqlite", None, "missing.sqlite: no such store"),
        ("text.sqlite", b"column1,column2\n", "text.sqlite: not a SQLite store"),
    ],
)
def test_unusable_stores(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TableError, match=message):
        open_table("ncci-ptp", path)
    with pytest.raises(TableError, match=message):
        list_tables(path)
    if content is not None:  # a missing store is created by an import; a file that is not one is refused
        with pytest.raises(TableError, match=message):
            import_files("mue", MUE_CMS, path)
        assert path.read_bytes() == content


def test_a_foreign_sqlite_database_is_neither_read_nor_written(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE claims (id INTEGER)")
    con.close()
    with pytest.raises(TableError, match="other.db: a SQLite database, but not a claim-scrubber table store"):
        open_table("mue", path)
    with pytest.raises(TableError, match="not a claim-scrubber table store"):
        import_files("mue", MUE_CMS, path)
    with sqlite3.connect(path) as con:
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["claims"]
    con.close()


def test_a_store_of_another_format(store):
    with sqlite3.connect(store) as con:
        con.execute("UPDATE store_info SET value = '99' WHERE key = 'store_format'")
    con.close()
    with pytest.raises(TableError, match="table store format 99; this version reads format 1"):
        open_table("mue", store)


@pytest.mark.parametrize("empty", ["zero bytes", "an empty database"])
def test_a_store_with_nothing_imported_lists_nothing_and_has_no_kind(tmp_path, empty):
    path = tmp_path / "new.sqlite"
    if empty == "zero bytes":
        path.write_bytes(b"")
    else:
        sqlite3.connect(path).execute("PRAGMA user_version = 1").connection.close()
    assert list_tables(path) == []
    with pytest.raises(TableError, match=r"new.sqlite: no mue table in this store \(it holds none"):
        open_table("mue", path)
    assert import_files("mue", MUE_CMS, path).rows == 5  # and it can be imported into
    assert [t.kind for t in list_tables(path)] == ["mue"]


# --- the store answers like the CSV it was imported from ---------------------------------------------

CODES = ["10001", "10002", "0003U", "A1234"]
DAYS = [date(2024, 1, 1) + timedelta(days=n) for n in range(8)]
day_or_none = st.one_of(st.none(), st.sampled_from(DAYS))


def ymd(day: date | None) -> str:
    return "" if day is None else day.strftime("%Y%m%d")


ptp_rows = st.lists(
    st.tuples(
        st.sampled_from(CODES), st.sampled_from(CODES), st.sampled_from(DAYS), day_or_none, st.sampled_from("019")
    ),
    min_size=1,
    max_size=25,
)
mue_rows = st.lists(
    st.tuples(st.sampled_from(CODES), st.integers(0, 5), st.sampled_from("123"), day_or_none, day_or_none),
    min_size=1,
    max_size=15,
)
addon_rows = st.lists(
    st.tuples(
        st.sampled_from(CODES),
        st.sampled_from(["", *CODES]),
        st.sampled_from(["", "1", "2", "3"]),
        day_or_none,
        day_or_none,
    ),
    min_size=1,
    max_size=15,
)


def write_csv(path: Path, header: list[str], rows: list[list[str]], order: list[int]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header[i] for i in order])
        writer.writerows([[row[i] for i in order] for row in rows])


def both(kind: str, header: list[str], rows: list[list[str]], order: list[int]):
    """The table read from a CSV and from a store it was imported into (or the same TableError twice)."""
    with tempfile.TemporaryDirectory() as directory:
        source, store = Path(directory) / "table.csv", Path(directory) / "store.sqlite"
        write_csv(source, header, rows, order)
        try:
            memory = open_table(kind, source)
        except TableError as error:
            with pytest.raises(TableError) as caught:
                import_files(kind, source, store)
            assert str(caught.value) == str(error)
            return None, None
        result = import_files(kind, source, store)
        stored = open_table(kind, store)
        assert result.rows == memory.rows == stored.rows
        assert result.problems == memory.problems == stored.problems
        return memory, stored


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ptp_rows, order=st.permutations(range(5)))
def test_pair_tables_from_csv_and_store_agree_and_pick_the_row_in_force(rows, order):
    header = ["column1", "column2", "effective", "deletion", "modifier_indicator"]
    text_rows = [[c1, c2, ymd(eff), ymd(dele), mi] for c1, c2, eff, dele, mi in rows]
    memory, stored = both("ncci-ptp", header, text_rows, list(order))
    assert memory is not None
    for column1 in CODES:
        assert {k: [values(e) for e in v] for k, v in memory.pairs_for(column1).items()} == {
            k: [values(e) for e in v] for k, v in stored.pairs_for(column1).items()
        }
        for day in [DAYS[0] - timedelta(days=1), *DAYS]:
            in_force = {k: values(v) for k, v in stored.pairs_for(column1, day).items()}
            assert in_force == {k: values(v) for k, v in memory.pairs_for(column1, day).items()}
            assert in_force == {
                c2: values(stored.pair(column1, c2, day)) for c2 in CODES if stored.pair(column1, c2, day)
            }
        for column2 in CODES:
            for day in [DAYS[0] - timedelta(days=1), *DAYS]:
                got = values(memory.pair(column1, column2, day))
                assert got == values(stored.pair(column1, column2, day))
                live = [
                    (c1, c2, eff, dele, int(mi))
                    for c1, c2, eff, dele, mi in rows
                    if (c1, c2) == (column1, column2) and eff <= day and (dele is None or day <= dele)
                ]
                if not live:
                    assert got is None
                else:
                    best = max((mi != 9, eff, dele or date.max) for _, _, eff, dele, mi in live)
                    assert got in [r for r in live if (r[4] != 9, r[2], r[3] or date.max) == best]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=mue_rows, order=st.permutations(range(5)))
def test_unit_tables_from_csv_and_store_agree(rows, order):
    header = ["code", "max_units", "indicator", "effective", "deletion"]
    text_rows = [[code, str(units), mai, ymd(eff), ymd(dele)] for code, units, mai, eff, dele in rows]
    memory, stored = both("mue", header, text_rows, list(order))
    assert memory is not None
    for code in CODES:
        for day in [None, DAYS[0] - timedelta(days=1), *DAYS]:
            got = values(memory.limit(code, day))
            assert got == values(stored.limit(code, day))
            live = [
                r
                for r in rows
                if r[0] == code
                and (r[4] is None if day is None else ((r[3] is None or r[3] <= day) and (r[4] is None or day <= r[4])))
            ]
            assert (got is None) == (not live)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=addon_rows, order=st.permutations(range(5)))
def test_addon_tables_from_csv_and_store_agree(rows, order):
    header = ["addon", "primary", "type", "effective", "deletion"]
    text_rows = [[addon, primary, kind, ymd(eff), ymd(dele)] for addon, primary, kind, eff, dele in rows]
    memory, stored = both("addon", header, text_rows, list(order))
    if memory is None:  # every row was a type 1 or 3 row without a primary: TableError from both
        assert all(primary == "" and kind in ("1", "3") for _, primary, kind, _, _ in rows)
        return
    for code in CODES:
        for day in [None, DAYS[0] - timedelta(days=1), *DAYS]:
            got = memory.primaries(code, day)
            assert values(got) == values(stored.primaries(code, day))
            if got is not None:
                assert got.edit_type != 2 or got.has_primary_in(CODES) in (True, None)
