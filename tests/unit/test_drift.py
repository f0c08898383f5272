"""gitml/drift.py: PSI and the per-column comparison on small frames, in process."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gitml import drift
from gitml.errors import BadInput
from gitml.frame import Frame, frame_of
from gitml.lockprofile import Profile
from gitml.profile import profile_of
from gitml.records import read_record


def frame(columns: dict[str, list[Any]]) -> Frame:
    import pandas as pd

    return frame_of(pd.DataFrame(columns), [0], ["d.csv"])


def recorded(then: Frame) -> Profile:
    """The profile validation records of `then`, as gitml.lock's records."""
    return read_record(Profile, profile_of(then))


def compared(then: Frame, now: Frame) -> dict[str, drift.ColumnDrift]:
    return {c.column: c for c in drift.compare(now.df, now.dtypes, recorded(then))}


def test_psi_floors_empty_bins_and_verdicts_follow_the_thresholds() -> None:
    assert drift.psi([1.0, 0.0], [1.0, 0.0]) == 0
    eps = drift.EPS
    assert drift.psi([1.0, 0.0], [0.0, 1.0]) == pytest.approx(2 * (1 - eps) * math.log(1 / eps))
    assert drift.shares([1, 3], 4) == [0.25, 0.75]
    assert [drift.verdict(v) for v in (0.0, 0.1, 0.2499, 0.25)] == [
        "stable",
        "shift",
        "shift",
        "drift",
    ]
    assert drift.verdict(0.2, threshold=0.15) == "drift"


def test_the_same_data_is_stable_with_psi_exactly_zero() -> None:
    data = {
        "x": [i * 0.37 for i in range(200)],
        "label": [i % 3 for i in range(200)],
        "colour": ["red", "green", "blue", "red"] * 50,
        "empty": [math.nan] * 200,  # a number column with no values
    }
    found = compared(frame(data), frame(data))
    assert {c: (f.kind, f.psi, f.verdict) for c, f in found.items()} == {
        "x": ("number", 0.0, "stable"),
        "label": ("values", 0.0, "stable"),
        "colour": ("category", 0.0, "stable"),
        "empty": ("nulls", 0.0, "stable"),
    }


def test_schema_changes_are_drift_without_psi() -> None:
    then = frame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    now = frame({"a": ["1", "2", "3"], "c": [1, 2, 3]})
    found = compared(then, now)
    assert found["a"].kind == "dtype" and found["a"].detail.startswith("dtype int64 -> ")
    assert (found["b"].kind, found["b"].detail) == ("missing", "the column is gone")
    assert (found["c"].kind, found["c"].detail) == ("new", "not in the recorded data")
    assert {f.psi for f in found.values()} == {None}
    assert {f.verdict for f in found.values()} == {"drift"}


def test_a_null_turning_ints_into_floats_is_judged_by_psi() -> None:
    then = frame({"n": list(range(100))})
    now = frame({"n": [*range(99), None]})
    found = compared(then, now)["n"]
    assert found.kind == "number" and found.psi is not None and found.verdict == "stable"
    assert "nulls 0.0% -> 1.0%" in found.detail


def test_new_categories_are_named_in_the_detail() -> None:
    then = frame({"colour": ["red"] * 50 + ["blue"] * 50})
    now = frame({"colour": ["red"] * 20 + ["mauve"] * 50 + ["teal"] * 30})
    found = compared(then, now)["colour"]
    assert found.verdict == "drift"
    assert found.detail == "other values 0.0% -> 80.0% (new: mauve, teal)"
    assert found.as_json()["psi"] == round(found.psi or 0, 4)


def test_values_the_reference_held_beyond_its_top_values_are_not_called_new() -> None:
    # The profile keeps the top values (and any holding 5%): the rare ones were there, unnamed.
    colours = ["red", "green", "blue", "grey", "pink", "black"]
    then = frame({"colour": [c for c in colours for _ in range(18)] + ["mauve", "teal"]})
    now = frame({"colour": ["mauve"] * 50 + ["teal"] * 30 + ["red"] * 20})
    found = compared(then, now)["colour"]
    assert found.verdict == "drift" and "new" not in found.detail
    assert found.detail.endswith("(most frequent of them now: mauve, teal)")


def test_no_rows_is_bad_input() -> None:
    then = frame({"a": [1, 2]})
    with pytest.raises(BadInput, match="no rows to compare: the data now"):
        drift.compare(then.df.iloc[:0], then.dtypes, recorded(then))
    with pytest.raises(BadInput, match="the recorded profile has no row count or no columns"):
        drift.compare(then.df, then.dtypes, Profile(rows=2))
