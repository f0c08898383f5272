"""The profile of a dataset computed in Spark: the same record gitml.profile makes with pandas,
in a few passes over the data instead of a copy of it in memory.

What differs is what must: quantiles and the histogram's decile edges are Spark's approximate
quantiles (`percentile_approx`, `approxQuantile`: one algorithm, rank error at most
QUANTILE_ERROR, recorded in the profile as
`quantile_error`); the minimum and maximum are exact. Everything counted is exact: nulls, the
values of a number column of few values, the point bins (a value held by 5% of the values is
found among the quantiles at every 2.5%, then counted), the count in every histogram bin (with
the rounded edges, by the rules of gitml.profile.histogram_counts), and the top values of the
other columns. So drift on identical data gives PSI 0 whichever engine recorded the profile.

One thing differs by design: a text column of more than HIGH_CARDINALITY distinct values (ids,
free text) records as top values the values Spark's frequent-items sketch finds (`freqItems`,
all that hold at least 1/CANDIDATE_SUPPORT of the rows, and some that do not), each counted
exactly: every value that holds 5% is among them, but counting every one of millions of values
exactly only to record the first five ids is a shuffle of the whole column.

The cost is in passes over the (cached) data, each one Spark job over all columns at once: the
column statistics; their sketches (distinct values, quantiles of columns of many values: the
quantiles of one of few values are read from its exact counts); the values counted (few-valued
columns, point candidates, text); the decile edges of what is not a point; the count in every
bin. The counting passes group each row by the combination of a few columns' values (grouping
sets of columns whose values multiply to at most GROUP_KEYS combinations): a few hash groups
per column, a few rows per row, in an aggregate Spark compiles, instead of hundreds of
`count(when(...))` aggregates, which Spark cannot compile into one method and runs interpreted.
"""

from __future__ import annotations

import math
from typing import Any

from gitml.fileio import json_safe
from gitml.lockfile import rounded
from gitml.profile import NUMBER_VALUES, POINT_SHARE, QUANTILES, TOP_VALUES, edges_of, number_key
from gitml.sparkcsv import quoted
from gitml.sparkread import FRACTIONAL, INTEGRAL, TIMESTAMPS, pandas_dtype

QUANTILE_ERROR = 0.001
# Levels at which point candidates are looked for: a value held by 1/POINT_SHARE of the values
# spans 2 such steps, so (with QUANTILE_ERROR well under a step) one level falls on it.
CANDIDATE_LEVELS = [i / (2 * POINT_SHARE) for i in range(2 * POINT_SHARE + 1)]
DECILE_LEVELS = [i / 10 for i in range(11)]
FEW_VALUES_SKETCH = 3 * NUMBER_VALUES  # above this approximate count of distinct values: many
SAMPLE_ROWS = 1000  # rows whose distinct values show a number column of many values
GROUP_KEYS = 1 << 16  # value combinations (estimated) a group of columns is counted by
HIGH_CARDINALITY = 100_000  # a text column of more distinct values (approximately): see above
CANDIDATE_SUPPORT = 100  # freqItems' support for such a column: 1%


def is_number(data_type: Any) -> bool:
    return type(data_type).__name__ in (*INTEGRAL, *FRACTIONAL)


def is_time(data_type: Any) -> bool:
    return type(data_type).__name__ in TIMESTAMPS


def as_numbers(df: Any) -> Any:
    """`df` with its timestamp columns as seconds since the epoch (UTC, to the microsecond,
    as gitml.profile.number_values gives them): what histograms of datetimes count."""
    from pyspark.sql import functions as F

    cols = []
    for field in df.schema.fields:
        col = F.col(quoted(field.name))
        if is_time(field.dataType):
            col = (F.unix_micros(col.cast("timestamp")) / F.lit(1e6)).alias(field.name)
        cols.append(col)
    return df.select(*cols)


