"""Drift, property-based: columns of many shapes (zero-inflated, one dominant value, heavy ties,
all null, a single value, booleans, datetimes, high-cardinality text, mixed types read as
object), profiled as validation profiles them and read back from YAML as gitml.lock holds them.

- the same data gives PSI exactly 0 and "stable" for every column;
- another sample of the same distribution (n >= 10,000) stays under the drift threshold;
- a real shift (location, scale, more nulls, a new category) goes over it;
- gitml's PSI equals a textbook PSI written here, on the recorded bins, within 1e-9.

In-process on gitml/drift.py and gitml/profile.py: no repository, no subprocess.
"""

from __future__ import annotations

import bisect
import math
import os
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from gitml import drift
from gitml.fileio import dump_yaml, load_yaml
from gitml.frame import Frame, normalize
from gitml.lockprofile import Profile
from gitml.profile import profile_of
from gitml.records import read_record

SCALE = int(os.environ.get("GITML_DRIFT_EXAMPLES", "1"))  # more examples: a longer hunt
SETTINGS = settings(
    deadline=None,
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NUMBER_FAMILIES = ("normal", "zero_inflated", "dominant", "counts")
FAMILIES = (
    *NUMBER_FAMILIES,
    "constant",
    "all_null",
    "boolean",
    "datetime",
    "datetime_text",
    "text_ids",
    "category",
    "mixed",
)
EPS = 1e-4  # the textbook reference floors every share at this, as gitml documents


@dataclass(frozen=True)
class Family:
    """A distribution of one column; `sample(seed, n)` draws n rows of it."""

    name: str
    loc: float = 0.0
    scale: float = 1.0
    share: float = 0.5  # of zeros (zero_inflated), of the dominant value, of the first category
    decimals: int | None = None
    size: int = 5  # categories, distinct ids, Poisson mean
    nulls: float = 0.0

    def sample(self, seed: int, n: int) -> Any:
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(seed)
        values: Any
        if self.name == "normal":
            values = rng.normal(self.loc, self.scale, n)
        elif self.name == "zero_inflated":
            values = np.where(rng.random(n) < self.share, 0.0, rng.gamma(1.5, self.scale, n))
        elif self.name == "dominant":
            other = rng.normal(self.loc, self.scale, n)
            values = np.where(rng.random(n) < self.share, self.loc, other)
        elif self.name == "counts":
            values = rng.poisson(self.size, n)
        elif self.name == "constant":
            values = np.full(n, self.loc)
        elif self.name == "all_null":
            values = np.full(n, np.nan)
        elif self.name == "boolean":
            values = rng.random(n) < self.share
        elif self.name in ("datetime", "datetime_text"):
            days = rng.integers(0, self.size * 30, n)
            values = pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")
            values = values.strftime("%Y-%m-%d") if self.name == "datetime_text" else values
        elif self.name == "text_ids":
            values = np.char.add("id-", rng.integers(0, self.size * 1000, n).astype(str))
        elif self.name == "category":
            names = [f"c{i}" for i in range(self.size)]
            rest = (1 - self.share) / max(self.size - 1, 1)
            p = [self.share] + [rest] * (self.size - 1) if self.size > 1 else [1.0]
            values = rng.choice(names, n, p=p)
        else:  # mixed: ints, floats and text in one object column
            pool = np.array([1, 2, 2.5, "a", "b", "10", 7, "x y"], dtype=object)
            values = rng.choice(pool, n)
        if self.decimals is not None and self.name in ("normal", "zero_inflated", "dominant"):
            values = np.round(values, self.decimals)
        s = pd.Series(values)
        if self.nulls:
            s = s.where(rng.random(n) >= self.nulls, None)
        return s


@st.composite
def families(draw: Any, names: tuple[str, ...] = FAMILIES) -> Family:
    name = draw(st.sampled_from(names))
    return Family(
        name=name,
        loc=draw(st.sampled_from([0.0, 1.0, -3.5, 1234567.0, 1e-7, 1e12])),
        scale=draw(st.sampled_from([1e-3, 0.5, 1.0, 20.0, 1e4])),
        share=draw(st.floats(0.3, 0.995)),
        decimals=draw(st.sampled_from([None, None, 0, 1, 3])),
        size=draw(st.integers(1, 40) if name != "category" else st.integers(1, 5)),
        nulls=draw(st.sampled_from([0.0, 0.0, 0.05, 0.3])),
    )


def frame_of(columns: dict[str, Any]) -> Frame:
    """The frame gitml reads (dtypes as read, text columns as objects)."""
    import pandas as pd

    df = pd.DataFrame(columns)
    dtypes = {str(c): str(df[c].dtype) for c in df.columns}
    return Frame(df=normalize(df), dtypes=dtypes)


def recorded(frame: Frame) -> dict[str, Any]:
    """validation's profile as a later `gitml drift` reads it: through gitml.lock's YAML."""
    return load_yaml(dump_yaml(profile_of(frame)))


def compared(then: Frame, now: Frame) -> dict[str, drift.ColumnDrift]:
    found = drift.compare(now.df, now.dtypes, read_record(Profile, recorded(then)))
    return {c.column: c for c in found}


# --- the same data: PSI exactly 0 ------------------------------------------------------------


@settings(SETTINGS, max_examples=50 * SCALE)
@given(
    st.lists(families(), min_size=1, max_size=4),
    st.integers(1, 3000),
    st.integers(0, 2**32 - 1),
)
def test_identical_data_is_stable_with_psi_zero(cols: list[Family], n: int, seed: int) -> None:
    frame = frame_of({f"c{i}": fam.sample(seed + i, n) for i, fam in enumerate(cols)})
    found = compared(frame, frame)
    assert all(f.psi == 0.0 and f.verdict == "stable" for f in found.values()), found


@settings(SETTINGS, max_examples=50 * SCALE)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, -0.0, 1.0, 5e-324, 1.7976931348623157e308, 1234567.0]),
        ),
        min_size=1,
        max_size=300,
    ),
    st.integers(1, 40),
)
def test_identical_adversarial_floats_give_zero(values: list[Any], repeat: int) -> None:
    """Subnormals, the largest float, infinities, -0.0, nulls, heavy repeats."""
    import numpy as np

    column = np.array([np.nan if v is None else v for v in values] * repeat, dtype=float)
    frame = frame_of({"x": column})
    found = compared(frame, frame)
    assert found["x"].psi == 0.0 and found["x"].verdict == "stable", found["x"]


