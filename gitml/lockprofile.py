"""gitml.lock's `profile` of a dataset: its records, and the check drift reads them through.

What a profile holds and how it is computed is gitml/profile.py (pandas) and gitml/sparkprofile.py
(Spark); gitml/drift.py compares the data now with it. Read and written back through
gitml/records.py like the rest of the lock, so its bytes come back as they were: a value of the
wrong type in a hand-edited profile is kept (in `extra`) and written back, and refused only by
`checked`, when drift is asked to compare with it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from gitml.errors import BadInput
from gitml.records import Json, Record, key, misfits, nested, written_keys


@dataclass(frozen=True)
class Histogram(Record):
    """A number (or datetime) column's bins: `counts` below the first edge, in each interval
    between `edges`, above the last; `points`, the values holding 5% or more, keyed exactly."""

    edges: list[float] | None = key(list)
    counts: list[int] | None = key(list)
    points: dict[str, int] | None = key(dict)
    ALWAYS = frozenset({"edges", "counts", "points"})

    def layout(self) -> tuple[list[float], list[float]]:
        """(edges, point values), as floats: what today's values are counted into."""
        edges = [float(e) for e in self.edges or []]
        return edges, [float(p) for p in self.points or {}]


@dataclass(frozen=True)
class ColumnProfile(Record):
    """A column: its dtype and nulls; numbers: mean, std, quantiles and the count of each of
    few values or a histogram; datetimes: a histogram; others: their top values."""

    dtype: str | None = key(str)
    nulls: int | None = key(int)
    mean: float | None = key(int, float)
    std: float | None = key(int, float)
    quantiles: list[float] | None = key(list)
    values: dict[str, int] | None = key(dict)
    histogram: Histogram | None = nested(Histogram)
    top: dict[str, int] | None = key(dict)
    ALWAYS = frozenset({"dtype", "nulls"})

    @property
    def coarse(self) -> bool:
        """Quartiles alone (written before histograms): drift compares over quartile bins."""
        return bool(self.quantiles) and self.histogram is None and self.values is None

    @property
    def has_mean(self) -> bool:
        """A mean is recorded, if null (a number column's of infinities; a datetime has none)."""
        return "mean" in written_keys(self)


@dataclass(frozen=True)
class Profile(Record):
    """`profile`: rows, and per column the figures drift compares; `quantile_error`: the rank
    error of quantiles and decile edges the Spark engine computed (approximately)."""

    rows: int | None = key(int)
    columns: dict[str, ColumnProfile] | None = nested(ColumnProfile, "map", empty=False)
    quantile_error: float | None = key(int, float)
    ALWAYS = frozenset({"rows", "columns"})

    @property
    def coarse(self) -> bool:
        """Written before histograms: validating the data again records them."""
        return any(c.coarse for c in (self.columns or {}).values())

    @property
    def has_columns(self) -> bool:
        """A mapping of columns is recorded (gitml's or not: `checked` tells)."""
        return self.columns is not None or isinstance(self.extra.get("columns"), dict)


# --- checked before drift reads it: gitml.lock can be edited by hand --------------------------


def checked(profile: Profile) -> dict[str, ColumnProfile]:
    """The profile's columns, refused (exit 2, naming the column) when gitml would not have
    written them, so that drift does not crash on, or misread, a hand-edited one."""
    rows, columns = profile.rows, profile.columns
    if "columns" in misfits(profile) and isinstance(profile.extra["columns"], dict):
        bad = next(c for c, e in profile.extra["columns"].items() if not isinstance(e, dict))
        raise BadInput(f"the recorded profile of column {bad!r} is not one gitml writes")
    if rows is None or rows < 0 or columns is None:
        raise BadInput("the recorded profile has no row count or no columns")
    for name, column in columns.items():
        if not _column_ok(column, rows):
            raise BadInput(f"the recorded profile of column {name!r} is not one gitml writes")
    return columns


def _column_ok(column: ColumnProfile, rows: int) -> bool:
    if misfits(column) or (column.nulls or 0) < 0:
        return False
    if column.quantiles is not None and not _quartiles(column.quantiles):
        return False
    hist = column.histogram
    if hist is not None and not _histogram_ok(hist, rows, column.nulls or 0):
        return False
    return all(_counts(c) for c in (column.values, column.top) if c is not None)


def _histogram_ok(hist: Histogram, rows: int, nulls: int) -> bool:
    """Edges rising, a count per bin, exact points, and every row in one bin."""
    edges, counts, points = hist.edges, hist.counts, hist.points
    if misfits(hist) or edges is None or counts is None or points is None:
        return False
    if not _figures(edges) or any(a >= b for a, b in itertools.pairwise(edges)):
        return False
    if len(counts) != max(len(edges) - 1, 1) + 2 or not all(map(_count, counts)):
        return False
    if not (_counts(points) and all(map(_point, points))):
        return False
    return nulls + sum(counts) + sum(points.values()) == rows


def _count(value: Json) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _counts(value: dict[str, int]) -> bool:
    return all(map(_count, value.values()))


def _figure(value: Json) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer no float holds
        return False


def _figures(values: list[float]) -> bool:
    """A non-empty list of finite numbers."""
    return bool(values) and all(map(_figure, values))


def _quartiles(values: list[float]) -> bool:
    """Finite numbers, but for nulls at either end: the infinite quantiles of a column that
    held infinities, as gitml wrote them before histograms (gitml.drift.recorded_quartiles)."""
    if not isinstance(values, list):
        return False
    ends = [i for i, v in enumerate(values) if v is not None]
    if not ends or any(v is None for v in values[ends[0] : ends[-1] + 1]):
        return False
    return _figures(values[ends[0] : ends[-1] + 1])


def _point(key: str) -> bool:
    try:
        return not math.isnan(float(key))
    except (TypeError, ValueError):
        return False
