"""Repository-relative paths: normalised, and refused when they escape the repository."""

from __future__ import annotations

import os
import posixpath
import unicodedata
from pathlib import Path, PurePosixPath

from gitml.errors import BadInput

# What Linux (and most filesystems) accept: longer names fail every system call with
# ENAMETOOLONG, so they are refused as bad input where they are read, not deep in a command.
NAME_MAX = 255  # bytes in one path component
PATH_MAX = 4096  # bytes in a whole path


def normalize(path: str, *, base: str = "", what: str = "path") -> str:
    """`path` (relative to `base`, a repo-relative directory) as a clean repo-relative path.

    Raises BadInput for absolute paths and paths that climb out of the repository.
    """
    _refuse_bad_characters(path, what)
    p = path.replace("\\", "/")
    if PurePosixPath(p).is_absolute() or (len(p) > 1 and p[1] == ":"):
        raise BadInput(
            f"{what} {_shown(path)} is absolute: paths must be relative to the repository"
        )
    joined = posixpath.normpath(posixpath.join(base, p)) if base else posixpath.normpath(p)
    if joined == ".." or joined.startswith("../"):
        raise BadInput(f"{what} {_shown(path)} is outside the repository")
    if any(is_git_dir_name(part) for part in joined.split("/")):
        raise BadInput(f"{what} {_shown(path)} is inside a `.git` directory: refused")
    _refuse_too_long(path, joined, what)
    return "" if joined == "." else joined


def _refuse_bad_characters(path: str, what: str) -> None:
    """A path must be a non-empty string without NUL or control characters."""
    if not isinstance(path, str) or not path.strip():
        shown = _shown(path) if isinstance(path, str) else type(path).__name__
        raise BadInput(f"{what} must be a non-empty path, got {shown}")
    if "\0" in path:
        raise BadInput(f"{what} {_shown(path)} contains a NUL byte")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        # a newline ends a Markdown block, ESC drives a terminal: no DVC project needs either
        raise BadInput(f"{what} {_shown(path)} contains a control character (newline, ESC, …)")


def _refuse_too_long(path: str, joined: str, what: str) -> None:
    encoded = joined.encode("utf-8", "surrogateescape")
    if len(encoded) > PATH_MAX or any(len(part) > NAME_MAX for part in encoded.split(b"/")):
        raise BadInput(
            f"{what} {_shown(path)} is too long (at most {NAME_MAX} bytes a name, "
            f"{PATH_MAX} in all)"
        )


# Code points HFS+ ignores in names (git's is_hfs_dotgit): `.g\u200cit` is `.git` there.
_HFS_IGNORED = frozenset(
    [0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E]
    + list(range(0x206A, 0x2070))
    + [0xFEFF]
)


def is_git_dir_name(name: str) -> bool:
    """Whether a path component names git's directory on some filesystem a clone may be
    checked out on, as git's own verify_path judges it: any case, after Unicode compatibility
    normalisation, with HFS+'s ignored code points and NTFS's trailing dots and spaces dropped,
    and NTFS's short name `git~1`. No repository file may be read or written there."""
    folded = unicodedata.normalize("NFKC", name)
    folded = "".join(ch for ch in folded if ord(ch) not in _HFS_IGNORED)
    folded = folded.rstrip(". ").casefold()
    return folded in (".git", "git~1")


def is_dvc_dir_path(path: str) -> bool:
    """Whether a repo-relative path lies in a `.dvc` directory (DVC's config, cache, tmp):
    never a place a DVC-tracked file is written to."""
    return any(
        unicodedata.normalize("NFKC", part).rstrip(". ").casefold() == ".dvc"
        for part in path.split("/")
    )


def _shown(path: str, limit: int = 80) -> str:
    return (
        repr(path) if len(path) <= limit else repr(path[:limit]) + f"... ({len(path)} characters)"
    )


def inside(root: Path, rel: str) -> Path:
    """The absolute path of `rel`, refusing one that a symlink leads out of the repository."""
    target = root / rel
    try:
        resolved = target.resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop; a name the system refuses
        raise BadInput(f"path {_shown(rel)} cannot be resolved ({exc})") from None
    root_resolved = root.resolve()
    if resolved != root_resolved and root_resolved not in resolved.parents:
        raise BadInput(f"path {_shown(rel)} leads outside the repository (to {resolved})")
    if any(is_git_dir_name(part) for part in resolved.relative_to(root_resolved).parts):
        raise BadInput(f"path {_shown(rel)} leads into a `.git` directory (through a symlink)")
    return target


def is_under(path: str, prefix: str) -> bool:
    """True when repo-relative `path` is `prefix` or lies below it."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/") or prefix == ""


def repo_relative(root: Path, given: str, *, what: str = "path") -> str | None:
    """A path given on the command line, relative to the current directory as git and DVC take
    it (or absolute), as a clean repo-relative path; None when it lies outside the repository
    at `root`. Symlinks are not followed: a DVC-tracked file may be a link into the cache."""
    _refuse_bad_characters(given, what)
    absolute = os.path.normpath(os.path.join(os.getcwd(), given))
    for top in dict.fromkeys([str(root), str(root.resolve())]):
        rel = os.path.relpath(absolute, top)
        if rel != ".." and not rel.startswith("../"):
            return normalize(rel.replace(os.sep, "/"), what=what)
    return None


def from_cli(root: Path, given: str, *, what: str = "path") -> str:
    """`repo_relative`, refusing (bad input, naming it) a path outside the repository."""
    rel = repo_relative(root, given, what=what)
    if rel is None:
        raise BadInput(f"{what} {_shown(given)} is outside the repository {root}")
    return rel


def model_from_cli(root: Path, given: str) -> str:
    """A model named on the command line by gitml.yaml name or by path: the path made
    repo-relative when it names a file (or is spelled as a path, `./…`, `../…`) from a
    subdirectory; else as given, a name (or a path from the repository's top, as before)."""
    rel = repo_relative(root, given, what="model")
    if rel is None or rel == given:
        return given
    if os.path.lexists(given) or given.startswith(("./", "../")):
        return rel
    return given
