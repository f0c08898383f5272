"""The versions of gitml.lock: every one in the history of a commit, one commit's, the staged
state's.

Reads every version of gitml.lock without checking anything out: one `git log` for the commits
that touched it, one `git cat-file --batch` for their contents, YAML through the C loader with
the (large, rarely changing) environment blocks parsed once per distinct text. Pure data in,
data out: gitml/modelhistory.py and gitml/versiondiff.py read them, the commands in
gitml/commands/{log,diff,report}.py render them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitml import git, lineage, lockfile, lockinputs
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.fileio import load_yaml
from gitml.hypotheses import TRAILER_FORMAT, Stated, stated
from gitml.lockfile import LOCK_FILE, Lock
from gitml.snapshot import Snapshot

STAGED = "staged"
_TOP_KEY = re.compile(rb"^[A-Za-z_][\w-]*:", re.MULTILINE)
_ENV_KEY = re.compile(rb"^  [^ \n#][^\n]*:[ \n]", re.MULTILINE)


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str  # committer date, ISO 8601
    subject: str
    claim: Stated = Stated()  # its Hypothesis:/Expected: trailers

    @property
    def short(self) -> str:
        return self.sha[:8]


@dataclass
class Version:
    """One state of gitml.lock: a commit's, or the staged one (`commit` None)."""

    commit: Commit | None
    lock: Lock
    snap: Snapshot | None = None

    @property
    def label(self) -> str:
        return self.commit.short if self.commit else STAGED


# --- reading gitml.lock fast -----------------------------------------------------------------


@dataclass
class LockParser:
    """Parses gitml.lock texts, reusing the parse of an environment block seen before."""

    envs: dict[bytes, Any] = field(default_factory=dict)
    whole: dict[bytes, Lock] = field(default_factory=dict)

    def parse(self, data: bytes, name: str) -> Lock:
        if data not in self.whole:
            self.whole[data] = self._parse(data, name)
        return self.whole[data]

    def _parse(self, data: bytes, name: str) -> Lock:
        try:
            doc = self._split_parse(data)
        except (yaml.YAMLError, ValueError, TypeError):
            doc = None  # not the layout gitml writes: the whole text, checked
        # The split parse skips the YAML-level checks of lockfile.parse, not the shape check: a
        # text it read that gitml would not have written (an entry that is no mapping, a path
        # that climbs out, an md5 that is not one) goes the checked way too, so log refuses it
        # as show does, with the same message.
        if doc is not None:
            try:
                return lockfile.from_document(doc, name)
            except BadInput:
                pass
        return lockfile.parse(data, name)  # the slow, checked path (and its message)

    def _split_parse(self, data: bytes) -> dict[str, Any] | None:
        starts = [m.start() for m in _TOP_KEY.finditer(data)]
        if not starts or starts[0] != 0:
            return None
        doc: dict[str, Any] = {}
        for begin, end in zip(starts, starts[1:] + [len(data)], strict=True):
            section = data[begin:end]
            if section.startswith(b"environments:\n"):
                doc["environments"] = self._environments(section[len(b"environments:\n") :])
            else:
                part = load_yaml(section)
                if not isinstance(part, dict):
                    return None
                doc.update(part)
        return doc

    def _environments(self, body: bytes) -> dict[str, Any]:
        starts = [m.start() for m in _ENV_KEY.finditer(body)]
        if not starts:
            return {}
        if starts[0] != 0:
            raise ValueError("unexpected environments layout")
        envs: dict[str, Any] = {}
        for begin, end in zip(starts, starts[1:] + [len(body)], strict=True):
            block = body[begin:end]
            if block not in self.envs:
                parsed = load_yaml(block)
                if not isinstance(parsed, dict) or len(parsed) != 1:
                    raise ValueError("unexpected environment block")
                self.envs[block] = parsed
            envs.update(self.envs[block])
        return envs


def read_objects(root: Path, names: list[str]) -> list[bytes | None]:
    """Objects by name (`<sha>:<path>` works) through one cat-file process; None when missing."""
    if not names:
        return []
    proc = git.run(["cat-file", "--batch"], root, input=("\n".join(names) + "\n").encode())
    data, pos = proc.stdout, 0
    found: list[bytes | None] = []
    for _ in names:
        eol = data.index(b"\n", pos)
        header = data[pos:eol].split()
        if len(header) < 3 or header[-1] == b"missing":
            found.append(None)
            pos = eol + 1
            continue
        size = int(header[2])
        found.append(data[eol + 1 : eol + 1 + size])
        pos = eol + 1 + size + 1
    return found


