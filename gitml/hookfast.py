"""The installed hooks' entry point: decides in a few milliseconds whether there is work.

Imports nothing but the standard library and gitml's stdlib-only modules (git, githooks,
keyfiles, watchlist) until it knows the commit touches something gitml tracks; only then does it
load the slow path, gitml.hook_run. Stands beside gitml.cli, the other entry point.
Run as `python -m gitml.hookfast HOOK [GIT ARGS…]` (the shims) or `gitml-hook HOOK …`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from gitml import git, githooks, watchlist


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
    """post-commit syncs the index after `git commit -- paths` and restores after a merge, a
    cherry-pick or a revert."""
    try:
        root, common = git.toplevel_and_common_dir()
    except Exception:
        return False
    if (common / "gitml" / githooks.POST_COMMIT_SYNC).exists():
        return True
    return githooks.merge_commit_at_head(root) or githooks.restoring_commit(root)


def _nothing_to_do(hook: str, rest: list[str]) -> tuple[bool, tuple[Path, Path] | None]:
    """Whether the hook has nothing to do, decided without the slow path (and the repository,
    when it was found on the way)."""
    if hook in ("pre-commit", "pre-merge-commit"):
        return _nothing_to_commit_check()
    if hook == "post-commit":
        return not _post_commit_has_work(), None
    if hook == "post-checkout":
        # a file checkout (`git checkout -- path`): never restore data for it
        return len(rest) >= 3 and rest[2] == "0", None
    return False, None


def _nothing_to_commit_check() -> tuple[bool, tuple[Path, Path] | None]:
    """(whether the commit hook has nothing to do, the repository as found on the way)."""
    try:
        found = git.toplevel_and_common_dir()
    except Exception:
        return False, None  # the slow path reports errors properly
    try:
        return watchlist.nothing_to_check(*found), found
    except Exception:
        return False, found


def skipped() -> bool:
    return os.environ.get("GITML_SKIP", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in githooks.GIT_HOOKS:
        print(f"usage: gitml-hook {{{','.join(githooks.GIT_HOOKS)}}} [ARGS...]", file=sys.stderr)
        return 2
    hook, rest = args[0], args[1:]
    if skipped():
        return 0
    if "--framework" in rest:
        hook, rest = framework_args(hook, rest, os.environ)
    nothing, found = _nothing_to_do(hook, rest)
    if nothing:
        return 0
    from gitml.hook_run import run_hook
    from gitml.repo import Repo

    return run_hook(hook, rest, Repo(*found) if found else None)


if __name__ == "__main__":
    raise SystemExit(main())
