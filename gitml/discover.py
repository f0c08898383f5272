"""What `gitml init` finds in a DVC project: models, their metrics, and datasets.

Read per stage from every dvc.yaml of the workspace (nested ones too), with `foreach`/`matrix`/
`${…}` resolved by DVC's own parser, so it works before any `dvc repro`; dvc.lock and .dvc files
add what was run or `dvc add`ed. A model's metrics are those of the stage that writes it, else
of a stage that evaluates it (depends on it and declares metrics). Names are DVC's (`artifacts:`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import artifacts, dvcfiles, git, paths
from gitml.dvcyaml import Declared, StageDecl, read_declared
from gitml.errors import BadInput


@dataclass
class Found:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> gitml.yaml entry
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def dvc_files(root: Path) -> list[str]:
    """The workspace's dvc.yaml, dvc.lock and .dvc files, tracked or not (not git-ignored)."""
    listed = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"]
    specs = [":(glob)**/dvc.yaml", ":(glob)**/dvc.lock", ":(glob)**/*.dvc"]
    out = git.run([*listed, *specs], root).stdout
    return sorted({p for p in git.split_z(out) if (root / p).is_file()})


def _locked_stages(project: dvcfiles.Project, known: set[str]) -> list[StageDecl]:
    """Stages dvc.lock records that no dvc.yaml gave (one DVC could not resolve)."""
    return [
        StageDecl(s.name, [d.path for d in s.deps], [o.path for o in s.outs])
        for s in project.stages.values()
        if s.name not in known
    ]


def _stage_metrics(stage: StageDecl, top_metrics: list[str]) -> list[str]:
    """The stage's own metrics, and the top-level ones it writes (as an out, or inside one)."""
    inside = [m for m in top_metrics if any(paths.is_under(m, o) for o in stage.outs)]
    return list(dict.fromkeys([*stage.metrics, *inside]))


def _metrics_for(model: str, stages: list[StageDecl], top_metrics: list[str]) -> str | None:
    writers = [s for s in stages if model in s.outs]
    readers = [s for s in stages if any(paths.is_under(model, d) for d in s.deps)]
    for stage in [*writers, *readers]:
        found = _stage_metrics(stage, top_metrics)
        if found:
            return found[0]
    return None


def discover(root: Path) -> Found:
    """What gitml.yaml should list for the workspace's DVC project: models (with DVC's name and
    their metrics) and datasets (`dvc add`ed or imported ones, and stage outs other stages
    read), with a warning for each DVC file that could not be read."""
    declared, project = _read_dvc_files(root)
    stages = declared.stages + _locked_stages(project, {s.name for s in declared.stages})
    all_metrics = list(dict.fromkeys([*declared.metrics, *(m for s in stages for m in s.metrics)]))
    outs = {o for s in stages for o in s.outs} | set(project.outs)
    model_paths = set(declared.names) | {
        p for p in outs if artifacts.looks_like_model(p) and p not in all_metrics
    }
    found = Found(warnings=declared.warnings)
    for path in sorted(model_paths):
        found.models[path] = _model_entry(path, declared, stages, all_metrics, len(model_paths))
    found.data = _datasets(project, stages, outs, model_paths | set(all_metrics))
    return found


def _read_dvc_files(root: Path) -> tuple[Declared, dvcfiles.Project]:
    """Every dvc.yaml (declared stages), dvc.lock and .dvc file (what was run or added)."""
    declared = Declared()
    project = dvcfiles.Project()
    for rel in dvc_files(root):
        name = posixpath.basename(rel)
        if name == "dvc.yaml":
            read_declared(root, rel, declared)
            continue
        data = paths.inside(root, rel).read_bytes()
        try:
            if name == "dvc.lock":
                dvcfiles.read_lockfile(rel, data, project)
            else:
                dvcfiles.read_dvcfile(rel, data, project)
        except BadInput as exc:
            declared.warnings.append(f"{exc}: not read")
    return declared, project


def _model_entry(
    path: str, declared: Declared, stages: list[StageDecl], all_metrics: list[str], models: int
) -> dict[str, Any]:
    """A model's gitml.yaml entry: its path, DVC's name for it, its metrics file."""
    entry: dict[str, Any] = {"path": path}
    if path in declared.names:
        entry["name"] = declared.names[path]
    metric = _metrics_for(path, stages, declared.metrics)
    if metric is None and models == 1 and len(all_metrics) == 1:
        metric = all_metrics[0]  # one model, one metrics file: no doubt whose they are
    if metric:
        entry["metrics"] = metric
    return entry


def _datasets(
    project: dvcfiles.Project, stages: list[StageDecl], outs: set[str], skip: set[str]
) -> dict[str, dict[str, Any]]:
    """Root datasets (`dvc add` / `dvc import`), and stage outs another stage depends on."""
    data: dict[str, dict[str, Any]] = {}
    for path, out in project.outs.items():
        if out.stage is None and path not in skip:
            data[path] = {"path": path}
    for stage in stages:
        for dep in stage.deps:
            if dep in outs and dep not in skip:
                data.setdefault(dep, {"path": dep})
    return dict(sorted(data.items()))
