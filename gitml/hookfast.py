"""The installed hooks' entry point: decides in a few milliseconds whether there is work.

Imports nothing but the standard library and gitml's stdlib-only modules until it knows the
commit touches something gitml tracks; only then does it load the slow path.
Run as `python -m gitml.hookfast HOOK [GIT ARGS…]` (the shims) or `gitml-hook HOOK …`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from gitml import git
from gitml.snapshot import is_key_file

HOOKS = (
    "pre-commit",
    "pre-merge-commit",
    "post-commit",
    "pre-push",
    "post-checkout",
    "post-merge",
    "post-rewrite",
)
WATCH_FILE = "watch.json"


def _watch_path(common_dir: Path) -> Path:
    return common_dir / "gitml" / WATCH_FILE


def key_file_shas(root: Path) -> dict[str, str]:
    """{path: blob sha} of the staged files the watch-list is computed from."""
    patterns = ("dvc.yaml", "dvc.lock", "*.dvc", "gitml.yaml", "gitml.lock")
    return git.index_entries(root, [f":(glob)**/{p}" for p in patterns])


def nothing_to_commit_check(root: Path, common_dir: Path) -> bool:
    """True when the staged change touches nothing gitml watches and the watch-list is current."""
    staged = git.staged_names(root)
    if any(is_key_file(p) for p in staged):
        return False
    try:
        watch = json.loads(_watch_path(common_dir).read_bytes())
        watched = set(watch["watched"])
        keys = watch["keys"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    for path in staged:
        parts = path.split("/")
        if any("/".join(parts[:i]) in watched for i in range(1, len(parts) + 1)):
            return False
    # The watch-list was computed from these key files; if they differ (another branch), redo it.
    return bool(key_file_shas(root) == keys)


def framework_args(hook: str, rest: list[str], environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Under the pre-commit framework, the restoring hooks' arguments as git gives them natively.

    pre-commit passes them as PRE_COMMIT_* variables, and one manifest hook (`gitml-restore`,
    entry `post-checkout`) serves post-checkout, post-merge and post-rewrite: the variable
    pre-commit set says which of them is running. Other hooks keep `--framework`.
    """
    if hook not in ("post-checkout", "post-merge", "post-rewrite"):
        return hook, rest
    if "PRE_COMMIT_CHECKOUT_TYPE" in environ:
        return "post-checkout", [
            environ.get("PRE_COMMIT_FROM_REF", ""),
            environ.get("PRE_COMMIT_TO_REF", ""),
            environ["PRE_COMMIT_CHECKOUT_TYPE"],
        ]
    if "PRE_COMMIT_REWRITE_COMMAND" in environ:
        return "post-rewrite", [environ["PRE_COMMIT_REWRITE_COMMAND"]]
    if "PRE_COMMIT_IS_SQUASH_MERGE" in environ:
        return "post-merge", [environ["PRE_COMMIT_IS_SQUASH_MERGE"]]
    return hook, []


def _post_commit_has_work() -> bool:
    """post-commit syncs the index after `git commit -- paths` and restores after a merge."""
    try:
        root, common = git.toplevel_and_common_dir()
    except Exception:
        return False
    if (common / "gitml" / "post-commit-sync").exists():
        return True
    return (
        git.run(["rev-parse", "--verify", "--quiet", "HEAD^2"], root, check=False).returncode == 0
    )


def skipped() -> bool:
    return os.environ.get("GITML_SKIP", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in HOOKS:
        print(f"usage: gitml-hook {{{','.join(HOOKS)}}} [ARGS...]", file=sys.stderr)
        return 2
    hook, rest = args[0], args[1:]
    if skipped():
        return 0
    if "--framework" in rest:
        hook, rest = framework_args(hook, rest, os.environ)
    if hook in ("pre-commit", "pre-merge-commit"):
        try:
            root, common = git.toplevel_and_common_dir()
            if nothing_to_commit_check(root, common):
                return 0
        except Exception:
            pass  # the slow path reports errors properly
    if hook == "post-commit" and not _post_commit_has_work():
        return 0
    if hook == "post-checkout" and len(rest) >= 3 and rest[2] == "0":
        return 0  # a file checkout (`git checkout -- path`): never restore data for it
    from gitml.commands.hook import run_hook

    return run_hook(hook, rest)


if __name__ == "__main__":
    raise SystemExit(main())
