"""The no-op commit hook decides without importing anything heavy."""

from __future__ import annotations

import sys

from conftest import Example, run

HEAVY = ("typer", "rich", "dvc", "great_expectations", "pandas", "git", "yaml", "sklearn")


def imported_modules(ex: Example) -> set[str]:
    proc = run(
        sys.executable, "-X", "importtime", "-m", "gitml.hookfast", "pre-commit", cwd=ex.root
    )
    assert proc.returncode == 0, proc.stderr
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_unrelated_change_imports_nothing_heavy(example: Example) -> None:
    (example.root / "README.md").write_text("docs only\n")
    example.git("add", "README.md")
    assert example.gitml("lock").returncode == 0  # computes the watch-list (slow path)
    modules = imported_modules(example)
    assert "gitml" in modules
    assert not modules & set(HEAVY), modules & set(HEAVY)


def test_a_watched_change_takes_the_slow_path(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 9")
    example.git("add", "params.yaml")
    modules = imported_modules(example)
    assert "yaml" in modules  # it read the DVC files: the slow path ran
