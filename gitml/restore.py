"""Putting a commit's exact DVC-tracked bytes into the workspace, verified hash by hash.

Used by the post-checkout/post-merge/post-rewrite hooks (local cache only, no network) and by
`gitml restore` (which may also fetch from the DVC remote). A file the user modified is kept.
"""

from __future__ import annotations

import contextlib
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import dvcfiles, manifest, objects, paths
from gitml.dvcfiles import DvcConfig, Out
from gitml.errors import BadInput
from gitml.manifest import LOCK_FILE
from gitml.output import Progress
from gitml.repo import Repo
from gitml.snapshot import Snapshot
from gitml.state import Md5Cache

Fetch = Callable[[Out, str, str], Path | None]  # (out, md5, member relpath) -> cache object


@dataclass
class Report:
    rev: str
    restored: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    kept_modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # gitml.lock disagrees with dvc.lock


def _expected(lock: dict[str, Any], out: Out) -> str | None:
    for part in ("models", "data"):
        entry = (lock.get(part) or {}).get(out.path)
        if isinstance(entry, dict):
            return str(entry.get("md5"))
    return None


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


def _place(
    cfg: DvcConfig, md5: str, hash_name: str, dest: Path, fetch: Fetch | None, out: Out, member: str
) -> str | None:
    """Write the object to `dest`; returns None on success or the reason it failed."""
    obj = objects.locate(cfg, md5, hash_name)
    if obj is None and fetch is not None:
        obj = fetch(out, md5, member)
    if obj is None:
        return "missing"
    return None if objects.verified_copy(obj, md5, hash_name, dest) else "corrupt"


@dataclass
class _Planned:
    """One out to write: where, and for a directory its members and the old files to remove."""

    out: Out
    ws: Path
    members: list[tuple[Path, str, str]] = field(default_factory=list)  # (dest, relpath, md5)
    stale: list[tuple[Path, str]] = field(default_factory=list)  # (dest, md5 it must still have)


def _plan_dir(
    cfg: DvcConfig,
    out: Out,
    ws: Path,
    before: Out | None,
    fetch: Fetch | None,
    dest: Destinations,
) -> _Planned | None:
    """A directory's members, every destination checked; None when its listing is nowhere."""
    assert out.md5
    listing_obj = objects.locate(cfg, out.md5, out.hash)
    if listing_obj is None and fetch is not None:
        listing_obj = fetch(out, out.md5, "")
    if listing_obj is None:
        return None
    listing = dvcfiles.read_dir_listing(listing_obj)
    plan = _Planned(out, ws)
    plan.members = [(dest.of(f"{out.path}/{rel}", out.path), rel, md5) for rel, md5 in listing]
    names = {rel for rel, _ in listing}
    old_listing = objects.members(cfg, before) or [] if before and before.is_dir else []
    for rel, md5 in old_listing:  # files only the old version had: removed if unmodified
        if rel not in names:
            with contextlib.suppress(BadInput):  # a bad old listing: nothing of it is touched
                plan.stale.append((dest.of(f"{out.path}/{rel}", out.path), md5))
    return plan


def _write_dir(
    cfg: DvcConfig, plan: _Planned, md5s: Md5Cache, fetch: Fetch | None, report: Report
) -> None:
    out, root = plan.out, plan.ws
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        _remove(root)
    with Progress(f"restoring {out.path}", len(plan.members)) as progress:
        for path, rel, md5 in plan.members:
            progress.advance()
            if path.is_file() and md5s.md5(path) == md5:
                continue
            problem = _place(cfg, md5, out.hash, path, fetch, out, rel)
            if problem:
                getattr(report, problem).append(f"{out.path}/{rel}")
    for path, md5 in plan.stale:
        if path.is_file() and md5s.md5(path) == md5:
            _remove(path)
    report.restored.append(out.path)


def restore(
    repo: Repo,
    rev: str,
    previous_rev: str | None,
    md5s: Md5Cache,
    fetch: Fetch | None = None,
    paths: list[str] | None = None,
) -> Report:
    """Make the workspace hold `rev`'s DVC-tracked bytes.

    "Modified" is judged against `previous_rev` (the commit the workspace came from): a file
    that matches neither the old nor the new hash was changed by the user and is kept. Every
    destination is checked before the first byte is written: a refusal changes nothing.
    """
    snap = Snapshot(repo.root, rev)
    lock_bytes = snap.read(LOCK_FILE)
    if lock_bytes is None:
        raise BadInput(
            f"commit {rev[:12]} has no {LOCK_FILE} (it was made before gitml was set up)"
        )
    lock = manifest.parse_lock(lock_bytes, f"{LOCK_FILE} at {rev[:12]}")
    project = dvcfiles.read_project(snap)
    before = dvcfiles.read_project(Snapshot(repo.root, previous_rev)) if previous_rev else None
    cfg = dvcfiles.read_config(repo.root)
    report = Report(rev=rev)
    dest = Destinations(repo.root)
    plans: list[_Planned] = []
    for path, out in sorted(project.outs.items()):
        if snap.has(path) or not out.md5 or (paths and path not in paths):
            continue  # git-tracked outputs (cache: false) come with the checkout itself
        expected = _expected(lock, out)
        if expected is not None and expected != out.md5:
            report.mismatched.append(path)
            continue
        try:
            ws = dest.of(path)
            old = before.outs.get(path) if before else None
            current = md5s.hash_path(ws, out.hash) if ws.exists() else None
            if current == out.md5:
                report.up_to_date.append(path)
            elif current is not None and (old is None or current != old.md5):
                report.kept_modified.append(path)
            elif not out.is_dir:
                plans.append(_Planned(out, ws))
            elif (plan := _plan_dir(cfg, out, ws, old, fetch, dest)) is not None:
                plans.append(plan)
            else:
                report.missing.append(path)
        except BadInput as exc:
            raise BadInput(f"{out.origin}: {exc}") from None
    for plan in plans:
        if plan.out.is_dir:
            _write_dir(cfg, plan, md5s, fetch, report)
            continue
        if plan.ws.is_dir() or plan.ws.is_symlink():
            _remove(plan.ws)
        problem = _place(cfg, plan.out.md5 or "", plan.out.hash, plan.ws, fetch, plan.out, "")
        if problem:
            getattr(report, problem).append(plan.out.path)
        else:
            report.restored.append(plan.out.path)
    return report
