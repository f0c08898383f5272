"""`gitml registry`: every model's versions and what each stage holds, from the GTO tags.

Models are those of gitml.yaml, of dvc.yaml `artifacts:`, of GTO's artifacts.yaml, and any the
tags name: what `gto show` lists, and more (GTO does not read dvc.yaml).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gitml import gtofiles, registry
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.output import aligned, console, warn


@dataclass
class Entry:
    name: str
    path: str | None = None
    type: str | None = None
    sources: list[str] = field(default_factory=list)


def _entries(repo: repo_mod.Repo, tags: list[registry.Tag]) -> tuple[list[Entry], list[str]]:
    """Every model to show, gitml.yaml's first, then as the files declare them."""
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


def version_rows(repo: repo_mod.Repo, lookup: registry.Lookup) -> list[dict[str, Any]]:
    """The versions of one model that `lookup` asks for, highest first: each with the stages
    it holds now, and `ref` as `gto show NAME --ref` gives it (its registration tag)."""
    tags = registry.read_tags(repo.root)
    entries, _ = _entries(repo, tags)
    if not any(e.name == lookup.name for e in entries):
        known = ", ".join(e.name for e in entries) or "none"
        raise BadInput(
            f"no model {lookup.name!r} in gitml.yaml, dvc.yaml, artifacts.yaml or the tags; models: {known}"
        )
    state = registry.model_state(tags, lookup.name)
    held = state.stages()
    rows = []
    for v in state.versions:
        stages = sorted(s for s, t in held.items() if t.commit == v.commit)
        if not v.active or not (v.registered or stages):
            continue
        registration = max(
            (t for t in v.direct if not t.cancel), key=lambda t: t.order, default=None
        )
        rows.append(
            {
                "model": lookup.name,
                "version": v.version if v.registered else None,
                "rev": v.commit,
                "ref": registration.tag if registration else v.commit,
                "stages": stages,
                "deprecated": not state.active,
            }
        )
    no_semver = (-1, 0, 0, 0, "")
    rows.sort(key=lambda r: registry.semver_key(r["version"] or "") or no_semver, reverse=True)
    if lookup.stage:
        rows = [r for r in rows if lookup.stage in r["stages"]]
    elif lookup.version:
        rows = [r for r in rows if r["version"] == lookup.version]
    elif lookup.latest:
        rows = [r for r in rows if r["version"]][:1]
    return rows


def show_lookup(text: str, version_only: bool, ref_only: bool, json_out: bool) -> int:
    """`gitml registry NAME[#STAGE|@VERSION|@latest]`: exit 1 when it names nothing there."""
    if version_only and ref_only:
        raise BadInput("give one of --version and --ref, not both")
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    lookup = registry.parse_lookup(text)
    rows = version_rows(repo, lookup)
    if json_out:
        print(json.dumps(rows[0] if lookup.one and rows else rows, indent=2, sort_keys=True))
    elif version_only or ref_only:
        for r in rows:
            print(r["version"] or r["rev"] if version_only else r["ref"])
    elif rows:
        print(
            aligned(
                [
                    [r["version"] or "-", r["rev"][:12], r["ref"], ", ".join(r["stages"]) or "-"]
                    for r in rows
                ]
            )
        )
    if not rows and lookup.one:
        what = f"stage {lookup.stage}" if lookup.stage else f"version {lookup.version or 'latest'}"
        warn(f"{lookup.name}: nothing in {what}" if lookup.stage else f"{lookup.name}: no {what}")
        return 1
    return 0


def show_registry(json_out: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    rows, warnings = model_rows(repo)
    for w in warnings:
        warn(w)
    if json_out:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    cells = [_cells(r) for r in rows]
    con = console()
    if not con.is_terminal:  # piped: one aligned line per model, nothing cut
        if cells:
            print(aligned(cells))
        return 0
    from rich.markup import escape
    from rich.table import Table

    table = Table("model", "path", "latest", "stages")
    for row in cells:
        table.add_row(*(escape(c) for c in row))
    con.print(table)
    return 0


def _cells(row: dict[str, Any]) -> list[str]:
    latest = row["latest"]
    stages = ", ".join(
        f"{stage}: {s['version'] or s['rev'][:12]}" for stage, s in row["stages"].items()
    )
    name = row["model"] + (" (deprecated)" if row["deprecated"] else "")
    return [
        name,
        row["path"] or "-",
        f"{latest['version']} ({latest['rev'][:12]})" if latest else "-",
        stages or "-",
    ]
