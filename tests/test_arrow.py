"""scrubber.arrow: the Arrow batch function gives what scrubber.scrub gives, and loses no row."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")  # not loaded by `import pyarrow` (pandas loads it, when installed)

import scrubber  # noqa: E402
from scrubber import arrow  # noqa: E402
from scrubber.arrow import CLAIMS_SCHEMA, FINDINGS_SCHEMA, INPUT_SCHEMA, record_batches, rows_from_items, scrub_batches  # noqa: E402
from scrubber.options import ScrubOptions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "837p"
# Clean, flagged and unreadable claims, envelope warnings and files that are not X12 at all.
SOURCES = [FIXTURES / "seeds", FIXTURES / "mixed-batch.837", FIXTURES / "samples", FIXTURES / "bad"]

FINDING_FIELDS = ("claim_id", "file", "claim_segment", "rule", "name", "carc", "rarc", "remit_codes", "severity",
                  "line", "element", "segment", "message", "fix", "sources")


def _expected(source: Path, engine: str = "durable", **options) -> scrubber.Report:
    return scrubber.scrub(source, engine=engine, **options)


def _input_batches(source: Path, size: int = 7):
    return list(record_batches(rows_from_items(scrubber.read(source)), size=size))


def _table(batches, mode: str = "findings", **options) -> pa.Table:
    return pa.Table.from_batches(list(scrub_batches(iter(batches), mode=mode, **options)), schema=arrow.output_schema(mode))


def _finding_rows(report: scrubber.Report) -> list[tuple]:
    rows = []
    for result in report.results:
        for finding in result.findings:
            data = finding.to_dict()
            data.update(claim_id=result.claim_id, file=result.file, claim_segment=result.segment)
            rows.append(tuple(data[name] for name in FINDING_FIELDS))
    return rows


@pytest.mark.parametrize("engine", ["durable", "python"])
@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_findings_mode_matches_scrub(source: Path, engine: str) -> None:
    report = _expected(source, engine)
    table = _table(_input_batches(source), engine=engine)
    assert table.schema == FINDINGS_SCHEMA
    flagged = table.filter(pc.equal(table["status"], "flagged")).to_pylist()
    got = [tuple(row[name] for name in FINDING_FIELDS) for row in flagged]
    assert got == _finding_rows(report)  # same findings, same order, same segments and messages
    unreadable = [(r["claim_id"], r["file"], r["claim_segment"], r["error"]) for r in table.to_pylist() if r["status"] == "unreadable"]
    assert unreadable == [(r.claim_id, r.file, r.segment, r.error) for r in report.results if r.status == "unreadable"]
    if source.name in ("seeds", "mixed-batch.837"):
        assert flagged, "the fixture must have findings for this test to mean anything"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_claims_mode_has_one_row_per_claim(source: Path) -> None:
    report = _expected(source)
    table = _table(_input_batches(source), mode="claims")
    assert table.schema == CLAIMS_SCHEMA
    rows = [row for row in table.to_pylist() if row["status"] != arrow.INPUT_ERROR]
    assert [(r["claim_id"], r["status"], r["finding_count"], r["rules"], r["error"]) for r in rows] == [
        (r.claim_id, r.status, len(r.findings), [f.rule for f in r.findings], r.error) for r in report.results
    ]
    # Input problems that are not one claim (envelopes, files that are not X12) are kept too.
    input_errors = [row["error"] for row in table.to_pylist() if row["status"] == arrow.INPUT_ERROR]
    assert len(input_errors) == sum(1 for issue in report.errors if not issue.unreadable_claim)


def test_claims_mode_summary_columns() -> None:
    table = _table(_input_batches(FIXTURES / "mixed-batch.837"), mode="claims")
    report = _expected(FIXTURES / "mixed-batch.837")
    for row, result in zip(table.to_pylist(), report.results):
        severities = [f.severity for f in result.findings]
        worst = next((s for s in ("error", "warning", "info") if s in severities), None)
        assert row["worst_severity"] == worst
        assert row["carcs"] == list(dict.fromkeys(f.carc for f in result.findings))
        assert row["claim_segment"] == result.segment and row["file"] == result.file


def _claim_json(claim_id: str = "A1", **changes) -> str:
    record = {
        "claim_id": claim_id, "assignment": "C", "payer": {"filing_indicator": "MB"},
        "diagnoses": [{"code": "E119", "qualifier": "ABK"}],
        "lines": [{"number": 1, "procedure": "80053", "charge": "25", "diagnosis_pointers": [1]}],
    }
    record.update(changes)
    return json.dumps(record)


def test_unreadable_rows_are_kept_with_their_error() -> None:
    cells = [
        _claim_json("OK1"),
        "{not json",
        json.dumps({"claim_id": "BAD2", "lines": [{"number": 1, "procedure": "99213", "charge": "x"}]}),
        None,
        "[1, 2]",
        json.dumps({"lines": []}),  # no claim_id
        _claim_json("OK2"),
    ]
    batch = pa.RecordBatch.from_pydict({"claim": pa.array(cells, pa.string()), "id": list(range(len(cells)))})
    claims = _table([batch], mode="claims", key_column="id").to_pylist()
    assert [(r["key"], r["claim_id"], r["status"]) for r in claims] == [
        ("0", "OK1", "flagged"), ("1", None, "unreadable"), ("2", "BAD2", "unreadable"), ("3", None, "unreadable"),
        ("4", None, "unreadable"), ("5", None, "unreadable"), ("6", "OK2", "flagged"),
    ]
    errors = [r["error"] for r in claims]
    assert errors[0] is None and errors[6] is None
    assert errors[1].startswith("not JSON:")
    assert errors[2] == "/lines/0/charge: Input should be a valid decimal"
    assert errors[3] == "no claim: the claim cell is null"
    assert errors[4] == "a claim must be a JSON object, found an array"
    assert errors[5] == "/claim_id: Field required"
    findings = _table([batch], key_column="id").to_pylist()
    assert [(r["key"], r["status"]) for r in findings if r["status"] == "unreadable"] == [(str(k), "unreadable") for k in (1, 2, 3, 4, 5)]
    assert {r["key"] for r in findings if r["status"] == "flagged"} == {"0", "6"}


def test_upstream_errors_become_unreadable_claims_or_input_errors() -> None:
    batch = pa.RecordBatch.from_pylist(
        [
            {"claim": json.dumps({"claim_id": "B2", "source": {"file": "x.837", "segment": 49}}), "error": "CLM02 'ABC' is not a number"},
            {"claim": None, "error": "x.837, segment 1, envelope: expected an ISA segment"},
            {"claim": _claim_json("OK"), "error": None},
        ],
        schema=INPUT_SCHEMA,
    )
    rows = _table([batch], mode="claims").to_pylist()
    assert [(r["claim_id"], r["file"], r["claim_segment"], r["status"], r["error"]) for r in rows] == [
        ("B2", "x.837", 49, "unreadable", "CLM02 'ABC' is not a number"),
        (None, None, None, "input_error", "x.837, segment 1, envelope: expected an ISA segment"),
        ("OK", None, None, "flagged", None),
    ]
    statuses = [r["status"] for r in _table([batch]).to_pylist()]
    assert statuses[:2] == ["unreadable", "input_error"] and set(statuses[2:]) == {"flagged"}


def test_struct_and_binary_columns_give_the_same_findings() -> None:
    source = FIXTURES / "mixed-batch.837"
    texts = [row["claim"] for row in rows_from_items(scrubber.read(source)) if row["error"] is None]
    expected = _table([pa.RecordBatch.from_pydict({"claim": texts})]).to_pylist()
    assert expected
    as_binary = _table([pa.RecordBatch.from_pydict({"claim": pa.array([t.encode() for t in texts], pa.binary())})])
    assert as_binary.to_pylist() == expected
    structs = pa.array([json.loads(text) for text in texts])  # one struct type over all claims; absent = null
    assert pa.types.is_struct(structs.type)
    as_struct = _table([pa.RecordBatch.from_arrays([structs], names=["claim"])])
    assert as_struct.to_pylist() == expected


def test_select_ignore_and_engine_options_pass_through() -> None:
    batches = _input_batches(FIXTURES / "seeds")
    for options in ({"select": ["CO-111"]}, {"ignore": ["CO-111"]}, {"select": ["CO-23"], "engine": "python"}):
        got = [r["rule"] for r in _table(batches, **options).to_pylist() if r["status"] == "flagged"]
        want = [f.rule for f in _expected(FIXTURES / "seeds", **options).findings]
        assert got == want and got
    assert arrow._scrubber(ScrubOptions(select=["CO-111"])) is arrow._scrubber(ScrubOptions(select=("CO-111",)))


def test_batches_keep_input_order_and_clean_batches_yield_nothing() -> None:
    clean = _claim_json("CLEAN", assignment="A", total_charge="25")
    assert not scrubber.scrub([json.loads(clean)]).findings
    batches = [pa.RecordBatch.from_pydict({"claim": [clean, clean]}), pa.RecordBatch.from_pydict({"claim": [_claim_json("F")]})]
    out = list(scrub_batches(iter(batches)))
    assert len(out) == 1 and out[0].schema == FINDINGS_SCHEMA and set(out[0].column("claim_id").to_pylist()) == {"F"}
    assert [b.num_rows for b in scrub_batches(iter(batches), mode="claims")] == [2, 1]
    assert list(scrub_batches(iter([]))) == []


def test_bad_arguments_are_refused() -> None:
    batch = pa.RecordBatch.from_pydict({"claim": [_claim_json()]})
    with pytest.raises(ValueError, match="unknown mode"):
        list(scrub_batches(iter([batch]), mode="rows"))
    with pytest.raises(KeyError, match="no column 'claims'"):
        list(scrub_batches(iter([batch]), claim_column="claims"))
    with pytest.raises(TypeError, match="expected Claim JSON text or a struct"):
        list(scrub_batches(iter([pa.RecordBatch.from_pydict({"claim": [1]})])))
    with pytest.raises(KeyError, match="no key column"):
        list(scrub_batches(iter([batch]), key_column="id"))


def test_module_examples() -> None:
    failures, tried = doctest.testmod(arrow, optionflags=doctest.ELLIPSIS)
    assert tried >= 4 and failures == 0


# pandas (installed with the spark extra) loads pyarrow.compute as a side effect of pyarrow's pandas shim,
# which once hid a test that used pa.compute without importing it: run some of these tests without it.
_WITHOUT_PANDAS = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("pandas", "pyspark"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Block())
import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", sys.argv[1], "-k", "findings_mode_matches_scrub and mixed or module_examples"]))
"""


def test_runs_without_pandas_or_spark() -> None:
    done = subprocess.run([sys.executable, "-c", _WITHOUT_PANDAS, __file__], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3 passed" in done.stdout
