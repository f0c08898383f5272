"""Whether the work tree holds the data its DVC files record: what `git reset --hard` and
`git stash pop` (which run no hook) leave behind, for `gitml check` and `gitml doctor` to say.
"""

from __future__ import annotations

import contextlib

from gitml import dvcconfig, dvcfiles, git
from gitml.dvcfiles import Out
from gitml.errors import BadInput
from gitml.repo import Repo
from gitml.restore import Destinations, Judge, verified_listing
from gitml.snapshot import Snapshot
from gitml.state import Md5Cache


class _WorkTreeFiles(Snapshot):
    """The git-tracked files as the work tree holds them (regular files only)."""

    def read(self, path: str) -> bytes | None:
        if path not in self.entries:
            return None
        where = self.root / path
        if where.is_symlink() or not where.is_file():
            return None
        try:
            return where.read_bytes()
        except OSError:
            return None

    def prefetch(self, paths: list[str]) -> None:
        pass


def differences(repo: Repo, md5s: Md5Cache) -> list[tuple[str, bool]]:
    """The DVC-tracked paths whose work-tree bytes are not those the work tree's dvc.lock and
    .dvc files record, though the recorded bytes are in the local cache and what is there is
    no user edit (absent, or another cached version): what a `git reset --hard` or
    `git stash pop`, which run no hook, leave behind. Each path with whether HEAD records the
    same bytes for it (else the work tree's DVC files are uncommitted edits)."""
    snap = _WorkTreeFiles(repo.root)
    project = dvcfiles.read_project(snap)
    head = git.head_commit(repo.root)
    at_head = dvcfiles.read_project(Snapshot(repo.root, head)).outs if head else {}
    cfg = dvcconfig.read_config(repo.root)
    judge = Judge(cfg, md5s)
    dest = Destinations(repo.root)
    stale = []
    for path, out in sorted(project.outs.items()):
        if snap.has(path) or not out.md5 or out.listing is not None:
            continue
        with contextlib.suppress(BadInput):
            ws = dest.of(path)
            if out.is_dir:
                listing = verified_listing(cfg, out, None)
                if isinstance(listing, str):
                    continue
                for rel, md5 in listing:
                    state, _ = judge.file(ws / rel, md5, out.hash)
                    if state in ("absent", "cached") and judge.cached(md5, out.hash):
                        stale.append((path, _same(at_head.get(path), out)))
                        break
            else:
                state, _ = judge.file(ws, out.md5, out.hash)
                if state in ("absent", "cached") and judge.cached(out.md5, out.hash):
                    stale.append((path, _same(at_head.get(path), out)))
    return stale


def _same(a: Out | None, b: Out) -> bool:
    return a is not None and (a.md5, a.hash) == (b.md5, b.hash)


def work_tree_behind(repo: Repo) -> list[tuple[str, bool]]:
    """The DVC-tracked paths the work tree holds other cached bytes of (or none) than its DVC
    files record, each with whether HEAD records those; [] when that cannot be judged (the
    reason is another check's to give)."""
    md5s = Md5Cache(repo.common_dir)
    try:
        return differences(repo, md5s)
    except BadInput:
        return []
    finally:
        md5s.close()


def behind_message(behind: list[tuple[str, bool]]) -> str:
    """One message: HEAD's data missing (`gitml restore`), or data the work tree's own,
    uncommitted, DVC files record (`dvc checkout`)."""
    heads = [p for p, at_head in behind if at_head]
    own = [p for p, at_head in behind if not at_head]
    parts = []
    if heads:
        parts.append(
            f"the work tree does not hold HEAD's data: {', '.join(heads)} "
            f"{'differs' if len(heads) == 1 else 'differ'} from what dvc.lock and the .dvc files "
            "record (`git reset --hard` and `git stash pop` run no hook); run `gitml restore`"
        )
    if own:
        parts.append(
            f"the work tree does not hold the data its uncommitted dvc.lock/.dvc files record "
            f"for {', '.join(own)}: run `dvc checkout {' '.join(own)}` for those, or "
            "`git checkout -- dvc.lock` and `gitml restore` for HEAD's"
        )
    return "; ".join(parts)
