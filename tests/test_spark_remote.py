"""`read_from_remote` on an S3 remote (issue 19): a real S3 API (moto's server on loopback, as
DVC's own tests serve S3) that DVC pushes to through dvc-s3, with the endpoint and the keys in
`.dvc/config` and `.dvc/config.local` as DVC users keep them.

What this machine can show without Hadoop's S3A connector (pyspark ships Hadoop's client without
it, and Maven Central is out of reach here): the remote's objects are hashed through DVC's own
client for the remote before anything reads them (a tampered object is refused, naming its URL);
Spark is then pointed at the same endpoint with the same keys; without the connector the one
message names the jar for pyspark's Hadoop and where it goes. Spark reading s3a:// itself needs
the connector (README: `engine: spark`).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Example
from test_spark import SPARK_YAML, spark

from gitml import sparkfailure, sparksources

__all__ = ["spark"]  # test_spark's session fixture: one SparkSession per run

pytestmark = pytest.mark.slow

BUCKET = "gitml-data"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """The endpoint of an S3 API on loopback, with an empty bucket BUCKET."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client(endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def client(endpoint: str) -> Any:
    """boto3's S3 client for the server at `endpoint`, with the keys the tests give DVC."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="gitml-key",
        aws_secret_access_key="gitml-secret",
    )


def _object_key(ex: Example) -> str:
    md5 = (ex.root / "data" / "wine.csv.dvc").read_text().split("md5: ")[1].split()[0]
    return f"store/files/md5/{md5[:2]}/{md5[2:]}"


def test_an_s3_remote_is_hashed_through_dvc_then_read_by_spark_where_dvc_reads_it(
    example: Example, s3: str, spark: Any
) -> None:
    ex = example
    ex.without_model_checks()
    ex.dvc("remote", "add", "-d", "s3", f"s3://{BUCKET}/store")
    ex.dvc("remote", "modify", "s3", "endpointurl", s3)
    ex.dvc("remote", "modify", "--local", "s3", "access_key_id", "gitml-key")
    ex.dvc("remote", "modify", "--local", "s3", "secret_access_key", "gitml-secret")
    ex.dvc("push", "-q")
    assert ex.gitml("suite", "init", "data/wine.csv").returncode == 0
    cfg = ex.root / "gitml.yaml"
    suite_line = "    suite: .gitml/suites/wine.json\n"
    cfg.write_text(
        cfg.read_text().replace(
            suite_line, suite_line + SPARK_YAML + "      read_from_remote: true\n"
        )
    )
    key = _object_key(ex)
    cached = ex.root / ".dvc" / "cache" / "files" / "md5" / key.removeprefix("store/files/md5/")
    cached.unlink()  # on the remote only

    # the object hashed through DVC's client (the endpoint and keys of .dvc/config*), then
    # Spark: without the S3A connector, one message naming the jar and where it goes
    proc = ex.gitml("validate", "data/wine.csv")
    assert proc.returncode == 2, proc.stderr
    hadoop = sparkfailure.pyspark_hadoop_version()
    assert "data/wine.csv: Spark cannot read s3a:// URLs here" in proc.stderr
    assert f"spark.jars.packages: org.apache.hadoop:hadoop-aws:{hadoop}" in proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert not cached.exists()  # nothing was copied into the cache

    # Spark is pointed where DVC reads: the endpoint, by path, and the keys of config.local;
    # what the dataset's own `spark.conf` sets stays as it says
    from gitml import dvcconfig

    settings = sparksources.hadoop_settings(dvcconfig.read_config(ex.root))
    own = (("spark.hadoop.fs.s3a.endpoint.region", "eu-north-1"),)
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    hadoop_conf.set("fs.s3a.endpoint.region", "eu-north-1")
    sparksources.configure(spark, {**settings, "fs.s3a.endpoint.region": "us-east-1"}, own)
    assert hadoop_conf.get("fs.s3a.endpoint") == s3
    assert hadoop_conf.get("fs.s3a.path.style.access") == "true"
    assert hadoop_conf.get("fs.s3a.access.key") == "gitml-key"
    assert hadoop_conf.get("fs.s3a.endpoint.region") == "eu-north-1"
    for name in (*settings, "fs.s3a.endpoint.region"):
        hadoop_conf.unset(name)

    # an object on S3 that does not hash to its name: refused before Spark reads it
    s3_api = client(s3)
    body = s3_api.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3_api.put_object(Bucket=BUCKET, Key=key, Body=body.replace(b"1", b"2", 1))
    proc = ex.gitml("validate", "data/wine.csv")
    assert proc.returncode == 2, proc.stderr
    assert f"its object on the DVC remote (s3a://{BUCKET}/{key})" in proc.stderr
    assert "tampered" in proc.stderr and "Spark" not in proc.stderr
