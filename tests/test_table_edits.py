"""Table edits in the rule language (``pair_edit``, ``unit_limit``, ``addon_without_primary``) and the
reference tables reaching them: the library, ``check`` (flags, configuration, ``--jobs``, every report
format), ``scrubber tables import/list`` and bad tables.

The tables here are made up (code numbers only). The table files' own parsing is tested in
``tests/test_tables*.py``; this file tests what the rules do with them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scrubber
from conftest import ROOT, run_cli
from scrubber.engine.durable import DurableEngine
from scrubber.engine.python import PythonEngine
from scrubber.facts import claim_facts
from scrubber.rules.conditions import ConditionError, ParseContext, TableEdit, parse_condition, tables_used, to_data
from scrubber.rules.testing import build_case_claim
from scrubber.tables import open_table
from scrubber.tables.neutral import write_neutral_csv

TABLES = ROOT / "fixtures" / "tables"
CLAIMS_837 = TABLES / "ncci-claims.837"
NCCI_RULES = ["ncci-ptp-pair", "mue-units-exceeded", "addon-without-primary"]
DAY = "2026-01-10"


def write_table(path: Path, rows: list[dict[str, Any]]) -> Path:
    return write_neutral_csv(path, rows)


def pair(column1: str, column2: str, indicator: int, effective: str = "20200101", deletion: str = "") -> dict[str, Any]:
    return {"column1": column1, "column2": column2, "effective": effective, "deletion": deletion, "modifier_indicator": indicator}


def findings(tmp_path: Path, lines: list[dict[str, Any]], engine: str = "durable", **rows: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """(rule, line, message) of the NCCI rules on one claim with ``lines``, given tables by kind."""
    tables = {kind.replace("_", "-"): str(write_table(tmp_path / f"{kind}.csv", table)) for kind, table in rows.items()}
    report = scrubber.scrub([build_case_claim({"lines": lines})], select=NCCI_RULES, tables=tables, engine=engine)
    return [(finding.rule, finding.line, finding.message) for finding in report.findings]


# --- the language -----------------------------------------------------------------------------------


def test_table_edits_parse_and_print_back():
    condition = parse_condition(
        {"pair_edit": {"table": "ncci-ptp", "bypass_modifiers": ["59", "XU"]}}, "line", context=ParseContext()
    )
    assert condition == TableEdit("pair_edit", "ncci-ptp", frozenset({"59", "XU"}))
    assert to_data(condition) == {"pair_edit": {"table": "ncci-ptp", "bypass_modifiers": ["59", "XU"]}}
    assert parse_condition({"unit_limit": "mue"}, "line") == TableEdit("unit_limit", "mue")
    addon = parse_condition({"any": [{"addon_without_primary": {"table": "addon", "edit_types": [3, 1]}}]}, "line")
    assert tables_used(addon) == {"addon"} and addon.items[0].edit_types == (1, 3)


@pytest.mark.parametrize(
    ("when", "scope", "expected"),
    [
        ({"pair_edit": {"table": "ncci-ptp"}}, "claim", "use it in a line rule"),
        ({"pair_edit": {"table": "ncci-ptp", "bypass": ["59"]}}, "line", "takes bypass_modifiers, table"),
        ({"pair_edit": {"table": "ncci-ptp", "bypass_modifiers": [59]}}, "line", "a list of modifiers"),
        ({"pair_edit": {"table": "ncci-ptp", "bypass_modifiers": {"set": "no-such-set"}}}, "line", "unknown code set"),
        ({"unit_limit": {"table": ""}}, "line", "a table name"),
        ({"unit_limit": {"table": "mue", "edit_types": [1]}}, "line", "unexpected keys"),
        ({"addon_without_primary": {"edit_types": [4]}}, "line", "add-on edit types"),
        ({"unit_limit": "mue", "table": "mue"}, "line", "stands alone"),
        ({"fact": "table.pair_edit", "exists": True}, "line", "for messages"),
    ],
)
def test_table_edit_mistakes_are_named(when, scope, expected):
    with pytest.raises(ConditionError, match=expected):
        parse_condition(when, scope)


# --- what the bundled rules flag ----------------------------------------------------------------------


def test_pair_edit_flags_the_column_2_line_and_cites_the_row(tmp_path):
    lines = [{"procedure": "10001"}, {"procedure": "10002"}]
    [(rule, line, message)] = findings(tmp_path, lines, ncci_ptp=[pair("10003", "10009", 0), pair("10001", "10002", 1)])
    assert (rule, line) == ("ncci-ptp-pair", 2)
    assert "pair 10001 (line 1) / 10002 on 2026-01-10, modifier indicator 1" in message
    assert "ncci_ptp.csv row 3" in message


@pytest.mark.parametrize(
    ("modifiers", "indicator", "flagged"),
    [
        (["XU"], 1, False),
        (["GP", "KX", "59"], 1, False),  # a bypass modifier in any position
        (["RT"], 1, False),  # anatomic modifiers bypass too
        (["GP", "76"], 1, True),  # modifiers, but none that bypasses
        (["59"], 0, True),  # indicator 0: nothing bypasses it
        ([], 9, False),  # indicator 9: not edited
    ],
)
def test_modifier_bypass(tmp_path, modifiers, indicator, flagged):
    lines = [{"procedure": "10001"}, {"procedure": "10002", "modifiers": modifiers}]
    found = findings(tmp_path, lines, ncci_ptp=[pair("10001", "10002", indicator)])
    assert bool(found) == flagged, found


def test_bypass_modifier_on_the_column_1_line_does_not_count(tmp_path):
    lines = [{"procedure": "10001", "modifiers": ["59"]}, {"procedure": "10002"}]
    assert [line for _, line, _ in findings(tmp_path, lines, ncci_ptp=[pair("10001", "10002", 1)])] == [2]


@pytest.mark.parametrize(
    ("effective", "deletion", "flagged"),
    [
        ("20260110", "", True),  # effective on the date of service
        ("20260111", "", False),  # not yet effective
        ("20200101", "20260110", True),  # the deletion date is the last day it applies
        ("20200101", "20260109", False),  # deleted the day before
    ],
)
def test_pair_dates(tmp_path, effective, deletion, flagged):
    lines = [{"procedure": "10001"}, {"procedure": "10002"}]
    found = findings(tmp_path, lines, ncci_ptp=[pair("10001", "10002", 0, effective, deletion)])
    assert bool(found) == flagged


def test_pair_needs_the_same_date_and_another_line(tmp_path):
    table = [pair("10001", "10002", 0), pair("10002", "10002", 0)]
    assert findings(tmp_path, [{"procedure": "10001"}, {"procedure": "10002", "service_date": "2026-01-11"}], ncci_ptp=table) == []
    assert findings(tmp_path, [{"procedure": "10002"}], ncci_ptp=table) == []  # a line is not its own pair


def test_unit_limit_per_line_and_per_date(tmp_path):
    lines = [{"procedure": "97110", "units": "3"}, {"procedure": "97110", "units": "2", "modifiers": ["59"]}]
    per_line = findings(tmp_path, lines, mue=[{"code": "97110", "max_units": 4, "indicator": 1}])
    assert per_line == []  # MAI 1: each line alone is within 4
    per_date = findings(tmp_path, lines, mue=[{"code": "97110", "max_units": 4, "indicator": 3}])
    assert [(rule, line) for rule, line, _ in per_date] == [("mue-units-exceeded", 1), ("mue-units-exceeded", 2)]
    assert "5 units of 97110 on 2026-01-10 across the claim's lines; the unit limit of 97110 is 4 per date of service" in per_date[0][2]
    over_on_one_line = findings(tmp_path, [{"procedure": "97110", "units": "5"}], mue=[{"code": "97110", "max_units": 4, "indicator": 1}])
    assert [line for _, line, _ in over_on_one_line] == [1]


def test_unit_limit_counts_only_the_same_code_and_date(tmp_path):
    lines = [
        {"procedure": "97110", "units": "3"},
        {"procedure": "97110", "units": "3", "service_date": "2026-01-11"},
        {"procedure": "97112", "units": "3"},
    ]
    assert findings(tmp_path, lines, mue=[{"code": "97110", "max_units": 4, "indicator": 2}]) == []


def test_fractional_units(tmp_path):
    found = findings(tmp_path, [{"procedure": "J3301", "units": "2.5"}], mue=[{"code": "J3301", "max_units": 2, "indicator": 1}])
    assert "2.5 units on this line" in found[0][2]


def test_addon_types(tmp_path):
    table = [
        {"addon": "40001", "primary": "40010", "type": 1},
        {"addon": "40002", "primary": "", "type": 2},
        {"addon": "40003", "primary": "40010", "type": 3},
    ]
    alone = [{"procedure": "40001"}, {"procedure": "40002"}, {"procedure": "40003"}]
    assert [line for _, line, _ in findings(tmp_path, alone, addon=table)] == [1]  # the bundled rule counts type 1
    assert findings(tmp_path, [{"procedure": "40010"}, {"procedure": "40001"}], addon=table) == []


def test_rules_say_nothing_without_their_tables():
    claim = build_case_claim({"lines": [{"procedure": "10001"}, {"procedure": "10002", "units": "99"}]})
    report = scrubber.scrub([claim], select=NCCI_RULES)
    assert report.findings == [] and report.summary.tables == []


def test_both_engines_flag_the_fixture_alike():
    tables = {"ncci-ptp": str(TABLES / "ccipra-v321r0-f1.txt"), "mue": str(TABLES / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"),
              "addon": str(TABLES / "AOC_V2026Q2-MCR.txt")}
    reports = [scrubber.scrub(CLAIMS_837, select=NCCI_RULES, tables=tables, engine=engine) for engine in ("durable", "python")]
    found = [[(f.rule, f.line, f.message) for f in report.findings] for report in reports]
    assert found[0] == found[1]
    assert sorted({(rule, line) for rule, line, _ in found[0]}) == [
        ("addon-without-primary", 2), ("mue-units-exceeded", 1), ("mue-units-exceeded", 2), ("ncci-ptp-pair", 2),
    ]
    assert [t["name"] for t in reports[0].summary.tables] == ["addon", "mue", "ncci-ptp"]
    assert reports[0].summary.tables[2]["version"] == "2026Q2 v32.1r0"


# --- property: the engines agree with each other and with a plain reading of the edits ----------------

CODES = ["10001", "10002", "10003", "40001"]
DAYS = [dt.date(2026, 1, 10), dt.date(2026, 1, 11)]


def _oracle(claim, pairs, limits, addons) -> set[tuple[str, int]]:
    """The three edits read straight from their definitions, over the claim's lines."""
    hits = set()
    lines = claim.lines
    for i, line in enumerate(lines):
        same_day = [other for j, other in enumerate(lines) if j != i and other.service_date == line.service_date]
        for other in same_day:
            row = pairs.get((other.procedure, line.procedure))
            if row is None:
                continue
            effective, deletion, indicator = row
            if not (effective <= line.service_date and (deletion is None or line.service_date <= deletion)):
                continue
            if indicator == 0 or (indicator == 1 and not set(line.modifiers) & {"59", "XU"}):
                hits.add(("pair", i))
        if line.procedure in limits:
            most, indicator = limits[line.procedure]
            units = line.units if indicator == 1 else sum(
                other.units for other in lines if other.procedure == line.procedure and other.service_date == line.service_date
            )
            if units > most:
                hits.add(("units", i))
        if line.procedure in addons and not any(other.procedure in addons[line.procedure] for other in same_day):
            hits.add(("addon", i))
    return hits


