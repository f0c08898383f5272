"""The pre-commit hook through real `git commit`s in a real git + DVC repo."""

from __future__ import annotations

import pytest

import hashlib
import json
import shutil

import yaml
from conftest import Example


def lock_at(ex: Example, rev: str = "HEAD") -> dict:
    return yaml.safe_load(ex.show_file(rev, "gitml.lock"))


def dvc_out_md5(ex: Example, rev: str, path: str) -> str:
    doc = yaml.safe_load(ex.show_file(rev, "dvc.lock"))
    for stage in doc["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == path:
                return out["md5"]
    raise AssertionError(path)


def test_commit_records_the_hashes_of_the_commit(example: Example) -> None:
    lock = lock_at(example)
    assert lock["models"]["model/model.pkl"]["md5"] == dvc_out_md5(
        example, "HEAD", "model/model.pkl"
    )
    data_md5 = yaml.safe_load(example.show_file("HEAD", "data/wine.csv.dvc"))["outs"][0]["md5"]
    assert lock["data"]["data/wine.csv"]["md5"] == data_md5
    model = lock["models"]["model/model.pkl"]
    assert model["stale"] is False and model["stage"] == "train"
    assert model["metrics"]["accuracy"] > 0.5
    env = lock["environments"][model["environment"]]
    assert env["captured"] == "build"
    assert env["seeds"] == {"params.yaml:prepare.seed": 42, "params.yaml:train.seed": 42}
    assert "scikit-learn" in env["packages"]


def test_param_change_after_repro_updates_the_lock_in_the_same_commit(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 7")
    assert example.gitml("repro").returncode == 0
    proc = example.git("commit", "-qam", "seven trees")
    assert "gitml.lock updated" in proc.stderr
    assert lock_at(example)["models"]["model/model.pkl"]["md5"] == dvc_out_md5(
        example, "HEAD", "model/model.pkl"
    )
    assert (
        lock_at(example)["models"]["model/model.pkl"]["inputs"]["params.yaml:train"]["n_estimators"]
        == 7
    )
    assert example.git("status", "--porcelain").stdout == ""


def test_stale_pipeline_is_recorded_and_warned(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 9")
    proc = example.git("commit", "-qam", "param without repro")
    assert "stage train is stale" in proc.stderr
    assert "params.yaml:train" in proc.stderr
    stale = lock_at(example)["models"]["model/model.pkl"]["stale"]
    assert any("n_estimators" in reason for reason in stale)
    assert example.gitml("check").returncode == 1


def test_block_stale_blocks_and_leaves_index_and_worktree(example: Example) -> None:
    cfg = example.root / "gitml.yaml"
    cfg.write_text(cfg.read_text() + "hooks:\n  block_stale: true\n")
    example.git("commit", "-qam", "block stale commits")
    example.set_param("n_estimators: 3", "n_estimators: 9")
    example.git("add", "params.yaml")
    before_index = example.git("ls-files", "-s").stdout
    before_lock = (example.root / "gitml.lock").read_bytes()
    proc = example.git("commit", "-qm", "should be blocked", check=False)
    assert proc.returncode != 0
    assert "stage train is stale" in proc.stderr and "blocked" in proc.stderr
    assert example.git("ls-files", "-s").stdout == before_index
    assert (example.root / "gitml.lock").read_bytes() == before_lock


def test_unrelated_commit_passes_without_touching_the_lock(example: Example) -> None:
    (example.root / "NOTES.md").write_text("notes\n")
    example.git("add", "NOTES.md")
    proc = example.git("commit", "-qm", "notes")
    assert proc.stderr == ""
    assert example.git("diff", "--name-only", "HEAD~1", "HEAD").stdout.split() == ["NOTES.md"]


def test_missing_cache_object_blocks_with_index_unchanged(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 11")
    assert example.gitml("repro").returncode == 0
    new_md5 = yaml.safe_load((example.root / "dvc.lock").read_text())["stages"]["train"]["outs"][0][
        "md5"
    ]
    shutil.rmtree(example.root / ".dvc" / "cache")
    example.git("add", "-A")
    before = example.git("ls-files", "-s").stdout
    proc = example.git("commit", "-qm", "objects gone", check=False)
    assert proc.returncode != 0
    assert "model/model.pkl" in proc.stderr and new_md5 in proc.stderr
    assert "dvc commit" in proc.stderr
    assert example.git("ls-files", "-s").stdout == before


@pytest.mark.slow
def test_commit_with_pathspec_leaves_status_clean(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 5")
    assert example.gitml("repro").returncode == 0
    example.git("commit", "-q", "-m", "partial", "--", "dvc.lock", "params.yaml", "metrics.json")
    assert lock_at(example)["models"]["model/model.pkl"]["md5"] == dvc_out_md5(
        example, "HEAD", "model/model.pkl"
    )
    assert example.git("status", "--porcelain").stdout == ""


@pytest.mark.slow
def test_commit_all_leaves_status_clean(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 4")
    assert example.gitml("repro").returncode == 0
    example.git("commit", "-qam", "all")
    assert example.git("status", "--porcelain").stdout == ""
    assert example.gitml("lock", "--check", "HEAD").returncode == 0


@pytest.mark.slow
def test_workspace_change_is_a_warning_and_the_staged_bytes_are_recorded(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 6")
    assert example.gitml("repro").returncode == 0
    example.git("add", "-A")
    old_md5 = dvc_out_md5(example, "HEAD", "model/model.pkl")
    model = example.root / "model" / "model.pkl"
    model.chmod(0o644)
    model.write_bytes(model.read_bytes() + b"tampered")
    proc = example.git("commit", "-qm", "staged bytes")
    assert "model/model.pkl in the workspace differs from its staged hash" in proc.stderr
    recorded = lock_at(example)["models"]["model/model.pkl"]["md5"]
    assert recorded == dvc_out_md5(example, "HEAD", "model/model.pkl")
    assert recorded != old_md5  # the newly staged model, not the first commit's
    assert recorded != hashlib.md5(model.read_bytes()).hexdigest()


def test_manifest_bytes_are_deterministic(example: Example) -> None:
    first = example.show_file("HEAD", "gitml.lock")
    assert example.gitml("lock").returncode == 0
    assert (example.root / "gitml.lock").read_text() == first
    (example.root / "gitml.lock").unlink()
    example.git("rm", "-q", "--cached", "gitml.lock")
    assert example.gitml("lock").returncode == 0
    assert (example.root / "gitml.lock").read_text() == first


def test_existing_failing_hook_still_blocks(example: Example) -> None:
    hook = example.root / ".git" / "hooks" / "pre-commit"
    (example.root / ".git" / "hooks" / "pre-commit").unlink()
    hook.write_text("#!/bin/sh\necho 'legacy hook says no' >&2\nexit 3\n")
    hook.chmod(0o755)
    assert example.gitml("init").returncode == 0
    assert (example.root / ".git" / "hooks" / "pre-commit.gitml-legacy").exists()
    (example.root / "NOTES.md").write_text("x\n")
    example.git("add", "NOTES.md")
    proc = example.git("commit", "-qm", "blocked by legacy", check=False)
    assert proc.returncode != 0 and "legacy hook says no" in proc.stderr
    assert example.gitml("init").returncode == 0  # idempotent: does not chain itself
    assert not (example.root / ".git" / "hooks" / "pre-commit.gitml-legacy.gitml-legacy").exists()


def test_gitml_skip_bypasses(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 9")
    proc = example.git("commit", "-qam", "skip", env={"GITML_SKIP": "1"})
    assert proc.stderr == ""
    check = example.gitml("lock", "--check", "HEAD", "--json")
    assert check.returncode == 1 and "is stale for HEAD" in check.stderr
    doc = json.loads(check.stdout)
    assert doc["rev"] == example.head() and doc["fresh"] is False
    assert doc["stale"] and all(isinstance(line, str) for line in doc["stale"])
    assert any("params.yaml:train" in line for line in doc["stale"]), doc
    bad = example.gitml("lock", "--json")
    assert bad.returncode == 2 and "--json goes with --check" in bad.stderr


@pytest.mark.slow
def test_objects_are_fetched_through_dvc_from_a_remote(example: Example) -> None:
    """The path the hook takes for s3/ssh/… remotes, exercised on the local remote (DVC's API
    treats it the same; DVC's file:// urls are unreliable for a test)."""
    from gitml import dvcfiles, objects

    example.set_param("n_estimators: 3", "n_estimators: 11")
    assert example.gitml("repro").returncode == 0
    example.dvc("push", "-q")
    new_md5 = yaml.safe_load((example.root / "dvc.lock").read_text())["stages"]["train"]["outs"][0][
        "md5"
    ]
    cache = example.root / ".dvc" / "cache"
    shutil.rmtree(cache)
    missing = [
        objects.Missing("model/model.pkl", new_md5, "dvc.lock"),
        objects.Missing("model/other.pkl", "0" * 32, "dvc.lock"),
    ]
    got = objects.fetch_from_remote(example.root, "local", missing, "md5", cache.resolve())
    assert got == {new_md5}
    obj = dvcfiles.object_path(cache, new_md5, "md5")
    assert hashlib.md5(obj.read_bytes()).hexdigest() == new_md5
