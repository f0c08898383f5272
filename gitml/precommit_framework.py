"""`gitml init --hooks pre-commit`: gitml's hooks run by the pre-commit framework.

gitml's hooks go into `.pre-commit-config.yaml` (gitml.precommit_config), gitml's own native
shims come out (the framework would chain them and run gitml twice), and `pre-commit install`
installs every hook type gitml needs. Refused up front where `pre-commit install` would refuse.
The caller stages the config (`gitml init` stages its files together and says what that staged:
in a clone that has them committed, nothing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitml import git, hook_install
from gitml.errors import BadInput
from gitml.fileio import atomic_write, regular_file_text
from gitml.notes import EDGE, Teller
from gitml.precommit_config import merged
from gitml.precommit_hooks import CONFIG, FRAMEWORK_HOOKS, HOOK_TYPES


def refuse_hooks_path(root: Path) -> None:
    """`pre-commit install` refuses when core.hooksPath is set: say so before changing anything."""
    proc = git.run(["config", "--show-scope", "--get", "core.hooksPath"], root, check=False)
    if proc.returncode != 0:
        return
    scope, _, value = proc.stdout.decode().strip().partition("\t")
    raise BadInput(hooks_path_message(scope, value))


def hooks_path_message(scope: str, value: str) -> str:
    flag = f"--{scope} " if scope in ("global", "system", "worktree") else ""
    return (
        f"core.hooksPath is set ({value}, in your {scope} git config) and `pre-commit install` "
        "refuses to install hooks then. Either unset it "
        f"(`git config {flag}--unset-all core.hooksPath`) and run `gitml init --hooks "
        "pre-commit` again, or use gitml's native hooks (`gitml init`), which install into a "
        "repository-level core.hooksPath."
    )


def run_install(root: Path) -> None:
    types = [arg for t in HOOK_TYPES for arg in ("-t", t)]
    cmd = [sys.executable, "-m", "pre_commit", "install", "--allow-missing-config", *types]
    proc = subprocess.run(
        cmd, cwd=root, env=git.no_git_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BadInput(f"`pre-commit install` failed: {(proc.stdout + proc.stderr).strip()}")


def install_framework(root: Path, tell: Teller = EDGE) -> None:
    refuse_hooks_path(root)
    path = root / CONFIG
    text = regular_file_text(path, CONFIG) if path.exists() or path.is_symlink() else None
    new = merged(text)
    if new is None:
        tell.say(f"{CONFIG} already runs gitml's hooks")
    else:
        atomic_write(path, new.encode())
        tell.say(
            f"{'added' if text is None else 'merged'} gitml's hooks in {CONFIG} "
            f"({', '.join(h.id for h in FRAMEWORK_HOOKS)}; hook types {', '.join(HOOK_TYPES)})"
        )
    removed = hook_install.remove_native(root)
    if removed:
        tell.say(f"removed gitml's native hooks ({', '.join(removed)}): pre-commit runs gitml now")
    run_install(root)
    tell.say(f"pre-commit installed for {', '.join(HOOK_TYPES)}")
