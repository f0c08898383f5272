"""Which commit a model's gates compare against (gitml.yaml `baseline:`), and its metrics.

`parent`: HEAD (the commit being made will sit on it). `production`, `staging` (any stage name):
the commit of the newest GTO stage tag `NAME#STAGE#N` (annotated tags, peeled), none when the
newest one for that stage is an unassignment `NAME#STAGE!#N`. `latest`: the newest version tag
`NAME@vX.Y.Z`. Anything else: a git rev.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import dvcconfig, dvcfiles, git, lockfile, registry
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE
from gitml.metricsfile import read_metrics
from gitml.slices import with_test_metrics
from gitml.snapshot import Snapshot

STAGES = ("production", "staging")


@dataclass(frozen=True)
class Baseline:
    spec: str
    rev: str | None  # the commit sha; None when there is no baseline yet
    metrics: dict[str, Any] | None


def _peel(root: Path, ref: str) -> str | None:
    proc = git.run(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        root,
        check=False,
    )
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def resolve(root: Path, spec: str, model_name: str, head: str | None) -> str | None:
    """The baseline commit of `spec`; None when it does not exist (yet)."""
    if spec == "parent":
        return head
    if spec in STAGES:
        return registry.stage_commit(root, model_name, spec)
    if spec == "latest":
        return registry.latest_version_commit(root, model_name)
    sha = _peel(root, spec)
    if sha is None:
        raise BadInput(f"gitml.yaml: baseline {spec!r} of model {model_name!r} names no commit")
    return sha


def metrics_at(root: Path, rev: str, model_path: str, metrics_file: str | None) -> dict[str, Any]:
    """The model's metrics at `rev`: its gitml.lock, else its metrics file (git, else cache)."""
    snap = Snapshot(root, rev)
    data = snap.read(LOCK_FILE)
    entry = _recorded_entry(data, model_path) if data is not None else None
    if entry is not None and entry.metrics is not None:
        return with_test_metrics(entry.metrics, entry.tests)
    if not metrics_file:
        return {}
    project = dvcfiles.read_project(snap)
    cfg = dvcconfig.read_config(root)
    return read_metrics(snap, project, metrics_file, cfg, remote=False).figures or {}


def _recorded_entry(data: bytes, model_path: str) -> lockfile.ModelEntry | None:
    """The model's entry in a gitml.lock; None without one, or in a lock that cannot be read
    (the metrics file is read instead)."""
    try:
        return lockfile.parse(data).models.get(model_path)
    except BadInput:
        return None


def baseline_for(
    root: Path,
    spec: str,
    model_name: str,
    model_path: str,
    metrics_file: str | None,
    head: str | None,
) -> Baseline:
    rev = resolve(root, spec, model_name, head)
    if rev is None:
        return Baseline(spec, None, None)
    return Baseline(spec, rev, metrics_at(root, rev, model_path, metrics_file))
