"""Scrub claims with Spark and write the findings as Parquet.

    python examples/spark_job.py INPUT OUTPUT [--input-format x12|jsonl|json|parquet] [--mode findings|claims]
                                 [--claim-column claim] [--key-column COL] [--select CO-111] [--ignore RULE]
                                 [--engine durable|python] [--master local[*]]

INPUT is what Spark reads (a file, a directory or a glob; local, hdfs:// or s3a://):

- ``x12``: 837P files, read whole on the executors by our streaming reader (one task per file);
- ``jsonl``: text files with one claim per line in our Claim JSON schema (``scrubber schema``);
- ``json`` / ``parquet``: a table with a column (``--claim-column``) holding Claim JSON text or a struct
  of the Claim fields, and optionally an ``error`` column and a key column to carry through.

OUTPUT is a Parquet directory, one row per finding (``--mode findings``: flagged, unreadable and input
error rows) or per claim (``--mode claims``). The same file runs locally (``python examples/spark_job.py
...``, ``--master local[*]`` by default) and on a cluster (``spark-submit examples/spark_job.py ...``,
where the master comes from spark-submit): see the README, "Scale out: Spark".
"""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--input-format", choices=("x12", "jsonl", "json", "parquet"), default="x12")
    parser.add_argument("--mode", choices=("findings", "claims"), default="findings")
    parser.add_argument("--claim-column", default="claim")
    parser.add_argument("--key-column", default=None)
    parser.add_argument("--select", action="append", default=None, help="rule id, prefix or denial code (repeatable)")
    parser.add_argument("--ignore", action="append", default=None, help="rule id, prefix or denial code (repeatable)")
    parser.add_argument("--engine", choices=("durable", "python"), default="durable")
    parser.add_argument("--master", default=None, help="default: spark-submit's, else local[*]")
    parser.add_argument("--partitions", type=int, default=None, help="minimum input partitions")
    return parser.parse_args(argv)


def read_claims(spark, args: argparse.Namespace):
    """A DataFrame with the claim column (and ``error`` / the key column when the input has them)."""
    from pyspark.sql import functions as F

    from scrubber.spark import read_837

    if args.input_format == "x12":
        return read_837(spark, args.input, min_partitions=args.partitions)
    if args.input_format == "jsonl":
        # Read as text, not spark.read.json: no schema inference, and money stays exact decimal text.
        lines = spark.read.text(args.input).withColumnRenamed("value", args.claim_column)
        return lines.where(F.trim(F.col(args.claim_column)) != "")
    reader = spark.read.option("multiLine", True) if args.input_format == "json" else spark.read
    frame = reader.format(args.input_format).load(args.input)
    return frame.repartition(args.partitions) if args.partitions else frame


def run(spark, args: argparse.Namespace) -> None:
    from scrubber.spark import scrub_dataframe

    claims = read_claims(spark, args)
    results = scrub_dataframe(
        claims,
        mode=args.mode,
        claim_column=args.claim_column,
        key_column=args.key_column,
        select=args.select,
        ignore=args.ignore,
        engine=args.engine,
    )
    results.write.mode("overwrite").parquet(args.output)


def main(argv: list[str] | None = None, spark=None) -> int:
    """Run the job; with ``spark`` given (a test, a notebook), use that session and leave it running."""
    args = parse_args(argv)
    own = spark is None
    if own:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName("claim-scrubber")
        if args.master or not _submitted():
            builder = builder.master(args.master or "local[*]")
        spark = builder.getOrCreate()
    try:
        run(spark, args)
        print(f"wrote {args.mode} to {args.output}", file=sys.stderr)
    finally:
        if own:
            spark.stop()
    return 0


def _submitted() -> bool:
    """True under spark-submit: its JVM starts this script and tells it the gateway port (and the master)."""
    import os

    return "PYSPARK_GATEWAY_PORT" in os.environ


if __name__ == "__main__":
    sys.exit(main())