lines_strategy = st.lists(
    st.fixed_dictionaries({
        "procedure": st.sampled_from(CODES),
        "service_date": st.sampled_from(DAYS).map(dt.date.isoformat),
        "units": st.sampled_from(["1", "2", "3.5"]),
        "modifiers": st.lists(st.sampled_from(["59", "XU", "GP", "76"]), max_size=2, unique=True),
    }),
    min_size=1, max_size=5,
)
pairs_strategy = st.dictionaries(
    st.tuples(st.sampled_from(CODES), st.sampled_from(CODES)).filter(lambda p: p[0] != p[1]),
    st.tuples(st.sampled_from([dt.date(2020, 1, 1), DAYS[1]]), st.sampled_from([None, DAYS[0]]), st.sampled_from([0, 1, 9])),
    max_size=5,
)
limits_strategy = st.dictionaries(st.sampled_from(CODES), st.tuples(st.integers(0, 4), st.sampled_from([1, 2, 3])), max_size=3)
addons_strategy = st.dictionaries(st.just("40001"), st.frozensets(st.sampled_from(CODES[:3]), min_size=1), max_size=1)
RULES = {
    "pair": {"pair_edit": {"table": "ncci-ptp", "bypass_modifiers": ["59", "XU"]}},
    "units": {"unit_limit": {"table": "mue"}},
    "addon": {"addon_without_primary": {"table": "addon"}},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(lines_strategy, min_size=1, max_size=3), pairs=pairs_strategy, limits=limits_strategy, addons=addons_strategy)
