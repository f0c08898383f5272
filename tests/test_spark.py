"""The Spark engine (`engine: spark`): the same verdicts as the pandas engine on the same data and
suite, profiles within the recorded quantile error, drift through Spark, the commit hook reading
the DVC cache or the remote's objects. Real pyspark, real Java, real GX on both engines.

Every test here starts Spark (seconds for the JVM, tens of seconds for GX's Spark jobs on this
2-core machine): all are `slow`. One SparkSession (`local[2]`) serves the in-process tests of a
run; the end-to-end ones run gitml as a subprocess, which starts its own.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Example, run_in_terminal

from gitml import datareaders, drift, sparkenv, sparksession, suites, validation
from gitml.config import Dataset, SparkOptions
from gitml.datareaders import Source
from gitml.errors import BadInput
from gitml.lockprofile import Profile
from gitml.profile import histogram_counts, number_key, number_values, profile_of
from gitml.records import read_record

pytestmark = [
    pytest.mark.slow,
    # py4j's gateway sockets are closed by the garbage collector (ResourceWarning, unraisable)
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def typed(profile: dict[str, Any]) -> Profile:
    """A profile as computed, as gitml.lock's records (what drift reads)."""
    return read_record(Profile, profile)


TEST_SPARK = SparkOptions(master="local[2]", conf=(("spark.sql.shuffle.partitions", "2"),))
SPARK_YAML = """\
    engine: spark
    spark:
      master: local[2]
      conf: {spark.sql.shuffle.partitions: 2}
"""


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    problem = sparkenv.pyspark_problem() or sparkenv.java_problem()
    if problem:
        message = f"the Spark engine's tests need pyspark and Java 17+: {problem}"
        if os.environ.get("CI"):  # .ci/run installs both: missing there is a failure
            pytest.fail(message)
        pytest.skip(message)
    session = sparksession.session(TEST_SPARK, "tests")
    yield session
    session.stop()


