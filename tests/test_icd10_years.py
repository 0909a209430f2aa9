"""ICD-10-CM validity judged on the date of service: the editions shipped, their boundaries, the
nearest-edition fallback, the data file itself and its agreement with simple-icd-10-cm."""

from __future__ import annotations

import datetime as dt
import importlib.util
import lzma
import re
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

import scrubber.codesets as cs
from scrubber.codesets import icd10
from scrubber.facts import claim_facts
from scrubber.rules.testing import build_case_claim

D = dt.date.fromisoformat
DATA = files("scrubber.codesets").joinpath("data")
BUILD_SCRIPT = Path(str(DATA.joinpath("build_icd10.py")))


def _build_module():
    spec = importlib.util.spec_from_file_location("build_icd10", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# --- the editions shipped --------------------------------------------------------------------

def test_editions_and_their_dates():
    editions = cs.icd10_editions()
    assert [(e.key, e.effective.isoformat(), e.end.isoformat()) for e in editions] == [
        ("FY2022", "2021-10-01", "2022-03-31"),
        ("FY2022-04", "2022-04-01", "2022-09-30"),
        ("FY2023", "2022-10-01", "2023-03-31"),
        ("FY2023-04", "2023-04-01", "2023-09-30"),
        ("FY2024", "2023-10-01", "2024-09-30"),
        ("FY2025", "2024-10-01", "2025-09-30"),
        ("FY2026", "2025-10-01", "2026-09-30"),
    ]
    assert [e.index for e in editions] == list(range(len(editions)))
    assert {e.fiscal_year for e in editions} >= {2024, 2025, 2026}
    for edition in editions:  # fiscal year N starts October 1 of N-1 (or April 1 of N for an update)
        assert edition.effective in (dt.date(edition.fiscal_year - 1, 10, 1), dt.date(edition.fiscal_year, 4, 1))
    fy2026 = editions[-1]
    assert fy2026.label == "FY2026" and fy2026.in_force == "2025-10-01..2026-09-30"
    assert str(fy2026) == "FY2026 (in force 2025-10-01..2026-09-30)"
    assert editions[3].label == "FY2023 April 1 update"


@pytest.mark.parametrize(("on", "key"), [
    ("2025-09-30", "FY2025"), ("2025-10-01", "FY2026"), ("2026-09-30", "FY2026"),
    ("2024-09-30", "FY2024"), ("2024-10-01", "FY2025"), ("2024-04-01", "FY2024"),
    ("2023-03-31", "FY2023"), ("2023-04-01", "FY2023-04"), ("2022-03-31", "FY2022"), ("2022-04-01", "FY2022-04"),
    ("2021-10-01", "FY2022"),
])
def test_edition_in_force(on, key):
    assert cs.icd10_edition(D(on)).key == key


# --- real codes, per year and at the boundaries ----------------------------------------------

@pytest.mark.parametrize(("code", "on", "status"), [
    # deleted in FY2026 (2025-10-01)
    ("S301XXA", "2025-06-16", "billable"), ("S301XXA", "2025-09-30", "billable"),
    ("S301XXA", "2025-10-01", "invalid"), ("S301XXA", "2025-11-03", "invalid"),
    ("T7807XA", "2025-09-30", "billable"), ("T7807XA", "2025-10-01", "invalid"),
    # new in FY2026
    ("E11A", "2025-06-16", "invalid"), ("E11A", "2025-09-30", "invalid"),
    ("E11A", "2025-10-01", "billable"), ("E11.A", "2025-11-03", "billable"), (" e11a ", "2026-09-30", "billable"),
    ("C50A0", "2025-09-30", "invalid"), ("C50A0", "2025-10-01", "billable"),
    ("QA00101", "2025-10-01", "billable"), ("QA0", "2025-10-01", "not_billable"), ("QA00101", "2025-09-30", "invalid"),
    # billable until FY2025, a header from FY2026 (subcodes added)
    ("Z5986", "2025-09-30", "billable"), ("Z5986", "2025-10-01", "not_billable"),
    # FY2025: T81.32XA deleted, C81.0A added
    ("T8132XA", "2024-09-30", "billable"), ("T8132XA", "2024-10-01", "invalid"),
    ("C810A", "2024-09-30", "invalid"), ("C810A", "2024-10-01", "billable"),
    # FY2024: D13.91 added, G20 expanded
    ("D1391", "2023-09-30", "invalid"), ("D1391", "2023-10-01", "billable"),
    ("G20", "2023-09-30", "billable"), ("G20", "2023-10-01", "not_billable"), ("G20A1", "2023-10-01", "billable"),
    # FY2023 April 1 update
    ("T74A1XA", "2023-03-31", "invalid"), ("T74A1XA", "2023-04-01", "billable"),
    ("Z591", "2023-03-31", "billable"), ("Z591", "2023-04-01", "not_billable"),
    # FY2023: O35.0XX0 deleted, Z59.86 added
    ("O350XX0", "2022-09-30", "billable"), ("O350XX0", "2022-10-01", "invalid"),
    ("Z5986", "2022-09-30", "invalid"), ("Z5986", "2022-10-01", "billable"),
    # FY2022 April 1 update
    ("Z28310", "2022-03-31", "invalid"), ("Z28310", "2022-04-01", "billable"),
    ("Z283", "2022-03-31", "billable"), ("Z283", "2022-04-01", "not_billable"),
    # the same in every year
    ("E119", "2021-10-01", "billable"), ("E119", "2026-09-30", "billable"), ("E11", "2023-01-01", "not_billable"),
    ("ZZZ99", "2024-01-01", "invalid"), ("", "2024-01-01", "invalid"), (None, "2024-01-01", "invalid"),
])
def test_status_on_the_date_of_service(code, on, status):
    assert cs.icd10_status(code, D(on)) == status
    assert cs.icd10_verdict(code, D(on)).status == status


def test_history():
    assert cs.icd10_history("Z59.86") == {
        "FY2022": "invalid", "FY2022-04": "invalid", "FY2023": "billable", "FY2023-04": "billable",
        "FY2024": "billable", "FY2025": "billable", "FY2026": "not_billable",
    }
    assert set(cs.icd10_history("NOPE").values()) == {"invalid"}


@pytest.mark.parametrize(("code", "on", "words"), [
    ("E11A", "2025-09-30", ["not an ICD-10-CM code in FY2025 (in force 2024-10-01..2025-09-30)",
                            "added in FY2026 (from 2025-10-01)"]),
    ("S301XXA", "2025-10-01", ["not an ICD-10-CM code in FY2026 (in force 2025-10-01..2026-09-30)",
                               "deleted after FY2025 (valid through 2025-09-30)"]),
    ("T74A1XA", "2023-03-31", ["in FY2023 (in force 2022-10-01..2023-03-31)", "added in FY2023 April 1 update"]),
    ("Z5986", "2025-10-01", ["header in FY2026 (in force 2025-10-01..2026-09-30)", "billable through FY2025"]),
    ("Z9999", "2025-01-01", ["in no edition from FY2022 to FY2026"]),
    ("A00-A09", "2025-01-01", ["not an ICD-10-CM code"]),
])
def test_reasons_say_the_fiscal_year(code, on, words):
    verdict = cs.icd10_verdict(code, D(on))
    assert verdict.status != "billable" and not verdict.ok and not verdict.nearest
    for word in words:
        assert word in verdict.reason


def test_billable_verdict():
    verdict = cs.icd10_verdict("E11A", D("2025-10-01"))
    assert verdict.ok and verdict.reason == "" and verdict.edition.key == "FY2026" and verdict.code == "E11A"


# --- dates outside the editions shipped -------------------------------------------------------

def test_dates_after_the_newest_edition_use_it():
    later = D("2026-12-01")
    assert cs.icd10_edition(later).key == "FY2026"
    assert cs.icd10_status("E11A", later) == "billable"
    verdict = cs.icd10_verdict("S301XXA", later)
    assert verdict.status == "invalid" and verdict.nearest and verdict.edition.key == "FY2026"
    assert "the newest edition shipped, used for dates of service after 2026-09-30" in verdict.reason
    assert cs.icd10_verdict("E11A", D("2026-10-01")).nearest
    assert not cs.icd10_verdict("E11A", D("2026-09-30")).nearest


def test_dates_before_the_oldest_edition_use_it():
    earlier = D("2019-06-01")
    assert cs.icd10_edition(earlier).key == "FY2022"
    assert cs.icd10_status("O350XX0", earlier) == "billable"
    assert cs.icd10_status("Z28310", earlier) == "invalid"
    verdict = cs.icd10_verdict("Z5986", earlier)
    assert verdict.nearest and "the oldest edition shipped, used for dates of service before 2021-10-01" in verdict.reason
    assert not cs.icd10_verdict("Z5986", D("2021-10-01")).nearest


def test_no_date_uses_the_newest_edition_and_datetimes_are_dates():
    assert cs.icd10_edition().key == cs.icd10_edition(None).key == "FY2026"
    assert cs.icd10_status("S301XXA") == "invalid" and cs.icd10_status("E11A") == "billable"
    assert cs.icd10_status("E11A", dt.datetime(2025, 9, 30, 23, 59)) == "invalid"


# --- the data file ---------------------------------------------------------------------------

def _shipped_text() -> str:
    return lzma.decompress(DATA.joinpath("icd10cm_editions.txt.xz").read_bytes()).decode("ascii")


def test_data_file_loads_small_and_names_its_source():
    raw = DATA.joinpath("icd10cm_editions.txt.xz").read_bytes()
    assert len(raw) < 200_000
    text = _shipped_text()
    assert "# source: CMS and CDC/NCHS ICD-10-CM" in text and "# as_of: 2026-04-01" in text
    tables = icd10._tables()
    assert len(tables.patterns) > 98_000
    counts = {e.key: (sum(p[e.index] != "-" for p in tables.patterns.values()),
                      sum(p[e.index] == "B" for p in tables.patterns.values())) for e in tables.editions}
    assert counts == {  # codes and billable codes of each CMS order file
        "FY2022": (95524, 72748), "FY2022-04": (95528, 72750), "FY2023": (96745, 73639),
        "FY2023-04": (96795, 73674), "FY2024": (97296, 74044), "FY2025": (97584, 74260), "FY2026": (98186, 74719),
    }
    entry = next(e for e in cs.describe() if e["name"] == "icd10_status")
    assert entry["file"] == "data/icd10cm_editions.txt.xz" and entry["as_of"] == "2026-04-01"
    assert [e["key"] for e in entry["editions"]][-3:] == ["FY2024", "FY2025", "FY2026"]


def test_every_code_is_a_leaf_exactly_when_billable_in_every_edition():
    tables = icd10._tables()
    for edition in tables.editions:
        codes = sorted(code for code, p in tables.patterns.items() if p[edition.index] != "-")
        for index, code in enumerate(codes):
            has_child = index + 1 < len(codes) and codes[index + 1].startswith(code)
            assert has_child == (tables.patterns[code][edition.index] == "H"), (edition.key, code)


def test_the_table_is_loaded_once_and_lookups_are_cached():
    icd10._tables()
    before = icd10._tables.cache_info()
    for on in ("2023-01-01", "2024-01-01", "2025-01-01", "2026-01-01"):
        cs.icd10_status("E119", D(on))
    after = icd10._tables.cache_info()
    assert after.misses == before.misses and after.currsize == 1


def test_the_build_script_writes_exactly_the_shipped_file():
    """Rebuilt from the shipped tables with the script's SOURCES, the text is byte for byte the shipped one."""
    build = _build_module()
    tables = icd10._tables()
    by_key = {source.key: source for source in build.SOURCES}
    editions = []
    for edition in tables.editions:
        table = {code: p[edition.index] for code, p in tables.patterns.items() if p[edition.index] != "-"}
        editions.append(build.Edition(by_key[edition.key], table, []))
    for source in build.SOURCES:  # the releases folded into an edition
        if source.key not in {e.key for e in tables.editions}:
            previous = max((e for e in editions if e.source.effective < source.effective), key=lambda e: e.source.effective)
            previous.same_as_next.append(source)
    assert build.render(editions) == _shipped_text()


def _order_zip(path: Path, rows: list[tuple[str, str]], name: str = "icd10cm_order_2099.txt") -> Path:
    lines = [f"{n:05d} {code:<7} {flag} {'title':<60} title" for n, (code, flag) in enumerate(rows, 1)]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, "\n".join(lines) + "\n")
        archive.writestr("icd10cm_order_addenda_2099.txt", "Add: 1 A000\n")
    return path


