"""``--format sarif``: valid SARIF 2.1.0 (the OASIS schema, shipped in tests/schemas), as GitHub reads it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
from conftest import MIXED_BATCH, ROOT, batch, segment_index
from reporter_inputs import (
    ERROR_RULE,
    INFO_RULE_ID,
    SELECT,
    WARNING_RULE,
    check,
    clean_claim,
    error_claim,
    info_rule,
    mixed,
    warning_claim,
)

import scrubber
from scrubber.reporters import sarif as sarif_module
from scrubber.rules import load_rules
from scrubber.rules.select import select_rules

SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate(document: dict) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def sarif(*args: str, cwd: Path | None = None) -> tuple[int, dict]:
    result = check(*args, "--format", "sarif", cwd=cwd)
    document = json.loads(result.stdout)
    validate(document)
    return result.returncode, document


@pytest.fixture
def run(tmp_path):
    """SARIF for the mixed file (error, warning, info, clean, unreadable) in tmp_path, run from tmp_path."""
    text = mixed()
    (tmp_path / "batch.837").write_text(text, encoding="latin-1")
    rules = info_rule(tmp_path)
    code, document = sarif("batch.837", "--rules", str(rules), *SELECT, cwd=tmp_path)
    return {"code": code, "doc": document, "run": document["runs"][0], "text": text, "dir": tmp_path}


def results_by_rule(run: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for result in run["results"]:
        out.setdefault(result["ruleId"], []).append(result)
    return out


def region_text(text: str, result: dict) -> str:
    region = result["locations"][0]["physicalLocation"]["region"]
    return text[region["charOffset"] : region["charOffset"] + region["charLength"]]


# --- the schema and the validator can fail -------------------------------------------------------


def test_the_schema_is_the_oasis_one():
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["id"].endswith("/sarif-schema-2.1.0.json")
    assert len(SCHEMA["definitions"]) > 40


def test_validation_rejects_broken_sarif(run):
    broken = json.loads(json.dumps(run["doc"]))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        validate(broken)
    broken = json.loads(json.dumps(run["doc"]))
    del broken["runs"][0]["tool"]["driver"]["name"]
    with pytest.raises(AssertionError):
        validate(broken)


# --- tool.driver -----------------------------------------------------------------------------------


def test_driver_describes_every_rule_that_ran(run):
    driver = run["run"]["tool"]["driver"]
    assert driver["name"] == "claim-scrubber"
    assert driver["version"] == scrubber.__version__
    # --select CO-21 also picks the rules derived from CO-21 (derived_from), as rules.select does
    selected = {rule.id for rule in select_rules(load_rules(), ["CO-111", "CO-21"])} | {INFO_RULE_ID}
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == selected | {"input-error"}
    bundled = {rule.id: rule for rule in load_rules()}
    for descriptor in driver["rules"]:
        assert descriptor["name"][0].isupper() and "-" not in descriptor["name"]
        assert descriptor["shortDescription"]["text"] and descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        if descriptor["id"] in bundled:
            spec = bundled[descriptor["id"]]
            assert descriptor["shortDescription"]["text"] == spec.name
            assert descriptor["fullDescription"]["text"] == spec.explanation
            assert spec.explanation in descriptor["help"]["text"]
            assert "Fix:" in descriptor["help"]["text"] and "{" not in descriptor["help"]["text"]
            assert descriptor["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[spec.severity]
            props = descriptor["properties"]
            assert props["carc"] == spec.carc and props["rarc"] == spec.rarc and props["sources"] == spec.sources
            assert spec.carc in props["tags"]
    info = next(d for d in driver["rules"] if d["id"] == INFO_RULE_ID)
    assert info["defaultConfiguration"]["level"] == "note"
    assert "<claim_id>" in info["help"]["text"]  # the fix template, placeholders shown as <fact>


def test_levels_rule_index_and_messages(run):
    rules = run["run"]["tool"]["driver"]["rules"]
    by_rule = results_by_rule(run["run"])
    assert sorted(by_rule) == sorted([ERROR_RULE, WARNING_RULE, INFO_RULE_ID, "input-error"])
    assert [r["level"] for r in by_rule[ERROR_RULE]] == ["error"]
    assert [r["level"] for r in by_rule[WARNING_RULE]] == ["warning"]
    assert [r["level"] for r in by_rule[INFO_RULE_ID]] == ["note"]
    for result in run["run"]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
    error = by_rule[ERROR_RULE][0]
    assert error["message"]["text"].startswith("Claim E1, line 2 (CLM07 in CLM (2300), segment ")
    assert "CLM07 is 'C'" in error["message"]["text"] and "\nFix: Set CLM07" in error["message"]["text"]
    assert error["properties"]["claimId"] == "E1" and error["properties"]["line"] == 2


def test_region_is_the_element_of_the_finding(run):
    """A finding's region is the element its rule tested, in its segment; an input problem's is the segment."""
    text = run["text"]
    by_rule = results_by_rule(run["run"])
    lines = text.split("\n")
    for rule, prefix, element in [(ERROR_RULE, "CLM*E1*", 7), (WARNING_RULE, "CLM*W1*", None), (INFO_RULE_ID, "CLM*I1*", None), ("input-error", "CLM*B1*", None)]:
        (result,) = by_rule[rule]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "batch.837", "uriBaseId": "%SRCROOT%"}
        region = location["region"]
        line = segment_index(text, prefix)  # one segment per line in this file
        segment = lines[line - 1].rstrip("~")
        assert region["startLine"] == region["endLine"] == line
        if element is None:  # a missing element, or the whole segment
            continue
        value = segment.split("*")[element]
        assert region_text(text, result) == value
        assert region["startColumn"] == len("*".join(segment.split("*")[:element])) + 2


def test_single_line_file_regions_use_columns(tmp_path):
    text = batch(clean_claim("G1", 2) + error_claim("E1", 3), newline="")
    (tmp_path / "one-line.837").write_text(text, encoding="latin-1")
    _, document = sarif("one-line.837", "--select", "CO-111", cwd=tmp_path)
    (result,) = document["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == region["endLine"] == 1
    assert region["startColumn"] == region["charOffset"] + 1 > 500
    assert region["endColumn"] == region["startColumn"] + region["charLength"]
    assert region_text(text, result) == "C"  # CLM07 of CLM*E1*180***11:B:1*Y*C
    assert text[region["charOffset"] - len("CLM*E1*180***11:B:1*Y*") : region["charOffset"]] == "CLM*E1*180***11:B:1*Y*"


def test_logical_locations(run):
    by_rule = results_by_rule(run["run"])
    names = {rule: [loc["fullyQualifiedName"] for loc in by_rule[rule][0]["locations"][0]["logicalLocations"]] for rule in by_rule}
    assert names[ERROR_RULE] == ["ST02=0001/CLM01=E1/SV1@2"]
    assert names[WARNING_RULE] == ["ST02=0001/CLM01=W1"]
    assert names[INFO_RULE_ID] == ["ST02=0001/CLM01=I1"]
    assert names["input-error"] == ["CLM01=B1"]


# --- input problems ----------------------------------------------------------------------------------


def test_unreadable_claim_is_one_input_error_result(run):
    (result,) = results_by_rule(run["run"])["input-error"]
    assert result["level"] == "error"
    assert "CLM02 'ABC' is not a number" in result["message"]["text"]
    assert result["properties"]["unreadableClaim"] is True
    assert run["run"]["properties"]["summary"]["unreadable"] == 1


def test_missing_and_garbage_files_are_input_errors(tmp_path):
    (tmp_path / "good.837").write_text(batch(error_claim("E1", 2)), encoding="latin-1")
    (tmp_path / "garbage.837").write_text("Dear billing office,\nplease pay.\n", encoding="latin-1")
    code, document = sarif("good.837", "garbage.837", "missing.837", "--select", "CO-111", cwd=tmp_path)
    assert code == 1
    inputs = [r for r in document["runs"][0]["results"] if r["ruleId"] == "input-error"]
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in inputs)
    assert uris == ["garbage.837", "missing.837"]
    for result in inputs:
        assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


def test_envelope_warning_is_a_warning_result():
    sample = ROOT / "fixtures" / "837p" / "samples" / "lfh_demo.example6.837"
    _, document = sarif(str(sample.relative_to(ROOT)), "--select", "CO-111")
    (result,) = [r for r in document["runs"][0]["results"] if r["ruleId"] == "input-error"]
    assert result["level"] == "warning" and "'>'" in result["message"]["text"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] > 1  # a file with line breaks
    text = sample.read_bytes().decode("latin-1")
    assert region_text(text, result).startswith("CLM*")


# --- fingerprints ----------------------------------------------------------------------------------


def fingerprints(document: dict) -> dict[tuple, str]:
    out = {}
    for result in document["runs"][0]["results"]:
        props = result["properties"]
        out[(result["ruleId"], props.get("claimId"), props.get("line"))] = result["partialFingerprints"]["claimScrubber/v1"]
    return out


def test_fingerprint_recipe_is_the_documented_one(run):
    (error,) = results_by_rule(run["run"])[ERROR_RULE]
    expected = hashlib.sha256("\x1f".join([ERROR_RULE, "E1", "2", "CLM07"]).encode()).hexdigest()[:32]
    assert error["partialFingerprints"] == {"claimScrubber/v1": expected}


def test_fingerprints_survive_renaming_and_reordering(tmp_path, run):
    rules = info_rule(tmp_path)
    first = fingerprints(run["doc"])
    # Other claims in front, the same claims in another order, another file name: same fingerprints.
    text = batch(clean_claim("X1", 2) + clean_claim("X2", 3) + warning_claim("W1", 4) + error_claim("E1", 5))
    (tmp_path / "renamed.837").write_text(text, encoding="latin-1")
    _, document = sarif("renamed.837", "--rules", str(rules), *SELECT, cwd=tmp_path)
    second = fingerprints(document)
    for key in [(ERROR_RULE, "E1", 2), (WARNING_RULE, "W1", None)]:
        assert second[key] == first[key]
    assert len(set(first.values())) == len(first)  # every result has its own


def test_fingerprint_changes_with_claim_rule_and_line():
    from scrubber.findings import Finding

    base = Finding(ERROR_RULE, "n", "CO-111", (), (), "error", 2, "CLM07", 20, "m", "f", ("s",))
    same_elsewhere = Finding(ERROR_RULE, "n", "CO-111", (), (), "error", 2, "CLM07", 99, "other message", "f", ("s",))
    fp = sarif_module.finding_fingerprint
    assert fp(base, "E1") == fp(same_elsewhere, "E1")
    assert fp(base, "E1") != fp(base, "E2")
    assert fp(base, "E1") != fp(Finding(ERROR_RULE, "n", "CO-111", (), (), "error", 3, "CLM07", 20, "m", "f", ("s",)), "E1")
    assert fp(base, "E1") != fp(Finding("other-rule", "n", "CO-111", (), (), "error", 2, "CLM07", 20, "m", "f", ("s",)), "E1")


# --- where the document goes, and the library ---------------------------------------------------------


def test_output_file(tmp_path):
    out = tmp_path / "report.sarif"
    result = check(str(MIXED_BATCH), "--select", "CO-111", "--format", "sarif", "--output", str(out))
    assert result.stdout == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    validate(document)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]}
    assert uris == {"fixtures/837p/mixed-batch.837"}


def test_absolute_path_inside_the_working_directory_becomes_relative(tmp_path):
    path = tmp_path / "sub dir" / "b.837"
    path.parent.mkdir()
    path.write_text(batch(error_claim("E1", 2)), encoding="latin-1")
    _, document = sarif(str(path), "--select", "CO-111", cwd=tmp_path)
    (result,) = document["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "sub%20dir/b.837", "uriBaseId": "%SRCROOT%"}
    assert document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


def test_clean_batch_is_valid_with_no_results(tmp_path):
    (tmp_path / "c.837").write_text(batch(clean_claim("C1", 2)), encoding="latin-1")
    code, document = sarif("c.837", "--select", "CO-111", cwd=tmp_path)
    assert code == 0 and document["runs"][0]["results"] == []
    assert document["runs"][0]["properties"]["summary"]["clean"] == 1


def test_render_for_the_library(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = scrubber.scrub(str(MIXED_BATCH.relative_to(ROOT)))
    document = json.loads(sarif_module.render(report, load_rules()))
    validate(document)
    rules = {r["ruleId"] for r in document["runs"][0]["results"]}
    assert {ERROR_RULE, "input-error"} <= rules
    assert len(document["runs"][0]["tool"]["driver"]["rules"]) == len(load_rules()) + 1
    # without rules the reporter loads none itself: it describes the rules met in findings
    bare = json.loads(sarif_module.render(report))
    validate(bare)
    assert {d["id"] for d in bare["runs"][0]["tool"]["driver"]["rules"]} == rules
