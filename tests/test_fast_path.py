"""The no-op commit hook decides without importing anything heavy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import Example, run

HEAVY = ("typer", "rich", "dvc", "great_expectations", "pandas", "git", "yaml", "sklearn")
SPARK = {"pyspark", "py4j"}


def imported_modules(ex: Example, *command: str) -> set[str]:
    command = command or ("gitml.hookfast", "pre-commit")
    proc = run(sys.executable, "-X", "importtime", "-m", *command, cwd=ex.root)
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


def test_spark_is_not_imported_by_the_no_op_hook_show_or_log(example: Example) -> None:
    """A dataset with `engine: spark` (and no suite: nothing to validate) costs no JVM."""
    cfg = example.root / "gitml.yaml"
    cfg.write_text(
        cfg.read_text().replace(
            "  - path: data/wine.csv\n", "  - path: data/wine.csv\n    engine: spark\n"
        )
    )
    example.git("add", "gitml.yaml")
    example.git("commit", "-qm", "spark engine")
    (example.root / "README.md").write_text("docs only\n")
    example.git("add", "README.md")
    for command in [(), ("gitml", "show"), ("gitml", "log")]:
        modules = imported_modules(example, *command)
        assert "gitml" in modules and not modules & SPARK, (command, modules & SPARK)


def test_a_watched_change_takes_the_slow_path(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 9")
    example.git("add", "params.yaml")
    modules = imported_modules(example)
    assert "yaml" in modules  # it read the DVC files: the slow path ran
    # the same lists again: the watch files are left as they are (no write, no fsync)
    state = example.root / ".git" / "gitml"
    files = [state / "watch-paths.txt", state / "watch-keys.txt"]
    before = [(f.stat().st_ino, f.stat().st_mtime_ns, f.read_bytes()) for f in files]
    assert "yaml" in imported_modules(example)
    assert [(f.stat().st_ino, f.stat().st_mtime_ns, f.read_bytes()) for f in files] == before


def spy_on_python(ex: Example, tmp_path: Path, hook: str = "pre-commit") -> Path:
    """Make the installed shim start Python through a wrapper that leaves a mark."""
    marker = tmp_path / f"python-started-{hook}"
    spy = tmp_path / f"spy-python-{hook}"
    spy.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec "{sys.executable}" "$@"\n')
    spy.chmod(0o755)
    shim = ex.root / ".git" / "hooks" / hook
    text = shim.read_text()
    assert f"GITML_PYTHON='{sys.executable}'" in text
    shim.write_text(text.replace(f"GITML_PYTHON='{sys.executable}'", f"GITML_PYTHON='{spy}'"))
    return marker


def test_the_shim_decides_an_unrelated_commit_without_python(
    example: Example, tmp_path: Path
) -> None:
    marker = spy_on_python(example, tmp_path)
    post_marker = spy_on_python(example, tmp_path, "post-commit")
    (example.root / "README.md").write_text("docs only\n")
    example.git("add", "README.md")
    example.git("commit", "-qm", "docs")
    assert not marker.exists() and not post_marker.exists()
    # a watched path (a stage's code) takes gitml's own path
    train = example.root / "src" / "train.py"
    train.write_text(train.read_text() + "\n# a comment\n")
    example.git("add", "src/train.py")
    proc = example.git("commit", "-qm", "code change")
    assert marker.exists()
    assert "stage train is stale" in proc.stderr
    # gitml.lock was staged into git's own index: post-commit has nothing to sync
    assert "gitml.lock" in example.git("show", "--name-only", "HEAD").stdout
    assert not post_marker.exists()


@pytest.mark.slow
def test_the_shim_redoes_the_watch_list_after_switching_branches(
    example: Example, tmp_path: Path
) -> None:
    example.git("checkout", "-q", "-b", "other")
    example.set_param("n_estimators: 3", "n_estimators: 7")
    assert example.gitml("repro").returncode == 0
    example.git("commit", "-qam", "other model")
    example.git("checkout", "-q", "main")
    marker = spy_on_python(example, tmp_path)
    (example.root / "README.md").write_text("docs\n")
    example.git("add", "README.md")
    example.git("commit", "-qm", "docs")
    assert marker.exists()  # the watch-list was computed on `other`: gitml recomputed it
    marker.unlink()
    (example.root / "README.md").write_text("docs again\n")
    example.git("commit", "-qam", "docs again")
    assert not marker.exists()


def test_one_cat_file_process_reads_every_blob(tmp_path: Path) -> None:
    """git.BlobReader: many blobs through one process, a missing one named without losing
    step with the pipe, and a dead process replaced by one-shot reads."""
    from gitml import git
    from gitml.errors import GitError

    run("git", "init", "-q", cwd=tmp_path)
    blobs = [f"blob {i}\n".encode() * (i + 1) for i in range(1200)] + [b"", b"no newline"]
    files = tmp_path / "blobs"
    files.mkdir()
    for i, b in enumerate(blobs):
        (files / str(i)).write_bytes(b)
    listing = "".join(f"blobs/{i}\n" for i in range(len(blobs)))
    hashed = run("git", "hash-object", "-w", "--stdin-paths", cwd=tmp_path, input=listing)
    shas = hashed.stdout.split()
    reader = git.BlobReader(tmp_path)
    try:
        assert reader.read(shas) == blobs  # more than one chunk
        missing = "1" * 40
        with pytest.raises(GitError, match=f"git object {missing} is missing"):
            reader.read([shas[0], missing, shas[1]])
        assert reader.read(shas[-3:]) == blobs[-3:]  # still in step
        pid = reader._process().pid
        reader._process().kill()
        reader._process().wait()
        assert reader.read(shas[:2]) == blobs[:2]  # fell back, then starts afresh
        assert reader.read(shas[2:4]) == blobs[2:4] and reader._process().pid != pid
    finally:
        reader.close()
