"""Concurrency (issue 8, item 3): two commits at once in two worktrees of one clone, and a commit
while `gitml reproduce` runs. Both correct; the per-clone state (.git/gitml) and the shared DVC
cache not corrupted; where gitml's lock serialised them, the waiting one said so.
(Two `gitml reproduce` at once: tests/test_reproduce.py.)
"""

from __future__ import annotations

import pytest

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml
from conftest import Example, dvc, git

from gitml import lockfile

pytestmark = pytest.mark.slow  # builds and rebuilds pipelines concurrently / at scale

MODEL = "model/model.pkl"
WAITING = "gitml: waiting for another gitml run in this clone"


def start(cmd: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def gitml_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitml", *args]


def set_trees(root: Path, n: int) -> None:
    params = root / "params.yaml"
    text = params.read_text()
    assert "n_estimators: 3" in text
    params.write_text(text.replace("n_estimators: 3", f"n_estimators: {n}"))


def assert_committed_correctly(root: Path) -> None:
    """HEAD's gitml.lock records HEAD's model, with passing tests; nothing left unstaged."""
    lock = lockfile.parse(git("show", "HEAD:gitml.lock", cwd=root).stdout.encode())
    dvc_lock = yaml.safe_load(git("show", "HEAD:dvc.lock", cwd=root).stdout)
    [out] = dvc_lock["stages"]["train"]["outs"]
    entry = lock.models[MODEL]
    assert entry.md5 == out["md5"]
    assert entry.tests is not None and entry.tests.failed == 0 and (entry.tests.passed or 0) > 0
    assert entry.gates is not None and all(g.passed for g in entry.gates)
    assert git("status", "--porcelain", cwd=root).stdout == ""


def assert_shared_state_sound(common: Path, cache: Path) -> None:
    """Every DVC cache object's bytes hash to its name; gitml's per-clone files all readable."""
    objects = [p for p in (cache / "files" / "md5").glob("*/*") if p.is_file()]
    assert objects
    for obj in objects:
        name = obj.parent.name + obj.name
        assert hashlib.md5(obj.read_bytes()).hexdigest() == name.removesuffix(".dir"), obj
    state = common / "gitml"
    assert not list(state.rglob("*.tmp")), "a temp file of an interrupted write"
    for doc in state.rglob("*.json"):
        json.loads(doc.read_bytes())
    db = sqlite3.connect(state / "md5.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    assert (state / "watch-keys.txt").is_file() and (state / "watch-paths.txt").is_file()


def waits_are_explained(*stderrs: str) -> None:
    """At most one of two runs waited for the other, and then it said which lock."""
    waited = [err for err in stderrs if "waiting for" in err]
    assert len(waited) < len(stderrs)
    for err in waited:
        assert WAITING in err, err


def test_two_commits_at_once_in_two_worktrees(example: Example, tmp_path: Path) -> None:
    cache = example.root / ".dvc" / "cache"
    wt = tmp_path / "wt"
    example.git("worktree", "add", "-q", "-b", "wt-branch", str(wt))
    dvc("config", "--local", "cache.dir", str(cache), cwd=wt)
    dvc("checkout", "-q", cwd=wt)
    set_trees(example.root, 4)
    set_trees(wt, 5)
    repros = [start(gitml_cmd("repro"), root) for root in (example.root, wt)]
    for proc in repros:
        code, _, err = finish(proc)
        assert code == 0, err
    for root in (example.root, wt):
        git("add", "-A", cwd=root)
    heads = [git("rev-parse", "HEAD", cwd=root).stdout for root in (example.root, wt)]

    commits = [start(["git", "commit", "-m", "more trees"], root) for root in (example.root, wt)]
    results = [finish(proc) for proc in commits]
    for code, _, err in results:
        assert code == 0, err
        assert "gitml.lock updated" in err
    waits_are_explained(*(err for _, _, err in results))

    for root, head in zip((example.root, wt), heads, strict=True):
        assert git("rev-parse", "HEAD^", cwd=root).stdout == head
        assert_committed_correctly(root)
    models = {git("show", "HEAD:gitml.lock", cwd=root).stdout for root in (example.root, wt)}
    assert len(models) == 2  # each worktree recorded its own model
    assert_shared_state_sound(example.root / ".git", cache)


def test_a_commit_while_gitml_reproduce_runs(example: Example) -> None:
    cache = example.root / ".dvc" / "cache"
    first = example.head()
    set_trees(example.root, 4)
    repro = example.gitml("repro")
    assert repro.returncode == 0, repro.stderr
    example.git("add", "-A")
    reproducing = start(gitml_cmd("reproduce", first), example.root)
    deadline = time.monotonic() + 60
    while "gitml-reproduce-" not in example.git("worktree", "list").stdout:
        assert reproducing.poll() is None and time.monotonic() < deadline, "reproduce never began"
        time.sleep(0.05)
    committed = example.git("commit", "-m", "more trees", check=False)
    code, out, err = finish(reproducing)

    assert committed.returncode == 0, committed.stderr
    assert example.git("rev-parse", "HEAD^").stdout.strip() == first
    assert_committed_correctly(example.root)
    assert code == 0, out + err
    assert out.strip().splitlines()[-1] == "identical", out + err
    waits_are_explained(committed.stderr, err)
    listing = example.git("worktree", "list", "--porcelain").stdout
    assert "gitml-reproduce-" not in listing  # its temporary worktree is gone
    assert_shared_state_sound(example.root / ".git", cache)
