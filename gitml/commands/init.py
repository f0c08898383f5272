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
from gitml.ci_templates import CI_FILES, CI_TEMPLATES, render
from gitml.config import CONFIG_FILE
from gitml.errors import BadInput
from gitml.fileio import atomic_write, dump_yaml, regular_file_text
from gitml.hookfast import HOOKS
from gitml.lockfile import LOCK_FILE
from gitml.output import say, warn
from gitml.resources import resource

MARKER = "gitml-hook:"
LEGACY_SUFFIX = ".gitml-legacy"
ATTRIBUTES_LINE = f"{LOCK_FILE} merge=gitml"


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
        unchained = unchained_shared_hooks(root)
        if unchained:
            warn(chain_instructions(root, unchained))
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


# A team's hooks folder in the work tree (core.hooksPath = .githooks) is shared through git:
# gitml's shims, which carry this machine's interpreter path, go to a per-clone folder instead,
# and the team's hooks call them with this snippet (no machine path in it: safe to commit).
CHAIN_MARKER = "gitml-chain:"
CHAIN_SNIPPET = (
    f"# {CHAIN_MARKER} run gitml's hooks of this clone, where `gitml init` installed them\n"
    'gitml_hook="$(git rev-parse --git-common-dir)/gitml/hooks/$(basename "$0")"\n'
    'if [ -x "$gitml_hook" ]; then "$gitml_hook" "$@" || exit $?; fi\n'
)


def shared_hooks_dir(root: Path, directory: Path) -> bool:
    """Whether git runs hooks from a folder of the work tree (shared with the team by git)."""
    try:
        rel = directory.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return not (rel.parts and rel.parts[0] == ".git")


def per_clone_hooks_dir(root: Path) -> Path:
    _, common = git.toplevel_and_common_dir(root)
    return common / "gitml" / "hooks"


def unchained_shared_hooks(root: Path) -> list[str]:
    """The hooks of a shared hooks folder that do not call gitml's per-clone shims yet."""
    from gitml.hookfast import HOOKS

    directory = hooks_dir(root)
    if not shared_hooks_dir(root, directory):
        return []
    missing = []
    for name in HOOKS:
        path = directory / name
        text = path.read_text(errors="replace") if path.is_file() else ""
        if CHAIN_MARKER not in text:
            missing.append(name)
    return missing


def chain_instructions(root: Path, names: list[str]) -> str:
    directory = hooks_dir(root)
    shown = directory.relative_to(root) if directory.is_relative_to(root) else directory
    return (
        f"core.hooksPath is {shown}, a folder of your work tree that git shares with your team: "
        f"gitml installed its hooks in {per_clone_hooks_dir(root)} (this clone only) and did "
        f"not touch {shown}. They run once the team's hooks call them: add these lines near the "
        f"top of {', '.join(str(shown / n) for n in names)} (create the missing ones, "
        "`#!/bin/sh` first, executable) and commit them; clones without gitml skip them.\n"
        + CHAIN_SNIPPET
    )


def shim(hook: str) -> str:
    template = resource("hooks/hook-tmpl").read_text()
    return template.replace("@HOOK_NAME@", hook).replace("@PYTHON@", sh_quote(sys.executable))


def install_native(root: Path) -> Path:
    target = hooks_dir(root)
    if shared_hooks_dir(root, target):  # no machine path into files the team shares
        target = per_clone_hooks_dir(root)
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
    text = render(root, ci)
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
