"""Per-clone state under `$(git rev-parse --git-common-dir)/gitml/`, shared by all worktrees.

Never tracked: the hook's watch-list, build-time environment records, a cache of file md5s,
the log of internal errors, and a lock that serialises gitml runs that write shared state.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitml.errors import BadInput
from gitml.fileio import atomic_write, md5_file
from gitml.notes import EDGE, Teller

LOG_FILE = "gitml.log"


def state_dir(common_dir: Path) -> Path:
    d = common_dir / "gitml"
    d.mkdir(parents=True, exist_ok=True)
    return d


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, sort_keys=True, indent=1) + "\n").encode())


def count_hit(path: Path, doc: dict[str, Any]) -> None:
    """One more hit on a cache record (diagnostics; the tests read it). Replaced atomically but
    not fsync'd: the fsync of `state.write_json` was most of what a cache hit cost, and a count
    lost to a power cut costs nothing (a torn record reads as a miss). Best effort."""
    doc["hits"] = int(doc.get("hits") or 0) + 1
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(
    common_dir: Path, name: str = "run", timeout: float = 120.0, tell: Teller = EDGE
) -> Iterator[None]:
    """An exclusive lock on per-clone state; waits (saying so) up to `timeout` seconds.

    flock is released by the kernel when the process dies, so a kill -9 leaves no stale lock.
    """
    path = state_dir(common_dir) / f"{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not said:
                    tell.say(f"waiting for another gitml run in this clone ({path})")
                    said = True
                if time.monotonic() > deadline:
                    raise BadInput(
                        f"another gitml run holds {path} for over {timeout:.0f}s; "
                        "try again when it ends"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


MD5_DB = "md5.sqlite"
# File timestamps are coarser than the clock (a kernel tick; 2 s on FAT): a file whose mtime is
# within this of the time its hash was recorded may have been written again in the same tick.
RACY_MARGIN_NS = 2_000_000_000


class Md5Cache:
    """md5 of workspace files keyed by (path, inode, mtime_ns, ctime_ns, size): hash each
    version once.

    Git's racy-timestamp rule: an entry whose file's mtime is not older than the time the hash
    was recorded is not trusted (an edit within the same timestamp tick keeps size and mtime).
    The ctime catches an edit that put the mtime back. The database is a cache: one that cannot
    be read is set aside and rebuilt, with a warning.
    """

    def __init__(self, common_dir: Path, tell: Teller = EDGE):
        self.path = state_dir(common_dir) / MD5_DB
        self.tell = tell
        self.rebuilt: str | None = None  # why the database was rebuilt
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            self.db = self._rebuilt(exc)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            # WAL + synchronous=NORMAL: a commit appends to the log without an fsync (the first
            # commit of a 20k-file directory hashes and records 20k files). Still safe for
            # concurrent writers and a kill -9 (a process crash loses no committed row; a power
            # cut can lose the last few, which are hashed again). The journal mode is stored in
            # the file; a connection that cannot switch it now (another holds it) keeps the
            # rollback journal, with full syncs (NORMAL is only crash-safe with WAL).
            mode = None
            with contextlib.suppress(sqlite3.OperationalError):
                mode = db.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode and str(mode[0]).lower() == "wal":
                db.execute("PRAGMA synchronous=NORMAL")
            columns = [row[1] for row in db.execute("PRAGMA table_info(md5)")]
            if columns and "recorded" not in columns:  # a table of an older gitml: rebuilt
                db.execute("DROP TABLE md5")
            db.execute(
                "CREATE TABLE IF NOT EXISTS md5 (path TEXT PRIMARY KEY, inode INTEGER,"
                " mtime INTEGER, ctime INTEGER, size INTEGER, md5 TEXT, recorded INTEGER)"
            )
            db.execute("SELECT count(*) FROM md5").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def _rebuilt(self, exc: Exception) -> sqlite3.Connection:
        self.rebuilt = str(exc)
        self.tell.warn(
            f"{self.path} (gitml's cache of file hashes) cannot be read ({exc}): rebuilt; "
            "files are hashed again"
        )
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return self._open()

    def close(self) -> None:
        self.db.close()

    def md5(self, path: Path) -> str:
        st = path.stat()
        key = str(path)
        try:
            return self._lookup(path, key, st)
        except sqlite3.DatabaseError as exc:  # corrupted while open (another process)
            self.db.close()
            self.db = self._rebuilt(exc)
            return self._lookup(path, key, st)

    def _lookup(self, path: Path, key: str, st: os.stat_result) -> str:
        row = self.db.execute(
            "SELECT inode, mtime, ctime, size, md5, recorded FROM md5 WHERE path = ?", (key,)
        ).fetchone()
        if (
            row
            and tuple(row[:4]) == (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
            and st.st_mtime_ns < row[5] - RACY_MARGIN_NS
        ):
            return str(row[4])
        recorded = time.time_ns()
        value = md5_file(path)
        after = path.stat()
        if (after.st_mtime_ns, after.st_size) != (st.st_mtime_ns, st.st_size):
            return value  # changed while hashed: nothing recorded
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO md5 VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size, value, recorded),
            )
        return value

    def check(self) -> str | None:
        """Why the database is not sound (None: it is), for `gitml doctor`."""
        try:
            row = self.db.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        return None if row and row[0] == "ok" else str(row[0] if row else "no answer")

    def hash_path(self, path: Path, hash_name: str = "md5") -> str:
        """DVC's hash of a workspace file or directory (directories: the `.dir` hash)."""
        from gitml.dvcfiles import dir_md5, md5_for

        if path.is_dir():
            entries = []
            for sub in sorted(path.rglob("*")):
                if sub.is_file():
                    entries.append(
                        (sub.relative_to(path).as_posix(), self.hash_path(sub, hash_name))
                    )
            return dir_md5(entries)
        if hash_name == "md5-dos2unix":
            return md5_for(path.read_bytes(), hash_name)
        return self.md5(path)


TMP_DIR = "tmp"


def tmp_dir(common_dir: Path) -> Path:
    """Where restore writes a file before renaming it into the work tree: under `.git/`, so a
    kill leaves nothing `git add -A` would pick up. Names start with the writer's pid."""
    d = state_dir(common_dir) / TMP_DIR
    d.mkdir(exist_ok=True)
    return d


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftover_temporaries(common_dir: Path) -> list[Path]:
    """Temporary files of gitml runs that ended without removing them (killed)."""
    d = common_dir / "gitml" / TMP_DIR
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return []
    left = []
    for name in names:
        pid = name.split("-", 1)[0]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            left.append(d / name)
    return left


def sweep_temporaries(common_dir: Path) -> list[Path]:
    """Remove the leftovers of killed runs; returns what was removed."""
    removed = []
    for path in leftover_temporaries(common_dir):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def env_record_path(common_dir: Path, md5: str) -> Path:
    return state_dir(common_dir) / "environments" / f"{md5}.json"
