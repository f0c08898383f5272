"""What `gitml lineage` exports, in either format: the commits asked for (one, a range, or the
whole history, oldest first), each with its author and committer, the DVC stages its dvc.lock
records and its gitml.lock (absent for a commit made before gitml).

The formats are gitml/openlineage_events.py (OpenLineage RunEvents) and gitml/prov_document.py
(W3C PROV-JSON); both name a stage run by `run_id`, a UUID derived from (commit, stage), so that
exporting twice gives the same documents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gitml import dvcfiles, git, lockfile
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE, Lock
from gitml.snapshot import Snapshot

# The namespace of the run ids: fixed, so a run id depends on (commit, stage) alone.
_RUN_IDS = uuid.UUID("5f0c7d2e-8a57-4a43-9b1e-2d6f3f0b9c11")
_FIELDS = ("%H", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%s")


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: str  # ISO 8601, as git records it


@dataclass(frozen=True)
class Origin:
    """Where the repository lives: the job namespace of its events, and the git URL."""

    namespace: str  # the remote's URL, or gitml://<the repository's directory name>
    repo_url: str | None  # the remote's URL (None: no remote)


@dataclass(frozen=True)
class CommitLineage:
    """One commit: who made it, what its dvc.lock stages ran, what its gitml.lock recorded."""

    sha: str
    subject: str
    author: Person
    committer: Person
    project: dvcfiles.Project
    lock: Lock | None  # None: the commit has no gitml.lock
    snap: Snapshot  # its files (suites, params)

    def stages(self) -> list[dvcfiles.Stage]:
        return [self.project.stages[name] for name in sorted(self.project.stages)]


def run_id(commit: str, stage: str) -> str:
    """The id of the run of `stage` at `commit`: the same every time it is exported."""
    return str(uuid.uuid5(_RUN_IDS, f"{commit}\0{stage}"))


def without_credentials(url: str) -> str:
    """A remote URL without the user:password part a https URL may carry (scp-like `git@host:`
    and local paths are kept as they are)."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    netloc = f"{user}@{host}" if parts.scheme == "ssh" else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def origin(root: Path) -> Origin:
    """`origin`'s URL (else the first remote's), credentials removed; gitml://NAME without."""
    remotes = git.out(["remote"], root).split()
    if not remotes:
        return Origin(f"gitml://{root.name}", None)
    name = "origin" if "origin" in remotes else remotes[0]
    url = git.config_get(root, f"remote.{name}.url")
    if not url:
        return Origin(f"gitml://{root.name}", None)
    clean = without_credentials(url)
    return Origin(clean, clean)


def _log_args(root: Path, rev: str | None, history: bool) -> list[str]:
    """`git log` arguments for the commits asked for: REV alone, a range A..B, or (`history`)
    every commit of REV's history."""
    if rev is not None and ".." in rev:
        if history:
            raise BadInput("give a revision range or --all, not both")
        start, end = rev.split("..", 1)
        if end.startswith("."):  # A...B: a symmetric difference is no history
            raise BadInput(f"{rev!r}: give a range as A..B")
        ends = [git.resolve_commit(root, r) for r in (start or "HEAD", end or "HEAD")]
        return ["--reverse", "--topo-order", f"{ends[0]}..{ends[1]}"]
    commit = git.resolve_commit(root, rev or "HEAD")
    return ["--reverse", "--topo-order", commit] if history else ["-1", commit]


def commits(root: Path, rev: str | None, history: bool) -> list[CommitLineage]:
    """The commits asked for, oldest first, each read from git (nothing is checked out)."""
    args = _log_args(root, rev, history)
    fmt = "--format=" + "%x1f".join(_FIELDS) + "%x1e"
    text = git.run(["log", fmt, *args], root).stdout.decode(errors="replace")  # names: any bytes
    found = []
    for record in text.split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == len(_FIELDS):
            found.append(_commit(root, fields))
    return found


def _commit(root: Path, fields: list[str]) -> CommitLineage:
    sha, an, ae, ad, cn, ce, cd, subject = fields
    snap = Snapshot(root, sha)
    data = snap.read(LOCK_FILE)
    lock = lockfile.parse(data, f"{LOCK_FILE} at {sha[:12]}") if data is not None else None
    return CommitLineage(
        sha=sha,
        subject=subject,
        author=Person(an, ae, ad),
        committer=Person(cn, ce, cd),
        project=dvcfiles.read_project(snap),
        lock=lock,
        snap=snap,
    )


def kind_of(lin: CommitLineage, path: str) -> str:
    """What a stage's dep or out is: a model (gitml.yaml `models:`), a dataset (DVC-tracked, or
    gitml.yaml `data:`) or code (any other file: git tracks it, dvc.lock records its md5)."""
    lock = lin.lock
    if lock is not None and path in lock.models:
        return "model"
    if (lock is not None and path in lock.data) or path in lin.project.outs:
        return "dataset"
    return "code"
