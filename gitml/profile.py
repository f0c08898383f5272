"""The profile of a dataset: what gitml.lock records of it when it is validated, and what drift
detection compares the data with later.

Per column: its dtype and nulls; for a number column mean, std, quantiles and either the count of
each of its few values or a histogram (tie-aware deciles with point bins, `histogram`); for a
datetime column a histogram of its seconds since the epoch; for any other column its top values.
Recorded figures are rounded to gitml.lock's 6 significant digits, and the histogram's counts are
made by the function drift counts today's values with (`histogram_counts`), so identical data gives
identical counts. A recorded profile is read back as gitml/lockprofile.py's records (checked
there: gitml.lock can be edited by hand). pandas and numpy are imported only inside the functions
that use them.
"""

from __future__ import annotations

import heapq
import math
import warnings
from typing import Any

from gitml.fileio import json_safe, round_sig
from gitml.frame import Frame
from gitml.lockfile import rounded

QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
TOP_VALUES = 5
NUMBER_VALUES = 10  # a number column of at most this many distinct values records each count
TEXT_DTYPES = ("str", "string")  # pandas' names of its text dtypes (as read, before `object`)
DECILES = 10
POINT_SHARE = 20  # a value held by at least 1/20 (5%) of a column's values is a bin of its own


def number_key(value: Any) -> str:
    """A number as a profile key, the same whether the column is read as int or float."""
    f = float(value)
    return str(int(f)) if f.is_integer() else repr(f)


def profile_of(frame: Frame) -> dict[str, Any]:
    """rows; per column dtype, nulls, and mean/std/quantiles and a histogram or the count of
    each value (numbers), or top values (others)."""
    df = frame.df
    columns = {str(col): _column(df[col], frame.dtypes[col]) for col in df.columns}
    result: dict[str, Any] = rounded({"rows": len(df), "columns": columns})
    return result


def _column(s: Any, dtype: str) -> dict[str, Any]:
    from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

    entry: dict[str, Any] = {"dtype": dtype, "nulls": int(s.isna().sum())}
    values = s.dropna()
    if is_datetime64_any_dtype(s):
        # binned as numbers (seconds since the epoch): the top values of timestamps are
        # mostly one row each, which no shift of dates would move
        if len(values):
            entry["histogram"] = histogram(number_values(values))
    elif is_numeric_dtype(s) and not is_bool_dtype(s):
        if len(values):
            entry.update(_number_profile(values))
    else:
        entry["top"] = _top_values(_candidates(values, dtype), len(values))
    return entry


def _candidates(values: Any, dtype: str) -> list[tuple[str, int]]:
    """The values (as text) that can be top values, with their counts: those of the
    TOP_VALUES largest counts (ties: the first by value) and those held by 1/POINT_SHARE.

    Text read as text is counted by pyarrow where it is installed (`_arrow_candidates`: 2 s
    where pandas' hash table of Python strings took 24 s and 700 MiB for 4.5M distinct ids),
    else by pandas as it is; booleans are counted, then named; other values are counted as
    their text (`astype(str)`: in an object column 1, 1.0 and True are one key to pandas). Only
    the candidates become Python pairs: sorting millions took seconds and gigabytes."""
    if dtype in TEXT_DTYPES:
        counted = _arrow_candidates(values)
        if counted is not None:
            return counted
        counts = values.value_counts(sort=False)
    elif dtype in ("bool", "boolean"):
        counts = values.value_counts(sort=False)
        counts.index = counts.index.map(str)
    else:
        counts = values.astype(str).value_counts(sort=False)
    keys, n = counts.index, counts.to_numpy()
    sure, ties, wanted = _kept(n, len(values))
    first = heapq.nsmallest(wanted, ties, key=lambda i: str(keys[i]))
    return [(str(keys[i]), int(n[i])) for i in (*sure, *first)]


