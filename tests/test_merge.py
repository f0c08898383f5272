"""Merges: gitml.lock never gets conflict markers, and the merge commit's manifest is fresh."""

from __future__ import annotations

import pytest

import hashlib
from pathlib import Path

import yaml
from conftest import Example


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_both_sides_changed_the_lock_merge_regenerates_it(example: Example) -> None:
    """Each side adds a model test (the test files merge cleanly, their recorded hash and
    counts in gitml.lock cannot): the driver runs the merged tests and records them."""
    test_dir = example.root / "tests" / "model"
    passing = "def test_{}(gitml_model):\n    assert gitml_model is not None\n"
    example.git("checkout", "-q", "-b", "feature")
    example.set_param("n_estimators: 3", "n_estimators: 8")
    assert example.gitml("repro").returncode == 0
    (test_dir / "test_feature.py").write_text(passing.format("feature"))
    example.git("add", "-A")
    example.git("commit", "-qm", "eight trees, one more test")
    feature_md5 = yaml.safe_load(example.show_file("HEAD", "gitml.lock"))["models"][
        "model/model.pkl"
    ]["md5"]
    example.git("checkout", "-q", "main")
    (test_dir / "test_main.py").write_text(passing.format("main"))
    example.git("add", "-A")
    example.git("commit", "-qm", "one more test on main")  # gitml.lock: the tests' hash
    proc = example.git("merge", "--no-edit", "feature", check=False)
    # git ignores what pre-merge-commit stages: gitml stops the merge with the lock staged
    assert proc.returncode != 0
    assert "gitml.lock regenerated for the merge and staged" in proc.stderr
    assert "differs from its staged hash" not in proc.stderr
    assert "<<<<<<<" not in (example.root / "gitml.lock").read_text()
    done = example.git("commit", "--no-edit", "-q")
    assert "restored model/model.pkl" in done.stderr  # the merged model, as post-merge would
    assert md5(example.root / "model" / "model.pkl") == feature_md5
    assert len(example.git("rev-list", "--parents", "-1", "HEAD").stdout.split()) == 3
    lock_text = example.show_file("HEAD", "gitml.lock")
    assert "<<<<<<<" not in lock_text
    lock = yaml.safe_load(lock_text)
    assert lock["models"]["model/model.pkl"]["md5"] == feature_md5
    assert lock["models"]["model/model.pkl"]["tests"]["passed"] == 4  # 2 + each side's one
    assert example.gitml("lock", "--check", "HEAD").returncode == 0
    assert example.git("status", "--porcelain").stdout == ""


@pytest.mark.slow
def test_merge_that_leaves_the_lock_as_one_side_concludes_at_once(example: Example) -> None:
    example.git("checkout", "-q", "-b", "feature")
    example.set_param("n_estimators: 3", "n_estimators: 8")
    assert example.gitml("repro").returncode == 0
    example.git("commit", "-qam", "eight trees")
    example.git("checkout", "-q", "main")
    (example.root / "NOTES.md").write_text("notes\n")
    example.git("add", "NOTES.md")
    example.git("commit", "-qm", "notes on main")
    proc = example.git("merge", "--no-edit", "feature")
    assert "regenerated" not in proc.stderr
    assert example.gitml("lock", "--check", "HEAD").returncode == 0
    assert example.show_file("HEAD", "gitml.lock") == example.show_file("feature", "gitml.lock")
    merged = yaml.safe_load(example.show_file("HEAD", "gitml.lock"))["models"]["model/model.pkl"]
    assert md5(example.root / "model" / "model.pkl") == merged["md5"]
