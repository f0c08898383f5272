"""DVC objects: where they are (local cache, a local-path remote), verified by their hash."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gitml import dvcfiles
from gitml.dvcconfig import DvcConfig
from gitml.dvcfiles import Out
from gitml.fileio import CHUNK, md5_file


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
    urls = [cfg.remotes[n].removeprefix("file://") for n in names]
    return [Path(url) for url in urls if "://" not in url]


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


_UMASK = os.umask(0)
os.umask(_UMASK)
# The modes DVC gives (dvc_data LocalHashFileDB, dvc_objects `_link`): work-tree files as a new
# file under the umask, cache objects read-only, cache directories group-writable and setgid
# with `cache.shared: group`.
WORK_TREE_MODE = 0o666 & ~_UMASK
CACHE_FILE_MODE = 0o444


def cache_dir_mode(cfg: DvcConfig) -> int:
    return 0o2775 if cfg.cache_shared else 0o777 & ~_UMASK


def _make_dirs(path: Path, mode: int | None) -> None:
    """`mkdir -p` with each new directory given `mode` (not cut by the umask)."""
    if path.is_dir():
        return
    _make_dirs(path.parent, mode)
    with contextlib.suppress(FileExistsError):
        path.mkdir()
        if mode is not None:
            os.chmod(path, mode)


def _hash_of(path: Path, hash_name: str) -> str:
    if hash_name == "md5":
        return md5_file(path)
    return dvcfiles.md5_for(path.read_bytes(), hash_name)


def temporary_for(dest: Path, tmp_dir: Path | None) -> Path:
    """A new empty temporary file for `dest`'s bytes: in `tmp_dir` (named with this process's
    pid, so a sweep knows a live writer's file) when that is on `dest`'s filesystem, else next
    to `dest`."""
    if tmp_dir is not None:
        with contextlib.suppress(OSError):
            if tmp_dir.stat().st_dev == dest.parent.stat().st_dev:
                fd, name = tempfile.mkstemp(
                    prefix=f"{os.getpid()}-", suffix=f"-{dest.name[:40]}.tmp", dir=tmp_dir
                )
                os.close(fd)
                return Path(name)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    return Path(name)


def verified_copy(
    src: Path,
    md5: str,
    hash_name: str,
    dest: Path,
    *,
    tmp_dir: Path | None = None,
    mode: int = WORK_TREE_MODE,
    dir_mode: int | None = None,
) -> bool:
    """Copy `src` to `dest` atomically if its bytes hash to `md5`; False (nothing written) if not.
    The file gets `mode` (DVC's work-tree mode unless told); new directories `dir_mode`."""
    _make_dirs(dest.parent, dir_mode)
    tmp = temporary_for(dest, tmp_dir)
    try:
        with open(tmp, "wb") as f, open(src, "rb") as s:
            copied = _copied_md5(s, f) if hash_name == "md5" else None
        if (copied or _hash_of(tmp, hash_name)) != md5:
            tmp.unlink()
            return False
        os.chmod(tmp, mode)
        tmp.replace(dest)
        return True
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _copied_md5(src: BinaryIO, dest: BinaryIO) -> str:
    """Copy `src` to `dest`; the md5 of the bytes written, hashed as they pass (not read back
    from `dest`: one open and read fewer per file of a restore of many)."""
    digest = hashlib.md5()
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        dest.write(chunk)
    return digest.hexdigest()


def _reflink(src: Path, dest: Path) -> None:
    import fcntl

    ficlone = 0x40049409  # linux/fs.h FICLONE, as dvc_objects uses it
    if sys.platform != "linux":
        raise OSError(errno.ENOTSUP, "reflink is not supported here")
    with open(src, "rb") as s, open(dest, "wb") as d:
        fcntl.ioctl(d.fileno(), ficlone, s.fileno())


# The errors with which a filesystem says it cannot make a link of a type at all (DVC's list,
# dvc_objects.fs.generic._try_links); any other error is about the one file.
CANNOT_LINK = frozenset(
    {
        errno.EPERM,
        errno.ENOTSUP,
        errno.EXDEV,
        errno.ENOTTY,
        errno.ENOSYS,
        errno.EINVAL,
        errno.EAGAIN,
    }
)
# (link type, the object's device, the destination directory's device) found unable: not tried
# again in this process, as DVC drops a failed type for the rest of a checkout. Trying a reflink
# on a filesystem without them for each of 20,000 files doubled the files created and deleted,
# and `gitml restore` took 38-41 s where `dvc checkout` took 14 (18 s once remembered).
_UNABLE: set[tuple[str, int, int]] = set()


def linked(
    cfg: DvcConfig, obj: Path, md5: str, hash_name: str, dest: Path, tmp_dir: Path | None
) -> str | None:
    """Put cache object `obj` at `dest` the way `cache.type` asks, trying its types in order as
    DVC does (a type the filesystems could not make is not tried again: CANNOT_LINK); returns
    the type used, or None when `obj` does not hash to `md5` (nothing written). A hardlink or
    symlink shares the cache's (read-only) file; a reflink or a copy is a file of the work
    tree's mode. The object is verified before it is linked."""
    _make_dirs(dest.parent, None)
    devices = (obj.stat().st_dev, dest.parent.stat().st_dev)
    verified = False
    for kind in cfg.cache_types:
        if kind == "copy":
            return "copy" if verified_copy(obj, md5, hash_name, dest, tmp_dir=tmp_dir) else None
        if (kind, *devices) in _UNABLE:
            continue
        if kind != "reflink" and not verified:
            if _hash_of(obj, hash_name) != md5:
                return None
            verified = True
        tmp = temporary_for(dest, tmp_dir)
        try:
            tmp.unlink()
            if kind == "reflink":
                _reflink(obj, tmp)
                if _hash_of(tmp, hash_name) != md5:  # the clone's bytes are the object's
                    tmp.unlink()
                    return None
                os.chmod(tmp, WORK_TREE_MODE)
            elif kind == "hardlink":
                os.link(obj, tmp)
            else:
                os.symlink(obj.absolute(), tmp)
            os.replace(tmp, dest)
            return kind
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno in CANNOT_LINK:
                _UNABLE.add((kind, *devices))
            continue  # the next type, as DVC does
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return None


def save_to_cache(cfg: DvcConfig, path: Path, md5: str, hash_name: str) -> Path | None:
    """Put the bytes of work-tree file `path` (hashing to `md5`) into the local DVC cache, as
    DVC would store them; returns the object, or None when the bytes changed meanwhile."""
    dest = dvcfiles.object_path(cfg.cache_dir, md5, hash_name)
    if dest.is_file() and _hash_of(dest, hash_name) == md5:
        return dest
    ok = verified_copy(
        path, md5, hash_name, dest, mode=CACHE_FILE_MODE, dir_mode=cache_dir_mode(cfg)
    )
    return dest if ok else None


def bring_to_cache(cfg: DvcConfig, md5: str, hash_name: str) -> Path | None:
    """The object in the local cache, copied (verified) from a local-path remote if needed."""
    cached = dvcfiles.object_path(cfg.cache_dir, md5, hash_name)
    if cached.is_file():
        return cached
    for remote in local_remotes(cfg):
        obj = dvcfiles.object_path(remote, md5, hash_name)
        if obj.is_file() and verified_copy(
            obj,
            md5.removesuffix(".dir"),
            hash_name if not md5.endswith(".dir") else "md5",
            cached,
            mode=CACHE_FILE_MODE,
            dir_mode=cache_dir_mode(cfg),
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
