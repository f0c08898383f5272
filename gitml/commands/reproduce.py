"""`gitml reproduce [REV] [--out DIR] [--env current|locked] [--keep] [--twice] [--json]`."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitml import model_comparison
from gitml import reproduce as reproduce_mod
from gitml.dvc_process import LineSink, running_stage
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
    """The run's progress on stderr. Each step as it starts: a line (with --json, none), and on
    a terminal a rich status naming it for the whole run, with the stage DVC is running. Notes
    and warnings as gitml says them. Each DVC run's output (without DVC's advice for the
    temporary worktree) dimmed under the status on a terminal, written through when piped."""

    def __init__(self, steps: bool = True):
        self._steps = steps
        self._status: Any = None
        self._terminal = sys.stderr.isatty()

    @contextlib.contextmanager
    def running(self, rev: str | None) -> Iterator[None]:
        """Around the whole run: the status line on a terminal."""
        if not (self._terminal and self._steps):
            yield
            return
        with console(stderr=True).status(f"[bold]reproducing {escape(rev or 'HEAD')}[/]") as st:
            self._status = st
            try:
                yield
            finally:
                self._status = None

    def step(self, message: str) -> None:
        if not self._steps:
            return
        if self._status is not None:
            self._status.update(f"[bold]{escape(message)}[/]")
        say(message)

    def note(self, message: str) -> None:
        say(message)

    def warn(self, message: str) -> None:
        warn(message)

    @contextlib.contextmanager
    def streaming(self, label: str) -> Iterator[LineSink]:
        if not self._terminal:
            yield _write_through
            return
        if self._status is not None:
            yield self._under(self._status, label)
            return
        with console(stderr=True).status(f"[bold]{escape(label)}[/]") as status:
            yield self._under(status, label)

    @staticmethod
    def _under(status: Any, label: str) -> LineSink:
        """DVC's lines dimmed above the status, which names the stage DVC says it runs."""
        from rich.text import Text

        con = status.console
        status.update(f"[bold]{escape(label)}[/]")

        def show(line: str) -> None:
            stage = running_stage(line)
            if stage is not None:
                status.update(f"[bold]{escape(label)}[/]: stage {escape(stage)} running")
            con.print(Text(line.rstrip("\n"), style="dim"))

        return show


def escape(text: str) -> str:
    """`text` as rich markup shows it literally (a stage or path from the repository)."""
    from rich.markup import escape as markup_escape

    return markup_escape(text)


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
    report = StderrReport(steps=not json_out)
    with report.running(rev):
        result = reproduce_mod.reproduce(
            rev, out=out, env_mode=env, keep=keep, twice=twice, report=report
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
