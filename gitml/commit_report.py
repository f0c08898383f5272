"""What the commit checks tell the user: the outcome of `precommit.evaluate`, printed.

An edge module, like gitml.output: the pre-commit hook (gitml.hook_run) and the commands that
judge the staged state (`gitml check`, `gitml lock`, `gitml test`) print the same lines
through it. Domain modules never import it.
"""

from __future__ import annotations

from gitml import precommit
from gitml.config import CONFIG_FILE
from gitml.errors import BadInput
from gitml.freshness import unread_metrics_notes
from gitml.objects import Missing
from gitml.output import verdict, warn
from gitml.precommit import Outcome
from gitml.repo import Repo


def report_missing(outcome: Outcome) -> None:
    """Why the commit is blocked: corrupt cache objects, then objects found nowhere."""
    corrupt = [m for m in outcome.missing if m.corrupt]
    if corrupt:
        verdict(
            "commit blocked: these DVC cache objects do not match their hash (corrupt cache) and "
            "were not loaded:\n"
            + "\n".join(
                f"  {_named(m)}  md5 {m.md5}  ({m.corrupt}); "
                "fix: delete that file, then `dvc pull` it (or `gitml repro` to rebuild it)"
                for m in corrupt
            )
        )
    lines = [_missing_line(m) for m in outcome.missing if not m.corrupt]
    if lines:
        verdict(
            "commit blocked: these DVC objects are in neither the local cache nor the remote:\n"
            + "\n".join(lines)
        )


def _named(m: Missing) -> str:
    return f"{m.path}/{m.member}" if m.member else m.path


def _missing_line(m: Missing) -> str:
    fix = (
        f"`dvc commit {m.origin}`"
        if m.origin.endswith(".dvc")
        else "`dvc commit` (or `gitml repro`)"
    )
    return (
        f"  {_named(m)}  md5 {m.md5}  (named in {m.origin}); fix: {fix}, or `dvc pull` "
        "if it exists on the remote"
    )


def report_outcome(outcome: Outcome, block_stale: bool) -> bool:
    """Print warnings and failures; True when the commit must be blocked."""
    if outcome.lineage is not None:
        for note in unread_metrics_notes(outcome.lineage):
            warn(note)
    for path in outcome.modified:
        warn(
            f"{path} in the workspace differs from its staged hash; the commit records and "
            "checks the staged bytes"
        )
    for stage, reasons in outcome.stale.items():
        (verdict if block_stale else warn)(
            f"stage {stage} is stale (run `gitml repro`): " + "; ".join(reasons)
        )
    for f in outcome.failures:
        verdict(f"{f.check} failed for {f.path}: {f.detail}")
    return bool(outcome.failures) or (block_stale and bool(outcome.stale))


def say_unstaged(repo: Repo, outcome: Outcome) -> None:
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
