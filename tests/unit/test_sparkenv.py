"""gitml/sparkenv.py: what the Spark engine needs, checked without starting it (real `java`
processes: the machine's, and small scripts that print what old runtimes print)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml import sparkenv, sparkfailure
from gitml.errors import BadInput


def _fake_java(tmp_path: Path, says: str) -> Path:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{says}' >&2\n")
    java.chmod(0o755)
    return home


@pytest.mark.parametrize(
    ("says", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_202"', 8),
        ('openjdk version "21" 2023-09-19', 21),
        ("no version here", None),
    ],
)
def test_the_major_version_java_reports(tmp_path: Path, says: str, major: int | None) -> None:
    java = _fake_java(tmp_path, says) / "bin" / "java"
    assert sparkenv.java_major(str(java)) == major


def test_an_old_or_missing_java_is_named_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, 'openjdk version "11.0.2"')))
    problem = sparkenv.java_problem()
    assert problem and "Java 11" in problem and sparkenv.JAVA_INSTALL in problem
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    problem = sparkenv.java_problem()
    assert problem and "no Java runtime on JAVA_HOME" in problem
    assert "sudo apt-get install -y openjdk-17-jre-headless" in problem
    with pytest.raises(BadInput, match="data/big.csv has `engine: spark`, but"):
        sparkenv.require("data/big.csv")


def test_doctor_checks_java_only_for_a_spark_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gitml.yaml").write_text("version: 1\ndata:\n  - path: d.csv\n")
    assert sparkenv.doctor_checks(tmp_path) == []
    (tmp_path / "gitml.yaml").write_text("version: 1\ndata:\n  - path: d.csv\n    engine: spark\n")
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, 'openjdk version "11.0.2"')))
    found = {name: (status, detail) for name, status, detail in sparkenv.doctor_checks(tmp_path)}
    assert (
        found["Java for Spark"][0] == "fail" and sparkenv.JAVA_INSTALL in found["Java for Spark"][1]
    )
    assert set(found) == {"pyspark", "Java for Spark"}


def test_doctor_checks_the_connector_of_a_cloud_remote_spark_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`read_from_remote` on an s3:// remote: the S3A connector must come with the dataset's
    `spark.conf` in local mode (pyspark ships none); a cluster may hold it (a warning)."""
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text(
        "[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://bucket/dvc\n"
    )

    def checks(spark_block: str) -> dict[str, tuple[str, str]]:
        (tmp_path / "gitml.yaml").write_text(
            "version: 1\ndata:\n  - path: d.csv\n    engine: spark\n"
            f"    spark:\n      read_from_remote: true\n{spark_block}"
        )
        return {n: (s, d) for n, s, d in sparkenv.doctor_checks(tmp_path)}

    name = "Spark's s3a:// connector for d.csv"
    status, detail = checks("")[name]
    hadoop = sparkfailure.pyspark_hadoop_version()
    assert status == "fail"
    assert f"spark.jars.packages: org.apache.hadoop:hadoop-aws:{hadoop}" in detail
    packages = f"      conf: {{spark.jars.packages: 'org.apache.hadoop:hadoop-aws:{hadoop}'}}\n"
    assert checks(packages)[name] == ("ok", "hadoop-aws in its `spark.conf`")
    status, detail = checks("      master: yarn\n")[name]
    assert status == "warn" and "the cluster (yarn) must hold hadoop-aws" in detail
    # a local-path remote needs no connector
    (tmp_path / ".dvc" / "config").write_text(
        "[core]\n    remote = l\n['remote \"l\"']\n    url = /srv/dvc\n"
    )
    assert name not in checks("")
