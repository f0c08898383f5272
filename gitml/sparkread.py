"""Reading a dataset into one Spark DataFrame, typed as the pandas engine types it.

The two engines must give the same verdict on the same bytes and suite, so Spark's reading
follows pandas' rules rather than its own: a CSV or TSV is read as text, pandas' missing-value
markers (`NA`, `null`, `nan`, ...) become nulls, and each column takes the type pandas would give
it (int64 when every value is a whole number, float64 when every value is a number, bool for
True/False, else text); an integer column with nulls is float64, as in pandas; a float NaN is a
null (gitml.sparkcsv reads the text). Parquet and JSON keep their own types, under the same two
rules. `read:` options are pandas' names, mapped to Spark's; one that has no Spark equivalent is
refused (exit 2).

pyspark is imported inside the functions (gitml.sparksession).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from gitml import sparkcsv, sparkfailure
from gitml.errors import BadInput
from gitml.sparkcsv import quoted

INTEGRAL = ("LongType", "IntegerType", "ShortType", "ByteType")
FRACTIONAL = ("DoubleType", "FloatType")
TIMESTAMPS = ("TimestampType", "TimestampNTZType")


@contextlib.contextmanager
def spark_errors(name: str) -> Iterator[None]:
    """Spark's reading and analysis errors as one BadInput naming the dataset; a JVM that
    died or ran out of memory as gitml.sparkfailure says it."""
    try:
        yield
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - pyspark's, py4j's and the JVM's errors alike
        if sparkfailure.jvm_failed(exc):
            raise sparkfailure.died(name, exc) from None
        kind = type(exc).__name__
        if kind not in ("AnalysisException", "Py4JJavaError", "SparkException") and not (
            type(exc).__module__ or ""
        ).startswith(("pyspark", "py4j")):
            raise
        text = " ".join(str(exc).split())
        missing = sparkfailure.missing_filesystem(name, text)
        if missing is not None:
            raise missing from None
        at = max(text.find("Malformed"), 0)  # a row it cannot parse: the row, not the stack
        raise BadInput(f"{name}: Spark cannot read it ({text[at : at + 300]})") from None


def read(spark: Any, locations: list[str], fmt: str, options: dict[str, Any], name: str) -> Any:
    """The files at `locations` (paths or URLs, all of format `fmt`) as one DataFrame, typed as
    pandas would type them."""
    with spark_errors(name):
        if fmt in ("csv", "tsv"):
            text = sparkcsv.text_table(spark, locations, fmt, options)
            return sparkcsv.typed_by_counts(text, sparkcsv.type_candidates(text))
        return _as_pandas_types(_read_typed(spark, locations, fmt, options, name))


def read_kept(
    spark: Any, locations: list[str], fmt: str, options: dict[str, Any], name: str, level: Any
) -> tuple[Any, Any]:
    """What `read` gives, kept at the StorageLevel `level` for several passes: (the typed
    DataFrame, the persisted one to unpersist when done). A CSV is parsed into the types its
    first rows allow in the pass that fills the cache, and checked there: one parse of its
    text, into numbers, instead of parsing text and casting it (gitml.sparkcsv.typed_while_kept)."""
    with spark_errors(name):
        if fmt not in ("csv", "tsv"):
            kept = read(spark, locations, fmt, options, name).persist(level)
            return kept, kept
        text = sparkcsv.text_table(spark, locations, fmt, options)
        candidates = sparkcsv.type_candidates(text)
        # parsed as typed while cached, unless an empty field is text: Spark's parser would
        # read it as null (text_table reads it again as "")
        if sparkcsv.empty_is_null(options):
            found = sparkcsv.typed_while_kept(spark, locations, fmt, options, candidates, level)
            if found is not None:
                return found
        # a guess the whole file disproved, or empty fields that are text: each column's values
        # counted, then read again
        kept = sparkcsv.typed_by_counts(text, candidates).persist(level)
        return kept, kept


def _read_typed(
    spark: Any, locations: list[str], fmt: str, options: dict[str, Any], name: str
) -> Any:
    if fmt == "parquet":
        if set(options) - {"columns"}:
            raise BadInput(
                "`read:` options for Parquet with `engine: spark`: only `columns` (got "
                f"{', '.join(sorted(options))})"
            )
        df = spark.read.parquet(*locations)
        return df.select(*options["columns"]) if options.get("columns") else df
    if fmt in ("jsonl", "json"):
        if options:
            raise BadInput(
                f"`read:` options for {fmt} with `engine: spark`: none (got "
                f"{', '.join(sorted(options))})"
            )
        df = spark.read.option("multiLine", "true" if fmt == "json" else "false").json(locations)
        return _in_file_order(spark, df, locations[0]) if fmt == "jsonl" else df
    raise BadInput(f"{name}: unknown format {fmt!r}")


def _in_file_order(spark: Any, df: Any, first_file: str) -> Any:
    """Spark orders the fields of JSON it infers by name; pandas keeps the order of the keys of
    the first record (a table-columns expectation compares that order)."""
    import json

    line = spark.read.text(first_file).where("trim(value) != ''").limit(1).collect()
    try:
        keys = list(json.loads(line[0][0])) if line else []
    except (ValueError, TypeError):
        return df
    ordered = [k for k in keys if k in df.columns]
    ordered += [c for c in df.columns if c not in ordered]
    return df.select(*(quoted(c) for c in ordered))


def _as_pandas_types(df: Any) -> Any:
    """Float NaN as null; integer columns with nulls as float64 (pandas' rule)."""
    from pyspark.sql import functions as F

    kinds = {f.name: type(f.dataType).__name__ for f in df.schema.fields}
    integral = [c for c in df.columns if kinds[c] in INTEGRAL]
    nulls = (
        df.agg(*(F.count(F.when(F.col(quoted(c)).isNull(), 1)) for c in integral)).first()
        if integral  # Spark refuses an aggregation of nothing
        else []
    )
    with_nulls = {c for c, n in zip(integral, nulls or [], strict=False) if n}
    cols = []
    for c in df.columns:
        col = F.col(quoted(c))
        if kinds[c] in FRACTIONAL:
            col = F.nanvl(col, F.lit(None).cast(df.schema[c].dataType))
        elif c in with_nulls:
            col = col.cast("double")
        cols.append(col.alias(c))
    return df.select(*cols)


def pandas_dtype(data_type: Any) -> str:
    """The dtype pandas gives a column of this Spark type (what a profile records)."""
    names = {
        "LongType": "int64",
        "IntegerType": "int32",
        "ShortType": "int16",
        "ByteType": "int8",
        "DoubleType": "float64",
        "FloatType": "float32",
        "BooleanType": "bool",
        "StringType": text_dtype(),
        "TimestampType": "datetime64[ns]",
        "TimestampNTZType": "datetime64[ns]",
    }
    return names.get(type(data_type).__name__, "object")


def text_dtype() -> str:
    """pandas' name of a text column as read: `str` from pandas 3, `object` before."""
    import pandas as pd

    return "str" if int(pd.__version__.split(".")[0]) >= 3 else "object"
