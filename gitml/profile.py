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
FEW_TEXT_VALUES = 1000  # a text column of at most this many in its first rows is hash-counted


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
        # few distinct values in the first rows (labels): pandas' hash count of the shared
        # strings needs no copy; Arrow's sort copies the text, and its pool keeps the memory
        few = values.iloc[:10_000].nunique() <= FEW_TEXT_VALUES
        counted = None if few else _arrow_candidates(values)
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
    hold), and the count of each value for a column of few, else a histogram (drift's bins).
    One copy of the column at a time at most (each step's temporary freed before the next:
    at 43M rows a copy is 350 MB)."""
    with warnings.catch_warnings():  # inf - inf, overflow: a figure that is not one (None)
        warnings.simplefilter("ignore", RuntimeWarning)
        entry: dict[str, Any] = {"mean": json_safe(float(values.mean()))}
        entry["std"] = json_safe(float(values.std())) if len(values) > 1 else None
    finite = _finite(values)
    if len(finite):
        entry["quantiles"] = [json_safe(float(q)) for q in finite.quantile(list(QUANTILES))]
    del finite
    # A number column of a few values (a label, a count, a flag) is told by them. The first
    # rows decide cheaply for most columns (more distinct values there than allowed: more in
    # all): counting a big float column's values would cost a hash table of millions of entries.
    if values.iloc[:10_000].nunique() <= NUMBER_VALUES:
        counts = values.value_counts()
        if len(counts) <= NUMBER_VALUES:
            entry["values"] = {number_key(v): int(n) for v, n in sorted(counts.items())}
            return entry
    entry["histogram"] = histogram(number_values(values), own=True)
    return entry


def _finite(values: Any) -> Any:
    """The finite values of a number column: the column itself when all are (integers), else
    a copy without the infinities."""
    import numpy as np

    if values.dtype.kind in "iub":
        return values
    finite = np.isfinite(number_values(values))
    return values if finite.all() else values[finite]


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


def histogram(values: Any, own: bool = False) -> dict[str, Any]:
    """The histogram a profile records for a number column, from its non-null values (floats;
    `own`: an array no one else holds, sorted in place).

    `edges`: the deciles of the values that are not points (the values themselves, no
    interpolation), rounded to gitml.lock's 6 significant digits (the first down, the last up),
    duplicates dropped. `counts`: one per bin, in order: below the first edge, [e0, e1],
    (e1, e2], ..., (e_k-1, e_k] (one interval [e0, e0] for a single edge), above the last edge.
    `points`: each value held by at least 5% of the values, keyed exactly (`number_key`), with
    its count; its rows are in no interval. The counts are those `histogram_counts` (the
    function drift counts today's values with) makes with the rounded edges, taken from the
    sorted values (`_sorted_counts`): one sorted copy of the column, no other.
    """
    import numpy as np

    if own and values.flags.owndata and values.flags.writeable:
        values.sort()
        ordered = values
    else:
        ordered = np.sort(values)
    if len(ordered) and np.isnan(ordered[-1]):  # not non-null floats: counted as they are
        return _histogram_unsorted(ordered)
    finite = ordered[
        np.searchsorted(ordered, -np.inf, side="right") : np.searchsorted(ordered, np.inf, "left")
    ]
    points = _heavy_values(finite)
    edges = _decile_edges(finite, points) if len(finite) else [0.0]
    return _histogram_record(edges, points, *_sorted_counts(ordered, edges, points))


def _histogram_unsorted(values: Any) -> dict[str, Any]:
    import numpy as np

    finite = np.sort(values[np.isfinite(values)])
    points = _heavy_values(finite)
    edges = _decile_edges(finite, points) if len(finite) else [0.0]
    return _histogram_record(edges, points, *histogram_counts(values, edges, points))


def _histogram_record(
    edges: list[float], points: list[float], counts: list[int], at_points: list[int]
) -> dict[str, Any]:
    """A column's `histogram` as the profile records it."""
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


def _decile_edges(ordered: Any, points: list[float]) -> list[float]:
    """The edges of the sorted finite values that are not `points` (of all of them when every
    value is a point), read in place: each point is one run of equal values, skipped."""
    import numpy as np

    runs = [
        (int(np.searchsorted(ordered, p, "left")), int(np.searchsorted(ordered, p, "right")))
        for p in points
    ]
    m = len(ordered) - sum(end - start for start, end in runs)
    if m == 0:
        runs, m = [], len(ordered)

    def at(rank: int) -> float:
        for start, end in runs:  # ascending: each run at or before the position moves it on
            if rank >= start:
                rank += end - start
        return float(ordered[rank])

    return edges_of([at((i * (m - 1)) // DECILES) for i in range(DECILES + 1)])


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


def _sorted_counts(
    ordered: Any, edges: list[float], points: list[float]
) -> tuple[list[int], list[int]]:
    """`histogram_counts` of sorted values, by binary search: each bin's count is the values
    up to its upper edge less those up to its lower one, less the points that fall in it."""
    import numpy as np

    def upto(x: float, side: Any) -> int:
        return int(np.searchsorted(ordered, x, side))

    at_points = [upto(p, "right") - upto(p, "left") for p in points]
    k = max(len(edges) - 1, 1)
    top = edges[min(1, len(edges) - 1)]
    counts = [upto(edges[0], "left"), upto(top, "right") - upto(edges[0], "left")]
    counts += [upto(edges[j], "right") - upto(edges[j - 1], "right") for j in range(2, k + 1)]
    counts.append(len(ordered) - upto(edges[-1], "right"))
    for p, n in zip(points, at_points, strict=True):
        counts[_bin_of(p, edges)] -= n
    return counts, at_points


def _bin_of(value: float, edges: list[float]) -> int:
    """The position in `histogram_counts`' list of the bin `value` falls in (its own rule,
    asked of one value)."""
    import numpy as np

    counts, _ = histogram_counts(np.asarray([value], dtype=float), edges, [])
    return counts.index(1)


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
