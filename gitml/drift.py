"""Data drift: the data as it is now against the profile gitml.lock recorded for it at a commit.

Per column, the population stability index (PSI) of today's values over the bins the recorded
profile holds, with the count the data had in each bin when it was validated:
- a number column (and a datetime column, as seconds since the epoch): its histogram
  (gitml.profile `histogram`): nulls, below the first edge, the
  intervals between tie-aware deciles, above the last edge, and a point bin for each value that
  held at least 5% of the values (zeros of a zero-inflated column, a dominant value);
- a number column of at most 10 values: nulls, each value, any other;
- any other column (text, booleans, dates, mixed types read as object): nulls, each recorded top
  value, and the rest;
plus schema changes (a column gone, a new one, another dtype). Today's values are assigned to
the recorded bins by the same function (gitml.profile `histogram_counts`) that counted them at
validation time, with the recorded (rounded) edges: identical data gives identical counts, so
PSI exactly 0.

PSI = sum((a - e) * ln(a / e)) over the bins, with e and a the bins' shares of the rows then and
now, each share floored at EPS = 1e-4 (an empty bin must not make PSI infinite). Under 0.1 is
read as stable, 0.1 to 0.25 as a shift to watch, from 0.25 (`--threshold`) as drift.

A profile recorded before histograms (a number column with quartiles and no `histogram`) is read
as it is: its bins are rebuilt from the quartiles, a coarse (5 to 7 bin) measure that can show a
PSI above 0 on unchanged data; such columns are flagged `coarse`.

The recorded profile is read as gitml.lock's records (gitml/lockprofile.py), checked there
before any column is compared: a hand-edited one is refused, naming the column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gitml.errors import BadInput
from gitml.lockprofile import ColumnProfile, Histogram, Profile, checked
from gitml.profile import histogram_counts, number_key, number_values

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


class ColumnNow(Protocol):
    """One column of the data now, as drift measures it (pandas here; Spark in
    gitml.sparkdrift): what it counts is counted by the rules of gitml.profile."""

    rows: int

    def nulls(self) -> int: ...
    def mean(self) -> float: ...
    def is_number(self) -> bool: ...
    def bins(self, edges: list[float], points: list[float]) -> tuple[list[int], list[int]]: ...
    def keyed_counts(self, numbers: bool) -> dict[str, int]: ...
    def quartile_shares(self, edges: list[float], tied: list[bool]) -> list[float]: ...


class TableNow(Protocol):
    rows: int
    columns: list[str]

    def dtype(self, column: str) -> str | None: ...
    def column(self, column: str) -> ColumnNow: ...


class PandasColumn:
    """A pandas Series (nulls included) as drift reads it."""

    def __init__(self, s: Any) -> None:
        self.s = s
        self.rows = len(s)

    def nulls(self) -> int:
        return int(self.s.isna().sum())

    def mean(self) -> float:
        import numpy as np

        values = number_values(self.s)
        with np.errstate(all="ignore"):  # inf - inf, overflow: shown as they are
            return float(values.mean()) if len(values) else float("nan")

    def is_number(self) -> bool:
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        return bool(is_numeric_dtype(self.s) and not is_bool_dtype(self.s))

    def bins(self, edges: list[float], points: list[float]) -> tuple[list[int], list[int]]:
        return histogram_counts(number_values(self.s), edges, points)

    def keyed_counts(self, numbers: bool) -> dict[str, int]:
        """The count of each value, keyed as the profile keys it. Counted first, keyed after:
        one key per distinct value, not one Python call per row."""
        counts: dict[str, int] = {}
        values = self.s.dropna()
        for v, n in (values if numbers else values.astype(str)).value_counts().items():
            key = number_key(v) if numbers else str(v)
            counts[key] = counts.get(key, 0) + int(n)
        return counts

    def quartile_shares(self, edges: list[float], tied: list[bool]) -> list[float]:
        return number_shares(self.s, self.rows, edges, tied)


class PandasTable:
    def __init__(self, df: Any, dtypes: dict[str, str]) -> None:
        self.df, self.dtypes = df, dtypes
        self.rows = len(df)
        self.columns = [str(c) for c in df.columns]

    def dtype(self, column: str) -> str | None:
        return self.dtypes.get(column)

    def column(self, column: str) -> ColumnNow:
        return PandasColumn(self.df[column])


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


# --- profiles without histograms (gitml.lock written before them): coarse quartile bins ------

# gitml.lock rounds figures to 6 significant digits: a recorded minimum can lie just above the
# true one (1234567 -> 1.23457e+06). Values within this relative distance of an edge are on it.
ROUNDING = 5e-6


def _levels(q: list[float]) -> list[float]:
    return [i / (len(q) - 1) for i in range(len(q))] if len(q) > 1 else [1.0]


def slots_of(tied: list[bool]) -> list[tuple[str, int]]:
    """The inner bins, in order: per edge u_j, the interval up to it ("i", j) for j >= 1 —
    (u_{j-1}, u_j], the first one from u_0 — and the point ("p", j) of a tied edge."""
    slots: list[tuple[str, int]] = []
    for j, is_tied in enumerate(tied):
        if j > 0:
            slots.append(("i", j))
        if is_tied:
            slots.append(("p", j))
    return slots


def _level_spans(q: list[float]) -> tuple[dict[float, float], dict[float, float]]:
    """Per quantile value, the lowest and the highest level it stands at."""
    lo: dict[float, float] = {}
    hi: dict[float, float] = {}
    for v, level in zip(q, _levels(q), strict=True):
        lo[v], hi[v] = min(lo.get(v, level), level), max(hi.get(v, level), level)
    return lo, hi


def number_bins(entry: ColumnProfile, rows: int) -> tuple[list[float], list[bool], list[float]]:
    """(unique edges, which are tied, expected shares of [null, below min, inner..., above max]).

    Quantiles are evenly spaced levels (0, 0.25, ..., 1). An edge several quantiles share (a
    tie: a value that many rows hold, like zeros) is a point bin of its own, holding at least
    the levels it spans; so a column whose zeros vanish drifts though its quartiles stay put.
    """
    q = recorded_quartiles(entry.quantiles or [])
    edges = sorted(set(q))
    lo, hi = _level_spans(q)
    tied = [hi[u] > lo[u] or len(edges) == 1 for u in edges]
    inner = [
        lo[edges[j]] - hi[edges[j - 1]] if kind == "i" else hi[edges[j]] - lo[edges[j]]
        for kind, j in slots_of(tied)
    ]
    if len(edges) == 1:
        inner = [1.0]
    nulls = (entry.nulls or 0) / rows if rows else 0.0
    return edges, tied, [nulls, 0.0, *(share * (1 - nulls) for share in inner), 0.0]


def recorded_quartiles(quantiles: Sequence[float | None]) -> list[float]:
    """The recorded quartiles as floats. Before histograms gitml wrote an infinite quantile as
    null (lockprofile accepts nulls only at either end of the list, where the rising quantiles
    of a column with infinities have them): -inf before the first number, inf after the last."""
    first = next((i for i, v in enumerate(quantiles) if v is not None), len(quantiles))
    return [
        float(v) if v is not None else -math.inf if i < first else math.inf
        for i, v in enumerate(quantiles)
    ]


def edge_slacks(edges: list[float]) -> list[float]:
    """How far from each edge a value is on it: ROUNDING of the edge (none for an infinite one,
    which only itself is on)."""
    return [abs(e) * ROUNDING if math.isfinite(e) else 0.0 for e in edges]


def quartile_slot_indexes(tied: list[bool]) -> tuple[list[int], list[int]]:
    """Per edge, the index among `slots_of` of its point bin (-1 when it is not tied), and of the
    interval that ends at it (the first edge's: the first interval)."""
    where = {slot: i for i, slot in enumerate(slots_of(tied))}
    point = [where.get(("p", j), -1) for j in range(len(tied))]
    interval = [where.get(("i", max(j, 1)), -1) for j in range(len(tied))]
    return point, interval


def number_shares(values: Any, rows: int, edges: list[float], tied: list[bool]) -> list[float]:
    """Shares of `values` (a pandas Series, nulls included) in the bins of `number_bins`: a
    value on an edge (within its slack) in its point bin if it has one, else in the interval
    up to it; any other in the interval up to the first edge above it."""
    import numpy as np

    x = values.dropna().to_numpy(dtype=float)
    e = np.asarray(edges, dtype=float)
    slack = np.asarray(edge_slacks(edges), dtype=float)
    below = x < e[0] - slack[0]
    above = x > e[-1] + slack[-1]
    inside = x[~below & ~above]
    slots = slots_of(tied)
    point, interval = map(np.array, quartile_slot_indexes(tied))
    with np.errstate(invalid="ignore"):  # inf - inf: no value is near an edge that way
        near = np.abs(inside[:, None] - e[None, :]) <= slack[None, :]
    near |= inside[:, None] == e[None, :]
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
    col: str, now: ColumnNow, entry: ColumnProfile, rows_then: int, threshold: float
) -> ColumnDrift:
    edges, tied, expected = number_bins(entry, rows_then)
    actual = now.quartile_shares(edges, tied)
    value = psi(expected, actual)
    detail = (
        f"mean {_g(entry.mean)} -> {_g(now.mean())}, nulls {expected[0]:.1%} -> "
        f"{actual[0]:.1%}, outside the recorded range {actual[1] + actual[-1]:.1%} (coarse: "
        "quartile bins)"
    )
    found = ColumnDrift(col, "number", value, verdict(value, threshold), detail, True)
    return found


