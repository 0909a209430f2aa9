"""The same claims in every input format give the same findings (fixtures/make_cross_format.py), and
every format reads back the fields of the 837P except the model paths it documents it cannot carry.

``model_paths`` and ``without`` are the comparison's tools (tests/test_reader_fhir.py uses them too).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from conftest import ROOT, run_cli
import scrubber
from scrubber.mappings import csv_columns
from scrubber.model import Claim
from scrubber.x12map import element_map
from strategies import comparable

FIXTURES = ROOT / "fixtures"
spec = importlib.util.spec_from_file_location("make_cross_format", FIXTURES / "make_cross_format.py")
make_cross_format = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_cross_format)

REFERENCE = FIXTURES / "837p" / "cross-format.837"
# Every format that carries what the bundled rules read about these claims, with the mapping it needs.
SAME_FINDINGS = {
    "json/cross-format.json": None,
    "jsonl/cross-format.jsonl": None,
    "csv/cross-format.csv": "charge-export",
    "fhir/cross-format-bundle.json": None,
    "fhir/cross-format.ndjson": None,
}
OPENEMR = "csv/openemr/cross-format.csv"


# --- model paths --------------------------------------------------------------------------------------

_READER_FILLED = frozenset({"elements", "source"})


def _record_type(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the model class inside ``Provider | None`` or ``tuple[Provider, ...]``, whether it is a list)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _record_type(arg)
            if found[0] is not None:
                return found
        return None, False
    if origin is tuple:
        inner, _ = _record_type(typing.get_args(annotation)[0])
        return inner, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def model_paths(model: type[BaseModel] = Claim, prefix: str = "") -> frozenset[str]:
    """Every model path of a claim, as the element map and the formats' NOT_CARRIED lists write them:
    ``assignment``, ``payer``, ``payer.sequence``, ``other_payers``, ``other_payers[]``,
    ``other_payers[].paid``, ``lines[].rendering_provider.npi`` (not ``elements`` and ``source``)."""
    paths: set[str] = set()
    for name, field in model.model_fields.items():
        if name in _READER_FILLED:
            continue
        path = prefix + name
        paths.add(path)
        record, is_list = _record_type(field.annotation)
        if record is not None:
            if is_list:
                path += "[]"
                paths.add(path)
            paths |= model_paths(record, path + ".")
    return frozenset(paths)


def _drop(node: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        node.pop(head, None)
        return
    child = node.get(head)
    if rest[0] == "[]":
        if isinstance(child, list):
            if len(rest) == 1:
                node[head] = []
                return
            for item in child:
                if isinstance(item, dict):
                    _drop(item, rest[1:])
            node[head] = [item for item in child if not _empty(item)]  # an item with nothing left is not carried
    elif isinstance(child, dict):
        _drop(child, rest)
        if _empty(child):
            node[head] = None  # a record with nothing left is not carried


def _empty(record: Any) -> bool:
    return isinstance(record, dict) and all(value in (None, [], ()) for value in record.values())


def without(data: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """``data`` (a ``comparable`` claim) without the model paths a format does not carry: each field
    removed; a record left with no field set becomes None, a list item with none set goes."""
    data = copy.deepcopy(data)
    for path in sorted(paths):
        _drop(data, path.replace("[]", ".[]").split("."))
    return data


def _fhir_not_carried() -> frozenset[str]:
    from scrubber.readers import fhir

    return frozenset(fhir.NOT_CARRIED)


# Per format: the model paths it documents it cannot carry (defined next to its mapping), skipped when
# its claims are compared with the 837P's. CSV: what no target fills plus what the mapping leaves out.
NOT_CARRIED = {
    "json/cross-format.json": frozenset(),
    "jsonl/cross-format.jsonl": frozenset(),
    "csv/cross-format.csv": csv_columns.not_carried(csv_columns.load_mapping("charge-export")),
    OPENEMR: csv_columns.not_carried(csv_columns.load_mapping("openemr")),
    "fhir/cross-format-bundle.json": _fhir_not_carried(),
    "fhir/cross-format.ndjson": _fhir_not_carried(),
}


def findings(path: Path, mapping: str | None = None) -> dict[str, set[tuple[str, int | None]]]:
    report = scrubber.scrub(path, mapping=mapping)
    assert not [issue for issue in report.errors if issue.severity == "error"], report.errors
    return {result.claim_id: {(f.rule, f.line) for f in result.findings} for result in report.results}


@pytest.fixture(scope="module")
def reference() -> dict[str, set[tuple[str, int | None]]]:
    return findings(REFERENCE)


def test_the_reference_claims_show_what_they_are_for(reference):
    """The fixtures must keep flagging CO-111, CO-21 and CO-23, and keep one clean claim."""
    assert list(reference) == ["XF-111", "XF-21", "XF-23", "XF-OK"]
    report = scrubber.scrub(REFERENCE)
    carcs = {result.claim_id: {f.carc for f in result.findings} for result in report.results}
    assert "CO-111" in carcs["XF-111"] and ("unassigned-mandatory-assignment-service", 2) in reference["XF-111"]
    assert "CO-21" in carcs["XF-21"]
    assert "CO-23" in carcs["XF-23"] and ("prior-payer-adjudication-date-missing", None) in reference["XF-23"]
    assert reference["XF-OK"] == set()


@pytest.mark.parametrize("name", sorted(SAME_FINDINGS))
def test_every_format_gives_the_same_findings(name, reference):
    assert findings(FIXTURES / name, SAME_FINDINGS[name]) == reference


def test_openemr_export_loses_only_what_it_cannot_carry(reference):
    """An OpenEMR billing export has no accident fields (XF-21's car accident goes unseen) and no prior
    payer's payment (XF-23 looks like a secondary claim without a primary); the rest agrees."""
    got = findings(FIXTURES / OPENEMR)  # mapping chosen from the header
    lost = {"XF-21", "XF-23"}
    assert {c: got[c] for c in got if c not in lost} == {c: reference[c] for c in reference if c not in lost}
    assert ("auto-accident-billed-to-health-plan", None) in reference["XF-21"] and got["XF-21"] == set()
    assert got["XF-23"] == {("secondary-claim-without-prior-payer", None)}


def test_json_formats_carry_every_field_of_the_837():
    x12 = [comparable(c) for c in scrubber.read(REFERENCE) if isinstance(c, Claim)]
    for name in ("json/cross-format.json", "jsonl/cross-format.jsonl"):
        assert [comparable(c) for c in scrubber.read(FIXTURES / name) if isinstance(c, Claim)] == x12


@pytest.mark.parametrize("name", sorted(NOT_CARRIED))
def test_every_format_carries_the_fields_of_the_837_but_what_it_documents(name):
    """Field by field, each format reads back what the 837P says, except the model paths its mapping
    lists as not carried (csv_columns.not_carried(mapping), readers.fhir.NOT_CARRIED)."""
    skip = NOT_CARRIED[name]
    x12 = [without(comparable(c), skip) for c in scrubber.read(REFERENCE) if isinstance(c, Claim)]
    assert [without(comparable(c), skip) for c in scrubber.read(FIXTURES / name) if isinstance(c, Claim)] == x12


def test_documented_gaps_are_model_paths():
    known = model_paths()
    for name, skip in NOT_CARRIED.items():
        assert skip <= known, (name, sorted(skip - known))
    assert set(csv_columns.PARTLY_CARRIED) <= known
    assert {path for target in csv_columns.TARGETS.values() for path in target.paths} <= known


# Element-map fields the reference claims leave empty, with why.
_LEFT_EMPTY = {
    "billing_provider.taxonomy": "FHIR and the charge export do not carry it",
    "payer.insurance_type": "FHIR does not carry it (SBR05 is for Medicare secondary claims)",
    "other_payers[].insurance_type": "FHIR does not carry it",
    "provider_signature": "FHIR does not carry it",
    "payer_claim_number": "a replacement claim (CLM05-3 7) would change the findings",
    "prior_auth": "none of these services needs one",
    "lines[].prior_auth": "FHIR does not carry it",
    "lines[].place_of_service": "the claims' lines share CLM05-1",
    "lines[].rendering_provider.npi": "a line-level rendering provider is exercised by the FHIR round-trip property",
    "lines[].rendering_provider.id_qualifier": "as lines[].rendering_provider.npi",
    "lines[].rendering_provider.taxonomy": "as lines[].rendering_provider.npi",
    "other_payers[].adjustments": "XF-23 is about a primary payment without its details",
    "other_payers[].adjudication_date": "XF-23 is about its absence (CO-23)",
    "lines[].adjudications[].payer_id": "XF-23 is about a secondary claim without line adjudication",
    "lines[].adjudications[].paid": "as lines[].adjudications[].payer_id",
    "lines[].adjudications[].procedure": "as lines[].adjudications[].payer_id",
    "lines[].adjudications[].units": "as lines[].adjudications[].payer_id",
    "lines[].adjudications[].adjustments": "as lines[].adjudications[].payer_id",
    "lines[].adjudications[].adjudication_date": "as lines[].adjudications[].payer_id",
}


def _values(data: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [data]
    if data is None:
        return []
    if parts[0] == "[]":
        return [value for item in data for value in _values(item, parts[1:])]
    return _values(data.get(parts[0]), parts[1:])


def test_the_reference_claims_use_every_field_of_the_element_map():
    """So the field-by-field comparison covers the new fields (DMG03, NM108, CLM20, DTP*431/454, 2310A/C/D,
    AMT*A8/EAF, 2410 NDC, 2420D/E/F), not only the findings."""
    claims = [comparable(c) for c in scrubber.read(REFERENCE) if isinstance(c, Claim)]
    for path in sorted({element.path for element in element_map("837p").elements} - set(_LEFT_EMPTY)):
        parts = path.replace("[]", ".[]").split(".")
        assert any(value not in (None, [], ()) for claim in claims for value in _values(claim, parts)), path


def test_committed_fixtures_equal_the_generator_output(tmp_path: Path):
    subprocess.run([sys.executable, str(FIXTURES / "make_cross_format.py"), str(tmp_path)], check=True, capture_output=True)
    for name in make_cross_format.render():
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), f"regenerate {name}: python fixtures/make_cross_format.py"


def test_format_detection_and_override_on_the_command_line():
    paths = [str(FIXTURES / name) for name in SAME_FINDINGS]
    result = run_cli("check", *paths, "--format", "json", "--no-progress")
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == len(paths) and report["summary"]["claims"] == 4 * len(paths)
    assert report["summary"]["unreadable"] == 0 and result.returncode == 1
    forced = run_cli("check", str(FIXTURES / "json" / "cross-format.json"), "--input-format", "csv", "--format", "json")
    assert forced.returncode == 2 and json.loads(forced.stdout)["summary"]["claims"] == 0


def test_directory_holds_every_export_format():
    report = scrubber.scrub(FIXTURES / "fhir")
    assert report.summary.files == 3 and report.summary.claims == 4 + 4 + 1
    report = scrubber.scrub(FIXTURES / "csv")
    assert report.summary.files == 2 and [r.claim_id for r in report.results] == ["XF-111", "XF-21", "XF-23", "XF-OK"] * 2
