"""ScrubOptions (scrubber/options.py): one record of the scrub options, taken by every entry point and
keyed on by every cache (issue 10). The layers must not drift apart again: each one's parameters are
checked against the record's fields, and ``severity`` is followed through scrub, the service, Arrow
and ``check --jobs`` workers."""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import scrubber
from scrubber.api import build_scrubber
from scrubber.model import Claim
from scrubber.options import ScrubOptions, field_names, make_options

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "837p" / "seeds"
FIELDS = set(field_names())

RULE = "unassigned-mandatory-assignment-service"  # CO-111, severity error by default
WARN = {RULE: "warning"}
CLAIM = {
    "claim_id": "A1",
    "assignment": "C",
    "payer": {"filing_indicator": "MB"},
    "diagnoses": [{"code": "E119", "qualifier": "ABK"}],
    "lines": [{"number": 1, "procedure": "80053", "charge": "25", "diagnosis_pointers": [1]}],
}


def keywords(function, *, besides: set[str]) -> set[str]:
    """The keyword-only parameters of ``function`` other than ``besides``."""
    parameters = inspect.signature(function).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY} - besides


def severities(findings) -> set[tuple[str, str]]:
    return {(finding.rule, finding.severity) for finding in findings}


# --- the record ----------------------------------------------------------------------------------


def test_options_are_frozen_hashable_and_normalised():
    given = ScrubOptions(select=["CO-111"], rulesets=[Path("ours")], severity={"b": "info", "a": "warning"})
    same = ScrubOptions(select=("CO-111",), rulesets=("ours",), severity=[("a", "warning"), ("b", "info")])
    assert given == same and hash(given) == hash(same) and {given: 1}[same] == 1
    assert given.severity == (("a", "warning"), ("b", "info")) and given.severities == {"a": "warning", "b": "info"}
    assert ScrubOptions(select="CO-111").select == ("CO-111",)  # one selector, not its characters
    assert ScrubOptions(severity={}) == ScrubOptions(severity=None) == ScrubOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        given.engine = "python"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"severity": {"x": "loud"}}, ValueError),
        ({"severity": "error"}, TypeError),
        ({"select": [1]}, TypeError),
        ({"profiles": 3}, TypeError),
        ({"engine": 1}, TypeError),
        ({"sevrity": {}}, TypeError),
    ],
)
def test_options_refuse_what_they_cannot_mean(changes, error):
    with pytest.raises(error):
        ScrubOptions(**changes)


def test_merged_keeps_every_field_not_given():
    base = ScrubOptions(select=["CO-111"], severity=WARN)
    assert base.merged(select=None, engine="python") == ScrubOptions(select=["CO-111"], severity=WARN, engine="python")
    assert make_options(None) == ScrubOptions() and make_options(base) == base
    assert make_options(base, ignore=["x"], severity={RULE: "info"}) == ScrubOptions(
        select=["CO-111"], ignore=["x"], severity={RULE: "info"}
    )


def test_json_and_pickle_round_trips():
    options = ScrubOptions(select=["CO-111"], ignore=["x"], rulesets=["r"], profiles=["p"], severity=WARN, engine="python")
    assert set(options.to_dict()) == FIELDS
    assert ScrubOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options
    assert pickle.loads(pickle.dumps(options)) == options  # --jobs workers and Spark executors get it pickled


def test_exported_from_the_package():
    assert scrubber.ScrubOptions is ScrubOptions and "ScrubOptions" in scrubber.__all__


# --- every layer takes exactly these fields ------------------------------------------------------


def test_scrub_takes_every_field_as_a_keyword_defaulting_to_the_options():
    assert keywords(scrubber.scrub, besides={"format", "mapping", "options"}) == FIELDS
    parameters = inspect.signature(scrubber.scrub).parameters
    assert all(parameters[name].default is None for name in FIELDS)  # None: the options' value


def test_arrow_and_spark_take_every_field():
    pytest.importorskip("pyarrow")
    from scrubber import arrow, spark

    plumbing = {"mode", "claim_column", "key_column", "options"}
    assert keywords(arrow.scrub_batches, besides=plumbing) == FIELDS
    assert keywords(spark.scrub_dataframe, besides=plumbing) == FIELDS


def test_build_scrubber_takes_options_and_any_field():
    built = build_scrubber(ScrubOptions(select=["CO-111"]), severity=WARN, engine="python")
    assert built.severity == WARN and built.engine.name == "python" and RULE in built.rules
    with pytest.raises(TypeError):
        build_scrubber(sevrity=WARN)


def _dataclass_fields(cls) -> dict[str, str]:
    return {item.name: str(item.type) for item in dataclasses.fields(cls)}


def test_worker_setup_and_service_settings_hold_one_record_and_restate_no_field():
    from scrubber.parallel import WorkerSetup

    holders = [WorkerSetup]
    try:
        from scrubber.service import Settings
    except ImportError:  # the service extra
        pass
    else:
        holders.append(Settings)
    for holder in holders:
        names = _dataclass_fields(holder)
        assert names["options"] == "ScrubOptions", holder
        assert not set(names) & FIELDS, holder


