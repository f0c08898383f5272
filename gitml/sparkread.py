"""Reading a dataset into one Spark DataFrame, typed as the pandas engine types it.

The two engines must give the same verdict on the same bytes and suite, so Spark's reading
follows pandas' rules rather than its own: a CSV or TSV is read as text, pandas' missing-value
markers (`NA`, `null`, `nan`, ...) become nulls, and each column takes the type pandas would give
it (int64 when every value is a whole number, float64 when every value is a number, bool for
True/False, else text); an integer column with nulls is float64, as in pandas; a float NaN is a
null. Parquet and JSON keep their own types, under the same two rules. `read:` options are
pandas' names, mapped to Spark's; one that has no Spark equivalent is refused (exit 2).

pyspark is imported inside the functions (gitml.sparksession).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from gitml import sparkfailure
from gitml.errors import BadInput

# pandas.read_csv's default missing-value markers (pandas._libs.parsers.STR_NA_VALUES)
PANDAS_NA = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
PANDAS_TRUE = ("True", "TRUE", "true")
PANDAS_FALSE = ("False", "FALSE", "false")
# pandas.read_csv options -> Spark CSV options of the same meaning
CSV_OPTIONS = {
    "sep": "sep",
    "delimiter": "sep",
    "encoding": "encoding",
    "quotechar": "quote",
    "escapechar": "escape",
    "comment": "comment",
}
CSV_SPECIAL = ("header", "na_values", "keep_default_na")
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
        raise BadInput(f"{name}: Spark cannot read it ({text[:300]})") from None


def read(spark: Any, locations: list[str], fmt: str, options: dict[str, Any], name: str) -> Any:
    """The files at `locations` (paths or URLs, all of format `fmt`) as one DataFrame, typed as
    pandas would type them."""
    with spark_errors(name):
        if fmt in ("csv", "tsv"):
            text = _nulled(_read_text_table(spark, locations, fmt, options), options)
            return _typed_by_counts(text, _type_candidates(text))
        return _as_pandas_types(_read_typed(spark, locations, fmt, options, name))


def read_kept(
    spark: Any, locations: list[str], fmt: str, options: dict[str, Any], name: str, level: Any
) -> tuple[Any, Any]:
    """What `read` gives, kept at the StorageLevel `level` for several passes: (the typed
    DataFrame, the persisted one to unpersist when done). A CSV is typed in the pass that fills
    the cache (`_typed_while_kept`): one parse of its text instead of two."""
    with spark_errors(name):
        if fmt not in ("csv", "tsv"):
            kept = read(spark, locations, fmt, options, name).persist(level)
            return kept, kept
        text = _nulled(_read_text_table(spark, locations, fmt, options), options)
        candidates = _type_candidates(text)
        found = _typed_while_kept(text, candidates, level)
        if found is not None:
            return found
        # a guess the whole file disproved: each column's values counted, then read again
        kept = _typed_by_counts(text, candidates).persist(level)
        return kept, kept


def _read_text_table(spark: Any, locations: list[str], fmt: str, options: dict[str, Any]) -> Any:
    unknown = sorted(set(options) - set(CSV_OPTIONS) - set(CSV_SPECIAL))
    if unknown:
        raise BadInput(
            f"`read:` option(s) {', '.join(unknown)} have no Spark equivalent in gitml (with "
            f"`engine: spark`: {', '.join(sorted([*CSV_OPTIONS, *CSV_SPECIAL]))})"
        )
    header = options.get("header", 0)
    if header not in (0, None, "infer"):
        raise BadInput("`read: {header: N}` with `engine: spark`: only 0 (the first line) or null")
    spark_opts = {
        "sep": "," if fmt == "csv" else "\t",
        "header": "false" if header is None else "true",
        "quote": '"',
        "escape": '"',  # a quote inside a quoted field is doubled, as pandas reads it
        "mode": "FAILFAST",  # a row pandas would refuse is refused, not made null
        "nullValue": "",
        "inferSchema": "false",
    }
    for key, value in options.items():
        if key in CSV_OPTIONS:
            spark_opts[CSV_OPTIONS[key]] = str(value)
    df = spark.read.options(**spark_opts).csv(locations)
    if header is None:  # pandas names the columns 0, 1, ...
        df = df.toDF(*(str(i) for i in range(len(df.columns))))
    return df


def _na_strings(options: dict[str, Any]) -> set[str]:
    extra = options.get("na_values") or []
    extra = [extra] if isinstance(extra, str) else list(extra)
    base = set(PANDAS_NA) if options.get("keep_default_na", True) else set()
    return base | {str(v) for v in extra}


def _nulled(df: Any, options: dict[str, Any]) -> Any:
    """The text columns with pandas' missing-value markers as nulls."""
    from pyspark.sql import functions as F

    na = sorted(_na_strings(options))
    cols = [F.col(quoted(c)) for c in df.columns]
    if na:
        cols = [F.when(c.isin(na), F.lit(None)).otherwise(c) for c in cols]
    return df.select(*(c.alias(n) for c, n in zip(cols, df.columns, strict=True)))


