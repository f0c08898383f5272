"""`gitml reproduce REV`: rebuild a commit's models in an isolated worktree and verify them.

DESIGN.md "Contract: reproduce", one function per step: the record at the commit (1), its
isolated worktree and DVC config (2, rebuild_worktree), the root inputs (3, rebuild_inputs),
the environment, current or locked (4, environment, locked_env), the rebuild (5,
rebuild_stages), the comparison and verdict (6, model_comparison), the diagnosis (diagnosis),
and the cleanup (7, rebuild_worktree). The user's worktree, index, DVC cache and run-cache are
never touched. Nothing here prints: progress goes to the caller's `ReproduceReport`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gitml import diagnosis, dvcfiles, git, lockfile, rebuild_inputs, rebuild_stages
from gitml import environment as environment_mod
from gitml import repo as repo_mod
from gitml.config import Config
from gitml.diagnosis import Difference
from gitml.dvc_process import OutputStream
from gitml.error_handler import Interruptible
from gitml.errors import BadInput
from gitml.locked_env import LockedEnv, venv_for_models
from gitml.lockfile import LOCK_FILE, Environment, Lock, ModelEntry
from gitml.model_comparison import (
    DIFFERENT,
    EQUIVALENT,
    IDENTICAL,
    NOT_REBUILT,
    ModelResult,
    compare_models,
    hash_rebuilt,
)
from gitml.rebuild_worktree import (
    copy_rebuilt,
    isolated_worktree,
    worktree_project,
    write_local_config,
)
from gitml.records import read_record
from gitml.snapshot import Snapshot
from gitml.staleness import Pipeline, frozen_stages

_INTERRUPTED = (
    "the rebuild was stopped (DVC and the stages' processes ended) and its temporary worktree "
    "removed; nothing of yours was changed"
)


class ReproduceReport(OutputStream, Protocol):
    """What the command shows while a reproduce runs: each step as it starts, notes, warnings,
    and (`streaming`, from OutputStream) the output of each DVC run."""

    def step(self, message: str) -> None: ...

    def note(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...


@dataclass
class Result:
    rev: str
    verdict: str
    models: list[ModelResult]
    diagnosis: list[Difference]
    seconds: float
    kept: Path | None = None
    locked: LockedEnv | None = None

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "rev": self.rev,
            "verdict": self.verdict,
            "models": [m.as_json() for m in self.models],
            "diagnosis": self.diagnosis,
            "seconds": round(self.seconds, 2),
        }
        if self.locked is not None:  # --env locked only
            doc["environment"] = self.locked.as_json()
        return doc


@dataclass(frozen=True)
class RecordedModels:
    """What gitml.lock at the commit records."""

    commit: str
    lock: Lock
    config: Config  # gitml.yaml at the commit
    models: dict[str, ModelEntry]  # path -> record, every model
    rebuildable: dict[str, ModelEntry]  # those a stage produces that `dvc repro` runs (not frozen)
    frozen: frozenset[str]  # the frozen stages (`dvc freeze`)


@dataclass(frozen=True)
class RebuildEnvironment:
    python: str  # the interpreter the stages run with, first on PATH
    variables: dict[str, str]
    locked: LockedEnv | None  # --env locked: its venv


@dataclass(frozen=True)
class Rebuild:
    """The rebuild of the models' stages in the worktree: run once, and again with --twice."""

    wt: Path
    targets: list[str]
    environment: RebuildEnvironment
    stream: OutputStream
    rebuildable: dict[str, ModelEntry]

    def run(self) -> dict[str, str | None]:
        """Rebuild; the hash of each rebuilt model."""
        rebuild_stages.rebuild(self.wt, self.targets, self.environment.variables, self.stream)
        return hash_rebuilt(self.wt, self.rebuildable)


