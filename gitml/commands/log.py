"""`gitml log [MODEL]`: the history of a model from gitml.lock, newest first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitml import history, modelhistory, params, paths, plots
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.fileio import user_output_file, write_user_output
from gitml.modelhistory import ModelVersion
from gitml.output import aligned, console, printable, say, warn


def rows_for(model: str | None, limit: int | None) -> list[ModelVersion]:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    if limit is not None and limit < 1:
        raise BadInput("-n must be at least 1")
    if git_has_no_commits(repo.root):
        return []
    found = history.lock_history(repo.root)
    for line in found.left_out:
        warn(line)
    versions = found.versions
    model = model and paths.model_from_cli(repo.root, model)
    refs = modelhistory.models_of(repo.root, versions[0].lock if versions else None, model)
    tags = modelhistory.tags_in_force(repo.root)
    rows: list[ModelVersion] = []
    for ref in refs:
        rows.extend(modelhistory.model_history(versions, ref, tags)[:limit])
    claims = {v.commit.sha: v.commit.claim for v in versions if v.commit and v.commit.claim}
    modelhistory.judge_hypotheses(repo.root, rows, claims)
    return rows


def git_has_no_commits(root: Path) -> bool:
    from gitml import git

    return git.head_commit(root) is None


def log(
    model: str | None,
    limit: int | None = None,
    json_out: bool = False,
    plot: str | None = None,
    out: Path | None = None,
) -> int:
    rows = rows_for(model, limit)
    warn_unread(rows)
    if plot:
        return plot_metric(rows, plot, out)
    if out is not None:
        raise BadInput("--out goes with --plot METRIC")
    if json_out:
        doc = [r.to_json() for r in rows]
        print(json.dumps(doc, indent=2, sort_keys=True, default=str))
        return 0
    if not rows:
        say("no recorded model versions yet (commit through the gitml hook to record one)")
        return 0
    con = console()
    if con.is_terminal:
        con.print(table(rows))
    else:
        print(printable(plain(rows)))
    return 0


def warn_unread(rows: list[ModelVersion]) -> None:
    """Versions without metrics because the metrics file could not be read: one line each."""
    for r in rows:
        if r.metrics_unread:
            warn(f"model {r.model} at {r.short}: no metrics recorded: {r.metrics_unread}")


def plain(rows: list[ModelVersion]) -> str:
    """Piped: a header, then one line per version, columns aligned, nothing cut."""
    several = len({r.model for r in rows}) > 1
    hypothesised = any(r.hypothesis for r in rows)  # then a column for each row, aligned
    header = ["commit", "date", *(["model"] if several else []), "md5", "metrics", "checks"]
    cells = [[*header, "tags", "subject", *(["hypothesis"] if hypothesised else [])]] + [
        [
            r.short,
            (r.date or "")[:10],
            *([r.name] if several else []),
            str(r.md5 or "-")[:8],
            _metrics_text(r.metrics),
            r.checks.text(),
            ", ".join(r.tags) or "-",
            r.subject or "",
            *([_hypothesis_text(r)] if hypothesised else []),
        ]
        for r in rows
    ]
    return aligned(cells)


def _hypothesis_text(r: ModelVersion) -> str:
    return f"hypothesis: {r.hypothesis.summary()}" if r.hypothesis else ""


def _metrics_text(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.flatten(metrics).items()) or "-"


def table(rows: list[ModelVersion]) -> Any:
    from rich.table import Table

    several = len({r.model for r in rows}) > 1
    t = Table(title=None if several else f"{rows[0].name} ({rows[0].model})")
    for name in ["commit", "date", "subject", *(["model"] if several else []), "md5", "metrics"]:
        t.add_column(name, no_wrap=name in ("commit", "date", "md5"))
    t.add_column("checks")
    t.add_column("tags")
    t.add_column("changed")
    hypothesised = any(r.hypothesis for r in rows)
    if hypothesised:
        t.add_column("hypothesis")
    for r in rows:
        t.add_row(*_cells(r, several), *([_hypothesis_cell(r)] if hypothesised else []))
    return t


def _hypothesis_cell(r: ModelVersion) -> str:
    from rich.markup import escape

    if r.hypothesis is None:
        return ""
    style = {"confirmed": "green", "refuted": "red"}.get(r.hypothesis.verdict or "", "yellow")
    return f"[{style}]{escape(r.hypothesis.summary())}[/]"


def _cells(r: ModelVersion, several: bool) -> list[str]:
    from rich.markup import escape

    style = "" if r.passed is None else "green" if r.passed else "red"
    checks = r.checks.text()
    return [
        r.short,
        (r.date or "")[:16].replace("T", " "),
        escape(r.subject or ""),
        *([escape(r.name)] if several else []),
        str(r.md5 or "-")[:8],
        escape(_metrics_text(r.metrics)),
        f"[{style}]{escape(checks)}[/]" if style else escape(checks),
        escape(", ".join(r.tags) or "-"),
        escape(", ".join(r.changed)),
    ]


def plot_metric(rows: list[ModelVersion], metric: str, out: Path | None) -> int:
    series = plots.by_model(rows, metric)
    if not series:
        known = sorted({k for r in rows for k in params.flatten(r.metrics)})
        raise BadInput(
            f"no version records metric {metric!r}; recorded: {', '.join(known) or 'none'}"
        )
    if out is None:
        print("\n".join(plots.text_lines(series)))
        return 0
    user_output_file(out)
    if out.suffix.lower() == ".svg":
        data = plots.svg_chart(series, metric).encode()
    else:
        png = plots.png_plot(series, metric)
        if png is None:
            raise BadInput(
                "a PNG plot needs matplotlib: pip install 'gitml[plot]' "
                "(or give --out FILE.svg, or no --out for a sparkline)"
            )
        data = png
    say(f"wrote {write_user_output(out, data)} ({metric}: {plots.counts(series)})")
    return 0
