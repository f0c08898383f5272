"""`gitml doctor` on real copies of the example repo, broken one way at a time."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from conftest import Example, gitml

from gitml import sparkenv
from gitml.dvcconfig import read_config
from gitml.githooks import GIT_HOOKS
from gitml.precommit_hooks import HOOK_TYPES


def doctor(ex: Example) -> tuple[int, dict[str, dict[str, Any]]]:
    proc = ex.gitml("doctor", "--json")
    doc = json.loads(proc.stdout)
    assert doc["ok"] is (proc.returncode == 0)
    return proc.returncode, {c["name"]: c for c in doc["checks"]}


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


def test_healthy_repo_passes_every_check(example: Example) -> None:
    code, checks = doctor(example)
    assert code == 0, checks
    assert set(statuses(checks).values()) == {"ok"}
    for hook in GIT_HOOKS:
        assert checks[f"hook {hook}"]["detail"].startswith(f"gitml ({sys.executable})")
    assert "reachable" in checks["DVC remote"]["detail"]
    assert "fresh for HEAD" in checks["gitml.lock"]["detail"]


def test_piped_output_is_plain_lines(example: Example) -> None:
    proc = example.gitml("doctor")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert "ok    hook pre-commit: gitml (" in proc.stdout
    assert lines[-1].startswith("all ") and lines[-1].endswith(" checks passed")
    assert not any(ch in proc.stdout for ch in "┃│━\x1b")


def test_deleted_hook_fails_naming_it(example: Example) -> None:
    (example.root / ".git" / "hooks" / "post-merge").unlink()
    proc = example.gitml("doctor")
    assert proc.returncode == 1
    assert "fail  hook post-merge:" in proc.stdout and "gitml init" in proc.stdout
    _, checks = doctor(example)
    assert [n for n, s in statuses(checks).items() if s != "ok"] == ["hook post-merge"]


def test_hook_whose_interpreter_is_gone_fails(example: Example) -> None:
    hook = example.root / ".git" / "hooks" / "pre-push"
    hook.write_text(hook.read_text().replace(sys.executable, "/nonexistent/bin/python"))
    code, checks = doctor(example)
    assert code == 1
    assert checks["hook pre-push"]["status"] == "fail"
    assert "/nonexistent/bin/python" in checks["hook pre-push"]["detail"]


def test_legacy_hook_is_reported_chained(example: Example) -> None:
    hook = example.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")  # the user's own hook, in gitml's place
    code, checks = doctor(example)
    assert code == 1 and "not gitml's" in checks["hook pre-commit"]["detail"]
    assert example.gitml("init").returncode == 0  # moves it aside, chains it
    code, checks = doctor(example)
    assert code == 0, checks
    assert "chained: pre-commit.gitml-legacy runs first" in checks["hook pre-commit"]["detail"]


def test_a_shim_of_another_gitml_version_is_reported_and_init_updates_it(
    example: Example,
) -> None:
    """A clone's shim written by an older gitml (here: a key-file list without params.yaml)
    still runs, but may watch other files: doctor says so, and `gitml init` rewrites it."""
    hook = example.root / ".git" / "hooks" / "pre-commit"
    text = hook.read_text()
    assert "|params\\.yaml)$'" in text
    hook.write_text(text.replace("|params\\.yaml)$'", ")$'"))
    code, checks = doctor(example)
    assert code == 0 and checks["hook pre-commit"]["status"] == "warn"
    assert "written by another gitml version" in checks["hook pre-commit"]["detail"]
    assert "run `gitml init`" in checks["hook pre-commit"]["detail"]
    assert example.gitml("init").returncode == 0
    assert hook.read_text() == text
    _, checks = doctor(example)
    assert set(statuses(checks).values()) == {"ok"}


def test_broken_config_fails_with_file_and_line(example: Example) -> None:
    (example.root / "gitml.yaml").write_text("version: 1\ndata: []\nbogus: 3\n")
    code, checks = doctor(example)
    assert code == 1
    detail = checks["gitml.yaml"]["detail"]
    assert checks["gitml.yaml"]["status"] == "fail"
    assert "gitml.yaml" in detail and "line 3" in detail and "bogus" in detail


def test_removed_remote_dir_fails(example: Example, tmp_path: Path) -> None:
    # Moved to a directory of this test's own first: removing it touches nothing shared.
    disk = tmp_path / "disk"
    remote = disk / "own-remote"
    shutil.copytree(read_config(example.root).remotes["local"], remote)
    (example.root / ".dvc" / "config.local").write_text(
        f"['remote \"local\"']\n    url = {remote}\n"
    )
    code, checks = doctor(example)
    assert code == 0 and checks["DVC remote"]["detail"] == f"local = {remote} (reachable)"
    shutil.rmtree(disk)  # the disk it was on is gone (not mounted)
    code, checks = doctor(example)
    assert code == 1
    assert checks["DVC remote"]["status"] == "fail"
    assert f"{remote} does not exist and cannot be created" in checks["DVC remote"]["detail"]


def test_a_local_remote_the_first_push_creates_is_fine_and_no_remote_fails(
    example: Example, tmp_path: Path
) -> None:
    remote = tmp_path / "new-remote"  # configured, never pushed to: DVC creates it
    (example.root / ".dvc" / "config.local").write_text(
        f"['remote \"local\"']\n    url = {remote}\n"
    )
    code, checks = doctor(example)
    assert code == 0, checks
    assert checks["DVC remote"] == {
        "name": "DVC remote",
        "status": "ok",
        "detail": f"local = {remote} (empty: the first push creates it)",
    }
    (example.root / ".dvc" / "config.local").unlink()
    example.dvc("remote", "remove", "local")
    code, checks = doctor(example)
    assert code == 1 and checks["DVC remote"]["status"] == "fail"
    detail = checks["DVC remote"]["detail"]
    assert detail.startswith("no DVC remote") and "on another machine cannot" in detail


def test_stale_lock_at_head_fails(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 9")
    example.git("commit", "-qam", "params without repro", "--no-verify")
    code, checks = doctor(example)
    assert code == 1
    assert checks["gitml.lock"]["status"] == "fail"
    assert "gitml lock" in checks["gitml.lock"]["detail"]


def test_leftover_reproduce_worktree_warns(example: Example, tmp_path: Path) -> None:
    tree = tmp_path / "gitml-reproduce-abc123"
    example.git("-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", str(tree), "HEAD")
    code, checks = doctor(example)
    assert (
        code == 0
        and checks["worktrees"]["status"] == "ok"
        and str(tree) in checks["worktrees"]["detail"]
    )
    shutil.rmtree(tree)
    code, checks = doctor(example)
    assert code == 0
    assert checks["worktrees"]["status"] == "warn"
    assert str(tree) in checks["worktrees"]["detail"]
    assert "git worktree prune" in checks["worktrees"]["detail"]
    example.git("worktree", "prune")
    assert doctor(example)[1]["worktrees"]["status"] == "ok"


def test_pre_commit_framework_hooks_are_recognised(example: Example) -> None:
    assert example.gitml("init", "--hooks", "pre-commit").returncode == 0
    code, checks = doctor(example)
    assert code == 0, checks
    for hook in HOOK_TYPES:
        assert checks[f"hook {hook}"]["detail"].startswith("pre-commit framework")
    assert checks["hook post-commit"]["detail"] == "not used under the pre-commit framework"
    assert checks[".pre-commit-config.yaml"]["status"] == "ok"
    (example.root / ".git" / "hooks" / "pre-push").unlink()
    code, checks = doctor(example)
    assert code == 1 and checks["hook pre-push"]["status"] == "fail"
    assert "gitml init --hooks pre-commit" in checks["hook pre-push"]["detail"]


def test_outside_a_git_repository(tmp_path: Path) -> None:
    proc = gitml("doctor", "--json", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False
    assert doc["checks"][0]["name"] == "git repository" and doc["checks"][0]["status"] == "fail"


def test_a_spark_dataset_has_pyspark_and_java_checked_with_the_fix(example: Example) -> None:
    """With `engine: spark` in gitml.yaml, doctor checks pyspark and Java: the Java found is
    named, and none on JAVA_HOME fails with the command that installs one."""
    cfg = example.root / "gitml.yaml"
    text = cfg.read_text()
    assert "  - path: data/wine.csv\n" in text
    cfg.write_text(
        text.replace("  - path: data/wine.csv\n", "  - path: data/wine.csv\n    engine: spark\n")
    )
    _, checks = doctor(example)
    # what this machine has (.ci/run installs both; a developer's machine may lack them)
    has_pyspark, has_java = not sparkenv.pyspark_problem(), not sparkenv.java_problem()
    assert checks["pyspark"]["status"] == ("ok" if has_pyspark else "fail"), checks["pyspark"]
    assert checks["Java for Spark"]["status"] == ("ok" if has_java else "fail")
    if has_pyspark:
        assert "for data/wine.csv (engine: spark)" in checks["pyspark"]["detail"]
    proc = example.gitml("doctor", env={"JAVA_HOME": str(example.root.parent / "no-java")})
    assert proc.returncode == 1
    line = next(x for x in proc.stdout.splitlines() if "Java for Spark" in x)
    assert line.startswith(
        "fail  Java for Spark: no Java runtime on JAVA_HOME; Spark needs Java 17+"
    )
    assert "`sudo apt-get install -y openjdk-17-jre-headless`" in line
