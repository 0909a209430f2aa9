"""The denial-code tables (``scrubber/remit/carc.yaml``, ``rarc.yaml``): well formed, complete against
the X12 lists they were checked against, and covering every code on the 835s we ship."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cli
from hypothesis import given
from hypothesis import strategies as st

from scrubber.remit.classify import (
    ACTIONS,
    CARC_PATTERN,
    GROUP_CODES,
    RARC_PATTERN,
    classify,
    load_table,
    parse_table,
)
from scrubber.remit.load import read_code_table

TABLE = load_table()
CARCS = TABLE.data.codes
RARCS = TABLE.remarks

# The X12 CARC list as of 2026-08-17: 1..308, A0..A8, B1..B23, D1..D23, P1..P32, W1..W9, Y1..Y3.
X12_CARCS = (
    {str(n) for n in range(1, 309)} | {f"A{n}" for n in range(9)} | {f"B{n}" for n in range(1, 24)}
    | {f"D{n}" for n in range(1, 24)} | {f"P{n}" for n in range(1, 33)} | {f"W{n}" for n in range(1, 10)}
    | {f"Y{n}" for n in range(1, 4)}
)
# Deactivated on that list, with the X12 stop dates (the 2016 WPC copy of the list for the older ones);
# True: deactivated, stop date not in our sources.
X12_DEACTIVATED = {
    "15": True, "17": "2009-07-01", "25": "2008-04-01", "28": "2003-10-16", "30": "2006-02-01", "36": "2003-10-16",
    "37": "2003-10-16", "38": "2013-01-01", "41": "2003-10-16", "42": "2007-06-01", "43": "2006-07-01",
    "46": "2003-10-16", "47": "2006-02-01", "48": "2003-10-16", "52": "2006-02-01", "57": "2007-06-30",
    "62": "2007-04-01", "63": "2003-10-16", "64": "2003-10-16", "65": "2003-10-16", "67": "2003-10-16",
    "68": "2003-10-16", "71": "2000-06-30", "72": "2003-10-16", "73": "2003-10-16", "77": "2003-10-16",
    "79": "2003-10-16", "80": "2003-10-16", "81": "2003-10-16", "82": "2003-10-16", "83": "2003-10-16",
    "84": "2003-10-16", "86": "2003-10-16", "87": "2012-01-01", "88": "2007-06-30", "92": "2003-10-16",
    "93": "2003-10-16", "98": "2003-10-16", "99": "2003-10-16", "113": "2007-06-30", "120": "2007-06-30",
    "123": "2007-06-30", "124": "2007-06-30", "125": "2013-11-01", "126": "2008-04-01", "127": "2008-04-01",
    "138": True, "141": "2012-07-01", "145": "2008-04-01", "156": "2009-10-01", "162": "2014-07-01", "165": True,
    "168": True, "191": "2014-07-01", "196": "2007-02-01", "214": "2014-07-01", "217": "2014-07-01",
    "218": "2014-07-01", "220": "2014-07-01", "221": "2014-07-01", "230": "2014-07-01", "244": "2014-07-01",
    "255": "2014-07-01", "A2": "2008-01-01", "A3": "2003-10-16", "A4": "2008-04-01", "A7": "2015-07-01",
    "B2": "2003-10-16", "B3": "2003-10-16", "B5": "2016-05-01", "B6": "2006-02-01", "B17": "2006-02-01",
    "B18": "2009-03-01", "B19": "2003-10-16", "B21": "2003-10-16",
    **{f"D{n}": "2003-10-16" for n in range(1, 16)}, **{f"D{n}": "2007-06-30" for n in range(16, 22)},
    "D22": "2009-01-01", "D23": "2012-01-01",
    **{f"W{n}": "2014-07-01" for n in range(1, 10)}, **{f"Y{n}": "2014-07-01" for n in range(1, 4)},
}
# The CARCs whose X12 text requires at least one remark code.
X12_NEEDS_REMARK = {"16", "17", "96", "125", "129", "148", "201", "226", "227", "234", "237", "250", "251", "252",
                    "267", "307", "A1", "D23"}
# Remark codes the rules and the common denials use: all must be explained.
COMMON_RARCS = [
    "MA01", "MA02", "MA04", "MA09", "MA13", "MA18", "MA27", "MA28", "MA30", "MA61", "MA63", "MA130", "M15",
    "M20", "M51", "M76", "M77", "M79", "M80", "M86", "N4", "N20", "N30", "N36", "N54", "N56", "N71", "N95",
    "N115", "N122", "N130", "N179", "N182", "N211", "N216", "N290", "N304", "N305", "N362", "N381", "N386",
    "N425", "N479", "N522", "N575", "N640", "N657", "N725",
]


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load keeps the last of two equal keys silently; this refuses them."""


