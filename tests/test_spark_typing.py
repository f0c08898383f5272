"""Spark's CSV parser reads number columns straight into numbers while it fills the cache
(gitml.sparkcsv.typed_while_kept, issue 19): every row it cannot parse so (missing-value
markers, spaces, a word) is parsed again as text. The data read so must be what reading the
text and casting it gives, and what pandas types. Starts Spark: `slow`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_spark import spark  # noqa: F401 - the session fixture

from gitml import datareaders, sparkcsv, sparkread
from gitml.datareaders import Source
from gitml.errors import BadInput

pytestmark = pytest.mark.slow

# Values Spark's CSV parser cannot read as their column's kind, though pandas reads them so
# (missing-value markers, spaces, signs), in columns whose kind the first rows tell.
HELD = """whole,number,marked,text
1,2.5,NA,a
2,nan,-999,NA
NA,1e3,4,b
 4,Inf,5,
+5,-NaN,6,"c,d"
,N/A,7,e
7,"8",-999,f
"""
# And values that disprove the kind the first rows tell, past those rows: a word, a decimal.
LATE = sparkcsv.TYPE_SAMPLE_ROWS + 100
DISPROVED = "whole,late_word,late_decimal\nNA,0,0\n" + "".join(
    f"{i},{'eleven' if i == LATE else i},{'5.5' if i == LATE + 1 else i}\n"
    for i in range(1, LATE + 3)
)


def _rows(df: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in df.collect()), key=repr)


def _read_both_ways(session: Any, path: Path, options: dict[str, Any], held: bool) -> Any:
    """The file read by `read_kept` (numbers parsed while the cache fills; `held`: in one
    reading), checked against `read` (text cast) and pandas' dtypes; returns its rows."""
    from pyspark import StorageLevel

    as_text = sparkread.read(session, [str(path)], "csv", options, "t")
    read_again: list[int] = []
    by_counts = sparkcsv.typed_by_counts

    def again(*args: Any) -> Any:
        read_again.append(1)
        return by_counts(*args)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sparkcsv, "typed_by_counts", again)
        kept_df, kept = sparkread.read_kept(
            session, [str(path)], "csv", options, "t", StorageLevel.MEMORY_ONLY
        )
    assert bool(read_again) is not held  # held: in one reading; else the guess was disproved
    assert kept_df.schema == as_text.schema
    assert _rows(kept_df) == _rows(as_text)
    frame = datareaders.read_frame([Source("data/t.csv", path)], ["csv"], options)
    spark_dtypes = {f.name: sparkread.pandas_dtype(f.dataType) for f in kept_df.schema.fields}
    assert spark_dtypes == frame.dtypes
    rows = kept_df.collect()
    kept.unpersist()
    return rows


@pytest.mark.parametrize(
    "options",
    [{}, {"na_values": ["-999"]}, {"keep_default_na": False}, {"na_values": "e"}],
    ids=["pandas-markers", "a-number-as-marker", "no-default-markers", "a-word-as-marker"],
)
def test_a_csv_parsed_into_numbers_reads_as_its_text_cast(
    spark: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    options: dict[str, Any],
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(HELD)
    as_text = sparkread.read(spark, [str(path)], "csv", options, "t")
    # without pandas' default markers an empty field is text, which Spark's parser cannot
    # keep: such a file is read as text and counted (gitml.sparkread.read_kept)
    rows = _read_both_ways(spark, path, options, held=sparkcsv.empty_is_null(options))
    if not options:  # what pandas reads, value by value
        assert [f.dataType.simpleString() for f in as_text.schema.fields] == [
            "double",
            "double",
            "double",
            "string",
        ]
        assert [(r["whole"], r["number"], r["marked"], r["text"]) for r in rows] == [
            (1.0, 2.5, None, "a"),
            (2.0, None, -999.0, None),
            (None, 1000.0, 4.0, "b"),
            (4.0, float("inf"), 5.0, None),
            (5.0, None, 6.0, "c,d"),
            (None, None, 7.0, "e"),
            (7.0, 8.0, -999.0, "f"),
        ]


def test_a_kind_disproved_past_the_first_rows_is_read_again(
    spark: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(DISPROVED)
    rows = _read_both_ways(spark, path, {}, held=False)
    words = {r["late_word"] for r in rows}
    assert "eleven" in words and str(LATE + 1) in words
    decimals = [r["late_decimal"] for r in rows]
    assert 5.5 in decimals and float(LATE + 2) in decimals


@pytest.mark.parametrize("row", [3, 1500], ids=["in-the-first-rows", "past-them"])
def test_a_row_of_too_many_fields_is_refused_when_parsed_into_numbers(
    spark: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    row: int,
) -> None:
    """Refused as pandas refuses it, whether the first rows show it or the pass that fills
    the cache finds it (a malformed row, not a JVM out of memory: its error passes through
    Spark's MemoryStore)."""
    from pyspark import StorageLevel

    lines = [f"{i},{i}.5" for i in range(2000)]
    lines[row] += ",9"
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "\n".join(lines) + "\n")
    with pytest.raises(BadInput) as refused:
        sparkread.read_kept(spark, [str(path)], "csv", {}, "t", StorageLevel.MEMORY_ONLY)
    assert str(refused.value).startswith("t: Spark cannot read it (")
    assert "Malformed" in str(refused.value)
