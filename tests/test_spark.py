"""The Spark path (local mode) gives the same findings as ``scrubber check`` on the same claims.

Needs Java (17+) and the ``[spark]`` extra; skipped without them, unless ``SCRUBBER_REQUIRE_SPARK=1``
(CI), which turns a missing piece into a failure. One local Spark session serves every test here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "837p" / "seeds"
MIXED = ROOT / "fixtures" / "837p" / "mixed-batch.837"  # has an unreadable claim (B2)
REQUIRED = os.environ.get("SCRUBBER_REQUIRE_SPARK") == "1"


def _missing() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java on PATH (Spark needs Java 17+)"
    for module in ("pyspark", "pyarrow", "pandas"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[spark]')"
    return None


if (reason := _missing()) is not None:
    if REQUIRED:
        raise RuntimeError(f"SCRUBBER_REQUIRE_SPARK=1 but {reason}")
    pytest.skip(reason, allow_module_level=True)

import pyarrow.parquet as pq  # noqa: E402

import scrubber  # noqa: E402
from scrubber.arrow import rows_from_items  # noqa: E402
from scrubber.spark import read_837, scrub_dataframe, spark_schema  # noqa: E402

CLAIM_FIELDS = ("claim_id", "claim_segment", "status")
FINDING_FIELDS = ("rule", "carc", "severity", "line", "element", "segment", "message", "fix")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this venv's Python
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("claim-scrubber-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")  # starts faster
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "5")  # several batches per partition
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def cli_report() -> dict:
    """``scrubber check`` on the seeds and the mixed batch, as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "scrubber", "check", str(SEEDS.relative_to(ROOT)), str(MIXED.relative_to(ROOT)),
         "--format", "json", "--exit-zero"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    report = json.loads(done.stdout)
    assert report["summary"]["findings"] >= 10 and report["summary"]["unreadable"] >= 1
    return report


def _cli_findings(report: dict, with_file: bool = True) -> list[tuple]:
    rows = []
    for claim in report["claims"]:
        where = (claim["file"],) if with_file else ()
        for finding in claim["findings"]:
            rows.append(where + (claim["claim_id"], claim["segment"], "flagged") + tuple(finding[f] for f in FINDING_FIELDS))
        if claim["status"] == "unreadable":
            rows.append(where + (claim["claim_id"], claim["segment"], "unreadable") + (None,) * len(FINDING_FIELDS))
    return sorted(rows, key=repr)


def _spark_findings(rows, with_file: bool = True) -> list[tuple]:
    out = []
    for row in rows:
        where = (row["file"],) if with_file else ()
        out.append(where + tuple(row[f] for f in CLAIM_FIELDS) + tuple(row[f] for f in FINDING_FIELDS))
    return sorted(out, key=repr)


def _claim_rows() -> list[tuple[str | None, str | None]]:
    """Claim JSON rows read on the driver, with the file names the CLI prints."""
    rows = []
    for path in [*sorted(SEEDS.glob("*.837")), MIXED]:
        name = str(path.relative_to(ROOT))
        rows += [(row["claim"], row["error"]) for row in rows_from_items(scrubber.read(name))]
    return rows


def test_scrub_dataframe_matches_the_cli(spark, cli_report, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    claims = spark.createDataFrame(_claim_rows(), "claim string, error string")  # 2 partitions (local[2])
    findings = scrub_dataframe(claims)
    assert findings.schema == spark_schema("findings")
    got = findings.collect()
    assert _spark_findings(got) == _cli_findings(cli_report)

    per_claim = scrub_dataframe(claims, mode="claims").collect()
    assert sorted((r["file"], r["claim_id"], r["claim_segment"], r["status"], r["finding_count"]) for r in per_claim) == sorted(
        (c["file"], c["claim_id"], c["segment"], c["status"], len(c["findings"])) for c in cli_report["claims"]
    )


def test_bad_rows_are_kept_and_keys_carried(spark) -> None:
    good = next(row for row, _ in _claim_rows() if row and '"LAB-C"' in row)
    frame = spark.createDataFrame(
        [(1, good), (2, "{oops"), (3, None), (4, json.dumps({"claim_id": "X", "lines": 5}))], "id long, claim string"
    )
    rows = {row["key"]: row for row in scrub_dataframe(frame, mode="claims", key_column="id").collect()}
    assert {key: row["status"] for key, row in rows.items()} == {"1": "flagged", "2": "unreadable", "3": "unreadable", "4": "unreadable"}
    assert rows["2"]["error"].startswith("not JSON") and rows["4"]["claim_id"] == "X"
    assert rows["1"]["rules"] == ["unassigned-mandatory-assignment-service"]


def test_example_job_reads_837_files_and_writes_parquet(spark, cli_report, tmp_path) -> None:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import spark_job
    finally:
        sys.path.remove(str(ROOT / "examples"))
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in [*SEEDS.glob("*.837"), MIXED]:
        shutil.copy(path, inputs / path.name)
    (inputs / "notes.md").write_text("not a claim file: skipped by suffix")
    out = tmp_path / "findings.parquet"
    assert spark_job.main([str(inputs), str(out), "--input-format", "x12"], spark=spark) == 0
    table = pq.read_table(out)
    # read on the executors: file names are the copies' URIs, everything else as the CLI says
    assert all(name.endswith(".837") for name in table.column("file").to_pylist())
    assert _spark_findings(table.to_pylist(), with_file=False) == _cli_findings(cli_report, with_file=False)

    # The same claims as a JSON Lines file (one Claim JSON per line) through the jsonl path.
    jsonl = tmp_path / "claims.jsonl"
    jsonl.write_text("\n".join(claim for claim, error in _claim_rows() if error is None) + "\n")
    out_jsonl = tmp_path / "from-jsonl.parquet"
    assert spark_job.main([str(jsonl), str(out_jsonl), "--input-format", "jsonl"], spark=spark) == 0
    flagged = [row for row in pq.read_table(out_jsonl).to_pylist() if row["status"] == "flagged"]
    assert _spark_findings(flagged, with_file=False) == [
        row for row in _cli_findings(cli_report, with_file=False) if row[2] == "flagged"
    ]


def test_read_837_keeps_unreadable_claims_and_broken_files(spark, tmp_path) -> None:
    from scrubber.readers.x12_837p import read_path

    (tmp_path / "garbage.837").write_bytes(b"this is not an interchange")
    shutil.copy(MIXED, tmp_path / "mixed.837")
    rows = scrub_dataframe(read_837(spark, str(tmp_path)), mode="claims").collect()
    input_errors = [
        row for path in sorted(tmp_path.glob("*.837")) for row in rows_from_items(read_path(path)) if row["claim"] is None
    ]
    assert input_errors  # the garbage file at least
    expected = sorted([r.status for r in scrubber.scrub(MIXED).results] + ["input_error"] * len(input_errors))
    assert sorted(row["status"] for row in rows) == expected
