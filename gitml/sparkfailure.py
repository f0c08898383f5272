"""Spark's JVM failing under gitml: one clear message instead of a Py4J traceback.

pyspark talks to a JVM over a socket (Py4J). When that JVM dies mid-job (out of memory: Spark's
executor ends the process with exit code 52; killed: the kernel's OOM killer, or someone), the
call in flight and every later one fail with `ConnectionRefusedError` or a `Py4JNetworkError`,
which say nothing of why; a task that ran out of memory without killing the JVM fails with a
`Py4JJavaError` naming `OutOfMemoryError` or the MemoryStore. Both are the environment failing,
not the data nor gitml: the message names Spark, the likely cause and the setting that fixes it
(exit 2, as a missing Java is). pyspark is imported inside the functions that need it.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from gitml.errors import BadInput

# SparkExitCode.OOM: the exit code of a JVM whose executor ran out of memory
OOM_EXIT = 52
EXIT_WAIT = 3  # seconds a JVM that stopped answering is given to end
# In the text of an error Spark raised: memory ran out, or the JVM's context is gone
MEMORY_SIGNS = ("OutOfMemoryError", "Java heap space", "GC overhead limit", "MemoryStore")
# a row Spark cannot parse, found while the data fills its cache
DATA_SIGNS = ("[MALFORMED_", "Malformed records are detected")
GONE_SIGNS = (
    "Answer from Java side is empty",
    "Error while receiving",
    "Error while sending",
    "SparkContext was shut down",
    "Cannot call methods on a stopped SparkContext",
    "SparkContext has been shutdown",
)
FIX = (
    "give it more memory in gitml.yaml, in the dataset's `spark: conf:` (in local mode the "
    "driver's JVM is also the executor, 3g by default: e.g. `conf: {spark.driver.memory: 6g}`; "
    "on a cluster `spark.executor.memory`), and point `spark.local.dir` at a disk with room for "
    "what Spark writes there; Spark's own last words, if any, are above"
)


def jvm_failed(exc: BaseException) -> bool:
    """Whether `exc` says the JVM died or ran out of memory (rather than that the data or the
    query is wrong)."""
    if isinstance(exc, ConnectionError):  # the Py4J socket: nothing answers on the JVM's port
        return True
    kind = type(exc).__name__
    if kind == "Py4JNetworkError":
        return True
    if not (type(exc).__module__ or "").startswith(("pyspark", "py4j")):
        return False
    text = str(exc)
    if any(sign in text for sign in DATA_SIGNS):  # its stack may pass through the MemoryStore
        return False
    return any(sign in text for sign in (*MEMORY_SIGNS, *GONE_SIGNS))


def jvm_exit() -> int | None:
    """The exit code of the JVM pyspark started in this process, None while it runs (or when
    pyspark started none: a session made elsewhere). Called when it stopped answering."""
    from pyspark import SparkContext

    proc = getattr(getattr(SparkContext, "_gateway", None), "proc", None)
    if proc is None:
        return None
    try:  # its socket closes before the kernel reports the process ended
        code = proc.wait(timeout=EXIT_WAIT)
    except subprocess.TimeoutExpired:
        return None
    return code if isinstance(code, int) else None


def _what_happened(exc: BaseException) -> str:
    code = jvm_exit()
    text = str(exc)
    if code == OOM_EXIT or (code is None and any(s in text for s in MEMORY_SIGNS)):
        return "ran out of memory" + (f" (exit code {OOM_EXIT})" if code == OOM_EXIT else "")
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return f"was killed ({name}), most likely by the kernel for want of memory (or by someone)"
    if code is not None:
        return f"exited with code {code}, most likely for want of memory"
    return "stopped answering, most likely for want of memory"


def died(name: str, exc: BaseException) -> BadInput:
    """The one message for a JVM that failed while working on the dataset `name`."""
    return BadInput(
        f"{name}: Spark's JVM {_what_happened(exc)} while working on it, so it was not "
        f"checked. Most likely the data did not fit its memory: {FIX}"
    )


def start_failed(name: str, exc: BaseException) -> BadInput:
    """The one message for a SparkSession that could not start for the dataset `name`."""
    text = " ".join(str(exc).split())
    return BadInput(
        f"{name}: Spark could not start ({text[:400]}); check the dataset's `spark:` block "
        "in gitml.yaml (`master`, `conf`)"
    )


# Hadoop's file system of a remote URL scheme Spark reads, and the jar that brings it: pyspark
# ships Hadoop's client without the cloud connectors.
CONNECTORS = {
    "s3a": (
        "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "Hadoop's S3A connector",
        "`conf: {{spark.jars.packages: org.apache.hadoop:hadoop-aws:{hadoop}}}` (pyspark's "
        "Hadoop version; Spark fetches it and the AWS SDK from Maven Central once), or its jar "
        "in `spark.jars`",
    ),
    "gs": (
        "com.google.cloud.hadoop.fs.gcs.GoogleHadoopFileSystem",
        "Google's Cloud Storage connector",
        "the shaded `gcs-connector` jar for Hadoop 3 in `conf: {{spark.jars: PATH}}`",
    ),
}


def pyspark_hadoop_version() -> str:
    """The Hadoop version pyspark ships (its hadoop-client-api jar's), '3.x' if not found."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    places = list(spec.submodule_search_locations or []) if spec else []
    for base in places:
        for jar in sorted(Path(base, "jars").glob("hadoop-client-api-*.jar")):
            return jar.name.removeprefix("hadoop-client-api-").removesuffix(".jar")
    return "3.x"


def missing_filesystem(name: str, text: str) -> BadInput | None:
    """The message for a remote URL whose Hadoop file system is not on Spark's classpath (an
    s3a:// or gs:// remote read with `read_from_remote`), None for any other error."""
    for scheme, (cls, what, how) in CONNECTORS.items():
        if f"Class {cls} not found" in text or f'No FileSystem for scheme "{scheme}"' in text:
            return BadInput(
                f"{name}: Spark cannot read {scheme}:// URLs here: {what} ({cls}) is not on "
                "its classpath. Add it to the dataset's `spark:` block in gitml.yaml: "
                f"{how.format(hadoop=pyspark_hadoop_version())}; or set `read_from_remote: "
                "false` to read the local DVC cache"
            )
    return None
