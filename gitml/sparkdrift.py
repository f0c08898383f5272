"""The data now, read through Spark, as gitml.drift measures it (its TableNow): nulls and means in one
pass, the count in every recorded histogram bin (timestamps as seconds since the epoch) of all
columns in another, the values of a column counted when drift asks for them. Counting follows
gitml.profile's rules (the bins of `histogram_counts`, the keys of `number_key`), so data identical
to what was profiled gives PSI 0 whichever engine recorded the profile.
"""

from __future__ import annotations

from typing import Any

from gitml import drift, sparkread, sparksession
from gitml.config import Dataset, SparkOptions
from gitml.lockprofile import Profile
from gitml.profile import number_key
from gitml.sparkcsv import quoted
from gitml.sparkprofile import as_numbers, bin_counts, counted_together, is_number


class SparkColumn:
    def __init__(self, table: SparkTable, name: str) -> None:
        self.table, self.name = table, name
        self.rows = table.rows

    def nulls(self) -> int:
        return self.table.nulls[self.name]

    def mean(self) -> float:
        mean = self.table.means.get(self.name)
        return float("nan") if mean is None else mean

    def is_number(self) -> bool:
        return is_number(self.table.df.schema[self.name].dataType)

    def bins(self, edges: list[float], points: list[float]) -> tuple[list[int], list[int]]:
        found = self.table.binned.get(self.name)
        if found is None:  # not asked for up front: counted now
            found = bin_counts(self.table.measured, {self.name: (edges, points)})[self.name]
        return found

    def keyed_counts(self, numbers: bool) -> dict[str, int]:
        from pyspark.sql import functions as F

        col = F.col(quoted(self.name))
        if not numbers and type(self.table.df.schema[self.name].dataType).__name__ == "BooleanType":
            col = F.when(col, F.lit("True")).otherwise(F.lit("False"))
        elif not numbers:
            col = col.cast("string")
        counts: dict[str, int] = {}
        grouped = self.table.df.where(col.isNotNull()).groupBy(col.alias("v")).count()
        for row in grouped.collect():
            key = number_key(row[0]) if numbers else str(row[0])
            counts[key] = counts.get(key, 0) + int(row[1])
        return counts

    def quartile_shares(self, edges: list[float], tied: list[bool]) -> list[float]:
        """gitml.drift.number_shares, counted by Spark: the same bins, the same rule."""
        from pyspark.sql import functions as F

        slot = _quartile_slot(F.col(quoted(self.name)), edges, tied)
        counts = counted_together(self.table.measured, {self.name: (slot, len(edges) * 2 + 2)})
        found, rows = counts[self.name], self.rows
        inner = max(len(drift.slots_of(tied)), 1)
        return [
            (rows - sum(found.values())) / rows,
            found.get(BELOW, 0) / rows,
            *(found.get(i, 0) / rows for i in range(inner)),
            found.get(ABOVE, 0) / rows,
        ]


BELOW, ABOVE = -1, -2  # the slots of values below the first edge and above the last


def _quartile_slot(col: Any, edges: list[float], tied: list[bool]) -> Any:
    """The bin of gitml.drift.number_shares of each value of `col` (its index among the
    inner slots, BELOW or ABOVE; null for a null), as a Spark column."""
    from pyspark.sql import functions as F

    slack = drift.edge_slacks(edges)
    point, interval = drift.quartile_slot_indexes(tied)
    found = F.when(col.isNull(), F.lit(None))
    found = found.when(col < F.lit(edges[0] - slack[0]), F.lit(BELOW))
    found = found.when(col > F.lit(edges[-1] + slack[-1]), F.lit(ABOVE))
    if len(edges) == 1:
        return found.otherwise(F.lit(0))
    for j, e in enumerate(edges):  # on an edge, the first one it is on
        on = (col == F.lit(e)) | (F.abs(col - F.lit(e)) <= F.lit(slack[j]))
        found = found.when(on, F.lit(point[j] if point[j] >= 0 else interval[j]))
    for j, e in enumerate(edges):  # else the interval up to the first edge above it
        found = found.when(col <= F.lit(e), F.lit(interval[j]))
    return found.otherwise(F.lit(interval[-1]))


class SparkTable:
    """A Spark DataFrame and, counted in one pass, what the recorded profile's bins need."""

    def __init__(self, df: Any, profile: Profile) -> None:
        from pyspark.sql import functions as F

        self.df = df
        # timestamps as seconds since the epoch: what a datetime column's histogram counts
        self.measured = as_numbers(df)
        self.columns = list(df.columns)
        numbers = [f.name for f in df.schema.fields if is_number(f.dataType)]
        binned = [f.name for f in self.measured.schema.fields if is_number(f.dataType)]
        exprs = [F.count(F.lit(1))]
        exprs += [F.count(F.when(F.col(quoted(c)).isNull(), 1)) for c in self.columns]
        exprs += [F.avg(F.col(quoted(c))) for c in numbers]
        row = df.agg(*exprs).first()
        self.rows = int(row[0])
        self.nulls = {c: int(row[1 + i]) for i, c in enumerate(self.columns)}
        means = [row[1 + len(self.columns) + j] for j in range(len(numbers))]
        # None: a column without values
        self.means = {
            c: None if m is None else float(m) for c, m in zip(numbers, means, strict=True)
        }
        self.binned = bin_counts(self.measured, _recorded_bins(profile, binned))

    def dtype(self, column: str) -> str | None:
        return sparkread.pandas_dtype(self.df.schema[column].dataType)

    def column(self, column: str) -> SparkColumn:
        return SparkColumn(self, column)


def _recorded_bins(
    profile: Profile, numbers: list[str]
) -> dict[str, tuple[list[float], list[float]]]:
    """(edges, points) of each recorded histogram whose column is a number column now."""
    return {
        c: column.histogram.layout()
        for c, column in (profile.columns or {}).items()
        if c in numbers and column.histogram is not None
    }


def table_now(
    dataset: Dataset, shown: str, locations: list[str], fmt: str, profile: Profile
) -> SparkTable:
    """The files at `locations` (`shown` in messages), read with the dataset's reader options."""
    from pyspark import StorageLevel

    spark = sparksession.session(dataset.spark or SparkOptions(), shown)
    # read once, counted in several passes
    df, _ = sparkread.read_kept(
        spark, locations, fmt, dataset.read, shown, StorageLevel.MEMORY_AND_DISK
    )
    with sparkread.spark_errors(shown):
        return SparkTable(df, profile)
