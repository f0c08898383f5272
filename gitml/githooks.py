"""The git hooks gitml answers, and how to read what git hands a hook.

Names, the per-clone marker files the hooks leave each other, HEAD's reflog after a commit and
the index git hands the pre-commit hook. Stdlib only: the hook entry point's fast path uses it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gitml import git

# The git hooks gitml installs a shim for (`gitml init`) and the hook entry point answers.
GIT_HOOKS = (
    "pre-commit",
    "pre-merge-commit",
    "post-commit",
    "pre-push",
    "post-checkout",
    "post-merge",
    "post-rewrite",
    "post-applypatch",
)
# Hooks that run after git did its work: a non-zero exit changes nothing, and a failing
# post-checkout breaks interactive rebases, so they say their piece and exit 0.
AFTER_THE_FACT = ("post-checkout", "post-merge", "post-rewrite", "post-applypatch", "post-commit")
# The hooks that put the data of the new HEAD into the work tree.
RESTORING_HOOKS = ("post-checkout", "post-merge", "post-rewrite", "post-applypatch")

# Per-clone marker (under the state directory) that pre-commit leaves for post-commit: the
# blob of gitml.lock it staged into a temporary index (`git commit -- paths`), for post-commit
# to put into the real index. The shim checks for it too.
POST_COMMIT_SYNC = "post-commit-sync"

# How HEAD's reflog names a commit that takes another commit's changes, data included: git runs
# post-commit (no post-checkout) for `git cherry-pick` and `git revert`, so the data is restored
# there. A plain `git commit` records the work tree as it is: nothing to restore.
RESTORING_COMMITS = ("cherry-pick", "revert", "commit (cherry-pick)")


def restoring_commit(root: Path) -> bool:
    """Whether HEAD was just made by a cherry-pick or a revert (HEAD's last reflog entry)."""
    proc = git.run(["reflog", "-1", "--format=%gs", "HEAD"], root, check=False)
    subject = proc.stdout.decode(errors="replace")
    return any(subject.startswith(f"{kind}: ") for kind in RESTORING_COMMITS)


def merge_commit_at_head(root: Path) -> bool:
    """Whether HEAD has a second parent (a commit that concluded a merge)."""
    proc = git.run(["rev-parse", "--verify", "--quiet", "HEAD^2"], root, check=False)
    return proc.returncode == 0


def index_name(environ: Mapping[str, str] | None = None) -> str:
    """The file name of the index git handed the hook: `index` for a plain commit, `index.lock`
    (renamed into place after the commit) for `-a`/`-i`, a temporary `next-index-PID.lock` for
    `git commit -- paths`."""
    env = os.environ if environ is None else environ
    return os.path.basename(env.get("GIT_INDEX_FILE") or "index")


def temporary_index(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the hook was handed a temporary index (`git commit -- paths`): only then must
    post-commit put the committed gitml.lock into the real index; otherwise post-commit stays
    on the shim's fast path."""
    return index_name(environ) not in ("index", "index.lock")
