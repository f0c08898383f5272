"""gitml/rebuild_worktree.py: the isolated worktree of a reproduce run, on a real git repo."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git

from gitml import repo as repo_mod
from gitml.error_handler import Interruptible
from gitml.rebuild_stages import StageFailed
from gitml.rebuild_worktree import (
    OWNER_FILE,
    PREFIX,
    RebuildWorktree,
    add_worktree,
    isolated_worktree,
    leftover_worktrees,
    reproduce_worktrees,
    write_local_config,
)


@pytest.fixture
def repo(tmp_path: Path) -> repo_mod.Repo:
    """A git repo with one commit holding a DVC config that names a remote beside it (relative
    to .dvc/, as DVC reads it)."""
    root = tmp_path / "repo"
    (root / ".dvc").mkdir(parents=True)
    (root / ".dvc" / "config").write_text(
        "[core]\n    remote = store\n['remote \"store\"']\n    url = ../../store\n"
    )
    git("init", "-q", cwd=root)
    git("add", ".dvc/config", cwd=root)
    git("commit", "-qm", "dvc config", cwd=root)
    return repo_mod.find(root)


def head(repo: repo_mod.Repo) -> str:
    return git("rev-parse", "HEAD", cwd=repo.root).stdout.strip()


def registered(repo: repo_mod.Repo) -> list[Path]:
    return reproduce_worktrees(repo.root)


@contextlib.contextmanager
def a_run(
    repo: repo_mod.Repo, notes: list[str], keep: bool = False
) -> Iterator[tuple[RebuildWorktree, Interruptible]]:
    """A run's worktree, as `gitml reproduce` holds it (signals handled)."""
    with (
        Interruptible("stopped") as signals,
        isolated_worktree(repo, head(repo), signals, keep=keep, note=notes.append) as wt,
    ):
        yield wt, signals


def test_the_worktree_is_there_during_the_run_and_gone_after(repo: repo_mod.Repo) -> None:
    notes: list[str] = []
    with a_run(repo, notes) as (wt, _):
        assert (wt.path / ".dvc" / "config").is_file() and not wt.kept
        assert registered(repo) == [wt.path]
        assert (wt.path.parent / OWNER_FILE).read_text() == f"{os.getpid()}\n"
    assert registered(repo) == [] and not wt.path.parent.exists() and notes == []


def test_keep_and_a_failed_stage_leave_the_worktree_without_owner(repo: repo_mod.Repo) -> None:
    with a_run(repo, [], keep=True) as (kept, signals):
        assert signals.done.startswith("the rebuild was stopped") and "kept at" in signals.done
    failing = a_run(repo, [])
    with (
        pytest.raises(StageFailed, match="boom\nthe worktree is kept at .*/wt$"),
        failing as (
            failed,
            _,
        ),
    ):
        raise StageFailed("boom")
    assert sorted(registered(repo)) == sorted([kept.path, failed.path])
    assert not (kept.path.parent / OWNER_FILE).exists()
    assert leftover_worktrees(repo.root) == []  # kept on purpose: no run cleans them
    for wt in (kept, failed):
        shutil.rmtree(wt.path.parent)


def test_a_killed_runs_worktree_is_cleaned_by_the_next_run(repo: repo_mod.Repo) -> None:
    base = Path(tempfile.mkdtemp(prefix=PREFIX))
    killed = add_worktree(repo.root, head(repo), base)
    (base / OWNER_FILE).write_text("12345\n")  # its owner's flock went with the process
    assert leftover_worktrees(repo.root) == [killed]
    notes: list[str] = []
    with a_run(repo, notes):
        pass
    assert notes == [
        f"removed 1 leftover worktree(s) of an interrupted `gitml reproduce`: {killed}"
    ]
    assert registered(repo) == [] and not base.exists()


def test_the_local_config_knows_the_remotes_and_a_private_cache(repo: repo_mod.Repo) -> None:
    wt = repo.root.parent / "wt"
    (wt / ".dvc").mkdir(parents=True)
    cache = repo.root.parent / "private-cache"
    write_local_config(repo.root, wt, cache)
    text = (wt / ".dvc" / "config.local").read_text()
    assert f"url = {repo.root.parent / 'store'}" in text  # absolute: the worktree is elsewhere
    assert "[core]\n    remote = store\n" in text
    assert f"[cache]\n    dir = {cache}\n    type = reflink,copy\n" in text
