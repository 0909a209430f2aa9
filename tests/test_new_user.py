"""What a new user meets first: help texts and exit codes, the payer profiles, the engine fallback, a
missing extra, the README's examples, the licenses and the benchmark generator."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import re
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

import scrubber
from scrubber import cli
from scrubber.codesets.npi import is_valid_npi

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLAIM_JSON = ROOT / "examples" / "claim.json"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # --help
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- 1. help --------------------------------------------------------------------------------------


def test_every_command_and_argument_has_help():
    missing = []
    for parser in cli.walk_parsers(cli._parser()):
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{parser.prog}: {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                listed = {choice.dest for choice in action._choices_actions if choice.help}
                missing += [f"{parser.prog} {name}" for name in action.choices if name not in listed]
    assert missing == []


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"]])
def test_help_lists_the_exit_codes(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "exit codes:" in out
    for line in ("0  clean", "1  findings at or above --fail-on", "2  usage error"):
        assert line in out


def test_select_and_ignore_say_they_take_comma_separated_lists(capsys):
    _, out, _ = run(capsys, "check", "--help")
    text = " ".join(out.split())
    assert text.count("comma-separated list") >= 2


# --- 2. scrubber profiles ---------------------------------------------------------------------------


def test_profiles_lists_the_bundled_profiles(capsys):
    code, out, _ = run(capsys, "profiles")
    assert code == 0
    assert "medicare-part-b" in out and "filing indicators (SBR09) MB" in out
    assert "one calendar year; 42 CFR 424.44" in out  # the limit with its source
    assert "BH prior auth" in out
    code, out, _ = run(capsys, "profiles", "--format", "json")
    listing = {profile["id"]: profile for profile in json.loads(out)}
    assert listing["commercial"]["timely_filing"] == "90 days"
    assert listing["medicaid"]["behavioral_health_prior_auth"] is True
    assert all(profile["bundled"] for profile in listing.values())


def test_profiles_lists_the_users_profiles_first(capsys, tmp_path):
    mine = tmp_path / "acme.yaml"
    mine.write_text(
        "id: acme\nname: ACME Health\nmatch: {payer_ids: ['12345']}\ntimely_filing_days: 180\n"
        "timely_filing_source: ACME provider agreement 4.2\nbehavioral_health_prior_auth: true\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "profiles", "--profiles", str(tmp_path), "--format", "json")
    listing = json.loads(out)
    assert code == 0 and listing[0]["id"] == "acme" and listing[0]["bundled"] is False
    assert listing[0]["match"]["payer_ids"] == ["12345"] and listing[0]["timely_filing"] == "180 days"
    _, out, _ = run(capsys, "profiles", "--profiles", str(mine))
    assert out.startswith(f"acme  ACME Health  ({mine})") and "180 days; ACME provider agreement 4.2" in out


# --- 3. the profile in each claim's result -----------------------------------------------------------


def test_each_result_names_its_payer_profile(capsys):
    report = scrubber.scrub([json.loads(CLAIM_JSON.read_text()), {"claim_id": "N", "lines": [{"procedure": "99213", "charge": "1"}]}])
    assert [result.profile for result in report.results] == ["medicare-part-b", None]
    assert report.to_dict()["claims"][0]["profile"] == "medicare-part-b"
    code, out, _ = run(capsys, "check", str(CLAIM_JSON), "--format", "jsonl", "--engine", "python")
    claim = next(json.loads(line) for line in out.splitlines() if json.loads(line)["type"] == "claim")
    assert code == 1 and claim["profile"] == "medicare-part-b"


# --- 4. durable_rules unavailable -----------------------------------------------------------------


@pytest.fixture
def no_durable(monkeypatch):
    import scrubber.api

    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)  # the import now fails, as on Python 3.13
    monkeypatch.delitem(sys.modules, "scrubber.engine.durable", raising=False)
    monkeypatch.setattr(scrubber.api, "_ENGINES", {})
    yield
    monkeypatch.undo()
    importlib.import_module("scrubber.engine.durable")


def test_the_default_engine_falls_back_with_one_clear_line(capsys, no_durable, tmp_path):
    code, _, err = run(capsys, "check", str(CLAIM_JSON), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.fullmatch(
        r"scrubber: warning: durable_rules is not available on this Python \([^()/\\]+\); using the Python engine", lines[0]
    )
    assert "site-packages" not in err


def test_an_explicit_durable_engine_that_cannot_load_is_a_usage_error(capsys, no_durable):
    code, out, err = run(capsys, "check", str(CLAIM_JSON), "--engine", "durable")
    assert code == 2 and out == ""
    assert err.startswith("scrubber: --engine durable: durable_rules is not available on this Python") and "--engine python" in err
    from scrubber.engine import EngineUnavailable, make_engine

    with pytest.raises(EngineUnavailable):
        make_engine([], "durable", strict=True)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert make_engine([], "durable").name == "python"


def test_commands_whose_engine_defaults_to_durable_keep_that_default():
    args = cli._parser().parse_args(["backtest", "--claims", "c.837", "--remits", "r.835"])
    cli._require_engine(args)
    assert args.engine == "durable" and not hasattr(args, "_engine_defaults")
    args = cli._parser().parse_args(["check", "x.837"])
    cli._require_engine(args)
    assert args.engine is None  # check fills it from the configuration


# --- 5. a FHIR bundle without the [fhir] extra ------------------------------------------------------


def test_scrub_a_fhir_bundle_without_the_extra_raises_a_clear_error(monkeypatch):
    for name in ("fhir", "fhir.resources", "fhir.resources.R4B"):
        monkeypatch.setitem(sys.modules, name, None)
    bundle = ROOT / "fixtures" / "fhir" / "cross-format-bundle.json"
    with pytest.raises(ImportError, match=r"fhir\.resources package: pip install 'claim-scrubber\[fhir\]'") as raised:
        scrubber.scrub(str(bundle))
    assert str(bundle) in str(raised.value)
    with pytest.raises(ImportError, match="claim-scrubber"):
        scrubber.scrub([{"resourceType": "Bundle", "type": "collection", "entry": []}], format="fhir")


# --- 6. the README's examples -------------------------------------------------------------------------


def test_the_readme_rule_example_passes_scrubber_test(capsys, tmp_path, monkeypatch):
    section = README[README.index("\n## Rules\n") :]
    section = section[: section.index("\n## ", 1)]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "no YAML rule example under ## Rules"
    path = tmp_path / "readme-rule.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no configuration file
    code, out, err = run(capsys, "test", str(path))
    assert code == 0, out + err
    assert " 0 failed" in out and "(1 rules)" in out


def test_the_service_example_claim_ships_and_is_scrubbed(monkeypatch):
    assert "-d @examples/claim.json" in README
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from scrubber.model import Claim
    from scrubber.service import Settings, create_app

    data = json.loads(CLAIM_JSON.read_text(encoding="utf-8"))
    Claim.model_validate(data)
    with TestClient(create_app(Settings(insecure_no_auth=True))) as client:
        response = client.post("/v1/claims:scrub", content=CLAIM_JSON.read_bytes(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    claim = response.json()["claims"][0]
    assert claim["status"] == "flagged" and claim["profile"] == "medicare-part-b"
    assert "unassigned-mandatory-assignment-service" in {finding["rule"] for finding in claim["findings"]}


def test_the_readme_describes_the_access_log_that_is_written():
    pytest.importorskip("uvicorn")
    from scrubber.service import log_config

    config = log_config()
    fmt = config["formatters"][config["handlers"]["access"]["formatter"]]["fmt"]
    assert "%(client_addr)s" in fmt and "%(request_line)s" in fmt and "%(status_code)s" in fmt
    assert config["handlers"]["access"]["filters"] == ["no_query"]
    text = " ".join(README.split())
    assert "client address and port, request line (method, path with its query string removed, HTTP version) and status" in text


# --- 7. licenses --------------------------------------------------------------------------------------


def test_the_license_matches_pyproject():
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text


@pytest.mark.parametrize(
    "directory, prefix, license_file, marker",
    [
        ("fixtures/837p/samples", "lfh_", "LICENSE.LinuxForHealth-x12", "Apache License"),
        ("fixtures/835/samples", "lfh_", "LICENSE.LinuxForHealth-x12", "Apache License"),
        ("fixtures/837p/samples", "badx12_", "LICENSE.badx12", "MIT License"),
    ],
)
def test_third_party_samples_carry_their_license(directory, prefix, license_file, marker):
    folder = ROOT / directory
    assert any(path.name.startswith(prefix) for path in folder.iterdir())
    assert marker in (folder / license_file).read_text(encoding="utf-8")


# --- 8. the benchmark generator ----------------------------------------------------------------------


def _generator():
    spec = importlib.util.spec_from_file_location("generate_837p", ROOT / "benchmarks" / "generate_837p.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_generator_writes_valid_npis_deterministically():
    generator = _generator()
    claims = list(generator.ClaimFactory(3).claims(300))
    npis = [claim.billing_provider.npi for claim in claims]
    npis += [claim.rendering_provider.npi for claim in claims if claim.rendering_provider is not None]
    assert npis and all(is_valid_npi(npi) for npi in npis)
    again = list(generator.ClaimFactory(3).claims(300))
    assert [claim.model_dump() for claim in claims] == [claim.model_dump() for claim in again]


def test_the_benchmark_mix_flags_a_realistic_minority():
    claims = list(_generator().ClaimFactory(0).claims(600))
    report = scrubber.scrub(claims, engine="python")
    flagged = report.summary.flagged / report.summary.claims
    with_error = sum(any(f.severity == "error" for f in result.findings) for result in report.results) / len(claims)
    assert 0.05 <= flagged <= 0.2 and with_error <= 0.15, (flagged, with_error)
