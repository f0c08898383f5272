"""DVC objects: where they are (local cache, a local-path remote), verified by their hash."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitml import dvcfiles
from gitml.dvcfiles import DvcConfig, Out
from gitml.fileio import md5_file


@dataclass(frozen=True)
class Missing:
    path: str
    md5: str
    origin: str
    member: str | None = None  # the file inside a tracked directory
    hash: str = "md5"
    corrupt: str | None = None  # set when the object is there but its bytes do not hash to md5


def local_remotes(cfg: DvcConfig) -> list[Path]:
    """Remotes that are plain directories (the only ones checked without importing DVC)."""
    default = [cfg.default_remote] if cfg.default_remote else []
    names = default + [n for n in cfg.remotes if n not in default]
    return [Path(cfg.remotes[n]) for n in names if "://" not in cfg.remotes[n]]


def locate(cfg: DvcConfig, md5: str, hash_name: str) -> Path | None:
    for root in [cfg.cache_dir, *local_remotes(cfg)]:
        obj = dvcfiles.object_path(root, md5, hash_name)
        if obj.is_file():
            return obj
    return None


def members(cfg: DvcConfig, out: Out) -> list[tuple[str, str]] | None:
    """(relpath, md5) of a directory out, or None when its `.dir` object is nowhere local."""
    assert out.md5
    if out.listing is not None:  # a folder inside a tracked directory
        return list(out.listing)
    obj = locate(cfg, out.md5, out.hash)
    return dvcfiles.read_dir_listing(obj) if obj else None


def missing_objects(cfg: DvcConfig, outs: list[Out]) -> list[Missing]:
    """The objects of `outs` found neither in the local cache nor on a local-path remote."""
    missing = []
    for out in outs:
        if not out.md5:
            continue
        if out.is_dir:
            listing = members(cfg, out)
            if listing is None:
                missing.append(Missing(out.path, out.md5, out.origin, hash=out.hash))
                continue
            for rel, md5 in listing:
                if locate(cfg, md5, out.hash) is None:
                    missing.append(Missing(out.path, md5, out.origin, rel, out.hash))
        elif locate(cfg, out.md5, out.hash) is None:
            missing.append(Missing(out.path, out.md5, out.origin, hash=out.hash))
    return missing


def corrupt_objects(
    cfg: DvcConfig, outs: list[Out], hash_of: Callable[[Path, str], str]
) -> list[Missing]:
    """The objects of `outs` that are there but whose bytes do not hash to their name (each with
    `corrupt` set to the object's path): the commit hook refuses them before any check reads them.
    """
    bad = []
    for out in outs:
        if not out.md5:
            continue
        wanted: list[tuple[str | None, str]] = [(None, out.md5)]
        if out.is_dir:
            wanted += [(rel, md5) for rel, md5 in members(cfg, out) or []]
        for rel, md5 in wanted:
            obj = locate(cfg, md5, out.hash)
            if obj is not None and hash_of(obj, out.hash) != md5.removesuffix(".dir"):
                bad.append(Missing(out.path, md5, out.origin, rel, out.hash, str(obj)))
    return bad


def verified_copy(src: Path, md5: str, hash_name: str, dest: Path) -> bool:
    """Copy `src` to `dest` atomically if its bytes hash to `md5`; False (nothing written) if not."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with open(fd, "wb") as f, open(src, "rb") as s:
            shutil.copyfileobj(s, f, 1024 * 1024)
        actual = (
            md5_file(tmp) if hash_name == "md5" else dvcfiles.md5_for(tmp.read_bytes(), hash_name)
        )
        if actual != md5:
            tmp.unlink()
            return False
        tmp.replace(dest)
        return True
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def bring_to_cache(cfg: DvcConfig, md5: str, hash_name: str) -> Path | None:
    """The object in the local cache, copied (verified) from a local-path remote if needed."""
    cached = dvcfiles.object_path(cfg.cache_dir, md5, hash_name)
    if cached.is_file():
        return cached
    for remote in local_remotes(cfg):
        obj = dvcfiles.object_path(remote, md5, hash_name)
        if obj.is_file() and verified_copy(
            obj, md5.removesuffix(".dir") if md5.endswith(".dir") else md5, hash_name, cached
        ):
            return cached
    return None


def fetch_from_remote(
    root: Path, remote: str, missing: list[Missing], hash_name: str, cache_dir: Path
) -> set[str]:
    """Bring those of `missing` that DVC remote `remote` has into the local cache; returns the
    md5s now in the cache.

    Through DVC's data-cloud API, imported only here: the commit hook gets here only when an
    object is in no local place and the remote is not a plain directory (s3, ssh…).
    """
    from gitml import git

    with git.without_git_env():
        from dvc.repo import Repo as DvcRepo
        from dvc_data.hashfile.hash_info import HashInfo

        with DvcRepo(str(root)) as drepo:
            odb = drepo.cloud.get_remote_odb(remote, "pull", hash_name=hash_name)
            there = set(odb.oids_exist([m.md5 for m in missing]))
            if there:
                drepo.cloud.pull([HashInfo(hash_name, md5) for md5 in sorted(there)], odb=odb)
    return {md5 for md5 in there if dvcfiles.object_path(cache_dir, md5, hash_name).is_file()}


def verified_bytes(
    cfg: DvcConfig, root: Path, md5: str, hash_name: str, *, remote: bool = True
) -> bytes | None:
    """An object's bytes, once they hash to `md5`: from the local cache, else a local-path
    remote, else (with `remote`) pulled into the cache from the default DVC remote. None when
    no place has it, or what was found does not hash to its name (never trusted)."""
    obj = locate(cfg, md5, hash_name)
    name = cfg.default_remote
    if obj is None and remote and name and "://" in cfg.remotes.get(name, ""):
        wanted = Missing("", md5, "", hash=hash_name)
        # DVC's config, auth and network errors alike: then it is not there
        with contextlib.suppress(Exception):
            fetch_from_remote(root, name, [wanted], hash_name, cfg.cache_dir)
        obj = locate(cfg, md5, hash_name)
    if obj is None:
        return None
    try:
        data = obj.read_bytes()
    except OSError:
        return None
    return data if dvcfiles.md5_for(data, hash_name) == md5.removesuffix(".dir") else None