def _table(rows: int, seed: int) -> Any:
    """10 columns of mixed types: whole numbers, decimals, zero-inflated, a dominant value,
    few-valued numbers, labels, booleans, integers with nulls, decimals with NA markers, ids."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    nulls = rng.random(rows) < 0.1
    return pd.DataFrame(
        {
            "count": rng.integers(0, 1000, rows),
            "price": rng.normal(50, 12, rows).round(3),
            "rain": np.where(rng.random(rows) < 0.65, 0.0, rng.exponential(4, rows).round(1)),
            "level": np.where(rng.random(rows) < 0.8, 7.5, rng.normal(7, 2, rows).round(2)),
            "stars": rng.integers(1, 6, rows),
            "colour": rng.choice(["red", "green", "blue", "teal"], rows, p=[0.5, 0.3, 0.15, 0.05]),
            "flag": rng.random(rows) < 0.3,
            "visits": pd.array(np.where(nulls, None, rng.integers(0, 9, rows)), dtype="Int64"),
            "ratio": np.where(rng.random(rows) < 0.05, np.nan, rng.random(rows).round(4)),
            "id": [f"u{i:06d}" for i in range(rows)],
        }
    )


def _broken(df: Any) -> Any:
    """The same table with what suites catch: a value out of range, a new label, a null in a
    column without nulls, and more rows of one label."""
    df = df.copy()
    df.loc[3, "price"] = 10_000.0
    df.loc[5, "colour"] = "purple"
    df.loc[7, "stars"] = None
    df.loc[: len(df) // 3, "colour"] = "red"
    return df


def _write(df: Any, path: Path, fmt: str) -> None:
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, index=False, sep="\t")
    elif fmt == "parquet":
        # as most writers store an integer column with nulls (pandas' own metadata would make
        # pandas read it back as its nullable Int64, which the Spark engine reads as float64)
        df.astype({"visits": "float64"}).to_parquet(path, index=False)
    else:
        df.to_json(path, orient="records", lines=True)


def _sources(tmp_path: Path, df: Any, fmt: str, parts: int) -> list[Source]:
    """The table as one file, or split into `parts` member files of a directory."""
    base = tmp_path / fmt
    base.mkdir(parents=True)
    size = -(-len(df) // parts)
    found = []
    for i in range(parts):
        name = f"part-{i}.{fmt}" if parts > 1 else f"data.{fmt}"
        _write(df.iloc[i * size : (i + 1) * size], base / name, fmt)
        found.append(Source(f"data/{name}", base / name))
    return found


def _both(sources: list[Source], fmt: str, suite: dict[str, Any], tmp_path: Path) -> list[Any]:
    """The pandas engine's and the Spark engine's results on the same files and suite."""
    results = []
    for engine in ("pandas", "spark"):
        d = Dataset(
            "data", "s.json", engine=engine, spark=TEST_SPARK if engine == "spark" else None
        )
        target = validation.Target(
            d, "s.json", json.dumps(suite).encode(), None, sources, [fmt] * len(sources), 1
        )
        results.append(validation.validate_target(target, tmp_path))
    return results


def _rank_bounds(ordered: Any, level: float, error: float) -> tuple[float, float]:
    """The values at ranks (level -/+ error) of the sorted values: where an approximate
    quantile with that rank error must lie."""
    n = len(ordered) - 1
    lo = ordered[max(math.floor((level - error) * n), 0)]
    hi = ordered[min(math.ceil((level + error) * n), n)]
    return float(lo), float(hi)


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=2e-5, abs_tol=1e-9)


def _same_profile_within_error(
    by_pandas: dict[str, Any], by_spark: dict[str, Any], frame: Any
) -> None:
    """Counts exact, means and stds to gitml.lock's 6 digits, quantiles within the recorded
    rank error, histograms: the same points, decile edges within the recorded rank error,
    counts exact for their own edges."""
    import numpy as np

    error = by_spark["quantile_error"]
    assert 0 < error <= 0.01
    assert by_spark["rows"] == by_pandas["rows"]
    for col, want in by_pandas["columns"].items():
        got = by_spark["columns"][col]
        assert (got["dtype"], got["nulls"]) == (want["dtype"], want["nulls"]), col
        for key in ("values", "top"):
            assert got.get(key) == want.get(key), (col, key)
        assert _close(got.get("mean"), want.get("mean")) and _close(got.get("std"), want.get("std"))
        if "quantiles" not in want:
            continue
        values = number_values(frame.df[col])
        ordered = np.sort(values[np.isfinite(values)])
        for level, q in zip((0, 0.25, 0.5, 0.75, 1), got["quantiles"], strict=True):
            lo, hi = _rank_bounds(ordered, level, error)
            assert lo - abs(lo) * 1e-5 <= q <= hi + abs(hi) * 1e-5, (col, level, q, lo, hi)
        if "histogram" in want:
            hist = got["histogram"]
            assert hist["points"] == want["histogram"]["points"], col
            points = [float(p) for p in hist["points"]]
            counts, _ = histogram_counts(values, hist["edges"], points)
            assert hist["counts"] == counts, col
            assert counts[0] == counts[-1] == 0, col  # min and max are exact: nothing outside
            # each edge a decile of the values that are no point, within the recorded error
            rest = ordered[~np.isin(ordered, points)]
            for edge in hist["edges"]:
                near = [_rank_bounds(rest, level / 10, error) for level in range(11)]
                tol = abs(edge) * 1e-5  # gitml.lock's 6 significant digits
                assert any(lo - tol <= edge <= hi + tol for lo, hi in near), (col, edge)


FORMATS = [("csv", 1), ("tsv", 1), ("parquet", 1), ("jsonl", 1), ("csv", 3)]


def _compared(sources: list[Source], fmt: str, suite: dict[str, Any], tmp_path: Path) -> Any:
    """Both engines on the same files: the same verdict and counts, the same failed
    expectations, profiles within the recorded error; the Spark engine's result."""
    by_pandas, by_spark = _both(sources, fmt, suite, tmp_path)
    assert (by_spark.success, by_spark.evaluated, by_spark.failed) == (
        by_pandas.success,
        by_pandas.evaluated,
        by_pandas.failed,
    ), (fmt, by_pandas.rows, by_spark.rows)
    failed = [(r["column"], r["expectation"]) for r in by_spark.rows]
    assert failed == [(r["column"], r["expectation"]) for r in by_pandas.rows], fmt
    # the values as written (pandas' JSON reader parses floats to within an ulp by default)
    exact = {"precise_float": True} if fmt == "jsonl" else {}
    now = datareaders.read_frame(sources, [fmt] * len(sources), exact)
    _same_profile_within_error(by_pandas.profile, by_spark.profile, now)
    return by_spark


