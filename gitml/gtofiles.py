"""GTO's own files, read as GTO 1.10 reads them: `.gto` (allowed stages and types) and
`artifacts.yaml` (artifacts declared without DVC), plus the artifacts of dvc.yaml `artifacts:`.

`.gto` is read from the work tree (GTO reads it there); `artifacts.yaml` from the HEAD commit
(GTO reads it from git at HEAD, and counts HEAD's commit date as an event of each artifact it
declares, which matters for deprecation). The parsers take the bytes, so that a commit's files
(another repository's HEAD, a promoted commit) are read as the work tree's are.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitml import git, gtotags, paths
from gitml.errors import BadInput
from gitml.fileio import load_yaml

GTO_CONFIG = ".gto"
ARTIFACTS_YAML = "artifacts.yaml"


@dataclass(frozen=True)
class GtoConfig:
    stages: tuple[str, ...] | None = None  # None: any stage GTO's name pattern accepts
    types: tuple[str, ...] | None = None

    def check_stage(self, stage: str) -> None:
        """As `gto assign` does: a stage `.gto` does not list is refused (exit 2)."""
        gtotags.check_name(stage, "stage")
        if self.stages is not None and stage not in self.stages:
            raise BadInput(
                f"stage {stage!r} is not one of the stages {GTO_CONFIG} allows: "
                + (", ".join(self.stages) or "none")
                + f" (GTO refuses it too; add it to `stages:` in {GTO_CONFIG} to allow it)"
            )

    def type_allowed(self, kind: str | None) -> bool:
        return self.types is None or kind is None or kind in self.types


def _names(doc: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, str) and gtotags.NAME_RE.match(v) for v in value
    ):
        raise BadInput(
            f"{GTO_CONFIG}: `{key}:` must be a list of names (letters, digits, '-', '_', '/'), "
            f"as GTO requires; got {value!r}"
        )
    return tuple(value)


def gto_config(root: Path) -> GtoConfig:
    """The work tree's `.gto`; none: GTO's defaults (every stage and type allowed)."""
    try:
        data = paths.inside(root, GTO_CONFIG).read_bytes()
    except FileNotFoundError:
        return GtoConfig()
    except (OSError, BadInput) as exc:
        raise BadInput(f"{GTO_CONFIG}: cannot be read ({exc}); GTO cannot read it either") from None
    return parse_gto_config(data)


def parse_gto_config(data: bytes | None) -> GtoConfig:
    """`.gto`'s bytes read as GTO reads them; None (no file): GTO's defaults."""
    if data is None:
        return GtoConfig()
    try:
        doc = load_yaml(data)
    except (yaml.YAMLError, UnicodeDecodeError, BadInput) as exc:
        raise BadInput(
            f"{GTO_CONFIG}: not valid YAML ({exc}); fix it (GTO refuses it too)"
        ) from None
    if doc is None:
        return GtoConfig()
    if not isinstance(doc, dict):
        raise BadInput(f"{GTO_CONFIG}: must be a mapping (stages:, types:), as GTO reads it")
    return GtoConfig(_names(doc, "stages"), _names(doc, "types"))


@dataclass(frozen=True)
class Declared:
    """An artifact a file declares: its GTO name, type, path and the file."""

    name: str
    type: str | None
    path: str | None
    source: str  # "artifacts.yaml" or the dvc.yaml


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def artifacts_yaml_at(root: Path, rev: str = "HEAD") -> bytes | None:
    """artifacts.yaml as commit `rev` has it (GTO reads HEAD's); None: it has none."""
    proc = git.run(["cat-file", "blob", f"{rev}:{ARTIFACTS_YAML}"], root, check=False)
    return proc.stdout if proc.returncode == 0 else None


def in_artifacts_yaml(data: bytes | None, where: str = "HEAD") -> tuple[list[Declared], list[str]]:
    """(the artifacts an artifacts.yaml declares, warnings): GTO's index. An unreadable
    file names nothing, with a warning saying so; `where`: the commit, for the warnings."""
    if data is None:
        return [], []
    try:
        doc = load_yaml(data)
    except (yaml.YAMLError, UnicodeDecodeError, BadInput) as exc:
        return [], [
            f"{ARTIFACTS_YAML} (at {where}) is not valid YAML, so none of it is read: {exc}"
        ]
    if not isinstance(doc, dict):
        return [], [f"{ARTIFACTS_YAML} (at {where}) is not a mapping of artifacts: nothing is read"]
    warnings: list[str] = []
    found = []
    for name, body in doc.items():
        if not isinstance(name, str) or not gtotags.NAME_RE.match(name):
            warnings.append(f"{ARTIFACTS_YAML}: {name!r} is not a name GTO accepts: skipped")
            continue
        body = body if isinstance(body, dict) else {}
        found.append(
            Declared(name, _text(body.get("type")), _text(body.get("path")), ARTIFACTS_YAML)
        )
    return found, warnings


def _parse_dvcyaml(data: bytes | None) -> Any:
    """A dvc.yaml parsed when it may declare artifacts (None: it cannot; unreadable ones are
    reported where their stages are read)."""
    if data is None or b"artifacts" not in data:
        return None
    try:
        return load_yaml(data)
    except (BadInput, yaml.YAMLError, UnicodeDecodeError):
        return None


def read_worktree(root: Path, rel: str) -> bytes | None:
    """A work-tree file of the repository (None: absent, unreadable or out of it)."""
    try:
        return paths.inside(root, rel).read_bytes()
    except (OSError, BadInput):
        return None


def _artifact_path(dvcyaml: str, path: Any) -> str | None:
    """An artifact's path relative to the repository (None: none, or out of it)."""
    if not isinstance(path, str):
        return None
    try:
        return paths.normalize(path, base=posixpath.dirname(dvcyaml), what="artifact path")
    except BadInput:
        return None


def in_dvc_yamls(files: Iterable[tuple[str, bytes | None]]) -> list[Declared]:
    """Every artifact (any type) of dvc.yaml files ((path, bytes) pairs), by DVC's and GTO's
    name."""
    found = []
    for rel, data in files:
        doc = _parse_dvcyaml(data)
        arts = doc.get("artifacts") if isinstance(doc, dict) else None
        for name, body in arts.items() if isinstance(arts, dict) else ():
            if not isinstance(name, str) or not gtotags.NAME_RE.match(name):
                continue
            body = body if isinstance(body, dict) else {}
            path = _artifact_path(rel, body.get("path"))
            found.append(Declared(gtotags.full_name(rel, name), _text(body.get("type")), path, rel))
    return found


def commit_time(root: Path, rev: str = "HEAD") -> int | None:
    proc = git.run(["log", "-1", "--format=%ct", rev, "--"], root, check=False)
    text = proc.stdout.decode().strip()
    return int(text) if proc.returncode == 0 and text.isdigit() else None
