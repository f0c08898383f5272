"""The hooks' slow path: what an installed hook runs once gitml.hookfast found work to do.

The hooks' edge, as cli.py and gitml/commands are the CLI's: it calls the domain (gitml.precommit,
gitml.prepush, gitml.restoring) and prints through gitml.output. Errors are handled here as the
CLI handles them; the hooks that run after git did its work always exit 0.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager

from gitml import git, githooks, notes, output, precommit, prepush, restoring
from gitml import repo as repo_mod
from gitml import state as state_mod
from gitml.commit_report import report_missing, report_outcome
from gitml.error_handler import Exit, handled
from gitml.lockfile import LOCK_FILE
from gitml.output import say, warn
from gitml.precommit import Outcome
from gitml.snapshot import Snapshot


def run_hook(hook: str, args: list[str], repo: repo_mod.Repo | None = None) -> int:
    """`repo`: the repository as the fast path already found it (found again when None)."""
    notes.tell_with(output)
    try:
        with handled():
            return _dispatch(hook, args, repo)
    except Exit as e:
        if hook in githooks.AFTER_THE_FACT:
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
        return prepush.pre_push(repo, args, sys.stdin.buffer, progress=_progress)
    return restoring.after_checkout(repo, hook, args)


def _progress(label: str, total: int) -> AbstractContextManager[notes.Counter]:
    return output.Progress(label, total, at_least=10)


def pre_commit(repo: repo_mod.Repo, framework: bool, merge: bool = False) -> int:
    with state_mod.locked(repo.common_dir):
        outcome = precommit.evaluate(repo, Snapshot(repo.root), git.head_commit(repo.root))
        if merge:
            # DVC outputs in the workspace are the pre-merge ones until post-merge restores them.
            outcome.modified = []
        if outcome.lock is not None:
            if _blocked(outcome):
                return 1
            if outcome.lock_changed and not _record(repo, outcome, framework, merge):
                return 1
        precommit.write_watch(repo, outcome)
    return 0


def _blocked(outcome: Outcome) -> bool:
    """Say why the commit is blocked, if it is."""
    assert outcome.lineage is not None
    if outcome.missing:
        report_missing(outcome)
        return True
    if report_outcome(outcome, outcome.lineage.config.block_stale):
        say("commit blocked; the index and the workspace are as they were")
        return True
    return False


def _record(repo: repo_mod.Repo, outcome: Outcome, framework: bool, merge: bool) -> bool:
    """Put the new gitml.lock in place; False when the commit must stop for the user to
    conclude it (the framework stages nothing; a merge's tree is already written)."""
    if framework:
        precommit.write_lock(repo, outcome)
        say(f"{LOCK_FILE} updated: {_commit_again()}")
        return False
    precommit.stage_lock(repo, outcome)
    if merge:
        # git writes a merge's tree before pre-merge-commit runs and ignores what the hook
        # stages, so the merge is stopped here with the regenerated lock staged.
        precommit.write_watch(repo, outcome)
        say(
            f"{LOCK_FILE} regenerated for the merge and staged: run `git commit --no-edit` "
            "to conclude the merge"
        )
        return False
    say(f"{LOCK_FILE} updated ({precommit.summary(outcome)})")
    return True


def _commit_again() -> str:
    """What makes the next commit take the rewritten lock (under the pre-commit framework), by
    the index git handed the hook."""
    index = githooks.index_name()
    if index == "index.lock":
        # `git commit -a`: the failed commit dropped what -a staged, so `git add` and a plain
        # `git commit` would commit the lock alone (and fail again)
        return f"run `git add {LOCK_FILE}`, then your `git commit -a …` again"
    if index != "index":
        return f"commit again naming it with your paths: `git commit … <your paths> {LOCK_FILE}`"
    return f"run `git add {LOCK_FILE}`, then commit again"


def post_commit(repo: repo_mod.Repo) -> int:
    precommit.sync_index_lock(repo)
    if githooks.merge_commit_at_head(repo.root):
        # `git commit` concluding a merge runs no post-merge hook: restore the merged data here.
        return restoring.restore_head(repo, "HEAD^1")
    if githooks.restoring_commit(repo.root):
        # a cherry-pick or revert of several commits: the sequencer is still running, each
        # commit restores (once the last is made, `concluded` lets it through)
        return restoring.restore_head(
            repo, "HEAD^1", concluded=git.operation_in_progress(repo.root)
        )
    return 0
