"""Restoring around git's operations, and what a restore tells the user.

When the restoring hooks (post-checkout, post-merge, post-rewrite, post-applypatch; post-commit
after a merge, a cherry-pick or a revert) put HEAD's data and models into the work tree from
the local cache only, and when they stay out of the way (file checkouts, the checkouts inside a
rebase or merge, gitml's own worktrees, commits from before gitml). `gitml restore` shares the
account of what was done and the fetcher that may also ask a DVC remote.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from gitml import dvcconfig, dvcfiles, git, objects
from gitml import restore as restore_mod
from gitml import state as state_mod
from gitml.dvcfiles import Out
from gitml.lockfile import LOCK_FILE
from gitml.notes import EDGE, Teller
from gitml.repo import Repo


def after_checkout(repo: Repo, hook: str, args: list[str], tell: Teller = EDGE) -> int:
    """Restore the new HEAD's data and models from the local cache only; always exit 0."""
    if os.environ.get("GITML_INTERNAL_WORKTREE"):
        return 0  # a worktree gitml itself creates (reproduce)
    came_from = _came_from(repo.root, hook, args)
    if came_from is None:
        return 0
    prev, concluded = came_from
    return restore_head(repo, prev, concluded=concluded, tell=tell)


def _came_from(root: Path, hook: str, args: list[str]) -> tuple[str | None, str | None] | None:
    """(the commit the work tree came from, the operation the hook reports the end of) for a
    restoring hook's arguments; None when it restores nothing."""
    if hook == "post-checkout":
        if len(args) >= 3 and args[2] == "0":
            return None  # a file checkout
        return (args[0] if args else None), _concluded_rebase(root)
    if hook == "post-rewrite":
        # after a rebase; `commit --amend` keeps the data where it is
        return ("ORIG_HEAD", None) if args and args[0] == "rebase" else None
    if hook == "post-applypatch":  # `git am`, after each patch; a rebase's own ends in post-rewrite
        rebasing = (git.git_dir(root) / "rebase-apply" / "rebasing").exists()
        return None if rebasing else ("HEAD^1", "rebase")
    # post-merge: git still has MERGE_HEAD while it runs, though the merge is done
    return "ORIG_HEAD", "merge"


def _concluded_rebase(root: Path) -> str | None:
    return "rebase" if _rebase_has_nothing_to_pick(root) else None


def _rebase_has_nothing_to_pick(root: Path) -> bool:
    """A rebase whose checkout of its base is all it does (a fast-forward, or every commit
    dropped): git runs no post-rewrite after it, so post-checkout restores."""
    todo = git.git_dir(root) / "rebase-merge" / "git-rebase-todo"
    try:
        lines = todo.read_text(errors="replace").splitlines()
    except OSError:
        return False
    return not any(line.strip() and not line.startswith("#") for line in lines)


def restore_head(
    repo: Repo, prev: str | None, concluded: str | None = None, tell: Teller = EDGE
) -> int:
    """Restore HEAD's data and models from the local cache (`prev`: the commit the work tree
    came from; nothing to do when it is HEAD).

    `concluded` names the operation the calling hook reports the end of.
    """
    if git.operation_in_progress(repo.root) not in (None, concluded):
        return 0  # checkouts inside a rebase/merge/cherry-pick: once, at the end
    head = git.head_commit(repo.root)
    if not head or not git.tree_entries(repo.root, head, [LOCK_FILE]):
        return 0  # a commit from before gitml
    if _commit_or_none(repo.root, prev) == head:
        return 0
    md5s = state_mod.Md5Cache(repo.common_dir, tell)
    try:
        report = restore_mod.restore(repo, head, md5s)
    finally:
        md5s.close()
    describe(report, hook=True, root=repo.root, tell=tell)
    return 0


def _commit_or_none(root: Path, rev: str | None) -> str | None:
    if not rev or rev == git.ZERO_SHA:
        return None
    proc = git.run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root, check=False)
    return proc.stdout.decode().strip() or None


# -- what a restore tells -------------------------------------------------------------------------


def describe(report: restore_mod.Report, *, hook: bool, root: Path, tell: Teller = EDGE) -> None:
    """What was restored, saved, removed and kept, and what is missing with where to get it
    (`hook`: the local cache alone was asked)."""
    rev = report.rev[:8]
    for name, obj in report.saved:
        tell.say(
            f"{name}: your version saved in the DVC cache as {obj}; get it back with "
            f"`cp {obj} {name} && chmod u+w {name}`"
        )
    for origin, restored in restored_by_origin(report).items():
        tell.say(f"restored {', '.join(restored)} from {origin} ({rev})")
    if report.removed:
        tell.say(
            f"removed {', '.join(report.removed)} (not in {rev}; the DVC cache has their bytes)"
        )
    for path in report.kept_modified:
        tell.warn(
            f"{path} was modified locally (its bytes are in no DVC cache: your edit): kept, not "
            "restored to "
            f"{rev}; `gitml restore --force` saves them in the DVC cache and restores {rev}'s"
        )
    for path in report.mismatched:
        tell.warn(
            f"{path}: {LOCK_FILE} and the DVC files of {rev} disagree; not restored "
            "(run `gitml lock --check`)"
        )
    for path in report.corrupt:
        tell.warn(
            f"{path}: the cached object does not match its hash (corrupt cache); not restored"
        )
    if report.missing:
        _describe_missing(report, hook, root, tell)