def _typed_by_counts(df: Any, candidates: dict[str, list[str]]) -> Any:
    """Text columns as pandas types them, each column's values tested over the whole file
    (one pass): int64, float64 (also integers with nulls, and all-null columns), bool or text."""
    from pyspark.sql import functions as F

    checks = []
    for c in df.columns:
        col = F.col(quoted(c))
        checks.append(F.count(col))
        checks += [F.count(_type_test(col, kind)) for kind in candidates[c]]
    counts = iter(df.agg(F.count(F.lit(1)), *checks).first())
    rows = next(counts)
    typed = []
    for c in df.columns:
        present = next(counts)
        found = {kind: next(counts) for kind in candidates[c]}
        whole, number, boolean = (found.get(kind, -1) for kind in TYPE_TESTS)
        typed.append(_text_column(F.col(quoted(c)), present, whole, number, boolean, rows).alias(c))
    return df.select(*typed)


def _kept_kind(candidates: list[str]) -> str:
    """How a column is kept before its values are all tested: as the type its sampled values
    allow (whole number, number), else as text."""
    return next((kind for kind in ("whole", "number") if kind in candidates), "text")


def _typed_while_kept(
    df: Any, candidates: dict[str, list[str]], level: Any
) -> tuple[Any, Any] | None:
    """The text columns typed as `_typed_by_counts` types them, counted in the pass that fills
    the cache: each column is kept as the type its sampled values allow (`_kept_kind`), with a
    flag on each value that is not of it; a column flagged anywhere disproves the guess (None:
    the caller reads again). (the typed DataFrame, the persisted one)."""
    from pyspark.sql import functions as F

    kinds = {c: _kept_kind(candidates[c]) for c in df.columns}
    prefix = "__gitml_miss"
    while any(name.startswith(prefix) for name in df.columns):
        prefix += "_"
    flags = {c: f"{prefix}{i}" for i, c in enumerate(df.columns) if kinds[c] != "text"}
    cols = []
    for c in df.columns:
        col = F.col(quoted(c))
        if kinds[c] == "text":
            cols.append(col.alias(c))
            continue
        value = col.try_cast("bigint" if kinds[c] == "whole" else "double")
        cols += [value.alias(c), (col.isNotNull() & value.isNull()).alias(flags[c])]
    kept = df.select(*cols).persist(level)
    exprs = [F.count(F.lit(1))]
    for c in df.columns:
        col = F.col(quoted(c))
        exprs.append(F.count(col))
        if c in flags:
            exprs.append(F.count(F.when(F.col(quoted(flags[c])), 1)))
        else:
            boolean = "boolean" in candidates[c]
            exprs.append(F.count(_type_test(col, "boolean")) if boolean else F.lit(-1))
    counts = iter(kept.agg(*exprs).first())
    rows = next(counts)
    typed = []
    for c in df.columns:
        present, other = next(counts), next(counts)
        col = F.col(quoted(c))
        if c in flags and other:
            kept.unpersist()
            return None
        if kinds[c] == "whole":
            # pandas' rule: an integer column with nulls (or without values) is float64
            typed.append(col.cast("double") if present == 0 or present < rows else col)
        elif kinds[c] == "number":
            typed.append(F.nanvl(col, F.lit(None).cast("double")))
        else:
            typed.append(_text_column(col, present, -1, -1, other, rows))
    return kept.select(*(t.alias(c) for t, c in zip(typed, df.columns, strict=True))), kept


# What a text column is tested for (each test counts the values that pass it).
TYPE_TESTS = ("whole", "number", "boolean")
# Rows whose values rule out a column's types before the whole file is counted (see below).
TYPE_SAMPLE_ROWS = 1000


def _type_test(col: Any, kind: str) -> Any:
    """The column's values that pass the test `kind` (others null)."""
    from pyspark.sql import functions as F

    if kind == "whole":
        return col.try_cast("bigint")
    if kind == "number":
        return col.try_cast("double")
    return F.when(col.isin([*PANDAS_TRUE, *PANDAS_FALSE]), 1)


def _type_candidates(df: Any) -> dict[str, list[str]]:
    """Per column the types its first TYPE_SAMPLE_ROWS values leave possible: a value there
    that is no whole number already tells the column is not int64, and so on. Only those are
    counted over the whole file: a failed `try_cast` costs the JVM an exception, so testing a
    text column of millions of values for numbers took minutes (a column's values must all
    pass, so a test ruled out here could never pass)."""
    from pyspark.sql import functions as F

    exprs = []
    for c in df.columns:
        col = F.col(quoted(c))
        present = F.count(col)
        exprs += [present == F.count(_type_test(col, kind)) for kind in TYPE_TESTS]
    first = df.limit(TYPE_SAMPLE_ROWS).agg(*exprs).first()
    found, i = {}, 0
    for c in df.columns:
        found[c] = [kind for k, kind in enumerate(TYPE_TESTS) if first[i + k]]
        i += len(TYPE_TESTS)
    return found


def _text_column(col: Any, present: int, whole: int, number: int, boolean: int, rows: int) -> Any:
    from pyspark.sql import functions as F

    if present == 0 or (number == present and (whole < present or present < rows)):
        return F.nanvl(col.try_cast("double"), F.lit(None).cast("double"))
    if whole == present:
        return col.try_cast("bigint")
    if boolean == present == rows:
        return col.isin(list(PANDAS_TRUE))
    return col


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


def quoted(column: str) -> str:
    """A column name as Spark's `col()` takes it literally (a dot is no struct field)."""
    return "`" + column.replace("`", "``") + "`"


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
