"""Data drift: the data as it is now against the profile gitml.lock recorded for it at a commit.

Per column, the population stability index (PSI) of today's values over the bins the recorded
profile holds, with the count the data had in each bin when it was validated:
- a number column: its histogram (see `histogram`): nulls, below the first edge, the intervals
  between tie-aware deciles, above the last edge, and a point bin for each value that held at
  least 5% of the values (zeros of a zero-inflated column, a dominant value);
- a number column of at most 10 values: nulls, each value, any other;
- any other column (text, booleans, dates, mixed types read as object): nulls, each recorded top
  value, and the rest;
plus schema changes (a column gone, a new one, another dtype). Today's values are assigned to
the recorded bins by the same function (`histogram_counts`) that counted them at validation
time, with the recorded (rounded) edges: identical data gives identical counts, so PSI exactly 0.

PSI = sum((a - e) * ln(a / e)) over the bins, with e and a the bins' shares of the rows then and
now, each share floored at EPS = 1e-4 (an empty bin must not make PSI infinite). Under 0.1 is
read as stable, 0.1 to 0.25 as a shift to watch, from 0.25 (`--threshold`) as drift.

A profile recorded before histograms (a number column with quartiles and no `histogram`) is read
as it is: its bins are rebuilt from the quartiles, a coarse (5 to 7 bin) measure that can show a
PSI above 0 on unchanged data; such columns are flagged `coarse`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from gitml.errors import BadInput

EPS = 1e-4  # a bin's share is at least this: an empty bin must not make PSI infinite
SHIFT = 0.1
DRIFT = 0.25


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    # "number", "values" (a number of few values), "category", "nulls" (all null when
    # recorded), "missing", "new", "dtype"
    kind: str
    psi: float | None  # as computed (`as_json` rounds it to 4 decimals)
    verdict: str  # "stable", "shift", "drift"
    detail: str
    coarse: bool = False  # a number column of a profile without histogram: quartile bins

    def as_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "psi": None if self.psi is None else round(self.psi, 4),
            "verdict": self.verdict,
            "detail": self.detail,
            "coarse": self.coarse,
        }


def psi(expected: list[float], actual: list[float]) -> float:
    """PSI of two lists of shares over the same bins, each share floored at EPS."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPS), max(a, EPS)
        total += (a - e) * math.log(a / e)
    return total


def verdict(value: float, threshold: float = DRIFT) -> str:
    return "drift" if value >= threshold else "shift" if value >= SHIFT else "stable"


def shares(counts: list[int], rows: int) -> list[float]:
    return [c / rows for c in counts]


# --- histograms: recorded at validation time, counted again by drift -------------------------

