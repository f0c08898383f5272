"""gitml/lockprofile.py: a dataset's recorded profile read as records, written back as it was
(hand edits included), and checked before drift compares with it (in process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitml import lockfile
from gitml.errors import BadInput
from gitml.frame import frame_of
from gitml.lockprofile import ColumnProfile, Histogram, Profile, checked
from gitml.profile import profile_of
from gitml.records import misfits, plain, read_record

LOCKS = Path(__file__).parent / "locks"
DATA = "data/wine.csv"


def profiled(columns: dict[str, list[Any]]) -> dict[str, Any]:
    import pandas as pd

    return profile_of(frame_of(pd.DataFrame(columns), [0], ["d.csv"]))


def test_a_recorded_profile_is_read_as_records() -> None:
    lock = lockfile.parse((LOCKS / "validated.lock").read_bytes())
    profile = lock.data[DATA].profile
    assert profile is not None and profile.rows == 173 and profile.quantile_error is None
    alcohol = (profile.columns or {})["alcohol"]
    assert (alcohol.dtype, alcohol.nulls, alcohol.mean) == ("float64", 0, 12.9851)
    assert alcohol.histogram is not None and alcohol.histogram.points == {}
    edges, points = alcohol.histogram.layout()
    assert (edges[0], edges[-1], points) == (11.03, 14.83, [])
    assert alcohol.has_mean and not alcohol.coarse and not profile.coarse
    assert checked(profile) is profile.columns


def hand_edited() -> dict[str, Any]:
    """The validated lock's document with a profile no gitml wrote: wrong types, an unknown
    key, a Spark quantile error, a column of nulls only."""
    doc = yaml.safe_load((LOCKS / "validated.lock").read_bytes())
    profile = doc["data"][DATA]["profile"]
    profile["quantile_error"] = 0.001
    columns = profile["columns"]
    columns["alcohol"]["histogram"]["edges"] = "ten of them"
    columns["hue"]["top"] = ["red"]
    columns["hue"]["median"] = 1.0
    columns["empty"] = {"dtype": "float64", "nulls": 173, "std": None}
    return doc


def test_a_hand_edited_profile_is_kept_as_it_was() -> None:
    doc = hand_edited()
    lock = lockfile.from_document(doc)
    written = lockfile.serialize(lock)
    assert yaml.safe_load(written) == doc  # nothing lost, nothing added
    assert lockfile.serialize(lockfile.parse(written)) == written
    profile = lock.data[DATA].profile
    assert profile is not None and profile.quantile_error == 0.001
    columns = profile.columns or {}
    hist = columns["alcohol"].histogram
    assert hist is not None and hist.edges is None and misfits(hist) == ["edges"]
    assert columns["hue"].top is None and columns["hue"].extra == {"top": ["red"], "median": 1.0}
    assert plain(columns["empty"]) == {"dtype": "float64", "nulls": 173, "std": None}
    with pytest.raises(BadInput, match="column 'alcohol' is not one gitml writes"):
        checked(profile)


def test_columns_written_as_null_or_not_as_mappings_come_back_so() -> None:
    for columns in (None, {"x": "not a mapping"}):
        doc = yaml.safe_load((LOCKS / "validated.lock").read_bytes())
        doc["data"][DATA]["profile"]["columns"] = columns
        lock = lockfile.from_document(doc)
        assert yaml.safe_load(lockfile.serialize(lock)) == doc
        profile = lock.data[DATA].profile
        assert profile is not None and profile.columns is None
        assert profile.has_columns == (columns is not None)
    with pytest.raises(BadInput, match="column 'x' is not one gitml writes"):
        checked(profile)


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        ({"dtype": "float64", "nulls": 0, "quantiles": ["a", 1]}, "column 'x'"),
        ({"dtype": 64, "nulls": 0}, "column 'x'"),  # a known key of another type
        ({"dtype": "float64", "nulls": True}, "column 'x'"),
        ({"dtype": "str", "nulls": 0, "top": {"a": -1}}, "column 'x'"),
        ({"dtype": "float64", "nulls": 0, "histogram": {"edges": [0, 1]}}, "column 'x'"),
        ({"dtype": "float64", "nulls": 0, "histogram": [0, 1]}, "column 'x'"),
    ],
)
def test_a_profile_gitml_would_not_write_is_refused_naming_the_column(
    column: dict[str, Any], problem: str
) -> None:
    profile = read_record(Profile, {"rows": 10, "columns": {"x": column}})
    with pytest.raises(BadInput, match=f"the recorded profile of {problem} is not one gitml"):
        checked(profile)


def test_a_histogram_must_hold_every_row() -> None:
    good = read_record(Profile, profiled({"x": [float(i) for i in range(30)]}))
    assert checked(good) is good.columns
    short = read_record(Profile, {**plain(good), "rows": 31})
    with pytest.raises(BadInput, match="column 'x'"):
        checked(short)
    for rows in (None, -1, "30"):
        without_rows = read_record(Profile, {**plain(good), "rows": rows})
        with pytest.raises(BadInput, match="no row count or no columns"):
            checked(without_rows)


def test_quartiles_alone_are_coarse_and_a_datetime_has_no_mean() -> None:
    import pandas as pd

    doc = profiled({"x": [i / 3 for i in range(100)], "at": pd.date_range("2024", periods=100)})
    profile = read_record(Profile, doc)
    columns = profile.columns or {}
    assert not profile.coarse and columns["x"].has_mean and not columns["at"].has_mean
    old = {k: v for k, v in doc["columns"]["x"].items() if k != "histogram"}
    before_histograms = read_record(Profile, {**doc, "columns": {**doc["columns"], "x": old}})
    assert before_histograms.coarse and (before_histograms.columns or {})["x"].coarse
    made_now = ColumnProfile(dtype="float64", nulls=0, histogram=Histogram(edges=[0.0]))
    assert not made_now.coarse and plain(made_now)["histogram"] == {
        "edges": [0.0],
        "counts": None,
        "points": None,
    }