def profile_of(df: Any) -> dict[str, Any]:
    """rows, quantile_error and per column what gitml.profile.profile_of records."""
    times = {f.name for f in df.schema.fields if is_time(f.dataType)}
    measured = as_numbers(df) if times else df
    numbers = [f.name for f in measured.schema.fields if is_number(f.dataType)]
    stats = _column_stats(measured, numbers)
    with_values = [c for c in numbers if stats[c]["n"]]
    levels = {
        c: stats[c]["levels"] for c in with_values if stats[c]["finite"] and "levels" in stats[c]
    }
    counted = _counted_values(measured, *_wanted_values(measured, with_values, levels, stats))
    for c in with_values:  # few values, all counted: their levels exact
        if stats[c]["finite"] and c not in levels:
            levels[c] = levels_of(counted.get(c, {}))
    columns: dict[str, Any] = {}
    for field in df.schema.fields:
        c = field.name
        columns[c] = {"dtype": pandas_dtype(field.dataType), "nulls": stats["rows"] - stats[c]["n"]}
        if c not in numbers:
            columns[c]["top"] = _top_values(counted.get(c, {}), stats[c]["n"])
    summarised = [c for c in with_values if c not in times]  # datetimes: a histogram alone
    _number_profiles(summarised, stats, columns, levels, counted)
    hists = [c for c in with_values if "values" not in columns[c]]
    for c, hist in _histograms(measured, hists, levels, stats, counted).items():
        columns[c]["histogram"] = hist
    profile = {"rows": stats["rows"], "columns": columns, "quantile_error": QUANTILE_ERROR}
    result: dict[str, Any] = rounded(profile)
    return result


def finite(column: str) -> Any:
    """The column's finite values (others null)."""
    from pyspark.sql import functions as F

    col = F.col(quoted(column))
    return F.when(~F.isnan(col) & (F.abs(col) != float("inf")), col)


def _column_stats(df: Any, numbers: list[str]) -> dict[str, Any]:
    """rows; per column its values and its distinct values (approximately); per number column
    mean, std, exact finite minimum and maximum, finite count, and the approximate quantiles
    of its finite values at CANDIDATE_LEVELS (`percentile_approx`, the aggregate form of
    `approxQuantile`: rank error 1/accuracy) when it has many values.

    Two passes, as cheaper than one: the plain statistics (Spark compiles them into one
    method), then the sketches (distinct counts, quantiles), which it runs interpreted and
    which, in the same aggregate, took the plain ones with them (on 0.2 GB: 25 CPU s in one
    pass, 16 in two). A number column with more than FEW_VALUES_SKETCH distinct values in its
    first SAMPLE_ROWS is known to have many without a sketch of its distinct values; the
    quantiles of one of few values are read from its exact counts (`levels_of`) instead."""
    stats = _plain_stats(df, numbers)
    many = _many_in_first_rows(df, numbers)
    quantiles = _sketches(df, many, stats)
    late = [c for c in numbers if c not in many and stats[c]["distinct"] > FEW_VALUES_SKETCH]
    if late:  # many values, though not among the first rows: their quantiles in a pass more
        quantiles += list(_finite_doubles(df, late).agg(*map(_quantiles, late)).first())
        many += late
    for c, levels in zip(many, quantiles, strict=True):
        stats[c]["levels"] = [float(v) for v in levels or []]
    return stats


def _sketches(df: Any, many: list[str], stats: dict[str, Any]) -> list[Any]:
    """One aggregate: the approximate distinct values of each column but `many` (into
    `stats`; `many` have more than FEW_VALUES_SKETCH, all that is asked of the count), and the
    quantiles at CANDIDATE_LEVELS of `many`, returned in their order."""
    from pyspark.sql import functions as F

    sketched = [c for c in df.columns if c not in many]
    exprs = [F.approx_count_distinct(F.col(quoted(c)), 0.05) for c in sketched]
    exprs += [_quantiles(c) for c in many]
    projected = _finite_doubles(df, many, kept=sketched)
    row = list(projected.agg(*exprs).first()) if exprs else []  # Spark refuses an empty one
    for c, distinct in zip(sketched, row, strict=False):
        stats[c]["distinct"] = int(distinct)
    for c in many:
        stats[c]["distinct"] = SAMPLE_ROWS
    return row[len(sketched) :]


def _many_in_first_rows(df: Any, numbers: list[str]) -> list[str]:
    """The number columns of more than FEW_VALUES_SKETCH distinct values in the first
    SAMPLE_ROWS rows."""
    from pyspark.sql import functions as F

    sample = df.select(*(F.col(quoted(c)) for c in numbers)).limit(SAMPLE_ROWS).collect()
    distinct = [len({r[i] for r in sample} - {None}) for i in range(len(numbers))]
    return [c for c, k in zip(numbers, distinct, strict=True) if k > FEW_VALUES_SKETCH]