def test_both_engines_give_the_same_verdicts_and_profiles(spark: Any, tmp_path: Path) -> None:
    """A suite scaffolded from the data passes on both; the same suite on broken data (CSV,
    TSV, Parquet, JSON Lines, a directory of CSV members) fails the same expectations."""
    then = _table(3000, seed=1)
    clean = _sources(tmp_path / "then", then, "csv", 1)
    frame = datareaders.read_frame(clean, ["csv"], {})
    suite = suites.scaffold(frame, "data")
    recorded = _compared(clean, "csv", suite, tmp_path)
    assert recorded.success and recorded.evaluated > 20
    broken = _broken(then)
    for fmt, parts in FORMATS:
        found = _compared(
            _sources(tmp_path / f"now{parts}", broken, fmt, parts), fmt, suite, tmp_path
        )
        assert not found.success and found.failed >= 3, fmt
    # drift: a profile one engine recorded, the same data measured by the other: PSI 0
    from gitml import sparkdrift

    spark_now = sparkdrift.table_now(
        Dataset("data", engine="spark", spark=TEST_SPARK),
        "data",
        [str(clean[0].file)],
        "csv",
        typed(profile_of(frame)),
    )
    for found in (
        drift.compare(frame.df, frame.dtypes, typed(recorded.profile)),
        drift.compare_table(spark_now, typed(profile_of(frame))),
    ):
        assert [(c.column, c.psi) for c in found if c.psi != 0 or c.verdict != "stable"] == []


READ_OPTIONS = [
    # (format, gitml.yaml `read:`, the file's bytes)
    ("csv", {"sep": ";", "encoding": "latin-1"}, "city;temp;n\nZürich;1,5;3\nCôte;2.25;4\n"),
    ("csv", {"quotechar": "'"}, "name,v\n'a, b',1\n'it''s',2\nplain,3\n"),
    ("csv", {"header": None}, "1,x,2.5\n2,y,\n3,z,0.5\n"),
    ("csv", {"na_values": ["-"], "keep_default_na": False}, "a,b,c\n-,NA,1\n2,x,\n3,,2\n"),
    ("csv", {"keep_default_na": False}, "a,b\n1,\n2,3\n"),
    ("csv", {"comment": "#"}, "a,b\n# a line of notes\n1,2\n3,4\n"),
    ("tsv", {"quotechar": "'"}, "a\tb\n'x\ty'\t1\nz\t2\n"),
]


def test_a_comment_after_the_start_of_a_line_is_refused_by_spark(
    spark: Any, tmp_path: Path
) -> None:
    """pandas ends a line at its comment character (`3,4#note`: 3 and 4), Spark's reader only
    skips lines that start with it: such a file is one message, not another table."""
    from gitml import sparkread

    path = tmp_path / "t.csv"
    path.write_text("a,b\n# notes\n1,2\n3,4#a note\n")
    with pytest.raises(BadInput, match="a value holds the comment character after the start"):
        sparkread.read(spark, [str(path)], "csv", {"comment": "#"}, "data/t")


@pytest.mark.parametrize(("fmt", "options", "text"), READ_OPTIONS)
def test_reader_options_read_the_same_table_with_either_engine(
    spark: Any, tmp_path: Path, fmt: str, options: dict[str, Any], text: str
) -> None:
    """A dataset's `read:` options (pandas.read_csv's names) give Spark the same table: the
    same columns, dtypes and values."""
    from pyspark import StorageLevel

    from gitml import sparkread

    path = tmp_path / f"t.{fmt}"
    path.write_bytes(text.encode(options.get("encoding", "utf-8")))
    frame = datareaders.read_frame([Source("data/t", path)], [fmt], options)
    df = sparkread.read(spark, [str(path)], fmt, options, "data/t")
    assert {f.name: sparkread.pandas_dtype(f.dataType) for f in df.schema.fields} == {
        str(c): frame.dtypes[c] for c in frame.df.columns
    }
    by_spark = [[None if v != v else v for v in row] for row in df.collect()]
    by_pandas = frame.df.astype(object).where(frame.df.notna(), None).values.tolist()
    assert by_spark == by_pandas
    # and as validation reads it, typed while cached
    level = StorageLevel.MEMORY_AND_DISK_DESER
    kept_df, kept = sparkread.read_kept(spark, [str(path)], fmt, options, "data/t", level)
    assert kept_df.schema == df.schema
    assert kept_df.exceptAll(df).count() == df.exceptAll(kept_df).count() == 0
    kept.unpersist()


