"""The profile of a dataset computed in Spark: the same record gitml.profile makes with pandas,
in a few passes over the data instead of a copy of it in memory.

What differs is what must: quantiles and the histogram's decile edges are Spark's approximate
quantiles (`approxQuantile`, rank error at most QUANTILE_ERROR, recorded in the profile as
`quantile_error`); the minimum and maximum are exact. Everything counted is exact: nulls, the
values of a number column of few values, the point bins (a value held by 5% of the values is
found among the quantiles at every 2.5%, then counted), the count in every histogram bin (with
the rounded edges, by the rules of gitml.profile.histogram_counts), and the top values of the
other columns. So drift on identical data gives PSI 0 whichever engine recorded the profile.
"""

from __future__ import annotations

from typing import Any

from gitml.fileio import json_safe
from gitml.lockfile import rounded
from gitml.profile import NUMBER_VALUES, POINT_SHARE, QUANTILES, TOP_VALUES, edges_of, number_key
from gitml.sparkread import FRACTIONAL, INTEGRAL, pandas_dtype, quoted

QUANTILE_ERROR = 0.001
# Levels at which point candidates are looked for: a value held by 1/POINT_SHARE of the values
# spans 2 such steps, so (with QUANTILE_ERROR well under a step) one level falls on it.
CANDIDATE_LEVELS = [i / (2 * POINT_SHARE) for i in range(2 * POINT_SHARE + 1)]
DECILE_LEVELS = [i / 10 for i in range(11)]
FEW_VALUES_SKETCH = 3 * NUMBER_VALUES  # above this approximate count of distinct values: many


def is_number(data_type: Any) -> bool:
    return type(data_type).__name__ in (*INTEGRAL, *FRACTIONAL)


def profile_of(df: Any) -> dict[str, Any]:
    """rows, quantile_error and per column what gitml.profile.profile_of records."""
    numbers = [f.name for f in df.schema.fields if is_number(f.dataType)]
    stats = _column_stats(df, numbers)
    columns: dict[str, Any] = {}
    for field in df.schema.fields:
        c = field.name
        columns[c] = {"dtype": pandas_dtype(field.dataType), "nulls": stats["rows"] - stats[c]["n"]}
        if c not in numbers:
            columns[c]["top"] = _top_values(df, c, field.dataType, stats[c]["n"])
    _number_profiles(df, [c for c in numbers if stats[c]["n"]], stats, columns)
    profile = {"rows": stats["rows"], "columns": columns, "quantile_error": QUANTILE_ERROR}
    result: dict[str, Any] = rounded(profile)
    return result


def finite(column: str) -> Any:
    """The column's finite values (others null)."""
    from pyspark.sql import functions as F

    col = F.col(quoted(column))
    return F.when(~F.isnan(col) & (F.abs(col) != float("inf")), col)


def _column_stats(df: Any, numbers: list[str]) -> dict[str, Any]:
    """One pass: rows; per column its values; per number column mean, std, exact finite
    minimum and maximum, finite count and an approximate count of distinct values."""
    from pyspark.sql import functions as F

    exprs = [F.count(F.lit(1))]
    for c in df.columns:
        exprs.append(F.count(F.col(quoted(c))))
    for c in numbers:
        col, fin = F.col(quoted(c)), finite(c)
        exprs += [F.avg(col), F.stddev_samp(col), F.min(fin), F.max(fin), F.count(fin)]
        exprs.append(F.approx_count_distinct(col, 0.01))
    row = df.agg(*exprs).first()
    stats: dict[str, Any] = {"rows": int(row[0])}
    for i, c in enumerate(df.columns):
        stats[c] = {"n": int(row[1 + i])}
    base = 1 + len(df.columns)
    for j, c in enumerate(numbers):
        mean, std, lo, hi, n_finite, distinct = row[base + 6 * j : base + 6 * j + 6]
        stats[c].update(mean=mean, std=std, min=lo, max=hi, finite=int(n_finite))
        stats[c]["distinct"] = int(distinct)
    return stats


def _number_profiles(
    df: Any, numbers: list[str], stats: dict[str, Any], columns: dict[str, Any]
) -> None:
    """mean, std, quantiles, and the values or the histogram of each number column."""
    with_finite = [c for c in numbers if stats[c]["finite"]]
    levels = _quantiles(df, with_finite, CANDIDATE_LEVELS)
    for c in numbers:
        s = stats[c]
        entry = columns[c]
        entry["mean"] = json_safe(float(s["mean"]))
        entry["std"] = json_safe(float(s["std"])) if s["n"] > 1 and s["std"] is not None else None
        if c in levels:
            q = [levels[c][int(p * 2 * POINT_SHARE)] for p in QUANTILES]
            entry["quantiles"] = [json_safe(float(v)) for v in [s["min"], *q[1:-1], s["max"]]]
        values = _few_values(df, c) if s["distinct"] <= FEW_VALUES_SKETCH else None
        if values is not None:
            entry["values"] = values
    histograms = [c for c in numbers if "values" not in columns[c]]
    for c, hist in _histograms(df, histograms, levels, stats).items():
        columns[c]["histogram"] = hist


