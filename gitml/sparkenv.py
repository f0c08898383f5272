"""What the Spark engine needs on this machine, checked without starting it: pyspark installed
(the `gitml[spark]` extra) and a Java runtime of at least JAVA_MIN (pyspark 4 runs on Java 17+).

`gitml doctor` asks here when a dataset uses `engine: spark`; the session asks before it starts a
JVM, so a missing one is one clear message (exit 2) instead of a Java stack trace.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from gitml.errors import BadInput

if TYPE_CHECKING:
    from gitml.config import Dataset, SparkOptions

JAVA_MIN = 17
JAVA_INSTALL = "sudo apt-get install -y openjdk-17-jre-headless"
PYSPARK_INSTALL = "pip install 'gitml[spark]'"
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def java_binary() -> str | None:
    """The java Spark starts: $JAVA_HOME/bin/java when JAVA_HOME is set (as spark-submit does),
    else `java` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def java_major(java: str) -> int | None:
    """The major version `java -version` reports (1.8 -> 8), None when it says none."""
    try:
        proc = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(proc.stderr + proc.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def java_problem() -> str | None:
    """What is wrong with the Java runtime for Spark (with the command that fixes it), or None."""
    java = java_binary()
    where = "JAVA_HOME" if os.environ.get("JAVA_HOME") else "PATH"
    if java is None:
        return f"no Java runtime on {where}; Spark needs Java {JAVA_MIN}+: `{JAVA_INSTALL}`"
    major = java_major(java)
    if major is None:
        return f"{java} does not say its version; Spark needs Java {JAVA_MIN}+: `{JAVA_INSTALL}`"
    if major < JAVA_MIN:
        return (
            f"{java} is Java {major}; Spark needs Java {JAVA_MIN}+: `{JAVA_INSTALL}` "
            "(and put it first on PATH, or set JAVA_HOME)"
        )
    return None


def java_summary() -> str:
    java = java_binary() or "java"
    return f"{java} (Java {java_major(java)})"


def pyspark_problem() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return f"pyspark is not installed in gitml's environment: `{PYSPARK_INSTALL}`"
    return None


def require(dataset: str) -> None:
    """BadInput naming the dataset and the fix when Spark cannot run here."""
    problem = pyspark_problem() or java_problem()
    if problem:
        raise BadInput(f"{dataset} has `engine: spark`, but {problem}")


def doctor_checks(root: Path) -> list[tuple[str, str, str]]:
    """(name, ok | fail, detail) for `gitml doctor`: pyspark and Java, checked only when a
    dataset of the repository's gitml.yaml uses `engine: spark` (nothing otherwise, nor when
    gitml.yaml is unreadable: its own check says so)."""
    from gitml import config

    try:
        cfg = config.parse((root / config.CONFIG_FILE).read_bytes())
    except (OSError, BadInput):
        return []
    spark_datasets = [d.path for d in cfg.data if d.engine == "spark"]
    if not spark_datasets:
        return []
    which = f"for {', '.join(spark_datasets)} (engine: spark)"
    problem = pyspark_problem()
    found = [("pyspark", "fail" if problem else "ok", problem or f"installed, {which}")]
    problem = java_problem()
    found.append(("Java for Spark", "fail" if problem else "ok", problem or java_summary()))
    return found + _connector_checks(root, cfg.data)


# the jar that brings each cloud scheme's Hadoop file system, as its name says
CONNECTOR_JARS = {"s3a": "hadoop-aws", "gs": "gcs-connector"}


def _connector_checks(root: Path, datasets: tuple[Dataset, ...]) -> list[tuple[str, str, str]]:
    """Per dataset Spark reads from a cloud DVC remote: whether its `spark.conf` brings the
    Hadoop connector for the scheme (pyspark ships none)."""
    from gitml import dvcconfig, sparksources

    remote = [(d.path, d.spark) for d in datasets if d.spark and d.spark.read_from_remote]
    if not remote:
        return []
    try:
        scheme = sparksources.remote_scheme(dvcconfig.read_config(root))
    except BadInput:
        return []  # the DVC config's own check says why
    if scheme not in CONNECTOR_JARS:
        return []
    return [_connector_check(path, spark, scheme) for path, spark in remote]


def _connector_check(path: str, spark: SparkOptions, scheme: str) -> tuple[str, str, str]:
    """A cluster's own classpath may hold the connector: not visible from here, so a warning
    there, a failure in local mode."""
    from gitml import sparkfailure

    jar = CONNECTOR_JARS[scheme]
    conf = dict(spark.conf)
    named = " ".join(conf.get(k, "") for k in ("spark.jars.packages", "spark.jars"))
    name = f"Spark's {scheme}:// connector for {path}"
    if jar in named:
        return name, "ok", f"{jar} in its `spark.conf`"
    if not spark.master.startswith("local"):
        return (
            name,
            "warn",
            f"not in its `spark.conf`: the cluster ({spark.master}) must hold {jar}",
        )
    _, what, how = sparkfailure.CONNECTORS[scheme]
    how = how.format(hadoop=sparkfailure.pyspark_hadoop_version())
    return name, "fail", f"{what} is not in its `spark.conf`: add {how}"
