"""`gitml restore [REV]`: REV's exact data and model bytes into the workspace, verified.

The restoring hooks (post-checkout, post-merge, post-rewrite) are gitml.restoring's.
"""

from __future__ import annotations

import json
from typing import Any

from gitml import git, restoring
from gitml import repo as repo_mod
from gitml import restore as restore_mod
from gitml import state as state_mod
from gitml.errors import BadInput, CheckFailed
from gitml.output import verdict


def restore_command(
    rev: str | None,
    paths: list[str] | None = None,
    force: bool = False,
    json_out: bool = False,
) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    wanted = None
    if paths:
        from gitml.paths import from_cli

        wanted = [from_cli(repo.root, p, what="--path") for p in paths]
    with state_mod.locked(repo.common_dir):
        md5s = state_mod.Md5Cache(repo.common_dir)
        try:
            fetch = restoring.remote_fetcher(repo, commit)
            report = restore_mod.restore(repo, commit, md5s, fetch, wanted, force=force)
        finally:
            md5s.close()
    restoring.describe(report, hook=False, root=repo.root)
    if wanted and not (
        set(wanted)
        & set(report.restored + report.up_to_date + report.not_at_target + report.removed)
    ):
        raise BadInput(f"{', '.join(wanted)}: not DVC-tracked at {commit[:8]}")
    if json_out:
        print(json.dumps(as_json(report), indent=2, sort_keys=True))
    if report.not_at_target:
        raise CheckFailed(
            f"the work tree does not hold the recorded bytes of {commit[:8]} for: "
            + ", ".join(report.not_at_target)
        )
    if not report.restored and not report.removed:
        verdict(f"workspace already holds the data and models of {commit[:8]}")
    return 0


def as_json(report: restore_mod.Report) -> dict[str, Any]:
    """`gitml restore --json` (a stable format): each target's outcome, and where the bytes of
    each restored one came from."""
    return {
        "rev": report.rev,
        "restored": [
            {"path": p, "from": sorted(report.sources.get(p) or {restore_mod.CACHE})}
            for p in report.restored
        ],
        "up_to_date": report.up_to_date,
        "removed": report.removed,
        "saved": [{"path": p, "object": str(obj)} for p, obj in report.saved],
        "kept_modified": report.kept_modified,
        "missing": [{"path": p, "md5": report.missing_md5.get(p)} for p in report.missing],
        "corrupt": report.corrupt,
        "mismatched": report.mismatched,
        "at_target": not report.not_at_target,
    }
