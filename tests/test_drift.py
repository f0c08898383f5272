"""Data drift against the recorded profile: PSI on real data read as gitml reads it, and
`gitml drift` end to end against a commit promoted to production."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import Example

from gitml import datareaders, drift
from gitml.datareaders import Source
from gitml.errors import BadInput
from gitml.frame import Frame
from gitml.lockprofile import ColumnProfile, Profile
from gitml.profile import histogram, histogram_counts, profile_of
from gitml.records import read_record


def _frame(tmp_path: Path, name: str, df: Any) -> Frame:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return datareaders.read_frame([Source(name, path)], ["csv"], {})


def _recorded(frame: Frame) -> Profile:
    """The profile validation records of `frame`, as gitml.lock's records."""
    return read_record(Profile, profile_of(frame))


def _coarse(lock: dict[str, Any]) -> bool:
    return read_record(Profile, lock["data"]["data/wine.csv"]["profile"]).coarse


def _verdicts(tmp_path: Path, then: Any, now: Any) -> dict[str, drift.ColumnDrift]:
    recorded = _recorded(_frame(tmp_path, "then.csv", then))
    current = _frame(tmp_path, "now.csv", now)
    return {c.column: c for c in drift.compare(current.df, current.dtypes, recorded)}


@pytest.fixture
def data() -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    n = 4000
    return pd.DataFrame(
        {
            "x": rng.normal(10, 2, n).round(3),
            "label": rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2]),
            "colour": rng.choice(["red", "green", "blue"], n),
        }
    )


def test_the_same_population_is_stable(tmp_path: Path, data: Any) -> None:
    import numpy as np

    # another sample of the same distributions
    rng = np.random.default_rng(8)
    other = data.copy()
    other["x"] = rng.normal(10, 2, len(data)).round(3)
    other["label"] = rng.choice([0, 1, 2], len(data), p=[0.5, 0.3, 0.2])
    other["colour"] = rng.choice(["red", "green", "blue"], len(data))
    for now in (data, other):
        found = _verdicts(tmp_path, data, now)
        assert {c: f.verdict for c, f in found.items()} == dict.fromkeys(found, "stable")
        assert all(f.psi is not None and f.psi < 0.02 for f in found.values()), found
    assert _verdicts(tmp_path, data, data)["label"].kind == "values"


