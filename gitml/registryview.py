"""What `gitml registry` lists: every model the registry knows, with its versions and stages.

Models are those of gitml.yaml, of dvc.yaml `artifacts:`, of GTO's artifacts.yaml, and any the
tags name: what `gto show` lists, and more (GTO does not read dvc.yaml). A model gitml.yaml
names is listed once, by gitml.yaml's name. The rows have the shape of `gto show --json`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitml import gtofiles, registry
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.gtotags import Lookup, Tag, semver_key


@dataclass
class Entry:
    name: str
    path: str | None = None
    type: str | None = None
    sources: list[str] = field(default_factory=list)


def _entries(repo: repo_mod.Repo, tags: list[Tag]) -> tuple[list[Entry], list[str]]:
    """Every model to show, gitml.yaml's first, then as the files declare them (warnings)."""
    found: dict[str, Entry] = {}

    def add(name: str, path: str | None, kind: str | None, source: str) -> None:
        e = found.setdefault(name, Entry(name))
        e.path, e.type = e.path or path, e.type or kind
        if source not in e.sources:
            e.sources.append(source)

    named = {}  # path -> the name gitml.yaml gives it: that name wins over a declared one
    for m in repo_mod.workspace_config(repo).models:
        add(m.name, m.path, "model", "gitml.yaml")
        named[m.path] = m.name
    declared, warnings = gtofiles.in_artifacts_yaml(repo.root)
    dvc_declared = gtofiles.in_dvc_yamls(repo.root, repo_mod.workspace_dvcyamls(repo.root))
    for d in [*dvc_declared, *declared]:
        if named.get(d.path or "", d.name) == d.name:  # not a model gitml.yaml renamed
            add(d.name, d.path, d.type, d.source)
    for name in registry.models(tags):
        add(name, None, None, "tags")
    return list(found.values()), warnings


def model_rows(repo: repo_mod.Repo) -> tuple[list[dict[str, Any]], list[str]]:
    """(one row per model, warnings)."""
    tags = registry.read_tags(repo.root)
    entries, warnings = _entries(repo, tags)
    config = gtofiles.gto_config(repo.root)
    head_time = gtofiles.head_commit_time(repo.root)
    rows = []
    for e in entries:
        declared_at = head_time if gtofiles.ARTIFACTS_YAML in e.sources else None
        state = registry.model_state(tags, e.name, declared_at)
        rows.append(_row(e, state))
        if not config.type_allowed(e.type):
            warnings.append(
                f"{e.name}: type {e.type!r} is not one of the types {gtofiles.GTO_CONFIG} "
                f"allows ({', '.join(config.types or ())})"
            )
    return rows, warnings


def _row(e: Entry, state: registry.ModelState) -> dict[str, Any]:
    versions = state.registered()
    latest = state.latest()
    gone = state.deprecation()
    return {
        "model": e.name,
        "path": e.path,
        "type": e.type,
        "sources": e.sources,
        "active": state.active,
        "deprecated": {"tag": gone.tag, "rev": gone.commit} if gone else None,
        "latest": {"version": latest.version, "rev": latest.commit} if latest else None,
        "versions": [{"version": v, "rev": c} for c, v in versions.items()],
        "stages": {
            stage: {"version": versions.get(t.commit), "rev": t.commit, "tag": t.tag}
            for stage, t in state.stages().items()
        },
    }


# --- one model's versions --------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    """One version of a model, as `gto show NAME` lists it."""

    model: str
    version: str | None  # None: a commit in a stage without a registered version
    rev: str
    ref: str  # as `gto show NAME --ref` gives it: its registration tag (else the commit)
    stages: list[str]  # the stages it holds now
    deprecated: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "rev": self.rev,
            "ref": self.ref,
            "stages": self.stages,
            "deprecated": self.deprecated,
        }


def _version_row(
    state: registry.ModelState, v: registry.VersionState, held: dict[str, Tag]
) -> VersionRow | None:
    """The row of an active version that is registered or holds a stage (else None)."""
    stages = sorted(s for s, t in held.items() if t.commit == v.commit)
    if not v.active or not (v.registered or stages):
        return None
    registration = max((t for t in v.direct if not t.cancel), key=lambda t: t.order, default=None)
    return VersionRow(
        model=state.name,
        version=v.version if v.registered else None,
        rev=v.commit,
        ref=registration.tag if registration else v.commit,
        stages=stages,
        deprecated=not state.active,
    )


def _asked(rows: list[VersionRow], lookup: Lookup) -> list[VersionRow]:
    if lookup.stage:
        return [r for r in rows if lookup.stage in r.stages]
    if lookup.version:
        return [r for r in rows if r.version == lookup.version]
    if lookup.latest:
        return [r for r in rows if r.version][:1]
    return rows


def version_rows(repo: repo_mod.Repo, lookup: Lookup) -> list[VersionRow]:
    """The versions of one model that `lookup` asks for, highest first, each with the stages it
    holds now; bad input when no file or tag names the model."""
    tags = registry.read_tags(repo.root)
    entries, _ = _entries(repo, tags)
    if not any(e.name == lookup.name for e in entries):
        known = ", ".join(e.name for e in entries) or "none"
        raise BadInput(
            f"no model {lookup.name!r} in gitml.yaml, dvc.yaml, artifacts.yaml or the tags; "
            f"models: {known}"
        )
    state = registry.model_state(tags, lookup.name)
    held = state.stages()
    rows = [r for v in state.versions if (r := _version_row(state, v, held)) is not None]
    no_semver = (-1, 0, 0, 0, "")
    rows.sort(key=lambda r: semver_key(r.version or "") or no_semver, reverse=True)
    return _asked(rows, lookup)
