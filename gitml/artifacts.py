"""Models that dvc.yaml `artifacts:` declare, by the names DVC and GTO give them.

An artifact `nb` of `pipelines/nlp/dvc.yaml` is `pipelines/nlp:nb` to DVC and GTO (its path is
relative to that dvc.yaml). Read from the YAML directly, without importing DVC: gitml.yaml's
default model names come from here on every command that reads it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from gitml import gtotags, paths
from gitml.errors import BadInput
from gitml.fileio import load_yaml
from gitml.formatchoice import SUFFIX_FORMATS as _MODEL_SUFFIX_FORMATS
from gitml.snapshot import Snapshot

DVC_YAML = "dvc.yaml"


def looks_like_model(path: str) -> bool:
    """A file of a model format gitml knows, or anything under a `model(s)/` folder."""
    if posixpath.splitext(path)[1].lower() in _MODEL_SUFFIX_FORMATS:
        return True
    return any(part in ("model", "models") for part in path.split("/")[:-1])


def is_templated_path(path: str) -> bool:
    """`${…}` is DVC's templating: such a path is never a file DVC tracks."""
    return "${" in path


def _artifacts(doc: Any) -> list[tuple[Any, Any]]:
    """(name, body) of each entry of a dvc.yaml's `artifacts:`, as written."""
    arts = doc.get("artifacts") if isinstance(doc, dict) else None
    return list(arts.items()) if isinstance(arts, dict) else []


def _model_path(dvcyaml: str, art: Any) -> str | None:
    """The repository path of an artifact that is a model (type `model`, or a path that looks
    like one); None for anything else, a templated path or one out of the repository."""
    path = art.get("path") if isinstance(art, dict) else None
    if not isinstance(path, str) or is_templated_path(path):
        return None
    if art.get("type") != "model" and not looks_like_model(path):
        return None
    try:
        return paths.normalize(path, base=posixpath.dirname(dvcyaml), what="artifact path")
    except BadInput:
        return None  # a path out of the repository names no model of it


def declared(dvcyaml: str, doc: Any) -> dict[str, str]:
    """{model path: DVC's name} for the model artifacts of one dvc.yaml (type `model`, or any
    artifact whose path is a model). Unusable entries are skipped: they name nothing."""
    found: dict[str, str] = {}
    for name, art in _artifacts(doc):
        rel = _model_path(dvcyaml, art)
        if rel is not None and isinstance(name, str):
            found.setdefault(rel, gtotags.full_name(dvcyaml, name))
    return found


def _names(files: Iterable[tuple[str, bytes | None]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for dvcyaml, data in files:
        if data is None or b"artifacts" not in data:
            continue
        try:
            doc = load_yaml(data)
        except (yaml.YAMLError, UnicodeDecodeError):
            doc = None  # a broken dvc.yaml names nothing: it is reported where its stages are read
        for path, name in declared(dvcyaml, doc).items():
            found.setdefault(path, name)
    return found


def names_in_snapshot(snap: Snapshot) -> dict[str, str]:
    files = [p for p in snap.key_files() if posixpath.basename(p) == DVC_YAML]
    snap.prefetch(files)
    return _names((f, snap.read(f)) for f in files)


def names_in_workspace(root: Path, dvcyamls: Iterable[str]) -> dict[str, str]:
    def read(rel: str) -> bytes | None:
        try:
            return paths.inside(root, rel).read_bytes()
        except (OSError, BadInput):
            return None

    return _names((f, read(f)) for f in dvcyamls)
