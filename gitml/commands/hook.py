"""`gitml hook NAME`: what the installed hooks run once the fast path found work to do."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gitml import git, hookfast, manifest, precommit
from gitml import repo as repo_mod
from gitml import state as state_mod
from gitml.config import CONFIG_FILE
from gitml.error_handler import Exit, handled
from gitml.errors import BadInput
from gitml.fileio import atomic_write, refuse_special_file
from gitml.lockfile import LOCK_FILE
from gitml.output import say, warn
from gitml.precommit import Outcome
from gitml.snapshot import Snapshot

SYNC_FILE = "post-commit-sync"


def run_hook(hook: str, args: list[str], repo: repo_mod.Repo | None = None) -> int:
    """`repo`: the repository as the fast path already found it (found again when None)."""
    try:
        with handled():
            return _dispatch(hook, args, repo)
    except Exit as e:
        if hook in (
            "post-checkout",
            "post-merge",
            "post-rewrite",
            "post-applypatch",
            "post-commit",
        ):
            return 0  # a failing post-* hook breaks interactive rebases; it has said its piece
        return e.code


def _dispatch(hook: str, args: list[str], repo: repo_mod.Repo | None) -> int:
    repo = repo or repo_mod.find()
    if not repo.has_dvc:
        warn("this repository has no .dvc/ (DVC is not initialised); gitml checks nothing")
        return 0
    if hook in ("pre-commit", "pre-merge-commit"):
        return pre_commit(repo, framework="--framework" in args, merge=hook == "pre-merge-commit")
    if hook == "post-commit":
        return post_commit(repo)
    if hook == "pre-push":
        from gitml.commands.push import pre_push

        return pre_push(repo, args, sys.stdin.buffer)
    from gitml.commands.restore import after_checkout

    return after_checkout(repo, hook, args)


def write_watch(repo: repo_mod.Repo, outcome: Outcome) -> None:
    watched = precommit.watched_paths(outcome.lineage) if outcome.lineage else []
    state = state_mod.state_dir(repo.common_dir)
    text = "".join(f"{p}\n" for p in watched if p and "\n" not in p)
    # The keys file last (it is what makes the paths file current); each written only when its
    # bytes change: an atomic write costs an fsync, and most commits keep the same lists.
    _write_if_changed(state / hookfast.WATCH_PATHS, text.encode())
    _write_if_changed(state / hookfast.WATCH_KEYS, hookfast.key_files_listing(repo.root))


def _write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(path, data)


def report_missing(outcome: Outcome) -> None:
    corrupt = [m for m in outcome.missing if m.corrupt]
    if corrupt:
        say(
            "commit blocked: these DVC cache objects do not match their hash (corrupt cache) and "
            "were not loaded:\n"
            + "\n".join(
                f"  {f'{m.path}/{m.member}' if m.member else m.path}  md5 {m.md5}  ({m.corrupt}); "
                "fix: delete that file, then `dvc pull` it (or `gitml repro` to rebuild it)"
                for m in corrupt
            )
        )
    lines = []
    for m in outcome.missing:
        if m.corrupt:
            continue
        what = f"{m.path}/{m.member}" if m.member else m.path
        fix = (
            f"`dvc commit {m.origin}`"
            if m.origin.endswith(".dvc")
            else "`dvc commit` (or `gitml repro`)"
        )
        lines.append(
            f"  {what}  md5 {m.md5}  (named in {m.origin}); fix: {fix}, or `dvc pull` "
            "if it exists on the remote"
        )
    if lines:
        say(
            "commit blocked: these DVC objects are in neither the local cache nor the remote:\n"
            + "\n".join(lines)
        )


def warn_unread_metrics(lin: manifest.Lineage) -> None:
    for path, why in lin.unread_metrics.items():
        warn(f"model {path}: no metrics recorded: {why}")


def report_outcome(outcome: Outcome, block_stale: bool) -> bool:
    """Print warnings and failures; True when the commit must be blocked."""
    if outcome.lineage is not None:
        warn_unread_metrics(outcome.lineage)
    for path in outcome.modified:
        warn(
            f"{path} in the workspace differs from its staged hash; the commit records and "
            "checks the staged bytes"
        )
    for stage, reasons in outcome.stale.items():
        (say if block_stale else warn)(
            f"stage {stage} is stale (run `gitml repro`): " + "; ".join(reasons)
        )
    for f in outcome.failures:
        say(f"{f.check} failed for {f.path}: {f.detail}")
    return bool(outcome.failures) or (block_stale and bool(outcome.stale))


def say_unstaged(repo: repo_mod.Repo, outcome: Outcome) -> None:
    """For the commands that judge the staged state (`check`, `test`): one line naming the
    watched files whose work-tree copy differs, and whether that copy is even valid. Without a
    staged gitml.yaml there is nothing to judge: bad input, after that line."""
    lin = outcome.lineage
    # the watch-list, and the DVC files (dvc.yaml, dvc.lock, .dvc) the fast hook watches apart
    watched = [*precommit.watched_paths(lin), *lin.snap.key_files()] if lin else [CONFIG_FILE]
    note = precommit.unstaged_note(repo, watched)
    if note:
        warn(note)
    if lin is None:
        raise BadInput(f"no {CONFIG_FILE} is staged: `git add {CONFIG_FILE}`")


def stage_lock(repo: repo_mod.Repo, outcome: Outcome) -> None:
    """Put the new gitml.lock into the index git handed the hook, then into the workspace.

    Index first: if we are killed in between, the worktree still holds what the user had.
    """
    refuse_special_file(repo.root / LOCK_FILE, LOCK_FILE)  # before the index changes
    sha = git.hash_object_w(repo.root, outcome.lock_bytes)
    git.update_index_blob(repo.root, LOCK_FILE, sha)
    state = state_mod.state_dir(repo.common_dir)
    atomic_write(repo.root / LOCK_FILE, outcome.lock_bytes, tmp_dir=state)
    if _temporary_index():
        # `git commit -- paths` commits a temporary index: post-commit syncs the real one.
        atomic_write(state / SYNC_FILE, sha.encode())


def _temporary_index() -> bool:
    """Whether the hook was handed an index other than the real one: git gives `index` for a
    plain commit, `index.lock` (renamed into place after the commit) for `-a`/`-i`, and a
    temporary `next-index-PID.lock` for `git commit -- paths`. Only the last needs post-commit
    to sync the real index; otherwise post-commit stays on the shim's fast path."""
    index = os.environ.get("GIT_INDEX_FILE")
    return bool(index) and os.path.basename(index or "") not in ("index", "index.lock")


