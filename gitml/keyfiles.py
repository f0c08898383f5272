"""The key files: the files that describe a DVC + gitml project, named once for every reader.

A staged key file always means work for the commit hook. Python reads the list here
(`is_key_file`); the installed hook shim (sh) gets the same list as a `grep -E` regex and `git
ls-files` pathspecs, which `gitml init` writes into it from here (`shim_regex`,
`LISTING_PATHSPECS`). Stdlib only: the commit hook's fast path uses this module.
"""

from __future__ import annotations

import fnmatch
import posixpath
from pathlib import Path

from gitml import git


class KeyFile:
    """One kind of key file (a plain class: `dataclasses` would cost the fast path ~10 ms).

    `name`: a file-name glob, matched against the last component of a path.
    `keys_watch_list`: whether the file is in the listing the watch-list is keyed by
    (`staged_listing`), i.e. one of the files the watched paths are computed from.
    """

    __slots__ = ("keys_watch_list", "name")

    def __init__(self, name: str, keys_watch_list: bool = True) -> None:
        self.name = name
        self.keys_watch_list = keys_watch_list


KEY_FILES = (
    KeyFile("dvc.yaml"),
    KeyFile("dvc.lock"),
    KeyFile("*.dvc"),
    KeyFile("gitml.yaml"),
    KeyFile("gitml.lock"),
    # DVC's default params file. A key file: read with the DVC files (one cat-file call), and
    # a staged change to it is always work for the hook. Not in the watch-list's key: the
    # watched paths come from dvc.yaml, dvc.lock, .dvc files and gitml.yaml (which already name
    # the params files the stages read), so a branch that changes only params keeps the
    # watch-list current. Known gap: a templated dvc.yaml whose `foreach` reads params.yaml
    # may watch other outputs on such a branch, until the next staged key file redoes the list.
    KeyFile("params.yaml", keys_watch_list=False),
)

# `git ls-files` pathspecs of the files the watch-list is computed from, at any depth.
LISTING_PATHSPECS = tuple(f":(glob)**/{k.name}" for k in KEY_FILES if k.keys_watch_list)


def is_key_file(path: str) -> bool:
    name = posixpath.basename(path)
    return any(fnmatch.fnmatchcase(name, k.name) for k in KEY_FILES)


def staged_listing(root: Path) -> bytes:
    """`git ls-files -s` of the staged files the watch-list is computed from (the shim runs
    the same command, with the same pathspecs, and compares the bytes)."""
    return git.run(["ls-files", "-s", "--", *LISTING_PATHSPECS], root).stdout


_ERE_SPECIAL = set(".[]()*+?{}|^$\\")


def _name_regex(glob: str) -> str:
    """A file-name glob as an extended regex of one path component (`*` stops at `/`)."""
    out = []
    for ch in glob:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(f"\\{ch}" if ch in _ERE_SPECIAL else ch)
    return "".join(out)


def shim_regex() -> str:
    """The `grep -E` regex the shim applies to `git diff --cached --name-only` lines: a key
    file at any depth, or a name git quoted (it starts with `"`: unusual bytes, which the shim
    leaves to gitml to decide)."""
    names = "|".join(_name_regex(k.name) for k in KEY_FILES)
    return f'^"|(^|/)({names})$'
