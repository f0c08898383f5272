"""The native hooks `gitml init` installs: tiny sh shims, one per git hook gitml answers.

A shim carries a marker (so gitml recognises its own), the absolute path of the interpreter
gitml was installed with (commits from an IDE do not have the venv on PATH), and the key-file
list of gitml.keyfiles, written in at install time. A hook that was there before is kept as
HOOK.gitml-legacy and runs first. A hooks folder shared through the work tree (core.hooksPath
= .githooks) gets no machine path: the shims go to a per-clone folder, which the team's hooks
call (CHAIN_SNIPPET).
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

from gitml import git, keyfiles
from gitml.errors import BadInput
from gitml.fileio import atomic_write
from gitml.githooks import GIT_HOOKS
from gitml.notes import EDGE, Teller
from gitml.resources import resource

MARKER = "gitml-hook:"
LEGACY_SUFFIX = ".gitml-legacy"
TEMPLATE = "hooks/hook-tmpl"
_PYTHON_LINE = re.compile(r"^GITML_PYTHON=(.+?)[ \t]*$", re.MULTILINE)

# A team's hooks folder in the work tree (core.hooksPath = .githooks) is shared through git:
# gitml's shims, which carry this machine's interpreter path, go to a per-clone folder instead,
# and the team's hooks call them with this snippet (no machine path in it: safe to commit).
CHAIN_MARKER = "gitml-chain:"
CHAIN_SNIPPET = (
    f"# {CHAIN_MARKER} run gitml's hooks of this clone, where `gitml init` installed them\n"
    'gitml_hook="$(git rev-parse --git-common-dir)/gitml/hooks/$(basename "$0")"\n'
    'if [ -x "$gitml_hook" ]; then "$gitml_hook" "$@" || exit $?; fi\n'
)


def hooks_dir(root: Path) -> Path:
    """Where git runs hooks from: honours a repo-level core.hooksPath, refuses a global one."""
    proc = git.run(["config", "--show-scope", "--get", "core.hooksPath"], root, check=False)
    if proc.returncode == 0:
        scope, _, value = proc.stdout.decode().strip().partition("\t")
        if scope in ("global", "system"):
            raise BadInput(
                f"core.hooksPath is set in your {scope} git config ({value}): installing there "
                "would put gitml's hooks in every repository. Set it for this repository only "
                "(`git config core.hooksPath …`) or unset it, or use "
                "`gitml init --hooks pre-commit`."
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
    directory = hooks_dir(root)
    if not shared_hooks_dir(root, directory):
        return []
    missing = []
    for name in GIT_HOOKS:
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


def shim(hook: str, python: str | None = None) -> str:
    """The shim for `hook`, calling gitml through `python` (default: this interpreter)."""
    template = resource(TEMPLATE).read_text()
    values = {
        "@HOOK_NAME@": hook,
        "@PYTHON@": sh_quote(python or sys.executable),
        "@KEY_FILES_REGEX@": sh_quote(keyfiles.shim_regex()),
        "@KEY_FILES_PATHSPECS@": " ".join(sh_quote(p) for p in keyfiles.LISTING_PATHSPECS),
    }
    for slot, value in values.items():
        template = template.replace(slot, value)
    return template


def installed_python(text: str) -> str | None:
    """The interpreter an installed shim calls gitml with; None when it names none."""
    match = _PYTHON_LINE.search(text)
    return sh_unquote(match.group(1)) if match else None


def shim_is_current(text: str, hook: str) -> bool:
    """Whether an installed shim is the one this gitml writes (for its interpreter): a shim of
    another gitml version may watch another list of key files."""
    return text == shim(hook, installed_python(text))


def install_native(root: Path, tell: Teller = EDGE) -> Path:
    """Write gitml's shims (a hook already there is kept and chained); the folder they went to."""
    target = hooks_dir(root)
    if shared_hooks_dir(root, target):  # no machine path into files the team shares
        target = per_clone_hooks_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    for hook in GIT_HOOKS:
        path = target / hook
        if path.exists() and MARKER not in path.read_text(errors="replace"):
            legacy = path.with_name(hook + LEGACY_SUFFIX)
            if legacy.exists():
                raise BadInput(
                    f"{path} and {legacy} both exist: move one away, then run init again"
                )
            os.replace(path, legacy)
            tell.say(f"kept your existing {hook} hook: it runs first ({legacy.name})")
        atomic_write(path, shim(hook).encode())
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def remove_native(root: Path) -> list[str]:
    """Take out gitml's own native shims (pre-commit would chain them and run gitml twice),
    putting back the hook each one had chained, for pre-commit to chain instead."""
    removed = []
    target = hooks_dir(root)
    for name in GIT_HOOKS:
        path = target / name
        if path.is_file() and MARKER in path.read_text(errors="replace"):
            path.unlink()
            removed.append(name)
            legacy = path.with_name(name + LEGACY_SUFFIX)
            if legacy.exists():
                os.replace(legacy, path)
    return removed
