"""Output at the edges: messages to stderr, rich only when it is a terminal."""

from __future__ import annotations

import sys
from typing import Any


def say(message: str) -> None:
    print(f"gitml: {message}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"gitml: warning: {message}", file=sys.stderr)


def console(stderr: bool = False) -> Any:
    """A rich console; plain (no colour, no markup widths) when not on a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, highlight=False, emoji=False, soft_wrap=not stream.isatty())
