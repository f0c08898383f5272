"""`gitml init`: DVC if needed, gitml.yaml from what the project declares, hooks, merge driver."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from gitml import discover, git
from gitml import repo as repo_mod
from gitml.config import CONFIG_FILE
from gitml.errors import BadInput
from gitml.fileio import atomic_write, dump_yaml, regular_file_text
from gitml.hookfast import HOOKS
from gitml.manifest import LOCK_FILE
from gitml.output import say, warn
from gitml.resources import resource

MARKER = "gitml-hook:"
LEGACY_SUFFIX = ".gitml-legacy"
ATTRIBUTES_LINE = f"{LOCK_FILE} merge=gitml"


CI_FILES = {"github": ".github/workflows/gitml.yml", "gitlab": ".gitlab-ci.yml"}
CI_TEMPLATES = {"github": "templates/ci/github.yml", "gitlab": "templates/ci/gitlab-ci.yml"}


def init(hooks: str = "git", ci: str | None = None) -> int:
    if ci is not None and ci not in CI_FILES:
        raise BadInput(f"--ci must be `github` or `gitlab`, not {ci!r}")
    repo = repo_mod.find()
    root = repo.root
    if not repo.has_dvc:
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
    if not regular_file_text(root / CONFIG_FILE, CONFIG_FILE):
        found = discover.discover(root)
        for problem in found.warnings:
            warn(problem)
        atomic_write(root / CONFIG_FILE, config_text(found).encode())
        say(
            f"wrote {CONFIG_FILE} ({len(found.models)} model(s), {len(found.data)} dataset(s) "
            "found in the DVC files; edit it)"
        )
    else:
        from gitml import config

        config.parse((root / CONFIG_FILE).read_bytes())  # refuse to install over a broken one
    merge_driver(root)
    if hooks == "git":
        installed = install_native(root)
        say(f"hooks installed in {installed}")
    elif hooks == "pre-commit":
        from gitml.commands.precommit_config import install_framework

        install_framework(root)
    else:
        raise BadInput(f"--hooks must be `git` or `pre-commit`, not {hooks!r}")
    ci_file = [write_ci(root, ci)] if ci is not None else []
    git.run(["add", "--", CONFIG_FILE, ".gitattributes", *ci_file], root)
    say(f"staged {CONFIG_FILE} and .gitattributes: the next commit records {LOCK_FILE}")
    return 0


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
        atomic_write(
            attrs,
            (
                text + ("" if not text or text.endswith("\n") else "\n") + ATTRIBUTES_LINE + "\n"
            ).encode(),
        )
    git.run(
        ["config", "merge.gitml.name", "gitml.lock: keep ours, the commit hook regenerates it"],
        root,
    )
    git.run(["config", "merge.gitml.driver", "true"], root)


def hooks_dir(root: Path) -> Path:
    """Where git runs hooks from: honours a repo-level core.hooksPath, refuses a global one."""
    proc = git.run(["config", "--show-scope", "--get", "core.hooksPath"], root, check=False)
    if proc.returncode == 0:
        scope, _, value = proc.stdout.decode().strip().partition("\t")
        if scope in ("global", "system"):
            raise BadInput(
                f"core.hooksPath is set in your {scope} git config ({value}): installing there "
                "would put gitml's hooks in every repository. Set it for this repository only "
                "(`git config core.hooksPath …`) or unset it, or use `gitml init --hooks pre-commit`."
            )
    path = Path(git.out(["rev-parse", "--git-path", "hooks"], root))
    return path if path.is_absolute() else root / path


def sh_quote(text: str) -> str:
    """`text` as one sh word, always in single quotes (`'` as `'"'"'`): any interpreter path,
    `o'brien dir/` included, and the form `gitml doctor` reads back (`sh_unquote`)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def sh_unquote(word: str) -> str | None:
    """The text of a word `sh_quote` wrote; None for anything else."""
    parts = re.fullmatch(r"(?:'[^']*'|\"'\")+", word)
    return "".join(p[1:-1] for p in re.findall(r"'[^']*'|\"'\"", word)) if parts else None


def shim(hook: str) -> str:
    template = resource("hooks/hook-tmpl").read_text()
    return template.replace("@HOOK_NAME@", hook).replace("@PYTHON@", sh_quote(sys.executable))


def install_native(root: Path) -> Path:
    target = hooks_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    for hook in HOOKS:
        path = target / hook
        if path.exists() and MARKER not in path.read_text(errors="replace"):
            legacy = path.with_name(hook + LEGACY_SUFFIX)
            if legacy.exists():
                raise BadInput(
                    f"{path} and {legacy} both exist: move one away, then run init again"
                )
            os.replace(path, legacy)
            say(f"kept your existing {hook} hook: it runs first ({legacy.name})")
        atomic_write(path, shim(hook).encode())
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def write_ci(root: Path, ci: str) -> str:
    """The CI file for `ci`; an identical one is left as it is, a different one never replaced."""
    rel = CI_FILES[ci]
    target = root / rel
    text = resource(CI_TEMPLATES[ci]).read_bytes()
    if target.exists():
        if target.read_bytes() == text:
            say(f"{rel} is already gitml's CI file")
        else:
            say(
                f"kept your {rel} (it differs from gitml's): compare with `gitml init --ci {ci}` "
                f"in an empty repository, or merge {CI_TEMPLATES[ci]} from gitml by hand"
            )
        return rel
    atomic_write(target, text)
    say(f"wrote {rel}")
    return rel
