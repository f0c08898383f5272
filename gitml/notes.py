"""How code that does not print hands its messages to the edge that prints them.

Domain functions with something to say as they go (a warning, a step done, a refusal) take a
`Teller`: anything with `say` and `warn`, e.g. the module gitml.output itself. Their default is
`EDGE`, the teller the running edge chose with `tell_with`: the CLI (gitml.cli) and the hook
entry point (gitml.hook_run) choose gitml.output before they call anything. Without an edge
(tests, gitml used as a library) `EDGE` keeps the messages in a `Notes` instead of printing them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol


class Teller(Protocol):
    def say(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...


@dataclass(frozen=True)
class Note:
    text: str
    warning: bool  # a warning; else a statement (what was done, or why something is refused)


@dataclass
class Notes:
    """A teller that keeps what it is told, in order."""

    notes: list[Note] = field(default_factory=list)

    def say(self, message: str) -> None:
        self.notes.append(Note(message, warning=False))

    def warn(self, message: str) -> None:
        self.notes.append(Note(message, warning=True))

    @property
    def texts(self) -> list[str]:
        return [n.text for n in self.notes]


class _Edge:
    """The teller the running edge chose; passes every message on to it."""

    def __init__(self) -> None:
        self.teller: Teller = Notes()

    def say(self, message: str) -> None:
        self.teller.say(message)

    def warn(self, message: str) -> None:
        self.teller.warn(message)


EDGE = _Edge()


def tell_with(teller: Teller) -> None:
    """Send what domain code says by default to `teller` (the edges call it once, first)."""
    EDGE.teller = teller


class Counter(Protocol):
    """A progress counter for a long job (gitml.output.Progress is one)."""

    def advance(self, n: int = 1) -> None: ...


# (label, total) -> a context manager giving the counter; the edge passes gitml.output.Progress.
ProgressFactory = Callable[[str, int], AbstractContextManager[Counter]]


class _NoCount:
    def advance(self, n: int = 1) -> None:
        pass


def no_progress(label: str, total: int) -> AbstractContextManager[Counter]:
    """No progress shown (the default where no edge asked for a progress bar)."""
    return nullcontext(_NoCount())
