"""Step 5 of `gitml reproduce`: the stages that produce the models, rebuilt in the worktree.

`dvc repro --force --no-commit --no-run-cache` of the model stages (and of those writing their
metrics files): every stage runs again, and nothing rebuilt enters a DVC cache or run-cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gitml import dvcfiles
from gitml.config import Config
from gitml.dvc_process import OutputStream, run_dvc
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE, ModelEntry


class StageFailed(BadInput):
    """A stage of the rebuild failed: exit 2 with the tail of its output; the worktree is kept."""


def rebuild_targets(
    rebuildable: Mapping[str, ModelEntry], config: Config, project: dvcfiles.Project, commit: str
) -> list[str]:
    """The stages recorded as producing the models, then those writing their metrics files, each
    once; a stage the worktree's pipeline does not have is bad input."""
    targets = [str(m.stage) for m in rebuildable.values()]
    for model in config.models:
        if model.path in rebuildable and model.metrics:
            producer = project.outs.get(model.metrics)
            if producer is not None and producer.stage:
                targets.append(producer.stage)
    targets = list(dict.fromkeys(targets))
    missing = [t for t in targets if t not in project.stages]
    if missing:
        raise BadInput(
            f"stage(s) {', '.join(missing)} named in {LOCK_FILE} are not in the "
            f"dvc.lock of {commit[:12]}"
        )
    return targets


def dvc_target(stage: str) -> str:
    """gitml's stage name (`sub/dir:train` when nested) as a `dvc repro` target."""
    if ":" in stage:
        base, name = stage.rsplit(":", 1)
        return f"{base}/dvc.yaml:{name}"
    return stage


def rebuild(wt: Path, targets: list[str], env: dict[str, str], stream: OutputStream) -> None:
    """Run `targets` again in `wt`; StageFailed, with the last lines of output, when one fails."""
    cmd = ["repro", "--force", "--no-commit", "--no-run-cache", *map(dvc_target, targets)]
    code, tail = run_dvc(cmd, wt, env, stream, f"rebuilding {', '.join(targets)} (dvc repro)")
    if code != 0:
        raise StageFailed(
            f"the rebuild failed (`dvc {' '.join(cmd)}` exited {code}); its last "
            "lines:\n" + "\n".join(tail)
        )
