"""The installed hooks' entry point: decides in a few milliseconds whether there is work.

Imports nothing but the standard library and gitml's stdlib-only modules until it knows the
commit touches something gitml tracks; only then does it load the slow path.
Run as `python -m gitml.hookfast HOOK [GIT ARGS…]` (the shims) or `gitml-hook HOOK …`.
"""

from __future__ import annotations

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
    "post-applypatch",
)
# How HEAD's reflog names a commit that takes another commit's changes, data included: git runs
# post-commit (no post-checkout) for `git cherry-pick` and `git revert`, so the data is restored
# there. A plain `git commit` records the work tree as it is: nothing to restore.
RESTORING_COMMITS = ("cherry-pick", "revert", "commit (cherry-pick)")
# The watch-list, as plain text so that the hook shim (sh) reads it too: the watched paths one
# per line, and the exact output of `git ls-files -s -- KEY_PATHSPECS` they were computed from.
# The keys file is written last: it is what makes a new paths file current.
WATCH_PATHS = "watch-paths.txt"
WATCH_KEYS = "watch-keys.txt"
# Spelled out again, byte for byte, in hooks/hook-tmpl.
KEY_PATHSPECS = tuple(
    f":(glob)**/{p}" for p in ("dvc.yaml", "dvc.lock", "*.dvc", "gitml.yaml", "gitml.lock")
)


def key_files_listing(root: Path) -> bytes:
    """`git ls-files -s` of the staged files the watch-list is computed from."""
    return git.run(["ls-files", "-s", "--", *KEY_PATHSPECS], root).stdout


def nothing_to_commit_check(root: Path, common_dir: Path) -> bool:
    """True when the staged change touches nothing gitml watches and the watch-list is current."""
    staged = git.staged_names(root)
    if any(is_key_file(p) for p in staged):
        return False
    state = common_dir / "gitml"
    try:
        watched = set((state / WATCH_PATHS).read_text(encoding="utf-8").splitlines())
        keys = (state / WATCH_KEYS).read_bytes()
    except (OSError, ValueError):
        return False
    for path in staged:
        parts = path.split("/")
        if any("/".join(parts[:i]) in watched for i in range(1, len(parts) + 1)):
            return False
    # The watch-list was computed from these key files; if they differ (another branch), redo it.
    return key_files_listing(root) == keys


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
    if (common / "gitml" / "post-commit-sync").exists():
        return True
    if git.run(["rev-parse", "--verify", "--quiet", "HEAD^2"], root, check=False).returncode == 0:
        return True
    return restoring_commit(root)


def restoring_commit(root: Path) -> bool:
    """Whether HEAD was just made by a cherry-pick or a revert (HEAD's last reflog entry)."""
    proc = git.run(["reflog", "-1", "--format=%gs", "HEAD"], root, check=False)
    subject = proc.stdout.decode(errors="replace")
    return any(subject.startswith(f"{kind}: ") for kind in RESTORING_COMMITS)


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
    found: tuple[Path, Path] | None = None
    if hook in ("pre-commit", "pre-merge-commit"):
        try:
            found = git.toplevel_and_common_dir()
            if nothing_to_commit_check(*found):
                return 0
        except Exception:
            pass  # the slow path reports errors properly
    if hook == "post-commit" and not _post_commit_has_work():
        return 0
    if hook == "post-checkout" and len(rest) >= 3 and rest[2] == "0":
        return 0  # a file checkout (`git checkout -- path`): never restore data for it
    from gitml.commands.hook import run_hook
    from gitml.repo import Repo

    return run_hook(hook, rest, Repo(*found) if found else None)


if __name__ == "__main__":
    raise SystemExit(main())