DECILES = 10
POINT_SHARE = 20  # a value held by at least 1/20 (5%) of a column's values is a bin of its own


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
    from gitml.validation import number_key

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
    from gitml.fileio import round_sig

    m = len(ordered)
    raw = [float(ordered[(i * (m - 1)) // DECILES]) for i in range(DECILES + 1)]
    inner = {round_sig(v) for v in raw[1:-1]}
    return sorted({_outward(raw[0], down=True), *inner, _outward(raw[-1], down=False)})


def _outward(value: float, down: bool) -> float:
    """`value` to 6 significant digits, rounded away from the data (so nothing the edges were
    taken from lies outside them); the nearest rounding where that would overflow."""
    from gitml.fileio import round_sig

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


def number_values(s: Any) -> Any:
    """The non-null values of a number column as floats (what histograms count)."""
    return s.dropna().to_numpy(dtype=float)


# --- profiles without histograms (gitml.lock written before them): coarse quartile bins ------

# gitml.lock rounds figures to 6 significant digits: a recorded minimum can lie just above the
# true one (1234567 -> 1.23457e+06). Values within this relative distance of an edge are on it.
ROUNDING = 5e-6


def _levels(q: list[float]) -> list[float]:
    return [i / (len(q) - 1) for i in range(len(q))] if len(q) > 1 else [1.0]


def _slots(tied: list[bool]) -> list[tuple[str, int]]:
    """The inner bins, in order: per edge u_j, the interval up to it ("i", j) for j >= 1 —
    (u_{j-1}, u_j], the first one from u_0 — and the point ("p", j) of a tied edge."""
    slots: list[tuple[str, int]] = []
    for j, is_tied in enumerate(tied):
        if j > 0:
            slots.append(("i", j))
        if is_tied:
            slots.append(("p", j))
    return slots


def number_bins(entry: dict[str, Any], rows: int) -> tuple[list[float], list[bool], list[float]]:
    """(unique edges, which are tied, expected shares of [null, below min, inner..., above max]).

    Quantiles are evenly spaced levels (0, 0.25, ..., 1). An edge several quantiles share (a
    tie: a value that many rows hold, like zeros) is a point bin of its own, holding at least
    the levels it spans; so a column whose zeros vanish drifts though its quartiles stay put.
    """
    q = [float(v) for v in entry["quantiles"]]
    levels = _levels(q)
    edges = sorted(set(q))
    lo = {u: min(lv for v, lv in zip(q, levels, strict=True) if v == u) for u in edges}
    hi = {u: max(lv for v, lv in zip(q, levels, strict=True) if v == u) for u in edges}
    tied = [hi[u] > lo[u] or len(edges) == 1 for u in edges]
    inner = [
        lo[edges[j]] - hi[edges[j - 1]] if kind == "i" else hi[edges[j]] - lo[edges[j]]
        for kind, j in _slots(tied)
    ]
    if len(edges) == 1:
        inner = [1.0]
    nulls = int(entry.get("nulls") or 0) / rows if rows else 0.0
    return edges, tied, [nulls, 0.0, *(share * (1 - nulls) for share in inner), 0.0]


def number_shares(values: Any, rows: int, edges: list[float], tied: list[bool]) -> list[float]:
    """Shares of `values` (a pandas Series, nulls included) in the bins of `number_bins`."""
    import numpy as np

    x = values.dropna().to_numpy(dtype=float)
    e = np.asarray(edges, dtype=float)
    slack = np.abs(e) * ROUNDING
    below = x < e[0] - slack[0]
    above = x > e[-1] + slack[-1]
    inside = x[~below & ~above]
    slots = _slots(tied)
    where = {slot: i for i, slot in enumerate(slots)}
    point = np.array([where.get(("p", j), -1) for j in range(len(e))])
    interval = np.array([where.get(("i", max(j, 1)), -1) for j in range(len(e))])
    near = np.abs(inside[:, None] - e[None, :]) <= slack[None, :]
    on = np.where(near.any(axis=1), near.argmax(axis=1), -1)
    up_to = np.clip(np.searchsorted(e, inside, side="left"), 0, len(e) - 1)
    edge = np.where(on >= 0, on, up_to)
    slot = np.where((on >= 0) & (point[edge] >= 0), point[edge], interval[edge])
    if len(e) == 1:
        slot = np.zeros(len(inside), dtype=int)
    counts = np.bincount(slot, minlength=len(slots) or 1) if len(inside) else [0] * len(slots)
    return [
        (rows - len(x)) / rows,
        float(below.sum()) / rows,
        *(float(c) / rows for c in counts),
        float(above.sum()) / rows,
    ]


def _number(
    col: str, s: Any, entry: dict[str, Any], rows_then: int, threshold: float
) -> ColumnDrift:
    edges, tied, expected = number_bins(entry, rows_then)
    actual = number_shares(s, len(s), edges, tied)
    value = psi(expected, actual)
    values = s.dropna()
    mean_now = float(values.mean()) if len(values) else float("nan")
    detail = (
        f"mean {_g(entry.get('mean'))} -> {_g(mean_now)}, nulls {expected[0]:.1%} -> "
        f"{actual[0]:.1%}, outside the recorded range {actual[1] + actual[-1]:.1%} (coarse: "
        "quartile bins)"
    )
    found = ColumnDrift(col, "number", value, verdict(value, threshold), detail, True)
    return found


def _histogram_number(
    col: str, s: Any, entry: dict[str, Any], rows_then: int, threshold: float
) -> ColumnDrift:
    import numpy as np

    hist = entry["histogram"]
    keys = list(hist["points"])
    values = number_values(s)
    counts, at_points = histogram_counts(
        values, [float(e) for e in hist["edges"]], [float(k) for k in keys]
    )
    then = [int(entry.get("nulls") or 0), *hist["counts"], *(hist["points"][k] for k in keys)]
    now = [len(s) - len(values), *counts, *at_points]
    expected, actual = shares(then, rows_then), shares(now, len(s))
    value = psi(expected, actual)
    outside = (now[1] + now[len(counts)]) / len(s)
    with np.errstate(all="ignore"):  # inf - inf, overflow: shown as they are
        mean_now = float(values.mean()) if len(values) else float("nan")
    detail = (
        f"mean {_g(entry.get('mean'))} -> {_g(mean_now)}, nulls {expected[0]:.1%} -> "
        f"{actual[0]:.1%}, outside the recorded range {outside:.1%}"
    )
    return ColumnDrift(col, "number", value, verdict(value, threshold), detail)


def _category(
    col: str,
    s: Any,
    entry: dict[str, Any],
    rows_then: int,
    threshold: float,
    numbers: bool = False,
) -> ColumnDrift:
    """PSI over [null, each recorded value, the rest]: the top values of a text column, or
    every value of a number column that had few (`numbers`, keyed as the profile keys them)."""
    from gitml.validation import number_key

    top = {str(k): int(v) for k, v in (entry.get("values" if numbers else "top") or {}).items()}
    rows_now = len(s)
    nulls_then = int(entry.get("nulls") or 0)
    values = s.dropna()
    # Counted first, keyed after: one key per distinct value, not one Python call per row.
    counts: dict[str, int] = {}
    for v, n in (values if numbers else values.astype(str)).value_counts().items():
        key = number_key(v) if numbers else str(v)
        counts[key] = counts.get(key, 0) + int(n)
    seen = [counts.get(k, 0) for k in top]
    # Whole counts, the rest too: the same data gives the same shares to the last bit.
    then = [nulls_then, *top.values(), max(0, rows_then - nulls_then - sum(top.values()))]
    now = [rows_now - len(values), *seen, len(values) - sum(seen)]
    expected, actual = shares(then, rows_then), shares(now, rows_now)
    value = psi(expected, actual)
    by_count = sorted(counts, key=lambda k: -counts[k])
    new = [k for k in by_count if k not in top][:3]
    detail = f"other values {expected[-1]:.1%} -> {actual[-1]:.1%}" + (
        f" (e.g. {', '.join(new)})" if new and actual[-1] > expected[-1] else ""
    )
    kind = "values" if numbers else "category"
    return ColumnDrift(col, kind, value, verdict(value, threshold), detail)


def _g(value: Any) -> str:
    return f"{float(value):.6g}" if isinstance(value, (int, float)) else "-"


def compare(
    df: Any, dtypes: dict[str, str], profile: dict[str, Any], threshold: float = DRIFT
) -> list[ColumnDrift]:
    """Each column of the recorded profile against `df` (the data now), then the new columns."""
    recorded = checked_profile(profile)
    rows_then = int(profile.get("rows") or 0)
    if len(df) == 0 or rows_then == 0:
        raise BadInput("no rows to compare: " + ("the data now" if len(df) == 0 else "recorded"))
    found = []
    for col, entry in recorded.items():
        if col not in df.columns:
            found.append(ColumnDrift(col, "missing", None, "drift", "the column is gone"))
        elif entry.get("dtype") != dtypes.get(col) and not _both_numbers(entry, df[col]):
            detail = f"dtype {entry.get('dtype')} -> {dtypes.get(col)}"
            found.append(ColumnDrift(col, "dtype", None, "drift", detail))
        elif isinstance(entry.get("values"), dict) and rows_then:  # a number of few values
            found.append(_category(col, df[col], entry, rows_then, threshold, numbers=True))
        elif isinstance(entry.get("histogram"), dict):
            found.append(_histogram_number(col, df[col], entry, rows_then, threshold))
        elif entry.get("quantiles") and rows_then:
            found.append(_number(col, df[col], entry, rows_then, threshold))
        elif "top" in entry and rows_then:
            found.append(_category(col, df[col], entry, rows_then, threshold))
        else:  # all null when recorded: only the share of nulls can be compared
            then = int(entry.get("nulls") or 0)
            now = int(df[col].isna().sum())
            expected = shares([then, rows_then - then], rows_then)
            actual = shares([now, len(df) - now], len(df))
            value = psi(expected, actual)
            detail = f"nulls {expected[0]:.1%} -> {actual[0]:.1%}"
            found.append(ColumnDrift(col, "nulls", value, verdict(value, threshold), detail))
    for col in df.columns:
        if str(col) not in recorded:
            found.append(ColumnDrift(str(col), "new", None, "drift", "not in the recorded data"))
    return found


def _both_numbers(entry: dict[str, Any], s: Any) -> bool:
    """int64 then, float64 now (a null appeared) is no change of kind: PSI judges it."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    number = bool(entry.get("quantiles")) or "histogram" in entry
    return number and is_numeric_dtype(s) and not is_bool_dtype(s)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _figure(value: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer no float holds
        return False


def _point(key: Any) -> bool:
    try:
        return not math.isnan(float(key))
    except (TypeError, ValueError):
        return False


def _histogram_ok(hist: Any, rows: int, nulls: int) -> bool:
    """Edges rising, a count per bin, exact points, and every row in one bin."""
    if not isinstance(hist, dict):
        return False
    edges, counts, points = hist.get("edges"), hist.get("counts"), hist.get("points")
    if not (isinstance(edges, list) and edges and all(map(_figure, edges))):
        return False
    if any(a >= b for a, b in itertools.pairwise(edges)):
        return False
    bins = max(len(edges) - 1, 1) + 2
    if not (isinstance(counts, list) and len(counts) == bins and all(map(_count, counts))):
        return False
    if not (isinstance(points, dict) and all(map(_point, points))):
        return False
    if not all(map(_count, points.values())):
        return False
    return nulls + sum(counts) + sum(points.values()) == rows


def _column_ok(entry: Any, rows: int) -> bool:
    if not isinstance(entry, dict) or not _count(entry.get("nulls") or 0):
        return False
    q = entry.get("quantiles")
    if q is not None and not (isinstance(q, list) and q and all(map(_figure, q))):
        return False
    if "histogram" in entry and not _histogram_ok(
        entry["histogram"], rows, entry.get("nulls") or 0
    ):
        return False
    return all(
        isinstance(c, dict) and all(map(_count, c.values()))
        for c in (entry.get("values"), entry.get("top"))
        if c is not None
    )


def coarse(profile: dict[str, Any]) -> bool:
    """A profile written before histograms: its number columns have quartiles alone."""
    return any(
        isinstance(e, dict) and e.get("quantiles") and "histogram" not in e and "values" not in e
        for e in (profile.get("columns") or {}).values()
    )


def checked_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile's columns, refused (exit 2, naming the column) when gitml would not have
    written them: a gitml.lock can be edited by hand, and drift must not crash on one."""
    columns = profile.get("columns")
    if not _count(profile.get("rows")) or not isinstance(columns, dict):
        raise BadInput("the recorded profile has no row count or no columns")
    for col, entry in columns.items():
        if not _column_ok(entry, profile["rows"]):
            raise BadInput(f"the recorded profile of column {col!r} is not one gitml writes")
    return columns
