"""The isolated worktree `gitml reproduce` rebuilds in (steps 2 and 7 of its contract).

A detached `git worktree` of the commit in a temporary directory of the run's, made with hooks
disabled, with its own `.dvc/config.local`: the clone's remotes and a private DVC cache, so that
nothing rebuilt reaches the user's cache. The run holds an flock on an owner file in that
directory for its whole life: a later run removes what a killed run left (`clean_leftovers`).
At the end the worktree, its registration and the directory go (kept with `--keep`, or when a
stage fails, for inspection).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gitml import dvcconfig, dvcfiles, git, state
from gitml import repo as repo_mod
from gitml.error_handler import Interruptible
from gitml.rebuild_stages import StageFailed

PREFIX = "gitml-reproduce-"  # the temporary directory of each run (gitml doctor looks for it)
OWNER_FILE = "owner.lock"  # in it: flock-ed by the run for its whole life, with its pid
_LOCK_NAME = "reproduce"  # state.locked(): serialises worktree add/remove/prune and cleaning


@dataclass(frozen=True)
class RebuildWorktree:
    path: Path  # the detached worktree of the commit
    cache_dir: Path  # its private DVC cache (`cache.dir` of its config.local)
    kept: bool  # left in place at the end (--keep)


@contextlib.contextmanager
def isolated_worktree(
    repo: repo_mod.Repo,
    commit: str,
    signals: Interruptible,
    *,
    keep: bool,
    note: Callable[[str], None],
) -> Iterator[RebuildWorktree]:
    """The commit's worktree, removed with its temporary directory when the block ends (kept
    with `keep`, or when a stage fails), also when a signal ends the run."""
    base = Path(tempfile.mkdtemp(prefix=PREFIX))
    owner = claim(base)
    wt: Path | None = None
    keep_wt = keep
    try:
        # deferred: a signal in the middle would leave a registration that `wt` does not name
        with state.locked(repo.common_dir, _LOCK_NAME), signals.deferred():
            cleaned = clean_leftovers(repo.root)
            if cleaned:
                note(
                    f"removed {len(cleaned)} leftover worktree(s) of an interrupted "
                    f"`gitml reproduce`: {', '.join(map(str, cleaned))}"
                )
            wt = add_worktree(repo.root, commit, base)
        if keep:
            signals.done = (
                "the rebuild was stopped (DVC and the stages' processes ended); its worktree is "
                f"kept at {wt}"
            )
        yield RebuildWorktree(wt, base / "cache", keep)
    except StageFailed as exc:
        keep_wt = True
        raise StageFailed(f"{exc}\nthe worktree is kept at {wt}") from None
    finally:
        with signals.deferred():  # a signal now waits for the cleanup, then ends the run
            _remove_unless_kept(repo, base, wt, keep_wt)
            release(base, owner, kept=wt is not None and keep_wt)


def _remove_unless_kept(repo: repo_mod.Repo, base: Path, wt: Path | None, keep: bool) -> None:
    if wt is not None and not keep:
        with state.locked(repo.common_dir, _LOCK_NAME):
            remove_worktree(repo.root, wt)
        shutil.rmtree(base, ignore_errors=True)
    elif wt is None:
        shutil.rmtree(base, ignore_errors=True)


def claim(base: Path) -> int:
    """Mark `base` as this run's: an exclusive flock on `base/owner.lock` (holding our pid),
    held until `release`. The kernel drops it when the process dies, even on kill -9."""
    fd = os.open(base / OWNER_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def release(base: Path, fd: int, kept: bool) -> None:
    """Drop the claim; a kept worktree loses its owner file, so no later run cleans it."""
    if kept:
        (base / OWNER_FILE).unlink(missing_ok=True)
    os.close(fd)


def _owner_gone(base: Path) -> bool:
    """True when `base` has an owner file that no live process holds (a killed run)."""
    try:
        fd = os.open(base / OWNER_FILE, os.O_RDWR)
    except OSError:
        return False  # kept (--keep, a failed stage) or not made by this version: left alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False  # a run in progress
        raise
    finally:
        os.close(fd)
    return True


def reproduce_worktrees(root: Path) -> list[Path]:
    """The registered worktrees that `gitml reproduce` made (path contains gitml-reproduce-)."""
    proc = git.run(["worktree", "list", "--porcelain", "-z"], root, check=False)
    found = []
    for record in proc.stdout.decode(errors="replace").split("\0\0"):
        for f in record.split("\0"):
            if f.startswith("worktree ") and PREFIX in f:
                found.append(Path(f[len("worktree ") :]))
    return found


def leftover_worktrees(root: Path) -> list[Path]:
    """Worktrees of reproduce runs that were killed: their owner is gone, or they are gone."""
    return [
        wt
        for wt in reproduce_worktrees(root)
        if not wt.exists() or (wt.parent.name.startswith(PREFIX) and _owner_gone(wt.parent))
    ]


def clean_leftovers(root: Path) -> list[Path]:
    """Remove the leftovers of killed runs (worktree, registration, temporary directory).

    Call with the reproduce lock held, so that no other run is between add and claim."""
    leftovers = leftover_worktrees(root)
    for wt in leftovers:  # twice --force: also when killed while git still had it locked
        git.run(["worktree", "remove", "--force", "--force", str(wt)], root, check=False)
        if wt.parent.name.startswith(PREFIX):
            shutil.rmtree(wt.parent, ignore_errors=True)
    if leftovers:
        git.run(["worktree", "prune"], root, check=False)
    return leftovers


def add_worktree(root: Path, commit: str, base: Path) -> Path:
    """A detached worktree of `commit` at `base/wt`, no hook run (gitml's or the user's)."""
    wt = base / "wt"
    env = git.no_git_env()
    env["GITML_INTERNAL_WORKTREE"] = "1"
    git.run(
        ["-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", str(wt), commit],
        root,
        env=env,
    )
    return wt


def remove_worktree(root: Path, wt: Path) -> None:
    git.run(["worktree", "remove", "--force", str(wt)], root, check=False)
    shutil.rmtree(wt, ignore_errors=True)
    git.run(["worktree", "prune"], root, check=False)


def write_local_config(root: Path, wt: Path, cache_dir: Path) -> dvcconfig.DvcConfig:
    """The worktree's `.dvc/config.local`: the clone's `.dvc/config.local`, every remote the
    clone knows at any level (system, global, repo, local: each option merged as DVC merges
    them, paths absolute, since they were relative to their own file) and its default remote,
    and a private cache. Returns the clone's configuration."""
    user = dvcconfig.read_config(root)
    sections: dvcconfig.Sections = {}
    for cfg_file in user.files:
        if cfg_file.level == "local":
            sections.update({k: dict(v) for k, v in cfg_file.sections.items()})
    for rname, options in user.remote_options.items():
        sections[f'remote "{rname}"'] = dict(options)
    if user.default_remote:
        sections.setdefault("core", {})["remote"] = user.default_remote
    sections["cache"] = {"dir": str(cache_dir), "type": "reflink,copy"}
    lines = []
    for section, options in sections.items():
        header = f"'{section}'" if " " in section else section
        lines.append(f"[{header}]")
        lines.extend(f"    {k} = {v}" for k, v in options.items())
    (wt / ".dvc" / "config.local").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return user


def worktree_project(wt: Path) -> dvcfiles.Project:
    """The pipeline as the worktree's dvc.lock and .dvc files say, as they are now."""
    project = dvcfiles.Project()
    for f in sorted(wt.rglob("*")):
        rel = f.relative_to(wt).as_posix()
        if rel.startswith((".git", ".dvc/")) or not f.is_file():
            continue
        if f.name == "dvc.lock":
            dvcfiles.read_lockfile(rel, f.read_bytes(), project)
        elif f.name.endswith(".dvc"):
            dvcfiles.read_dvcfile(rel, f.read_bytes(), project)
    return project


def copy_rebuilt(wt: Path, model_paths: list[str], out: Path) -> None:
    """`--out`: the rebuilt models, at their paths under `out`."""
    for path in model_paths:
        src = wt / path
        dest = out / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        elif src.is_file():
            shutil.copy2(src, dest)