def _plain_stats(df: Any, numbers: list[str]) -> dict[str, Any]:
    """rows; per column its values; per number column mean, std, exact finite minimum and
    maximum, finite count (one aggregate Spark compiles)."""
    from pyspark.sql import functions as F

    exprs = [F.count(F.lit(1)), *(F.count(F.col(quoted(c))) for c in df.columns)]
    for c in numbers:
        col, fin = F.col(quoted(c)), finite(c)
        exprs += [F.avg(col), F.stddev_samp(col), F.min(fin), F.max(fin), F.count(fin)]
    row = df.agg(*exprs).first()
    stats: dict[str, Any] = {"rows": int(row[0])}
    for i, c in enumerate(df.columns):
        stats[c] = {"n": int(row[1 + i])}
    base = 1 + len(df.columns)
    for j, c in enumerate(numbers):
        mean, std, lo, hi, n_finite = row[base + 5 * j : base + 5 * j + 5]
        stats[c].update(mean=mean, std=std, min=lo, max=hi, finite=int(n_finite))
    return stats


def _quantiles(column: str) -> Any:
    """The approximate quantiles at CANDIDATE_LEVELS of a column of `_finite_doubles`."""
    from pyspark.sql import functions as F

    accuracy = round(1 / QUANTILE_ERROR)
    return F.percentile_approx(F.col(quoted(column)), CANDIDATE_LEVELS, accuracy)


def _finite_doubles(df: Any, columns: list[str], kept: list[str] | None = None) -> Any:
    """`columns` as their finite values as doubles (others null), beside the `kept` columns
    as they are. A projection of its own before the sketches: Spark evaluates a sketch's input
    row by row, interpreted, but compiles a projection (1 GB, five quantile sketches and five
    distinct counts: 23.9 -> 18.9 s)."""
    from pyspark.sql import functions as F

    as_is = [F.col(quoted(c)) for c in kept or []]
    return df.select(*as_is, *(finite(c).cast("double").alias(c) for c in columns))


def levels_of(counts: dict[Any, int]) -> list[float]:
    """The values at CANDIDATE_LEVELS of finite values counted exactly: at rank level * (n - 1)
    (rounded) of the sorted values, no rank error; [] without finite values."""
    ordered = sorted((float(v), k) for v, k in counts.items() if math.isfinite(float(v)))
    n = sum(k for _, k in ordered)
    found, seen, i = [], 0, 0
    for level in CANDIDATE_LEVELS if n else []:
        rank = math.floor(level * (n - 1) + 0.5)
        while seen + ordered[i][1] <= rank:
            seen += ordered[i][1]
            i += 1
        found.append(ordered[i][0])
    return found


def _number_profiles(
    numbers: list[str],
    stats: dict[str, Any],
    columns: dict[str, Any],
    levels: dict[str, list[float]],
    counted: dict[str, dict[Any, int]],
) -> None:
    """mean, std, quantiles, and the values of each number column of few values."""
    for c in numbers:
        s = stats[c]
        entry = columns[c]
        entry["mean"] = json_safe(float(s["mean"]))
        entry["std"] = json_safe(float(s["std"])) if s["n"] > 1 and s["std"] is not None else None
        if c in levels:
            q = [levels[c][int(p * 2 * POINT_SHARE)] for p in QUANTILES]
            entry["quantiles"] = [json_safe(float(v)) for v in [s["min"], *q[1:-1], s["max"]]]
        values = counted.get(c, {})
        if s["distinct"] <= FEW_VALUES_SKETCH and len(values) <= NUMBER_VALUES:
            entry["values"] = {number_key(v): n for v, n in sorted(values.items())}


def _shown(df: Any, column: str) -> Any:
    """A column's values as gitml.profile keys its top values: pandas' text of them."""
    from pyspark.sql import functions as F

    col = F.col(quoted(column))
    if type(df.schema[column].dataType).__name__ == "BooleanType":
        return F.when(col, F.lit("True")).otherwise(F.lit("False"))
    return col.cast("string")


