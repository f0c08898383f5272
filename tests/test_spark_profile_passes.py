"""The Spark profile's cheaper passes (issue 19) record what the pandas engine records, within
the recorded rank error: a number column of few values takes its quantiles from its exact
counts, and one whose first rows hold few values but the rest many still gets its quantiles
from Spark's sketch, in a pass of its own. Starts Spark: `slow`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_spark import _same_profile_within_error, spark  # noqa: F401 - the session fixture

from gitml import datareaders, sparkprofile, sparkread
from gitml.datareaders import Source
from gitml.profile import profile_of

pytestmark = pytest.mark.slow


def test_few_values_and_many_values_past_the_first_rows(
    spark: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    n = 3000
    late = np.concatenate([rng.integers(0, 10, 1000), rng.normal(0, 5, n - 1000).round(3)])
    mid = np.where(rng.random(n) < 0.3, 5, rng.integers(0, 20, n))  # 20 values, one a point
    pd.DataFrame({"late": late, "mid": mid, "few": rng.integers(0, 3, n)}).to_csv(
        tmp_path / "t.csv", index=False
    )
    frame = datareaders.read_frame([Source("data/t.csv", tmp_path / "t.csv")], ["csv"], {})
    sketched: list[str] = []
    quantiles = sparkprofile._quantiles

    def spy(column: str) -> Any:
        sketched.append(column)
        return quantiles(column)

    monkeypatch.setattr(sparkprofile, "_quantiles", spy)
    df = sparkread.read(spark, [str(tmp_path / "t.csv")], "csv", {}, "t")
    by_spark = sparkprofile.profile_of(df)
    by_pandas = profile_of(frame)
    assert sketched == ["late"]  # the others' quantiles come from their exact counts
    assert "histogram" in by_spark["columns"]["mid"] and "values" in by_spark["columns"]["few"]
    assert "5" in by_spark["columns"]["mid"]["histogram"]["points"]
    _same_profile_within_error(by_pandas, by_spark, frame)


def test_columns_counted_in_groups_or_together_give_the_same_profile(
    spark: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counting by the combinations of a few columns' values (grouping sets) is exact however
    the columns are grouped: one group each, or all in one."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(8)
    n = 2000
    pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.2, 1.5, rng.normal(0, 1, n).round(2)),
            "k": rng.integers(0, 4, n),
            "label": rng.choice(["a", "b", "c"], n),
            "flag": rng.random(n) < 0.5,
        }
    ).to_csv(tmp_path / "t.csv", index=False)
    df = sparkread.read(spark, [str(tmp_path / "t.csv")], "csv", {}, "t")
    together = sparkprofile.profile_of(df)
    monkeypatch.setattr(sparkprofile, "GROUP_KEYS", 1)
    assert sparkprofile.profile_of(df) == together
    assert together["columns"]["x"]["histogram"]["points"]["1.5"] > 0.15 * n


def test_small_files_are_cached_uncompressed_the_setting_put_back(
    spark: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the session: uncompressed while a small file fills the cache, the session's own
    setting after; big files, URLs and a `spark.conf` naming the setting left alone. (A JVM
    that dies meanwhile: tests/test_spark.py's killed-JVM test.)"""
    from gitml import sparkvalidation
    from gitml.config import SparkOptions
    from gitml.sparkvalidation import COMPRESSED, _cache_compressed

    small = tmp_path / "a.csv"
    small.write_text("x\n1\n")
    before = spark.conf.get(COMPRESSED)

    def inside(options: SparkOptions | None, locations: list[str]) -> str:
        with _cache_compressed(spark, options, locations):
            found: str = spark.conf.get(COMPRESSED)
        assert spark.conf.get(COMPRESSED) == before
        return found

    assert inside(None, [str(small)]) == inside(SparkOptions(), [str(small)]) == "false"
    named = SparkOptions(conf=((COMPRESSED, before),))
    assert inside(named, [str(small)]) == before
    assert inside(None, ["s3a://bucket/a.csv"]) == before
    assert inside(None, [str(tmp_path / "missing.csv")]) == before
    monkeypatch.setattr(sparkvalidation, "UNCOMPRESSED_CACHE_BYTES", 2)
    assert inside(None, [str(small)]) == before
