"""Restoring a commit's exact bytes: post-checkout/post-merge/post-rewrite and `gitml restore`."""

from __future__ import annotations

import hashlib
import shutil

import yaml
from conftest import Example, dvc, git, gitml


def md5(path) -> str:  # type: ignore[no-untyped-def]
    return hashlib.md5(path.read_bytes()).hexdigest()


def recorded(ex: Example, rev: str, path: str = "model/model.pkl") -> str:
    return yaml.safe_load(ex.show_file(rev, "gitml.lock"))["models"][path]["md5"]


def second_commit(ex: Example, trees: int = 8) -> None:
    ex.set_param("n_estimators: 3", f"n_estimators: {trees}")
    assert ex.gitml("repro").returncode == 0
    ex.git("commit", "-qam", f"{trees} trees")


def test_checkout_of_an_older_commit_restores_its_model(example: Example) -> None:
    first = example.head()
    second_commit(example)
    model = example.root / "model" / "model.pkl"
    assert md5(model) == recorded(example, "HEAD")
    proc = example.git("checkout", "-q", first)
    assert "restored model/model.pkl" in proc.stderr
    assert md5(model) == recorded(example, first)
    example.git("checkout", "-q", "main")
    assert md5(model) == recorded(example, "main")


def test_modified_file_is_never_overwritten(example: Example) -> None:
    first = example.head()
    second_commit(example)
    model = example.root / "model" / "model.pkl"
    model.chmod(0o644)
    model.write_bytes(b"my local experiment")
    proc = example.git("checkout", "-q", first)
    assert "modified locally" in proc.stderr
    assert model.read_bytes() == b"my local experiment"


def test_file_checkout_and_branch_switch_without_data_change_are_quiet(example: Example) -> None:
    example.git("checkout", "-q", "-b", "feature")
    (example.root / "NOTES.md").write_text("x\n")
    example.git("add", "NOTES.md")
    example.git("commit", "-qm", "notes")
    proc = example.git("checkout", "-q", "main")
    assert proc.stderr == ""
    (example.root / "params.yaml").write_text("garbage: [\n")
    proc = example.git("checkout", "--", "params.yaml")
    assert proc.stderr == ""


def test_rebase_restores_once_at_the_end(example: Example) -> None:
    base = example.head()
    example.git("checkout", "-q", "-b", "feature")
    second_commit(example, 8)
    example.git("checkout", "-q", "main")
    (example.root / "NOTES.md").write_text("x\n")
    example.git("add", "NOTES.md")
    example.git("commit", "-qm", "notes on main")
    example.git("checkout", "-q", "feature")
    proc = example.git("rebase", "-q", "main")
    assert proc.returncode == 0
    assert md5(example.root / "model" / "model.pkl") == recorded(example, "feature")
    assert example.git("status", "--porcelain").stdout == ""
    assert base != example.head()


def test_merge_restores_the_merged_model(example: Example) -> None:
    example.git("checkout", "-q", "-b", "feature")
    second_commit(example, 8)
    example.git("checkout", "-q", "main")
    proc = example.git("merge", "-q", "--ff-only", "feature")
    assert proc.returncode == 0
    assert md5(example.root / "model" / "model.pkl") == recorded(example, "HEAD")


def test_restore_fetches_from_the_remote_into_a_fresh_clone(example: Example, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clone = tmp_path / "clone"
    git("clone", "-q", str(example.root), str(clone), cwd=tmp_path)
    # the clone's DVC remote is relative to its .dvc/: point it at the same directory
    dvc("remote", "modify", "--local", "local", "url", str(example.remote), cwd=clone)
    res = gitml("restore", cwd=clone)
    assert res.returncode == 0, res.stderr
    assert md5(clone / "model" / "model.pkl") == recorded(example, "HEAD")
    assert (
        md5(clone / "data" / "wine.csv")
        == yaml.safe_load((clone / "data" / "wine.csv.dvc").read_text())["outs"][0]["md5"]
    )


def test_restore_reports_a_corrupt_cache_object(example: Example) -> None:
    first = example.head()
    second_commit(example)
    md5_first = recorded(example, first)
    obj = example.root / ".dvc" / "cache" / "files" / "md5" / md5_first[:2] / md5_first[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"rotten")
    shutil.rmtree(example.remote)
    res = example.gitml("restore", first)
    assert res.returncode != 0
    assert "corrupt" in res.stderr and "model/model.pkl" in res.stderr
    assert md5(example.root / "model" / "model.pkl") == recorded(example, "HEAD")


def test_restore_of_a_commit_without_lock_is_refused(example: Example) -> None:
    example.git("checkout", "-q", "--orphan", "old")
    example.git("rm", "-q", "--cached", "gitml.lock")
    example.git("commit", "-qm", "no lock", env={"GITML_SKIP": "1"})
    res = example.gitml("restore")
    assert res.returncode == 2
    assert "has no gitml.lock" in res.stderr
