"""gitml/paths.py: repository paths from untrusted files, in process."""

from __future__ import annotations

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
