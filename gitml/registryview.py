"""What `gitml registry` lists: every model the registry knows, with its versions and stages.

Models are those of gitml.yaml, of dvc.yaml `artifacts:`, of GTO's artifacts.yaml, and any the
tags name: what `gto show` lists, and more (GTO does not read dvc.yaml). A model gitml.yaml
names is listed once, by gitml.yaml's name. The rows have the shape of `gto show --json`'s,
plus each version's signed approvals per stage (judged only for versions that have some).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from gitml import approvals, gtofiles, registry
from gitml.errors import BadInput
from gitml.gtotags import Lookup, Tag, semver_key
from gitml.registrysource import Source

# {(model, version): {stage: how its approvals stand}}, for versions with approval tags
Approvals = dict[tuple[str, str], dict[str, dict[str, Any]]]


@dataclass
class Entry:
    name: str
    path: str | None = None
    type: str | None = None
    sources: list[str] = field(default_factory=list)


def _entries(source: Source, tags: list[Tag]) -> tuple[list[Entry], list[str]]:
    """Every model to show, gitml.yaml's first, then as the files declare them (warnings)."""
    found: dict[str, Entry] = {}

    def add(name: str, path: str | None, kind: str | None, source: str) -> None:
        e = found.setdefault(name, Entry(name))
        e.path, e.type = e.path or path, e.type or kind
        if source not in e.sources:
            e.sources.append(source)

    named = {}  # path -> the name gitml.yaml gives it: that name wins over a declared one
    config = source.config()
    for m in config.models if config else ():
        add(m.name, m.path, "model", "gitml.yaml")
        named[m.path] = m.name
    where = source.rev[:12] if source.rev else "HEAD"
    declared, warnings = gtofiles.in_artifacts_yaml(source.artifacts_yaml(), where)
    dvc_declared = gtofiles.in_dvc_yamls(source.dvcyamls())
    for d in [*dvc_declared, *declared]:
        if named.get(d.path or "", d.name) == d.name:  # not a model gitml.yaml renamed
            add(d.name, d.path, d.type, d.source)
    for name in registry.models(tags):
        add(name, None, None, "tags")
    return list(found.values()), warnings


def _approval_json(judged: approvals.Judgement) -> dict[str, Any]:
    return {
        "required": judged.required,
        "approved_by": judged.signers,
        "not_counted": len(judged.refused),
        "problem": judged.problem,
    }


def _read_tags(source: Source) -> tuple[list[Tag], bool]:
    """(the registry tags, whether there is any approval tag), in one walk of the tags."""
    return registry.read_tags_noting(source.root, approvals.PREFIX + "/")


def _approvals(source: Source, states: list[registry.ModelState], any_tag: bool) -> Approvals:
    """How the approval tags of the registered versions stand (one git call finds them, if
    `any_tag` says there are some; each is verified with `git verify-tag`, so only the
    versions that have some cost anything)."""
    found = approvals.read_all(source.root) if any_tag else {}
    if not found:
        return {}
    by_name = {s.name: s for s in states}
    shown: Approvals = {}
    for (model, version, stage), tags in sorted(found.items()):
        state = by_name.get(model)
        if state is None or version not in state.registered().values():
            continue
        judged = approvals.standing(source.root, state, version, stage, tags)
        shown.setdefault((model, version), {})[stage] = _approval_json(judged)
    return shown


def model_rows(source: Source) -> tuple[list[dict[str, Any]], list[str]]:
    """(one row per model, warnings)."""
    tags, any_approval = _read_tags(source)
    entries, warnings = _entries(source, tags)
    config = source.gto_config()
    head_time = source.head_time()
    states = []
    for e in entries:
        declared_at = head_time if gtofiles.ARTIFACTS_YAML in e.sources else None
        states.append(registry.model_state(tags, e.name, declared_at))
    approved = _approvals(source, states, any_approval)
    rows = []
    for e, state in zip(entries, states, strict=True):
        rows.append(_row(e, state, approved))
        if not config.type_allowed(e.type):
            warnings.append(
                f"{e.name}: type {e.type!r} is not one of the types {gtofiles.GTO_CONFIG} "
                f"allows ({', '.join(config.types or ())})"
            )
    return rows, warnings


def _row(e: Entry, state: registry.ModelState, approved: Approvals) -> dict[str, Any]:
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
        "versions": [
            {"version": v, "rev": c, "approvals": approved.get((e.name, v), {})}
            for c, v in versions.items()
        ],
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
    approvals: dict[str, dict[str, Any]] = field(default_factory=dict)  # {stage: standing}

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "rev": self.rev,
            "ref": self.ref,
            "stages": self.stages,
            "deprecated": self.deprecated,
            "approvals": self.approvals,
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


def known_model(source: Source, tags: list[Tag], name: str) -> None:
    """Bad input when no file or tag names the model."""
    entries, _ = _entries(source, tags)
    if not any(e.name == name for e in entries):
        known = ", ".join(e.name for e in entries) or "none"
        raise BadInput(
            f"no model {name!r} in gitml.yaml, dvc.yaml, artifacts.yaml or the tags; "
            f"models: {known}"
        )


def version_rows(source: Source, lookup: Lookup, with_approvals: bool = True) -> list[VersionRow]:
    """The versions of one model that `lookup` asks for, highest first, each with the stages it
    holds now and its approvals; bad input when no file or tag names the model."""
    tags, any_approval = _read_tags(source)
    known_model(source, tags, lookup.name)
    state = registry.model_state(tags, lookup.name)
    held = state.stages()
    rows = [r for v in state.versions if (r := _version_row(state, v, held)) is not None]
    no_semver = (-1, 0, 0, 0, "")
    rows.sort(key=lambda r: semver_key(r.version or "") or no_semver, reverse=True)
    rows = _asked(rows, lookup)
    if not (with_approvals and any_approval):
        return rows
    approved = _approvals(source, [state], any_approval)
    return [replace(r, approvals=approved.get((r.model, r.version or ""), {})) for r in rows]