def _histogram_number(
    col: str, now: ColumnNow, entry: ColumnProfile, rows_then: int, threshold: float
) -> ColumnDrift:
    hist = entry.histogram or Histogram()
    counts, at_points = now.bins(*hist.layout())
    then = [entry.nulls or 0, *(hist.counts or []), *(hist.points or {}).values()]
    found = [now.nulls(), *counts, *at_points]
    expected, actual = shares(then, rows_then), shares(found, now.rows)
    value = psi(expected, actual)
    outside = (found[1] + found[len(counts)]) / now.rows
    mean = f"mean {_g(entry.mean)} -> {_g(now.mean())}, " if entry.has_mean else ""
    detail = (
        f"{mean}nulls {expected[0]:.1%} -> {actual[0]:.1%}, outside the recorded range "
        f"{outside:.1%}"
    )
    return ColumnDrift(col, "number", value, verdict(value, threshold), detail)


def _category(
    col: str, now: ColumnNow, entry: ColumnProfile, rows_then: int, threshold: float
) -> ColumnDrift:
    """PSI over [null, each recorded top value, the rest] of a text (or other) column."""
    return _over_values(col, now, entry.top or {}, entry, rows_then, threshold, numbers=False)


def _few_numbers(
    col: str, now: ColumnNow, entry: ColumnProfile, rows_then: int, threshold: float
) -> ColumnDrift:
    """PSI over [null, each recorded value, the rest] of a number column that had few values
    (keyed as the profile keys them)."""
    return _over_values(col, now, entry.values or {}, entry, rows_then, threshold, numbers=True)


