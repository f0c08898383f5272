"""Arguments and options several commands of the command line share, and how they exit."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

RevArg = Annotated[str | None, typer.Argument(help="A commit, branch or tag (default: HEAD).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def done(code: int) -> NoReturn:
    """Leave typer with the command's exit code."""
    raise typer.Exit(code)
