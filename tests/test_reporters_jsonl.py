"""``--format jsonl``: one object per line (claims, input problems, then the summary), as it goes."""

from __future__ import annotations

import io
import json

from conftest import BAD, MIXED_BATCH, ROOT
from reporter_inputs import SELECT, check, info_rule, mixed

from scrubber.findings import ClaimResult, Summary
from scrubber.model import ParseIssue
from scrubber.reporters.jsonl import JsonlReporter


def lines(stdout: str) -> list[dict]:
    assert stdout.endswith("\n")
    return [json.loads(line) for line in stdout.splitlines()]


def test_same_claims_errors_and_summary_as_json(tmp_path):
    (tmp_path / "batch.837").write_text(mixed(), encoding="latin-1")
    args = ["batch.837", str(MIXED_BATCH), "missing.837", "--rules", str(info_rule(tmp_path)), *SELECT]
    jsonl = check(*args, "--format", "jsonl", cwd=tmp_path)
    whole = check(*args, "--format", "json", cwd=tmp_path)
    assert jsonl.returncode == whole.returncode == 1
    objects = lines(jsonl.stdout)
    document = json.loads(whole.stdout)
    assert [o["type"] for o in objects][-1] == "summary"
    assert [o["type"] for o in objects].count("summary") == 1
    claims = [{k: v for k, v in o.items() if k != "type"} for o in objects if o["type"] == "claim"]
    errors = [{k: v for k, v in o.items() if k != "type"} for o in objects if o["type"] == "error"]
    summary = {k: v for k, v in objects[-1].items() if k != "type"}
    assert claims == document["claims"]
    assert sorted(errors, key=json.dumps) == sorted(document["errors"], key=json.dumps)
    assert summary == document["summary"]
    assert [c["claim_id"] for c in claims] == ["E1", "W1", "I1", "G1", "B1", "A1", "A2", "B2"]
    assert {c["status"] for c in claims} == {"clean", "flagged", "unreadable"}


def test_input_problems_in_stream_order():
    result = check(str((BAD / "garbage.837").relative_to(ROOT)), str(MIXED_BATCH.relative_to(ROOT)), "--format", "jsonl", "--select", "CO-111")
    objects = lines(result.stdout)
    assert [o["type"] for o in objects] == ["error", "claim", "claim", "claim", "error", "summary"]
    assert objects[0]["file"] == "fixtures/837p/bad/garbage.837" and "ISA" in objects[0]["message"]


def test_each_claim_is_written_when_it_comes():
    out = io.StringIO()
    reporter = JsonlReporter(out)
    reporter.claim(ClaimResult("A1", "f.837", 20, "clean"))
    assert out.getvalue().count("\n") == 1 and json.loads(out.getvalue())["claim_id"] == "A1"
    reporter.issue(ParseIssue(file="f.837", segment=3, message="bad"))
    assert json.loads(out.getvalue().splitlines()[1]) == {
        "type": "error", "file": "f.837", "segment": 3, "claim_id": None, "severity": "error", "message": "bad"
    }
    reporter.finish(Summary(files=1, claims=1, clean=1))
    assert json.loads(out.getvalue().splitlines()[2])["type"] == "summary"


def test_output_file(tmp_path):
    out = tmp_path / "report.jsonl"
    result = check(str(MIXED_BATCH), "--format", "jsonl", "--output", str(out), "--select", "CO-111")
    assert result.stdout == ""
    assert [o["type"] for o in lines(out.read_text(encoding="utf-8"))][-1] == "summary"
