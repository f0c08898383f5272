"""`gitml init`: DVC if needed, gitml.yaml from what the project declares, hooks, merge driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitml import ci_templates, discover, git, hook_install, precommit_framework, precommit_hooks
from gitml import repo as repo_mod
from gitml.config import CONFIG_FILE
from gitml.errors import BadInput
from gitml.fileio import atomic_write, dump_yaml, regular_file_text
from gitml.lockfile import LOCK_FILE
from gitml.output import say, warn

ATTRIBUTES_LINE = f"{LOCK_FILE} merge=gitml"


def init(hooks: str = "git", ci: str | None = None) -> int:
    if ci is not None and ci not in ci_templates.CI_FILES:
        raise BadInput(f"--ci must be `github` or `gitlab`, not {ci!r}")
    if hooks not in ("git", "pre-commit"):
        raise BadInput(f"--hooks must be `git` or `pre-commit`, not {hooks!r}")
    repo = repo_mod.find()
    root = repo.root
    if not repo.has_dvc:
        dvc_init(root)
    write_config(root)
    merge_driver(root)
    hook_files = []
    if hooks == "git":
        install_native(root)
    else:
        precommit_framework.install_framework(root)
        hook_files.append(precommit_hooks.CONFIG)
    ci_file = [ci_templates.write(root, ci)] if ci is not None else []
    stage_files(root, [CONFIG_FILE, ".gitattributes", *hook_files, *ci_file])
    return 0


def stage_files(root: Path, files: list[str]) -> None:
    """`git add` gitml's files and say what that staged: in a clone (or a second run) they are
    committed already, and nothing is."""
    git.run(["add", "--", *files], root)
    staged = git.out(["diff", "--cached", "--name-only", "-z", "--", *files], root).split("\0")
    staged = [f for f in files if f in staged]
    if staged:
        names = " and ".join([", ".join(staged[:-1]), staged[-1]] if len(staged) > 1 else staged)
        say(f"staged {names}: the next commit records {LOCK_FILE}")
    else:
        say(f"{', '.join(files)}: already committed as they are; nothing to stage")


def dvc_init(root: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "init", "-q"],
        cwd=root,
        env=git.no_git_env(),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BadInput(f"`dvc init` failed: {proc.stderr.strip()}")
    say("initialised DVC (dvc init)")


def write_config(root: Path) -> None:
    """gitml.yaml from what the DVC files declare; an existing one is kept (if it is valid)."""
    if regular_file_text(root / CONFIG_FILE, CONFIG_FILE):
        from gitml import config

        config.parse((root / CONFIG_FILE).read_bytes())  # refuse to install over a broken one
        return
    found = discover.discover(root)
    for problem in found.warnings:
        warn(problem)
    atomic_write(root / CONFIG_FILE, config_text(found).encode())
    say(
        f"wrote {CONFIG_FILE} ({len(found.models)} model(s), {len(found.data)} dataset(s) "
        "found in the DVC files; edit it)"
    )


def config_text(found: discover.Found) -> str:
    doc = {"version": 1, "data": list(found.data.values()), "models": list(found.models.values())}
    header = (
        "# gitml.yaml: what gitml checks on every commit. See `gitml --help`.\n"
        "# Add `suite:` to a dataset to validate it, `tests:`/`gates:` to a model to test it.\n"
    )
    return header + dump_yaml(doc)


def merge_driver(root: Path) -> None:
    """gitml.lock never gets conflict markers: ours is kept, and the commit hook regenerates it."""
    attrs = root / ".gitattributes"
    text = regular_file_text(attrs, ".gitattributes")
    if ATTRIBUTES_LINE not in text.splitlines():
        sep = "" if not text or text.endswith("\n") else "\n"
        atomic_write(attrs, (text + sep + ATTRIBUTES_LINE + "\n").encode())
    git.run(
        ["config", "merge.gitml.name", "gitml.lock: keep ours, the commit hook regenerates it"],
        root,
    )
    git.run(["config", "merge.gitml.driver", "true"], root)


def install_native(root: Path) -> None:
    installed = hook_install.install_native(root)
    say(f"hooks installed in {installed}")
    unchained = hook_install.unchained_shared_hooks(root)
    if unchained:
        warn(hook_install.chain_instructions(root, unchained))