def _kept(counts: Any, n: int) -> tuple[Any, Any, int]:
    """Of the `counts` of a column of `n` values: (the positions sure to be kept: a count above
    the TOP_VALUES-th largest, or 1/POINT_SHARE of `n`; the positions of the counts equal to
    the TOP_VALUES-th largest; how many of these, the first by value, are top values too)."""
    import numpy as np

    none = np.array([], dtype=np.int64)
    if len(counts) == 0:
        return none, none, 0
    k = min(TOP_VALUES, len(counts))
    kth = np.partition(counts, len(counts) - k)[len(counts) - k]
    above = counts > kth
    sure = np.flatnonzero(above | (counts * POINT_SHARE >= n))
    if kth * POINT_SHARE >= n:  # the ties are all kept as points
        return sure, none, 0
    return sure, np.flatnonzero(counts == kth), k - int(np.count_nonzero(above))


def _arrow_candidates(values: Any) -> list[tuple[str, int]] | None:
    """`_candidates` of a text column counted by pyarrow (None without it, or for text it
    cannot hold: unpaired surrogates): the values sorted, each run of equal ones counted.
    Sorting costs a third of the memory of a hash table of every distinct value (4.5M ids:
    260 MiB, 2 s; Arrow's hash count took 720 MiB), and the counts come in value order, the
    order ties are broken in: Arrow sorts text by its UTF-8 bytes, the order of its code
    points, as Python does."""
    import numpy as np

    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    try:
        array = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowException, UnicodeError):
        return None
    ordered = array.take(pc.array_sort_indices(array))
    del array
    n = len(ordered)
    if n == 0:
        return []
    change = pc.not_equal(ordered.slice(1), ordered.slice(0, n - 1))
    starts = np.flatnonzero(np.concatenate(([True], change.to_numpy(zero_copy_only=False))))
    counts = np.diff(np.append(starts, n))
    sure, ties, wanted = _kept(counts, n)
    picked = np.concatenate([sure, ties[:wanted]])  # ties in value order: the first ones
    keys = ordered.take(pa.array(starts[picked])).to_pylist()
    return list(zip(keys, counts[picked].tolist(), strict=True))


def _top_values(candidates: list[tuple[str, int]], n: int) -> dict[str, int]:
    """The TOP_VALUES most frequent values, and after them any other that holds at least 5% of
    the values (drift's bins: a new category among ten common ones must not hide in "the
    rest"); ties in count ordered by value."""
    ordered = sorted(candidates, key=lambda kv: (-kv[1], kv[0]))
    kept = [kv for i, kv in enumerate(ordered) if i < TOP_VALUES or kv[1] * POINT_SHARE >= n]
    return dict(kept)


def _number_profile(values: Any) -> dict[str, Any]:
    """mean, std, quantiles (of the finite values: an infinity is no figure gitml.lock can
    hold), and the count of each value for a column of few, else a histogram (drift's bins)."""
    import numpy as np

    with warnings.catch_warnings():  # inf - inf, overflow: a figure that is not one (None)
        warnings.simplefilter("ignore", RuntimeWarning)
        entry: dict[str, Any] = {"mean": json_safe(float(values.mean()))}
        entry["std"] = json_safe(float(values.std())) if len(values) > 1 else None
    x = number_values(values)
    finite = values[np.isfinite(x)]
    if len(finite):
        entry["quantiles"] = [json_safe(float(q)) for q in finite.quantile(list(QUANTILES))]
    # A number column of a few values (a label, a count, a flag) is told by them. The first
    # rows decide cheaply for most columns (more distinct values there than allowed: more in
    # all): counting a big float column's values would cost a hash table of millions of entries.
    if values.iloc[:10_000].nunique() <= NUMBER_VALUES:
        counts = values.value_counts()
        if len(counts) <= NUMBER_VALUES:
            entry["values"] = {number_key(v): int(n) for v, n in sorted(counts.items())}
            return entry
    entry["histogram"] = histogram(x)
    return entry


def number_values(s: Any) -> Any:
    """The non-null values of a number column as floats (what histograms count); of a datetime
    column, seconds since the epoch (UTC), to the microsecond, as the Spark engine counts
    them whatever the column's resolution."""
    from pandas.api.types import is_datetime64_any_dtype

    values = s.dropna()
    if not is_datetime64_any_dtype(values):
        return values.to_numpy(dtype=float)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[us]").astype("int64").to_numpy(dtype=float) / 1e6


