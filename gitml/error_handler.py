"""The one error handler at the top: expected failures print one message and exit with their
code; anything else exits 4 with one line, the traceback going to the per-clone log."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Self

from gitml.errors import INTERNAL, GitmlError
from gitml.output import level, printable


class Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP, raised where the program was (see `Interruptible`), so that
    its `finally` blocks stop its children and remove its temporary files. `done` says, in the
    one message printed, what state the signal left things in. Not a KeyboardInterrupt: click
    would turn that into its own "Aborted!"."""

    def __init__(self, signum: int, done: str):
        super().__init__(signum)
        self.signum = signum
        self.done = done

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # as a shell reports a process a signal ended: 130, 143, 129


class Interruptible:
    """While entered (main thread only): the first SIGINT, SIGTERM or SIGHUP raises
    `Interrupted(signum, done)`; later ones are ignored, so the cleanup the first one started
    runs to its end. Inside `deferred()` (a cleanup on the normal path) a signal is held and
    raised when the block ends."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self, done: str):
        self.done = done
        self.received: int | None = None
        self._raised = False
        self._deferring = 0
        self._saved: dict[int, object] = {}

    def __enter__(self) -> Self:
        for signum in self.SIGNALS:
            self._saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._saved.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = signum
        if not self._deferring:
            self._raise()

    def _raise(self) -> None:
        assert self.received is not None
        self._raised = True
        raise Interrupted(self.received, self.done)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            if self.received is not None and not self._raised and not self._deferring:
                self._raise()  # also over an error the signal caused (a child it killed)


def _log_path() -> Path | None:
    from gitml import git

    try:
        _, common = git.toplevel_and_common_dir()
    except Exception:
        return None
    return common / "gitml" / "gitml.log"


def _write_log(text: str) -> str:
    path = _log_path()
    if path is None:
        return "(no git repository: traceback not saved)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError:
        return "(traceback could not be saved)"
    return f"(traceback in {path})"


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn every exception into DESIGN.md's exit codes, raising Exit(code)."""
    try:
        yield
    except GitmlError as exc:
        print(f"gitml: {printable(str(exc))}", file=sys.stderr)
        raise Exit(exc.exit_code) from None
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        print(f"gitml: interrupted ({name}): {printable(exc.done)}", file=sys.stderr)
        raise Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("gitml: interrupted; nothing was changed", file=sys.stderr)
        raise Exit(130) from None
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the exit flush
        raise Exit(0) from None
    except Exception as exc:
        where = _write_log(f"gitml {sys.argv[1:]}:\n{traceback.format_exc()}")
        if level() == "verbose":
            traceback.print_exc(file=sys.stderr)
        print(
            f"gitml: internal error: {type(exc).__name__}: {printable(str(exc))} {where}",
            file=sys.stderr,
        )
        raise Exit(INTERNAL) from None
