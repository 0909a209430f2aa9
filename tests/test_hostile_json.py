"""Hostile JSON input: a record nested 10,000 levels deep or holding a 5,000-digit number is one bad
record, reported with its line, and every other claim is still scrubbed (issue 14). It used to end the
whole batch with a RecursionError/ValueError traceback, exit 1 and a half-written report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import run_cli
from scrubber.model import Claim, ParseIssue
from scrubber.readers.json import read
from scrubber.rules.testing import build_case_claim

DEEP = "[" * 10_000 + "]" * 10_000
LONG = "9" * 5_000
GOOD = build_case_claim({"claim_id": "GOOD-1"}).model_dump(mode="json")
OTHER = build_case_claim({"claim_id": "GOOD-2"}).model_dump(mode="json")


def items(text: str) -> list:
    return list(read(io.BytesIO(text.encode()), "batch.json"))


@pytest.mark.parametrize("bad", [f'{{"claim_id": "BAD", "x": {DEEP}}}', f'{{"claim_id": {LONG}}}', DEEP])
def test_json_lines_lose_only_the_bad_line(bad):
    found = items("\n".join([json.dumps(GOOD), bad, json.dumps(OTHER)]))
    assert [item.claim_id for item in found if isinstance(item, Claim)] == ["GOOD-1", "GOOD-2"]
    (issue,) = [item for item in found if isinstance(item, ParseIssue)]
    assert issue.location == "line 2" and issue.unreadable_claim


@pytest.mark.parametrize("bad", [f'{{"claim_id": "BAD", "x": {DEEP}}}', f'{{"claim_id": {LONG}}}'])
def test_a_json_array_loses_only_the_bad_claim(bad):
    found = items("[\n" + json.dumps(GOOD) + ",\n" + bad + ",\n" + json.dumps(OTHER) + "\n]")
    assert [item.claim_id for item in found if isinstance(item, Claim)] == ["GOOD-1", "GOOD-2"]
    (issue,) = [item for item in found if isinstance(item, ParseIssue)]
    assert issue.location == "line 3" and "/1" in issue.message


def test_brackets_and_quotes_inside_strings_do_not_split_claims():
    tricky = build_case_claim({"claim_id": 'A ] " [ { , }'}).model_dump(mode="json")
    found = items(json.dumps([tricky, GOOD]))
    assert [item.claim_id for item in found] == ['A ] " [ { , }', "GOOD-1"]


def test_a_broken_array_is_reported_as_a_whole():
    (issue,) = items("[" + json.dumps(GOOD) + ", {")
    assert isinstance(issue, ParseIssue) and "not JSON" in issue.message


def test_check_scrubs_the_rest_and_writes_a_whole_report(tmp_path: Path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join([json.dumps(GOOD), f'{{"claim_id": "BAD", "x": {DEEP}}}', json.dumps(OTHER)]))
    report = tmp_path / "report.json"
    result = run_cli("check", str(batch), "--format", "json", "--output", str(report))
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(report.read_text())
    assert [claim["status"] for claim in data["claims"]] == ["clean", "unreadable", "clean"]
    assert data["summary"]["unreadable"] == 1


from test_service import SCRUB, client, server  # noqa: E402,F401  (the running server of the service tests)


@pytest.mark.parametrize("body", [f'{{"claim_id": "BAD", "x": {DEEP}}}', f"[{DEEP}]", f'{{"claim_id": {LONG}}}'])
def test_the_service_answers_422_not_500(client, body):  # noqa: F811
    response = client.post(SCRUB, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
