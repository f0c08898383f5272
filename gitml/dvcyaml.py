"""What the workspace's dvc.yaml files declare, per stage: its deps, outs and metrics (paths
made repo-relative), with `foreach`/`matrix`/`${…}` resolved by DVC's own parser
(gitml.templated) so it works before any `dvc repro`; the top-level `metrics:` and the names
`artifacts:` give models.

Read leniently: a dvc.yaml that cannot be read or resolved, or a path that is not a clean
repo-relative one, is a warning (naming the file), and the rest is still read.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitml import artifacts, paths, templated
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
class Declared:
    """What the dvc.yaml files read so far declare."""

    stages: list[StageDecl] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)  # top-level `metrics:` of every dvc.yaml
    names: dict[str, str] = field(default_factory=dict)  # model path -> DVC's name
    warnings: list[str] = field(default_factory=list)


def read_declared(root: Path, rel: str, found: Declared) -> None:
    """Add what the workspace's dvc.yaml `rel` declares to `found`."""
    doc = _resolved_doc(root, rel, found.warnings)
    if doc is None:
        return
    base = posixpath.dirname(rel)
    found.names.update(artifacts.declared(rel, doc))
    for item in _entries(doc.get("metrics")):
        if (path := _relative(item, base, rel, found.warnings)) is not None:
            found.metrics.append(path)
    stages = doc.get("stages")
    for short, body in stages.items() if isinstance(stages, dict) else ():
        if isinstance(body, dict):
            found.stages.append(_stage(rel, base, str(short), body, found.warnings))


def _resolved_doc(root: Path, rel: str, warnings: list[str]) -> dict[str, Any] | None:
    """The dvc.yaml, templating resolved (None, with a warning, when it cannot be had)."""
    try:
        data = paths.inside(root, rel).read_bytes()
        doc = load_yaml(data) or {}
    except (OSError, BadInput, yaml.YAMLError, UnicodeDecodeError) as exc:
        # a broken dvc.yaml: said, and the rest of the project still found
        warnings.append(f"{rel}: not read ({(str(exc).splitlines() or [type(exc).__name__])[0]})")
        return None
    if not isinstance(doc, dict):
        warnings.append(f"{rel}: not a mapping at the top level: not read")
        return None
    if not templated.is_templated(doc, data):
        return doc
    try:
        return templated.resolved_workspace(root, rel, doc)
    except BadInput as exc:
        warnings.append(f"{exc}; its stages are taken from dvc.lock only")
        return None


def _stage(rel: str, base: str, short: str, body: dict[str, Any], warnings: list[str]) -> StageDecl:
    """One stage of dvc.yaml `rel`, its paths relative to its `wdir`."""
    wdir = body.get("wdir")
    stage_base = posixpath.normpath(posixpath.join(base, wdir if isinstance(wdir, str) else "."))
    stage_base = "" if stage_base == "." else stage_base
    stage = StageDecl(f"{base}:{short}" if base else short)
    where = f"{rel}: stage {short}"
    for key, target in (("deps", stage.deps), ("outs", stage.outs), ("metrics", stage.metrics)):
        for item in _entries(body.get(key)):
            if (path := _relative(item, stage_base, where, warnings)) is not None:
                target.append(path)
    return stage


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
