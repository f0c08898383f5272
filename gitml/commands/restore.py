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
from gitml.lockfile import LOCK_FILE
from gitml.output import say, warn


def _remote_state(root: Path) -> str:
    """What is wrong with the DVC remotes restore looked in, or where to push from."""
    cfg = dvcfiles.read_config(root)
    if not cfg.remotes:
        return "no DVC remote is configured (`dvc remote add -d`); push them from a clone that has them"
    gone = []
    for name, url in sorted(cfg.remotes.items()):
        local = url.removeprefix("file://")
        if "://" not in local and not Path(local).is_dir():
            gone.append(f"DVC remote {name!r} ({local}) does not exist (a disk not mounted?)")
    if gone:
        return "; ".join(gone) + ": mount it or fix its url (`dvc remote modify`)"
    names = ", ".join(repr(n) for n in sorted(cfg.remotes))
    return f"DVC remote {names} does not have them either: push them from a clone that has them"


def _describe(report: restore_mod.Report, *, hook: bool, repo_root: Path) -> None:
    rev = report.rev[:8]
    for name, obj in report.saved:
        say(
            f"{name}: your version saved in the DVC cache as {obj}; get it back with "
            f"`cp {obj} {name} && chmod u+w {name}`"
        )
    if report.restored:
        say(f"restored {', '.join(report.restored)} from the DVC cache ({rev})")
    if report.removed:
        say(f"removed {', '.join(report.removed)} (not in {rev}; the DVC cache has their bytes)")
    for path in report.kept_modified:
        warn(
            f"{path} was modified locally (its bytes are in no DVC cache: your edit): kept, not "
            "restored to "
            f"{rev}; `gitml restore --force` saves them in the DVC cache and restores {rev}'s"
        )
    for path in report.mismatched:
        warn(
            f"{path}: {LOCK_FILE} and the DVC files of {rev} disagree; not restored "
            "(run `gitml lock --check`)"
        )
    for path in report.corrupt:
        warn(f"{path}: the cached object does not match its hash (corrupt cache); not restored")
    if report.missing:
        objects_ = ", ".join(
            f"{path} (md5 {report.missing_md5[path]})" if path in report.missing_md5 else path
            for path in report.missing
        )
        if hook:
            warn(f"not in the local cache: {objects_}; run `gitml restore` to fetch them")
        else:
            warn(f"in no local cache nor DVC remote: {objects_}; {_remote_state(repo_root)}")


def after_checkout(repo: repo_mod.Repo, hook: str, args: list[str]) -> int:
    """Restore the new HEAD's data and models from the local cache only; always exit 0."""
    if os.environ.get("GITML_INTERNAL_WORKTREE"):
        return 0  # a worktree gitml itself creates (reproduce)
    if hook == "post-checkout":
        if len(args) >= 3 and args[2] == "0":
            return 0
        concluded = "rebase" if _rebase_has_nothing_to_pick(repo.root) else None
        return restore_head(repo, args[0] if args else None, concluded=concluded)
    if hook == "post-rewrite":
        if not args or args[0] != "rebase":
            return 0  # `commit --amend` keeps the data where it is
        return restore_head(repo, "ORIG_HEAD")
    if hook == "post-applypatch":  # `git am`, after each patch; a rebase's own ends in post-rewrite
        if (git.git_dir(repo.root) / "rebase-apply" / "rebasing").exists():
            return 0
        return restore_head(repo, "HEAD^1", concluded="rebase")
    # post-merge: git still has MERGE_HEAD while it runs, though the merge is done
    return restore_head(repo, "ORIG_HEAD", concluded="merge")


def _rebase_has_nothing_to_pick(root: Path) -> bool:
    """A rebase whose checkout of its base is all it does (a fast-forward, or every commit
    dropped): git runs no post-rewrite after it, so post-checkout restores."""
    todo = git.git_dir(root) / "rebase-merge" / "git-rebase-todo"
    try:
        lines = todo.read_text(errors="replace").splitlines()
    except OSError:
        return False
    return not any(line.strip() and not line.startswith("#") for line in lines)


def restore_head(repo: repo_mod.Repo, prev: str | None, concluded: str | None = None) -> int:
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
    md5s = state_mod.Md5Cache(repo.common_dir)
    try:
        report = restore_mod.restore(repo, head, md5s)
    finally:
        md5s.close()
    _describe(report, hook=True, repo_root=repo.root)
    return 0


def work_tree_behind(repo: repo_mod.Repo) -> list[tuple[str, bool]]:
    """The DVC-tracked paths the work tree holds other cached bytes of (or none) than its DVC
    files record, each with whether HEAD records those; [] when that cannot be judged (the
    reason is another check's to give)."""
    md5s = state_mod.Md5Cache(repo.common_dir)
    try:
        return restore_mod.differences(repo, md5s)
    except BadInput:
        return []
    finally:
        md5s.close()


def behind_message(behind: list[tuple[str, bool]]) -> str:
    """One message: HEAD's data missing (`gitml restore`), or data the work tree's own,
    uncommitted, DVC files record (`dvc checkout`)."""
    heads = [p for p, at_head in behind if at_head]
    own = [p for p, at_head in behind if not at_head]
    parts = []
    if heads:
        parts.append(
            f"the work tree does not hold HEAD's data: {', '.join(heads)} "
            f"{'differs' if len(heads) == 1 else 'differ'} from what dvc.lock and the .dvc files "
            "record (`git reset --hard` and `git stash pop` run no hook); run `gitml restore`"
        )
    if own:
        parts.append(
            f"the work tree does not hold the data its uncommitted dvc.lock/.dvc files record "
            f"for {', '.join(own)}: run `dvc checkout {' '.join(own)}` for those, or "
            "`git checkout -- dvc.lock` and `gitml restore` for HEAD's"
        )
    return "; ".join(parts)


def warn_work_tree_behind(repo: repo_mod.Repo) -> None:
    behind = work_tree_behind(repo)
    if behind:
        warn(behind_message(behind))


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
        if cached is not None or len(objects.local_remotes(cfg)) == len(cfg.remotes):
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
            try:
                opened[0].get_file(target, str(local))
            except Exception:  # DVC's FileNotFoundError "No storage files available" and the
                # like: no remote has it; the message names the remotes
                return None
            dest = dvcfiles.object_path(cfg.cache_dir, md5, out.hash)
            return dest if objects.verified_copy(local, md5, out.hash, dest) else None

    return fetch


def restore_command(rev: str | None, paths: list[str] | None = None, force: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    wanted = None
    if paths:
        from gitml.paths import normalize

        wanted = [normalize(p, what="path") for p in paths]
    with state_mod.locked(repo.common_dir):
        md5s = state_mod.Md5Cache(repo.common_dir)
        try:
            report = restore_mod.restore(
                repo, commit, md5s, _remote_fetcher(repo, commit), wanted, force=force
            )
        finally:
            md5s.close()
    _describe(report, hook=False, repo_root=repo.root)
    if wanted and not (
        set(wanted)
        & set(report.restored + report.up_to_date + report.not_at_target + report.removed)
    ):
        raise BadInput(f"{', '.join(wanted)}: not DVC-tracked at {commit[:8]}")
    if report.not_at_target:
        raise CheckFailed(
            f"the work tree does not hold the recorded bytes of {commit[:8]} for: "
            + ", ".join(report.not_at_target)
        )
    if not report.restored and not report.removed:
        say(f"workspace already holds the data and models of {commit[:8]}")
    return 0
