"""Named code sets as YAML files (scrubber.codesets.sets): format, validation, ranges, dates, user sets."""
from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scrubber import codesets as cs
from scrubber.codesets import traffic_set
from scrubber.codesets.addons import ADDONS
from scrubber.codesets.sets import (
    KINDS,
    CodeSet,
    CodeSetError,
    DatedEntry,
    bundled_code_sets,
    code_set_names,
    load_code_set,
    load_code_sets,
)
from scrubber.errors import ScrubberUserError

ROOT = Path(__file__).resolve().parents[1]
SETS_DIR = files("scrubber.codesets").joinpath("sets")

BUNDLED = {
    "ambulance", "clinical-lab", "evaluation-management", "mandatory-assignment-practitioners", "part-b-drugs",
    "preventive-medicine", "psychiatric", "psychiatric-addons", "telehealth-places-of-service",
    "traffic-accident-icd10cm", "ncci-associated-modifiers", "place-of-service",
}


def write_set(directory: Path, name: str, text: str | None = None, **fields) -> Path:
    """A set file NAME.yaml: the given text, or a YAML dump of name/source plus ``fields``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    if text is None:
        text = yaml.safe_dump({"name": name, "source": "test", **fields}, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


# --- format validation -------------------------------------------------------------------------

BAD_MINOR = """\
name: minor
description: minor procedures
as_of: 2026-13-01
kind: procedures
codes: ["10060", 2, " "]
ranges:
  - ["10000", "19999"]
  - ["J9999", "J0120"]
  - ["100", "1000"]
  - ["A0000", "99999"]
  - ["20000"]
prefix: ["A95"]
entries:
  - {code: "11102", effective: 2025-01-01, end: 2024-12-31}
  - {code: "11103", range: ["11104", "11105"]}
  - {prefix: "111", efective: 2025-01-01}
  - {range: ["0001U", "0999U"], effective: "last year"}
