"""gitml/git.py, the one door to git, in process on real temporary repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import git as run_git

from gitml import git
from gitml.errors import BadInput, GitError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    run_git("init", "-q", cwd=repo)
    return repo


def commit_file(root: Path, name: str, text: str, message: str = "c") -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    run_git("add", "--", name, cwd=root)
    run_git("commit", "-qm", message, cwd=root)
    return run_git("rev-parse", "HEAD", cwd=root).stdout.strip()


def test_run_raises_with_gits_own_message(root: Path) -> None:
    with pytest.raises(GitError, match=r"`git rev-parse --verify nope` failed: fatal: "):
        git.run(["rev-parse", "--verify", "nope"], root)
    assert git.run(["rev-parse", "--verify", "nope"], root, check=False).returncode != 0
    assert git.out(["rev-parse", "--is-inside-work-tree"], root) == "true"


def test_toplevel_and_common_dir_of_a_linked_worktree(root: Path, tmp_path: Path) -> None:
    commit_file(root, "a.txt", "a\n")
    (root / "sub").mkdir()
    top, common = git.toplevel_and_common_dir(root / "sub")
    assert (top, common) == (root, root / ".git")
    linked = tmp_path / "linked"
    run_git("worktree", "add", "-q", str(linked), cwd=root)
    top, common = git.toplevel_and_common_dir(linked)
    assert top == linked and common.resolve() == (root / ".git").resolve()
    assert git.git_dir(linked) != common  # the worktree's own git dir
    with pytest.raises(GitError, match="not a git repository"):
        git.toplevel_and_common_dir(tmp_path)


def test_staged_names_before_and_after_the_first_commit(root: Path) -> None:
    odd = "dir with space/new\nline.txt"
    (root / "dir with space").mkdir()
    (root / odd).write_text("x")
    (root / "plain.txt").write_text("x")
    run_git("add", "-A", cwd=root)
    assert sorted(git.staged_names(root)) == sorted([odd, "plain.txt"])  # no HEAD: the index
    run_git("commit", "-qm", "first", cwd=root)
    assert git.staged_names(root) == []
    (root / "plain.txt").write_text("y")
    run_git("add", "plain.txt", cwd=root)
    assert git.staged_names(root) == ["plain.txt"]


def test_index_and_tree_entries(root: Path) -> None:
    head = commit_file(root, "d/a.txt", "a\n")
    blob = run_git("rev-parse", "HEAD:d/a.txt", cwd=root).stdout.strip()
    assert git.tree_entries(root, head) == {"d/a.txt": blob}
    assert git.index_entries(root) == {"d/a.txt": blob}
    (root / "b.txt").write_text("b\n")
    run_git("add", "b.txt", cwd=root)
    assert set(git.index_entries(root)) == {"d/a.txt", "b.txt"}
    assert git.index_entries(root, ["b.txt"]) == {"b.txt": git.hash_object_w(root, b"b\n")}
    assert git.tree_entries(root, head, ["b.txt"]) == {}


def test_an_index_given_by_git_index_file_is_honoured(root: Path, tmp_path: Path) -> None:
    commit_file(root, "a.txt", "a\n")
    other = tmp_path / "other-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(other)}
    sha = git.hash_object_w(root, b"lock\n")
    git.update_index_blob(root, "gitml.lock", sha, env=env)
    assert "gitml.lock" not in git.index_entries(root)  # the real index did not change
    listed = subprocess.run(
        ["git", "ls-files", "-s"], cwd=root, env=env, capture_output=True, text=True
    ).stdout
    assert f"100644 {sha} 0\tgitml.lock" in listed


def test_blobs_through_one_process_and_without(root: Path) -> None:
    shas = [git.hash_object_w(root, data) for data in (b"one\n", b"", b"\0binary\nx")]
    assert git.cat_blobs(root, shas) == [b"one\n", b"", b"\0binary\nx"]
    reader = git.BlobReader(root)
    try:
        assert reader.read(shas) == [b"one\n", b"", b"\0binary\nx"]
        with pytest.raises(GitError, match="is missing"):
            reader.read([shas[0], "0" * 40])
        assert reader.read(shas[:1]) == [b"one\n"]  # the pipe stayed in step
    finally:
        reader.close()
    with pytest.raises(GitError, match="is missing"):
        git.cat_blobs(root, ["1" * 40])


def test_one_shared_reader_per_repository(root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    run_git("init", "-q", cwd=other)
    first = git.blob_reader(root)
    assert git.blob_reader(root) is first
    second = git.blob_reader(other)
    assert second is not first and first._proc is None  # the previous one was closed
    git.close_blob_reader()


def test_commits_and_revisions(root: Path) -> None:
    assert git.head_commit(root) is None
    with pytest.raises(BadInput, match="unknown revision 'main'"):
        git.resolve_commit(root, "main")
    head = commit_file(root, "a.txt", "a\n")
    run_git("tag", "-a", "-m", "t", "v1", cwd=root)
    assert git.head_commit(root) == head
    assert git.resolve_commit(root, "v1") == head  # an annotated tag, peeled
    with pytest.raises(BadInput):
        git.resolve_commit(root, "--output=x")  # never an option


def test_config_and_operations_in_progress(root: Path) -> None:
    assert git.config_get(root, "gitml.nothing") is None
    run_git("config", "gitml.answer", "42", cwd=root)
    assert git.config_get(root, "gitml.answer") == "42"
    commit_file(root, "a.txt", "a\n")
    assert git.operation_in_progress(root) is None
    (git.git_dir(root) / "MERGE_HEAD").write_text("0" * 40 + "\n")
    assert git.operation_in_progress(root) == "merge"


def test_child_processes_lose_the_hooks_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_INDEX_FILE", "/tmp/index")
    monkeypatch.setenv("GIT_DIR", "/tmp/x.git")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "kept")
    env = git.no_git_env()
    assert "GIT_INDEX_FILE" not in env and "GIT_DIR" not in env
    assert env["GIT_AUTHOR_NAME"] == "kept"
    with git.without_git_env():
        assert "GIT_INDEX_FILE" not in os.environ
    assert os.environ["GIT_INDEX_FILE"] == "/tmp/index"  # put back


def test_split_z() -> None:
    assert git.split_z(b"a\0b c\0\0") == ["a", "b c"]
    assert git.split_z(b"") == []
