"""gitml/paths.py: repository paths from untrusted files, in process."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitml import paths
from gitml.errors import BadInput


@pytest.mark.parametrize(
    ("raw", "base", "expected"),
    [
        ("model.pkl", "", "model.pkl"),
        ("./data//train.csv", "", "data/train.csv"),
        ("../shared/x.csv", "sub", "shared/x.csv"),
        ("a\\b.csv", "", "a/b.csv"),
    ],
)
def test_normalize_gives_clean_repo_relative_paths(raw: str, base: str, expected: str) -> None:
    assert paths.normalize(raw, base=base) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("C:/x", "absolute"),
        ("../x", "outside the repository"),
        ("sub/../../x", "outside the repository"),
        (".git/hooks/pre-commit", "`.git` directory"),
        ("a/.GIT/config", "`.git` directory"),
        ("a\nb", "control character"),
        ("a\x1b[31mb", "control character"),
        ("a\0b", "NUL byte"),
        ("", "non-empty"),
    ],
)
def test_normalize_refuses_hostile_paths(raw: str, reason: str) -> None:
    with pytest.raises(BadInput, match=reason):
        paths.normalize(raw, what="model path")


def test_is_under_compares_whole_components() -> None:
    assert paths.is_under("data/raw/x.csv", "data")
    assert paths.is_under("data", "data")
    assert not paths.is_under("database/x.csv", "data")


def test_command_line_paths_are_relative_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "data")
    assert paths.from_cli(tmp_path, "raw/t.csv") == "data/raw/t.csv"
    assert paths.from_cli(tmp_path, "../models/model.pkl") == "models/model.pkl"
    assert paths.from_cli(tmp_path, str(tmp_path / "models" / "m.pkl")) == "models/m.pkl"
    with pytest.raises(BadInput, match="'../../elsewhere.csv' is outside the repository"):
        paths.from_cli(tmp_path, "../../elsewhere.csv")
    with pytest.raises(BadInput, match="inside a `.git` directory"):
        paths.from_cli(tmp_path, "../.git/config")


def test_a_symlink_named_on_the_command_line_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DVC's symlink link type: a tracked file is a link into the cache, named as the link
    (tmp_path / ".dvc" / "cache").mkdir(parents=True)
    (tmp_path / ".dvc" / "cache" / "ab").write_text("x")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.pkl").symlink_to(tmp_path / ".dvc" / "cache" / "ab")
    monkeypatch.chdir(tmp_path / "models")
    assert paths.from_cli(tmp_path, "model.pkl") == "models/model.pkl"


def test_a_model_is_named_by_name_or_by_a_path_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.pkl").write_text("x")
    monkeypatch.chdir(tmp_path / "src")
    assert paths.model_from_cli(tmp_path, "wine-classifier") == "wine-classifier"
    assert paths.model_from_cli(tmp_path, "../models/model.pkl") == "models/model.pkl"
    assert paths.model_from_cli(tmp_path, "../models/not-pulled.pkl") == "models/not-pulled.pkl"
    monkeypatch.chdir(tmp_path / "models")
    assert paths.model_from_cli(tmp_path, "model.pkl") == "models/model.pkl"
    monkeypatch.chdir(tmp_path)
    assert paths.model_from_cli(tmp_path, "./models/model.pkl") == "models/model.pkl"