def lock_commits(root: Path, rev: str = "HEAD") -> list[Commit]:
    """The commits reachable from `rev` that changed gitml.lock, newest first."""
    proc = git.run(
        [
            "log",
            f"--format=%H%x1f%cI%x1f%s%x1f{TRAILER_FORMAT}%x1e",
            "--end-of-options",
            rev,
            "--",
            LOCK_FILE,
        ],
        root,
    )
    commits = []
    for record in proc.stdout.decode(errors="replace").split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) >= 5:  # a subject holding \x1f (hostile) stays one subject
            subject = "\x1f".join(fields[2:-2])
            commits.append(Commit(fields[0], fields[1], subject, stated(fields[-2], fields[-1])))
    return commits


@dataclass(frozen=True)
class History:
    """The versions of gitml.lock in the history of a commit, newest first."""

    versions: list[Version]
    # History cannot be rewritten: one unreadable or ill-shaped lock (hand-edited, committed
    # with --no-verify) must not make the whole log unusable for good. It is left out, said
    # once (one line here each, for the caller to print); `gitml show` of it still refuses it.
    left_out: list[str]


def lock_history(root: Path, rev: str = "HEAD") -> History:
    """Every version of gitml.lock in the history of `rev`, newest first."""
    commits = lock_commits(root, rev)
    blobs = read_objects(root, [f"{c.sha}:{LOCK_FILE}" for c in commits])
    parser = LockParser()
    found = History([], [])
    for commit, data in zip(commits, blobs, strict=True):
        if data is None:  # the commit deleted gitml.lock
            continue
        try:
            found.versions.append(
                Version(commit, parser.parse(data, f"{LOCK_FILE} at {commit.short}"))
            )
        except BadInput as exc:
            found.left_out.append(f"{exc}; that version is left out")
    return found


def tags_by_commit(root: Path) -> dict[str, list[str]]:
    """{commit sha: [tag names]} for every tag, annotated tags peeled (GTO's are annotated)."""
    out = git.out(
        [
            "for-each-ref",
            "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)",
            "refs/tags",
        ],
        root,
    )
    tags: dict[str, list[str]] = {}
    for line in out.splitlines():
        name, obj, peeled = (line.split("\t") + ["", ""])[:3]
        tags.setdefault(peeled or obj, []).append(name)
    return tags


# --- one version -----------------------------------------------------------------------------


def version_at(repo: repo_mod.Repo, rev: str | None) -> Version:
    """gitml.lock at commit `rev`, or the staged state's when `rev` is None or "staged"."""
    if rev is None or rev == STAGED:
        return staged_version(repo)
    sha = git.resolve_commit(repo.root, rev)
    snap = Snapshot(repo.root, sha)
    data = snap.read(LOCK_FILE)
    if data is None:
        raise BadInput(
            f"commit {sha[:12]} has no {LOCK_FILE} (made before gitml, or with --no-verify)"
        )
    # not git.out: its strip() would take the empty trailers' \x1f separators too
    proc = git.run(["log", "-1", f"--format=%cI%x1f%s%x1f{TRAILER_FORMAT}", sha], repo.root)
    fields = proc.stdout.decode(errors="replace").rstrip("\n").split("\x1f")
    commit = Commit(sha, fields[0], "\x1f".join(fields[1:-2]), stated(fields[-2], fields[-1]))
    return Version(commit, lockfile.parse(data, f"{LOCK_FILE} at {sha[:12]}"), snap)


def staged_version(repo: repo_mod.Repo) -> Version:
    """The staged state's gitml.lock as the next commit would record it: inputs computed from
    the index, results kept from the staged gitml.lock where those inputs did not change."""
    from gitml import dvcconfig

    snap = Snapshot(repo.root)
    config = repo_mod.config_at(snap)
    if config is None:
        raise BadInput("no gitml.yaml staged: run `gitml init`")
    data = snap.read(LOCK_FILE)
    previous = lockfile.parse(data, f"{LOCK_FILE} (staged)") if data is not None else None
    lin = lineage.read_lineage(snap, config, None)
    cfg = dvcconfig.read_config(repo.root)
    lock = lockinputs.merge_results(
        lineage.inputs(lin, cfg.cache_dir, dvc_cfg=cfg, previous=previous), previous
    )
    environments = dict(previous.environments) if previous is not None else {}
    return Version(None, dataclasses.replace(lock, environments=environments), snap)
