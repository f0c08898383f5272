"""`gitml init` in fresh and existing repositories: config discovery, hooks, worktrees."""

from __future__ import annotations

import pytest

import shutil
import sys
from pathlib import Path

import yaml
from conftest import PROJECT, Example, dvc, git, gitml, run


def fresh_dvc_project(tmp_path: Path) -> Path:
    """The example pipeline run by plain DVC, before gitml is set up."""
    repo = tmp_path / "proj"
    shutil.copytree(PROJECT / "templates" / "example", repo)
    (repo / "gitml.yaml").unlink()  # init must discover it from the DVC files
    git("init", "-q", cwd=repo)
    dvc("init", "-q", cwd=repo)
    run(sys.executable, "src/make_data.py", "data/wine.csv", cwd=repo)
    dvc("add", "-q", "data/wine.csv", cwd=repo)
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "plain dvc project", cwd=repo)
    return repo


@pytest.mark.slow
def test_init_discovers_models_metrics_and_data_and_is_idempotent(tmp_path: Path) -> None:
    repo = fresh_dvc_project(tmp_path)
    res = gitml("init", cwd=repo)
    assert res.returncode == 0, res.stderr
    cfg = yaml.safe_load((repo / "gitml.yaml").read_text())
    assert cfg["version"] == 1
    assert cfg["models"] == [
        {"path": "model/model.pkl", "name": "wine-classifier", "metrics": "metrics.json"}
    ]
    assert {"path": "data/wine.csv"} in cfg["data"]
    hooks = repo / ".git" / "hooks"
    for name in (
        "pre-commit",
        "pre-merge-commit",
        "post-commit",
        "pre-push",
        "post-checkout",
        "post-merge",
        "post-rewrite",
    ):
        text = (hooks / name).read_text()
        assert "gitml-hook:" in text and sys.executable in text
    assert "gitml.lock merge=gitml" in (repo / ".gitattributes").read_text()
    assert git("config", "merge.gitml.driver", cwd=repo).stdout.strip() == "true"
    snapshot = {
        p: p.read_bytes()
        for p in [repo / "gitml.yaml", repo / ".gitattributes", *sorted(hooks.iterdir())]
    }
    assert gitml("init", cwd=repo).returncode == 0
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    # the first commit through the hook writes the manifest
    git("commit", "-qm", "set up gitml", cwd=repo)
    lock = yaml.safe_load(git("show", "HEAD:gitml.lock", cwd=repo).stdout)
    assert lock["models"]["model/model.pkl"]["environment"]
    assert (
        lock["environments"][lock["models"]["model/model.pkl"]["environment"]]["captured"]
        == "commit"
    )


def test_init_runs_dvc_init_when_needed(tmp_path: Path) -> None:
    repo = tmp_path / "bare"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    res = gitml("init", cwd=repo)
    assert res.returncode == 0, res.stderr
    assert (repo / ".dvc").is_dir() and (repo / "gitml.yaml").exists()


def test_repo_level_hooks_path_is_honoured(example: Example) -> None:
    # outside the work tree (a folder in the work tree is shared by git: see test_security)
    hooks = example.root.parent / "clone-hooks"
    example.git("config", "core.hooksPath", str(hooks))
    assert example.gitml("init").returncode == 0
    assert "gitml-hook:" in (hooks / "pre-commit").read_text()
    example.set_param("n_estimators: 3", "n_estimators: 9")
    proc = example.git("commit", "-qam", "through the clone's hooks folder")
    assert "stage train is stale" in proc.stderr


def test_global_hooks_path_is_refused(example: Example, tmp_path: Path) -> None:
    cfg = tmp_path / "global-gitconfig"
    cfg.write_text("[core]\n\thooksPath = /tmp/everywhere-hooks\n")
    res = example.gitml("init", env={"GIT_CONFIG_GLOBAL": str(cfg)})
    assert res.returncode == 2
    assert "core.hooksPath is set in your global git config" in res.stderr
    assert not Path("/tmp/everywhere-hooks/pre-commit").exists()


def test_init_in_a_clone_says_it_staged_nothing(example: Example, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(example.root), str(clone), cwd=tmp_path)
    proc = gitml("init", cwd=clone)
    assert proc.returncode == 0, proc.stderr
    assert git("diff", "--cached", "--name-only", cwd=clone).stdout == ""
    assert "staged" not in proc.stderr, proc.stderr
    assert "gitml.yaml, .gitattributes: already committed as they are; nothing to stage" in (
        proc.stderr
    )


@pytest.mark.slow
def test_works_in_a_linked_worktree(example: Example, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    example.git("worktree", "add", "-q", "-b", "wt-branch", str(wt))
    dvc("config", "--local", "cache.dir", str(example.root / ".dvc" / "cache"), cwd=wt)
    assert gitml("init", cwd=wt).returncode == 0
    dvc("checkout", "-q", cwd=wt, check=False)
    params = wt / "params.yaml"
    params.write_text(params.read_text().replace("n_estimators: 3", "n_estimators: 12"))
    assert gitml("repro", cwd=wt).returncode == 0
    git("commit", "-qam", "from the worktree", cwd=wt)
    lock = yaml.safe_load(git("show", "HEAD:gitml.lock", cwd=wt).stdout)
    dvc_lock = yaml.safe_load((wt / "dvc.lock").read_text())
    assert lock["models"]["model/model.pkl"]["md5"] == dvc_lock["stages"]["train"]["outs"][0]["md5"]
    assert git("status", "--porcelain", cwd=wt).stdout == ""
