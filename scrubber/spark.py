"""Scrub a Spark DataFrame of claims with ``mapInArrow`` (the optional ``[spark]`` extra).

    from scrubber.spark import scrub_dataframe, read_837
    claims = spark.read.text("claims/*.jsonl").withColumnRenamed("value", "claim")  # Claim JSON per row
    claims = read_837(spark, "s3a://bucket/837/")                                     # or 837 files
    scrub_dataframe(claims).write.parquet("findings/")                                # one row per finding

Each executor's Python worker runs :func:`scrubber.arrow.scrub_batches` on its partitions, building
the rules and the engine once per worker process. The workers need claim-scrubber (and its
durable-rules, which compiles from source: ship a wheel) installed; see the README, "Scale out: Spark".
Spark's own start-up takes 10-30 s: for a few thousand claims ``scrubber check`` is faster.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

import pyarrow as pa

from scrubber.arrow import INPUT_SCHEMA, output_schema, rows_from_items, scrub_batches
from scrubber.inputs import X12_SUFFIXES
from scrubber.options import ScrubOptions, make_options

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


def spark_schema(mode: str = "findings") -> "StructType":
    """The Spark schema of :func:`scrubber.arrow.output_schema` (``mode``), as ``mapInArrow`` needs it."""
    return _struct(output_schema(mode))


def scrub_dataframe(
    df: "DataFrame",
    *,
    mode: str = "findings",
    claim_column: str = "claim",
    key_column: str | None = None,
    options: ScrubOptions | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    rulesets: Iterable[str | Path] | None = None,
    profiles: Iterable[str | Path] | None = None,
    severity: Mapping[str, str] | None = None,
    engine: str | None = None,
    tables: Mapping[str, str | Path] | None = None,
) -> "DataFrame":
    """Findings (``mode="findings"``) or one row per claim (``"claims"``) for the claims in ``df``.

    ``df[claim_column]`` holds one claim per row, as Claim JSON text or a struct of the Claim fields; an
    ``error`` column, when ``df`` has one, marks rows an upstream reader could not read (as
    :func:`read_837` makes them); ``key_column`` is copied to the ``key`` of every output row. Unreadable
    rows are kept, with status ``unreadable`` and the error. The scrub options are those of
    :func:`scrubber.scrub` (``options`` and/or keyword arguments that change it); ``rulesets``, ``profiles`` and
    ``tables`` must be readable on the workers at the same path.
    """
    columns = [claim_column]
    if "error" in df.columns and claim_column != "error":
        columns.append("error")
    if key_column is not None and key_column not in columns:
        columns.append(key_column)
    function = functools.partial(
        scrub_batches,
        mode=mode,
        claim_column=claim_column,
        key_column=key_column,
        options=make_options(
            options, select=select, ignore=ignore, rulesets=rulesets, profiles=profiles, severity=severity, engine=engine,
            tables=tables,
        ),
    )
    return df.select(*columns).mapInArrow(function, spark_schema(mode))


def read_837(spark: "SparkSession", path: str, *, min_partitions: int | None = None, suffixes: Iterable[str] | None = None) -> "DataFrame":
    """A DataFrame (``claim``, ``error``) of every claim in the 837P files under ``path``, read on the executors.

    ``path`` is anything ``SparkContext.binaryFiles`` takes (a file, a directory, a glob; local, HDFS or
    S3); in a directory, files are kept by suffix (``.837 .x12 .edi .txt .dat``, as ``scrubber check``
    does). Each file is read whole by one task, with our streaming 837 reader, into Claim JSON rows;
    unreadable claims and envelope problems become rows with ``error`` set, so none is lost.
    """
    wanted = tuple(sorted(suffixes if suffixes is not None else X12_SUFFIXES))
    files = spark.sparkContext.binaryFiles(path, min_partitions)
    files = files.filter(functools.partial(_has_suffix, wanted))
    rows = files.flatMap(_x12_rows)
    return spark.createDataFrame(rows, _struct(INPUT_SCHEMA))


def _has_suffix(suffixes: tuple[str, ...], item: tuple[str, bytes]) -> bool:
    return item[0].lower().endswith(suffixes)


def _x12_rows(item: tuple[str, bytes]) -> Iterator[tuple[str | None, str | None]]:
    from scrubber.readers.x12_837p import read

    name, content = item
    for row in rows_from_items(read(io.BytesIO(content), name)):
        yield row["claim"], row["error"]


def _struct(schema: pa.Schema) -> "StructType":
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    def spark_type(kind: pa.DataType):
        if pa.types.is_string(kind):
            return StringType()
        if pa.types.is_int64(kind):
            return LongType()
        if pa.types.is_list(kind):
            return ArrayType(spark_type(kind.value_type), containsNull=True)
        raise TypeError(f"no Spark type for {kind}")

    return StructType([StructField(field.name, spark_type(field.type), field.nullable) for field in schema])


__all__ = ["read_837", "scrub_dataframe", "spark_schema"]
