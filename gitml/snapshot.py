"""A read-only view of the repository's files at one state: the index (staged) or a commit.

Everything gitml checks is read through this, from git, never from the workspace: a commit is
about its staged bytes, and `show`/`log` read history without checking anything out.
"""

from __future__ import annotations

from pathlib import Path

from gitml import git
from gitml.keyfiles import is_key_file


class Snapshot:
    """Files of the index (`rev=None`) or of commit `rev`, as {path: blob sha} plus contents."""

    def __init__(self, root: Path, rev: str | None = None):
        self.root = root
        self.rev = rev
        self.entries = git.tree_entries(root, rev) if rev else git.index_entries(root)
        self._blobs: dict[str, bytes] = {}

    def has(self, path: str) -> bool:
        return path in self.entries

    def blob_sha(self, path: str) -> str | None:
        return self.entries.get(path)

    def prefetch(self, paths: list[str]) -> None:
        wanted = [p for p in dict.fromkeys(paths) if p in self.entries and p not in self._blobs]
        # One long-lived cat-file process for every read: a hook's dozen reads, one by one as
        # the parsers need them, cost one process start.
        blobs = git.blob_reader(self.root).read([self.entries[p] for p in wanted])
        for path, data in zip(wanted, blobs, strict=True):
            self._blobs[path] = data

    def read(self, path: str) -> bytes | None:
        if path not in self.entries:
            return None
        if path not in self._blobs:
            self.prefetch([path])
        return self._blobs[path]

    def key_files(self) -> list[str]:
        """The key files (gitml.keyfiles) of this state, read together in one cat-file call."""
        return sorted(p for p in self.entries if is_key_file(p))

    def files_under(self, prefix: str) -> list[str]:
        start = prefix.rstrip("/") + "/"
        return sorted(p for p in self.entries if p.startswith(start))