def _wanted_values(
    df: Any, numbers: list[str], levels: dict[str, list[float]], stats: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, int]]:
    """Per column the values to count (a Spark column, null where a row's value is not one):
    all of a number column of few values, else its point candidates (the values at the
    candidate levels); all of a text column, or its frequent items above HIGH_CARDINALITY.
    And per column how many values that is, about."""
    from pyspark.sql import functions as F

    wanted, keys = {}, {}
    for c in numbers:
        col = F.col(quoted(c))
        if stats[c]["distinct"] <= FEW_VALUES_SKETCH:
            wanted[c], keys[c] = col.cast("double"), stats[c]["distinct"]
        elif c in levels:
            wanted[c] = F.when(col.isin(sorted(set(levels[c]))), col.cast("double"))
            keys[c] = len(set(levels[c]))
    texts = [c for c in df.columns if not is_number(df.schema[c].dataType) and stats[c]["n"]]
    many = [c for c in texts if stats[c]["distinct"] > HIGH_CARDINALITY]
    frequent = _frequent_items(df, many)
    for c in texts:
        shown = _shown(df, c)
        wanted[c] = F.when(shown.isin(frequent[c]), shown) if c in frequent else shown
        keys[c] = len(frequent[c]) if c in frequent else stats[c]["distinct"]
    return wanted, keys


def _frequent_items(df: Any, columns: list[str]) -> dict[str, list[str]]:
    """Candidates for the top values of text columns of many values, in one job."""
    if not columns:
        return {}
    shown = df.select(*(_shown(df, c).alias(f"c{i}") for i, c in enumerate(columns)))
    row = shown.freqItems([f"c{i}" for i in range(len(columns))], 1 / CANDIDATE_SUPPORT).first()
    return {c: sorted(str(v) for v in row[i] if v is not None) for i, c in enumerate(columns)}


def _counted_values(
    df: Any, wanted: dict[str, Any], keys: dict[str, int]
) -> dict[str, dict[Any, int]]:
    """The exact count of each value `wanted` names (a number column's as floats, a text
    column's as text), of all columns in one job (`counted_together`); `keys`: how many
    values each column may have (an estimate)."""
    typed = {}
    for c, values in wanted.items():
        typed[c] = values.cast("double" if is_number(df.schema[c].dataType) else "string")
    return counted_together(df, {c: (typed[c], keys.get(c, GROUP_KEYS)) for c in typed})


def counted_together(df: Any, columns: dict[str, tuple[Any, int]]) -> dict[str, dict[Any, int]]:
    """Per column (a Spark column, an estimate of its distinct values): the exact count of each
    of its non-null values, in one job. Columns are grouped so that each group's estimates
    multiply to at most GROUP_KEYS, and each row is counted once per group (Spark's grouping
    sets) by the combination of the group's values: a few rows per row, not one per column, in
    a hash aggregate Spark compiles; each value's count is the sum over the combinations."""
    from pyspark.sql import functions as F

    if not columns:
        return {}
    names = list(columns)
    alias = {c: f"k{i}" for i, c in enumerate(names)}
    keyed = df.select(*(columns[c][0].alias(alias[c]) for c in names))
    groups = _key_groups({alias[c]: columns[c][1] for c in names})
    if len(groups) == 1:
        grouped = keyed.groupBy(*groups[0])
    else:
        grouped = keyed.groupingSets(groups, *(alias[c] for c in names))
    rows = grouped.agg(F.count(F.lit(1)).alias("n")).collect()
    return {c: _summed(rows, alias[c]) for c in names}


def _summed(rows: list[Any], key: str) -> dict[Any, int]:
    """Each non-null value of `key` in the grouped `rows`, with the sum of their counts."""
    found: dict[Any, int] = {}
    for row in rows:
        value = row[key]
        if value is not None:
            found[value] = found.get(value, 0) + int(row["n"])
    return found


def _key_groups(estimates: dict[str, int]) -> list[list[str]]:
    """The columns (by their estimated distinct values, fewest first) in groups whose
    estimates, each with a null, multiply to at most GROUP_KEYS."""
    groups: list[list[str]] = []
    size = GROUP_KEYS + 1
    for c in sorted(estimates, key=lambda c: estimates[c]):
        keys = max(estimates[c], 1) + 1  # and null
        if size * keys > GROUP_KEYS:
            groups.append([])
            size = 1
        groups[-1].append(c)
        size *= keys
    return groups