def test_shifts_new_values_nulls_and_schema_changes_are_drift(tmp_path: Path, data: Any) -> None:
    now = data.copy()
    now["x"] = now["x"] + 2  # one standard deviation
    now.loc[: len(now) // 3, "label"] = 2  # the labels' mix changes
    now.loc[: len(now) // 4, "colour"] = "purple"  # a new category
    found = _verdicts(tmp_path, data, now)
    assert found["x"].verdict == "drift" and "-> 11.9" in found["x"].detail
    assert found["label"].verdict == "drift"
    assert found["colour"].verdict == "drift" and "purple" in found["colour"].detail

    nulls = data.copy()
    nulls.loc[: len(nulls) // 2, "x"] = None  # int/float stays a number: PSI judges the nulls
    assert _verdicts(tmp_path, data, nulls)["x"].verdict == "drift"
    assert "nulls 0.0% -> 50.0%" in _verdicts(tmp_path, data, nulls)["x"].detail

    schema = data.drop(columns=["colour"]).assign(extra=1)
    found = _verdicts(tmp_path, data, schema)
    assert (found["colour"].kind, found["colour"].verdict) == ("missing", "drift")
    assert (found["extra"].kind, found["extra"].verdict) == ("new", "drift")
    text = data.assign(x=data["x"].astype(str) + "kg")
    assert _verdicts(tmp_path, data, text)["x"].kind == "dtype"


def test_psi_of_known_shares() -> None:
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert drift.psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(
        0.4 * __import__("math").log(1.8) + -0.4 * __import__("math").log(0.2)
    )
    # ties: at least half the values are 1, a point bin of its own
    edges, tied, expected = drift.number_bins(
        ColumnProfile(quantiles=[1, 1, 1, 2, 3], nulls=10), 100
    )
    assert (edges, tied) == ([1.0, 2.0, 3.0], [True, False, False])
    assert expected == pytest.approx([0.1, 0.0, 0.9 * 0.5, 0.9 * 0.25, 0.9 * 0.25, 0.0])
    assert sum(expected) == pytest.approx(1)
    edges, tied, expected = drift.number_bins(ColumnProfile(quantiles=[4, 4, 4, 4, 4], nulls=0), 9)
    assert (edges, tied, expected) == ([4.0], [True], [0.0, 0.0, 1.0, 0.0])


def test_rounded_edges_ties_and_empty_columns(tmp_path: Path) -> None:
    """Figures recorded to 6 significant digits, zero-inflated columns, all-null columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 2000
    then = pd.DataFrame(
        {
            "epoch": 1_700_000_000 + rng.integers(0, 86_400 * 30, n),  # min/max get rounded
            "id": np.arange(1_234_567, 1_234_567 + n),
            "spend": np.where(rng.random(n) < 0.8, 0.0, rng.gamma(2, 10, n).round(2)),
            "empty": [None] * n,
        }
    )
    found = _verdicts(tmp_path, then, then)
    assert {c: f.verdict for c, f in found.items()} == dict.fromkeys(found, "stable"), found
    assert found["empty"].kind == "nulls"
    no_zeros = then.assign(spend=rng.gamma(2, 10, n).round(2) + 0.01, empty=1.0)
    found = _verdicts(tmp_path, then, no_zeros)
    assert found["spend"].verdict == "drift", found["spend"]  # quartiles alone would not see it
    assert found["empty"].verdict == "drift" and "100.0% -> 0.0%" in found["empty"].detail
    with pytest.raises(BadInput, match="no rows"):
        recorded = _recorded(_frame(tmp_path, "t.csv", then))
        drift.compare(then.iloc[:0], {}, recorded)


@pytest.mark.slow
def test_drift_against_production_end_to_end(example: Example) -> None:
    ex = example
    r = ex.gitml("drift", "data/wine.csv")
    assert r.returncode == 2 and "no model is in production yet" in r.stderr, r.stderr
    ex.without_model_checks()
    assert ex.gitml("suite", "init", "data/wine.csv").returncode == 0
    ex.git("add", "-A")
    r = ex.git("commit", "-q", "-m", "suite", check=False)
    assert r.returncode == 0, r.stderr
    assert ex.gitml("promote", "wine-classifier", "--to", "production").returncode == 0
    production = ex.head()

    alcohol = ex.lock()["data"]["data/wine.csv"]["profile"]["columns"]["alcohol"]
    assert set(alcohol["histogram"]) == {"edges", "counts", "points"}

    r = ex.gitml("drift", "data/wine.csv", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["rev"], doc["drift"], doc["rows"]) == (production, False, {"then": 178, "now": 178})
    assert (doc["path"], doc["read"], doc["coarse"]) == ("data/wine.csv", "data/wine.csv", False)
    kinds = {c["column"]: c["kind"] for c in doc["columns"]}
    assert kinds["target"] == "values" and kinds["alcohol"] == "number"
    # the same bytes: PSI exactly 0 in every column
    assert {(c["psi"], c["verdict"], c["coarse"]) for c in doc["columns"]} == {
        (0.0, "stable", False)
    }

    # serving data exported from production, not in DVC: outside the work tree, and inside it
    wine = ex.root / "data" / "wine.csv"
    import pandas as pd

    df = pd.read_csv(wine)
    outside = ex.root.parent / "serving export.csv"
    shutil.copyfile(wine, outside)
    r = ex.gitml("drift", str(outside))
    assert r.returncode == 2 and "--dataset data/NAME.csv" in r.stderr, r.stderr
    r = ex.gitml("drift", str(outside), "--dataset", "data/wine.csv", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["path"], doc["read"], doc["drift"]) == ("data/wine.csv", str(outside), False)
    assert {c["psi"] for c in doc["columns"]} == {0.0}
    (ex.root / "exports").mkdir()
    df.assign(alcohol=df["alcohol"] + 2).to_csv(ex.root / "exports" / "today.csv", index=False)
    r = ex.gitml("drift", "exports/today.csv")
    assert r.returncode == 2 and "--dataset data/wine.csv" in r.stderr, r.stderr
    r = ex.gitml("drift", "exports/today.csv", "--dataset", "data/wine.csv")
    assert r.returncode == 1, r.stderr
    assert "exports/today.csv: drift in alcohol (vs production)" in r.stderr
    assert "exports/today.csv now (178 rows) vs data/wine.csv at production" in r.stdout
    r = ex.gitml("drift", str(outside), "--dataset", "data/nope.csv")
    assert r.returncode == 2 and "records no profile of data/nope.csv" in r.stderr

    os.chmod(wine, 0o644)
    df["alcohol"] = df["alcohol"] + 2
    df.to_csv(wine, index=False)
    r = ex.gitml("drift", "data/wine.csv")
    assert r.returncode == 1, r.stderr
    assert "drift in alcohol (vs production)" in r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("alcohol "))
    assert "drift" in line and "outside the recorded range" in line
    assert ex.gitml("drift", "data/wine.csv", "--against", "HEAD").returncode == 1
    assert ex.gitml("drift", "data/wine.csv", "--threshold", "50").returncode == 0

    r = ex.gitml("drift", "data/wine.csv", "--against", "HEAD~1")  # before the suite: no profile
    assert r.returncode == 2 and "records no profile of data/wine.csv" in r.stderr
    r = ex.gitml("drift", "data/wine.csv", "--against", "no-such-rev")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_a_profile_without_histograms_is_read_as_it_is_and_flagged_coarse(
    tmp_path: Path, data: Any
) -> None:
    """A gitml.lock written before histograms: quartile bins, `coarse` in the output."""
    import numpy as np

    rng = np.random.default_rng(5)
    then = data.assign(rain=np.where(rng.random(len(data)) < 0.65, 0.0, rng.gamma(1, 5, len(data))))
    frame = _frame(tmp_path, "then.csv", then)
    doc = profile_of(frame)
    for entry in doc["columns"].values():
        entry.pop("histogram", None)
    profile = read_record(Profile, doc)
    found = {c.column: c for c in drift.compare(frame.df, frame.dtypes, profile)}
    assert profile.coarse and (found["x"].coarse, found["rain"].coarse) == (True, True)
    assert found["rain"].psi > 0.1  # what issue 19 saw: quartiles cannot place the zeros
    assert (found["label"].coarse, found["colour"].coarse) == (False, False)
    assert found["label"].psi == found["colour"].psi == 0.0
    assert found["x"].as_json()["coarse"] is True and "coarse" in found["x"].detail
    new = {c.column: c for c in drift.compare(frame.df, frame.dtypes, _recorded(frame))}
    assert {c.psi for c in new.values()} == {0.0} and not any(c.coarse for c in new.values())


def test_an_infinite_quartile_written_as_null_before_histograms_is_read_as_infinite(
    tmp_path: Path, data: Any
) -> None:
    """Before histograms gitml wrote a quartile that was not finite as null (the maximum of a
    column that holds inf: [q0 .. q3, null]; the minimum of one that holds -inf: [null, q1 ..
    q4]; pandas computes them as inf or, between infinities, nan). Such a lock is compared, its
    null read as that infinity: the rows at inf fall in the top quarter (or in the point bin
    of an infinity two quartiles share), not outside the recorded range; the same data is
    stable."""
    import numpy as np

    # every 10th row inf; every 10th -inf; every 3rd inf (two quartiles: a tied edge, its point)
    for step, sign, nulls in ((10, 1, [4]), (10, -1, [0]), (3, 1, [3, 4])):
        x = data["x"].to_numpy(dtype=float).copy()
        x[::step] = sign * np.inf
        frame = _frame(tmp_path, "inf.csv", data.assign(x=x))
        q: list[float | None] = [float(v) for v in frame.df["x"].quantile([0, 0.25, 0.5, 0.75, 1])]
        assert [i for i, v in enumerate(q) if not np.isfinite(v)] == nulls  # inf, or nan
        q = [v if np.isfinite(v) else None for v in q]  # as gitml.lock held them
        column = {"dtype": "float64", "nulls": 0, "mean": None, "std": None, "quantiles": q}
        profile = read_record(Profile, {"rows": len(frame.df), "columns": {"x": column}})
        found = drift.compare(frame.df[["x"]], frame.dtypes, profile)[0]
        assert (found.coarse, found.verdict) == (True, "stable"), found
        assert "outside the recorded range 0.0%" in found.detail, found.detail


@pytest.mark.slow
def test_a_coarse_profile_is_recorded_again_when_the_lock_is_rewritten(example: Example) -> None:
    """A gitml.lock of a gitml before histograms: the next commit that rewrites the lock
    validates the unchanged data again and records histograms (drift then gives PSI 0)."""
    import yaml

    ex = example
    ex.without_model_checks()
    assert ex.gitml("suite", "init", "data/wine.csv").returncode == 0
    ex.git("add", "-A")
    assert ex.git("commit", "-q", "-m", "suite", check=False).returncode == 0
    lock = ex.lock()
    for entry in lock["data"]["data/wine.csv"]["profile"]["columns"].values():
        entry.pop("histogram", None)
    (ex.root / "gitml.lock").write_text(
        "schema: gitml.lock/1\n" + yaml.safe_dump({k: v for k, v in lock.items() if k != "schema"})
    )
    ex.git("add", "gitml.lock")
    ex.git("commit", "-q", "--no-verify", "-m", "a lock of an older gitml")
    assert _coarse(ex.lock())
    cfg = ex.root / "gitml.yaml"
    cfg.write_text(cfg.read_text() + "# the lock is rewritten\n")
    ex.git("add", "gitml.yaml")
    r = ex.git("commit", "-q", "-m", "config", check=False)
    assert r.returncode == 0, r.stderr
    lock = ex.lock()
    assert (
        not _coarse(lock)
        and "histogram" in lock["data"]["data/wine.csv"]["profile"]["columns"]["alcohol"]
    )
    r = ex.gitml("drift", "data/wine.csv", "--against", "HEAD", "--json")
    assert r.returncode == 0, r.stderr
    assert {(c["psi"], c["coarse"]) for c in json.loads(r.stdout)["columns"]} == {(0.0, False)}


def test_datetimes_are_binned_identical_ones_give_psi_0_and_a_shift_drifts() -> None:
    """A datetime column is recorded as a histogram of its seconds since the epoch (whatever
    its resolution or time zone): the same dates give PSI 0, dates a year later drift."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    start = pd.Timestamp("2024-01-01")
    seconds = rng.integers(0, 365 * 86400, 5000)
    at = pd.Series(start + pd.to_timedelta(seconds, unit="s"))
    at[rng.random(5000) < 0.1] = pd.NaT
    frames = {
        "ns": at.astype("datetime64[ns]"),
        "us": at.astype("datetime64[us]"),
        "utc": at.dt.tz_localize("UTC"),
    }
    for name, values in frames.items():
        df = pd.DataFrame({"at": values})
        frame = Frame(df=df, dtypes={"at": str(values.dtype)})
        doc = profile_of(frame)
        profile = read_record(Profile, doc)
        entry = doc["columns"]["at"]
        assert set(entry) == {"dtype", "nulls", "histogram"}, name
        assert entry["nulls"] == int(values.isna().sum())
        assert 1.7e9 < entry["histogram"]["edges"][0] < 1.71e9, name  # seconds, 2024
        found = drift.compare(df, frame.dtypes, profile)
        assert [(c.psi, c.verdict) for c in found] == [(0.0, "stable")], name
        later = pd.DataFrame({"at": values + pd.Timedelta(days=365)})
        found = drift.compare(later, frame.dtypes, profile)
        assert found[0].verdict == "drift" and "mean" not in found[0].detail, name


def test_a_histogram_is_counted_with_its_rounded_edges() -> None:
    """Edges to 6 significant digits, the outer ones rounded away from the data; every value
    in one bin; a value holding 5% or more is a point bin."""
    import numpy as np

    values = np.array([1234567.0] * 30 + [1234568.0 + i for i in range(70)] + [np.inf])
    hist = histogram(values)
    assert hist["points"] == {"1234567": 30}
    assert hist["edges"][0] == 1234560.0 and hist["edges"][-1] == 1234640.0
    assert hist["counts"][0] == 0 and hist["counts"][-1] == 1  # the infinity is above
    assert sum(hist["counts"]) + 30 == len(values)
    counts, points = histogram_counts(values, hist["edges"], [1234567.0])
    assert (counts, points) == (hist["counts"], [30])


@pytest.mark.parametrize(
    "column",
    [
        {"dtype": "float64", "nulls": 0, "quantiles": ["a", 1]},
        {"dtype": "float64", "nulls": -1, "quantiles": [0, 1]},
        {"dtype": "float64", "nulls": 0, "quantiles": [0, float("nan")]},
        {"dtype": "float64", "nulls": 0, "quantiles": [0, None, 1]},  # null only at an end
        {"dtype": "float64", "nulls": 0, "quantiles": [None, None]},
        {"dtype": "int64", "nulls": 0, "quantiles": [0, 1], "values": {"0": "many"}},
        {"dtype": "str", "nulls": 0, "top": ["red"]},
        {"dtype": "float64", "nulls": 0, "histogram": {"edges": [1, 0], "counts": [0, 10, 0]}},
        {"dtype": "float64", "nulls": 0, "histogram": {"edges": [0, 1], "counts": [0, 9, 0]}},
        {
            "dtype": "float64",
            "nulls": 0,
            "histogram": {"edges": [0, 1], "counts": [0, 5, 0], "points": {"nan": 5}},
        },
        "not a mapping",
    ],
)
def test_a_hand_edited_profile_is_bad_input(tmp_path: Path, data: Any, column: Any) -> None:
    current = _frame(tmp_path, "now.csv", data)
    with pytest.raises(BadInput, match="'x' is not one gitml writes"):
        profile = read_record(Profile, {"rows": 10, "columns": {"x": column}})
        drift.compare(current.df, current.dtypes, profile)


def test_value_counts_are_recorded_only_for_few_valued_number_columns(tmp_path: Path) -> None:
    import pandas as pd

    n = 12_000
    df = pd.DataFrame(
        {
            "label": [i % 3 for i in range(n)],
            # 10 values in the first 10,000 rows, 20 in all: decided on the whole column
            "late": [i % 10 if i < 10_000 else 10 + i % 10 for i in range(n)],
            "x": [i * 0.5 for i in range(n)],
        }
    )
    columns = profile_of(_frame(tmp_path, "d.csv", df))["columns"]
    assert columns["label"]["values"] == {"0": 4000, "1": 4000, "2": 4000}
    assert "values" not in columns["late"] and "values" not in columns["x"]
