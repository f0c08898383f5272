"""gitml/promotion.py: registry tags made all or none, in a real git repo, in process.

The gated promote/rollback flow (gitml.lock, GTO reading the tags, a remote) is end to end in
tests/test_registry.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitml import promotion, registry
from gitml.errors import BadInput


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "c0")
    return tmp_path, _git(tmp_path, "rev-parse", "HEAD")


def test_tags_are_annotated_as_gto_makes_them(repo: tuple[Path, str]) -> None:
    root, commit = repo
    promotion.create_tags(
        root,
        [
            promotion.NewTag("m@v0.0.1", commit, "Registering artifact m version v0.0.1"),
            promotion.NewTag("m#prod#1", commit, "Assigning stage prod to artifact m"),
        ],
    )
    assert _git(root, "cat-file", "-t", "m#prod#1") == "tag"
    found = {t.tag: t for t in registry.read_tags(root)}
    assert found["m@v0.0.1"].message == "Registering artifact m version v0.0.1"
    assert found["m#prod#1"].commit == commit and found["m#prod#1"].time > 0


def test_a_tag_made_meanwhile_makes_the_whole_set_lose(repo: tuple[Path, str]) -> None:
    root, commit = repo
    promotion.create_tags(root, [promotion.NewTag("m#prod#2", commit, "theirs")])
    ours = [
        promotion.NewTag("m@v0.0.1", commit, "Registering artifact m version v0.0.1"),
        promotion.NewTag("m#prod#2", commit, "ours"),
    ]
    with pytest.raises(promotion.LostRace, match="m#prod#2 was made by another run"):
        promotion.create_tags(root, ours)
    assert _git(root, "tag", "--list").split() == ["m#prod#2"]  # not m@v0.0.1 either


def test_a_lightweight_tag_in_the_way_is_bad_input(repo: tuple[Path, str]) -> None:
    root, commit = repo
    _git(root, "tag", "m#prod#1", commit)
    with pytest.raises(BadInput, match=r"not annotated .*\(`git tag -d m#prod#1`\)"):
        promotion.create_tags(root, [promotion.NewTag("m#prod#1", commit, "x")])


def test_version_names_must_be_semver() -> None:
    promotion.check_version("v1.2.0")
    promotion.check_version(None)
    with pytest.raises(BadInput, match="is not vMAJOR.MINOR.PATCH"):
        promotion.check_version("1.2.0")
