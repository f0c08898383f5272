"""gitml/profile.py: what gitml.lock records of a dataset, made in process (read back:
tests/unit/test_lockprofile.py)."""

from __future__ import annotations

from typing import Any

from gitml import profile
from gitml.frame import frame_of


def profiled(columns: dict[str, list[Any]]) -> dict[str, Any]:
    import pandas as pd

    return profile.profile_of(frame_of(pd.DataFrame(columns), [0], ["d.csv"]))


def test_each_kind_of_column_is_profiled() -> None:
    n = 100
    found = profiled(
        {
            "x": [i / 3 for i in range(n)],
            "label": [i % 2 for i in range(n)],
            "colour": ["red"] * 60 + [f"c{i}" for i in range(40)],
            "flag": [True, False] * 50,
        }
    )
    assert found["rows"] == n
    x, label, colour, flag = (found["columns"][c] for c in ("x", "label", "colour", "flag"))
    assert (x["dtype"], x["nulls"], x["mean"]) == ("float64", 0, 16.5)
    assert x["quantiles"] == [0.0, 8.25, 16.5, 24.75, 33.0]
    assert sum(x["histogram"]["counts"]) == n and x["histogram"]["points"] == {}
    assert label["values"] == {"0": 50, "1": 50} and "histogram" not in label
    # the five most frequent values, ties by value; no other value holds 5%
    assert colour["top"] == {"red": 60, "c0": 1, "c1": 1, "c10": 1, "c11": 1}
    assert flag["top"] == {"False": 50, "True": 50}


def test_a_value_of_five_percent_is_a_point_of_its_own() -> None:
    import numpy as np

    values = np.array([0.0] * 40 + [float(i) for i in range(1, 61)])
    hist = profile.histogram(values)
    assert hist["points"] == {"0": 40}
    assert hist["edges"][0] == 1.0 and hist["edges"][-1] == 60.0
    assert sum(hist["counts"]) == 60
    assert profile.histogram_counts(values, hist["edges"], [0.0]) == (hist["counts"], [40])


def test_number_keys_are_the_same_for_ints_and_floats() -> None:
    assert profile.number_key(3) == profile.number_key(3.0) == "3"
    assert profile.number_key(0.5) == "0.5"