def _quantiles(df: Any, columns: list[str], levels: list[float]) -> dict[str, list[float]]:
    """Approximate quantiles of the finite values of each column, in one job."""
    if not columns:
        return {}
    finite_df = df.select(*(finite(c).alias(c) for c in columns))
    found = finite_df.approxQuantile(columns, levels, QUANTILE_ERROR)
    return {c: [float(v) for v in q] for c, q in zip(columns, found, strict=True)}


def _few_values(df: Any, column: str) -> dict[str, int] | None:
    """The count of each value of a number column of at most NUMBER_VALUES values, else None."""
    from pyspark.sql import functions as F

    col = F.col(quoted(column))
    rows = df.where(col.isNotNull()).groupBy(col).count().limit(NUMBER_VALUES + 1).collect()
    if len(rows) > NUMBER_VALUES:
        return None
    return {number_key(v): int(n) for v, n in sorted((r[0], r[1]) for r in rows)}


def _top_values(df: Any, column: str, data_type: Any, n: int) -> dict[str, int]:
    """gitml.profile's top values: the TOP_VALUES most frequent (ties by value), and any other
    held by 1/POINT_SHARE of the values; counted exactly, keyed as pandas shows them."""
    from pyspark.sql import functions as F

    if n == 0:
        return {}
    col = F.col(quoted(column))
    shown = (
        F.when(col, F.lit("True")).otherwise(F.lit("False"))
        if type(data_type).__name__ == "BooleanType"
        else col.cast("string")
    )
    counts = df.where(col.isNotNull()).groupBy(shown.alias("v")).count()
    top = counts.orderBy(F.desc("count"), F.asc("v")).limit(TOP_VALUES)
    heavy = counts.where(F.col("count") * POINT_SHARE >= n)
    rows = top.union(heavy).distinct().collect()
    ordered = sorted(((str(r[0]), int(r[1])) for r in rows), key=lambda kv: (-kv[1], kv[0]))
    return {k: v for i, (k, v) in enumerate(ordered) if i < TOP_VALUES or v * POINT_SHARE >= n}


def _histograms(
    df: Any, columns: list[str], levels: dict[str, list[float]], stats: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """gitml.profile.histogram of each column: points, decile edges of the rest, counts."""
    points = _points(df, columns, levels, stats)
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


def _points(
    df: Any, columns: list[str], levels: dict[str, list[float]], stats: dict[str, Any]
) -> dict[str, list[float]]:
    """The values each column's finite values hold at least 1/POINT_SHARE of: candidates from
    the quantiles, counted exactly in one pass."""
    from pyspark.sql import functions as F

    candidates = {c: sorted(set(levels.get(c, []))) for c in columns}
    exprs = [
        F.count(F.when(F.col(quoted(c)) == F.lit(v), 1)) for c in columns for v in candidates[c]
    ]
    row = df.agg(*exprs).first() if exprs else []
    found, i = {}, 0
    for c in columns:
        n = stats[c]["finite"]
        found[c] = [v for k, v in enumerate(candidates[c]) if row[i + k] * POINT_SHARE >= n]
        i += len(candidates[c])
    return found


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


def bin_counts(
    df: Any, bins: dict[str, tuple[list[float], list[float]]]
) -> dict[str, tuple[list[int], list[int]]]:
    """Per column (its edges, its points): the counts of gitml.profile.histogram_counts
    (below the first edge, [e0, e1], (e1, e2], ..., above the last edge; then each point) of
    its non-null values, all columns in one pass."""
    from pyspark.sql import functions as F

    exprs, layout = [], []
    for c, (edges, points) in bins.items():
        col = F.col(quoted(c))
        for p in points:
            exprs.append(F.count(F.when(col == F.lit(p), 1)))
        rest = col if not points else F.when(~col.isin(points), col)
        k = max(len(edges) - 1, 1)
        exprs.append(F.count(F.when(rest < F.lit(edges[0]), 1)))
        for j in range(k):
            low = rest >= F.lit(edges[0]) if j == 0 else rest > F.lit(edges[j])
            exprs.append(
                F.count(F.when(low & (rest <= F.lit(edges[min(j + 1, len(edges) - 1)])), 1))
            )
        exprs.append(F.count(F.when(rest > F.lit(edges[-1]), 1)))
        layout.append((c, len(points), k + 2))
    row = df.agg(*exprs).first() if exprs else []
    found, i = {}, 0
    for c, n_points, n_bins in layout:
        at_points = [int(v) for v in row[i : i + n_points]]
        counts = [int(v) for v in row[i + n_points : i + n_points + n_bins]]
        found[c] = (counts, at_points)
        i += n_points + n_bins
    return found