def _over_values(
    col: str,
    now: ColumnNow,
    recorded: dict[str, int],
    entry: ColumnProfile,
    rows_then: int,
    threshold: float,
    numbers: bool,
) -> ColumnDrift:
    top = {str(k): int(v) for k, v in recorded.items()}
    nulls_then = entry.nulls or 0
    nulls_now = now.nulls()
    counts = now.keyed_counts(numbers)
    seen = [counts.get(k, 0) for k in top]
    # Whole counts, the rest too: the same data gives the same shares to the last bit.
    then = [nulls_then, *top.values(), max(0, rows_then - nulls_then - sum(top.values()))]
    found = [nulls_now, *seen, now.rows - nulls_now - sum(seen)]
    expected, actual = shares(then, rows_then), shares(found, now.rows)
    value = psi(expected, actual)
    detail = f"other values {expected[-1]:.1%} -> {actual[-1]:.1%}"
    if actual[-1] > expected[-1]:
        detail += _others_named(counts, top, rest_then=then[-1])
    kind = "values" if numbers else "category"
    return ColumnDrift(col, kind, value, verdict(value, threshold), detail)


def _others_named(counts: dict[str, int], recorded: dict[str, int], rest_then: int) -> str:
    """The most frequent values now outside the recorded ones. New to the data only when the
    recorded values were all it held: otherwise the profile kept only its top values, and one
    outside them may have been there too (it is not called new)."""
    others = [k for k in sorted(counts, key=lambda k: -counts[k]) if k not in recorded][:3]
    if not others:
        return ""
    if rest_then == 0:
        return f" (new: {', '.join(others)})"
    return f" (most frequent of them now: {', '.join(others)})"


