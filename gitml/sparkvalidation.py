"""A suite run on Spark: the dataset read by gitml.sparkread, GX's Spark datasource judging it,
its profile computed in Spark (gitml.sparkprofile).

Suites name pandas' dtypes (`gitml suite init` writes `int64`, `float64`, `str`); GX on Spark
checks Spark's type names, so a type expectation's names are given in Spark's terms for the
types sparkread reads as those dtypes. The data is read once and kept (`cache_level`: memory,
then disk; on disk alone when big) while GX and the profile pass over it.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gitml import expectations, sparkfailure, sparkprofile, sparkread, sparksession, sparksources
from gitml.config import Dataset, SparkOptions

MEMORY_CACHE_BYTES = 1 << 30  # data files above this are cached on disk only (cache_level)
UNCOMPRESSED_CACHE_BYTES = MEMORY_CACHE_BYTES  # data files up to this: cached uncompressed
COMPRESSED = "spark.sql.inMemoryColumnarStorage.compressed"
# pandas dtype -> the Spark types sparkread reads as that dtype
SPARK_TYPES = {
    "int64": ["LongType"],
    "int32": ["IntegerType"],
    "int16": ["ShortType"],
    "int8": ["ByteType"],
    "float64": ["DoubleType"],
    "float32": ["FloatType"],
    "bool": ["BooleanType"],
    "boolean": ["BooleanType"],
    "str": ["StringType"],
    "string": ["StringType"],
    "object": ["StringType"],
    "datetime64[ns]": ["TimestampType", "TimestampNTZType"],
    "datetime64[us]": ["TimestampType", "TimestampNTZType"],
}


@dataclass
class SparkRun:
    """What a suite found on the data, and the data's profile."""

    evaluated: int
    failed: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)


def spark_types(names: list[Any]) -> list[str]:
    """A type list in Spark's names (names Spark already knows are kept)."""
    found: list[str] = []
    for name in names:
        for spark_name in SPARK_TYPES.get(str(name), [str(name)]):
            if spark_name not in found:
                found.append(spark_name)
    return found


def for_spark(doc: dict[str, Any]) -> dict[str, Any]:
    """The suite with its type expectations in Spark's type names."""
    doc = copy.deepcopy(doc)
    for e in doc["expectations"]:
        kw = e.get("kwargs") or {}
        if isinstance(kw.get("type_list"), list):
            kw["type_list"] = spark_types(kw["type_list"])
        if isinstance(kw.get("type_"), str):
            names = spark_types([kw["type_"]])
            if len(names) == 1:
                kw["type_"] = names[0]
            else:  # one pandas dtype, several Spark types
                e["type"] = "expect_column_values_to_be_in_type_list"
                kw["type_list"] = names
                del kw["type_"]
    return doc


def run_suite(
    suite_name: str,
    doc: dict[str, Any],
    dataset: Dataset,
    locations: list[str],
    fmt: str,
    hadoop: dict[str, str] | None = None,
) -> SparkRun:
    """The suite `doc` on the files at `locations` (all of format `fmt`), and their profile;
    `hadoop`: the settings that read a DVC remote's URLs as DVC does
    (gitml.sparksources.hadoop_settings)."""
    options = dataset.spark or SparkOptions()
    spark = sparksession.session(options, dataset.path)
    if hadoop:
        sparksources.configure(spark, hadoop, options.conf)
    level = cache_level(locations)
    with _cache_compressed(spark, dataset.spark, locations):
        df, kept = sparkread.read_kept(spark, locations, fmt, dataset.read, dataset.path, level)
    with sparkread.spark_errors(dataset.path):
        try:
            expectations.check_columns(suite_name, dataset.path, doc, list(df.columns))
            evaluated, failed, rows = expectations.run_gx_spark(suite_name, for_spark(doc), doc, df)
            profile = sparkprofile.profile_of(df)
        finally:
            _release(kept)
    return SparkRun(evaluated, failed, rows, profile)


def _local_size(locations: list[str]) -> int | None:
    """The bytes of the files at `locations`; None for URLs or a file that cannot be sized."""
    if any("://" in x for x in locations):
        return None
    try:
        return sum(os.path.getsize(x) for x in locations)
    except OSError:
        return None


@contextlib.contextmanager
def _cache_compressed(
    spark: Any, options: SparkOptions | None, locations: list[str]
) -> Iterator[None]:
    """Data cached in memory is cached without Spark's columnar compression: choosing and
    applying each column's encoding took about a quarter of the pass that parses and caches a
    CSV (0.2 GB: 30 -> 22 JVM CPU s; 1 GB: 65 -> 54 s), for a cache up to twice as big (1 GB
    of CSV: 1.05 -> 1.6 GB, of which 0.1 GB went to disk beside the local JVM's 3 GiB of
    heap; the blocks that do not fit are written there, as MEMORY_AND_DISK_DESER says).
    Only up to UNCOMPRESSED_CACHE_BYTES of files (above, the cache is on disk alone, where
    compression saves writing), and not when the dataset's `spark.conf` names the setting."""
    size = _local_size(locations)
    named = options is not None and any(key == COMPRESSED for key, _ in options.conf)
    if named or size is None or size > UNCOMPRESSED_CACHE_BYTES:
        yield
        return
    before = spark.conf.get(COMPRESSED)
    spark.conf.set(COMPRESSED, "false")
    try:
        yield
    finally:
        try:
            spark.conf.set(COMPRESSED, before)
        except Exception as exc:  # noqa: BLE001 - a JVM gone: its error is the one to tell
            if not sparkfailure.jvm_failed(exc):
                raise


def cache_level(locations: list[str]) -> Any:
    """Where the data read is kept while GX and the profile pass over it: memory, spilling to
    disk, when its files are small; on disk alone above MEMORY_CACHE_BYTES, or when they are
    URLs of unknown size. A 5 GB CSV cached in memory-and-disk killed a local JVM of 2 GiB of
    heap (an error in Spark's MemoryStore: a block is built in memory before it spills);
    written to disk, each block streams there, and a pass reads it back faster than Spark
    parses the CSV again."""
    from pyspark import StorageLevel

    size = _local_size(locations)
    if size is None:
        return StorageLevel.DISK_ONLY
    # deserialized in memory: pyspark's MEMORY_AND_DISK keeps each block serialized, and
    # every pass over it paid for decoding it again
    small = size <= MEMORY_CACHE_BYTES
    return StorageLevel.MEMORY_AND_DISK_DESER if small else StorageLevel.DISK_ONLY


def _release(df: Any) -> None:
    """The cached data dropped, unless the JVM that held it is gone (its error is the one to
    tell, not this call's)."""
    try:
        df.unpersist()
    except Exception as exc:  # noqa: BLE001 - py4j's and the JVM's errors alike
        if not sparkfailure.jvm_failed(exc):
            raise
