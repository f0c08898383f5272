"""Output at the edges: messages to stderr, rich only when it is a terminal."""

from __future__ import annotations

import sys
from typing import Any, Self


def say(message: str) -> None:
    print(f"gitml: {message}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"gitml: warning: {message}", file=sys.stderr)


def aligned(rows: list[list[str]]) -> str:
    """Rows as plain text for a pipe: every column but the last padded to its widest cell,
    nothing cut (the last column is free text)."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths)), row[-1]]).rstrip() for row in rows
    )


def console(stderr: bool = False) -> Any:
    """A rich console; plain (no colour, no markup widths) when not on a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, highlight=False, emoji=False, soft_wrap=not stream.isatty())


class Progress:
    """A counter for a long job: a rich progress bar on a terminal (stderr), nothing when piped,
    so logs and hooks run from an IDE stay quiet. Use as a context manager; call `advance()`."""

    def __init__(self, label: str, total: int, *, at_least: int = 100):
        self._bar: Any = None
        self._task: Any = None
        if total >= at_least and sys.stderr.isatty():
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
