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


def _refuse_full(directory: Path) -> None:
    """A directory that holds anything is not the demo's to fill: say what is there."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise BadInput(f"{directory} is not a directory: give a new or empty directory")
    entries = sorted(p.name for p in directory.iterdir())
    if not entries:
        return
    if {"repo", "dvc-remote"} <= set(entries):
        raise BadInput(
            f"{directory} holds a previous gitml demo (repo/, dvc-remote/): explore it "
            f"(cd {directory / 'repo'} && gitml show), or remove it (rm -rf {directory}) "
            "or give another directory to run the demo again"
        )
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    raise BadInput(f"{directory} is not empty (it holds {shown}): give a new or empty directory")


def _remove_built(directory: Path, existed: bool) -> None:
    """Remove what a stopped demo built: the directory it made, or what it put in an empty one."""
    if not existed:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def demo(directory: Path) -> int:
    directory = directory.resolve()
    _refuse_full(directory)
    existed = directory.exists()
    try:
        return _run(directory)
    except BaseException:  # a failed step, an error, Ctrl-C: a rerun must find the place empty
        _remove_built(directory, existed)
        print(
            f"\ngitml demo: stopped; what it built in {directory} was removed. "
            f"Fix the cause shown above, then run `gitml demo {directory}` again.",
            file=sys.stderr,
            flush=True,
        )
        raise


def _run(directory: Path) -> int:
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
    same = "the exact bytes of that commit" if restored == first_md5 else "NOT the recorded bytes"
    print(f"model/model.pkl after checking out {first[:8]}: md5 {restored} ({same})")
    _step(repo, env, "git", "checkout", "-q", "main")
    if restored != first_md5:
        raise CheckFailed("the demo's restore did not give back the first commit's model")
    verdict = _step(repo, env, *gitml, "reproduce", first).strip().splitlines()[-1]
    if verdict != "identical":
        raise CheckFailed(f"the first commit did not reproduce identically ({verdict})")
    print(f"\ngitml demo: done. Explore it: cd {repo} && gitml show HEAD~1")
    return 0