def test_engines_agree_with_the_edits_as_defined(tmp_path_factory, lines, pairs, limits, addons):
    from scrubber.rules.spec import RuleSpec

    directory = tmp_path_factory.mktemp("tables")
    day = lambda value: value.strftime("%Y%m%d") if value else ""  # noqa: E731
    tables = {
        "ncci-ptp": open_table("ncci-ptp", write_table(directory / "ptp.csv", [
            pair(c1, c2, indicator, day(effective), day(deletion)) for (c1, c2), (effective, deletion, indicator) in pairs.items()
        ] or [pair("99998", "99999", 0)])),
        "mue": open_table("mue", write_table(directory / "mue.csv", [
            {"code": code, "max_units": most, "indicator": indicator} for code, (most, indicator) in limits.items()
        ] or [{"code": "99999", "max_units": 1, "indicator": 1}])),
        "addon": open_table("addon", write_table(directory / "addon.csv", [
            {"addon": addon, "primary": primary, "type": 1} for addon, primaries in addons.items() for primary in sorted(primaries)
        ] or [{"addon": "99999", "primary": "99998", "type": 1}])),
    }
    rules = [
        RuleSpec.model_validate({
            "id": f"{name}-edit", "name": name, "carc": "CO-97", "severity": "error", "scope": "line", "element": "SV101-2",
            "when": when, "message": "m", "fix": "f", "explanation": "e", "sources": ["test"],
            "cases": [{"name": "a", "expect": "flag"}, {"name": "b", "expect": "pass"}, {"name": "c", "expect": "near-miss"}],
        })
        for name, when in RULES.items()
    ]
    claims = [build_case_claim({"claim_id": f"C{k}", "lines": claim_lines}) for k, claim_lines in enumerate(lines)]
    facts = [fact for k, claim in enumerate(claims) for fact in claim_facts(claim, str(k))]
    durable = sorted(DurableEngine(rules, tables).evaluate(facts))
    python = sorted(PythonEngine(rules, tables).evaluate([dict(fact) for fact in facts]))
    assert durable == python
    expected = sorted(
        (f"{name}-edit", f"{k}.{i}")
        for k, claim in enumerate(claims)
        for name, i in _oracle(claim, pairs, {c: (m, ind) for c, (m, ind) in limits.items()}, addons)
    )
    assert python == expected


