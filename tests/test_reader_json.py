"""JSON / JSON Lines in our Claim schema (scrubber/readers/json.py) and the published JSON Schema."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings

from conftest import ROOT, run_cli
from scrubber.model import Claim, ParseIssue
from scrubber.readers import json as json_reader
from strategies import claim_batches, comparable

GOOD = {"claim_id": "G1", "lines": [{"number": 1, "procedure": "99213", "charge": "80"}]}


def read_bytes(data: bytes, file: str = "in.json") -> list[Claim | ParseIssue]:
    return list(json_reader.read(io.BytesIO(data), file))


def jsonl(*records: object) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def test_jsonl_bad_record_names_line_and_pointer_and_others_still_read():
    bad = {"claim_id": "B1", "lines": [{"number": 1, "procedure": "99213", "charge": "abc"}], "payer": {"sequence": 5}}
    items = read_bytes(jsonl(GOOD, bad, {**GOOD, "claim_id": "G2"}), "export.jsonl")
    assert [type(item).__name__ for item in items] == ["Claim", "ParseIssue", "Claim"]
    issue = items[1]
    assert issue.unreadable_claim and issue.claim_id == "B1" and issue.file == "export.jsonl"
    assert issue.location == "line 2: /payer/sequence"
    assert "line 2" in issue.message and "/lines/0/charge" in issue.message and "/payer/sequence" in issue.message
    assert [items[0].source.row, items[2].source.row] == [1, 3]
    assert items[0].source.file == "export.jsonl"


def test_jsonl_line_numbers_count_blank_lines_and_bad_json_is_one_record():
    data = b"\n" + jsonl(GOOD) + b"{not json\n\n" + jsonl({**GOOD, "claim_id": "G3"})
    items = read_bytes(data, "x.ndjson")
    assert [getattr(item, "claim_id", None) for item in items] == ["G1", None, "G3"]
    assert items[0].source.row == 2
    assert items[1].location == "line 3" and items[1].unreadable_claim and "not JSON" in items[1].message
    assert items[2].source.row == 5


def test_array_records_are_named_by_index_pointer():
    data = json.dumps([GOOD, {"claim_id": "B2", "lines": "none"}, 7, {**GOOD, "claim_id": "G2"}], indent=2).encode()
    items = read_bytes(data)
    assert isinstance(items[0], Claim) and items[0].source.pointer == "/0"
    assert items[1].location == "/1/lines" and items[1].claim_id == "B2"
    assert items[2].location == "/2" and "a number" in items[2].message
    assert isinstance(items[3], Claim) and items[3].source.pointer == "/3"


def test_single_object_spread_over_lines():
    (claim,) = read_bytes(json.dumps(GOOD, indent=2).encode())
    assert claim.claim_id == "G1" and claim.source.pointer == ""


def test_whole_document_not_json_and_empty_input_are_file_issues():
    (issue,) = read_bytes(b"[\n {\"claim_id\": \n")
    assert not issue.unreadable_claim and "not JSON" in issue.message
    (issue,) = read_bytes(b"  \n\n")
    assert "empty" in issue.message
    first, second = read_bytes(b'"just a string"\n\n"another"')  # two JSON Lines records, neither a claim
    assert (first.location, second.location) == ("line 1", "line 3")
    assert all(issue.unreadable_claim and "a string" in issue.message for issue in (first, second))


def test_numbers_are_exact_decimals_and_source_is_overridden():
    record = {**GOOD, "total_charge": 0.1, "source": {"file": "elsewhere", "segment": 9}}
    (claim,) = read_bytes(jsonl(record))
    assert claim.total_charge == Decimal("0.1") and str(claim.total_charge) == "0.1"
    assert claim.source.file == "in.json" and claim.source.segment is None


def test_not_utf8_line():
    items = read_bytes(jsonl(GOOD) + b'{"claim_id": "\xff"}\n')
    assert isinstance(items[0], Claim)
    assert items[1].unreadable_claim and "UTF-8" in items[1].message


def test_read_path_missing_file():
    (issue,) = list(json_reader.read_path("/nonexistent/claims.jsonl"))
    assert "cannot open" in issue.message


@settings(max_examples=25, deadline=None)
@given(claim_batches())
def test_dump_then_read_gives_the_same_claims(claims):
    text = "".join(json.dumps(claim.model_dump(mode="json")) + "\n" for claim in claims)
    back = read_bytes(text.encode())
    assert [comparable(claim) for claim in back] == [comparable(claim) for claim in claims]


# --- the published schema ---------------------------------------------------------------------------


def test_published_schema_matches_the_model():
    published = (ROOT / "schemas" / "claim.schema.json").read_text(encoding="utf-8")
    assert published == json_reader.schema_text(), "regenerate: scrubber schema > schemas/claim.schema.json"
    schema = json.loads(published)
    assert schema["title"] == "Claim" and "claim_id" in schema["required"]
    assert set(schema["properties"]) == set(Claim.model_fields)


def test_schema_command_prints_it():
    result = run_cli("schema")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert json.loads(result.stdout) == json_reader.claim_json_schema()


def test_fixture_records_are_valid_against_the_published_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "schemas" / "claim.schema.json").read_text(encoding="utf-8"))
    for record in json.loads((ROOT / "fixtures" / "json" / "cross-format.json").read_text(encoding="utf-8")):
        jsonschema.validate(record, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"claim_id": "X", "bogus": 1}, schema)


def test_cli_reports_the_bad_record_and_scrubs_the_rest(tmp_path: Path):
    path = tmp_path / "export.jsonl"
    path.write_bytes(jsonl(GOOD, {"claim_id": "B1", "lines": [{"number": 1}]}))
    result = run_cli("check", str(path), "--format", "json")
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert [(c["claim_id"], c["status"] == "unreadable") for c in report["claims"]] == [("G1", False), ("B1", True)]
    assert report["errors"][0]["location"] == "line 2: /lines/0/procedure"
    assert result.returncode == 1