"""


def test_every_error_of_every_file_at_once(tmp_path):
    minor = write_set(tmp_path, "minor", BAD_MINOR)
    other = write_set(tmp_path, "other", "name: another\nkind: modifer\nprefixes: []\n")
    good = write_set(tmp_path, "good", codes=["25"])
    with pytest.raises(CodeSetError) as caught:
        load_code_sets([tmp_path])
    error = caught.value
    assert isinstance(error, ScrubberUserError)
    expected = [
        f"{minor}: as_of: '2026-13-01' is not a date (YYYY-MM-DD)",
        f"{minor}: prefix: unknown key (did you mean 'prefixes'?)",
        f"{minor}: source: required: where the codes come from (a URL, a manual section)",
        f"{minor}: kind: 'procedures' is not one of procedure, diagnosis, taxonomy, place-of-service, modifier,"
        " other (did you mean 'procedure'?)",
        f"{minor}: codes[1]: 2 is not a string (quote codes in YAML: unquoted 02 is the number 2)",
        f"{minor}: codes[2]: ' ' is not a code (empty or with spaces inside)",
        f"{minor}: ranges[1]: bounds 'J9999' and 'J0120' are reversed",
        f"{minor}: ranges[2]: bounds '100' and '1000' differ in length",
        f"{minor}: ranges[3]: bounds 'A0000' and '99999' differ in shape (a letter in one where the other has a digit)",
        f"{minor}: ranges[4]: a range is a list of two quoted codes [low, high], got ['20000']",
        f"{minor}: entries[0]: effective 2025-01-01 is after end 2024-12-31",
        f"{minor}: entries[1]: needs exactly one of code, range, prefix (found code, range)",
        f"{minor}: entries[2].efective: unknown key (did you mean 'effective'?)",
        f"{minor}: entries[3].effective: 'last year' is not a date (YYYY-MM-DD)",
        f"{other}: name: 'another' must equal the file name 'other'",
        f"{other}: source: required: where the codes come from (a URL, a manual section)",
        f"{other}: kind: 'modifer' is not one of procedure, diagnosis, taxonomy, place-of-service, modifier, other"
        " (did you mean 'modifier'?)",
        f"{other}: codes: the set is empty: list codes, ranges, prefixes or entries",
    ]
    assert sorted(error.problems) == sorted(expected)
    message = str(error)
    assert message.startswith(f"{len(expected)} problems in code-set files:\n")
    assert all(problem in message for problem in expected)
    assert str(good) not in message


def test_one_problem_is_one_line(tmp_path):
    path = write_set(tmp_path, "minor", ranges=[["100", "1000"]])
    with pytest.raises(CodeSetError) as caught:
        load_code_set(path)
    assert str(caught.value) == f"{path}: ranges[0]: bounds '100' and '1000' differ in length"


@pytest.mark.parametrize(("text", "problem"), [
    ("name: [unclosed\n", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping with name, source and codes/ranges/prefixes/entries"),
    ("name: minor\nsource: s\ncodes: 80053\n", "codes: expected a list, got int"),
    ("name: Minor\nsource: s\ncodes: [\"1\"]\n", "name: 'Minor' must equal the file name 'minor'"),
    ("name: minor\nsource: s\nentries: [\"80053\"]\n", "entries[0]: expected a mapping"),
    ("name: minor\nsource: s\nentries: [{effective: 2025-01-01}]\n", "entries[0]: needs exactly one of"),
    ("name: minor\nsource: s\nranges: [[\"A-1\", \"A-2\"]]\n", "must be letters and digits only"),
])
def test_single_file_problems(tmp_path, text, problem):
    path = write_set(tmp_path, "minor", text)
    with pytest.raises(CodeSetError) as caught:
        load_code_set(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_missing_path_is_reported_with_the_others(tmp_path):
    bad = write_set(tmp_path, "bad", ranges=[["B", "A"]])
    with pytest.raises(CodeSetError) as caught:
        load_code_sets([tmp_path / "nowhere", bad])
    assert caught.value.problems == (
        f"{tmp_path / 'nowhere'}: no such code-set file or directory",
        f"{bad}: ranges[0]: bounds 'B' and 'A' are reversed",
    )


def test_codes_are_normalized(tmp_path):
    code_set = load_code_set(write_set(tmp_path, "dx", codes=[" f32.a ", "Z00.00"], prefixes=["a95"],
                                       ranges=[["a0021", "A09.99"]]))
    assert code_set.codes == frozenset({"F32A", "Z0000"})
    assert code_set.prefixes == ("A95",)
    assert code_set.ranges == (("A0021", "A0999"),)
    for code in ("F32.A", "f32a", " F32A\t", "z00.00", "A95.0", "a95", "a04.25"):
        assert code_set.contains(code), code
    for code in ("F32", "Z00", "", "   ", None, 32, "A9"):
        assert not code_set.contains(code), code


# --- ranges and prefixes -----------------------------------------------------------------------

def test_alphanumeric_ranges():
    drugs = CodeSet("drugs", "test", ranges=(("J0120", "J9999"), ("0001U", "0999U")))
    for code in ("J3301", "J0120", "J9999", "j3301", "0001U", "0042U", "0999U", "0500u"):
        assert drugs.contains(code), code
        assert code in drugs
    for code in ("J012", "J01200", "J0119", "K0001", "I9999", "JA120", "1000U", "0000U", "00421", "J"):
        assert not drugs.contains(code), code
    # string order, position by position: the last character decides only between codes whose first
    # four agree, so a Category III code sorting inside the bounds is inside
    assert drugs.contains("0042T") and not drugs.contains("0000T") and not drugs.contains("0999V")


def test_ranges_compare_codes_of_the_bounds_shape():
    lab = CodeSet("lab", "test", ranges=(("80047", "89398"),))
    assert lab.contains("80053") and lab.contains("89398")
    assert not lab.contains("8004T")  # a letter where the bounds have a digit: another kind of code
    assert not lab.contains("800530") and not lab.contains("8005")


def test_overlapping_ranges_merge():
    code_set = CodeSet("x", "test", ranges=(("10000", "10500"), ("10400", "11000"), ("10100", "10200"),
                                            ("20000", "20000")))
    for code in ("10000", "10450", "10999", "11000", "20000"):
        assert code_set.contains(code), code
    for code in ("09999", "11001", "19999", "20001"):
        assert not code_set.contains(code), code


def test_prefixes():
    code_set = CodeSet("arbo", "test", prefixes=("A95", "A96", "B0"))
    for code in ("A95", "A95.0", "A950", "a96.1", "B01.9", "B0"):
        assert code_set.contains(code), code
    for code in ("A9", "A97", "B1", "B", "XA95"):
        assert not code_set.contains(code), code


def test_direct_construction_refuses_bad_ranges_and_is_frozen():
    with pytest.raises(ValueError, match="differ in length"):
        CodeSet("x", "test", ranges=(("100", "1000"),))
    with pytest.raises(ValueError, match="reversed"):
        CodeSet("x", "test", entries=(DatedEntry("range", ("B", "A"), dt.date(2025, 1, 1)),))
    code_set = CodeSet("x", "test", codes=frozenset({"1"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        code_set.name = "y"  # type: ignore[misc]


# --- dated entries -----------------------------------------------------------------------------

def test_dated_entries(tmp_path):
    path = write_set(tmp_path, "dated", text="""\