def reproduce(
    rev: str | None,
    *,
    out: Path | None,
    env_mode: str,
    keep: bool,
    twice: bool,
    report: ReproduceReport,
) -> Result:
    """Rebuild the models of REV (HEAD) in an isolated worktree and compare them with its
    gitml.lock; the worktree is removed at the end (kept with `keep` or when a stage fails),
    also when a signal ends the run."""
    started = time.monotonic()
    if env_mode not in ("current", "locked"):
        raise BadInput(f"--env must be `current` or `locked`, not {env_mode!r}")
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    recorded = read_recorded_models(repo, rev)  # 1
    report.step(f"checking out {recorded.commit[:12]} into a temporary worktree")
    with (
        Interruptible(_INTERRUPTED) as signals,
        isolated_worktree(repo, recorded.commit, signals, keep=keep, note=report.note) as wt,
    ):  # 2, and 7 when the block ends
        report.step("giving it a DVC cache of its own, fed from yours, and your DVC remotes")
        user_config = write_local_config(repo.root, wt.path, wt.cache_dir)
        project = worktree_project(wt.path)
        environment = rebuild_environment(repo, wt.path, recorded, env_mode, report)  # 4
        targets = rebuild_stages.rebuild_targets(
            recorded.rebuildable, recorded.config, project, recorded.commit
        )
        report.step("fetching the pipeline's inputs from the DVC cache or remote")
        rebuild_inputs.fetch_root_inputs(  # 3, with the stages' PATH
            repo.root,
            recorded.commit,
            wt.path,
            project,
            user_config,
            wt.cache_dir,
            targets=targets,
            frozen=recorded.frozen,
            env=environment.variables,
            stream=report,
        )
        rebuild = Rebuild(wt.path, targets, environment, report, recorded.rebuildable)
        report.step(f"rebuilding {', '.join(targets)} (dvc repro)")
        rebuilt = rebuild.run()  # 5
        report.step(f"comparing the rebuilt models with {LOCK_FILE}")
        models = compare(wt.path, recorded, rebuilt)  # 6
        verdict = run_verdict(models)
        if out is not None:
            copy_rebuilt(wt.path, list(recorded.rebuildable), out)
        found = diagnose(rebuild, recorded, models, verdict, rebuilt, twice=twice, step=report.step)
        seconds = time.monotonic() - started
        kept = wt.path if wt.kept else None
        if not kept:
            report.step("removing the temporary worktree")
        return Result(recorded.commit, verdict, models, found, seconds, kept, environment.locked)


def read_recorded_models(repo: repo_mod.Repo, rev: str | None) -> RecordedModels:
    """Step 1: gitml.lock at REV, and which of its models a stage can rebuild; bad input when
    REV has none, or none can be rebuilt."""
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    snap, lock = lockfile.committed_lock(repo.root, commit, "nothing to reproduce against")
    config = repo_mod.config_at(snap) or Config()
    models = lock.models
    if not models:
        raise BadInput(f"{LOCK_FILE} at {commit[:12]} records no models: nothing to reproduce")
    # `dvc repro` runs no frozen stage (`dvc freeze`): it checks their outputs are there
    frozen = frozen_stages(Pipeline(snap, dvcfiles.read_project(snap)))
    rebuildable = {p: m for p, m in models.items() if m.stage and m.stage not in frozen}
    if not rebuildable:
        raise _not_rebuildable(rev, commit, models, frozen)
    return RecordedModels(commit, lock, config, models, rebuildable, frozen)


def _not_rebuildable(
    rev: str | None, commit: str, models: dict[str, ModelEntry], frozen: frozenset[str]
) -> BadInput:
    names = ", ".join(sorted(models))
    if any(m.stage in frozen for m in models.values()):
        return BadInput(
            f"the stages of {names} at {commit[:12]} are frozen "
            f"(`dvc freeze`), so `dvc repro` does not rebuild them; their bytes can be restored "
            f"(`gitml restore {rev or 'HEAD'}`), or `dvc unfreeze` them to rebuild"
        )
    return BadInput(
        f"{names} at {commit[:12]}: tracked by .dvc files (dvc add), not produced by a "
        f"dvc.yaml stage, so there is no pipeline to rebuild from; they can be restored "
        f"(`gitml restore {rev or 'HEAD'}`), not rebuilt"
    )


