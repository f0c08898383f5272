"""Reading a CSV or TSV into Spark, typed as the pandas engine types it (gitml.sparkread
reads every format; this is its text half).

A CSV or TSV is read as text, pandas' missing-value markers (`NA`, `null`, `nan`, ...) become
nulls, and each column takes the type pandas would give it (int64 when every value is a whole
number, float64 when every value is a number, bool for True/False, else text); an integer column
with nulls is float64, as in pandas. `read:` options are pandas' names, mapped to Spark's; one
that has no Spark equivalent is refused (exit 2).

A known difference: Spark's CSV parser reads a whole number with Java's `Long.parseLong`, which
takes any script's decimal digits (`١٢` is 12); pandas reads only ASCII digits as numbers.

pyspark is imported inside the functions (gitml.sparksession).
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any

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
# Python's names of the charsets Spark 4 reads -> Spark's names of them
SPARK_CHARSETS = {
    "iso8859-1": "iso-8859-1",
    "ascii": "us-ascii",
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "utf-16-be": "utf-16be",
    "utf-16-le": "utf-16le",
    "utf-32": "utf-32",
}
# the CSV options that also hold for `from_csv` (a line parsed again: no header, no encoding)
FROM_CSV_OPTIONS = ("sep", "quote", "escape", "comment", "nullValue", "mode")


def quoted(column: str) -> str:
    """A column name as Spark's `col()` takes it literally (a dot is no struct field)."""
    return "`" + column.replace("`", "``") + "`"


def _read_text_table(spark: Any, locations: list[str], fmt: str, options: dict[str, Any]) -> Any:
    df = spark.read.options(**_csv_options(fmt, options)).csv(locations)
    if options.get("header", 0) is None:  # pandas names the columns 0, 1, ...
        df = df.toDF(*(str(i) for i in range(len(df.columns))))
    return df


def _read_parsed(
    spark: Any, locations: list[str], fmt: str, options: dict[str, Any], schema: Any, bad: str
) -> Any:
    """The table parsed into `schema`'s types, a row that does not parse so kept whole in the
    column `bad` (its values null)."""
    spark_opts = {**_csv_options(fmt, options), "mode": "PERMISSIVE"}
    spark_opts["columnNameOfCorruptRecord"] = bad
    return spark.read.options(**spark_opts).schema(schema).csv(locations)


def _csv_options(fmt: str, options: dict[str, Any]) -> dict[str, str]:
    """Spark's CSV options for pandas' `read:` options (BadInput for one without a match)."""
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
        "mode": "FAILFAST",  # a row pandas would refuse is refused, not made null
        "nullValue": "",  # Spark reads an empty field as null whatever this says: see text_table
        "inferSchema": "false",
    }
    for key, value in options.items():
        if key in CSV_OPTIONS:
            spark_opts[CSV_OPTIONS[key]] = str(value)
    # a quote inside a quoted field is doubled (pandas' doublequote), whatever the quote
    spark_opts.setdefault("escape", spark_opts["quote"])
    if "encoding" in options:
        spark_opts["encoding"] = spark_charset(str(options["encoding"]))
    return spark_opts


def spark_charset(encoding: str) -> str:
    """Spark's name of a Python encoding: Spark 4 reads its own names of a few charsets only
    (`latin-1` is `iso-8859-1` there); any other is passed as given, for Spark to name what it
    reads (its legacy setting spark.sql.legacy.javaCharsets takes Java's names)."""
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise BadInput(f"`read: {{encoding: {encoding}}}`: no such encoding") from None
    return SPARK_CHARSETS.get(name, encoding)


def _na_strings(options: dict[str, Any]) -> set[str]:
    extra = options.get("na_values") or []
    extra = [extra] if isinstance(extra, str) else list(extra)
    base = set(PANDAS_NA) if options.get("keep_default_na", True) else set()
    return base | {str(v) for v in extra}


def _nulled_column(col: Any, options: dict[str, Any]) -> Any:
    """A text column with pandas' missing-value markers as nulls."""
    from pyspark.sql import functions as F

    na = sorted(_na_strings(options))
    return F.when(col.isin(na), F.lit(None)).otherwise(col) if na else col


