"""What a push sends: the refs git names on the pre-push hook's stdin (or the one ref the
pre-commit framework passes), the commits they bring to the remote, and which of those are
from gitml's time (they or an ancestor had a gitml.lock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gitml import git
from gitml.lockfile import LOCK_FILE

ZERO = git.ZERO_SHA


@dataclass(frozen=True)
class Update:
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_updates(data: bytes) -> list[Update]:
    """git's pre-push stdin: `<local ref> <local sha> <remote ref> <remote sha>` lines."""
    updates = []
    for line in data.decode(errors="replace").splitlines():
        parts = line.rsplit(maxsplit=3)
        if len(parts) == 4:
            updates.append(Update(*parts))
    return updates


def framework_updates(root: Path, env: Mapping[str, str]) -> list[Update]:
    """The one ref pre-commit hands its pre-push hooks, through its environment variables.

    pre-commit sets FROM_REF/TO_REF except when the push includes a root commit; then only the
    local branch is known, and the whole history of that branch is what is pushed.
    """
    to_ref = _first(env, "PRE_COMMIT_TO_REF", "PRE_COMMIT_SOURCE")
    local_ref = _first(env, "PRE_COMMIT_LOCAL_BRANCH")
    if not to_ref and local_ref:
        to_ref = peeled_commit(root, local_ref) or ""
    if not to_ref:
        return []
    from_ref = _first(env, "PRE_COMMIT_FROM_REF", "PRE_COMMIT_ORIGIN") or ZERO
    remote_ref = _first(env, "PRE_COMMIT_REMOTE_BRANCH")
    return [Update(local_ref or to_ref, to_ref, remote_ref, from_ref)]


def _first(env: Mapping[str, str], *names: str) -> str:
    """The first of the variables that is set and not empty ("" when none is)."""
    return next((env[n] for n in names if env.get(n)), "")


def peeled_commit(root: Path, rev: str) -> str | None:
    """`rev` peeled to a commit; None when it names nothing here or a tree/blob."""
    proc = git.run(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        root,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() or None


@dataclass(frozen=True)
class Pushed:
    commit: str
    tree: str
    parents: tuple[str, ...]


@dataclass(frozen=True)
class Push:
    """What one `git push` sends to one remote."""

    remote_name: str  # "" when git gave none (a URL)
    tips: list[tuple[str, str]]  # (local ref, commit) of every pushed ref, deletions left out
    bases: list[str]  # the commits the remote had at those refs
    commits: list[Pushed]  # every commit not yet on the remote, children before parents
    since_gitml: set[str]  # those that are gitml's to judge (`since_gitml`)


def read_push(root: Path, args: list[str], stdin: BinaryIO, env: Mapping[str, str]) -> Push | None:
    """The push the pre-push hook was called for (None: nothing is pushed that gitml judges).

    `args`: git's (remote name, url), or `--framework` under the pre-commit framework, which
    passes the ref through PRE_COMMIT_* variables instead of stdin.
    """
    framework = "--framework" in args
    rest = [a for a in args if a != "--framework"]
    if framework:
        remote_name = env.get("PRE_COMMIT_REMOTE_NAME") or (rest[0] if rest else "")
        updates = framework_updates(root, env)
    else:
        remote_name = rest[0] if rest else ""
        updates = parse_updates(stdin.read())
    tips, bases = _tips_and_bases(root, updates)
    if not tips:
        return None
    tip_commits = list(dict.fromkeys(t for _, t in tips))
    commits = pushed_commits(root, remote_name, tip_commits, bases)
    if not commits:
        return None
    since = since_gitml(root, remote_name, tip_commits, bases, commits)
    return Push(remote_name, tips, bases, commits, since)


def _tips_and_bases(root: Path, updates: list[Update]) -> tuple[list[tuple[str, str]], list[str]]:
    tips: list[tuple[str, str]] = []
    bases: list[str] = []
    for u in updates:
        if u.local_sha == ZERO:
            continue  # a deletion
        commit = peeled_commit(root, u.local_sha)
        if commit is None:
            continue  # a tag of a tree or a blob: no commit, nothing of gitml's
        tips.append((u.local_ref, commit))
        if u.remote_sha != ZERO and (base := peeled_commit(root, u.remote_sha)):
            bases.append(base)
    return tips, bases


def _excluded(remote_name: str, bases: list[str]) -> list[str]:
    return [*bases, f"--remotes={remote_name}"] if remote_name else bases


def pushed_commits(root: Path, remote_name: str, tips: list[str], bases: list[str]) -> list[Pushed]:
    """Every commit reachable from a tip and not yet on the remote, children before parents.

    "On the remote": reachable from a remote sha git reported, or from a remote-tracking ref of
    this remote (a new branch on a remote that has never been fetched: the whole history).
    """
    exclude = _excluded(remote_name, bases)
    proc = git.run(
        ["rev-list", "--topo-order", "--format=%H %T %P", *tips, "--not", *exclude, "--"], root
    )
    result = []
    for line in proc.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] != "commit":
            result.append(Pushed(parts[0], parts[1], tuple(parts[2:])))
    return result


def since_gitml(
    root: Path, remote_name: str, tips: list[str], bases: list[str], commits: list[Pushed]
) -> set[str]:
    """The pushed commits that are not from before gitml: the commit or one of its ancestors
    had a gitml.lock. A history that deleted it (`git rm gitml.lock`, --no-verify) stays one
    gitml judges. A commit that had one, or deleted it, changes the path: git finds them in one
    walk (--full-history: no side branch of a merge is left out); a parent already on the
    remote is asked once."""
    exclude = _excluded(remote_name, bases)
    proc = git.run(["rev-list", "--full-history", *tips, "--not", *exclude, "--", LOCK_FILE], root)
    touched = set(proc.stdout.decode().split())
    pushed = {p.commit for p in commits}
    outside: dict[str, bool] = {}

    def had_lock_before(parent: str) -> bool:
        if parent not in outside:
            found = git.run(
                ["rev-list", "-1", "--full-history", parent, "--", LOCK_FILE], root
            ).stdout.strip()
            outside[parent] = bool(found)
        return outside[parent]

    since: set[str] = set()
    for p in reversed(commits):  # parents before children
        if p.commit in touched or any(
            (q in since) if q in pushed else had_lock_before(q) for q in p.parents
        ):
            since.add(p.commit)
    return since
