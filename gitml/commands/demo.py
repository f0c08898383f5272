"""`gitml demo DIR`: the example project, built and run through gitml as a user would.

Every step is a real command (git, dvc, gitml) run in DIR/repo, printed before it runs, so the
demo shows exactly what to type in one's own repository.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from gitml import git
from gitml.errors import BadInput, CheckFailed
from gitml.resources import resource

_IDENTITY = {
    "GIT_AUTHOR_NAME": "gitml demo",
    "GIT_AUTHOR_EMAIL": "demo@gitml.invalid",
    "GIT_COMMITTER_NAME": "gitml demo",
    "GIT_COMMITTER_EMAIL": "demo@gitml.invalid",
}


def _env() -> dict[str, str]:
    """The user's environment with this interpreter's bin first (gitml, dvc, python of the venv)
    and a git identity where none is configured."""
    env = git.no_git_env()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if not git.config_get(Path.cwd(), "user.email"):
        env.update(_IDENTITY)
    env.pop("GITML_SKIP", None)
    return env


def _step(cwd: Path, env: dict[str, str], *cmd: str) -> str:
    print(f"\n$ {shlex.join(cmd)}", flush=True)
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    print(proc.stdout.rstrip(), flush=True)
    if proc.returncode != 0:
        raise CheckFailed(f"demo step `{shlex.join(cmd)}` failed (exit {proc.returncode})")
    return proc.stdout


def _md5(path: Path) -> str:
    from gitml.fileio import md5_file

    return md5_file(path)


def demo(directory: Path) -> int:
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        raise BadInput(f"{directory} is not empty: give a new or empty directory")
    repo, remote = directory / "repo", directory / "dvc-remote"
    shutil.copytree(resource("templates/example"), repo)
    remote.mkdir(parents=True)
    env = _env()
    gitml = [sys.executable, "-m", "gitml"]
    py = sys.executable
    print(f"gitml demo: building the example in {repo} (DVC remote: {remote})")
    _step(repo, env, "git", "init", "-q", "-b", "main")
    _step(repo, env, py, "-m", "dvc", "init", "-q")
    _step(repo, env, py, "-m", "dvc", "remote", "add", "-d", "local", str(remote))
    _step(repo, env, py, "src/make_data.py", "data/wine.csv")
    _step(repo, env, py, "-m", "dvc", "add", "-q", "data/wine.csv")
    _step(repo, env, *gitml, "init")
    _step(repo, env, *gitml, "suite", "init", "data/wine.csv")
    _step(repo, env, *gitml, "repro")
    _step(repo, env, "git", "add", "-A")
    _step(repo, env, "git", "commit", "-q", "-m", "Train the wine classifier")
    first = git.out(["rev-parse", "HEAD"], repo)
    first_md5 = _md5(repo / "model/model.pkl")
    _step(repo, env, py, "-m", "dvc", "push", "-q")
    _step(repo, env, *gitml, "promote", "wine-classifier", "--to", "production")
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("n_estimators: 3", "n_estimators: 20"))
    print("\n# params.yaml: train.n_estimators 3 -> 20")
    _step(repo, env, *gitml, "repro")
    _step(repo, env, "git", "commit", "-q", "-am", "More trees")
    _step(repo, env, py, "-m", "dvc", "push", "-q")
    _step(repo, env, *gitml, "show")
    _step(repo, env, *gitml, "drift", "data/wine.csv")
    _step(repo, env, *gitml, "registry")
    _step(repo, env, "git", "checkout", "-q", first)
    restored = _md5(repo / "model/model.pkl")
    print(
        f"model/model.pkl after checking out {first[:8]}: md5 {restored} "
        f"({'the exact bytes of that commit' if restored == first_md5 else 'NOT the recorded bytes'})"
    )
    _step(repo, env, "git", "checkout", "-q", "main")
    if restored != first_md5:
        raise CheckFailed("the demo's restore did not give back the first commit's model")
    verdict = _step(repo, env, *gitml, "reproduce", first).strip().splitlines()[-1]
    if verdict != "identical":
        raise CheckFailed(f"the first commit did not reproduce identically ({verdict})")
    print(f"\ngitml demo: done. Explore it: cd {repo} && gitml show HEAD~1")
    return 0