# --- histograms: recorded at validation time, counted again by drift -------------------------


def histogram(values: Any) -> dict[str, Any]:
    """The histogram a profile records for a number column, from its non-null values (floats).

    `edges`: the deciles of the values that are not points (the values themselves, no
    interpolation), rounded to gitml.lock's 6 significant digits (the first down, the last up),
    duplicates dropped. `counts`: one per bin, in order: below the first edge, [e0, e1],
    (e1, e2], ..., (e_k-1, e_k] (one interval [e0, e0] for a single edge), above the last edge.
    `points`: each value held by at least 5% of the values, keyed exactly (`number_key`), with
    its count; its rows are in no interval. The counts are made by `histogram_counts` with the
    rounded edges, the function drift counts today's values with.
    """
    import numpy as np

    finite = np.sort(values[np.isfinite(values)])
    points = _heavy_values(finite)
    rest = finite[~np.isin(finite, points)] if points else finite
    base = rest if len(rest) else finite
    edges = _decile_edges(base) if len(base) else [0.0]
    counts, at_points = histogram_counts(values, edges, points)
    return {
        "edges": edges,
        "counts": counts,
        "points": {number_key(p): c for p, c in zip(points, at_points, strict=True)},
    }


def _heavy_values(ordered: Any) -> list[float]:
    """The values that at least 1/POINT_SHARE of `ordered` (sorted) hold: such a run of equal
    values is at least `step` long, so one of every `step`-th values is in it."""
    import numpy as np

    n = len(ordered)
    if n == 0:
        return []
    step = max(n // POINT_SHARE, 1)
    found = []
    for v in np.unique(ordered[::step]):
        count = np.searchsorted(ordered, v, side="right") - np.searchsorted(ordered, v, "left")
        if count * POINT_SHARE >= n:
            found.append(float(v))
    return found


def _decile_edges(ordered: Any) -> list[float]:
    m = len(ordered)
    return edges_of([float(ordered[(i * (m - 1)) // DECILES]) for i in range(DECILES + 1)])


def edges_of(raw: list[float]) -> list[float]:
    """A histogram's edges from the values at the deciles (min and max first and last): inner
    ones rounded to 6 significant digits, the outer ones outward, duplicates dropped."""
    inner = {round_sig(v) for v in raw[1:-1]}
    return sorted({_outward(raw[0], down=True), *inner, _outward(raw[-1], down=False)})


def _outward(value: float, down: bool) -> float:
    """`value` to 6 significant digits, rounded away from the data (so nothing the edges were
    taken from lies outside them); the nearest rounding where that would overflow."""
    r = round_sig(value)
    if (r > value) if down else (r < value):
        step = 10.0 ** (math.floor(math.log10(abs(r))) - 5)
        s = round_sig(r - step if down else r + step)
        if math.isfinite(s) and ((s <= value) if down else (s >= value)):
            r = s
    return r


def histogram_counts(
    values: Any, edges: list[float], points: list[float]
) -> tuple[list[int], list[int]]:
    """(counts per bin of `histogram`'s layout, counts per point) of `values` (non-null floats;
    infinities are below or above the edges)."""
    import numpy as np

    x = values
    at_points = []
    if points:
        for p in points:
            at_points.append(int(np.count_nonzero(x == p)))
        x = x[~np.isin(x, np.asarray(points, dtype=float))]
    e = np.asarray(edges, dtype=float)
    below = x < e[0]
    above = x > e[-1]
    inside = x[~below & ~above]
    k = max(len(e) - 1, 1)
    slot = np.clip(np.searchsorted(e, inside, side="left") - 1, 0, k - 1)
    inner = np.bincount(slot, minlength=k)
    counts = [int(np.count_nonzero(below)), *(int(c) for c in inner), int(np.count_nonzero(above))]
    return counts, at_points
