"""Arguments and options several commands of the command line share, how they exit, and the
help conventions every command follows (gitml's Typer: see `Typer`)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from gitml.errors import BadInput
from gitml.output import warn

RevArg = Annotated[
    str | None, typer.Argument(metavar="REV", help="A commit, branch or tag (default: HEAD).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
# Before revisions were spelled as git's (`gitml lock --check REV`, `gitml promote MODEL REV`)
# lock and promote took `--rev REV`: still read, hidden from help, with a notice.
OldRevOpt = Annotated[
    str | None, typer.Option("--rev", hidden=True, help="Deprecated: give REV as an argument.")
]


def revision(rev: str | None, old_option: str | None, usage: str) -> str | None:
    """The revision given as the argument REV, or (deprecated) as `--rev`; `usage` shows the
    command with REV in its place, for the notice."""
    if old_option is None:
        return rev
    if rev is not None:
        raise BadInput(f"give the revision once, as in `{usage}` (--rev is deprecated)")
    warn(f"--rev is deprecated: write `{usage.replace('REV', old_option)}`")
    return old_option


CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


def done(code: int) -> NoReturn:
    """Leave typer with the command's exit code."""
    raise typer.Exit(code)


def reflowed(text: str) -> str:
    """Help text as the terminal should wrap it: each paragraph (and each `- ` item) one line.
    Docstrings break lines for the source's width, which rich would otherwise keep."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(re.sub(r"\n(?!- )", " ", p.strip()) for p in paragraphs)


def _as_git_shows(params: list[Any]) -> list[Any]:
    """Help as git's and DVC's: a flag shows no type (`<bool>`), an argument its name in
    capitals (`REV`, `PATH`), as the docstrings name them."""
    for param in params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            param.metavar = ""
        elif param.param_type_name == "argument" and param.metavar is None and param.name:
            param.metavar = param.name.upper()
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _as_git_shows(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _as_git_shows(super().get_params(ctx))


class Typer(typer.Typer):
    """typer.Typer whose commands and groups follow gitml's help conventions: no type shown on
    flags, docstrings reflowed to the terminal's width."""

    def __init__(self, **kwargs: Any) -> None:
        if "help" in kwargs:
            kwargs["help"] = reflowed(kwargs["help"])
        super().__init__(cls=Group, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunction], CommandFunction]:
        register = super().command(*args, cls=Command, **kwargs)

        def decorator(f: CommandFunction) -> CommandFunction:
            registered = register(f)
            info = self.registered_commands[-1]
            if info.help is None and f.__doc__:
                info.help = reflowed(f.__doc__)
            return registered

        return decorator
