"""Output at the edges: messages to stderr, rich only when it is a terminal.

How much is said is decided here, once (`set_level`, from the global `-q`/`-v` options):
quiet keeps only warnings, errors and the verdict lines; verbose adds the steps of long work
(also when piped) and debug detail. Commands call `say`, `verdict`, `say_on_terminal` and `debug` and
never look at the level themselves.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Literal, Self

Level = Literal["quiet", "normal", "verbose"]
_level: Level = "normal"


def set_level(level: Level) -> None:
    global _level
    _level = level


def level() -> Level:
    return _level


# What a terminal would act on rather than show: C0 controls but tab and newline, DEL, C1
# controls (U+009B is a CSI on some terminals), and the bidirectional overrides that reorder
# what is shown. Names, paths, metric names, tags and subjects come from repositories.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\v": "\\v", "\f": "\\f", "\r": "\\r"}


def _escaped(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _C_ESCAPES:
        return _C_ESCAPES[ch]
    return f"\\{ord(ch):03o}" if ord(ch) < 0x80 else f"\\u{ord(ch):04x}"


def printable(text: str) -> str:
    """`text` with what a terminal would execute shown escaped, as git's core.quotePath shows
    such names (ESC as \\033); newlines and tabs are kept (messages span lines)."""
    return _UNPRINTABLE.sub(_escaped, text)


def _print(message: str) -> None:
    print(f"gitml: {printable(message)}", file=sys.stderr)


def say(message: str) -> None:
    """What was done or found, for a person: not with -q."""
    if _level != "quiet":
        _print(message)


def verdict(message: str) -> None:
    """The result a command exists to give (passed, fresh, restored, identical): also with -q."""
    _print(message)


def say_on_terminal(message: str) -> None:
    """A step of work that takes a while, for a person watching: on a terminal, or with -v
    also in a pipe; never with -q."""
    if _level == "verbose" or (_level == "normal" and sys.stderr.isatty()):
        _print(message)


def debug(message: str) -> None:
    """Detail for finding out why: only with -v."""
    if _level == "verbose":
        print(f"gitml: debug: {printable(message)}", file=sys.stderr)


def warn(message: str) -> None:
    """Something could not be read or done as asked: always said, also with -q."""
    print(f"gitml: warning: {printable(message)}", file=sys.stderr)


def aligned(rows: list[list[str]]) -> str:
    """Rows as plain text for a pipe: every column but the last padded to its widest cell,
    nothing cut (the last column is free text)."""
    if not rows:
        return ""
    rows = [[printable(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    )


# Piped output has no width to fit: lines are printed whole (a table sized to its cells, text
# never wrapped) so that `grep` and `cut` see every digit. Rich's default would be 80 columns.
PIPE_WIDTH = 100_000


def console(stderr: bool = False) -> Any:
    """A rich console; when not on a terminal plain (no colour) and as wide as each line is."""
    from rich.console import Console

    class EscapingConsole(Console):
        """Every string rich renders (printed, or a table cell) is made printable first."""

        def render_str(self, text: str, **options: Any) -> Any:
            return super().render_str(printable(text), **options)

    stream = sys.stderr if stderr else sys.stdout
    piped = not stream.isatty()
    return EscapingConsole(
        file=stream,
        highlight=False,
        emoji=False,
        soft_wrap=piped,
        width=PIPE_WIDTH if piped else None,
    )


class Progress:
    """A counter for a long job: a rich progress bar on a terminal (stderr), nothing when piped,
    so logs and hooks run from an IDE stay quiet. Use as a context manager; call `advance()`."""

    def __init__(self, label: str, total: int, *, at_least: int = 100):
        self._bar: Any = None
        self._task: Any = None
        if total >= at_least and sys.stderr.isatty() and _level != "quiet":
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console(stderr=True),
                transient=True,
            )
            self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> Self:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)