def test_both_engines_describe_a_failed_expectation_with_the_same_fields(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 item 8: a failed expectation's kwargs as written (mostly, a row_condition both
    engines read), GX's counts and share of the non-missing values, the observed value and the
    unexpected values are the same on Spark as on pandas; only their rows are pandas' alone.
    The Spark engine caches this data on disk alone here, as it does big data (issue 19)."""
    from pyspark import StorageLevel

    from gitml import sparkvalidation

    monkeypatch.setattr(sparkvalidation, "MEMORY_CACHE_BYTES", 0)
    rows = ["x,g"] + [
        f"{'' if i == 0 else 500 if i <= 11 else 5},{1 if i < 100 else 2}" for i in range(150)
    ]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(rows) + "\n")
    between = {"column": "x", "min_value": 0, "max_value": 10}
    suite = {
        "name": "m",
        "expectations": [
            {"type": "expect_column_values_to_be_between", "kwargs": {**between, "mostly": 0.95}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {
                    **between,
                    "row_condition": 'col("g")==1',
                    "condition_parser": "great_expectations",
                },
            },
            {"type": "expect_column_max_to_be_between", "kwargs": between},
            {
                "type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "g", "type_": "str"},
            },
        ],
    }
    assert sparkvalidation.cache_level([str(path)]) == StorageLevel.DISK_ONLY
    by_pandas, by_spark = _both([Source("data/m.csv", path)], "csv", suite, tmp_path)
    assert [r["unexpected_rows"] is None for r in by_pandas.rows] == [False, False, True, True]
    assert [r["unexpected_rows"] for r in by_spark.rows] == [None] * 4
    for r in by_pandas.rows:
        r["unexpected_rows"] = None
    assert by_spark.rows[:3] == by_pandas.rows[:3]
    assert "11 of 149 non-missing values unexpected (7.38%)" in validation.table(by_spark.rows)
    mostly, cond, top, typed = by_spark.rows
    # a type's observed value is the engine's own name for it; the fields are the same
    assert typed["result"].pop("observed_value") == "LongType"
    assert by_pandas.rows[3]["result"].pop("observed_value") == "int64"
    assert typed == by_pandas.rows[3]
    assert mostly["kwargs"] == {**between, "mostly": 0.95} and mostly["short_of_mostly"] is True
    assert (mostly["result"]["missing_count"], mostly["result"]["unexpected_count"]) == (1, 11)
    assert mostly["result"]["unexpected_percent"] == pytest.approx(100 * 11 / 149)
    assert (cond["result"]["element_count"], cond["result"]["unexpected_count"]) == (100, 11)
    assert top["result"]["observed_value"] == 500
    assert typed["kwargs"] == {"column": "g", "type_": "str"}  # as written, not Spark's name


def _spark_dataset(ex: Example) -> None:
    """data/wine.csv with a suite and `engine: spark`."""
    assert ex.gitml("suite", "init", "data/wine.csv").returncode == 0
    cfg = ex.root / "gitml.yaml"
    text = cfg.read_text().replace(
        "    suite: .gitml/suites/wine.json\n", "    suite: .gitml/suites/wine.json\n" + SPARK_YAML
    )
    assert "engine: spark" in text
    cfg.write_text(text)


def _spark_dataset_reads_the_remote(ex: Example) -> None:
    """The Spark dataset of `_spark_dataset` read from the DVC remote's objects."""
    cfg = ex.root / "gitml.yaml"
    text = cfg.read_text()
    assert SPARK_YAML in text
    cfg.write_text(text.replace(SPARK_YAML, SPARK_YAML + "      read_from_remote: true\n"))


def _rewrite_data(ex: Example, edit: Any) -> None:
    path = ex.root / "data" / "wine.csv"
    os.chmod(path, 0o644)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")
    ex.dvc("add", "-q", "data/wine.csv")
    ex.git("add", "data/wine.csv.dvc")


def _cache_object(ex: Example) -> Path:
    md5 = (ex.root / "data" / "wine.csv.dvc").read_text().split("md5: ")[1].split()[0]
    return ex.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def _on_remote(ex: Example) -> Path:
    md5 = (ex.root / "data" / "wine.csv.dvc").read_text().split("md5: ")[1].split()[0]
    return ex.remote / "files" / "md5" / md5[:2] / md5[2:]