def _unique_mapping(loader, node, deep=False):
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
    if duplicates:
        raise AssertionError(f"duplicate keys at line {node.start_mark.line + 1}: {', '.join(duplicates)}")
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


# --- shape --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["carc.yaml", "rarc.yaml"])
def test_each_table_ships_has_no_duplicate_code_and_names_its_list(name):
    assert resources.files("scrubber.remit").joinpath(name).is_file()
    document = yaml.load(read_code_table(name), Loader=_UniqueKeyLoader)  # raises on a duplicate key
    code_list = document["code_list"]
    assert code_list["url"].startswith("https://x12.org/codes/")
    assert code_list["as_of"] == dt.date(2026, 8, 17) and code_list["checked_on"] >= code_list["as_of"]
    assert code_list["sources"]


def test_the_carc_table_is_the_whole_x12_list():
    assert set(CARCS) == X12_CARCS and len(CARCS) == 407
    retired = {code: (True if entry.deactivated is True else entry.deactivated.isoformat())
               for code, entry in CARCS.items() if entry.retired}
    assert retired == X12_DEACTIVATED
    assert len(CARCS) - len(retired) == 297
    assert {code for code, entry in CARCS.items() if entry.needs_remark} == X12_NEEDS_REMARK


@pytest.mark.parametrize("code", sorted(CARCS, key=lambda c: (not c.isdigit(), c.rjust(4))))
def test_every_carc_entry_is_complete(code):
    entry = CARCS[code]
    assert CARC_PATTERN.fullmatch(code)
    assert entry.name.strip() and entry.meaning.strip() and entry.meaning.endswith(".")
    assert f"X12 CARC {code}" in entry.sources[0]
    assert entry.groups and set(entry.groups) <= set(GROUP_CODES)
    for group, treatment in entry.groups.items():
        assert treatment.action in ACTIONS and treatment.action != "unknown"
        assert treatment.patient_billable is (group == "PR" and treatment.action == "bill patient"), (group, treatment)
        if treatment.kind == "patient share":
            assert group == "PR"
    if entry.x12_groups:  # a restricted code is described at least for the groups X12 allows
        assert set(entry.x12_groups) <= set(entry.groups)
    if entry.retired:
        assert "retired" in entry.name
        assert all(new in CARCS for new in entry.replaced_by)
    else:
        assert not entry.replaced_by and "retired" not in entry.name


@pytest.mark.parametrize("code", sorted(RARCS))
def test_every_rarc_entry_is_complete(code):
    entry = RARCS[code]
    assert RARC_PATTERN.fullmatch(code)
    assert entry.meaning.strip() and entry.source == "X12 RARC list"
    assert entry.deactivated is None or entry.deactivated is True or isinstance(entry.deactivated, dt.date)


def test_the_rarc_table_covers_the_common_remarks_and_marks_the_retired_ones():
    assert len(RARCS) >= 300
    missing = [code for code in COMMON_RARCS if code not in RARCS]
    assert not missing
    assert {code for code, entry in RARCS.items() if entry.retired} >= {"M33", "MA03", "N14", "N793"}
    assert TABLE.remark_entry("M33").deactivated == dt.date(2004, 8, 1)
    assert TABLE.remark_entry("N793").stop_date == "date not in our sources"
    assert TABLE.remark("M33").endswith("(retired by X12: 2004-08-01)")
    assert TABLE.remark_entry("MA02").alert and not TABLE.remark_entry("MA02").retired  # still on the list


def test_the_remarks_the_old_table_had_wrong():
    assert "type or specialty" in RARCS["N95"].meaning and "assign" not in RARCS["N95"].meaning
    assert "explanation of benefits" in RARCS["N479"].meaning.lower()
    assert "accident" in RARCS["N305"].meaning and "date" in RARCS["N305"].meaning
    # An unassigned mandatory-assignment claim that Medicare paid as assigned.
    assert "processed as assigned" in RARCS["MA09"].meaning and "processed as assigned" in RARCS["N71"].meaning


