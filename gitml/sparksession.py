"""The one SparkSession of a gitml process, started on first use.

Spark is imported only here and in the modules that run on it (sparkread, sparkprofile,
sparkvalidation, sparkdrift), inside functions: `import pyspark` plus a JVM cost seconds, and the
commit hook's no-op path, `show` and `log` must not pay them. The first Spark dataset of a run
starts the session with its `spark:` settings (a JVM's master cannot change while it runs); a
session already active in the process (a test's, a notebook's) is used as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitml import sparkenv, sparkfailure
from gitml.config import SparkOptions

LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
# Settings gitml gives a session unless the dataset's `spark.conf` sets them: no web UI and no
# console progress bars (a hook's stderr is the user's terminal), few shuffle partitions (the
# aggregations gitml runs have a few rows per column: 200 partitions would be 200 tasks of
# nothing each), UTC (profiles do not depend on the machine), and the quiet log configuration.
DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}",
}
# In local mode the driver's JVM is also the executor that holds the cached data and runs every
# task: 3 GiB of heap (Spark's default is 1) leaves room for a dataset's aggregations beside
# the cache (data above a size is cached on disk: gitml.sparkvalidation.cache_level), and the
# process tree stays under 6 GiB with a 5 GB CSV (benchmarks/spark.py).
LOCAL_DEFAULTS = {"spark.driver.memory": "3g"}


def settings(options: SparkOptions) -> dict[str, str]:
    """gitml's defaults overlaid by the dataset's `spark.conf` (JVM options joined, so the
    quiet log configuration stays unless the user names another)."""
    found = dict(DEFAULTS)
    if options.master.startswith("local"):
        found.update(LOCAL_DEFAULTS)
    for key, value in options.conf:
        if key == "spark.driver.extraJavaOptions" and "log4j2.configurationFile" not in value:
            value = f"{found[key]} {value}"
        found[key] = value
    return found


def session(options: SparkOptions, dataset: str) -> Any:
    """The process's SparkSession (pyspark.sql.SparkSession), started with `options` when none
    is active; BadInput naming `dataset` when pyspark or Java is missing, or Spark does not
    start (a bad master, a driver memory too small to start with)."""
    sparkenv.require(dataset)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(options.master).appName("gitml")
    for key, value in settings(options).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    except Exception as exc:  # noqa: BLE001 - pyspark's, py4j's and the JVM's errors alike
        raise sparkfailure.start_failed(dataset, exc) from None
    return spark
