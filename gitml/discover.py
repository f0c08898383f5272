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

import yaml

from gitml import artifacts, dvcfiles, git, paths, templated
from gitml.errors import BadInput
from gitml.fileio import load_yaml


@dataclass
class StageDecl:
    """One stage as dvc.yaml declares it (resolved), its paths repo-relative."""

    name: str  # "train", "train@rf", "pipelines/a:train"
    deps: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)


@dataclass
class Found:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> gitml.yaml entry
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Declared:
    stages: list[StageDecl] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)  # top-level `metrics:` of every dvc.yaml
    names: dict[str, str] = field(default_factory=dict)  # model path -> DVC's name
    warnings: list[str] = field(default_factory=list)


def dvc_files(root: Path) -> list[str]:
    """The workspace's dvc.yaml, dvc.lock and .dvc files, tracked or not (not git-ignored)."""
    listed = ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"]
    specs = [":(glob)**/dvc.yaml", ":(glob)**/dvc.lock", ":(glob)**/*.dvc"]
    out = git.run([*listed, *specs], root).stdout
    return sorted({p for p in git.split_z(out) if (root / p).is_file()})


def _entries(value: Any) -> list[str]:
    """Paths of a stage's `deps`/`outs`/`metrics` list (plain strings or `{path: options}`)."""
    found = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and len(item) == 1:
            item = next(iter(item))
        if isinstance(item, str):
            found.append(item)
    return found


def _relative(path: str, base: str, origin: str, warnings: list[str]) -> str | None:
    if artifacts.is_templated_path(path):
        warnings.append(f"{origin}: {path!r} is still templated after DVC resolved it: skipped")
        return None
    try:
        return paths.normalize(path, base=base, what=f"{origin}: path")
    except BadInput as exc:
        warnings.append(f"{exc}: skipped")
        return None


def _read_dvcyaml(root: Path, rel: str, found: _Declared) -> None:
    try:
        data = paths.inside(root, rel).read_bytes()
        doc = load_yaml(data) or {}
    except (OSError, BadInput, yaml.YAMLError, UnicodeDecodeError) as exc:
        # a broken dvc.yaml: said, and the rest of the project still found
        found.warnings.append(
            f"{rel}: not read ({(str(exc).splitlines() or [type(exc).__name__])[0]})"
        )
        return
    if not isinstance(doc, dict):
        found.warnings.append(f"{rel}: not a mapping at the top level: not read")
        return
    if templated.is_templated(doc, data):
        try:
            doc = templated.resolved_workspace(root, rel, doc)
        except BadInput as exc:
            found.warnings.append(f"{exc}; its stages are taken from dvc.lock only")
            return
    base = posixpath.dirname(rel)
    found.names.update(artifacts.declared(rel, doc))
    for item in _entries(doc.get("metrics")):
        if (path := _relative(item, base, rel, found.warnings)) is not None:
            found.metrics.append(path)
    stages = doc.get("stages")
    for short, body in (stages or {}).items() if isinstance(stages, dict) else ():
        if not isinstance(body, dict):
            continue
        wdir = body.get("wdir") if isinstance(body.get("wdir"), str) else "."
        stage_base = posixpath.normpath(posixpath.join(base, wdir))
        stage_base = "" if stage_base == "." else stage_base
        stage = StageDecl(f"{base}:{short}" if base else str(short))
        for key, target in (("deps", stage.deps), ("outs", stage.outs), ("metrics", stage.metrics)):
            for item in _entries(body.get(key)):
                where = f"{rel}: stage {short}"
                if (path := _relative(item, stage_base, where, found.warnings)) is not None:
                    target.append(path)
        found.stages.append(stage)


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
    declared = _Declared()
    project = dvcfiles.Project()
    for rel in dvc_files(root):
        name = posixpath.basename(rel)
        if name == "dvc.yaml":
            _read_dvcyaml(root, rel, declared)
            continue
        data = paths.inside(root, rel).read_bytes()
        try:
            if name == "dvc.lock":
                dvcfiles.read_lockfile(rel, data, project)
            else:
                dvcfiles.read_dvcfile(rel, data, project)
        except BadInput as exc:
            declared.warnings.append(f"{exc}: not read")
    stages = declared.stages + _locked_stages(project, {s.name for s in declared.stages})
    all_metrics = list(dict.fromkeys([*declared.metrics, *(m for s in stages for m in s.metrics)]))
    outs = {o for s in stages for o in s.outs} | set(project.outs)
    model_paths = set(declared.names) | {
        p for p in outs if artifacts.looks_like_model(p) and p not in all_metrics
    }
    found = Found(warnings=declared.warnings)
    for path in sorted(model_paths):
        entry: dict[str, Any] = {"path": path}
        if path in declared.names:
            entry["name"] = declared.names[path]
        metric = _metrics_for(path, stages, declared.metrics)
        if metric is None and len(model_paths) == 1 and len(all_metrics) == 1:
            metric = all_metrics[0]  # one model, one metrics file: no doubt whose they are
        if metric:
            entry["metrics"] = metric
        found.models[path] = entry
    skip = model_paths | set(all_metrics)
    for path, out in sorted(project.outs.items()):
        if out.stage is None and path not in skip:  # `dvc add` / `dvc import`: a root dataset
            found.data[path] = {"path": path}
    for stage in stages:
        for dep in stage.deps:
            if dep in outs and dep not in skip:
                found.data.setdefault(dep, {"path": dep})
    found.data = dict(sorted(found.data.items()))
    return found
