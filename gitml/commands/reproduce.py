"""`gitml reproduce [REV] [--out DIR] [--env current|locked] [--keep] [--twice] [--json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gitml import reproduce as reproduce_mod
from gitml.errors import CHECK_FAILED, EQUIVALENT, PASSED
from gitml.fileio import user_output_dir
from gitml.output import console, printable, say

_EXIT = {
    reproduce_mod.IDENTICAL: PASSED,
    reproduce_mod.EQUIVALENT: EQUIVALENT,
    reproduce_mod.DIFFERENT: CHECK_FAILED,
}


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
    result = reproduce_mod.reproduce(rev, out=out, env_mode=env, keep=keep, twice=twice)
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


def _metric_text(metrics: dict[str, Any]) -> str:
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
        print(
            f"{printable(m.path)}\t{m.verdict}\trecorded {m.recorded_md5}\trebuilt {m.rebuilt_md5 or '-'}"
            + (f"\t{_metric_text(m.metrics)}" if m.metrics else "")
        )
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
