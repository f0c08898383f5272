"""`gitml drift PATH [--dataset D] [--against REV]`: the data now against the profile recorded
at REV. PATH is a dataset of gitml.yaml in the workspace, or, with `--dataset D`, any file or
directory (serving data exported from production, inside the work tree or outside it) compared
with the profile of dataset D, read with D's reader options."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import baselines, datareaders, drift, git, gtotags, lockfile, registry
from gitml import repo as repo_mod
from gitml.config import Config, Dataset
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE
from gitml.lockprofile import Profile, checked
from gitml.output import aligned, console, say, say_on_terminal, warn
from gitml.paths import normalize, repo_relative
from gitml.records import plain


def against_commit(repo: repo_mod.Repo, config: Config, spec: str, model: str | None) -> str:
    """The commit `spec` names: a registry stage (the commit the models are in there), else a
    rev."""
    tags = registry.read_tags(repo.root)
    commits = _stage_commits(tags, _model_names(config, model), spec)
    if len(commits) > 1:
        raise BadInput(
            f"the models are in {spec} at different commits: say which with --model NAME"
        )
    if commits:
        return commits.pop()
    if _is_stage(spec, tags):
        raise BadInput(
            f"no model is in {spec} yet (`gitml promote MODEL --to {spec}`); "
            "compare with a commit instead: --against REV"
        )
    return git.resolve_commit(repo.root, spec)


def _model_names(config: Config, model: str | None) -> list[str]:
    """The models `--model` names (all of gitml.yaml's without it)."""
    names = [m.name for m in config.models]
    if not model:
        return names
    if model not in names:
        raise BadInput(f"no model {model!r} in gitml.yaml")
    return [model]


def _is_stage(spec: str, tags: list[gtotags.Tag]) -> bool:
    return spec in baselines.STAGES or any(t.stage == spec for t in tags)


def _stage_commits(tags: list[gtotags.Tag], names: list[str], stage: str) -> set[str]:
    """The commits the models `names` are in at `stage`."""
    found = (registry.in_stage(tags, name, stage) for name in names)
    return {t.commit for t in found if t is not None}


def recorded_profile(repo: repo_mod.Repo, commit: str, path: str) -> Profile:
    _, lock = lockfile.committed_lock(repo.root, commit, "no profile was recorded there")
    entry = lock.data.get(path)
    profile = entry.profile if entry is not None else None
    if profile is None or not profile.has_columns:
        profiled = sorted(p for p, e in lock.data.items() if e.profile and plain(e.profile))
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
        checked(profile)
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
    if not threshold > 0:
        raise BadInput("--threshold must be above 0 (PSI; 0.25 is the usual mark of drift)")
    config = repo_mod.workspace_config(repo)
    target = _Target.of(repo, path, dataset_path)
    dataset = next(
        (d for d in config.data if d.path.rstrip("/") == target.dataset), Dataset(target.dataset)
    )
    commit = against_commit(repo, config, against, model)
    profile = recorded_profile(repo, commit, dataset.path)
    now = _read_now(repo, dataset, target, profile)
    columns = drift.compare_table(now, profile, threshold)
    compared = _Compared(dataset.path, target.shown, against, commit, profile.rows, now.rows)
    if json_out:
        print(json.dumps(compared.as_json(columns, threshold), indent=2, sort_keys=True))
    else:
        _print(columns, compared)
    _warn_coarse(columns, dataset.path, commit)
    drifted = [c.column for c in columns if c.verdict == "drift"]
    if drifted:
        say(f"{target.shown}: drift in {', '.join(drifted)} (vs {against})")
        return 1
    return 0


def _warn_coarse(columns: list[drift.ColumnDrift], dataset: str, commit: str) -> None:
    coarse = [c.column for c in columns if c.coarse]
    if coarse:
        warn(
            f"the profile of {dataset} at {commit[:12]} was recorded by a gitml without "
            f"histograms: {', '.join(coarse)} compared over its quartiles, a coarse measure "
            "that can show PSI above 0 on unchanged data (flagged `coarse`). The next commit "
            "that changes this data records histograms"
        )


@dataclass(frozen=True)
class _Compared:
    """What was compared: the data read now (`shown`) against `dataset` at `commit`."""

    dataset: str
    shown: str
    against: str
    commit: str
    rows_then: int | None
    rows_now: int

    def as_json(self, columns: list[drift.ColumnDrift], threshold: float) -> dict[str, Any]:
        return {
            "path": self.dataset,
            "read": self.shown,
            "against": self.against,
            "rev": self.commit,
            "threshold": threshold,
            "rows": {"then": self.rows_then, "now": self.rows_now},
            "drift": any(c.verdict == "drift" for c in columns),
            "coarse": any(c.coarse for c in columns),
            "columns": [c.as_json() for c in columns],
        }

    def head(self) -> str:
        other = f"{self.dataset} at " if self.shown != self.dataset else ""
        return (
            f"{self.shown} now ({self.rows_now} rows) vs {other}{self.against} "
            f"({self.commit[:12]}, {self.rows_then} rows)"
        )


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
        name = None if dataset is None else normalize(dataset, what="--dataset").rstrip("/")
        rel = repo_relative(repo.root, path)
        if rel is None:
            if name is None:
                raise BadInput(
                    f"{path}: outside the repository {repo.root}; to compare it with a recorded "
                    "dataset, name that dataset as gitml.yaml does: --dataset data/NAME.csv"
                )
            return cls(name, path, (Path.cwd() / path).resolve())
        return cls(rel if name is None else name, rel)


def _read_now(repo: repo_mod.Repo, d: Dataset, target: _Target, profile: Profile) -> drift.TableNow:
    """The data now, read by the dataset's engine: pandas (within its size limit, or its
    sample), or Spark, whole."""
    if target.outside is None:
        sources, formats = datareaders.workspace_sources(repo.root, target.shown, d.format)
    else:
        sources, formats = datareaders.outside_sources(target.shown, target.outside, d.format)
    if d.engine == "spark":
        from gitml import sparkdrift

        datareaders.check_formats(sources, formats)
        say_on_terminal(f"reading {target.shown} with Spark; a JVM takes seconds to start")
        locations = [str(s.file) for s in sources]
        return sparkdrift.table_now(d, target.shown, locations, formats[0], profile)
    sample = datareaders.check_sample(d.path, d.sample)
    size = sum(s.file.stat().st_size for s in sources)
    datareaders.check_size(target.shown, size, sample, d.max_bytes)
    frame = datareaders.read_frame(sources, formats, d.read, sample)
    return drift.PandasTable(frame.df, frame.dtypes)


def _print(columns: list[drift.ColumnDrift], compared: _Compared) -> None:
    head = compared.head()
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
