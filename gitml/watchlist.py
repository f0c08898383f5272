"""The watch-list: the paths whose staged change means work for the commit hook.

Computed on the slow path (`precommit.watched_paths`) and kept as plain text in per-clone state,
so that the hook shim (sh) reads it too: the watched paths one per line, and the exact output
of `git ls-files -s` of the key files they were computed from (`keyfiles.staged_listing`). The
keys file is written last: it is what makes a new paths file current. Stdlib only on the
reading side: the hook entry point's fast path uses `nothing_to_check`.
"""

from __future__ import annotations

from pathlib import Path

from gitml import git, keyfiles

WATCH_PATHS = "watch-paths.txt"
WATCH_KEYS = "watch-keys.txt"


def nothing_to_check(root: Path, common_dir: Path) -> bool:
    """True when the staged change touches nothing gitml watches and the watch-list is current."""
    staged = git.staged_names(root)
    if any(keyfiles.is_key_file(p) for p in staged):
        return False
    state = common_dir / "gitml"
    try:
        watched = set((state / WATCH_PATHS).read_text(encoding="utf-8").splitlines())
        keys = (state / WATCH_KEYS).read_bytes()
    except (OSError, ValueError):
        return False
    for path in staged:
        parts = path.split("/")
        if any("/".join(parts[:i]) in watched for i in range(1, len(parts) + 1)):
            return False
    # The watch-list was computed from these key files; if they differ (another branch), redo it.
    return keyfiles.staged_listing(root) == keys


def write(root: Path, state_dir: Path, watched: list[str]) -> None:
    """Record `watched` as the watch-list of the key files staged now in `root`."""
    text = "".join(f"{p}\n" for p in watched if p and "\n" not in p)
    # Each file is written only when its bytes change: an atomic write costs an fsync, and
    # most commits keep the same lists.
    _write_if_changed(state_dir / WATCH_PATHS, text.encode())
    _write_if_changed(state_dir / WATCH_KEYS, keyfiles.staged_listing(root))


def _write_if_changed(path: Path, data: bytes) -> None:
    from gitml.fileio import atomic_write  # not on the fast path (it imports yaml)

    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(path, data)
