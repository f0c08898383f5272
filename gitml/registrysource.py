"""Where `gitml registry` reads a registry: this repository, or another one (`-r URL|PATH`).

Here: this repository's tags, and its files as GTO reads them (gitml.yaml, dvc.yaml and `.gto`
from the work tree, artifacts.yaml from HEAD). Another repository: its tags and its default
branch (HEAD), fetched without file contents (`--filter=blob:none`) into a temporary repository
of ours that has no work tree files (never checked out), and every file read as that HEAD
commit has it (the few blobs needed are fetched then).

A URL is untrusted input: it is passed to git after `--`, one starting with `-` is refused, only
the ordinary transports are allowed (no `ext::`), and git never runs inside the other repository
or with its config: every git command runs in the temporary repository.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from gitml import git, gtofiles
from gitml import repo as repo_mod
from gitml.config import CONFIG_FILE, Config
from gitml.errors import BadInput
from gitml.snapshot import Snapshot

REMOTE_HEAD = "refs/heads/gitml-remote-head"  # where the other repository's HEAD is fetched
_TRANSPORTS = ("file", "https", "http", "ssh", "git")  # git's own defaults, ext:: and fd:: left out


@dataclass(frozen=True)
class Source:
    """A repository's registry: its tags (in `root`), and its files as of `rev` (None: the
    work tree, as GTO reads the workspace)."""

    root: Path
    rev: str | None = None
    label: str = "."  # what the user named, for messages
    workspace: repo_mod.Repo | None = None  # with rev None: the repository found here

    @property
    def remote(self) -> bool:
        return self.rev is not None

    @cached_property
    def _snapshot(self) -> Snapshot:
        assert self.rev is not None
        return Snapshot(self.root, self.rev)

    def read(self, path: str) -> bytes | None:
        """A file of the registry's repository (None: it has none)."""
        if self.rev is None:
            return gtofiles.read_worktree(self.root, path)
        return self._snapshot.read(path)

    def config(self) -> Config | None:
        """gitml.yaml's models and policies (None: no gitml.yaml there)."""
        if self.rev is None:
            return repo_mod.workspace_config(self.workspace or repo_mod.find(self.root))
        return repo_mod.config_at(self._snapshot)

    def dvcyamls(self) -> list[tuple[str, bytes | None]]:
        """(path, bytes) of every dvc.yaml."""
        if self.rev is None:
            files = repo_mod.workspace_dvcyamls(self.root)
            return [(f, gtofiles.read_worktree(self.root, f)) for f in files]
        snap = self._snapshot
        files = [p for p in snap.entries if posixpath.basename(p) == "dvc.yaml"]
        snap.prefetch(files)
        return [(f, snap.read(f)) for f in files]

    def artifacts_yaml(self) -> bytes | None:
        return gtofiles.artifacts_yaml_at(self.root, self.rev or "HEAD")

    def gto_config(self) -> gtofiles.GtoConfig:
        if self.rev is None:
            return gtofiles.gto_config(self.root)
        return gtofiles.parse_gto_config(self.read(gtofiles.GTO_CONFIG))

    def head_time(self) -> int | None:
        return gtofiles.commit_time(self.root, self.rev or "HEAD")


def local(repo: repo_mod.Repo) -> Source:
    repo_mod.require_setup(repo)
    return Source(repo.root, workspace=repo)


def check_url(url: str) -> None:
    if not url or url.startswith("-"):
        raise BadInput(f"--repo {url!r}: a repository URL or path cannot start with '-'")
    if "\n" in url or "\0" in url:
        raise BadInput("--repo: a repository URL or path cannot hold a newline")


def _location(url: str) -> str:
    """A local directory as a file:// URL (git names a partial fetch's promisor remote by it,
    and refuses a name starting with `/`); git's own rules for the rest."""
    path = Path(url).expanduser()
    return path.resolve().as_uri() if "://" not in url and path.is_dir() else url


def _init(tmp: Path) -> None:
    """Our temporary repository, allowing only the ordinary transports (lazy fetches too)."""
    # its own branch stays unborn: the fetched HEAD goes to REMOTE_HEAD, never checked out
    git.run(["init", "-q", "-b", "gitml-unborn", str(tmp)], tmp.parent)
    settings = [("protocol.allow", "never")]
    settings += [(f"protocol.{t}.allow", "always") for t in _TRANSPORTS]
    for key, value in settings:
        git.run(["config", key, value], tmp)


def _fetch(tmp: Path, url: str, location: str) -> str:
    """The other repository's tags and HEAD, without blobs; HEAD's commit."""
    refspecs = [f"+HEAD:{REMOTE_HEAD}", "+refs/tags/*:refs/tags/*"]
    flags = ["--quiet", "--filter=blob:none", "--no-tags", "--no-write-fetch-head"]
    proc = git.run(["fetch", *flags, "--", location, *refspecs], tmp, check=False)
    if proc.returncode != 0:
        said = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
        fatal = [ln for ln in said if ln.startswith("fatal:")] or said[-1:]
        raise BadInput(
            f"could not fetch the registry of {url!r}: "
            + (fatal[0] if fatal else f"git fetch exited {proc.returncode}")
        )
    return git.out(["rev-parse", "--verify", f"{REMOTE_HEAD}^{{commit}}"], tmp)


def _prefetch_key_files(tmp: Path, location: str, head: str) -> None:
    """The blobs the registry reads at HEAD, in one fetch by object id (as git's own lazy fetch
    asks for them): otherwise each would be fetched alone, one round trip each, when read. A
    server that ignored the filter sent them already; one that refuses is asked again later."""
    snap = Snapshot(tmp, head)
    wanted = [CONFIG_FILE, gtofiles.ARTIFACTS_YAML, gtofiles.GTO_CONFIG]
    wanted += [p for p in snap.entries if posixpath.basename(p) == "dvc.yaml"]
    oids = sorted({sha for p in wanted if (sha := snap.blob_sha(p))})
    if oids:
        flags = ["--quiet", "--no-tags", "--no-write-fetch-head", "--filter=blob:none"]
        git.run(["fetch", *flags, "--", location, *oids], tmp, check=False)


@contextmanager
def fetched(url: str) -> Iterator[Source]:
    """The registry of the repository at `url`, fetched into a temporary repository that is
    removed afterwards."""
    check_url(url)
    # an exported GIT_DIR (a dotfiles repository, a hook) would send git to another repository
    with git.without_git_env(), tempfile.TemporaryDirectory(prefix="gitml-registry-") as tmp:
        root = Path(tmp) / "repo"
        _init(root)
        location = _location(url)
        head = _fetch(root, url, location)
        _prefetch_key_files(root, location, head)
        try:
            yield Source(root, head, url)
        finally:
            git.close_blob_reader()  # its cat-file runs in the directory about to be removed