def _commit_again() -> str:
    """What makes the next commit take the rewritten lock (under the pre-commit framework), by
    the index git handed the hook (see _temporary_index)."""
    index = os.path.basename(os.environ.get("GIT_INDEX_FILE") or "index")
    if index == "index.lock":
        # `git commit -a`: the failed commit dropped what -a staged, so `git add` and a plain
        # `git commit` would commit the lock alone (and fail again)
        return f"run `git add {LOCK_FILE}`, then your `git commit -a …` again"
    if index != "index":
        return f"commit again naming it with your paths: `git commit … <your paths> {LOCK_FILE}`"
    return f"run `git add {LOCK_FILE}`, then commit again"


def pre_commit(repo: repo_mod.Repo, framework: bool, merge: bool = False) -> int:
    with state_mod.locked(repo.common_dir):
        outcome = precommit.evaluate(repo, Snapshot(repo.root), git.head_commit(repo.root))
        if merge:
            # DVC outputs in the workspace are the pre-merge ones until post-merge restores them.
            outcome.modified = []
        if outcome.lock is None:
            write_watch(repo, outcome)
            return 0
        assert outcome.lineage is not None
        if outcome.missing:
            report_missing(outcome)
            return 1
        if report_outcome(outcome, outcome.lineage.config.block_stale):
            say("commit blocked; the index and the workspace are as they were")
            return 1
        if outcome.lock_changed:
            if framework:
                refuse_special_file(repo.root / LOCK_FILE, LOCK_FILE)
                atomic_write(
                    repo.root / LOCK_FILE,
                    outcome.lock_bytes,
                    tmp_dir=state_mod.state_dir(repo.common_dir),
                )
                say(f"{LOCK_FILE} updated: {_commit_again()}")
                return 1
            stage_lock(repo, outcome)
            if merge:
                # git writes a merge's tree before pre-merge-commit runs and ignores what the hook
                # stages, so the merge is stopped here with the regenerated lock staged.
                write_watch(repo, outcome)
                say(
                    f"{LOCK_FILE} regenerated for the merge and staged: run `git commit --no-edit` "
                    "to conclude the merge"
                )
                return 1
            say(f"{LOCK_FILE} updated ({_summary(outcome)})")
        write_watch(repo, outcome)
    return 0


