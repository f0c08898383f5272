"""gitml/sparksources.py's Hadoop settings for a cloud DVC remote, and gitml/sparkfailure.py's
message for a remote whose Hadoop file system Spark lacks: pure functions over the config files
DVC writes (in process, no Spark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml import dvcconfig, sparkfailure, sparksources


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("DVC_GLOBAL_CONFIG_DIR", raising=False)
    (tmp_path / "repo" / ".dvc").mkdir(parents=True)
    return tmp_path / "repo"


def settings(root: Path, config: str, local: str = "") -> dict[str, str]:
    (root / ".dvc" / "config").write_text(config)
    if local:
        (root / ".dvc" / "config.local").write_text(local)
    return sparksources.hadoop_settings(dvcconfig.read_config(root))


def test_an_s3_compatible_remote_is_read_where_dvc_reads_it(repo: Path) -> None:
    """endpoint (served by path), region, and the keys DVC keeps in config.local."""
    found = settings(
        repo,
        "[core]\n    remote = store\n"
        "['remote \"store\"']\n    url = s3://bucket/dvc\n"
        "    endpointurl = http://127.0.0.1:9000\n    region = eu-west-1\n    use_ssl = false\n",
        "['remote \"store\"']\n    access_key_id = AKIA1\n    secret_access_key = s3cret\n",
    )
    assert found == {
        "fs.s3a.endpoint": "http://127.0.0.1:9000",
        "fs.s3a.path.style.access": "true",
        "fs.s3a.endpoint.region": "eu-west-1",
        "fs.s3a.access.key": "AKIA1",
        "fs.s3a.secret.key": "s3cret",
        "fs.s3a.connection.ssl.enabled": "false",
    }


def test_a_session_token_selects_the_temporary_credentials_provider(repo: Path) -> None:
    found = settings(
        repo,
        "[core]\n    remote = s\n['remote \"s\"']\n    url = s3://b/p\n"
        "    access_key_id = A\n    secret_access_key = B\n    session_token = T\n",
    )
    assert found["fs.s3a.session.token"] == "T"
    assert found["fs.s3a.aws.credentials.provider"].endswith("TemporaryAWSCredentialsProvider")
    assert "fs.s3a.endpoint" not in found and "fs.s3a.path.style.access" not in found


def test_a_gcs_key_file_by_the_names_of_both_connector_versions(repo: Path) -> None:
    found = settings(
        repo,
        "[core]\n    remote = g\n['remote \"g\"']\n    url = gs://b/p\n"
        "    projectname = proj\n    credentialpath = /keys/sa.json\n",
    )
    assert found == {
        "fs.gs.project.id": "proj",
        "google.cloud.auth.service.account.json.keyfile": "/keys/sa.json",
        "fs.gs.auth.type": "SERVICE_ACCOUNT_JSON_KEYFILE",
        "fs.gs.auth.service.account.json.keyfile": "/keys/sa.json",
    }


@pytest.mark.parametrize("url", ["../../store", "hdfs://nn:8020/dvc", "ssh://host/dvc"])
def test_remotes_whose_url_says_it_all_need_no_settings(repo: Path, url: str) -> None:
    config = f"[core]\n    remote = r\n['remote \"r\"']\n    url = {url}\n    region = x\n"
    assert settings(repo, config) == {}


# the text pyspark 4.1 gives (one line) for an s3a:// URL without hadoop-aws on the classpath
NO_S3A = (
    "An error occurred while calling o47.csv. : java.lang.RuntimeException: "
    "java.lang.ClassNotFoundException: Class org.apache.hadoop.fs.s3a.S3AFileSystem not found "
    "at org.apache.hadoop.conf.Configuration.getClass(Configuration.java:2737)"
)


def test_a_missing_connector_names_the_jar_of_pyspark_s_hadoop() -> None:
    found = sparkfailure.missing_filesystem("data/x.csv", NO_S3A)
    assert found is not None
    hadoop = sparkfailure.pyspark_hadoop_version()
    assert hadoop[0].isdigit() or hadoop == "3.x"
    assert str(found).startswith("data/x.csv: Spark cannot read s3a:// URLs here")
    assert f"spark.jars.packages: org.apache.hadoop:hadoop-aws:{hadoop}" in str(found)
    gs = sparkfailure.missing_filesystem("d", 'No FileSystem for scheme "gs"')
    assert gs is not None and "gcs-connector" in str(gs)
    assert sparkfailure.missing_filesystem("d", "Path does not exist: file:/x.csv") is None
