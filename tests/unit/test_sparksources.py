"""gitml/sparksources.py's Hadoop settings for a cloud DVC remote, and gitml/sparkfailure.py's
message for a remote whose Hadoop file system Spark lacks: pure functions over the config files
DVC writes (in process, no Spark)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from gitml import dvcconfig, sparkfailure, sparksources
from gitml.dvcfiles import Out
from gitml.errors import BadInput


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


def _config(root: Path, url: str, default: bool = True) -> dvcconfig.DvcConfig:
    core = "[core]\n    remote = r\n" if default else ""
    (root / ".dvc" / "config").write_text(f"{core}['remote \"r\"']\n    url = {url}\n")
    return dvcconfig.read_config(root)


@pytest.mark.parametrize(
    ("url", "read_at"),
    [
        ("s3://bucket/dvc", "s3a://bucket/dvc"),
        ("s3a://bucket/dvc", "s3a://bucket/dvc"),
        ("gs://bucket/dvc", "gs://bucket/dvc"),
        ("gcs://bucket/dvc", "gs://bucket/dvc"),  # DVC's other name for Google Cloud Storage
        ("hdfs://nn:8020/dvc", "hdfs://nn:8020/dvc"),
    ],
)
def test_a_remote_is_read_by_the_scheme_of_hadoops_file_system(
    repo: Path, url: str, read_at: str
) -> None:
    assert sparksources.remote_root(_config(repo, url), "data/x.csv") == ("r", read_at)


def test_a_local_path_remote_is_read_as_a_file_url_of_its_absolute_path(repo: Path) -> None:
    # relative to .dvc/, as DVC reads it
    name, url = sparksources.remote_root(_config(repo, "../../store"), "data/x.csv")
    assert (name, url) == ("r", (repo.parent / "store").resolve().as_uri())


@pytest.mark.parametrize(
    ("url", "default", "message"),
    [
        ("ssh://host/dvc", True, "Spark cannot read DVC remote 'r' (ssh://); `read_from_remote`"),
        ("azure://c/dvc", True, "takes gcs, gs, hdfs, s3, s3a or a local path"),
        ("s3://bucket/dvc", False, "the repository has no default DVC remote"),
    ],
)
def test_a_remote_spark_cannot_read_is_one_message(
    repo: Path, url: str, default: bool, message: str
) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        sparksources.remote_root(_config(repo, url, default), "data/x.csv")


def test_a_tracked_directorys_members_are_read_on_the_remote_hidden_ones_aside(
    repo: Path,
) -> None:
    """The `.dir` listing in the local cache names the members; each is read at its object's
    place on the remote (DVC 3's files/md5/ layout), a hidden file (.gitignore) not at all."""
    listing = [
        {"md5": "a" * 32, "relpath": "part-0.csv"},
        {"md5": "b" * 32, "relpath": "sub/part-1.csv"},
        {"md5": "c" * 32, "relpath": "sub/.gitignore"},
    ]
    body = json.dumps(listing, sort_keys=True).encode()
    md5 = hashlib.md5(body).hexdigest()
    cache = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2]
    cache.mkdir(parents=True)
    (cache / f"{md5[2:]}.dir").write_bytes(body)
    cfg = _config(repo, "gs://bucket/store")
    out = Out("data/parts", f"{md5}.dir", "md5", None, 3, "data/parts.dvc")
    found = sparksources.remote_objects(cfg, repo, "data/parts", out)
    assert [(o.name, o.url, o.md5) for o in found] == [
        ("data/parts/part-0.csv", f"gs://bucket/store/files/md5/aa/{'a' * 30}", "a" * 32),
        ("data/parts/sub/part-1.csv", f"gs://bucket/store/files/md5/bb/{'b' * 30}", "b" * 32),
    ]
    (cache / f"{md5[2:]}.dir").unlink()  # the listing nowhere: said, not guessed
    with pytest.raises(BadInput, match="the listing of the directory .* is on no remote"):
        sparksources.remote_objects(cfg, repo, "data/parts", out)