def _summary(outcome: Outcome) -> str:
    lock = outcome.lock or {}
    parts = [f"{len(lock.get('models', {}))} model(s)", f"{len(lock.get('data', {}))} dataset(s)"]
    if outcome.stale:
        parts.append(f"{len(outcome.stale)} stale stage(s)")
    return ", ".join(parts)


def post_commit(repo: repo_mod.Repo) -> int:
    sync_index_lock(repo)
    if (
        git.run(["rev-parse", "--verify", "--quiet", "HEAD^2"], repo.root, check=False).returncode
        == 0
    ):
        # `git commit` concluding a merge runs no post-merge hook: restore the merged data here.
        from gitml.commands.restore import restore_head

        return restore_head(repo, "HEAD^1")
    if hookfast.restoring_commit(repo.root):
        from gitml.commands.restore import restore_head

        # a cherry-pick or revert of several commits: the sequencer is still running, each
        # commit restores (once the last is made, `concluded` lets it through)
        return restore_head(repo, "HEAD^1", concluded=git.operation_in_progress(repo.root))
    return 0


def sync_index_lock(repo: repo_mod.Repo) -> None:
    """After `git commit -- paths`, put HEAD's gitml.lock into the real index (status stays clean)."""
    marker = state_mod.state_dir(repo.common_dir) / SYNC_FILE
    if not marker.exists():
        return
    staged_sha = marker.read_text().strip()
    marker.unlink(missing_ok=True)
    head = git.head_commit(repo.root)
    if not head:
        return
    head_sha = git.tree_entries(repo.root, head, [LOCK_FILE]).get(LOCK_FILE)
    if (
        head_sha == staged_sha
        and git.index_entries(repo.root, [LOCK_FILE]).get(LOCK_FILE) != head_sha
    ):
        git.update_index_blob(repo.root, LOCK_FILE, head_sha)


def lock_is_fresh(repo: repo_mod.Repo, snap: Snapshot) -> tuple[bool, list[str]]:
    """Whether the snapshot's gitml.lock inputs part matches what its files say now, and its
    recorded test results are keyed by the snapshot's test files and the data they read."""
    config = repo_mod.config_at(snap)
    if config is None:
        raise BadInput("no gitml.yaml in this state: run `gitml init`")
    data = snap.read(LOCK_FILE)
    from gitml import dvcfiles

    recorded = manifest.parse_lock(data) if data is not None else None
    lin = manifest.read_lineage(snap, config, None)
    cfg = dvcfiles.read_config(repo.root)
    new = manifest.inputs(lin, cfg.cache_dir, recorded, dvc_cfg=cfg)
    warn_unread_metrics(lin)
    if recorded is None:
        return False, [f"{LOCK_FILE} is missing"]
    old = manifest.inputs_part(recorded)
    diffs = manifest.differences(old, manifest.inputs_part(new))
    # The recorded results' own key (tests hash, data the tests read), recomputed from the
    # snapshot: inputs alone would let a test file changed around the hook pass.
    from gitml import modeltests

    mismatches, notes = modeltests.recorded_key_mismatches(lin, recorded)
    for note in notes:
        warn(note)
    diffs += mismatches
    return not diffs, diffs
