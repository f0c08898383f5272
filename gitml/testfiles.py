"""The files of a model's tests: what a pytest run of gitml.yaml's `tests:` path reads.

Those are the staged test files, every conftest.py from the root down to them, and every file of
the outermost package above them (with tests/__init__.py, all of tests/: the helpers the tests
import, data fixtures). Their blob shas make the tests' content hash (gitml.lock's `tests.hash`).
pytest runs them in place, in the workspace, so a run happens only when the workspace holds the
staged bytes of those files and no untracked Python file pytest would pick up; the pytest config
file a run uses is the workspace's (pytest's own search).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from pathlib import Path

from gitml import git, paths
from gitml.errors import BadInput
from gitml.fileio import sha256_bytes
from gitml.snapshot import Snapshot


def test_files(snap: Snapshot, tests: str) -> list[str]:
    """The staged test files under `tests` and every conftest.py from the root down to them."""
    files = [tests] if snap.has(tests) else snap.files_under(tests)
    parts = tests.split("/")
    for i in range(len(parts)):
        conftest = posixpath.join(*parts[:i], "conftest.py") if i else "conftest.py"
        if snap.has(conftest):
            files.append(conftest)
    return sorted(set(files))


def _package_inits(snap: Snapshot, tests: str) -> list[str]:
    """The staged `__init__.py` of each directory above `tests`, shallowest first."""
    parts = tests.split("/")
    inits = [posixpath.join(*parts[:i], "__init__.py") for i in range(1, len(parts))]
    return [p for p in inits if snap.has(p)]


def read_files(snap: Snapshot, tests: str) -> list[str]:
    """The staged files a run of `tests` reads from the repository: the test files and
    conftest.py files (`test_files`), and every file of the outermost package above the tests."""
    files = test_files(snap, tests)
    inits = _package_inits(snap, tests)
    if inits:
        files += inits + snap.files_under(posixpath.dirname(inits[0]))
    return sorted(set(files))


def tests_hash(snap: Snapshot, tests: str) -> str:
    """What gitml.lock records as the tests' hash: every file a run reads (`read_files`)."""
    listing = "".join(f"{p}\0{snap.blob_sha(p)}\n" for p in read_files(snap, tests))
    return hashlib.sha256(listing.encode()).hexdigest()


def run_files(snap: Snapshot, tests: str) -> list[str]:
    """`read_files`; bad input when the tests path has no staged file at all."""
    if not any(paths.is_under(f, tests) for f in test_files(snap, tests)):
        where = "the index" if snap.rev is None else f"commit {snap.rev[:12]}"
        raise BadInput(
            f"gitml.yaml: the tests of a model, {tests}, have no files in {where}"
            + (f": `git add {tests}`" if snap.rev is None else "")
        )
    return read_files(snap, tests)


def watch_scopes(snap: Snapshot, tests: str) -> list[str]:
    """Where files that pytest would read for `tests` can be: the tests path (or the outermost
    package holding it), and each conftest.py and __init__.py on the way down to it. A staged
    change below any of them is a change of the model's tests (the commit hook watches them)."""
    parts = tests.split("/")
    inits = _package_inits(snap, tests)
    top = [posixpath.dirname(inits[0])] if inits else [tests]
    above = [posixpath.join(*parts[:i], "conftest.py") for i in range(len(parts))]
    above += [posixpath.join(*parts[:i], "__init__.py") for i in range(1, len(parts))]
    return top + above


# --- the workspace against the staged files --------------------------------------------------


def _workspace_blob_sha(path: Path) -> str | None:
    """The git blob sha of a workspace file as it is on disk (a symlink: of its target path, as
    git stores one), None when there is none. No clean filter or line-end conversion applied."""
    try:
        if path.is_symlink():
            data = os.fsencode(os.readlink(path))
            return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        if not path.is_file():
            return None
        digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None


def _same_once_cleaned(root: Path, snap: Snapshot, files: list[str]) -> set[str]:
    """Those of `files` (regular files) that git stores as their staged blob once its clean
    filters and line-end conversion (core.autocrlf, .gitattributes) apply: git hashes them."""
    if not files:
        return set()
    proc = git.run(["hash-object", "--", *files], root, check=False)
    shas = proc.stdout.decode().split() if proc.returncode == 0 else []
    if len(shas) != len(files):
        return set()
    return {p for p, sha in zip(files, shas, strict=True) if sha == snap.blob_sha(p)}


