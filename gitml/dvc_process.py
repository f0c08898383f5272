"""DVC run by `gitml reproduce` as a process group of its own, its output streamed line by line.

The rebuild's `dvc checkout`, `dvc pull` and `dvc repro` run in a session of their own, with the
processes they start (DVC runs a stage's command in its own process group): a signal to gitml,
or Ctrl-C at the terminal, does not reach them, and whatever interrupts gitml while one runs
ends the whole group (`stop_group`), so that no stage goes on running in a worktree being
removed. Where the output goes is the caller's (an `OutputStream`): this module does not print.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

TAIL_LINES = 40  # of a run's output, kept for the message when it fails
STOP_GRACE_SECONDS = 5.0  # between TERM and KILL to a rebuild's process group

LineSink = Callable[[str], None]

# What DVC advises after a run, about the repository it ran in: for a rebuild that is gitml's
# temporary worktree, where `git add dvc.lock` or `dvc push` would be wrong for the user.
_ADVICE_HEADS = (
    "To track the changes with git, run:",
    "To enable auto staging, run:",
    "Use `dvc push` to send your updates to remote storage.",
)
_ADVICE_COMMANDS = ("git add ", "dvc config core.autostage")
_RUNNING_STAGE = re.compile(r"^Running stage '(?P<stage>[^']+)':\s*$")


def running_stage(line: str) -> str | None:
    """The stage DVC says it starts running on this line of its output, if any."""
    found = _RUNNING_STAGE.match(line.strip())
    return found["stage"] if found else None


class WithoutAdvice:
    """A line sink that passes DVC's output on without its advice for the repository it ran in
    (the lines above, each command it names, and the blank lines around them)."""

    def __init__(self, emit: LineSink):
        self._emit = emit
        self._blank: list[str] = []
        self._in_advice = False

    def __call__(self, line: str) -> None:
        text = line.strip()
        if not text:
            self._blank.append(line)  # passed on only when what follows is not advice
            return
        if text in _ADVICE_HEADS or (self._in_advice and text.startswith(_ADVICE_COMMANDS)):
            self._in_advice = True
            self._blank.clear()
            return
        self._in_advice = False
        for blank in self._blank:
            self._emit(blank)
        self._blank.clear()
        self._emit(line)


class OutputStream(Protocol):
    """Where a run's output goes: `streaming(label)` is entered for the whole run and gives the
    function that each line of output, as decoded with its line ending, is handed to."""

    def streaming(self, label: str) -> AbstractContextManager[LineSink]: ...


def run_streamed(
    cmd: list[str], cwd: Path, env: dict[str, str], stream: OutputStream, label: str
) -> tuple[int, list[str]]:
    """Run `cmd` in a session of its own, its output handed to `stream` under `label`; its exit
    code and the last lines of its output. DVC's advice for the repository it ran in is left
    out of what `stream` gets (not of the tail). Whatever interrupts this ends the process
    group."""
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        with stream.streaming(label) as sink:
            emit = WithoutAdvice(sink)
            for raw in proc.stdout:
                line = raw.decode(errors="replace")
                tail.append(line.rstrip("\n"))
                emit(line)
        return proc.wait(), list(tail)
    except BaseException:
        stop_group(proc)
        raise
    finally:
        proc.stdout.close()


def run_dvc(
    args: list[str], wt: Path, env: dict[str, str], stream: OutputStream, label: str
) -> tuple[int, list[str]]:
    """`dvc ARGS` in the worktree `wt`, by gitml's own interpreter (the one DVC is installed in)."""
    return run_streamed([sys.executable, "-m", "dvc", *args], wt, env, stream, label)


def stop_group(proc: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """End the process group that `proc` leads: SIGTERM, then SIGKILL to whatever is left after
    `grace` seconds. The group outlives its leader while any member lives, so it is asked
    (signal 0) until it is empty; the leader is reaped first, a zombie being still a member."""
    deadline = time.monotonic() + grace
    sig: int | None = signal.SIGTERM
    while True:
        try:
            os.killpg(proc.pid, sig or 0)
        except ProcessLookupError:
            break  # nobody left in the group
        if sig == signal.SIGKILL:
            break
        time.sleep(0.05)
        proc.poll()
        sig = signal.SIGKILL if time.monotonic() > deadline else None
    proc.wait()
