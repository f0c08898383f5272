"""`gitml registry [NAME[#STAGE|@VERSION|@latest]]`: every model's versions and what each stage
holds, from the GTO tags (what is listed: gitml.registryview)."""

from __future__ import annotations

import json
from typing import Any

from gitml import gtotags, registryview
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.output import aligned, console, warn
from gitml.registryview import VersionRow


def _print_versions(
    rows: list[VersionRow], one: bool, version_only: bool, ref_only: bool, json_out: bool
) -> None:
    if json_out:
        _print_json(rows, one)
    elif version_only or ref_only:
        for r in rows:
            print(r.version or r.rev if version_only else r.ref)
    elif rows:
        print(aligned([_version_cells(r) for r in rows]))


def _print_json(rows: list[VersionRow], one: bool) -> None:
    """One row as `gto show NAME#STAGE --json` gives it, or the list of them."""
    doc: Any = rows[0].as_json() if one and rows else [r.as_json() for r in rows]
    print(json.dumps(doc, indent=2, sort_keys=True))


def _version_cells(r: VersionRow) -> list[str]:
    return [r.version or "-", r.rev[:12], r.ref, ", ".join(r.stages) or "-"]


def show_lookup(text: str, version_only: bool, ref_only: bool, json_out: bool) -> int:
    """`gitml registry NAME[#STAGE|@VERSION|@latest]`: exit 1 when it names nothing there."""
    if version_only and ref_only:
        raise BadInput("give one of --version and --ref, not both")
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    lookup = gtotags.parse_lookup(text)
    rows = registryview.version_rows(repo, lookup)
    _print_versions(rows, lookup.one, version_only, ref_only, json_out)
    if rows or not lookup.one:
        return 0
    if lookup.stage:
        warn(f"{lookup.name}: nothing in stage {lookup.stage}")
    else:
        warn(f"{lookup.name}: no version {lookup.version or 'latest'}")
    return 1


def show_registry(json_out: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    rows, warnings = registryview.model_rows(repo)
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
