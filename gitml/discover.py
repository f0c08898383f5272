"""What `gitml init` finds in a DVC project: models, their metrics, and datasets.

Reads the workspace's dvc.yaml (artifacts, metrics), dvc.lock (stages, templated ones already
resolved by DVC) and .dvc files.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import dvcfiles, paths
from gitml.fileio import load_yaml
from gitml.manifest import _MODEL_SUFFIX_FORMATS

_SKIP_DIRS = {".git", ".dvc", ".venv", "venv", "node_modules", "__pycache__", ".gitml"}


@dataclass
class Found:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> gitml.yaml entry
    data: dict[str, dict[str, Any]] = field(default_factory=dict)


def _walk(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS for part in rel.parts[:-1]) or not path.is_file():
            continue
        name = path.name
        if name in ("dvc.yaml", "dvc.lock") or name.endswith(".dvc"):
            found.append(rel.as_posix())
    return found


def _looks_like_model(path: str) -> bool:
    suffix = posixpath.splitext(path)[1].lower()
    return suffix in _MODEL_SUFFIX_FORMATS or any(
        part in ("model", "models") for part in path.split("/")[:-1]
    )


def discover(root: Path) -> Found:
    project = dvcfiles.Project()
    artifacts: dict[str, str] = {}  # path -> name
    metrics: list[str] = []
    for rel in _walk(root):
        data = (root / rel).read_bytes()
        base = posixpath.dirname(rel)
        if rel.endswith("dvc.lock"):
            dvcfiles.read_lockfile(rel, data, project)
        elif rel.endswith(".dvc"):
            dvcfiles.read_dvcfile(rel, data, project)
        else:
            doc = load_yaml(data) or {}
            for name, art in (doc.get("artifacts") or {}).items():
                if isinstance(art, dict) and art.get("type") == "model" and art.get("path"):
                    artifacts[paths.normalize(str(art["path"]), base=base)] = str(name)
            for item in doc.get("metrics") or []:
                metrics.append(paths.normalize(str(item), base=base))
            for stage in (doc.get("stages") or {}).values():
                for m in (stage or {}).get("metrics") or [] if isinstance(stage, dict) else []:
                    key = next(iter(m)) if isinstance(m, dict) else m
                    metrics.append(paths.normalize(str(key), base=base))
    found = Found()
    model_paths = set(artifacts) | {p for p in project.outs if _looks_like_model(p)}
    for path in sorted(model_paths):
        entry: dict[str, Any] = {"path": path}
        if path in artifacts:
            entry["name"] = artifacts[path]
        metric = _metrics_for(path, project, metrics)
        if metric:
            entry["metrics"] = metric
        found.models[path] = entry
    for path, out in sorted(project.outs.items()):
        if path in model_paths or path in metrics:
            continue
        if out.stage is None:  # from `dvc add` / `dvc import`: a root dataset
            found.data[path] = {"path": path}
    for stage in project.stages.values():
        for dep in stage.deps:
            if dep.path in project.outs and dep.path not in model_paths and dep.path not in metrics:
                found.data.setdefault(dep.path, {"path": dep.path})
    return found


def _metrics_for(model: str, project: dvcfiles.Project, metrics: list[str]) -> str | None:
    """The metrics file of the stage that consumes the model (e.g. evaluate), else the first one."""
    for stage in project.stages.values():
        if any(d.path == model for d in stage.deps):
            for out in stage.outs:
                if out.path in metrics:
                    return out.path
    return metrics[0] if metrics else None
