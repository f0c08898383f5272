"""gitml.sparkvalidation._cache_compressed: small data files cached without Spark's columnar
compression, the setting put back after; big files, URLs and a `spark.conf` that names the
setting left alone (no Spark needed: a stand-in for the session's conf)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitml import sparkvalidation
from gitml.config import SparkOptions
from gitml.sparkvalidation import COMPRESSED, _cache_compressed


class _Conf:
    def __init__(self) -> None:
        self.values = {COMPRESSED: "true"}

    def get(self, key: str) -> str:
        return self.values[key]

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


class _Spark:
    def __init__(self) -> None:
        self.conf = _Conf()


def _inside(spark: Any, options: SparkOptions | None, locations: list[str]) -> str:
    with _cache_compressed(spark, options, locations):
        found: str = spark.conf.get(COMPRESSED)
    assert spark.conf.get(COMPRESSED) == "true"
    return found


def test_small_files_are_cached_uncompressed_and_the_setting_restored(tmp_path: Path) -> None:
    small = tmp_path / "a.csv"
    small.write_text("x\n1\n")
    assert _inside(_Spark(), None, [str(small)]) == "false"
    assert _inside(_Spark(), SparkOptions(), [str(small)]) == "false"


def test_big_files_urls_and_a_named_setting_are_left_alone(
    tmp_path: Path, monkeypatch: Any
) -> None:
    small = tmp_path / "a.csv"
    small.write_text("x\n1\n")
    named = SparkOptions(conf=((COMPRESSED, "true"),))
    assert _inside(_Spark(), named, [str(small)]) == "true"
    assert _inside(_Spark(), None, ["s3a://bucket/a.csv"]) == "true"
    assert _inside(_Spark(), None, [str(tmp_path / "missing.csv")]) == "true"
    monkeypatch.setattr(sparkvalidation, "UNCOMPRESSED_CACHE_BYTES", 2)
    assert _inside(_Spark(), None, [str(small)]) == "true"


def test_a_jvm_gone_leaves_its_own_error(tmp_path: Path, monkeypatch: Any) -> None:
    """The setting is not put back on a dead JVM: the caller's message about it stands."""
    import pytest

    small = tmp_path / "a.csv"
    small.write_text("x\n1\n")
    spark = _Spark()

    def refused(key: str, value: str) -> None:
        if value == "true":
            raise ConnectionRefusedError(111, "Connection refused")
        spark.conf.values[key] = value

    monkeypatch.setattr(spark.conf, "set", refused)
    with pytest.raises(ValueError, match="the JVM died"):
        with _cache_compressed(spark, None, [str(small)]):
            raise ValueError("the JVM died")
