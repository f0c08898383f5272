"""`gitml check`: what the pre-commit hook runs, on the staged state, without committing
(a line names the watched files whose work-tree copy differs from the staged one)."""

from __future__ import annotations

import json

from gitml import git
from gitml import repo as repo_mod
from gitml.commands.hook import report_missing, report_outcome, say_unstaged
from gitml.lockfile import LOCK_FILE
from gitml.output import say
from gitml.precommit import evaluate
from gitml.snapshot import Snapshot


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
    from gitml.commands.restore import warn_work_tree_behind

    warn_work_tree_behind(repo)
    if json_out:
        print(
            json.dumps(
                {
                    "passed": not (failed or blocked),
                    "missing": [m.__dict__ for m in outcome.missing],
                    "stale": outcome.stale,
                    "modified": outcome.modified,
                    "failures": [f.__dict__ for f in outcome.failures],
                    "metrics_unread": outcome.lineage.unread_metrics,
                    "lock_fresh": not outcome.lock_changed,
                },
                indent=2,
                sort_keys=True,
            )
        )
    if failed or blocked:
        return 1
    if outcome.lock_changed:
        say(f"checks passed; {LOCK_FILE} would change on commit")
    else:
        say("checks passed")
    return 0
