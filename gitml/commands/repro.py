"""`gitml repro`: `dvc repro`, then a record of the environment that built each output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitml import dvcfiles, environment
from gitml import repo as repo_mod
from gitml import state as state_mod
from gitml.errors import CheckFailed
from gitml.output import say


def _stage_outs(root: Path) -> dict[str, str]:
    """{out path: md5} of every stage output in the workspace's dvc.lock files."""
    project = dvcfiles.Project()
    for lockfile in sorted(root.rglob("dvc.lock")):
        rel = lockfile.relative_to(root).as_posix()
        if not rel.startswith((".git/", ".dvc/")):
            dvcfiles.read_lockfile(rel, lockfile.read_bytes(), project)
    return {p: o.md5 for p, o in project.outs.items() if o.md5 and o.stage}


def repro(args: list[str]) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    config = repo_mod.workspace_config(repo)
    python = environment.project_python(repo.root, config.python)
    env = environment.interpreter_on_path(python)
    before = _stage_outs(repo.root)
    proc = subprocess.run([sys.executable, "-m", "dvc", "repro", *args], cwd=repo.root, env=env)
    if proc.returncode != 0:
        raise CheckFailed(f"`dvc repro` failed (exit {proc.returncode}); nothing recorded")
    record = environment.capture(python, repo.root)
    recorded = 0
    for path, md5 in _stage_outs(repo.root).items():
        target = state_mod.env_record_path(repo.common_dir, md5)
        # An output whose bytes did not change keeps the record of the build that made them.
        if before.get(path) != md5 or not target.exists():
            state_mod.write_json(target, record)
            recorded += 1
    say(
        f"recorded the build environment (python {record['python']}, "
        f"{len(record['packages'])} packages) for {recorded} output(s)"
    )
    return 0