name: dated
source: test
as_of: 2025-06-01
codes: ["99213"]
entries:
  - {code: "G2211", effective: 2024-01-01}
  - {range: ["0001U", "0099U"], effective: 2025-01-01, end: 2025-12-31}
  - {prefix: "U07", end: "2025-09-30"}
  - {code: "99499"}
""")
    code_set = load_code_set(path)
    assert code_set.as_of == dt.date(2025, 6, 1)
    day = dt.date
    cases = [
        ("G2211", day(2023, 12, 31), False), ("G2211", day(2024, 1, 1), True), ("G2211", day(2030, 1, 1), True),
        ("0042U", day(2024, 12, 31), False), ("0042U", day(2025, 1, 1), True), ("0042U", day(2025, 12, 31), True),
        ("0042U", day(2026, 1, 1), False), ("0100U", day(2025, 6, 1), False),
        ("U07.1", day(2020, 1, 1), True), ("U07.1", day(2025, 9, 30), True), ("U07.1", day(2025, 10, 1), False),
        ("99213", day(1990, 1, 1), True), ("99499", day(1990, 1, 1), True),  # undated items always count
    ]
    for code, on, expected in cases:
        assert code_set.contains(code, on) is expected, (code, on)
        assert code_set.contains(code, dt.datetime.combine(on, dt.time(12))) is expected, (code, on)
    for code in ("G2211", "0042U", "U07.1", "99213", "99499"):
        assert code_set.contains(code), code  # on=None ignores dates
        assert code_set.contains(code, None), code
    assert not code_set.contains("0100U")


# --- user sets ---------------------------------------------------------------------------------

def test_user_set_replaces_bundled_one(tmp_path):
    write_set(tmp_path, "clinical-lab", codes=["80053"])
    write_set(tmp_path / "more", "minor-procedures", codes=["11102", "17110"])  # directories are searched
    sets = load_code_sets([tmp_path])
    assert sets["clinical-lab"].contains("80053")
    assert not sets["clinical-lab"].contains("36415")
    assert sets["minor-procedures"].contains("17110")
    assert set(sets) == BUNDLED | {"minor-procedures"}
    # the bundled sets and the predicates are untouched
    assert bundled_code_sets()["clinical-lab"].contains("36415")
    assert cs.is_clinical_lab("80053") and cs.is_clinical_lab("36415")


def test_same_user_set_twice_is_an_error(tmp_path):
    first = write_set(tmp_path / "a", "minor", codes=["1"])
    second = write_set(tmp_path / "b", "minor", codes=["2"])
    with pytest.raises(CodeSetError) as caught:
        load_code_sets([first, second])
    assert str(caught.value) == f"{second}: name: set 'minor' is already defined in {first}"


def test_load_code_sets_without_paths_is_the_bundled_sets():
    assert load_code_sets() == bundled_code_sets()
    assert load_code_sets([]) is not bundled_code_sets()  # a fresh dict each time: callers may add to it


def test_yml_suffix_and_other_files_ignored(tmp_path):
    write_set(tmp_path, "x", codes=["1"]).rename(tmp_path / "x.yml")
    (tmp_path / "README.md").write_text("# not a set\n")
    assert load_code_sets([tmp_path])["x"].contains("1")


# --- bundled sets ------------------------------------------------------------------------------

def test_every_bundled_set_loads_with_source_and_date():
    sets = bundled_code_sets()
    assert set(sets) == BUNDLED
    assert code_set_names() == sorted(BUNDLED)
    for name, code_set in sets.items():
        assert code_set.name == name
        assert code_set.source.strip() and code_set.as_of is not None, name
        assert code_set.kind in KINDS and code_set.description, name
        assert code_set.item_count() > 0, name
        assert SETS_DIR.joinpath(f"{name}.yaml").is_file()
        assert load_code_set(Path(str(SETS_DIR.joinpath(f"{name}.yaml")))) == code_set
    assert sorted(p.name for p in SETS_DIR.iterdir() if p.name.endswith(".yaml")) == sorted(
        f"{name}.yaml" for name in BUNDLED)


@pytest.mark.parametrize(("name", "inside", "outside"), [
    ("clinical-lab", ["80047", "80053", "89398", "36415", "0001U", "0042U", "G0480", "G0483", "Q0111", "Q0115"],
     ["80046", "89399", "8004T", "36410", "0001T", "G0479", "G0484", "Q0116"]),
    ("ambulance", ["A0021", "A0425", "A0999"], ["A0020", "A1000"]),
    ("part-b-drugs", ["J0120", "J3301", "J9999", "Q5101", "Q5199", "Q0138", "Q2043", "A9500", "A9699"],
     ["J0119", "Q4101", "Q5200", "K0001", "A9499", "A9700", "Q0139"]),
    ("psychiatric", ["90785", "90837", "90899"], ["90784", "90900", "9083T"]),
    ("psychiatric-addons", ["90785", "90833", "90836", "90838", "90840", "90863"], ["90832", "90839"]),
    ("evaluation-management", ["99202", "99205", "99211", "99213", "99215"], ["99201", "99216", "99221"]),
    ("preventive-medicine", ["99381", "99387", "99391", "99397"], ["99380", "99398", "99401"]),
    ("telehealth-places-of-service", ["02", "10", " 02 "], ["2", "11", "01", "002"]),
    ("mandatory-assignment-practitioners", ["363A00000X", "363LF0000X", "367500000X", "1041C0700X", "367H00000X", "133N00000X", "133NN1002X"],
     ["207Q00000X", "104100000X", "367A00000Y", "133P00000X"]),
    ("traffic-accident-icd10cm", ["V4352XA", "V43.52", "V870XXA", "V89.2XXA"], ["V4302XA", "V43", "W0110XA"]),
])
def test_bundled_set_contents(name, inside, outside):
    code_set = bundled_code_sets()[name]
    for code in inside:
        assert code_set.contains(code), code
    for code in outside:
        assert not code_set.contains(code), code


def test_traffic_set_is_generated_from_the_shipped_list():
    shipped = SETS_DIR.joinpath("traffic-accident-icd10cm.yaml").read_text(encoding="utf-8")
    assert shipped == traffic_set.render(), "run python -m scrubber.codesets.traffic_set"
    listed = files("scrubber.codesets").joinpath("data/traffic_accident_codes.txt").read_text(encoding="utf-8")
    codes = {line for line in listed.splitlines() if line and not line.startswith("#")}
    assert set(bundled_code_sets()["traffic-accident-icd10cm"].prefixes) == codes == cs.TRAFFIC_ACCIDENT_CODES
    assert yaml.load(shipped, Loader=yaml.SafeLoader)["prefixes"]  # the pure-Python parser reads it too


def test_practitioner_labels_agree_with_the_set():
    labels = yaml.safe_load(files("scrubber.codesets").joinpath("data/practitioner_taxonomies.yaml").read_text())
    labelled = {code for codes in labels["practitioners"].values() for code in codes}
    code_set = bundled_code_sets()["mandatory-assignment-practitioners"]
    assert labelled == set(code_set.prefixes) | code_set.codes
    assert str(labels["as_of"]) == code_set.as_of.isoformat()


def test_addon_relation_keys_are_the_addon_set():
    assert set(ADDONS) == bundled_code_sets()["psychiatric-addons"].codes


def test_describe_lists_every_bundled_set():
    entries = {entry.get("set"): entry for entry in cs.describe() if entry.get("set")}
    assert set(entries) == BUNDLED
    for name, entry in entries.items():
        assert entry["file"] == f"sets/{name}.yaml"
        assert entry["source"] and dt.date.fromisoformat(entry["as_of"])
    assert entries["clinical-lab"]["name"] == "clinical_lab"  # listed under its predicate's name
    assert entries["clinical-lab"]["predicate"] == "is_clinical_lab"
    assert entries["evaluation-management"]["name"] == "evaluation-management"
    assert entries["telehealth-places-of-service"]["codes"] == ["02", "10"]


def test_describe_user_sets(tmp_path):
    path = write_set(tmp_path, "minor", codes=["11102"], as_of="2026-02-01")
    entries = {entry["name"]: entry for entry in cs.describe(load_code_sets([path]))}
    assert entries["minor"]["file"] == str(path) and entries["minor"]["as_of"] == "2026-02-01"
    assert entries["minor"]["codes"] == ["11102"]


def test_set_files_are_package_data():
    assert '"codesets/sets/*.yaml"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


# --- contains agrees with a naive reference ----------------------------------------------------

LETTERS, DIGITS = "AJU", "019"
DAYS = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 1, 10))


@st.composite
def codes(draw, min_size=1):
    return draw(st.text(alphabet=LETTERS + DIGITS, min_size=min_size, max_size=4))


@st.composite
def ranges(draw):
    low = draw(codes())
    high = "".join(draw(st.sampled_from(DIGITS if ch.isdigit() else LETTERS)) for ch in low)
    return tuple(sorted((low, high)))


@st.composite
def dated_entries(draw):
    kind = draw(st.sampled_from(["code", "range", "prefix"]))
    value = draw(ranges()) if kind == "range" else draw(codes())
    effective, end = draw(st.one_of(st.none(), DAYS)), draw(st.one_of(st.none(), DAYS))
    if effective and end and effective > end:
        effective, end = end, effective
    return DatedEntry(kind, value, effective, end)


def naive_contains(code, on, code_set_items):
    """Straight from the documented rules, item by item, no indices."""
    if not isinstance(code, str):
        return False
    code = code.strip().upper().replace(".", "")
    if not code:
        return False
    for kind, value, effective, end in code_set_items:
        if on is not None and ((effective and on < effective) or (end and on > end)):
            continue
        if kind == "code" and code == value:
            return True
        if kind == "prefix" and code.startswith(value):
            return True
        if kind == "range":
            low, high = value
            same_shape = len(code) == len(low) and all(a.isdigit() == b.isdigit() for a, b in zip(code, low))
            if same_shape and low <= code <= high:
                return True
    return False


def decorate(code, lower, dot, pad):
    if dot and len(code) > 1:
        code = f"{code[:1]}.{code[1:]}"
    return pad + (code.lower() if lower else code) + pad


@settings(max_examples=300)
@given(
    exact=st.lists(codes(), max_size=4), range_list=st.lists(ranges(), max_size=4),
    prefix_list=st.lists(codes(), max_size=3), entries=st.lists(dated_entries(), max_size=3),
    queries=st.lists(st.tuples(codes(min_size=0), st.booleans(), st.booleans(), st.sampled_from(["", " "])),
                     min_size=1, max_size=8),
    on=st.one_of(st.none(), DAYS),
)
def test_contains_agrees_with_naive_reference(exact, range_list, prefix_list, entries, queries, on):
    code_set = CodeSet("prop", "test", codes=frozenset(exact), ranges=tuple(range_list),
                       prefixes=tuple(prefix_list), entries=tuple(entries))
    items = ([("code", c, None, None) for c in exact] + [("range", r, None, None) for r in range_list]
             + [("prefix", p, None, None) for p in prefix_list]
             + [(e.kind, e.value, e.effective, e.end) for e in entries])
    for code, lower, dot, pad in queries:
        query = decorate(code, lower, dot, pad)
        assert code_set.contains(query, on) is naive_contains(query, on, items), (query, on)
    # and the same set written as a YAML file loads to the same answers
    doc = {"name": "prop", "source": "test", "codes": exact, "ranges": [list(r) for r in range_list],
           "prefixes": prefix_list,
           "entries": [{e.kind: list(e.value) if e.kind == "range" else e.value,
                        **({"effective": e.effective} if e.effective else {}), **({"end": e.end} if e.end else {})}
                       for e in entries]}
    if not (exact or range_list or prefix_list or entries):
        return
    with tempfile.TemporaryDirectory() as directory:
        loaded = load_code_set(write_set(Path(directory), "prop", yaml.safe_dump(doc)))
    for code, lower, dot, pad in queries:
        query = decorate(code, lower, dot, pad)
        assert loaded.contains(query, on) is code_set.contains(query, on), (query, on)