def restored_by_origin(report: restore_mod.Report) -> dict[str, list[str]]:
    """{where the bytes came from: the restored outs}, e.g. "the DVC cache and DVC remote
    'storage'" for a directory some of whose files had to be downloaded."""
    found: dict[str, list[str]] = {}
    for path in report.restored:
        origins = sorted(report.sources.get(path) or {restore_mod.CACHE})
        found.setdefault(" and ".join(origins), []).append(path)
    return found


def _describe_missing(report: restore_mod.Report, hook: bool, root: Path, tell: Teller) -> None:
    objects_ = ", ".join(
        f"{path} (md5 {report.missing_md5[path]})" if path in report.missing_md5 else path
        for path in report.missing
    )
    if hook:
        tell.warn(f"not in the local cache: {objects_}; run `gitml restore` to fetch them")
    else:
        tell.warn(f"in no local cache nor DVC remote: {objects_}; {_remote_state(root)}")


def _remote_state(root: Path) -> str:
    """What is wrong with the DVC remotes restore looked in, or where to push from."""
    cfg = dvcconfig.read_config(root)
    if not cfg.remotes:
        return (
            "no DVC remote is configured (`dvc remote add -d`); push them from a clone that "
            "has them"
        )
    gone = []
    for name, url in sorted(cfg.remotes.items()):
        local = url.removeprefix("file://")
        if "://" not in local and not Path(local).is_dir():
            gone.append(f"DVC remote {name!r} ({local}) does not exist (a disk not mounted?)")
    if gone:
        return "; ".join(gone) + ": mount it or fix its url (`dvc remote modify`)"
    names = ", ".join(repr(n) for n in sorted(cfg.remotes))
    return f"DVC remote {names} does not have them either: push them from a clone that has them"


# -- fetching what no local place has -------------------------------------------------------------


def remote_fetcher(repo: Repo, rev: str) -> restore_mod.Fetch:
    """Fetch an object that is in no local place from a remote that is not a plain directory.

    First through DVC's data cloud from the default remote, one transfer per object asked for:
    a directory's `.dir` listing brings all its members with it (one connection, DVC's parallel
    jobs) instead of one round trip per file. Then, for what that did not bring (an out with its
    own `remote:`), through DVC's filesystem at `rev`, opened once.
    """
    cfg = dvcconfig.read_config(repo.root)
    opened: list[Any] = []

    def fetch(out: Out, md5: str, member: str) -> Path | None:
        cached = objects.bring_to_cache(cfg, md5, out.hash)
        if cached is not None or len(objects.local_remotes(cfg)) == len(cfg.remotes):
            return cached
        from_cloud = _from_data_cloud(repo.root, cfg, out, md5, member)
        if from_cloud is not None:
            return from_cloud
        if out.is_dir and not member:
            return None  # the filesystem gives files, not listings
        if not opened:
            from dvc.api import DVCFileSystem

            opened.append(DVCFileSystem(str(repo.root), rev=rev))
        return _from_dvc_filesystem(opened[0], cfg, out, md5, member)

    return fetch


def _from_data_cloud(
    root: Path, cfg: dvcconfig.DvcConfig, out: Out, md5: str, member: str
) -> Path | None:
    """The object through DVC's data cloud from the default remote, when that is not a plain
    directory (those were searched already)."""
    name = cfg.default_remote
    if not name or "://" not in cfg.remotes.get(name, ""):
        return None
    wanted = objects.Missing(out.path, md5, out.origin, member or None, out.hash)
    with contextlib.suppress(Exception):  # DVC's errors: the filesystem below says them
        objects.fetch_from_remote(root, name, [wanted], out.hash, cfg.cache_dir)
    obj = dvcfiles.object_path(cfg.cache_dir, md5, out.hash)
    return obj if obj.is_file() else None


def _from_dvc_filesystem(
    fs: Any, cfg: dvcconfig.DvcConfig, out: Out, md5: str, member: str
) -> Path | None:
    """The file through DVC's filesystem at the restored commit, verified into the cache."""
    import tempfile

    target = out.path if not member else f"{out.path}/{member}"
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "obj"
        try:
            fs.get_file(target, str(local))
        except Exception:  # DVC's FileNotFoundError "No storage files available" and the
            # like: no remote has it; the message names the remotes
            return None
        dest = dvcfiles.object_path(cfg.cache_dir, md5, out.hash)
        return dest if objects.verified_copy(local, md5, out.hash, dest) else None
