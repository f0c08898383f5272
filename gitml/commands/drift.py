"""`gitml drift PATH [--against REV]`: the data now against the profile recorded at REV."""

from __future__ import annotations

import json
from typing import Any

from gitml import baselines, datareaders, drift, git, manifest, registry
from gitml import repo as repo_mod
from gitml.commands.suite import repo_relative
from gitml.config import Config, Dataset
from gitml.errors import BadInput
from gitml.manifest import LOCK_FILE
from gitml.output import aligned, console, say


def against_commit(repo: repo_mod.Repo, config: Config, spec: str, model: str | None) -> str:
    """The commit `spec` names: a registry stage (the commit the models are in there), else a rev."""
    tags = registry.read_tags(repo.root)
    names = [model] if model else [m.name for m in config.models]
    if model and model not in {m.name for m in config.models}:
        raise BadInput(f"no model {model!r} in gitml.yaml")
    commits = {t.commit for n in names if (t := registry.in_stage(tags, n, spec)) is not None}
    if len(commits) == 1:
        return commits.pop()
    if len(commits) > 1:
        raise BadInput(
            f"the models are in {spec} at different commits: say which with --model NAME"
        )
    if spec in baselines.STAGES or any(t.stage == spec for t in tags):
        raise BadInput(
            f"no model is in {spec} yet (`gitml promote MODEL --to {spec}`); "
            "compare with a commit instead: --against REV"
        )
    return git.resolve_commit(repo.root, spec)


def recorded_profile(repo: repo_mod.Repo, commit: str, path: str) -> dict[str, Any]:
    _, lock = manifest.committed_lock(repo.root, commit, "no profile was recorded there")
    entry = (lock.get("data") or {}).get(path)
    profile = entry.get("profile") if isinstance(entry, dict) else None
    if not isinstance(profile, dict) or not isinstance(profile.get("columns"), dict):
        raise BadInput(
            f"{LOCK_FILE} at {commit[:12]} records no profile of {path} (a dataset is profiled "
            "when it has a suite: `gitml suite init`)"
        )
    try:
        drift.checked_profile(profile)
    except BadInput as exc:
        raise BadInput(f"{LOCK_FILE} at {commit[:12]}, data {path}: {exc}") from None
    return profile


def drift_command(
    path: str,
    against: str = "production",
    model: str | None = None,
    threshold: float = drift.DRIFT,
    json_out: bool = False,
) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    if not 0 < threshold:
        raise BadInput("--threshold must be above 0 (PSI; 0.25 is the usual mark of drift)")
    config = repo_mod.workspace_config(repo)
    rel = repo_relative(repo, path).rstrip("/")
    dataset = next((d for d in config.data if d.path.rstrip("/") == rel), Dataset(rel))
    commit = against_commit(repo, config, against, model)
    profile = recorded_profile(repo, commit, dataset.path)
    frame = _read_now(repo, dataset)
    columns = drift.compare(frame.df, frame.dtypes, profile, threshold)
    drifted = [c for c in columns if c.verdict == "drift"]
    if json_out:
        doc = {
            "path": dataset.path,
            "against": against,
            "rev": commit,
            "threshold": threshold,
            "rows": {"then": profile.get("rows"), "now": len(frame.df)},
            "drift": bool(drifted),
            "columns": [c.as_json() for c in columns],
        }
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        _print(columns, dataset.path, against, commit, profile.get("rows"), len(frame.df))
    if drifted:
        say(f"{dataset.path}: drift in {', '.join(c.column for c in drifted)} (vs {against})")
        return 1
    return 0


def _read_now(repo: repo_mod.Repo, d: Dataset) -> datareaders.Frame:
    sources, formats = datareaders.workspace_sources(repo.root, d.path, d.format)
    sample = datareaders.check_sample(d.path, d.sample)
    size = sum(s.file.stat().st_size for s in sources)
    datareaders.check_size(d.path, size, sample, d.max_bytes)
    return datareaders.read_frame(sources, formats, d.read, sample)


def _print(
    columns: list[drift.ColumnDrift],
    path: str,
    against: str,
    commit: str,
    rows_then: Any,
    rows_now: int,
) -> None:
    head = f"{path} now ({rows_now} rows) vs {against} ({commit[:12]}, {rows_then} rows)"
    cells = [
        [c.column, c.kind, "-" if c.psi is None else f"{c.psi:.3f}", c.verdict, c.detail]
        for c in columns
    ]
    con = console()
    if not con.is_terminal:  # piped: aligned plain lines
        print(head + ("\n" + aligned(cells) if cells else ""))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table("column", "kind", "PSI", "verdict", "detail", title=escape(head))
    style = {"drift": "red", "shift": "yellow", "stable": "green"}
    for row in cells:
        table.add_row(
            *(escape(c) for c in row[:3]), f"[{style[row[3]]}]{row[3]}[/]", escape(row[4])
        )
    con.print(table)
