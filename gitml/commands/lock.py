"""`gitml lock [--check]`: write gitml.lock for the staged state, or say whether it is fresh."""

from __future__ import annotations

import json

from gitml import git
from gitml import repo as repo_mod
from gitml import state as state_mod
from gitml.commit_report import report_missing, report_outcome
from gitml.errors import BadInput, CheckFailed
from gitml.freshness import lock_is_fresh
from gitml.lockfile import LOCK_FILE
from gitml.output import verdict
from gitml.precommit import evaluate, stage_lock, write_watch
from gitml.snapshot import Snapshot


def lock(check: bool = False, rev: str | None = None, json_out: bool = False) -> int:
    if json_out and not check:
        raise BadInput("--json goes with --check (`gitml lock --check --json`)")
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    if check:
        commit = git.resolve_commit(repo.root, rev) if rev else None
        fresh, diffs = lock_is_fresh(repo, Snapshot(repo.root, commit))
        where = rev or "the staged state"
        if json_out:  # stdout: the verdict; stderr: the same message as without --json
            doc = {"rev": commit, "fresh": fresh, "stale": diffs}
            print(json.dumps(doc, indent=2, sort_keys=True))
        if not fresh:
            raise CheckFailed(
                f"{LOCK_FILE} is stale for {where}:\n  "
                + "\n  ".join(diffs)
                + f"\nrun `gitml lock` and commit {LOCK_FILE} (or commit through the gitml hook) to "
                "refresh it"
            )
        verdict(f"{LOCK_FILE} is fresh for {where}")
        return 0
    with state_mod.locked(repo.common_dir):
        # The checks run too (cache hits are free): a lock written without them would drop
        # results that the next commit, seeing unchanged inputs, would not recompute.
        outcome = evaluate(repo, Snapshot(repo.root), git.head_commit(repo.root))
        if outcome.missing:
            report_missing(outcome)
            return 1
        if outcome.failures:
            report_outcome(outcome, block_stale=False)
            raise CheckFailed(f"checks failed: {LOCK_FILE} not written")
        if outcome.lock_changed:
            stage_lock(repo, outcome)
            verdict(f"{LOCK_FILE} written and staged")
        else:
            verdict(f"{LOCK_FILE} is already up to date")
        write_watch(repo, outcome)
    return 0
