"""`gitml drift PATH [--dataset D] [--against REV]`: the data now against the profile recorded
at REV. PATH is a dataset of gitml.yaml in the workspace, or, with `--dataset D`, any file or
directory (serving data exported from production, inside the work tree or outside it) compared
with the profile of dataset D, read with D's reader options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitml import baselines, datareaders, drift, git, manifest, registry
from gitml import repo as repo_mod
from gitml.config import Config, Dataset
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE
from gitml.output import aligned, console, say, warn
from gitml.paths import normalize


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
    data = lock.get("data") or {}
    entry = data.get(path)
    profile = entry.get("profile") if isinstance(entry, dict) else None
    if not isinstance(profile, dict) or not isinstance(profile.get("columns"), dict):
        profiled = sorted(p for p, e in data.items() if isinstance(e, dict) and e.get("profile"))
        hint = ""
        if profiled:
            hint = (
                "; to compare other data (a file exported from production) with a recorded "
                f"dataset, name it: --dataset {profiled[0]} (recorded: {', '.join(profiled)})"
            )
        raise BadInput(
            f"{LOCK_FILE} at {commit[:12]} records no profile of {path} (a dataset is profiled "
            f"when it has a suite: `gitml suite init`){hint}"
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
    dataset_path: str | None = None,
) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    if not 0 < threshold:
        raise BadInput("--threshold must be above 0 (PSI; 0.25 is the usual mark of drift)")
    config = repo_mod.workspace_config(repo)
    target = _Target.of(repo, path, dataset_path)
    dataset = next(
        (d for d in config.data if d.path.rstrip("/") == target.dataset), Dataset(target.dataset)
    )
    commit = against_commit(repo, config, against, model)
    profile = recorded_profile(repo, commit, dataset.path)
    frame = _read_now(repo, dataset, target)
    columns = drift.compare(frame.df, frame.dtypes, profile, threshold)
    drifted = [c for c in columns if c.verdict == "drift"]
    coarse = [c.column for c in columns if c.coarse]
    if json_out:
        doc = {
            "path": dataset.path,
            "read": target.shown,
            "against": against,
            "rev": commit,
            "threshold": threshold,
            "rows": {"then": profile.get("rows"), "now": len(frame.df)},
            "drift": bool(drifted),
            "coarse": bool(coarse),
            "columns": [c.as_json() for c in columns],
        }
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        head = f"{target.shown} now ({len(frame.df)} rows) vs " + (
            f"{dataset.path} at " if target.shown != dataset.path else ""
        )
        _print(columns, head, against, commit, profile.get("rows"))
    if coarse:
        warn(
            f"the profile of {dataset.path} at {commit[:12]} was recorded by a gitml without "
            f"histograms: {', '.join(coarse)} compared over its quartiles, a coarse measure "
            "that can show PSI above 0 on unchanged data (flagged `coarse`). The next commit "
            "that changes this data records histograms"
        )
    if drifted:
        say(f"{target.shown}: drift in {', '.join(c.column for c in drifted)} (vs {against})")
        return 1
    return 0


class _Target:
    """What `gitml drift` reads: `shown` (repo-relative inside the work tree, as given outside
    it; `outside` holds the resolved path then), and the recorded dataset it is compared with
    (`dataset`, its path in gitml.yaml and gitml.lock)."""

    def __init__(self, dataset: str, shown: str, outside: Path | None = None) -> None:
        self.dataset = dataset
        self.shown = shown
        self.outside = outside

    @classmethod
    def of(cls, repo: repo_mod.Repo, path: str, dataset: str | None) -> _Target:
        full = (Path.cwd() / path).resolve()
        name = None if dataset is None else normalize(dataset, what="--dataset").rstrip("/")
        try:
            rel = full.relative_to(repo.root.resolve()).as_posix().rstrip("/")
        except ValueError:
            if name is None:
                raise BadInput(
                    f"{path}: outside the repository {repo.root}; to compare it with a recorded "
                    "dataset, name that dataset as gitml.yaml does: --dataset data/NAME.csv"
                ) from None
            return cls(name, path, full)
        return cls(rel if name is None else name, rel)


def _read_now(repo: repo_mod.Repo, d: Dataset, target: _Target) -> datareaders.Frame:
    if target.outside is None:
        sources, formats = datareaders.workspace_sources(repo.root, target.shown, d.format)
    else:
        sources, formats = _outside_sources(target.shown, target.outside, d.format)
    sample = datareaders.check_sample(d.path, d.sample)
    size = sum(s.file.stat().st_size for s in sources)
    datareaders.check_size(target.shown, size, sample, d.max_bytes)
    return datareaders.read_frame(sources, formats, d.read, sample)


def _outside_sources(shown: str, full: Path, configured: str) -> tuple[list[Any], list[str]]:
    """The files of PATH outside the repository (a file, or every file below a directory):
    the user's own argument, read as given."""
    if full.is_dir():
        files = sorted(p for p in full.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise BadInput(f"{shown}: the directory has no files")
        sources = [
            datareaders.Source(f"{shown.rstrip('/')}/{p.relative_to(full).as_posix()}", p)
            for p in files
        ]
    elif full.is_file():
        sources = [datareaders.Source(shown, full)]
    else:
        raise BadInput(f"{shown}: no such file or directory")
    return sources, [datareaders.format_of(s.name, configured) for s in sources]


def _print(
    columns: list[drift.ColumnDrift], head: str, against: str, commit: str, rows_then: Any
) -> None:
    head += f"{against} ({commit[:12]}, {rows_then} rows)"
    cells = [
        [
            c.column,
            c.kind + (" (coarse)" if c.coarse else ""),
            "-" if c.psi is None else f"{c.psi:.3f}",
            c.verdict,
            c.detail,
        ]
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
