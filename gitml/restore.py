"""Putting a commit's exact DVC-tracked bytes into the workspace, verified hash by hash.

Used by the restoring hooks (local cache only, no network) and by `gitml restore` (which may
also fetch from the DVC remote). A work-tree file is judged by its bytes alone: bytes that are a
(verified) object of the local DVC cache can always come back and are replaced; bytes that are
in no cache are a user edit, kept and named (`force`: saved into the cache first, then
replaced). Files are written the way `cache.type` asks, in DVC's modes, through temporary files
under `.git/gitml/tmp`.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gitml import dvcconfig, dvcfiles, lockfile, objects, paths
from gitml.dvcconfig import DvcConfig
from gitml.dvcfiles import Out
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE, Lock
from gitml.output import Progress
from gitml.repo import Repo
from gitml.snapshot import Snapshot
from gitml.state import Md5Cache, sweep_temporaries, tmp_dir

Fetch = Callable[[Out, str, str], Path | None]  # (out, md5, member relpath) -> cache object


@dataclass
class Report:
    rev: str
    restored: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    kept_modified: list[str] = field(default_factory=list)  # bytes in no cache: a user edit
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # gitml.lock disagrees with dvc.lock
    removed: list[str] = field(default_factory=list)  # files the target has not (bytes cached)
    saved: list[tuple[str, Path]] = field(default_factory=list)  # --force: (path, object)
    missing_md5: dict[str, str] = field(default_factory=dict)  # missing path -> its object
    # where each restored out's bytes came from: "the DVC cache", "DVC remote 'NAME'"
    sources: dict[str, set[str]] = field(default_factory=dict)

    def came_from(self, path: str, origin: str) -> None:
        self.sources.setdefault(path, set()).add(origin)

    @property
    def not_at_target(self) -> list[str]:
        """Targets the work tree does not hold the recorded bytes of, after the restore."""
        return sorted({*self.kept_modified, *self.missing, *self.corrupt, *self.mismatched})


def _expected(lock: Lock, out: Out) -> str | None:
    """The md5 gitml.lock records for the out (`None` as text when its entry has none: no
    bytes match it), None when it records no entry there."""
    entry = lock.models.get(out.path) or lock.data.get(out.path)
    return str(entry.md5) if entry is not None else None


class Destinations:
    """Where restore may write: below the repository, through no symlinked directory that leads
    out of it. The file itself may be a symlink (DVC's symlink cache type): it is replaced by the
    copy, never written through. Checked once per directory, not per file."""

    def __init__(self, root: Path):
        self.root = root
        self._checked: set[str] = set()

    def of(self, path: str, under: str | None = None) -> Path:
        """The absolute path to write repo-relative `path` to; `under` is the out it belongs to
        (a directory's member must stay inside it)."""
        what = f"DVC-tracked path {path!r}"
        clean = paths.normalize(path, what=what)
        if clean != path.rstrip("/") or (under is not None and not paths.is_under(clean, under)):
            raise BadInput(f"{what} is not a plain path below {under or 'the repository'}")
        if paths.is_dvc_dir_path(clean):
            raise BadInput(f"{what} is inside `.dvc/`, DVC's own directory: refused")
        parent = posixpath.dirname(clean)
        if parent not in self._checked:
            paths.inside(self.root, parent)
            self._checked.add(parent)
        return self.root / clean


def _remove(path: Path) -> None:
    """Remove what is at `path` without following it: a symlink is unlinked, not its target."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


class Judge:
    """What a work-tree path holds, against the bytes it should hold."""

    def __init__(self, cfg: DvcConfig, md5s: Md5Cache):
        self.cfg, self.md5s = cfg, md5s

    def cached(self, md5: str, hash_name: str) -> bool:
        """Whether `md5` is an object of the local cache, or of a local-path remote, whose bytes
        hash to it: bytes that can always come back (a cache emptied after a push included)."""
        for root in [self.cfg.cache_dir, *objects.local_remotes(self.cfg)]:
            obj = dvcfiles.object_path(root, md5, hash_name)
            if obj.is_file() and self.md5s.hash_path(obj, hash_name) == md5:
                return True
        return False

    def file(self, ws: Path, target: str | None, hash_name: str) -> tuple[str, str | None]:
        """("absent" | "same" | "cached" | "edit", the file's md5) for a path meant to hold a
        file with md5 `target` (None: meant to hold nothing)."""
        if not os.path.lexists(ws):
            return "absent", None
        if ws.is_symlink() and not ws.exists():
            return "cached", None  # a link to a cache object that is gone: nothing to keep
        if ws.is_dir():
            return ("cached" if self.replaceable_tree(ws, hash_name) else "edit"), None
        current = self.md5s.hash_path(ws, hash_name)
        if current == target:
            return "same", current
        return ("cached" if self.cached(current, hash_name) else "edit"), current

    def replaceable_tree(self, root: Path, hash_name: str) -> bool:
        """Every file below `root` is a cached object (a directory that may be removed)."""
        for path in _files_below(root):
            state, _ = self.file(path, None, hash_name)
            if state == "edit":
                return False
        return True


def _files_below(root: Path) -> list[Path]:
    """The files and symlinks below `root`, no symlinked directory followed."""
    found = []
    for top, dirs, files in os.walk(root):
        found += [Path(top, f) for f in files]
        found += [Path(top, d) for d in dirs if Path(top, d).is_symlink()]
    return sorted(found)


@dataclass
class _Planned:
    """One out to write: where, its files (dest, relpath, md5) and what goes."""

    out: Out
    ws: Path
    files: list[tuple[Path, str, str]] = field(default_factory=list)
    extra: list[tuple[Path, str]] = field(default_factory=list)  # (path, its md5 or "")
    edits: list[tuple[Path, str, str | None]] = field(default_factory=list)  # (path, name, md5)
    clear: bool = False  # something not a directory is where the directory goes


CACHE = "the DVC cache"


def obtain(
    cfg: DvcConfig, md5: str, out: Out, member: str, fetch: Fetch | None
) -> tuple[Path | None, str]:
    """The object of `md5`, and where it came from: the DVC cache, a local-path remote, or
    (`fetch`) the remote the fetcher asked, named as DVC names it."""
    obj = objects.locate(cfg, md5, out.hash)
    if obj is not None:
        return obj, _local_origin(cfg, obj)
    if fetch is None:
        return None, ""
    remote = cfg.default_remote
    return fetch(out, md5, member), f"DVC remote {remote!r}" if remote else "a DVC remote"


def _local_origin(cfg: DvcConfig, obj: Path) -> str:
    if obj.is_relative_to(cfg.cache_dir):
        return CACHE
    for name, url in sorted(cfg.remotes.items()):
        local = url.removeprefix("file://")
        if "://" not in local and obj.is_relative_to(Path(local)):
            return f"DVC remote {name!r}"
    return CACHE


def verified_listing(
    cfg: DvcConfig, out: Out, fetch: Fetch | None, report: Report | None = None
) -> list[tuple[str, str]] | str:
    """A directory out's verified listing, or why there is none ("missing", "corrupt")."""
    assert out.md5
    obj, origin = obtain(cfg, out.md5, out, "", fetch)
    if obj is None:
        return "missing"
    if report is not None:
        report.came_from(out.path, origin)
    try:
        return dvcfiles.read_dir_listing(obj)
    except dvcfiles.CorruptListing:
        return "corrupt"


def _plan(
    judge: Judge,
    out: Out,
    dest: Destinations,
    fetch: Fetch | None,
    report: Report,
    force: bool,
) -> _Planned | None:
    """What restoring `out` takes; None when nothing (up to date, kept, missing)."""
    assert out.md5
    ws = dest.of(out.path)
    plan = _Planned(out, ws)
    if not out.is_dir:
        return _plan_file(judge, out, plan, report, force)
    listing = verified_listing(judge.cfg, out, fetch, report)
    if isinstance(listing, str):
        getattr(report, listing).append(out.path)
        report.missing_md5[out.path] = out.md5
        return None
    if os.path.lexists(ws) and (ws.is_symlink() or not ws.is_dir()):
        state, current = judge.file(ws, None, out.hash)
        if _keeps_edit(plan, ws, out.path, state, current, force):
            report.kept_modified.append(out.path)
            return None
        plan.clear = True
    kept = _plan_members(judge, out, dest, listing, plan, force)
    if not plan.clear and ws.is_dir():
        kept += _plan_extras(judge, out, {rel for rel, _ in listing}, plan, force)
    report.kept_modified += kept
    if not (plan.files or plan.extra or plan.clear):
        if not kept:
            report.up_to_date.append(out.path)
        return None
    return plan


def _keeps_edit(
    plan: _Planned, path: Path, name: str, state: str, current: str | None, force: bool
) -> bool:
    """True when the user's edit at `path` is kept; with --force, the edit is planned to be
    saved in the cache before it is replaced (a `current` object it can come back from)."""
    if state != "edit":
        return False
    if not force or current is None:
        return True
    plan.edits.append((path, name, current))
    return False


def _plan_file(
    judge: Judge, out: Out, plan: _Planned, report: Report, force: bool
) -> _Planned | None:
    assert out.md5
    state, current = judge.file(plan.ws, out.md5, out.hash)
    if state == "same":
        report.up_to_date.append(out.path)
        return None
    if _keeps_edit(plan, plan.ws, out.path, state, current, force):
        report.kept_modified.append(out.path)
        return None
    plan.files.append((plan.ws, "", out.md5))
    return plan


def _plan_members(
    judge: Judge,
    out: Out,
    dest: Destinations,
    listing: list[tuple[str, str]],
    plan: _Planned,
    force: bool,
) -> list[str]:
    """Plan the directory's members the listing names; return the edited ones kept."""
    kept = []
    for rel, md5 in listing:
        path = dest.of(f"{out.path}/{rel}", out.path)
        state, current = ("absent", None) if plan.clear else judge.file(path, md5, out.hash)
        if state == "same":
            continue
        if _keeps_edit(plan, path, f"{out.path}/{rel}", state, current, force):
            kept.append(f"{out.path}/{rel}")
            continue
        plan.files.append((path, rel, md5))
    return kept


def _plan_extras(
    judge: Judge, out: Out, wanted: set[str], plan: _Planned, force: bool
) -> list[str]:
    """Plan the removal of files in the directory the listing does not name; return the
    edited ones kept."""
    kept = []
    for path in _files_below(plan.ws):
        rel = path.relative_to(plan.ws).as_posix()
        if rel in wanted:
            continue
        state, current = judge.file(path, None, out.hash)
        if _keeps_edit(plan, path, f"{out.path}/{rel}", state, current, force):
            kept.append(f"{out.path}/{rel}")
            continue
        plan.extra.append((path, f"{out.path}/{rel}"))
    return kept


def _place(
    cfg: DvcConfig,
    md5: str,
    hash_name: str,
    dest: Path,
    fetch: Fetch | None,
    out: Out,
    member: str,
    tmp: Path,
    report: Report,
) -> str | None:
    """Write the object to `dest` as `cache.type` asks; None on success or why it failed."""
    obj, origin = obtain(cfg, md5, out, member, fetch)
    if obj is None:
        return "missing"
    report.came_from(out.path, origin)
    if cfg.cache_types[0] != "copy" and not obj.is_relative_to(cfg.cache_dir):
        obj = objects.bring_to_cache(cfg, md5, hash_name) or obj  # links point into the cache
    if dest.is_dir() and not dest.is_symlink():
        _remove(dest)
    return None if objects.linked(cfg, obj, md5, hash_name, dest, tmp) else "corrupt"


def _write(cfg: DvcConfig, plan: _Planned, fetch: Fetch | None, report: Report, tmp: Path) -> None:
    out = plan.out
    for path, name, md5 in plan.edits:  # --force: the user's bytes first go where DVC keeps them
        saved = objects.save_to_cache(cfg, path, md5, out.hash) if md5 else None
        if saved is None:
            raise BadInput(f"{name} changed while it was being saved: nothing replaced; run again")
        report.saved.append((name, saved))
    if plan.clear:
        _remove(plan.ws)
    for path, name in plan.extra:
        _remove(path)
        report.removed.append(name)
    failed = False
    with Progress(f"restoring {out.path}", len(plan.files)) as progress:
        for path, rel, md5 in plan.files:
            progress.advance()
            problem = _place(cfg, md5, out.hash, path, fetch, out, rel, tmp, report)
            if problem:
                failed = True
                name = f"{out.path}/{rel}" if rel else out.path
                getattr(report, problem).append(name)
                report.missing_md5[name] = md5
    if out.is_dir:
        _remove_empty_dirs(plan.ws)
    if not failed:
        report.restored.append(out.path)


def _remove_empty_dirs(root: Path) -> None:
    if not root.is_dir() or root.is_symlink():
        return
    for top, dirs, _ in os.walk(root, topdown=False):
        for d in dirs:
            with contextlib.suppress(OSError):
                Path(top, d).rmdir()  # only empty ones go


def restore(
    repo: Repo,
    rev: str,
    md5s: Md5Cache,
    fetch: Fetch | None = None,
    paths: list[str] | None = None,
    *,
    force: bool = False,
) -> Report:
    """Make the workspace hold `rev`'s DVC-tracked bytes.

    A file whose bytes are in no DVC cache is a user edit: kept (and named in the report), or
    with `force` saved into the cache and replaced. Every destination is checked, and every file
    judged, before the first byte is written: a refusal changes nothing.
    """
    snap = Snapshot(repo.root, rev)
    lock_bytes = snap.read(LOCK_FILE)
    if lock_bytes is None:
        raise BadInput(
            f"commit {rev[:12]} has no {LOCK_FILE} (it was made before gitml was set up)"
        )
    lock = lockfile.parse(lock_bytes, f"{LOCK_FILE} at {rev[:12]}")
    project = dvcfiles.read_project(snap)
    cfg = dvcconfig.read_config(repo.root)
    sweep_temporaries(repo.common_dir)  # what a killed run left
    tmp = tmp_dir(repo.common_dir)
    report = Report(rev=rev)
    dest = Destinations(repo.root)
    judge = Judge(cfg, md5s)
    plans: list[_Planned] = []
    for path, out in sorted(project.outs.items()):
        if snap.has(path) or not out.md5 or (paths and path not in paths):
            continue  # git-tracked outputs (cache: false) come with the checkout itself
        expected = _expected(lock, out)
        if expected is not None and expected != out.md5:
            report.mismatched.append(path)
            continue
        try:
            plan = _plan(judge, out, dest, fetch, report, force)
        except BadInput as exc:
            raise BadInput(f"{out.origin}: {exc}") from None
        if plan is not None:
            plans.append(plan)
    for plan in plans:
        _write(cfg, plan, fetch, report, tmp)
    return report
