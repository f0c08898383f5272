"""gitml/validation_text.py: a failed expectation (a row as gitml.expectations makes it from GX's
result) as the hook and `gitml validate` print it; in process, no GX. Rows made by real GX, end
to end: tests/test_validation.py."""

from __future__ import annotations

from typing import Any

import pytest

from gitml.validation_text import percent, table


def _row(expectation: str, kwargs: dict[str, Any], **result: Any) -> dict[str, Any]:
    measured: dict[str, Any] = dict.fromkeys(
        (
            "element_count",
            "missing_count",
            "unexpected_count",
            "unexpected_percent",
            "unexpected_percent_total",
            "observed_value",
            "partial_unexpected_list",
        )
    )
    measured.update(result)
    return {
        "index": 0,
        "expectation": expectation,
        "column": kwargs.get("column"),
        "kwargs": kwargs,
        "result": measured,
        "unexpected_rows": None,
        "short_of_mostly": None,
        "error": None,
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [(7.38255, "7.38%"), (100.0, "100%"), (20.0, "20%"), (0.5, "0.5%"), (0.001, "<0.01%")],
)
def test_a_share_is_given_to_two_decimals(value: float, shown: str) -> None:
    assert percent(value) == shown


def test_within_mostly_and_without_missing_counts() -> None:
    """A failed expectation whose share is within `mostly` (GX failed it for another reason)
    says so; an expectation GX counts no missing values for (not_null) says `values`."""
    row = _row(
        "expect_column_values_to_be_in_set",
        {"column": "b", "value_set": ["x"], "mostly": 0.5},
        element_count=10,
        missing_count=0,
        unexpected_count=2,
        unexpected_percent=20.0,
    )
    row["short_of_mostly"] = False
    assert "2 of 10 non-missing values unexpected (20%), within the 50% mostly=0.5 allows" in (
        table([row])
    )
    nulls = _row(
        "expect_column_values_to_not_be_null",
        {"column": "a"},
        element_count=4,
        unexpected_count=1,
        unexpected_percent=25.0,
        partial_unexpected_list=[None],
    )
    assert table([nulls]) == (
        "  a: expect_column_values_to_not_be_null\n"
        "      1 of 4 values unexpected (25%)\n"
        "      unexpected values: null"
    )


def test_names_and_values_from_the_data_are_escaped_and_cut() -> None:
    """A column name or a value holding a newline or an escape sequence is shown JSON-quoted;
    a long value set is cut (--json has it whole); Spark's values come without rows."""
    row = _row(
        "expect_column_values_to_be_in_set",
        {"column": "a\nb", "value_set": [f"label{i}" for i in range(20)]},
        element_count=3,
        missing_count=0,
        unexpected_count=3,
        unexpected_percent=100.0,
        partial_unexpected_list=["\x1b[2J", "x" * 40, 7],
    )
    text = table([row])
    assert text.splitlines()[0] == (
        '  "a\\nb": expect_column_values_to_be_in_set  '
        'value_set=["label0", "label1", "label2", "label3", "label4", "label...'
    )
    assert text.splitlines()[-1] == (
        '      unexpected values: "\\u001b[2J", "' + "x" * 26 + "..., 7"
    )
    assert "\x1b" not in text and len(text.splitlines()) == 3


def test_errors_observed_values_and_table_columns() -> None:
    missing = _row("expect_column_mean_to_be_between", {"column": "z", "min_value": 0})
    missing["error"] = 'column "z" is not in the data'
    columns = _row(
        "expect_table_columns_to_match_ordered_list",
        {"column_list": ["a", "b"]},
        observed_value=["a", "c"],
    )
    count = _row("expect_table_row_count_to_be_between", {"min_value": 5}, observed_value=3)
    assert table([missing, columns, count]).splitlines() == [
        "  z: expect_column_mean_to_be_between  min_value=0",
        '      error: column "z" is not in the data',
        '  (table): expect_table_columns_to_match_ordered_list  column_list=["a", "b"]',
        '      observed columns missing ["b"]; new columns ["c"]',
        "  (table): expect_table_row_count_to_be_between  min_value=5",
        "      observed 3",
    ]
