"""gitml/registrysource.py: another repository's registry, fetched without its files into a
temporary repository, from a real local repository (by path and by file:// URL); bad URLs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitml import registry, registrysource
from gitml.errors import BadInput


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


@pytest.fixture
def other(tmp_path: Path) -> Path:
    """A repository with a gitml.yaml and dvc.yaml at HEAD, a registry tag, and a work tree
    that says something else; its server honours --filter (blobs come only when asked)."""
    root = tmp_path / "other"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "gitml.yaml").write_text("version: 1\nmodels:\n  - path: m.pkl\n    name: m\n")
    (root / "sub").mkdir()
    (root / "sub" / "dvc.yaml").write_text("artifacts:\n  nb:\n    path: nb.pkl\n")
    (root / "big.bin").write_bytes(b"x" * 100_000)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "c0")
    _git(root, "tag", "-a", "-m", "Registering", "m@v0.0.1")
    _git(root, "config", "uploadpack.allowFilter", "true")
    (root / "gitml.yaml").write_text("not: what HEAD has\n")  # the work tree is never read
    return root


@pytest.mark.parametrize("as_url", [False, True])
def test_tags_and_head_files_are_read_without_the_other_blobs(other: Path, as_url: bool) -> None:
    url = other.as_uri() if as_url else str(other)
    with registrysource.fetched(url) as source:
        assert source.remote and source.rev == _git(other, "rev-parse", "HEAD")
        assert [t.tag for t in registry.read_tags(source.root)] == ["m@v0.0.1"]
        config = source.config()
        assert config is not None and [m.name for m in config.models] == ["m"]
        assert [f for f, _ in source.dvcyamls()] == ["sub/dvc.yaml"]
        missing = _git(source.root, "rev-list", "--objects", "--missing=print", "--all")
        big = _git(other, "rev-parse", "HEAD:big.bin")
        assert f"?{big}" in missing.split()  # never fetched: only the files the registry reads
        root = source.root
    assert not root.exists()  # the temporary repository is gone


@pytest.mark.parametrize("url", ["-oProxyCommand=x", "--upload-pack=touch x", "", "a\nb"])
def test_a_url_that_could_be_an_option_is_bad_input(url: str) -> None:
    with pytest.raises(BadInput, match="--repo"), registrysource.fetched(url):
        pass


def test_a_transport_that_runs_commands_is_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(BadInput, match="transport 'ext' not allowed"),
        registrysource.fetched(f"ext::sh -c touch% {tmp_path / 'pwned'}"),
    ):
        pass
    assert not (tmp_path / "pwned").exists()


def test_an_exported_git_dir_is_left_alone(
    other: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "dotfiles.git"
    _git(tmp_path, "init", "-q", "--bare", str(mine))
    monkeypatch.setenv("GIT_DIR", str(mine))
    with registrysource.fetched(str(other)) as source:
        assert [t.tag for t in registry.read_tags(source.root)] == ["m@v0.0.1"]
    assert _git(tmp_path, "--git-dir", str(mine), "tag", "--list") == ""