def test_build_reads_order_files_and_wheels_and_folds_unchanged_updates(tmp_path):
    build = _build_module()
    base = build.read_order_zip(_order_zip(tmp_path / "a.zip", [("A00", "0"), ("A000", "1"), ("A001", "1"), ("QA0", "1")]))
    assert base == {"A00": "H", "A000": "B", "A001": "B", "QA0": "B"}
    with pytest.raises(ValueError, match="A00 is billable"):
        build.read_order_zip(_order_zip(tmp_path / "b.zip", [("A00", "1"), ("A000", "1")]))
    with pytest.raises(ValueError, match="not an order-file line"):
        build.read_order_zip(_order_zip(tmp_path / "c.zip", [("A0-", "1")]))
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("simple_icd_10_cm/data/code-list-April-2099.txt", "1\nA00-A09\nA00\nA000\nA001\nQA0\n")
    assert build.read_wheel(wheel) == base
    sources = build.SOURCES[:3]
    later = {**base, "A002": "B"}
    editions = build.fold(sources, [base, dict(base), later])
    assert [e.source.key for e in editions] == [sources[0].key, sources[2].key]
    assert editions[0].same_as_next == [sources[1]]
    assert build.diff(base, later) == (["A002"], [], [])


# --- agreement with simple-icd-10-cm's current release ----------------------------------------

