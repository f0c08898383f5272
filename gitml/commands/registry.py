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

    for m in repo_mod.workspace_config(repo).models:
        add(m.name, m.path, "model", "gitml.yaml")
    for d in gtofiles.in_dvc_yamls(repo.root, repo_mod.workspace_dvcyamls(repo.root)):
        add(d.name, d.path, d.type, d.source)
    declared, warnings = gtofiles.in_artifacts_yaml(repo.root)
    for d in declared:
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
