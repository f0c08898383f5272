"""gitml/profile.py: what gitml.lock records of a dataset, made in process (read back:
tests/unit/test_lockprofile.py)."""

from __future__ import annotations

from typing import Any

import pytest

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


def _top_by_sorting_all(values: Any) -> dict[str, int]:
    """The top values as gitml recorded them before issue 19 (every value's count as a Python
    pair, all sorted): what the counting of candidates must give."""
    counts = values.astype(str).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    n = len(values)
    return {
        str(k): int(v)
        for i, (k, v) in enumerate(ordered)
        if i < profile.TOP_VALUES or int(v) * profile.POINT_SHARE >= n
    }


@pytest.mark.parametrize("arrow", [True, False])
def test_top_values_counted_from_candidates_are_those_of_sorting_every_value(
    arrow: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ties at the fifth count (all values distinct, a few tied, some held by 5%), text that
    sorts by code point (`é` after `z`), booleans and mixed objects: the same top values with
    pyarrow counting text and without it."""
    import numpy as np
    import pandas as pd

    if not arrow:
        monkeypatch.setattr(profile, "_arrow_candidates", lambda values: None)
    rng = np.random.default_rng(3)
    ids = [f"u{i}" for i in rng.permutation(3000)]
    tied = ["é", "z", "a", "b", "c", "d", "e", "f"] * 3 + ["z", "zz", "zz"] + ["w"] * 40
    heavy = ["x"] * 500 + ["y"] * 200 + [f"v{i % 700}" for i in range(2300)]
    columns = {
        "ids": pd.Series(ids, dtype="str"),
        "tied": pd.Series(tied, dtype="str"),
        "heavy": pd.Series(heavy, dtype="str"),
        "one": pd.Series(["only"] * 7, dtype="str"),
        "flag": pd.Series(rng.random(50) < 0.3),
        "mixed": pd.Series([1, 1.0, True, "1", "a", None] * 5, dtype=object),
    }
    for name, s in columns.items():
        dtype = "str" if s.dtype == "str" else str(s.dtype)
        values = s.dropna()
        got = profile._top_values(profile._candidates(values, dtype), len(values))
        assert got == _top_by_sorting_all(values), name
        assert list(got) == list(_top_by_sorting_all(values)), name


def _histogram_by_copies(values: Any) -> dict[str, Any]:
    """The histogram as first written: the finite values sorted, the points' rows dropped
    from a copy, the counts by `histogram_counts` over every value."""
    import numpy as np

    finite = np.sort(values[np.isfinite(values)])
    points = profile._heavy_values(finite)
    rest = finite[~np.isin(finite, points)] if points else finite
    base = rest if len(rest) else finite
    m = len(base)
    edges = [0.0]
    if m:
        raw = [float(base[(i * (m - 1)) // profile.DECILES]) for i in range(profile.DECILES + 1)]
        edges = profile.edges_of(raw)
    counts, at_points = profile.histogram_counts(values, edges, points)
    keyed = {profile.number_key(p): c for p, c in zip(points, at_points, strict=True)}
    return {"edges": edges, "counts": counts, "points": keyed}


def test_a_histogram_read_from_one_sorted_copy_is_the_one_made_from_copies() -> None:
    """Issue 19 (memory): edges read past the points in place and counts by binary search
    give what copies and `histogram_counts` give: normal values, a few values, zero-inflated,
    one value, infinities, only points, huge magnitudes; sorted in place or not."""
    import numpy as np

    rng = np.random.default_rng(19)
    for trial in range(400):
        n = int(rng.integers(1, 300))
        values = [
            rng.normal(0, 1, n),
            rng.integers(0, 5, n).astype(float),
            np.where(rng.random(n) < 0.7, 0.0, rng.exponential(3, n).round(1)),
            np.full(n, 3.5),
            np.where(rng.random(n) < 0.2, np.inf * rng.choice([-1, 1], n), rng.normal(0, 1, n)),
            np.where(rng.random(n) < 0.5, np.inf, 1.0),
            rng.choice([1e300, -1e300, 0.1, 0.2], n),
        ][trial % 7]
        want = _histogram_by_copies(values)
        assert profile.histogram(values.copy()) == want, values
        assert profile.histogram(values.copy(), own=True) == want, values