def differing_files(root: Path, snap: Snapshot, files: list[str]) -> list[str]:
    """Which of `files` differ in the workspace from their staged (or committed) version."""
    differ = [p for p in files if _workspace_blob_sha(root / p) != snap.blob_sha(p)]
    regular = [p for p in differ if not (root / p).is_symlink() and (root / p).is_file()]
    same = _same_once_cleaned(root, snap, regular)
    return [p for p in differ if p not in same]


def untracked_test_files(root: Path, snap: Snapshot, tests: str) -> list[str]:
    """Python files where pytest would collect or import them for `tests`, that git does not
    track (ignored files aside): they would take part in an in-place run the commit lacks."""
    proc = git.run(
        ["--literal-pathspecs", "ls-files", "-z", "--others", "--exclude-standard", "--",
         *watch_scopes(snap, tests)],
        root,
    )  # fmt: skip
    return sorted(p for p in git.split_z(proc.stdout) if p.endswith(".py") and not snap.has(p))


def refuse_unstaged(root: Path, snap: Snapshot, model: str, tests: str, files: list[str]) -> None:
    """pytest runs in place, on the workspace: refuse (naming them) when the files it would read
    there are not the ones the commit stages. gitml never stashes them itself: a hook killed
    between a stash and its pop would leave the user's work in a stash they do not know of."""
    differ = differing_files(root, snap, files)
    untracked = untracked_test_files(root, snap, tests)
    if not (differ or untracked):
        return
    named = []
    if differ:
        verb = "differs" if len(differ) == 1 else "differ"
        named.append(f"{', '.join(differ)} {verb} from the staged version")
    if untracked:
        verb = "is" if len(untracked) == 1 else "are"
        named.append(f"{', '.join(untracked)} {verb} not staged (untracked)")
    raise BadInput(
        f"{model}: its model tests ({tests}) run in the repository as it is, and "
        + "; ".join(named)
        + ": they would judge files the commit does not contain. Stage them (`git add -- "
        + " ".join(differ + untracked)
        + "`), or set the changes aside until the commit is made (`git stash push --keep-index "
        "--include-untracked`, then `git stash pop`)"
    )


# --- the pytest config file ------------------------------------------------------------------

# The names pytest looks for, in its order (pytest 9 added the two TOML files)
_PYTEST_CONFIGS = (
    "pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini",
    "setup.cfg",
)  # fmt: skip


def _has_pytest_config(path: Path) -> bool:
    """Whether pytest would take `path` as its config file (its own rules, per file name)."""
    import configparser
    import tomllib

    if path.name in ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini"):
        return True  # config even when empty
    try:
        text = path.read_text(encoding="utf-8")
        if path.name == "pyproject.toml":
            tool = tomllib.loads(text).get("tool") or {}
            return isinstance(tool, dict) and "pytest" in tool
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
        return parser.has_section("pytest" if path.name == "tox.ini" else "tool:pytest")
    except (OSError, UnicodeDecodeError, ValueError, configparser.Error):
        return False


def pytest_config(root: Path, tests: str) -> Path | None:
    """The workspace's pytest config file that a run of `tests` from the repository would use
    (pytest's search: from the tests path up to the root). Like the project's code, it is read
    from the workspace: its relative paths (`pythonpath`, ...) resolve against the repository."""
    parts = [p for p in tests.split("/") if p]
    for depth in range(len(parts), -1, -1):
        folder = root.joinpath(*parts[:depth])
        for name in _PYTEST_CONFIGS:
            if (folder / name).is_file() and _has_pytest_config(folder / name):
                return folder / name
    return None


def config_id(root: Path, config: Path | None) -> list[str] | None:
    """[path, sha256] of the workspace pytest config a run uses (None: there is none)."""
    if config is None:
        return None
    try:
        data = config.read_bytes()
    except OSError as exc:
        raise BadInput(f"{config}: cannot read this pytest config ({exc.strerror})") from None
    return [config.relative_to(root).as_posix(), sha256_bytes(data)]
