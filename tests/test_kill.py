"""kill -9 and Ctrl-C at any moment of a commit: no lost work, no half-written gitml.lock, no
stale lock (issue 8, item 1).

One model change is staged once; a real `git commit` through the installed hooks (which runs the
model tests in pytest) is then started again and again and its whole process group killed at
points spread over the hook's run. Between kills the repo is put back cheaply: HEAD, the saved
index file and the worktree gitml.lock, and the per-clone model-test cache (so each run tests).
GITML_SLOW_TESTS=1 kills at 30 points instead of 12.
"""

from __future__ import annotations

import pytest

import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from conftest import Example

from gitml import lockfile
from gitml import state as state_mod

LOCK = "gitml.lock"
MODEL = "model/model.pkl"
SLOW = os.environ.get("GITML_SLOW_TESTS", "") not in ("", "0")


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def worktree_files(root: Path) -> dict[str, str]:
    """md5 of every file in the worktree but gitml.lock (tracked, DVC outputs and untracked
    alike: a stray temp file left by a kill shows up too), outside .git and DVC's internals."""
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".git/", ".dvc/cache/", ".dvc/tmp/")) or rel == LOCK:
            continue
        if path.is_file() and not path.is_symlink():
            found[rel] = md5(path)
    return found


def index_listing(ex: Example, without_lock: bool = True) -> list[str]:
    lines = ex.git("ls-files", "-s").stdout.splitlines()
    return [line for line in lines if not (without_lock and line.endswith(f"\t{LOCK}"))]


@dataclass
class Before:
    head: str
    index_bytes: bytes
    index: list[str]
    files: dict[str, str]
    lock_bytes: bytes


def stage_model_change(ex: Example) -> Before:
    ex.set_param("n_estimators: 3", "n_estimators: 4")
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    return Before(
        head=ex.head(),
        index_bytes=(ex.root / ".git" / "index").read_bytes(),
        index=index_listing(ex),
        files=worktree_files(ex.root),
        lock_bytes=(ex.root / LOCK).read_bytes(),
    )


def reset(ex: Example, before: Before) -> None:
    """Back to the staged change, as if no commit had been tried; the model tests run again."""
    (ex.root / ".git" / "index.lock").unlink(missing_ok=True)
    if ex.head() != before.head:
        ex.git("update-ref", "HEAD", before.head)
    (ex.root / ".git" / "index").write_bytes(before.index_bytes)
    (ex.root / LOCK).write_bytes(before.lock_bytes)
    shutil.rmtree(ex.root / ".git" / "gitml" / "modeltests", ignore_errors=True)


def start_commit(ex: Example, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as f:
        return subprocess.Popen(
            ["git", "commit", "-m", "model change"],
            cwd=ex.root,
            stdin=subprocess.DEVNULL,
            stdout=f,
            stderr=f,
            start_new_session=True,
        )


def group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running (zombies, fds closed, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def wait_group_gone(pgid: int, timeout: float = 10.0) -> None:
    """Until no process of the group is left (the hook's children die after git)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(0.01)
    raise AssertionError(f"process group {pgid} still alive {timeout}s after the kill")


def interrupt_at(ex: Example, log: Path, delay: float, sig: int) -> subprocess.Popen[bytes]:
    proc = start_commit(ex, log)
    time.sleep(delay)
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass  # finished before the signal
    proc.wait(timeout=60)
    if sig == signal.SIGKILL:
        wait_group_gone(proc.pid)
    else:
        wait_group_gone(proc.pid, timeout=60)
    return proc


def check_after(ex: Example, before: Before, what: str) -> bool:
    """The guarantees after an interrupted commit; True when the commit landed."""
    (ex.root / ".git" / "index.lock").unlink(missing_ok=True)  # git's own, left by a kill -9
    assert worktree_files(ex.root) == before.files, f"{what}: worktree changed"
    assert index_listing(ex) == before.index, f"{what}: index changed beyond {LOCK}"
    on_disk = (ex.root / LOCK).read_bytes()
    lockfile.parse(on_disk)  # never half-written
    staged = ex.git("show", f":{LOCK}").stdout.encode()
    assert on_disk in (before.lock_bytes, staged), f"{what}: {LOCK} is neither old nor staged"
    landed = ex.head() != before.head
    if landed:
        lock = yaml.safe_load(ex.show_file("HEAD", LOCK))
        dvc_lock = yaml.safe_load(ex.show_file("HEAD", "dvc.lock"))
        [out] = dvc_lock["stages"]["train"]["outs"]
        assert lock["models"][MODEL]["md5"] == out["md5"], f"{what}: landed with a stale {LOCK}"
        assert lock["models"][MODEL]["tests"]["failed"] == 0
    # no stale gitml lock: it is free at once
    with state_mod.locked(ex.root / ".git", timeout=0):
        pass
    return landed


def commit_works(ex: Example, before: Before) -> None:
    res = ex.git("commit", "-m", "model change", check=False)
    assert res.returncode == 0, res.stderr
    assert "waiting for" not in res.stderr
    check_after(ex, before, "the commit after the kills")
    assert ex.head() != before.head
    assert ex.git("status", "--porcelain").stdout == ""


def kill_points(duration: float, count: int) -> list[float]:
    """A few in the first milliseconds (shim, interpreter start), the rest evenly to the end."""
    early = [0.005, 0.03, 0.08, 0.2][: max(1, count // 3)]
    rest = count - len(early)
    start, end = early[-1], duration * 1.05
    return early + [start + (end - start) * (i + 1) / rest for i in range(rest)]


@pytest.mark.slow
def test_kill_9_and_ctrl_c_at_any_moment_lose_nothing(example: Example, tmp_path: Path) -> None:
    before = stage_model_change(example)
    reset(example, before)
    started = time.monotonic()
    proc = interrupt_at(example, tmp_path / "timed.log", 0, 0)  # signal 0: only measured
    duration = time.monotonic() - started
    assert proc.returncode == 0, (tmp_path / "timed.log").read_text()
    assert check_after(example, before, "uninterrupted")

    points = kill_points(duration, 30 if SLOW else 12)
    landed = []
    for i, delay in enumerate(points):
        reset(example, before)
        interrupt_at(example, tmp_path / f"kill-{i}.log", delay, signal.SIGKILL)
        if check_after(example, before, f"kill -9 after {delay:.3f}s of {duration:.2f}s"):
            landed.append(delay)
    assert len(landed) < len(points), "every kill came after the commit"

    # Ctrl-C: Python's handler is in ~0.1s in; then the checks, then pytest (most of the run)
    interrupted = 0
    for i, delay in enumerate((0.1 * duration, 0.45 * duration, 0.8 * duration)):
        reset(example, before)
        log = tmp_path / f"int-{i}.log"
        proc = interrupt_at(example, log, delay, signal.SIGINT)
        out = log.read_text()
        assert "Traceback" not in out, out
        said = [line for line in out.splitlines() if "interrupted" in line]
        if proc.returncode != 0 and said:
            interrupted += 1
            assert said == ["gitml: interrupted; nothing was changed"], out
        check_after(example, before, f"Ctrl-C after {delay:.1f}s")
    assert interrupted, "no Ctrl-C reached gitml"

    reset(example, before)
    commit_works(example, before)