def test_a_malformed_entry_is_refused():
    good = "code_list: {name: x, url: u, as_of: 2026-01-01, checked_on: 2026-01-01}\nremarks:\n"
    assert parse_table("groups: {}\ncodes: {}\n", good + "  N1: {meaning: m, source: s}\n").remark("N1") == "m"
    for rarc in (
        good + "  X1: {meaning: m, source: s}\n",  # not a remark code
        good + "  N1: {meaning: m}\n",  # no source
        good + "  N1: {meaning: m, source: s, deactivated: someday}\n",
    ):
        with pytest.raises(ValueError):
            parse_table("groups: {}\ncodes: {}\n", rarc)
    treatment = "{kind: denial, who_pays: provider, action: write off, patient_billable: %s}"
    for carc in (
        "groups: {}\ncodes:\n  '999X': {name: n, meaning: m, sources: [s], groups: {CO: %s}}\n" % (treatment % "false"),
        "groups: {}\ncodes:\n  '1': {name: n, meaning: m, sources: [s], groups: {XX: %s}}\n" % (treatment % "false"),
        "groups: {}\ncodes:\n  '1': {name: n, meaning: m, sources: [s], groups: {CO: %s}}\n" % (treatment % "true"),
        "groups: {}\ncodes:\n  '1': {name: n, meaning: m, sources: [s], replaced_by: ['2'], groups: {CO: %s}}\n"
        % (treatment % "false"),
    ):
        with pytest.raises(ValueError):
            parse_table(carc)


@given(group=st.sampled_from(GROUP_CODES + ("XX",)), reason=st.text("0123456789ABDPWYZ", min_size=1, max_size=4))
def test_classify_answers_every_group_and_reason_without_guessing(group, reason):
    c = classify(group, reason)
    assert c.code == f"{group}-{reason}" and c.action in ACTIONS
    assert c.known == (reason in CARCS)
    if not c.known:
        assert (c.meaning, c.kind, c.action) == (None, "unknown", "unknown")
    elif group in CARCS[reason].groups:
        assert c.basis == "CARC and group code" and c.action != "unknown"
    if c.patient_billable:
        assert group == "PR"


# --- every code on the 835s we ship --------------------------------------------------------------


def _remit_files() -> list[Path]:
    files = sorted(path for path in (ROOT / "fixtures").rglob("*") if path.suffix == ".835")
    shared = ROOT.parent / "shared" / "samples" / "835"
    if shared.is_dir():
        files += sorted(shared.glob("*.835"))
    return files


def _cas_reasons(path: Path) -> set[tuple[str, str]]:
    """(group, reason) of every CAS segment, read with the file's own delimiters (ISA03 / ISA16)."""
    text = path.read_text(encoding="utf-8", errors="replace").lstrip()
    element, terminator = text[3], text[105]
    codes = set()
    for segment in text.split(terminator):
        fields = segment.strip().split(element)
        if fields[0] == "CAS":
            codes |= {(fields[1], fields[i]) for i in range(2, len(fields), 3) if fields[i]}
    return codes


def test_the_remit_files_are_found():
    files = _remit_files()
    assert len([path for path in files if "fixtures" in path.parts]) >= 8
    assert all(_cas_reasons(path) for path in files)


@pytest.mark.parametrize("path", _remit_files(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_cas_reason_in_the_shipped_835s_is_in_the_table(path):
    for group, reason in _cas_reasons(path):
        assert re.fullmatch(r"CO|PR|OA|PI|CR", group), (path.name, group)
        assert reason in CARCS, f"{path.name}: {group}-{reason} is not in carc.yaml"
        assert group in CARCS[reason].groups, f"{path.name}: {group}-{reason} has no treatment for its group"


def test_scrubber_remit_reports_no_unknown_code_on_the_shipped_835s():
    result = run_cli("remit", *map(str, _remit_files()), "--format", "json")
    assert "Traceback" not in result.stderr, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["payments"] > 20 and summary["unknown_codes"] == []
    assert summary["by_action"]["unknown"] == 0.0


def test_every_code_the_bundled_rules_name_is_in_the_tables():
    from scrubber.rules import load_rules

    for rule in load_rules():
        for code in (rule.carc, *rule.remit_codes, *rule.derived_from):
            group, _, reason = code.partition("-")
            assert reason in CARCS and group in CARCS[reason].groups, (rule.id, code)
        assert all(remark in RARCS for remark in rule.rarc), (rule.id, rule.rarc)