def empty_is_null(options: dict[str, Any]) -> bool:
    """Whether pandas reads an empty field as a missing value (unless `keep_default_na: false`
    leaves "" out of its markers: then it is the text "")."""
    return "" in _na_strings(options)


def text_table(spark: Any, locations: list[str], fmt: str, options: dict[str, Any]) -> Any:
    """The table as text, pandas' missing-value markers as nulls. Spark reads an empty field
    as null whatever its `nullValue`: one that pandas reads as "" is made "" again (with
    FAILFAST, a null can come from nothing else)."""
    from pyspark.sql import functions as F

    df = _read_text_table(spark, locations, fmt, options)
    if options.get("comment"):
        _refuse_inline_comments(df, str(options["comment"]))
    cols = [F.col(quoted(c)) for c in df.columns]
    if not empty_is_null(options):
        cols = [F.coalesce(col, F.lit("")) for col in cols]
    nulled = (_nulled_column(col, options) for col in cols)
    return df.select(*(col.alias(c) for col, c in zip(nulled, df.columns, strict=True)))


def _refuse_inline_comments(df: Any, comment: str) -> None:
    """BadInput when a value holds the comment character. Spark skips a line that starts with
    it, as pandas does; but pandas also drops the rest of a line from it on (`3,4#note` is 3
    and 4), where Spark reads it as part of the value: the engines would read other tables.
    (A quoted value holding it is refused too, though pandas reads it: Spark's reader has
    unquoted it by now. Refused loudly, never read otherwise.)"""
    from pyspark.sql import functions as F

    holds = [F.col(quoted(c)).contains(comment) for c in df.columns]
    if holds and df.where(functools.reduce(operator.or_, holds)).limit(1).count():
        raise BadInput(
            f"`read: {{comment: {comment!r}}}`: a value holds the comment character after the "
            "start of its line, where pandas ends the line and Spark does not; with "
            "`engine: spark`, keep comments on lines of their own"
        )


def typed_by_counts(df: Any, candidates: dict[str, list[str]]) -> Any:
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


def _parsed_kinds(kinds: dict[str, str], options: dict[str, Any]) -> dict[str, str]:
    """The kinds Spark's CSV parser may read columns in: `kinds`, unless a missing-value marker
    is itself a number (`na_values: [-999]`), which the parser would read as one: then text."""
    for marker in _na_strings(options):
        try:
            if not math.isnan(float(marker)):
                return {c: "text" for c in kinds}
        except ValueError:
            continue
    return kinds


def _fresh_name(prefix: str, taken: list[str]) -> str:
    while any(name.startswith(prefix) for name in taken):
        prefix += "_"
    return prefix