def rebuild_environment(
    repo: repo_mod.Repo,
    wt: Path,
    recorded: RecordedModels,
    env_mode: str,
    report: ReproduceReport,
) -> RebuildEnvironment:
    """Step 4: the project's interpreter (gitml.yaml `python:`) or, `--env locked`, a venv of the
    recorded packages; first on PATH for the stages."""
    python = environment_mod.project_python(wt, recorded.config.python)
    locked = None
    if env_mode == "locked":
        report.step("preparing a venv of the recorded packages (--env locked)")
        locked = venv_for_models(
            repo.common_dir,
            python,
            recorded.lock.environments,
            recorded.rebuildable,
            note=report.note,
            warn=report.warn,
        )
        python = locked.python
    variables = environment_mod.interpreter_on_path(python)
    if locked is not None:
        variables["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    variables.pop("GITML_INTERNAL_WORKTREE", None)
    return RebuildEnvironment(python, variables, locked)


def compare(
    wt: Path, recorded: RecordedModels, rebuilt: dict[str, str | None]
) -> list[ModelResult]:
    """Step 6: each recorded model against its rebuilt bytes and metrics."""
    metrics_files = {m.path: m.metrics for m in recorded.config.models}
    return compare_models(wt, recorded.models, rebuilt, metrics_files, recorded.config.tolerance)


def run_verdict(models: list[ModelResult]) -> str:
    """The run's verdict: its worst model's (those not rebuildable aside)."""
    verdicts = {m.verdict for m in models if m.verdict != NOT_REBUILT}
    if DIFFERENT in verdicts:
        return DIFFERENT
    return EQUIVALENT if EQUIVALENT in verdicts else IDENTICAL


def diagnose(
    rebuild: Rebuild,
    recorded: RecordedModels,
    models: list[ModelResult],
    verdict: str,
    rebuilt: dict[str, str | None],
    *,
    twice: bool,
    step: Callable[[str], None] = lambda message: None,
) -> list[Difference]:
    """Step 6, when not identical: the differences between the recorded and actual inputs and
    environment, most likely first; with `twice`, whether a second rebuild here differs from
    the first. Models no stage produces are named last, whatever the verdict."""
    found: list[Difference] = []
    now = rebuild_environment_record(rebuild, recorded)
    if verdict != IDENTICAL:
        step(f"{verdict}: looking for why (inputs, environment, seeds)")
        not_identical = [m.path for m in models if m.verdict not in (IDENTICAL, NOT_REBUILT)]
        found = diagnosis.diagnose(
            {p: recorded.rebuildable[p] for p in not_identical},
            recorded.lock.environments,
            worktree_project(rebuild.wt),
            now,
            recorded.config,
        )
        if twice:
            step(f"rebuilding {', '.join(rebuild.targets)} again (--twice)")
            found = diagnosis.with_determinism(found, varying_models(rebuild, rebuilt))
    unbuilt = [p for p in recorded.models if p not in recorded.rebuildable]
    return found + infrastructure_differences(recorded, now) + diagnosis.not_rebuilt(unbuilt)


def rebuild_environment_record(rebuild: Rebuild, recorded: RecordedModels) -> dict[str, Any]:
    """The environment block of the rebuild: its interpreter's, with the commit's
    infrastructure files and the image it runs in."""
    snap = Snapshot(rebuild.wt, recorded.commit)
    files = environment_mod.infrastructure_files(
        snap.entries, snap.read, recorded.config.environment_files
    )
    block = environment_mod.capture(rebuild.environment.python, rebuild.wt)
    return environment_mod.with_infrastructure(block, files)


def infrastructure_differences(recorded: RecordedModels, now: dict[str, Any]) -> list[Difference]:
    """Whatever the verdict: each rebuilt model's recorded infrastructure against the rebuild's."""
    blocks = {
        path: recorded.lock.environment_of(entry) for path, entry in recorded.rebuildable.items()
    }
    return diagnosis.infrastructure_differences(blocks, read_record(Environment, now))


def varying_models(rebuild: Rebuild, rebuilt: dict[str, str | None]) -> list[str]:
    """--twice: rebuild again; the models whose bytes differ from the first rebuild's."""
    again = rebuild.run()
    return [p for p in rebuilt if again[p] != rebuilt[p]]
