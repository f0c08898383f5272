"""gitml/expectations.py on a big frame: each group of expectations judged by GX on the columns
it reads gives what the whole frame gives (verdicts, counts, failed rows and where their values
are), in process with real great-expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml import datareaders, expectations
from gitml.datareaders import Source

CSV = (
    "id,price,colour,visits,note\n"
    + "".join(
        f"u{i},{'' if i % 7 == 0 else 10 + i % 13},{['red', 'blue', 'teal'][i % 3]},"
        f"{'' if i % 5 == 0 else i % 9},{'x' if i % 2 else ''}\n"
        for i in range(300)
    )
    + "u300,9999,purple,,y\n"
)

SUITE = {
    "name": "s",
    "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "price"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "price", "min_value": 0, "max_value": 100, "mostly": 0.99},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "colour", "value_set": ["red", "blue", "teal"]},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": "visits",
                "min_value": 0,
                "max_value": 5,
                "row_condition": 'colour=="red"',
                "condition_parser": "pandas",
            },
        },
        {
            "type": "expect_column_pair_values_a_to_be_greater_than_b",
            "kwargs": {
                "column_A": "price",
                "column_B": "visits",
                "ignore_row_if": "either_value_is_missing",
            },
        },
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_to_exist", "kwargs": {"column": "gone"}},
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": ["id", "price", "colour", "visits", "note", "gone"]},
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "note", "mostly": 0.4},
        },
    ],
}


def test_column_groups_read_only_their_columns_and_the_rest_the_whole_frame() -> None:
    groups = expectations.column_groups(SUITE, ["id", "price", "colour", "visits", "note"])
    assert groups == [
        (None, [0, 4, 7, 8]),  # table-level, a row condition, a column the frame lacks
        (["price"], [1, 2]),
        (["colour"], [3]),
        (["price", "visits"], [5]),
        (["id"], [6]),
        (["note"], [9]),
    ]


def test_a_big_frame_judged_by_column_groups_gives_what_the_whole_frame_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    frame = datareaders.read_frame([Source("d.csv", path)], ["csv"], {})
    whole = expectations.run_gx("s.json", SUITE, frame)
    monkeypatch.setattr(expectations, "NARROW_FROM_BYTES", 0)
    grouped = expectations.run_gx("s.json", SUITE, frame)
    assert grouped == whole
    evaluated, failed, rows = whole
    assert evaluated == 10
    # the premise: failures of a column, a row condition and the table's columns (the range
    # holds for `mostly` of the values); values located in the file
    assert [r["index"] for r in rows] == [1, 3, 4, 7, 8]
    assert failed == len(rows)
    colour = rows[1]
    assert colour["unexpected_rows"] == [{"file": None, "row": 301}]
