"""`gitml check`: what the pre-commit hook runs, on the staged state, without committing
(a line names the watched files whose work-tree copy differs from the staged one)."""

from __future__ import annotations

import json
from typing import Any

from gitml import git
from gitml import repo as repo_mod
from gitml.commit_report import report_missing, report_outcome, say_unstaged
from gitml.lockfile import LOCK_FILE
from gitml.output import verdict, warn
from gitml.precommit import Outcome, evaluate
from gitml.snapshot import Snapshot
from gitml.worktree_behind import behind_message, work_tree_behind


def check(json_out: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    outcome = evaluate(repo, Snapshot(repo.root), git.head_commit(repo.root))
    say_unstaged(repo, outcome)
    assert outcome.lineage is not None
    failed = bool(outcome.missing)
    if outcome.missing:
        report_missing(outcome)
    blocked = report_outcome(outcome, block_stale=True)
    behind = work_tree_behind(repo)
    if behind:
        warn(behind_message(behind))
    if json_out:
        print(json.dumps(_as_json(outcome, not (failed or blocked)), indent=2, sort_keys=True))
    if failed or blocked:
        return 1
    if outcome.lock_changed:
        verdict(f"checks passed; {LOCK_FILE} would change on commit")
    else:
        verdict("checks passed")
    return 0


def _as_json(outcome: Outcome, passed: bool) -> dict[str, Any]:
    assert outcome.lineage is not None
    return {
        "passed": passed,
        "missing": [m.__dict__ for m in outcome.missing],
        "stale": outcome.stale,
        "modified": outcome.modified,
        "failures": [f.__dict__ for f in outcome.failures],
        "metrics_unread": outcome.lineage.unread_metrics,
        "lock_fresh": not outcome.lock_changed,
    }
