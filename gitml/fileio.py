"""Reading and writing files the way gitml promises: atomically, deterministically, hashed."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

CHUNK = 1024 * 1024


def atomic_write(path: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    """Write `data` to `path` through a temp file and a rename.

    A reader (or a crash) sees the old file or the new one, never half of one. The temp file is
    made in `tmp_dir` when given (a kill -9 must not leave it in the user's worktree, where
    `git add -A` would pick it up), else, or when `tmp_dir` is on another filesystem, next to
    `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is not None:
        try:
            _write_and_rename(path, data, tmp_dir)
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
    _write_and_rename(path, data, path.parent)


def _write_and_rename(path: Path, data: bytes, tmp_dir: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=tmp_dir)
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load_yaml(text: bytes | str) -> Any:
    return yaml.load(text, Loader=_Loader)


def dump_yaml(data: Any) -> str:
    return str(
        yaml.dump(
            data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True
        )
    )


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def round_sig(value: float, digits: int = 6) -> float:
    """Round to `digits` significant digits so recorded figures do not churn between machines."""
    if value == 0 or value != value or value in (float("inf"), float("-inf")):
        return value
    return float(f"{value:.{digits}g}")
