"""`gitml restore [REV]` and the restoring hooks (post-checkout, post-merge, post-rewrite)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from gitml import dvcfiles, git, objects
from gitml import repo as repo_mod
from gitml import restore as restore_mod
from gitml import state as state_mod
from gitml.dvcfiles import Out
from gitml.errors import BadInput, CheckFailed
from gitml.manifest import LOCK_FILE
from gitml.output import say, warn


def _describe(report: restore_mod.Report, *, hook: bool) -> None:
    if report.restored:
        say(f"restored {', '.join(report.restored)} from the DVC cache ({report.rev[:8]})")
    for path in report.kept_modified:
        warn(f"{path} was modified locally: kept as it is (not restored to {report.rev[:8]})")
    for path in report.mismatched:
        warn(
            f"{path}: {LOCK_FILE} and the DVC files of {report.rev[:8]} disagree; not restored "
            "(run `gitml lock --check`)"
        )
    for path in report.corrupt:
        warn(f"{path}: the cached object does not match its hash (corrupt cache); not restored")
    if report.missing:
        fix = (
            "run `gitml restore` to fetch them" if hook else "push them from a clone that has them"
        )
        warn(f"not in the local cache: {', '.join(report.missing)}; {fix}")


def after_checkout(repo: repo_mod.Repo, hook: str, args: list[str]) -> int:
    """Restore the new HEAD's data and models from the local cache only; always exit 0."""
    if os.environ.get("GITML_INTERNAL_WORKTREE"):
        return 0  # a worktree gitml itself creates (reproduce)
    if hook == "post-checkout":
        prev = args[0] if args else None
        if len(args) >= 3 and args[2] == "0":
            return 0
    elif hook == "post-rewrite":
        if not args or args[0] != "rebase":
            return 0  # `commit --amend` keeps the data where it is
        prev = "ORIG_HEAD"
    else:  # post-merge: git still has MERGE_HEAD while it runs, though the merge is done
        return restore_head(repo, "ORIG_HEAD", concluded="merge")
    return restore_head(repo, prev)


def restore_head(repo: repo_mod.Repo, prev: str | None, concluded: str | None = None) -> int:
    """Restore HEAD's data and models from the local cache, "modified" judged against `prev`.

    `concluded` names the operation the calling hook reports the end of.
    """
    if git.operation_in_progress(repo.root) not in (None, concluded):
        return 0  # checkouts inside a rebase/merge/cherry-pick: once, at the end
    head = git.head_commit(repo.root)
    if not head or not git.tree_entries(repo.root, head, [LOCK_FILE]):
        return 0  # a commit from before gitml
    previous = _commit_or_none(repo.root, prev)
    if previous == head:
        return 0
    md5s = state_mod.Md5Cache(repo.common_dir)
    try:
        report = restore_mod.restore(repo, head, previous, md5s)
    finally:
        md5s.close()
    _describe(report, hook=True)
    return 0


def _commit_or_none(root: Path, rev: str | None) -> str | None:
    if not rev or rev == git.ZERO_SHA:
        return None
    proc = git.run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root, check=False)
    return proc.stdout.decode().strip() or None


def _remote_fetcher(repo: repo_mod.Repo, rev: str) -> restore_mod.Fetch:
    """Fetch an object that is in no local place from a remote that is not a plain directory.

    First through DVC's data cloud from the default remote, one transfer per object asked for:
    a directory's `.dir` listing brings all its members with it (one connection, DVC's parallel
    jobs) instead of one round trip per file. Then, for what that did not bring (an out with its
    own `remote:`), through DVC's filesystem at `rev`, opened once.
    """
    cfg = dvcfiles.read_config(repo.root)
    opened: list[Any] = []

    def fetch(out: Out, md5: str, member: str) -> Path | None:
        cached = objects.bring_to_cache(cfg, md5, out.hash)
        if cached is not None or not any("://" in u for u in cfg.remotes.values()):
            return cached
        name = cfg.default_remote
        if name and "://" in cfg.remotes.get(name, ""):
            wanted = objects.Missing(out.path, md5, out.origin, member or None, out.hash)
            with contextlib.suppress(Exception):  # DVC's errors: the filesystem below says them
                objects.fetch_from_remote(repo.root, name, [wanted], out.hash, cfg.cache_dir)
            obj = dvcfiles.object_path(cfg.cache_dir, md5, out.hash)
            if obj.is_file():
                return obj
        if out.is_dir and not member:
            return None  # the filesystem gives files, not listings
        import tempfile

        from dvc.api import DVCFileSystem

        if not opened:
            opened.append(DVCFileSystem(str(repo.root), rev=rev))
        target = out.path if not member else f"{out.path}/{member}"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "obj"
            opened[0].get_file(target, str(local))
            dest = dvcfiles.object_path(cfg.cache_dir, md5, out.hash)
            return dest if objects.verified_copy(local, md5, out.hash, dest) else None

    return fetch


def restore_command(rev: str | None, paths: list[str] | None = None) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    head = git.head_commit(repo.root)
    wanted = None
    if paths:
        from gitml.paths import normalize

        wanted = [normalize(p, what="path") for p in paths]
    with state_mod.locked(repo.common_dir):
        md5s = state_mod.Md5Cache(repo.common_dir)
        try:
            report = restore_mod.restore(
                repo, commit, head, md5s, _remote_fetcher(repo, commit), wanted
            )
        finally:
            md5s.close()
    _describe(report, hook=False)
    if not report.restored and not (report.missing or report.corrupt or report.mismatched):
        say(f"workspace already holds the data and models of {commit[:8]}")
    if report.missing or report.corrupt:
        raise CheckFailed("some objects could not be restored (listed above)")
    if wanted and not (
        set(wanted) & set(report.restored + report.up_to_date + report.kept_modified)
    ):
        raise BadInput(f"{', '.join(wanted)}: not DVC-tracked at {commit[:8]}")
    return 0
