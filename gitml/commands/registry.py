"""`gitml registry`: every model's versions and what each stage holds, from the GTO tags."""

from __future__ import annotations

import json
from typing import Any

from gitml import registry
from gitml import repo as repo_mod
from gitml.output import aligned, console


def model_rows(repo: repo_mod.Repo) -> list[dict[str, Any]]:
    tags = registry.read_tags(repo.root)
    rows = []
    for m in repo_mod.workspace_config(repo).models:
        versions = registry.versions(tags, m.name)
        latest = registry.latest_version(tags, m.name)
        rows.append(
            {
                "model": m.name,
                "path": m.path,
                "latest": {"version": latest.version, "rev": latest.commit} if latest else None,
                "versions": [{"version": v, "rev": c} for c, v in versions.items()],
                "stages": {
                    stage: {"version": versions.get(t.commit), "rev": t.commit, "tag": t.tag}
                    for stage, t in registry.stages(tags, m.name).items()
                },
            }
        )
    return rows


def show_registry(json_out: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    rows = model_rows(repo)
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
    return [
        row["model"],
        row["path"],
        f"{latest['version']} ({latest['rev'][:12]})" if latest else "-",
        stages or "-",
    ]