def test_config_keys_cover_every_field():
    from scrubber import config

    assert set(config.OPTION_KEYS.values()) == FIELDS
    assert set(config.OPTION_KEYS) <= set(config.KEYS)


def test_check_merges_flags_into_the_configured_options(tmp_path):
    from scrubber.cli import _parser
    from scrubber.commands.check import apply_config

    toml = tmp_path / "scrubber.toml"
    toml.write_text(
        'select = ["CO-23"]\nignore = ["x"]\nrules = ["ours"]\nengine = "python"\nfail-on = "info"\n'
        f'[severity]\n"{RULE}" = "warning"\n',
        encoding="utf-8",
    )
    args = _parser().parse_args(["check", "a.837", "--config", str(toml), "--select", "CO-111,CO-21"])
    options = apply_config(args)
    assert options == ScrubOptions(
        select=["CO-111", "CO-21"], ignore=["x"], rulesets=[str(tmp_path / "ours")], severity=WARN, engine="python"
    )
    assert args.fail_on == "info"  # the report options still come from the file


# --- severity through every layer ----------------------------------------------------------------


def test_severity_through_scrub():
    plain = scrubber.scrub([CLAIM], select=["CO-111"])
    assert severities(plain.findings) == {(RULE, "error")} and plain.exit_code(fail_on="error") == 1
    by_keyword = scrubber.scrub([CLAIM], select=["CO-111"], severity=WARN)
    by_options = scrubber.scrub([CLAIM], options=ScrubOptions(select=["CO-111"], severity=WARN))
    assert severities(by_keyword.findings) == severities(by_options.findings) == {(RULE, "warning")}
    assert by_keyword.exit_code(fail_on="error") == 0
    overridden = scrubber.scrub([CLAIM], options=ScrubOptions(select=["CO-111"], severity=WARN), severity={RULE: "info"})
    assert severities(overridden.findings) == {(RULE, "info")}  # a keyword argument wins over options


def test_severity_through_the_service(monkeypatch):
    service = pytest.importorskip("scrubber.service")  # the service extra

    settings = service.Settings(insecure_no_auth=True, options=ScrubOptions(select=["CO-111"], severity=WARN))
    monkeypatch.setenv(service.SETTINGS_ENV, settings.to_json())  # as `scrubber serve` hands it to workers
    assert service.Settings.from_environment() == settings
    worker = service.Worker(service.Settings.from_environment())
    worker.start()
    worker.build.result(timeout=60)
    response = worker.scrub(Claim.model_validate(CLAIM).model_dump_json().encode(), service.JSON_TYPE)
    report = json.loads(response.body)
    assert {(f["rule"], f["severity"]) for claim in report["claims"] for f in claim["findings"]} == {(RULE, "warning")}


def test_severity_through_arrow_and_its_cache():
    pa = pytest.importorskip("pyarrow")
    from scrubber import arrow

    batch = pa.RecordBatch.from_pydict({"claim": [json.dumps(CLAIM)]})

    def rows(**options):
        table = pa.Table.from_batches(list(arrow.scrub_batches(iter([batch]), **options)), schema=arrow.FINDINGS_SCHEMA)
        return {(row["rule"], row["severity"]) for row in table.to_pylist()}

    assert rows(select=["CO-111"]) == {(RULE, "error")}
    assert rows(select=["CO-111"], severity=WARN) == {(RULE, "warning")}
    assert rows(options=ScrubOptions(select=["CO-111"], severity=WARN)) == {(RULE, "warning")}
    plain, warned = ScrubOptions(select=["CO-111"]), ScrubOptions(select=["CO-111"], severity=WARN)
    assert arrow._scrubber(plain) is not arrow._scrubber(warned)  # options differing only by severity
    assert arrow._scrubber(warned) is arrow._scrubber(ScrubOptions(select=("CO-111",), severity=[(RULE, "warning")]))
    assert arrow._scrubber(warned).severity == WARN and arrow._scrubber(plain).severity == {}


def test_severity_through_check_jobs_workers(tmp_path):
    shutil.copy(SEEDS / "co-121-timely-and-indemnification.837", tmp_path / "batch.837")
    rule = "timely-filing-limit-passed"
    (tmp_path / "scrubber.toml").write_text(f'format = "json"\n[severity]\n"{rule}" = "warning"\n', encoding="utf-8")
    reports = {}
    for jobs in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-m", "scrubber", "check", "batch.837", "--jobs", jobs, "--no-progress"],
            capture_output=True, text=True, cwd=tmp_path,
        )
        assert "Traceback" not in done.stderr, done.stderr
        reports[jobs] = json.loads(done.stdout)
    found = {(f["rule"], f["severity"]) for claim in reports["2"]["claims"] for f in claim["findings"]}
    assert (rule, "warning") in found and (rule, "error") not in found
    assert reports["2"] == reports["1"]  # the workers build the scrubber the main process builds
