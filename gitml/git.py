"""The one door to git: every git call in gitml goes through `run`.

Stdlib only: the commit hook's fast path uses this module.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from gitml.errors import GitError

# Variables git sets while a hook runs. Child processes (dvc, pytest, a worktree's git) must not
# inherit them: DVC's git backends ignore GIT_INDEX_FILE, and a GIT_DIR leaks into other repos.
_HOOK_ENV = (
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_PREFIX",
    "GIT_EDITOR",
    "GIT_AUTHOR_DATE",
    "GIT_REFLOG_ACTION",
    "GIT_EXEC_PATH",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
    "GIT_COMMON_DIR",
)

ZERO_SHA = "0" * 40


def no_git_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for child processes: git's hook variables removed."""
    env = dict(os.environ if environ is None else environ)
    for name in _HOOK_ENV:
        env.pop(name, None)
    return env


@contextlib.contextmanager
def without_git_env() -> Iterator[None]:
    """For DVC called in this process: the variables git set for the hook removed meanwhile."""
    saved = dict(os.environ)
    clean = no_git_env()
    for name in list(os.environ):
        if name not in clean:
            del os.environ[name]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# Where each git command run is reported (with -v, the CLI's debug lines); None: nowhere.
trace: Callable[[str], None] | None = None


def run(
    args: Sequence[str],
    cwd: Path | str | None = None,
    *,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS`; raise GitError with git's own message when `check` and it fails."""
    cmd = ["git", *args]
    started = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=cwd, input=input, capture_output=True, env=None if env is None else dict(env)
    )
    if trace is not None:
        ms = (time.monotonic() - started) * 1000
        trace(f"{' '.join(cmd)}: exit {proc.returncode}, {ms:.0f} ms")
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise GitError(f"`{' '.join(cmd)}` failed: {err or 'exit ' + str(proc.returncode)}")
    return proc


def out(args: Sequence[str], cwd: Path | str | None = None, **kw: object) -> str:
    return run(args, cwd, **kw).stdout.decode().strip()  # type: ignore[arg-type]


def toplevel_and_common_dir(cwd: Path | str | None = None) -> tuple[Path, Path]:
    """The work tree root and the common git dir (shared by all worktrees of a clone)."""
    proc = run(["rev-parse", "--show-toplevel", "--git-common-dir"], cwd, check=False)
    if proc.returncode != 0:
        raise GitError("not a git repository (run gitml inside a git work tree)")
    top, common = proc.stdout.decode().splitlines()[:2]
    common_path = Path(common)
    if not common_path.is_absolute():
        common_path = (Path(cwd or ".") / common_path).resolve()
    return Path(top), common_path


def split_z(data: bytes) -> list[str]:
    return [p.decode() for p in data.split(b"\0") if p]


def staged_names(cwd: Path) -> list[str]:
    """Paths staged for the commit (honours GIT_INDEX_FILE, as the hook must)."""
    proc = run(
        ["diff", "--cached", "--name-only", "--no-renames", "--no-ext-diff", "-z"], cwd, check=False
    )
    if proc.returncode != 0:  # no HEAD yet: everything in the index is staged
        proc = run(["ls-files", "-z"], cwd)
    return split_z(proc.stdout)


def index_entries(cwd: Path, pathspecs: Iterable[str] = ()) -> dict[str, str]:
    """{path: blob sha} of the index (honours GIT_INDEX_FILE)."""
    proc = run(["ls-files", "-s", "-z", "--", *pathspecs], cwd)
    entries: dict[str, str] = {}
    for record in split_z(proc.stdout):
        meta, _, path = record.partition("\t")
        parts = meta.split()
        if len(parts) >= 3 and parts[2] in ("0", "2"):  # stage 0; "ours" during a conflict
            entries[path] = parts[1]
    return entries


def tree_entries(cwd: Path, rev: str, pathspecs: Iterable[str] = ()) -> dict[str, str]:
    """{path: blob sha} of the tree of commit `rev`."""
    proc = run(["ls-tree", "-r", "-z", "--full-tree", rev, "--", *pathspecs], cwd)
    entries: dict[str, str] = {}
    for record in split_z(proc.stdout):
        meta, _, path = record.partition("\t")
        parts = meta.split()
        if len(parts) >= 3 and parts[1] == "blob":
            entries[path] = parts[2]
    return entries


def cat_blobs(cwd: Path, shas: Sequence[str]) -> list[bytes]:
    """The contents of many blobs through one `git cat-file --batch` process."""
    if not shas:
        return []
    proc = run(["cat-file", "--batch"], cwd, input=("\n".join(shas) + "\n").encode())
    data, pos, blobs = proc.stdout, 0, []
    for _ in shas:
        eol = data.index(b"\n", pos)
        header = data[pos:eol].split()
        if len(header) < 3:
            raise GitError(f"git object {header[0].decode()} is missing")
        size = int(header[2])
        blobs.append(data[eol + 1 : eol + 1 + size])
        pos = eol + 1 + size + 1
    return blobs


class BlobReader:
    """One long-lived `git cat-file --batch` process: reading a blob is a round trip on its
    pipes instead of a process start (3-10 ms each, and a commit hook reads a dozen files).

    Objects are asked for by sha, so one process serves the index and every commit alike. If
    the process dies, reads fall back to `cat_blobs`. Closed at exit, or by `close()`.
    """

    CHUNK = 500  # shas written at once: far below a pipe's buffer, so writing never blocks

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        return self._proc

    def read(self, shas: Sequence[str]) -> list[bytes]:
        """The contents of the blobs `shas`, in order; GitError naming a missing one."""
        blobs: list[bytes] = []
        try:
            for start in range(0, len(shas), self.CHUNK):
                blobs.extend(self._read_chunk(shas[start : start + self.CHUNK]))
        except (OSError, ValueError, EOFError):  # the process died or its pipe broke
            self.close()
            return blobs + cat_blobs(self.cwd, shas[len(blobs) :])
        return blobs

    def _read_chunk(self, shas: Sequence[str]) -> list[bytes]:
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(("\n".join(shas) + "\n").encode())
        proc.stdin.flush()
        blobs, missing = [], []
        for sha in shas:  # every answer is read, even after a missing one: the pipe stays in step
            header = proc.stdout.readline().split()
            if not header:
                raise EOFError("git cat-file --batch ended")
            if len(header) < 3:  # `<sha> missing` (or ambiguous)
                missing.append(sha)
                blobs.append(b"")
                continue
            data = proc.stdout.read(int(header[2]) + 1)  # the contents, then a newline
            if len(data) != int(header[2]) + 1:
                raise EOFError("git cat-file --batch ended")
            blobs.append(data[:-1])
        if missing:
            raise GitError(f"git object {missing[0]} is missing")
        return blobs

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_reader: BlobReader | None = None


def blob_reader(cwd: Path) -> BlobReader:
    """The process-wide BlobReader for the repository at `cwd` (one at a time: asking for
    another repository's closes the previous one, so a long run never piles up processes)."""
    global _reader
    if _reader is None or _reader.cwd != cwd:
        if _reader is None:
            atexit.register(close_blob_reader)
        else:
            _reader.close()
        _reader = BlobReader(cwd)
    return _reader


def close_blob_reader() -> None:
    if _reader is not None:
        _reader.close()


def resolve_commit(cwd: Path, rev: str) -> str:
    proc = run(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        cwd,
        check=False,
    )
    if proc.returncode != 0:
        from gitml.errors import BadInput

        raise BadInput(f"unknown revision {rev!r}: no such commit in this repository")
    return proc.stdout.decode().strip()


def head_commit(cwd: Path) -> str | None:
    proc = run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd, check=False)
    return proc.stdout.decode().strip() or None


def hash_object_w(cwd: Path, data: bytes) -> str:
    return out(["hash-object", "-w", "--stdin"], cwd, input=data)


def update_index_blob(cwd: Path, path: str, sha: str, env: Mapping[str, str] | None = None) -> None:
    run(["update-index", "--add", "--cacheinfo", f"100644,{sha},{path}"], cwd, env=env)


def config_get(cwd: Path, key: str, *args: str) -> str | None:
    proc = run(["config", *args, "--get", key], cwd, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def git_dir(cwd: Path) -> Path:
    """This worktree's own git dir (not the common one)."""
    return Path(out(["rev-parse", "--absolute-git-dir"], cwd))


def operation_in_progress(cwd: Path) -> str | None:
    """The rebase, merge, cherry-pick, revert or bisect-free operation git is in the middle of."""
    d = git_dir(cwd)
    for marker, name in (
        ("rebase-merge", "rebase"),
        ("rebase-apply", "rebase"),
        ("MERGE_HEAD", "merge"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
    ):
        if (d / marker).exists():
            return name
    return None