@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the library reads its data with legacy importlib APIs
def test_newest_edition_agrees_with_simple_icd_10_cm():
    data = files("simple_icd_10_cm.data")
    names = [p.name for p in data.iterdir()]
    code_list = next(n for n in names if n.startswith("code-list-") and n.endswith(".txt"))
    tabular = next(n for n in names if n.endswith(".xml"))
    release = dt.datetime.strptime(re.search(r"tabular-([A-Za-z]+-\d{1,2}-\d{4})\.xml$", tabular).group(1), "%B-%d-%Y").date()
    edition = cs.icd10_edition(release)  # the edition in force on the library's release date
    assert not cs.icd10_verdict("E119", release).nearest, f"{tabular}: its year is not shipped; add it"
    words = data.joinpath(code_list).read_text(encoding="ascii").split()
    library = sorted({w for w in words if icd10._ICD_SHAPE.fullmatch(w)})
    tables = icd10._tables()
    shipped = sorted(code for code, p in tables.patterns.items() if p[edition.index] != "-")
    assert library == shipped
    sample = shipped[:: max(1, len(shipped) // 2000)] + ["E11A", "Z5986", "QA0", "QA00101", "S52521", "S52521A"]
    import simple_icd_10_cm as icd  # slow (~2 s): parses the tabular XML

    for code in sample:
        assert icd.is_leaf(code) == (cs.icd10_status(code, release) == "billable"), code


# --- the diagnosis facts ---------------------------------------------------------------------

def _facts(overrides):
    return claim_facts(build_case_claim(overrides), "c")[0]


def test_facts_judge_each_code_on_the_dates_of_the_lines_pointing_to_it():
    fact = _facts({
        "diagnoses": [{"code": "J449", "qualifier": "ABK"}, {"code": "E11A", "qualifier": "ABF"},
                      {"code": "S301XXA", "qualifier": "ABF"}, {"code": "Z5986", "qualifier": "ABF"}],
        "lines": [{"service_date": "2025-09-29", "diagnosis_pointers": [1, 3, 4]},
                  {"service_date": "2025-10-02", "diagnosis_pointers": [2]}],
    })
    assert fact["invalid_diagnosis_count"] == 0 and fact["not_billable_diagnosis_count"] == 0
    fact = _facts({
        "diagnoses": [{"code": "J449", "qualifier": "ABK"}, {"code": "E11A", "qualifier": "ABF"},
                      {"code": "S301XXA", "qualifier": "ABF"}, {"code": "Z5986", "qualifier": "ABF"}],
        "lines": [{"service_date": "2025-09-29", "diagnosis_pointers": [1, 2]},
                  {"service_date": "2025-10-02", "diagnosis_pointers": [3, 4]}],
    })
    assert fact["invalid_diagnosis_count"] == 2
    assert fact["first_invalid_diagnosis"] == "E11A"
    assert "FY2025 (in force 2024-10-01..2025-09-30)" in fact["first_invalid_diagnosis_reason"]
    assert fact["not_billable_diagnosis_count"] == 1 and fact["first_not_billable_diagnosis"] == "Z5986"
    assert "header in FY2026" in fact["first_not_billable_diagnosis_reason"]


def test_facts_a_code_on_both_sides_of_october_1_must_be_valid_on_each():
    fact = _facts({
        "diagnoses": [{"code": "S301XXA", "qualifier": "ABK"}],
        "lines": [{"service_date": "2025-09-29", "diagnosis_pointers": [1]},
                  {"service_date": "2025-10-02", "diagnosis_pointers": [1]}],
    })
    assert fact["invalid_diagnosis_count"] == 1 and "deleted after FY2025" in fact["first_invalid_diagnosis_reason"]


def test_facts_unpointed_codes_use_the_earliest_line_date_and_icd9_is_skipped():
    fact = _facts({
        "diagnoses": [{"code": "J449", "qualifier": "ABK"}, {"code": "S301XXA", "qualifier": "ABF"}],
        "lines": [{"service_date": "2025-10-05", "diagnosis_pointers": [1]},
                  {"service_date": "2025-09-20", "diagnosis_pointers": [1]}],
    })
    assert fact["invalid_diagnosis_count"] == 0  # judged on 2025-09-20
    fact = _facts({"diagnoses": [{"code": "4779", "qualifier": "BK"}], "lines": [{"service_date": "2025-10-05"}]})
    assert fact["invalid_diagnosis_count"] == 0 and "first_invalid_diagnosis" not in fact


def test_facts_without_a_line_date_use_the_newest_edition():
    claim = build_case_claim({"diagnoses": [{"code": "S301XXA", "qualifier": "ABK"}]})
    claim = claim.model_copy(update={"lines": tuple(line.model_copy(update={"service_date": None}) for line in claim.lines)})
    fact = claim_facts(claim, "c")[0]
    assert fact["invalid_diagnosis_count"] == 1 and "FY2026" in fact["first_invalid_diagnosis_reason"]
