"""Repository-relative paths: normalised, and refused when they escape the repository."""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath

from gitml.errors import BadInput


def normalize(path: str, *, base: str = "", what: str = "path") -> str:
    """`path` (relative to `base`, a repo-relative directory) as a clean repo-relative path.

    Raises BadInput for absolute paths and paths that climb out of the repository.
    """
    if not isinstance(path, str) or not path.strip():
        raise BadInput(f"{what} must be a non-empty path, got {path!r}")
    if "\0" in path:
        raise BadInput(f"{what} {path!r} contains a NUL byte")
    p = path.replace("\\", "/")
    if PurePosixPath(p).is_absolute() or (len(p) > 1 and p[1] == ":"):
        raise BadInput(f"{what} {path!r} is absolute: paths must be relative to the repository")
    joined = posixpath.normpath(posixpath.join(base, p)) if base else posixpath.normpath(p)
    if joined == ".." or joined.startswith("../"):
        raise BadInput(f"{what} {path!r} is outside the repository")
    return "" if joined == "." else joined


def inside(root: Path, rel: str) -> Path:
    """The absolute path of `rel`, refusing one that a symlink leads out of the repository."""
    target = root / rel
    resolved = target.resolve()
    root_resolved = root.resolve()
    if resolved != root_resolved and root_resolved not in resolved.parents:
        raise BadInput(f"path {rel!r} leads outside the repository (to {resolved})")
    return target


def is_under(path: str, prefix: str) -> bool:
    """True when repo-relative `path` is `prefix` or lies below it."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/") or prefix == ""