def test_the_commit_hook_validates_with_spark_from_the_cache_or_the_remote(
    example: Example,
) -> None:
    """The hook validates through Spark from the DVC cache, drift reads through Spark, and with
    `read_from_remote: true` Spark reads the remote's object (nothing copied into the cache):
    data with a value out of range there is blocked, naming the failed expectation. A remote
    object that does not hash to its name is refused before Spark reads it. (One test: each
    gitml process starts its own JVM, ~25 s here.)"""
    example.without_model_checks()
    _spark_dataset(example)
    example.git("add", "-A")
    # the pandas engine's size limit is not Spark's: the whole file is validated
    limit = {"GITML_VALIDATE_MAX_BYTES": "100"}
    proc = example.git("commit", "-qm", "spark engine", check=False, env=limit)
    assert proc.returncode == 0, proc.stderr
    entry = example.lock()["data"]["data/wine.csv"]
    assert entry["validation"]["success"] is True and entry["validation"]["failed"] == 0
    rows = len((example.root / "data/wine.csv").read_text().splitlines()) - 1
    assert entry["profile"]["rows"] == rows and "sample" not in entry["validation"]
    assert entry["profile"]["quantile_error"] == 0.001
    assert "histogram" in entry["profile"]["columns"]["proline"]
    # drift through Spark on the same bytes: every column stable, PSI exactly 0
    proc = example.gitml("drift", "data/wine.csv", "--against", "HEAD", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {c["psi"] for c in report["columns"]} == {0.0}
    # serving data exported from production, not in DVC nor in the repository, on a terminal:
    # Spark reads it (saying so while its JVM starts) and proline, doubled there, drifts
    served = example.root.parent / "exported" / "wine.csv"
    served.parent.mkdir()
    lines = (example.root / "data/wine.csv").read_text().splitlines()
    at = lines[0].split(",").index("proline")
    doubled = [line.split(",") for line in lines[1:]]
    for cells in doubled:
        cells[at] = str(float(cells[at]) * 2)
    served.write_text("\n".join([lines[0], *(",".join(c) for c in doubled)]) + "\n")
    cmd = ["env", "GITML_VALIDATE_MAX_BYTES=100", sys.executable, "-m", "gitml", "drift"]
    cmd += [str(served), "--dataset", "data/wine.csv", "--against", "HEAD"]
    code, seen = run_in_terminal(cmd, example.root)
    assert code == 1, seen
    assert f"reading {served} with Spark; a JVM takes seconds to start" in seen
    proline = next(line for line in seen.splitlines() if "proline" in line)
    assert "drift" in proline and "alcohol" not in proline, seen

    # a value out of range, on the remote only: Spark reads it there, the commit is blocked
    def out_of_range(lines: list[str]) -> list[str]:
        first = lines[1].split(",")
        first[-2] = "99999"  # proline
        return [lines[0], ",".join(first), *lines[2:]]

    assert (example.root / "data/wine.csv").read_text().splitlines()[0].split(",")[-2] == "proline"
    _spark_dataset_reads_the_remote(example)
    _rewrite_data(example, out_of_range)
    example.dvc("push", "-q")
    cached = _cache_object(example)
    assert _on_remote(example).is_file()
    cached.unlink()  # the bytes are on the remote only
    example.git("add", "-A")
    proc = example.git("commit", "-qm", "bad data read from the remote", check=False)
    assert proc.returncode != 0
    assert "expectations failed" in proc.stderr and "column_values_to_be_between" in proc.stderr
    assert not cached.exists()  # nothing was copied into the cache

    # a remote object that does not hash to its name is refused, naming the remote's URL
    _rewrite_data(example, lambda lines: lines[:-1])
    example.dvc("push", "-q")
    _cache_object(example).unlink()
    on_remote = _on_remote(example)
    os.chmod(on_remote, 0o644)
    on_remote.write_text(on_remote.read_text().replace("1", "2", 1))
    # `gitml validate` reads the remote's object: refused, naming its URL
    proc = example.gitml("validate", "data/wine.csv")
    assert proc.returncode == 2, proc.stderr
    assert "its object on the DVC remote (file://" in proc.stderr and "tampered" in proc.stderr
    # the commit hook refuses it before any check reads it (a local-path remote is checked
    # as a place of objects)
    example.git("add", "-A")
    proc = example.git("commit", "-qm", "tampered remote", check=False)
    assert proc.returncode != 0 and "do not match their hash" in proc.stderr


def test_a_dataset_over_the_pandas_limit_points_to_the_spark_engine(example: Example) -> None:
    example.without_model_checks()
    assert example.gitml("suite", "init", "data/wine.csv").returncode == 0
    proc = example.gitml("validate", env={"GITML_VALIDATE_MAX_BYTES": "100"})
    assert proc.returncode == 2 and "`engine: spark` (Spark validates it whole" in proc.stderr
    shutil.rmtree(example.root / ".git" / "gitml" / "validation", ignore_errors=True)


def test_datetimes_are_binned_alike_by_both_engines(spark: Any, tmp_path: Path) -> None:
    """A timestamp column (Parquet) is recorded by the Spark engine as the pandas engine
    records it, a histogram of seconds since the epoch: the same points, counts exact for its
    own edges, and drift on the same file PSI 0 whichever engine recorded and which measures."""
    import numpy as np
    import pandas as pd

    from gitml import sparkdrift, sparkprofile, sparkread

    rng = np.random.default_rng(4)
    at = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, 4000), "s"))
    at[rng.random(4000) < 0.1] = pd.NaT
    at[:400] = pd.Timestamp("2024-06-01 12:00")  # a point: 10% of the rows at one instant
    path = tmp_path / "t.parquet"
    pd.DataFrame({"at": at.astype("datetime64[us]"), "n": rng.random(4000)}).to_parquet(path)
    frame = datareaders.read_frame([Source("data/t.parquet", path)], ["parquet"], {})
    by_pandas = profile_of(frame)
    df = sparkread.read(spark, [str(path)], "parquet", {}, "t")
    by_spark = sparkprofile.profile_of(df)
    got, want = by_spark["columns"]["at"], by_pandas["columns"]["at"]
    assert set(got) == set(want) == {"dtype", "nulls", "histogram"}
    assert (
        got["nulls"] == want["nulls"] and got["histogram"]["points"] == want["histogram"]["points"]
    )
    assert "1717243200" in got["histogram"]["points"]  # 2024-06-01 12:00 UTC
    counts, _ = histogram_counts(
        number_values(frame.df["at"]),
        got["histogram"]["edges"],
        [float(p) for p in got["histogram"]["points"]],
    )
    assert got["histogram"]["counts"] == counts
    spark_now = sparkdrift.table_now(
        Dataset("data", engine="spark", spark=TEST_SPARK),
        "data",
        [str(path)],
        "parquet",
        typed(by_pandas),
    )
    for found in (
        drift.compare(frame.df, frame.dtypes, typed(by_spark)),
        drift.compare_table(spark_now, typed(by_pandas)),
    ):
        assert [(c.column, c.psi, c.verdict) for c in found if c.psi != 0] == []