# --- the command line --------------------------------------------------------------------------------

CMS_FILES = {
    "ncci-ptp": [TABLES / "ccipra-v321r0-f1.txt", TABLES / "ccipra-v321r0-f2.txt"],
    "mue": [TABLES / "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv"],
    "addon": [TABLES / "AOC_V2026Q2-MCR.txt"],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("store") / "ncci.sqlite"
    for kind, files in CMS_FILES.items():
        result = run_cli("tables", "import", kind, *map(str, files), "--store", str(path))
        assert result.returncode == 0, result.stderr
    return path


def check_json(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    result = run_cli("check", str(CLAIMS_837), "--format", "json", "--select", ",".join(NCCI_RULES), *args, cwd=cwd)
    return result.returncode, json.loads(result.stdout) if result.stdout else {}, result.stderr


def remarks(report: dict[str, Any]) -> list[tuple[str, str, int]]:
    return sorted(
        (claim["claim_id"], finding["rule"], finding["line"]) for claim in report["claims"] for finding in claim["findings"]
    )


EXPECTED = [
    ("ADDON-ALONE", "addon-without-primary", 2),
    ("MUE-DATE", "mue-units-exceeded", 1),
    ("MUE-DATE", "mue-units-exceeded", 2),
    ("MUE-LINE", "mue-units-exceeded", 1),
    ("NCCI-PAIR", "ncci-ptp-pair", 2),
]


def test_import_list_and_check_with_the_store(store):
    listing = run_cli("tables", "list", "--store", str(store))
    assert listing.returncode == 0
    for expected in ("ncci-ptp  2026Q2 v32.1r0", "10 rows", "7 row(s) skipped", "mue", "addon", "AOC_V2026Q2-MCR.txt"):
        assert expected in listing.stdout
    code, report, stderr = check_json(*(f"--table={kind}={store}" for kind in CMS_FILES))
    assert code == 1, stderr
    assert remarks(report) == EXPECTED
    rarcs = {finding["rule"]: finding["rarc"] for claim in report["claims"] for finding in claim["findings"]}
    assert rarcs == {"ncci-ptp-pair": ["N20"], "mue-units-exceeded": ["N362"], "addon-without-primary": ["N122"]}
    messages = [finding["message"] for claim in report["claims"] for finding in claim["findings"]]
    assert any("ccipra-v321r0-f1.txt row 7" in message for message in messages)
    assert {t["name"]: t["version"] for t in report["summary"]["tables"]} == {
        "ncci-ptp": "2026Q2 v32.1r0", "mue": "2026Q2 eff 2026-04-01", "addon": "2026Q2",
    }
    assert report["errors"] == []  # the store's skipped rows were reported when it was imported


def test_check_with_the_cms_files_reports_their_bad_rows():
    args = [f"--table={kind}={files[-1] if kind != 'ncci-ptp' else files[0]}" for kind, files in CMS_FILES.items()]
    code, report, _ = check_json(*args)
    assert remarks(report) == EXPECTED
    bad_rows = run_cli("check", str(CLAIMS_837), "--format", "json", f"--table=ncci-ptp={CMS_FILES['ncci-ptp'][1]}")
    errors = json.loads(bad_rows.stdout)["errors"]
    assert {(Path(e["file"]).name, e["location"], e["severity"]) for e in errors} >= {("ccipra-v321r0-f2.txt", "row 9", "warning")}
    assert any("modifier indicator '7'" in e["message"] for e in errors)


def test_check_with_neutral_tables_from_the_configuration(tmp_path):
    write_table(tmp_path / "pairs.csv", [pair("10001", "10002", 1)])
    write_table(tmp_path / "limits.csv", [{"code": "10002", "max_units": 4, "indicator": 1}, {"code": "10001", "max_units": 1, "indicator": 2}])
    write_table(tmp_path / "addons.csv", [{"addon": "40001", "primary": "40010"}, {"addon": "40001", "primary": "40011"}])
    (tmp_path / "scrubber.toml").write_text(
        'tables = { ncci-ptp = "pairs.csv", mue = "limits.csv", addon = "addons.csv" }\n', encoding="utf-8"
    )
    code, report, _ = check_json(cwd=tmp_path)
    assert code == 1 and remarks(report) == EXPECTED
    assert [Path(t["source"]).name for t in report["summary"]["tables"]] == ["addons.csv", "limits.csv", "pairs.csv"]
    (tmp_path / "scrubber.toml").write_text('tables = { ncci-ptp = "pairs.csv" }\n', encoding="utf-8")
    write_table(tmp_path / "other.csv", [pair("10001", "10002", 9)])
    _, overridden, _ = check_json("--table", "ncci-ptp=other.csv", cwd=tmp_path)  # the flag wins
    assert remarks(overridden) == []


def test_jobs_give_the_same_report(store):
    tables = [f"--table={kind}={store}" for kind in CMS_FILES]
    outputs = []
    for jobs in ("1", "2"):
        result = run_cli("check", str(CLAIMS_837), str(CLAIMS_837), "--format", "json", "--jobs", jobs, *tables)
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and "mue-units-exceeded" in outputs[0]


@pytest.mark.parametrize("format", ["text", "sarif", "junit", "github", "jsonl"])
def test_every_format_names_the_tables(store, format):
    result = run_cli("check", str(CLAIMS_837), "--format", format, f"--table=mue={store}")
    assert result.returncode == 1
    assert "2026Q2 eff 2026-04-01" in result.stdout


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("mue=missing.csv", "missing.csv"),
        ("mue=fixtures/tables/ccipra-v321r0-f1.txt", "ccipra-v321r0-f1.txt"),  # a pair file is not a unit table
        ("mue=fixtures/tables/ncci-claims.837", "ncci-claims.837"),
        ("addon=missing.sqlite", "missing.sqlite"),
    ],
)
def test_a_table_that_cannot_be_read_stops_the_check(tmp_path, table, expected):
    output = tmp_path / "report.json"
    result = run_cli("check", str(CLAIMS_837), "--table", table, "--output", str(output))
    assert result.returncode == 2
    assert expected in result.stderr and result.stdout == ""
    assert not output.exists()  # nothing was written: the check never ran