# --- another sample of the same distribution: under the threshold ----------------------------


@settings(SETTINGS, max_examples=25 * SCALE)
@given(families(), st.integers(10_000, 20_000), st.integers(0, 2**32 - 1))
def test_a_resample_stays_under_the_threshold(fam: Family, n: int, seed: int) -> None:
    then = frame_of({"x": fam.sample(seed, n)})
    now = frame_of({"x": fam.sample(seed + 1, n)})
    found = compared(then, now)["x"]
    assert found.psi is not None and found.psi < drift.DRIFT, (fam, found)


# --- a real shift: over the threshold --------------------------------------------------------


def _shifted(s: Any, how: str, seed: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(seed)
    if how == "nulls":  # 30% more of the rows are null (30 points: 0% -> 30%, 30% -> 60%)
        present = float(s.notna().mean())
        return s.where(rng.random(len(s)) >= min(0.3 / present, 1.0), None)
    if how == "category":  # a new value in 30% of the rows
        s = s.astype(object)
        s[rng.random(len(s)) < 0.3] = "new-category"
        return s
    values = s.dropna().astype(float)
    if how == "location":  # one standard deviation (the whole value, for a constant column)
        std = float(values.std())
        return s + (std if std > 0 else max(abs(float(values.mean())), 1.0))
    if how == "scale":  # three times as spread around the median
        median = float(values.median())
        return (s - median) * 3 + median
    raise ValueError(how)


@st.composite
def shifts(draw: Any) -> tuple[Family, str]:
    how = draw(st.sampled_from(["location", "scale", "nulls", "category"]))
    if how == "category":
        return draw(families(("category", "boolean", "mixed"))), how
    if how == "nulls":
        return draw(families(tuple(f for f in FAMILIES if f != "all_null"))), how
    fam = draw(families((*NUMBER_FAMILIES, "constant")))
    # gitml.lock holds edges to 6 significant digits: a spread under ~1e-5 of the values'
    # magnitude (1234567 +- 0.001) falls between two edges, where no shift can be seen.
    assume(fam.name not in ("normal", "dominant") or fam.scale >= 1e-3 * abs(fam.loc))
    if how == "scale":
        # Spread the values, not a point mass: a column at least half continuous
        if fam.name in ("zero_inflated", "dominant"):
            fam = Family(**{**fam.__dict__, "share": min(fam.share, 0.5)})
        if fam.name == "constant":
            return fam, "location"
    return fam, how


@settings(SETTINGS, max_examples=40 * SCALE)
@given(shifts(), st.integers(10_000, 20_000), st.integers(0, 2**32 - 1))
def test_a_real_shift_goes_over_the_threshold(shift: tuple[Family, str], n: int, seed: int) -> None:
    fam, how = shift
    then = frame_of({"x": fam.sample(seed, n)})
    now = frame_of({"x": _shifted(fam.sample(seed + 1, n), how, seed)})
    found = compared(then, now)["x"]
    assert found.verdict == "drift", (fam, how, found)


# --- gitml's PSI against a textbook one, on the same bins -------------------------------------


def textbook_psi(expected: list[int], actual: list[int]) -> float:
    """PSI = sum over bins of (A - E) * ln(A / E), A and E the shares of the rows now and then,
    each share floored at EPS; written as the two Kullback-Leibler divergences it adds up."""
    e = [max(c / sum(expected), EPS) for c in expected]
    a = [max(c / sum(actual), EPS) for c in actual]
    kl_ae = sum(ai * math.log(ai / ei) for ai, ei in zip(a, e))
    kl_ea = sum(ei * math.log(ei / ai) for ai, ei in zip(a, e))
    return kl_ae + kl_ea


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def reference_number_counts(values: list[float | None], hist: dict[str, Any]) -> list[int]:
    """[nulls, below, each interval, above, each point] of the recorded histogram, one value
    at a time: a point if it equals one, else below e0, above the last edge, or in the first
    interval whose upper edge it does not pass (e0 itself in the first)."""
    edges = [float(e) for e in hist["edges"]]
    points = [float(k) for k in hist["points"]]
    intervals = max(len(edges) - 1, 1)
    counts = [0] * (1 + 1 + intervals + 1 + len(points))
    for v in values:
        if _missing(v):
            counts[0] += 1
        elif v in points:
            counts[3 + intervals + points.index(v)] += 1
        elif v < edges[0]:
            counts[1] += 1
        elif v > edges[-1]:
            counts[2 + intervals] += 1
        else:
            counts[2 + max(bisect.bisect_left(edges, v) - 1, 0)] += 1
    return counts


def reference_category_counts(values: list[Any], top: dict[str, int]) -> list[int]:
    counts = [0] * (len(top) + 2)
    keys = list(top)
    for v in values:
        if _missing(v):
            counts[0] += 1
        elif str(v) in top:
            counts[1 + keys.index(str(v))] += 1
        else:
            counts[-1] += 1
    return counts


def _seconds(v: Any) -> float | None:
    """A datetime as seconds since the epoch, to the microsecond (None for a missing one)."""
    import pandas as pd

    return None if _missing(v) else (pd.Timestamp(v).value // 1000) / 1e6


@settings(SETTINGS, max_examples=40 * SCALE)
@given(
    families(),
    st.sampled_from(["none", "location", "scale", "nulls"]),
    st.integers(100, 3000),
    st.integers(0, 2**32 - 1),
)
def test_psi_equals_the_textbook_formula(fam: Family, how: str, n: int, seed: int) -> None:
    """Every family: the bins drift compares (histogram, values, top values, or the share of
    nulls of a column that was all null), counted here one value at a time."""
    then_s = fam.sample(seed, n)
    now_s = fam.sample(seed + 1, n)
    if (how == "nulls" and fam.name != "all_null") or (
        how != "none" and fam.name in NUMBER_FAMILIES
    ):
        now_s = _shifted(now_s, how, seed)
    then, now = frame_of({"x": then_s}), frame_of({"x": now_s})
    profile = recorded(then)
    entry = profile["columns"]["x"]
    typed = read_record(Profile, profile)
    found = {c.column: c for c in drift.compare(now.df, now.dtypes, typed)}["x"]
    raw = now.df["x"].tolist()
    event(f"{fam.name}: {found.kind}")  # shown by --hypothesis-show-statistics
    if found.kind == "dtype":  # booleans then, with nulls now (object): no PSI to check
        assert found.psi is None and found.verdict == "drift"
        return
    if "histogram" in entry:
        hist = entry["histogram"]
        then_counts = [entry["nulls"], *hist["counts"], *hist["points"].values()]
        time = entry["dtype"].startswith("datetime")
        now_values = [_seconds(v) if time else None if _missing(v) else float(v) for v in raw]
        now_counts = reference_number_counts(now_values, hist)
    elif not any(k in entry for k in ("values", "top")):  # all null then: nulls or not
        nulls = sum(map(_missing, raw))
        then_counts, now_counts = [entry["nulls"], 0], [nulls, len(raw) - nulls]
    else:
        top = entry.get("values") or entry["top"]
        if "values" in entry:
            from gitml.profile import number_key

            raw = [None if _missing(v) else number_key(v) for v in raw]
        then_counts = [
            entry["nulls"],
            *top.values(),
            profile["rows"] - entry["nulls"] - sum(top.values()),
        ]
        now_counts = reference_category_counts(raw, top)
    assert sum(now_counts) == len(now.df)
    assert found.psi is not None
    assert abs(found.psi - textbook_psi(then_counts, now_counts)) < 1e-9, (fam, how, found)
