"""The key files: the files that describe a DVC + gitml project, named once for every reader.

A staged key file always means work for the commit hook. Python reads the list here
(`is_key_file`); the installed hook shim (sh) gets the same list as a `grep -E` regex and `git
ls-files` pathspecs, which `gitml init` writes into it from here (`shim_regex`,
`LISTING_PATHSPECS`). Stdlib only: the commit hook's fast path uses this module.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from pathlib import Path

from gitml import git


@dataclass(frozen=True)
class KeyFile:
    name: str  # a file-name glob, matched against the last component of a path
    # Whether the file is in the listing the watch-list is keyed by (`staged_listing`): the
    # files the watched paths are computed from. Params files are not: the watch-list names
    # the params files the stages read, and a change to one is staged work anyway (see below);
    # left out, a branch that changes only params keeps the watch-list current.
    keys_watch_list: bool = True


KEY_FILES = (
    KeyFile("dvc.yaml"),
    KeyFile("dvc.lock"),
    KeyFile("*.dvc"),
    KeyFile("gitml.yaml"),
    KeyFile("gitml.lock"),
    # DVC's default params file: read with the DVC files (one cat-file call) and a staged
    # change to it is always work. Known gap: a templated dvc.yaml whose `foreach` reads it can
    # watch other outputs on a branch that changed it; the next staged key file redoes the list.
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
