"""Where the Spark engine reads a dataset's bytes with `spark: {read_from_remote: true}`: the
objects on the DVC remote itself, by URL (s3:// as s3a://, gs://, hdfs://; a local-path remote
as file://), so that no copy is made into the cache or the work tree.

The bytes are the ones the commit names only once they hash to their names: each object is
hashed before Spark reads it (a local path directly, any other remote streamed through DVC's own
client for it, with the remote's configuration), and one that does not match is refused.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import dvcfiles, objects
from gitml.dvcconfig import DvcConfig
from gitml.dvcfiles import Out
from gitml.errors import BadInput
from gitml.fileio import md5_file

# DVC remote scheme -> the scheme Hadoop's file systems read it by
SCHEMES = {"s3": "s3a", "s3a": "s3a", "gs": "gs", "gcs": "gs", "hdfs": "hdfs", "file": "file"}


@dataclass(frozen=True)
class RemoteObject:
    name: str  # the repo path messages show (a directory's member below it)
    url: str  # what Spark reads
    md5: str
    hash: str  # DVC's hash field (md5, md5-dos2unix)


def remote_root(cfg: DvcConfig, dataset: str) -> tuple[str, str]:
    """(name, URL Spark reads objects below) of the default DVC remote."""
    name = cfg.default_remote
    url = cfg.remotes.get(name or "")
    if not name or not url:
        raise BadInput(
            f"{dataset} has `spark: {{read_from_remote: true}}`, but the repository has no "
            "default DVC remote (`dvc remote add -d NAME URL`)"
        )
    scheme, sep, rest = url.partition("://")
    if not sep:  # a local path (dvcconfig made it absolute)
        return name, Path(url).resolve().as_uri()
    if scheme not in SCHEMES:
        raise BadInput(
            f"{dataset}: Spark cannot read DVC remote {name!r} ({scheme}://); "
            f"`read_from_remote` takes {', '.join(sorted(set(SCHEMES) - {'file'}))} or a local "
            "path. Set `read_from_remote: false` to read the local cache"
        )
    return name, f"{SCHEMES[scheme]}://{rest}"


def remote_objects(cfg: DvcConfig, root: Path, path: str, out: Out) -> list[RemoteObject]:
    """The objects of a tracked file or of the members of a tracked directory (hidden ones
    aside), each with its URL on the default remote."""
    assert out.md5
    _, base = remote_root(cfg, path)
    if not out.is_dir:
        wanted = [("", out.md5)]
    else:
        listing = _listing(cfg, root, path, out)
        wanted = [(rel, m) for rel, m in listing if not rel.rsplit("/", 1)[-1].startswith(".")]
    if not wanted:
        raise BadInput(f"{path}: the directory has no files")
    return [
        RemoteObject(
            f"{path}/{rel}" if rel else path,
            posixpath.join(base.rstrip("/"), dvcfiles.object_relpath(md5, out.hash)),
            md5,
            out.hash,
        )
        for rel, md5 in wanted
    ]


def _listing(cfg: DvcConfig, root: Path, path: str, out: Out) -> list[tuple[str, str]]:
    """A directory's (relpath, md5) listing: its `.dir` object is small, and is brought into the
    local cache (verified) when it is not there."""
    assert out.md5
    listing = objects.members(cfg, out)
    if listing is None and objects.verified_bytes(cfg, root, out.md5, out.hash) is not None:
        listing = objects.members(cfg, out)
    if listing is None:
        raise BadInput(f"{path}: the listing of the directory ({out.md5}) is on no remote")
    return listing


def verify(cfg: DvcConfig, root: Path, found: list[RemoteObject]) -> None:
    """BadInput for an object whose bytes on the remote do not hash to its name."""
    for obj in found:
        actual = _remote_md5(cfg, root, obj)
        if actual != obj.md5:
            raise BadInput(
                f"{obj.name}: its object on the DVC remote ({obj.url}) hashes to {actual}, not "
                f"{obj.md5} (corrupt or tampered with); it was not validated. Push it again "
                "from a clone that has the right bytes (`dvc push`)"
            )


def _remote_md5(cfg: DvcConfig, root: Path, obj: RemoteObject) -> str:
    if obj.url.startswith("file://"):
        local = Path(obj.url.removeprefix("file://"))
        if not local.is_file():
            raise BadInput(f"{obj.name}: its object {obj.md5} is not on the DVC remote ({local})")
        if obj.hash == "md5":
            return md5_file(local)
        return dvcfiles.md5_for(local.read_bytes(), obj.hash)
    return _streamed_md5(cfg, root, obj)


def _streamed_md5(cfg: DvcConfig, root: Path, obj: RemoteObject) -> str:
    """The md5 of a cloud object, streamed through DVC's client for the remote (its auth and
    options), nothing written anywhere. DVC is imported only here."""
    from gitml import git

    if obj.hash != "md5":
        raise BadInput(
            f"{obj.name}: a DVC 2 object ({obj.hash}) on a cloud remote is not verified while "
            "streamed; set `read_from_remote: false` to read it from the local cache"
        )
    with git.without_git_env():
        from dvc.repo import Repo as DvcRepo

        with DvcRepo(str(root)) as drepo:
            odb = drepo.cloud.get_remote_odb(cfg.default_remote, "pull", hash_name=obj.hash)
            try:
                handle = odb.fs.open(odb.oid_to_path(obj.md5), "rb")
            except FileNotFoundError:
                raise BadInput(
                    f"{obj.name}: its object {obj.md5} is not on the DVC remote"
                ) from None
            digest = hashlib.md5()
            with handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


# DVC's options of an s3:// or gs:// remote -> the Hadoop settings of the same thing, so that
# Spark reads the remote DVC pushes to (a MinIO or other S3-compatible endpoint, a region, keys
# kept in .dvc/config.local) and not the provider's default. A `profile` has no such setting:
# Spark's S3A reads the AWS default chain (AWS_PROFILE, the environment, ~/.aws).
S3_OPTIONS = {
    "endpointurl": "fs.s3a.endpoint",
    "region": "fs.s3a.endpoint.region",
    "access_key_id": "fs.s3a.access.key",
    "secret_access_key": "fs.s3a.secret.key",
    "session_token": "fs.s3a.session.token",
}
GS_OPTIONS = {
    "projectname": "fs.gs.project.id",
    # the key file, by the names of the connector's versions 2 and 3
    "credentialpath": "google.cloud.auth.service.account.json.keyfile",
}


def hadoop_settings(cfg: DvcConfig) -> dict[str, str]:
    """The Hadoop settings Spark needs to read the default DVC remote as DVC does (empty for a
    local path or HDFS, whose URL says it all)."""
    scheme = remote_scheme(cfg)
    by_scheme = {"s3a": _s3_settings, "gs": _gs_settings}
    options = cfg.remote_options.get(cfg.default_remote or "", {})
    return by_scheme[scheme](options) if scheme in by_scheme else {}


def remote_scheme(cfg: DvcConfig) -> str | None:
    """The scheme Spark reads the default DVC remote by (s3a, gs, hdfs), None for a local path,
    no remote or one Spark cannot read."""
    url = cfg.remotes.get(cfg.default_remote or "") or ""
    scheme, sep, _ = url.partition("://")
    return SCHEMES.get(scheme) if sep else None


def _s3_settings(options: dict[str, str]) -> dict[str, str]:
    found = {key: options[o] for o, key in S3_OPTIONS.items() if options.get(o)}
    if "fs.s3a.endpoint" in found:  # S3-compatible stores serve buckets by path
        found["fs.s3a.path.style.access"] = "true"
    if str(options.get("use_ssl", "")).lower() == "false":
        found["fs.s3a.connection.ssl.enabled"] = "false"
    if "fs.s3a.session.token" in found:
        found["fs.s3a.aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
        )
    return found


def _gs_settings(options: dict[str, str]) -> dict[str, str]:
    found = {key: options[o] for o, key in GS_OPTIONS.items() if options.get(o)}
    keyfile = found.get("google.cloud.auth.service.account.json.keyfile")
    if keyfile:
        found["fs.gs.auth.type"] = "SERVICE_ACCOUNT_JSON_KEYFILE"
        found["fs.gs.auth.service.account.json.keyfile"] = keyfile
    return found


def configure(spark: Any, settings: dict[str, str], conf: tuple[tuple[str, str], ...]) -> None:
    """`settings` into the session's Hadoop configuration, but for those the dataset's
    `spark.conf` sets itself (`spark.hadoop.KEY`: the user's word wins)."""
    own = {key.removeprefix("spark.hadoop.") for key, _ in conf}
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in settings.items():
        if key not in own:
            hadoop.set(key, value)
