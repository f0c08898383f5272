"""`gitml registry [NAME[#STAGE|@VERSION|@latest]] [--history] [-r URL|PATH]`: every model's
versions, what each stage holds and the approvals of each version, from the GTO tags of this
repository or of another one (what is listed: gitml.registryview, gitml.registryhistory; where
it is read: gitml.registrysource)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gitml import gtotags, registryhistory, registrysource, registryview
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.output import aligned, console, warn
from gitml.registrysource import Source
from gitml.registryview import VersionRow


@contextmanager
def _source(url: str | None) -> Iterator[Source]:
    """This repository's registry, or (`-r`) the one of the repository at `url`."""
    if url is None:
        yield registrysource.local(repo_mod.find())
        return
    with registrysource.fetched(url) as source:
        yield source


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


def _approvals_text(approvals: dict[str, dict[str, Any]]) -> str:
    """`production 1/2 (alice@x.org)`, per stage: verified approvers of the required number."""
    parts = []
    for stage, a in sorted(approvals.items()):
        required = "?" if a["required"] is None else str(a["required"])
        text = f"{stage} {len(a['approved_by'])}/{required}"
        if a["approved_by"]:
            text += f" ({', '.join(a['approved_by'])})"
        if a["not_counted"]:
            text += f", {a['not_counted']} not counted"
        parts.append(text)
    return "; ".join(parts)


def _version_cells(r: VersionRow) -> list[str]:
    stages = ", ".join(r.stages) or "-"
    return [r.version or "-", r.rev[:12], r.ref, stages, _approvals_text(r.approvals) or "-"]


def show_lookup(
    text: str, version_only: bool, ref_only: bool, json_out: bool, url: str | None = None
) -> int:
    """`gitml registry NAME[#STAGE|@VERSION|@latest]`: exit 1 when it names nothing there."""
    if version_only and ref_only:
        raise BadInput("give one of --version and --ref, not both")
    lookup = gtotags.parse_lookup(text)
    with _source(url) as source:
        details = not (version_only or ref_only)  # approvals: only where they are shown
        rows = registryview.version_rows(source, lookup, with_approvals=details)
    _print_versions(rows, lookup.one, version_only, ref_only, json_out)
    if rows or not lookup.one:
        return 0
    if lookup.stage:
        warn(f"{lookup.name}: nothing in stage {lookup.stage}")
    else:
        warn(f"{lookup.name}: no version {lookup.version or 'latest'}")
    return 1


def show_history(name: str | None, json_out: bool, url: str | None = None) -> int:
    """`gitml registry [NAME] --history`: the registry events, newest first, as `gto history`."""
    lookup = gtotags.parse_lookup(name) if name is not None else None
    if lookup is not None and lookup.one:
        raise BadInput(f"--history takes a model NAME, not {name!r}")
    model = lookup.name if lookup is not None else None
    with _source(url) as source:
        tags, taggers = registryhistory.read(source.root, model)
        if model is not None:
            registryview.known_model(source, tags, model)
    events = registryhistory.events(tags, taggers, model)
    if json_out:
        print(json.dumps([e.as_json() for e in events], indent=4))
        return 0
    if events:
        header = ["timestamp", "artifact", "event", "version", "stage", "commit", "ref"]
        print(aligned([header, *(_event_cells(e.as_json()) for e in events)]))
    return 0


def _event_cells(e: dict[str, Any]) -> list[str]:
    version = e["version"] or "-"
    version = version[:7] if version == e["commit"] else version
    when = e["timestamp"].replace("T", " ")
    return [when, e["artifact"], e["event"], version, e["stage"] or "-", e["commit"][:7], e["ref"]]


def show_registry(json_out: bool = False, url: str | None = None) -> int:
    with _source(url) as source:
        rows, warnings = registryview.model_rows(source)
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

    table = Table("model", "path", "latest", "stages", "approvals")
    for row in cells:
        table.add_row(*(escape(c) for c in row))
    con.print(table)
    return 0


def _cells(row: dict[str, Any]) -> list[str]:
    latest = row["latest"]
    stages = ", ".join(
        f"{stage}: {s['version'] or s['rev'][:12]}" for stage, s in row["stages"].items()
    )
    approved = "; ".join(
        f"{v['version']} {_approvals_text(v['approvals'])}"
        for v in row["versions"]
        if v["approvals"]
    )
    name = row["model"] + (" (deprecated)" if row["deprecated"] else "")
    return [
        name,
        row["path"] or "-",
        f"{latest['version']} ({latest['rev'][:12]})" if latest else "-",
        stages or "-",
        approved or "-",
    ]