def typed_while_kept(
    spark: Any,
    locations: list[str],
    fmt: str,
    options: dict[str, Any],
    candidates: dict[str, list[str]],
    level: Any,
) -> tuple[Any, Any] | None:
    """The columns typed as `typed_by_counts` types them, checked in the pass that fills the
    cache. Each column is parsed as the type its sampled values allow (`_kept_kind`): Spark's
    CSV parser reads a number as it tokenizes, cheaper than parsing text and casting it (1 GB
    parsed, not cached: 26.6 -> 23.1 s; the parse alone is 16 s). A row it cannot parse so (a
    missing-value marker such as `NA`, a number with spaces, a word) is kept whole and parsed
    again as text, then cast as before (`try_cast`); such a row is flagged when a value is not
    of its column's kind, and a flag anywhere disproves the guess (None: the caller reads
    again). One flag column for all columns, not one beside each number column: with five of
    them, parsing and caching 1 GB took 38.6 s, with one 32.8 (in process). A row pandas refuses
    (too many fields) is refused here too. (the typed DataFrame, the persisted one)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    names = list(candidates)
    kinds = {c: _kept_kind(candidates[c]) for c in names}
    parsed = _parsed_kinds(kinds, options)
    spark_types = {"whole": T.LongType(), "number": T.DoubleType(), "text": T.StringType()}
    bad, again = _fresh_name("__gitml_bad", names), _fresh_name("__gitml_again", names)
    flag_name = _fresh_name("__gitml_miss", names)
    schema = T.StructType(
        [T.StructField(c, spark_types[parsed[c]]) for c in names]
        + [T.StructField(bad, T.StringType())]
    )
    raw = _read_parsed(spark, locations, fmt, options, schema, bad)
    as_text = ", ".join(f"{quoted(c)} STRING" for c in names)
    reparse = {k: v for k, v in _csv_options(fmt, options).items() if k in FROM_CSV_OPTIONS}
    staged = raw.select(
        *(F.col(quoted(c)) for c in names),
        F.col(quoted(bad)),
        F.when(
            F.col(quoted(bad)).isNotNull(), F.from_csv(F.col(quoted(bad)), as_text, reparse)
        ).alias(again),
    )
    cols, flags = [], []
    for c in names:
        value, flag = _kept_column(c, kinds[c], parsed[c], bad, F.col(quoted(again))[c], options)
        cols.append(value.alias(c))
        if flag is not None:
            flags.append(flag)
    if flags:  # null on a row parsed at once: only a row kept whole can hold a wrong value
        flagged = F.when(F.col(quoted(bad)).isNotNull(), functools.reduce(operator.or_, flags))
        cols.append(flagged.alias(flag_name))
    kept = staged.select(*cols).persist(level)
    return _checked_types(kept, names, kinds, flag_name if flags else None, candidates)


def _kept_column(
    name: str, kind: str, parsed: str, bad: str, again: Any, options: dict[str, Any]
) -> tuple[Any, Any]:
    """A column as `typed_while_kept` keeps it, parsed as `parsed`: its values as `kind` (a
    row that did not parse, in the column `bad`, takes its text parsed `again`, cast), and a
    flag on each value not of `kind` (None for text)."""
    from pyspark.sql import functions as F

    fine = F.col(quoted(bad)).isNull()
    text = _nulled_column(again, options)  # null on a row parsed at once: never flagged
    if parsed == "text":
        text = F.when(fine, _nulled_column(F.col(quoted(name)), options)).otherwise(text)
    if kind == "text":
        return text, None
    value = text.try_cast("bigint" if kind == "whole" else "double")
    if parsed != "text":
        value = F.when(fine, F.col(quoted(name))).otherwise(value)
    return value, text.isNotNull() & value.isNull()


def _checked_types(
    kept: Any,
    names: list[str],
    kinds: dict[str, str],
    flag: str | None,
    candidates: dict[str, list[str]],
) -> tuple[Any, Any] | None:
    """`kept` (columns kept as `kinds`, and the column `flag`) counted in one pass, which
    fills its cache, and typed by pandas' rules; None (and `kept` dropped) when a row is
    flagged."""
    from pyspark.sql import functions as F

    flagged = F.count(F.when(F.col(quoted(flag)), 1)) if flag else F.lit(0)
    exprs = [F.count(F.lit(1)), flagged]
    for c in names:
        col = F.col(quoted(c))
        boolean = kinds[c] == "text" and "boolean" in candidates[c]
        exprs += [F.count(col), F.count(_type_test(col, "boolean")) if boolean else F.lit(-1)]
    counts = iter(kept.agg(*exprs).first())
    rows = next(counts)
    if next(counts):
        kept.unpersist()
        return None
    typed = []
    for c in names:
        present, boolean_values = next(counts), next(counts)
        col = F.col(quoted(c))
        typed.append(_kept_as_pandas(col, kinds[c], present, boolean_values, rows))
    return kept.select(*(t.alias(c) for t, c in zip(typed, names, strict=True))), kept


def _kept_as_pandas(col: Any, kind: str, present: int, boolean: int, rows: int) -> Any:
    """A kept column (of `present` values, `boolean` of them True/False) in pandas' type."""
    from pyspark.sql import functions as F

    if kind == "whole":
        # pandas' rule: an integer column with nulls (or without values) is float64
        return col.cast("double") if present == 0 or present < rows else col
    if kind == "number":
        return F.nanvl(col, F.lit(None).cast("double"))
    return _text_column(col, present, -1, -1, boolean, rows)


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


def type_candidates(df: Any) -> dict[str, list[str]]:
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
