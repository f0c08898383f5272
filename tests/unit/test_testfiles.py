"""gitml/testfiles.py: which staged files a model's tests read, their hash, and whether the
workspace holds them; on a real git index, in process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitml import testfiles
from gitml.errors import BadInput
from gitml.snapshot import Snapshot

FILES = {
    "conftest.py": "",
    "tests/__init__.py": "",
    "tests/helpers.py": "X = 1\n",
    "tests/fixtures/rows.csv": "a\n1\n",
    "tests/model/__init__.py": "",
    "tests/model/conftest.py": "",
    "tests/model/test_a.py": "def test_a():\n    pass\n",
    "other/test_b.py": "def test_b():\n    pass\n",
}


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    for path, text in FILES.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    _git(tmp_path, "add", "-A")
    return tmp_path


def test_a_run_reads_the_tests_conftests_and_their_whole_package(repo: Path) -> None:
    snap = Snapshot(repo)
    assert testfiles.test_files(snap, "tests/model") == [
        "conftest.py",
        "tests/model/__init__.py",
        "tests/model/conftest.py",
        "tests/model/test_a.py",
    ]
    assert testfiles.read_files(snap, "tests/model") == sorted(
        p for p in FILES if not p.startswith("other/")
    )
    # a tests path outside any package: its files and the conftest.py files above only
    assert testfiles.read_files(snap, "other") == ["conftest.py", "other/test_b.py"]
    assert testfiles.watch_scopes(snap, "tests/model") == [
        "tests",
        "conftest.py",
        "tests/conftest.py",
        "tests/__init__.py",
    ]


def test_the_tests_hash_follows_every_staged_file_a_run_reads(repo: Path) -> None:
    before = testfiles.tests_hash(Snapshot(repo), "tests/model")
    (repo / "other" / "test_b.py").write_text("changed\n")
    _git(repo, "add", "-A")
    assert testfiles.tests_hash(Snapshot(repo), "tests/model") == before
    (repo / "tests" / "fixtures" / "rows.csv").write_text("a\n2\n")  # a data fixture
    assert testfiles.tests_hash(Snapshot(repo), "tests/model") == before  # not staged yet
    _git(repo, "add", "-A")
    assert testfiles.tests_hash(Snapshot(repo), "tests/model") != before


def test_a_workspace_unlike_the_index_is_refused_naming_the_files(repo: Path) -> None:
    snap = Snapshot(repo)
    files = testfiles.run_files(snap, "tests/model")
    testfiles.refuse_unstaged(repo, snap, "m.pkl", "tests/model", files)  # all staged: fine
    (repo / "tests" / "helpers.py").write_text("X = 2\n")
    (repo / "tests" / "model" / "test_wip.py").write_text("")
    assert testfiles.differing_files(repo, snap, files) == ["tests/helpers.py"]
    assert testfiles.untracked_test_files(repo, snap, "tests/model") == ["tests/model/test_wip.py"]
    with pytest.raises(BadInput) as refused:
        testfiles.refuse_unstaged(repo, snap, "m.pkl", "tests/model", files)
    assert "tests/helpers.py differs from the staged version" in str(refused.value)
    assert "tests/model/test_wip.py is not staged (untracked)" in str(refused.value)
    assert "`git add -- tests/helpers.py tests/model/test_wip.py`" in str(refused.value)


def test_tests_with_no_staged_file_are_bad_input(repo: Path) -> None:
    with pytest.raises(BadInput, match="have no files in the index: `git add tests/none`"):
        testfiles.run_files(Snapshot(repo), "tests/none")


def test_the_pytest_config_is_the_one_pytest_would_pick(repo: Path) -> None:
    assert testfiles.pytest_config(repo, "tests/model") is None
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no [tool.pytest]: not it
    assert testfiles.pytest_config(repo, "tests/model") is None
    (repo / "setup.cfg").write_text("[tool:pytest]\naddopts = -q\n")
    assert testfiles.pytest_config(repo, "tests/model") == repo / "setup.cfg"
    (repo / "tests" / "pytest.ini").write_text("")  # nearer the tests, and config even empty
    config = testfiles.pytest_config(repo, "tests/model")
    assert config == repo / "tests" / "pytest.ini"
    path, sha = testfiles.config_id(repo, config) or ["", ""]
    assert path == "tests/pytest.ini" and len(sha) == 64
