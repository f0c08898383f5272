"""gitml/sparkenv.py: what the Spark engine needs, checked without starting it (real `java`
processes: the machine's, and small scripts that print what old runtimes print)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml import sparkenv
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