def _nulls(
    col: str, now: ColumnNow, entry: ColumnProfile, rows_then: int, threshold: float
) -> ColumnDrift:
    """A column all null when recorded: only the share of nulls can be compared."""
    then = entry.nulls or 0
    nulls = now.nulls()
    expected = shares([then, rows_then - then], rows_then)
    actual = shares([nulls, now.rows - nulls], now.rows)
    value = psi(expected, actual)
    detail = f"nulls {expected[0]:.1%} -> {actual[0]:.1%}"
    return ColumnDrift(col, "nulls", value, verdict(value, threshold), detail)


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


Measure = Callable[[str, ColumnNow, ColumnProfile, int, float], ColumnDrift]


def _measure(entry: ColumnProfile) -> Measure:
    """How a recorded column is compared, by what its profile holds."""
    if entry.values is not None:  # a number of few values
        return _few_numbers
    if entry.histogram is not None:
        return _histogram_number
    if entry.quantiles:  # recorded before histograms
        return _number
    if entry.top is not None:
        return _category
    return _nulls


def compare(
    df: Any, dtypes: dict[str, str], profile: Profile, threshold: float = DRIFT
) -> list[ColumnDrift]:
    """Each column of the recorded profile against `df` (a pandas frame: the data now), then
    the new columns."""
    return compare_table(PandasTable(df, dtypes), profile, threshold)


def compare_table(now: TableNow, profile: Profile, threshold: float = DRIFT) -> list[ColumnDrift]:
    """Each column of the recorded profile against the data now, then the new columns."""
    recorded = checked(profile)
    rows_then = profile.rows or 0
    if now.rows == 0 or rows_then == 0:
        raise BadInput("no rows to compare: " + ("the data now" if now.rows == 0 else "recorded"))
    found = [
        _compare_column(col, entry, now, rows_then, threshold) for col, entry in recorded.items()
    ]
    found += [
        ColumnDrift(col, "new", None, "drift", "not in the recorded data")
        for col in now.columns
        if col not in recorded
    ]
    return found


def _compare_column(
    col: str, entry: ColumnProfile, now: TableNow, rows_then: int, threshold: float
) -> ColumnDrift:
    if col not in now.columns:
        return ColumnDrift(col, "missing", None, "drift", "the column is gone")
    column, dtype = now.column(col), now.dtype(col)
    # int64 then, float64 now (a null appeared) is no change of kind: PSI judges it
    recorded_number = bool(entry.quantiles) or entry.histogram is not None
    same = dtype_kind(entry.dtype) == dtype_kind(dtype)
    if not same and not (recorded_number and column.is_number()):
        return ColumnDrift(col, "dtype", None, "drift", f"dtype {entry.dtype} -> {dtype}")
    return _measure(entry)(col, column, entry, rows_then, threshold)


_DATETIME_UNIT = re.compile(r"^datetime64\[(?:ns|us|ms|s)(?:, )?(.*)\]$")


def dtype_kind(dtype: str | None) -> str | None:
    """A dtype without the resolution of a datetime (pandas reads the same timestamps as
    datetime64[ns] or [us] by version and format; the Spark engine says [ns]): its time zone
    is kept."""
    return None if dtype is None else _DATETIME_UNIT.sub(r"datetime64[\1]", dtype)
