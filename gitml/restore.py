"""Putting a commit's exact DVC-tracked bytes into the workspace, verified hash by hash.

Used by the post-checkout/post-merge/post-rewrite hooks (local cache only, no network) and by
`gitml restore` (which may also fetch from the DVC remote). A file the user modified is kept.
"""

from __future__ import annotations

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


def _restore_dir(
    repo: Repo,
    cfg: DvcConfig,
    out: Out,
    before: Out | None,
    md5s: Md5Cache,
    fetch: Fetch | None,
    report: Report,
    dest: Destinations,
) -> None:
    assert out.md5
    listing_obj = objects.locate(cfg, out.md5, out.hash)
    if listing_obj is None and fetch is not None:
        listing_obj = fetch(out, out.md5, "")
    if listing_obj is None:
        report.missing.append(out.path)
        return
    listing = dvcfiles.read_dir_listing(listing_obj)
    old_listing = dict(objects.members(cfg, before) or []) if before and before.is_dir else {}
    # every destination checked before the first byte is written
    dests = [(dest.of(f"{out.path}/{rel}", out.path), rel, md5) for rel, md5 in listing]
    root = dest.of(out.path)
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        _remove(root)
    with Progress(f"restoring {out.path}", len(dests)) as progress:
        for path, rel, md5 in dests:
            progress.advance()
            if path.is_file() and md5s.md5(path) == md5:
                continue
            problem = _place(cfg, md5, out.hash, path, fetch, out, rel)
            if problem:
                getattr(report, problem).append(f"{out.path}/{rel}")
    names = {rel for rel, _ in listing}
    for rel, md5 in old_listing.items():  # files the old version had, unmodified: removed
        if rel in names:
            continue
        path = dest.of(f"{out.path}/{rel}", out.path)
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
    that matches neither the old nor the new hash was changed by the user and is kept.
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
    for path, out in sorted(project.outs.items()):
        if snap.has(path) or not out.md5 or (paths and path not in paths):
            continue  # git-tracked outputs (cache: false) come with the checkout itself
        expected = _expected(lock, out)
        if expected is not None and expected != out.md5:
            report.mismatched.append(path)
            continue
        try:
            ws = dest.of(path)
        except BadInput as exc:
            raise BadInput(f"{out.origin}: {exc}") from None
        old = before.outs.get(path) if before else None
        current = md5s.hash_path(ws, out.hash) if ws.exists() else None
        if current == out.md5:
            report.up_to_date.append(path)
            continue
        if current is not None and (before is None or old is None or current != old.md5):
            report.kept_modified.append(path)
            continue
        if out.is_dir:
            try:
                _restore_dir(repo, cfg, out, old, md5s, fetch, report, dest)
            except BadInput as exc:
                raise BadInput(f"{out.origin}: {exc}") from None
            continue
        if ws.is_dir() or ws.is_symlink():
            _remove(ws)
        problem = _place(cfg, out.md5, out.hash, ws, fetch, out, "")
        if problem:
            getattr(report, problem).append(path)
        else:
            report.restored.append(path)
    return report