def test_a_store_without_the_kind_stops_the_check(tmp_path):
    store = tmp_path / "only-mue.sqlite"
    assert run_cli("tables", "import", "mue", str(CMS_FILES["mue"][0]), "--store", str(store)).returncode == 0
    result = run_cli("check", str(CLAIMS_837), "--table", f"addon={store}")
    assert result.returncode == 2 and "only-mue.sqlite" in result.stderr


def test_table_flag_mistakes_are_usage_errors():
    for bad in ("ncci-ptp", "ptp=x.csv", "mue="):
        result = run_cli("check", str(CLAIMS_837), "--table", bad)
        assert result.returncode == 2 and "table" in result.stderr


def test_import_refuses_a_file_of_the_wrong_kind_and_keeps_the_store(store, tmp_path):
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(store.read_bytes())
    result = run_cli("tables", "import", "mue", str(CMS_FILES["addon"][0]), "--store", str(copy))
    assert result.returncode == 2 and "AOC_V2026Q2-MCR.txt" in result.stderr
    assert "mue       2026Q2 eff 2026-04-01" in run_cli("tables", "list", "--store", str(copy)).stdout


# --- the service -------------------------------------------------------------------------------------


def test_the_service_checks_with_its_tables(tmp_path, store):
    from test_service import KEY, SCRUB, X12, start_server

    server = start_server(tmp_path / "server.log", "--table", f"mue={store}", env={"SCRUBBER_API_KEYS": KEY})
    try:
        with server.client() as client:
            response = client.post(SCRUB, content=CLAIMS_837.read_bytes(), headers=X12)
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    report = response.json()
    assert [t["name"] for t in report["summary"]["tables"]] == ["mue"]
    assert ("MUE-LINE", "mue-units-exceeded", 1) in remarks(report)


def test_the_service_does_not_start_without_its_table():
    from test_service import KEY, serve_exit

    result = serve_exit("--table", "mue=no-such-table.csv", env={"SCRUBBER_API_KEYS": KEY})
    assert result.returncode == 2 and "no-such-table.csv" in result.stderr


def test_trace_shows_the_table_edit_with_the_case_tables():
    result = run_cli("test", "scrubber/rulesets/ncci", "--trace", "mue-units-exceeded", "--engine", "python")
    assert result.returncode == 0, result.stdout
    assert 'true  {"unit_limit": {"table": "mue"}}' in result.stdout
    assert 'FALSE {"unit_limit": {"table": "mue"}}' in result.stdout
