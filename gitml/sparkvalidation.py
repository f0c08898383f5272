"""A suite run on Spark: the dataset read by gitml.sparkread, GX's Spark datasource judging it,
its profile computed in Spark (gitml.sparkprofile).

Suites name pandas' dtypes (`gitml suite init` writes `int64`, `float64`, `str`); GX on Spark
checks Spark's type names, so a type expectation's names are given in Spark's terms for the
types sparkread reads as those dtypes. The data is read once and kept (memory, then disk) while
GX and the profile pass over it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from gitml import expectations, sparkfailure, sparkprofile, sparkread, sparksession
from gitml.config import Dataset, SparkOptions

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
    suite_name: str, doc: dict[str, Any], dataset: Dataset, locations: list[str], fmt: str
) -> SparkRun:
    """The suite `doc` on the files at `locations` (all of format `fmt`), and their profile."""
    from pyspark import StorageLevel

    spark = sparksession.session(dataset.spark or SparkOptions(), dataset.path)
    df = sparkread.read(spark, locations, fmt, dataset.read, dataset.path)
    with sparkread.spark_errors(dataset.path):
        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            expectations.check_columns(suite_name, dataset.path, doc, list(df.columns))
            evaluated, failed, rows = expectations.run_gx_spark(suite_name, for_spark(doc), doc, df)
            profile = sparkprofile.profile_of(df)
        finally:
            _release(df)
    return SparkRun(evaluated, failed, rows, profile)


def _release(df: Any) -> None:
    """The cached data dropped, unless the JVM that held it is gone (its error is the one to
    tell, not this call's)."""
    try:
        df.unpersist()
    except Exception as exc:  # noqa: BLE001 - py4j's and the JVM's errors alike
        if not sparkfailure.jvm_failed(exc):
            raise
