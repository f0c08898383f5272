"""`gitml test [MODEL…] [--json]`: the model tests and gates, on the staged state, on demand.

The same run as the commit hook's (same cache), for every named model (default: every model
with tests or gates), whether or not it changed. Nothing is written to gitml.lock. A line names
the watched files whose work-tree copy differs from the staged one.
"""

from __future__ import annotations

import json

from gitml import gates, git, modeltests, paths
from gitml import repo as repo_mod
from gitml import state as state_mod
from gitml.checks import CheckContext
from gitml.commit_report import report_missing, say_unstaged
from gitml.dvcconfig import read_config
from gitml.output import say, verdict, warn
from gitml.precommit import evaluate
from gitml.snapshot import Snapshot


def test(models: list[str], json_out: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    models = [paths.model_from_cli(repo.root, m) for m in models]
    head = git.head_commit(repo.root)
    with state_mod.locked(repo.common_dir):
        outcome = evaluate(repo, Snapshot(repo.root), head, run_checks=False)
        say_unstaged(repo, outcome)
        if outcome.missing:
            report_missing(outcome)
            return 1
        assert outcome.lineage is not None and outcome.lock is not None
        ctx = CheckContext(
            repo,
            outcome.lineage,
            outcome.lock,
            read_config(repo.root).cache_dir,
            head=head,
            head_lock=outcome.head_lock,
            report=warn,
        )
        results = modeltests.run_models(ctx, only=models or None, force=True)
    passed = all(not r.failures for r in results)
    if json_out:
        print(
            json.dumps(
                {"passed": passed, "models": [r.as_json() for r in results]},
                indent=2,
                sort_keys=True,
            )
        )
    for r in results:
        _report(r)
    if not results:
        say("no model has tests or gates in gitml.yaml")
    return 0 if passed else 1


def _report(r: modeltests.ModelResult) -> None:
    lines = [f"{r.path} ({r.name}): {'passed' if not r.failures else 'FAILED'}"]
    if r.gates:
        lines.append(gates.table(r.gates))
    if r.tests is not None:
        cached = " (cached result)" if r.cached else ""
        lines.append("  tests: " + modeltests.tests_summary(r.tests).replace("\n", "\n  ") + cached)
    verdict("\n".join(lines))
