"""Stale stages: a stage whose code, params or data changed without `dvc repro`, judged on one
snapshot as `dvc status` judges it (dvc.lock's hashes against the snapshot's files, the
params files' values, dvc.yaml's commands), without running DVC.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from gitml import dvcfiles, params, templated
from gitml.errors import BadInput
from gitml.fileio import load_yaml
from gitml.lockinputs import short
from gitml.snapshot import Snapshot
from gitml.state import Md5Cache


@dataclass
class Pipeline:
    """A snapshot's DVC pipeline: dvc.lock's stages and outs (`project`), and the bodies of the
    dvc.yaml stages, each dvc.yaml read once (templating resolved by DVC's own parser)."""

    snap: Snapshot
    project: dvcfiles.Project
    _stages: dict[str, dict[str, Any] | None] = field(default_factory=dict, repr=False)

    def dvcyaml_stages(self, dvcyaml: str) -> dict[str, Any] | None:
        """A dvc.yaml's stages by the names dvc.lock gives them (`train`, `build@0`); None when
        the snapshot has no such dvc.yaml."""
        if dvcyaml not in self._stages:
            self._stages[dvcyaml] = _read_dvcyaml_stages(self.snap, dvcyaml)
        return self._stages[dvcyaml]

    def body(self, stage: dvcfiles.Stage) -> dict[str, Any] | None:
        """The dvc.yaml body of a dvc.lock stage (None: no such stage in dvc.yaml)."""
        dvcyaml = posixpath.join(posixpath.dirname(stage.lockfile), "dvc.yaml")
        stages = self.dvcyaml_stages(dvcyaml)
        body = stages.get(stage.name.rsplit(":", 1)[-1]) if stages is not None else None
        return body if isinstance(body, dict) else None


def _read_dvcyaml_stages(snap: Snapshot, dvcyaml: str) -> dict[str, Any] | None:
    data = snap.read(dvcyaml)
    if data is None:
        return None
    try:
        doc = load_yaml(data) or {}
    except Exception:
        raise BadInput(f"{dvcyaml}: not valid YAML") from None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return None
    if templated.is_templated(doc, data):
        return templated.resolved_stages(snap, dvcyaml, doc)
    return stages


def frozen_stages(pipe: Pipeline) -> frozenset[str]:
    """The dvc.lock stages whose dvc.yaml body says `frozen: true` (what `dvc freeze` writes)."""
    return frozenset(
        name
        for name, stage in pipe.project.stages.items()
        if (body := pipe.body(stage)) is not None and body.get("frozen") is True
    )


def current_hash(pipe: Pipeline, path: str, hash_name: str, md5s: Md5Cache | None) -> str | None:
    """The hash a dependency has in this snapshot, computed the way DVC computes it."""
    out = pipe.project.outs.get(path)
    if out is not None:
        return out.md5
    snap = pipe.snap
    if snap.has(path):
        return dvcfiles.md5_for(snap.read(path) or b"", hash_name)
    below = snap.files_under(path)
    if below:
        snap.prefetch(below)
        rel = len(path.rstrip("/")) + 1
        return dvcfiles.dir_md5(
            [(p[rel:], dvcfiles.md5_for(snap.read(p) or b"", hash_name)) for p in below]
        )
    ws = snap.root / path
    if snap.rev is None and md5s is not None and ws.exists():
        return md5s.hash_path(ws, hash_name)  # neither git- nor DVC-tracked: the workspace file
    return None


def find_stale(
    pipe: Pipeline, frozen: frozenset[str], md5s: Md5Cache | None
) -> dict[str, list[str]]:
    """Each stage's reasons to be rebuilt, judged as `dvc status` judges them: a frozen stage's
    deps and params are not looked at (dvc/stage `Stage.status`, `changed_deps`), its cmd is."""
    stale: dict[str, list[str]] = {}
    docs: dict[str, Any] = {}
    for name, stage in pipe.project.stages.items():
        reasons = []
        if name not in frozen:
            reasons += _dep_changes(pipe, stage, md5s)
            reasons += _param_changes(pipe, stage, docs)
        reasons += _dvcyaml_changes(pipe, stage)
        if reasons:
            stale[name] = reasons
    for name in _unlocked_stages(pipe):
        stale[name] = ["in dvc.yaml but never run (not in dvc.lock)"]
    return stale


def _dep_changes(pipe: Pipeline, stage: dvcfiles.Stage, md5s: Md5Cache | None) -> list[str]:
    reasons = []
    for dep in stage.deps:
        now = current_hash(pipe, dep.path, dep.hash, md5s)
        if now is None:
            reasons.append(f"{dep.path} is missing")
        elif now != dep.md5:
            reasons.append(f"{dep.path} changed")
    return reasons


def _param_changes(pipe: Pipeline, stage: dvcfiles.Stage, docs: dict[str, Any]) -> list[str]:
    reasons = []
    for pfile, values in stage.params.items():
        doc = _params_doc(pipe, pfile, docs)
        for key, recorded in values.items():
            value = params.MISSING if doc is None else params.lookup(doc, key)
            if value is params.MISSING:
                reasons.append(f"{pfile}:{key} was removed")
            elif value != recorded:
                reasons.append(f"{pfile}:{key} {short(recorded)} -> {short(value)}")
    return reasons


def _params_doc(pipe: Pipeline, pfile: str, docs: dict[str, Any]) -> Any:
    if pfile not in docs:
        data = pipe.snap.read(pfile)
        if data is None:
            ws = pipe.snap.root / pfile
            data = ws.read_bytes() if (pipe.snap.rev is None and ws.is_file()) else None
        docs[pfile] = params.parse(pfile, data) if data is not None else None
    return docs[pfile]


def _dvcyaml_changes(pipe: Pipeline, stage: dvcfiles.Stage) -> list[str]:
    body = pipe.body(stage)
    if body is None:
        return []
    cmd = body.get("cmd")
    if cmd is not None and cmd != stage.cmd:
        return ["its cmd in dvc.yaml changed"]
    return []


def _unlocked_stages(pipe: Pipeline) -> list[str]:
    names = []
    for path in pipe.snap.key_files():
        if posixpath.basename(path) != "dvc.yaml":
            continue
        stages = pipe.dvcyaml_stages(path) or {}
        base = posixpath.dirname(path)
        for name, body in stages.items():
            full = f"{base}:{name}" if base else name
            if isinstance(body, dict) and body.get("cmd") and full not in pipe.project.stages:
                names.append(full)
    return names