def test_typing_past_the_first_rows_and_top_values_of_many_distinct(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column typed by its first rows is still checked to its last (whole numbers, then one
    decimal: float64; numbers, then a word: text). A text column of many distinct values
    records the frequent-items candidates, counted exactly (every value of 5% among them), and
    drift on the same file is PSI 0 measured by either engine."""
    import numpy as np
    import pandas as pd
    from pyspark import StorageLevel

    from gitml import sparkdrift, sparkprofile, sparkread

    monkeypatch.setattr(sparkprofile, "HIGH_CARDINALITY", 500)
    rng = np.random.default_rng(6)
    n = 3000
    tag = np.array([f"t{i}" for i in rng.integers(0, 10**6, n)], dtype=object)
    tag[rng.random(n) < 0.1] = "none"
    amount = rng.integers(0, 100, n).astype(str).astype(object)
    amount[2500] = "1.5"
    code = rng.integers(0, 100, n).astype(str).astype(object)
    code[2999] = "x12"
    df = pd.DataFrame({"id": [f"u{i}" for i in range(n)], "tag": tag, "amount": amount})
    df["code"] = code
    df["late_null"] = rng.integers(0, 9, n).astype(str).astype(object)
    df.loc[2800, "late_null"] = ""  # whole numbers, then a null: float64
    df["flag"] = np.where(rng.random(n) < 0.5, "True", "False").astype(object)
    df.loc[2900, "flag"] = "maybe"  # booleans, then a word: text
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    frame = datareaders.read_frame([Source("data/t.csv", path)], ["csv"], {})
    read = sparkread.read(spark, [str(path)], "csv", {}, "t")
    by_spark = sparkprofile.profile_of(read)
    # typed while cached (a guess from the first rows, disproved here by later rows): the same
    level = StorageLevel.MEMORY_AND_DISK_DESER
    kept_df, kept = sparkread.read_kept(spark, [str(path)], "csv", {}, "t", level)
    assert kept_df.schema == read.schema
    assert kept_df.exceptAll(read).count() == read.exceptAll(kept_df).count() == 0
    kept.unpersist()
    late = path.with_name("late.csv")  # a guess the whole file confirms, nulls past it
    df[["id", "late_null"]].to_csv(late, index=False)
    kept_df, kept = sparkread.read_kept(spark, [str(late)], "csv", {}, "t", level)
    assert [f.dataType.simpleString() for f in kept_df.schema.fields] == ["string", "double"]
    assert kept_df.where("late_null IS NULL").count() == 1
    kept.unpersist()
    columns = by_spark["columns"]
    assert {c: e["dtype"] for c, e in columns.items()} == frame.dtypes
    assert frame.dtypes["amount"] == "float64" and frame.dtypes["code"] in ("str", "object")
    assert columns["tag"]["top"]["none"] == int((tag == "none").sum())
    assert len(columns["id"]["top"]) <= 5  # candidates only, not 3000 values counted
    spark_now = sparkdrift.table_now(
        Dataset("data", engine="spark", spark=TEST_SPARK),
        "data",
        [str(path)],
        "csv",
        typed(by_spark),
    )
    for found in (
        drift.compare(frame.df, frame.dtypes, typed(by_spark)),
        drift.compare_table(spark_now, typed(by_spark)),
    ):
        assert [(c.column, c.psi, c.verdict) for c in found if c.psi != 0] == []


def _profile_before_histograms(frame: Any) -> dict[str, Any]:
    """The profile gitml wrote before histograms (69e89dd^ gitml/validation.py `profile`): per
    number column mean, std and quartiles, an infinite one written as null, and the count of
    each value of a column of few; per other column its top values."""
    import numpy as np

    columns: dict[str, Any] = {}
    for c in frame.df.columns:
        s = frame.df[c]
        entry: dict[str, Any] = {"dtype": frame.dtypes[c], "nulls": int(s.isna().sum())}
        values = s.dropna()
        if frame.dtypes[c] in ("float64", "int64"):
            figures = [values.mean(), values.std(), *values.quantile([0, 0.25, 0.5, 0.75, 1])]
            plain = [float(v) if np.isfinite(v) else None for v in figures]
            entry["mean"], entry["std"], entry["quantiles"] = plain[0], plain[1], plain[2:]
            if values.nunique() <= 10:
                entry["values"] = {number_key(v): int(k) for v, k in values.value_counts().items()}
        else:
            entry["top"] = {str(v): int(k) for v, k in values.value_counts().head(10).items()}
        columns[c] = entry
    return {"rows": len(frame.df), "columns": columns}


def test_a_lock_from_before_histograms_is_compared_alike_by_both_engines(
    spark: Any, tmp_path: Path
) -> None:
    """Issue 19: "old locks keep working". A profile of quartiles alone, as gitml wrote it
    before histograms (a column holding infinities has a null quartile), is compared by the
    Spark engine over the same coarse bins as by pandas: the same PSI, verdict and `coarse`
    flag per column, on the data as it was and on data that moved."""
    import numpy as np
    import pandas as pd

    from gitml import sparkdrift

    rng = np.random.default_rng(11)
    n = 4000
    then = pd.DataFrame(
        {
            "x": rng.normal(10, 2, n).round(3),
            "rain": np.where(rng.random(n) < 0.65, 0.0, rng.gamma(1, 5, n).round(2)),
            # infinities in 30% of the rows: two quartiles, written as null, a tied edge
            "peak": np.where(rng.random(n) < 0.3, np.inf, rng.normal(0, 1, n).round(3)),
            "count": rng.integers(1000, 5000, n),
            "label": rng.integers(0, 3, n),
            "colour": rng.choice(["red", "teal", "blue"], n),
        }
    )
    moved = then.assign(x=then["x"] + 2.0, rain=then["rain"].where(rng.random(n) < 0.5, 3.0))
    source = tmp_path / "then.csv"
    then.to_csv(source, index=False)
    recorded = datareaders.read_frame([Source("data/t.csv", source)], ["csv"], {})
    doc = _profile_before_histograms(recorded)
    assert doc["columns"]["peak"]["quantiles"][-2:] == [None, None]  # as the old gitml wrote it
    profile = typed(doc)
    assert profile.coarse
    dataset = Dataset("data", engine="spark", spark=TEST_SPARK)
    for name, now, shifted in (("same", then, set()), ("moved", moved, {"x", "rain"})):
        path = tmp_path / f"{name}.csv"  # a path of its own: Spark's cache knows data by plan
        now.to_csv(path, index=False)
        frame = datareaders.read_frame([Source("data/t.csv", path)], ["csv"], {})
        by_pandas = drift.compare(frame.df, frame.dtypes, profile)
        table = sparkdrift.table_now(dataset, "data", [str(path)], "csv", profile)
        by_spark = drift.compare_table(table, profile)
        for p, s in zip(by_pandas, by_spark, strict=True):
            assert (s.column, s.kind, s.verdict, s.coarse) == (
                p.column,
                p.kind,
                p.verdict,
                p.coarse,
            )
            assert s.psi == pytest.approx(p.psi, abs=1e-12), s.column
        found = {c.column: c for c in by_spark}
        assert {c for c, f in found.items() if f.coarse} == {"x", "rain", "peak", "count"}
        assert {c for c, f in found.items() if f.verdict == "drift"} == shifted
        assert found["peak"].psi is not None and math.isfinite(found["peak"].psi)


def _jvm_of(pid: int) -> int | None:
    """The pid of the `java` process below `pid`, if one runs."""
    # A process may end between two reads of /proc: its name is read with its parent, in one
    # open of `stat` (the name is between its parentheses), never in a second read that fails.
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            head, tail = stat.rsplit(")", 1)
            parents[int(entry)] = int(tail.split()[1])
            names[int(entry)] = head.split("(", 1)[1]
    for child in parents:
        p = child
        while p in parents and p != pid:
            p = parents[p]
        if p == pid and names[child] == "java":
            return child
    return None


def _running_a_task(jvm: int) -> bool:
    """Whether the JVM runs a Spark task (its executor names the thread of each one)."""
    try:
        threads = os.listdir(f"/proc/{jvm}/task")
    except OSError:
        return False
    for t in threads:
        try:
            if Path(f"/proc/{jvm}/task/{t}/comm").read_text().startswith("Executor task"):
                return True
        except OSError:
            continue
    return False


def test_a_jvm_that_dies_or_cannot_start_is_one_message_naming_the_fix(example: Example) -> None:
    """Issue 19: Spark's JVM killed while it validates (as the kernel's OOM killer would) and a
    driver memory too small for Spark to start: one message naming Spark, the likely cause and
    the setting that fixes it, exit 2 (the environment, not gitml: no internal error)."""
    import signal
    import subprocess
    import sys
    import time

    example.without_model_checks()
    _spark_dataset(example)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitml", "validate", "data/wine.csv"],
        cwd=example.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    deadline = time.monotonic() + 300
    while proc.poll() is None and killed is None and time.monotonic() < deadline:
        jvm = _jvm_of(proc.pid)
        if jvm is not None and _running_a_task(jvm):
            os.kill(jvm, signal.SIGKILL)
            killed = jvm
        time.sleep(0.02)
    out, err = proc.communicate(timeout=120)
    assert killed is not None, (proc.returncode, err)
    assert proc.returncode == 2, err
    assert "data/wine.csv: Spark's JVM was killed (SIGKILL)" in err
    assert "spark.driver.memory" in err and "internal error" not in err and "Traceback" not in err
    # a driver memory Spark refuses to start with: its own reason, and where to change it
    cfg = example.root / "gitml.yaml"
    cfg.write_text(
        cfg.read_text().replace("spark.sql.shuffle.partitions: 2", "spark.driver.memory: 64m")
    )
    proc2 = example.gitml("validate", "data/wine.csv")
    assert proc2.returncode == 2, proc2.stderr
    assert "data/wine.csv: Spark could not start (" in proc2.stderr
    assert "spark.driver.memory" in proc2.stderr and "internal error" not in proc2.stderr
