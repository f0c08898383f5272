"""Stages of a templated dvc.yaml (`vars`, `${…}`, `foreach`, `matrix`), resolved by DVC itself.

Only DVC's parser knows its templating language, so DVC is imported here, and only for a
snapshot whose dvc.yaml is templated. The staged dvc.yaml and the staged files its `vars` read
are resolved in a temporary directory (never the workspace, which may hold other bytes), and
the result is cached per clone by their blob shas: an unchanged dvc.yaml is resolved once.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitml import git, paths, state
from gitml.errors import BadInput
from gitml.snapshot import Snapshot

DEFAULT_VARS_FILE = "params.yaml"  # DVC reads it into the context when it exists


def is_templated(doc: dict[str, Any], data: bytes) -> bool:
    stages = doc.get("stages")
    if "vars" in doc or b"${" in data:
        return True
    return isinstance(stages, dict) and any(
        isinstance(s, dict) and ("foreach" in s or "matrix" in s) for s in stages.values()
    )


def _vars_files(doc: dict[str, Any], dvcyaml: str) -> list[str]:
    """Repo-relative paths of the files `vars` entries name (`file` or `file:key,…`): the
    top-level ones relative to the dvc.yaml, a stage's relative to its `wdir`."""
    wdir = posixpath.dirname(dvcyaml)
    scopes: list[tuple[str, list[Any]]] = [(wdir, [DEFAULT_VARS_FILE, *(doc.get("vars") or [])])]
    for stage in doc["stages"].values():
        scope = _stage_vars(stage, wdir)
        if scope is not None:
            scopes.append(scope)
    what = f"{dvcyaml}: vars file"
    return sorted(
        {
            paths.normalize(entry.split(":", 1)[0], base=base, what=what)
            for base, entries in scopes
            for entry in entries
            if isinstance(entry, str)
        }
    )


def _stage_vars(stage: Any, wdir: str) -> tuple[str, list[Any]] | None:
    """A stage's `vars` entries with the directory they are relative to; None without any, or
    when its `wdir` is known only once resolved (DVC says so if the file is not there)."""
    if not isinstance(stage, dict) or not isinstance(stage.get("vars"), list):
        return None
    stage_wdir = stage.get("wdir")
    if isinstance(stage_wdir, str) and "${" in stage_wdir:
        return None
    return posixpath.normpath(posixpath.join(wdir, stage_wdir or ".")), stage["vars"]


def resolved_stages(
    snap: Snapshot, dvcyaml: str, doc: dict[str, Any], common_dir: Path | None = None
) -> dict[str, dict[str, Any]]:
    """{stage name as dvc.lock writes it (`train`, `build@0`, `grid@1-x`): its resolved body}."""
    if not isinstance(doc.get("stages"), dict):
        raise BadInput(f"{dvcyaml}: `stages` must be a mapping of stage names to stages")
    files = _vars_files(doc, dvcyaml)
    key_doc = [dvcyaml, snap.blob_sha(dvcyaml), [(f, snap.blob_sha(f)) for f in files]]
    key = hashlib.sha256(json.dumps(key_doc).encode()).hexdigest()
    if common_dir is None:
        common_dir = git.toplevel_and_common_dir(snap.root)[1]
    cached_file = state.state_dir(common_dir) / "templated" / f"{key}.json"
    cached = state.read_json(cached_file)
    if isinstance(cached, dict):
        return cached
    stages = _resolve(snap, dvcyaml, doc, files)
    cached_file.parent.mkdir(exist_ok=True)
    state.write_json(cached_file, stages)
    return stages


def _resolve(
    snap: Snapshot, dvcyaml: str, doc: dict[str, Any], files: list[str]
) -> dict[str, dict[str, Any]]:
    snap.prefetch([dvcyaml, *files])
    return _stages_of(_resolve_files(snap.read, dvcyaml, doc, files))


def resolved_workspace(root: Path, dvcyaml: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A workspace dvc.yaml resolved by DVC, as `gitml init` reads it (before any commit, so
    not cached): {"stages": {name: body}, "artifacts": {name: body}, "metrics": [path]}."""
    if not isinstance(doc.get("stages", {}), dict):
        raise BadInput(f"{dvcyaml}: `stages` must be a mapping of stage names to stages")

    def read(rel: str) -> bytes | None:
        try:
            return paths.inside(root, rel).read_bytes()
        except (OSError, BadInput):
            return None

    doc = {**doc, "stages": doc.get("stages") or {}}
    return _resolve_files(read, dvcyaml, doc, _vars_files(doc, dvcyaml), top_level=True)


def _stages_of(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stages = resolved.get("stages")
    if not isinstance(stages, dict):
        return {}
    return {str(name): body for name, body in stages.items() if isinstance(body, dict)}


def _resolve_files(
    read: Callable[[str], bytes | None],
    dvcyaml: str,
    doc: dict[str, Any],
    files: list[str],
    top_level: bool = False,
) -> dict[str, Any]:
    """DVC's resolution of the stages (and with `top_level`, of `artifacts` and `metrics`)."""
    with tempfile.TemporaryDirectory(prefix="gitml-dvcyaml-") as tmp:
        root = Path(tmp)
        for rel in [dvcyaml, *files]:
            data = read(rel)
            if data is not None:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_bytes(data)
        with git.without_git_env():
            from dvc.exceptions import DvcException
            from dvc.parsing import DataResolver
            from dvc.repo import Repo as DvcRepo

            try:
                repo = DvcRepo(str(root), uninitialized=True)
                wdir = str((root / dvcyaml).parent)
                resolver = DataResolver(repo, wdir, doc)
                resolved: dict[str, Any] = resolver.resolve()
                if top_level:
                    resolved["artifacts"] = resolver.resolve_artifacts()
                    resolved["metrics"] = resolver.resolve_metrics()
            except DvcException as exc:
                # DVC names the files by their temporary copies: give back the repo's names
                why = str(exc)
                for prefix in (os.path.relpath(root), str(root)):
                    why = why.replace(prefix + os.sep, "")
                raise BadInput(f"{dvcyaml}: DVC cannot resolve its templating: {why}") from None
    return resolved
