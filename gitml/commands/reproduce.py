"""`gitml reproduce [REV] [--out DIR] [--env current|locked] [--keep] [--twice] [--json]`."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from gitml import model_comparison
from gitml import reproduce as reproduce_mod
from gitml.dvc_process import LineSink
from gitml.errors import CHECK_FAILED, EQUIVALENT, PASSED
from gitml.fileio import user_output_dir
from gitml.model_comparison import MetricComparison
from gitml.output import console, printable, say, warn

_EXIT = {
    model_comparison.IDENTICAL: PASSED,
    model_comparison.EQUIVALENT: EQUIVALENT,
    model_comparison.DIFFERENT: CHECK_FAILED,
}


class StderrReport:
    """The run's progress on stderr: notes and warnings as gitml says them; each DVC run's
    output under a rich status naming it on a terminal, written through as it comes when piped."""

    def note(self, message: str) -> None:
        say(message)

    def warn(self, message: str) -> None:
        warn(message)

    @contextlib.contextmanager
    def streaming(self, label: str) -> Iterator[LineSink]:
        if not sys.stderr.isatty():
            yield _write_through
            return
        from rich.markup import escape
        from rich.text import Text

        con = console(stderr=True)

        def show(line: str) -> None:
            con.print(Text(line.rstrip("\n"), style="dim"))

        with con.status(f"[bold]{escape(label)}[/]"):
            yield show


def _write_through(line: str) -> None:
    sys.stderr.write(line)
    sys.stderr.flush()


def reproduce(
    rev: str | None,
    out: Path | None = None,
    env: str = "current",
    keep: bool = False,
    twice: bool = False,
    json_out: bool = False,
) -> int:
    if out is not None:
        user_output_dir(out)  # refused before the rebuild, not after it
    result = reproduce_mod.reproduce(
        rev, out=out, env_mode=env, keep=keep, twice=twice, report=StderrReport()
    )
    if result.kept is not None:
        say(
            f"worktree kept at {result.kept} (remove it with `git worktree remove --force "
            f"{result.kept}`)"
        )
    if out is not None:
        say(f"rebuilt models copied to {out}")
    if json_out:
        print(json.dumps(result.as_json(), indent=2, sort_keys=True, default=str))
    elif sys.stdout.isatty():
        _rich(result)
    else:
        _plain(result)
    return _EXIT[result.verdict]


def _metric_text(metrics: dict[str, MetricComparison]) -> str:
    parts = []
    for name, m in metrics.items():
        tol = f" (tolerance {m['tolerance']})" if m.get("tolerance") is not None else ""
        if m.get("recorded") == m.get("rebuilt"):
            parts.append(f"{name} {m.get('rebuilt')}")
        else:
            parts.append(f"{name} {m.get('recorded')} -> {m.get('rebuilt')}{tol}")
    return ", ".join(parts)


def _plain(result: reproduce_mod.Result) -> None:
    for m in result.models:
        fields = [printable(m.path), m.verdict, f"recorded {m.recorded_md5}"]
        fields.append(f"rebuilt {m.rebuilt_md5 or '-'}")
        if m.metrics:
            fields.append(_metric_text(m.metrics))
        print("\t".join(fields))
    for d in result.diagnosis:
        print(printable(f"diagnosis\t{d['kind']}\t{d['detail']}"))
    print(result.verdict)


def _rich(result: reproduce_mod.Result) -> None:
    from rich.markup import escape
    from rich.table import Table

    colour = {"identical": "green", "equivalent": "yellow", "different": "red"}
    table = Table(title=f"reproduce {result.rev[:12]} ({result.seconds:.1f}s)")
    for col in ("model", "recorded md5", "rebuilt md5", "metrics", "verdict"):
        table.add_column(col)
    for m in result.models:
        c = colour.get(m.verdict, "white")
        table.add_row(
            escape(m.path),
            str(m.recorded_md5)[:12],
            str(m.rebuilt_md5 or "-")[:12],
            escape(_metric_text(m.metrics)),
            f"[{c}]{m.verdict}[/]",
        )
    con = console()
    con.print(table)
    for i, d in enumerate(result.diagnosis, 1):
        con.print(f"{i}. [bold]{escape(d['kind'])}[/]: {escape(d['detail'])}")
    con.print(f"[bold {colour[result.verdict]}]{result.verdict}[/]")