def _top_values(counts: dict[Any, int], n: int) -> dict[str, int]:
    """gitml.profile's top values: the TOP_VALUES most frequent (ties by value), and any other
    held by 1/POINT_SHARE of the values, of the values counted."""
    if n == 0:
        return {}
    ordered = sorted(((str(k), v) for k, v in counts.items()), key=lambda kv: (-kv[1], kv[0]))
    return {k: v for i, (k, v) in enumerate(ordered) if i < TOP_VALUES or v * POINT_SHARE >= n}


def _histograms(
    df: Any,
    columns: list[str],
    levels: dict[str, list[float]],
    stats: dict[str, Any],
    counted: dict[str, dict[Any, int]],
) -> dict[str, dict[str, Any]]:
    """gitml.profile.histogram of each column: points, decile edges of the rest, counts."""
    points = {
        c: sorted(v for v, k in counted.get(c, {}).items() if k * POINT_SHARE >= stats[c]["finite"])
        for c in columns
    }
    points = {c: [v for v in found if math.isfinite(v)] for c, found in points.items()}
    edges = _edges(df, columns, levels, points)
    counts = bin_counts(df, {c: (edges[c], points[c]) for c in columns})
    return {
        c: {
            "edges": edges[c],
            "counts": counts[c][0],
            "points": {number_key(p): k for p, k in zip(points[c], counts[c][1], strict=True)},
        }
        for c in columns
    }


def _edges(
    df: Any, columns: list[str], levels: dict[str, list[float]], points: dict[str, list[float]]
) -> dict[str, list[float]]:
    """Decile edges of the finite values that are not points (of all finite ones when every
    value is a point; [0.0] without finite values)."""
    from pyspark.sql import functions as F

    with_points = [c for c in columns if points[c] and c in levels]
    rest_df = df.select(
        *(F.when(~F.col(quoted(c)).isin(points[c]), finite(c)).alias(c) for c in with_points)
    )
    rest = rest_df.approxQuantile(with_points, DECILE_LEVELS, QUANTILE_ERROR) if with_points else []
    deciles = dict(zip(with_points, rest, strict=True))
    edges = {}
    for c in columns:
        if c not in levels:  # no finite values
            edges[c] = [0.0]
            continue
        raw = deciles.get(c) or [levels[c][4 * i] for i in range(11)]
        edges[c] = edges_of([float(v) for v in raw])
    return edges


def _bin_of(column: str, edges: list[float], points: list[float]) -> Any:
    """The bin of gitml.profile.histogram_counts each value of the column falls in: -1 - i
    for the i-th point; 0 below the first edge, 1 for [e0, e1], j for (e_j-1, e_j], then one
    above the last edge; null for a null."""
    from pyspark.sql import functions as F

    col = F.col(quoted(column))
    found = F.when(col.isNull(), F.lit(None))
    for i, p in enumerate(points):
        found = found.when(col == F.lit(p), F.lit(-1 - i))
    k = max(len(edges) - 1, 1)
    found = found.when(col < F.lit(edges[0]), F.lit(0))
    for j in range(1, k + 1):
        found = found.when(col <= F.lit(edges[min(j, len(edges) - 1)]), F.lit(j))
    return found.otherwise(F.lit(k + 1))


def bin_counts(
    df: Any, bins: dict[str, tuple[list[float], list[float]]]
) -> dict[str, tuple[list[int], list[int]]]:
    """Per column (its edges, its points): the counts of gitml.profile.histogram_counts
    (below the first edge, [e0, e1], (e1, e2], ..., above the last edge; then each point) of
    its non-null values, all columns in one job (`counted_together`)."""
    if not bins:
        return {}
    binned = {
        c: (_bin_of(c, *bins[c]), len(edges) + 1 + len(pts)) for c, (edges, pts) in bins.items()
    }
    grouped = counted_together(df, binned)
    found = {}
    for c, (edges, points) in bins.items():
        n_bins = max(len(edges) - 1, 1) + 2
        counts = [grouped[c].get(b, 0) for b in range(n_bins)]
        found[c] = (counts, [grouped[c].get(-1 - j, 0) for j in range(len(points))])
    return found
