"""Real repositories for the tests: git, DVC with a local remote, the example pipeline.

The expensive repo (dvc init, dvc repro of the example, a first commit through gitml's hooks,
dvc push) is built once per session and copied per test, as DVC's own test fixtures do.
"""

from __future__ import annotations

import compileall
import fcntl
import os
import pickle
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

PROJECT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
BIN = Path(sys.executable).parent


def unfolded_lock_lines(text: str) -> list[str]:
    """gitml.lock's lines with a profile's one-line lists of numbers (quantiles, histogram
    edges and counts: gitml/locklayout.py) written a line per number, as PyYAML writes them."""
    found = []
    for line in text.splitlines():
        key, _, rest = line.partition(": [")
        if rest.endswith("]") and key.strip() in ("quantiles", "edges", "counts"):
            indent = key[: len(key) - len(key.lstrip())]
            found += [f"{key}:", *(f"{indent}- {v}" for v in rest[:-1].split(", "))]
        else:
            found.append(line)
    return found


def isolate_environment(home: Path, name: str = "gitml tests") -> None:
    """One environment for every git/dvc/gitml started from this process: isolated from the
    user's (no user git config, no DVC analytics, this interpreter's bin first on PATH)."""
    home.mkdir(parents=True, exist_ok=True)
    # pip's cache stays the user's (it would follow HOME): the tests that install gitml into a
    # new venv, as the README's commands do, then take the wheels this machine already has
    # instead of downloading every one of them again.
    os.environ.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        f"[user]\n\tname = {name}\n\temail = tests@gitml.invalid\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    os.environ.update(
        {
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
            # DVC's global config is then HOME/.config/dvc; its system one an empty directory
            # (not the machine's /etc/xdg/dvc)
            "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system-config"),
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for var in (
        *("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GITML_SKIP"),
        *("XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "DVC_GLOBAL_CONFIG_DIR"),
    ):
        os.environ.pop(var, None)


# The modules that take longest, run first: pytest-xdist hands out test files in collection order
# (with --no-loadscope-reorder, pyproject's addopts), so a long one collected last would run alone
# at the end while the other worker idles. xdist gives each worker one file, then one more while
# the worker has two tests or fewer left. Their order: the worker-seconds of each in CI's slow
# part on a quiet machine (2026-12-04, junit XML): Spark 185, the README demo 110, reproduce 110,
# merge edges 102, the long GTO sequences 90, merge matrix 86, model tests 85, restore 69, model
# formats 57, kill 42, the S3 remote 40, fuzz 27; every other module under 40.
LONGEST_FIRST = (
    *("test_spark.py", "test_demo.py", "test_reproduce.py", "test_merge_edges.py"),
    *("test_registry_gto_long.py", "test_merge_matrix.py", "test_modeltests.py"),
    *("test_restore_truth.py", "test_model_formats.py", "test_kill.py", "test_spark_remote.py"),
    *("test_fuzz.py", "test_registry_gto.py"),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each module's tests keep their order


def pytest_configure(config: pytest.Config) -> None:
    # The gitml processes the tests start run with PYTHONDONTWRITEBYTECODE (nothing written into
    # the example repos) and so would compile gitml from source in every one of thousands of
    # runs (~60 ms each): compile the checkout's package once, as pip does for an installed one.
    compileall.compile_dir(PROJECT / "gitml", quiet=1)
    # per session: test runs may overlap on one machine
    isolate_environment(Path(tempfile.mkdtemp(prefix="gitml-tests-home-")))


def run(
    *cmd: str | Path,
    cwd: Path,
    check: bool = True,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env=None if env is None else {**os.environ, **env},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{cmd} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def run_in_terminal(cmd: list[str], cwd: Path, timeout: float = 300) -> tuple[int, str]:
    """Run `cmd` with stdin, stdout and stderr on a pseudo-terminal, as a user at a shell."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([master], [], [], left)[0]:
                proc.kill()
                pytest.fail(f"{cmd} still running after {timeout} s:\n{b''.join(chunks)!r}")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def gitml(
    *args: str | Path, cwd: Path, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "gitml", *args, cwd=cwd, check=check, env=env)


def git(
    *args: str | Path, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run("git", *args, cwd=cwd, check=check, env=env)


def dvc(*args: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "dvc", *args, cwd=cwd, check=check)


@dataclass
class Example:
    """A copy of the example project: `root` is the git + DVC repo, `remote` its DVC remote."""

    root: Path
    remote: Path

    def git(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return git(*args, cwd=self.root, check=check, env=env)

    def gitml(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return gitml(*args, cwd=self.root, env=env)

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return dvc(*args, cwd=self.root, check=check)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def show_file(self, rev: str, path: str) -> str:
        return self.git("show", f"{rev}:{path}").stdout

    def lock(self, rev: str = "HEAD") -> dict[str, Any]:
        """gitml.lock as committed at `rev`."""
        doc: dict[str, Any] = yaml.safe_load(self.show_file(rev, "gitml.lock"))
        return doc

    def without_model_checks(self) -> None:
        """gitml.yaml without the model's tests and gates, for tests of everything else: the
        model reads data/wine.csv, so each commit would otherwise run its pytest suite too."""
        cfg = self.root / "gitml.yaml"
        text = cfg.read_text()
        for line in ("    tests: tests/model", "    gates:\n      - accuracy >= 0.9\n"):
            start = text.index(line)
            text = text[:start] + text[text.index("\n", start + len(line) - 1) + 1 :]
        cfg.write_text(text)
        assert "tests:" not in text and "gates:" not in text

    def set_param(self, old: str, new: str) -> None:
        params = self.root / "params.yaml"
        text = params.read_text()
        assert old in text
        params.write_text(text.replace(old, new))


def build_example(base: Path) -> Example:
    repo, remote = base / "repo", base / "dvc-remote"
    shutil.copytree(PROJECT / "templates" / "example", repo)
    remote.mkdir()
    git("init", "-q", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "local", "../dvc-remote", cwd=repo)  # stored relative to .dvc/
    run(sys.executable, "src/make_data.py", "data/wine.csv", cwd=repo)
    dvc("add", "-q", "data/wine.csv", cwd=repo)
    ex = Example(repo, remote)
    assert ex.gitml("init").returncode == 0
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "first model")
    ex.dvc("push", "-q")
    assert any((remote / "files" / "md5").iterdir()), "dvc push reached no remote"
    return ex


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]
) -> T:
    """What `build(directory)` returns, built once per test run: under pytest-xdist, once for all
    its workers (the first to ask builds, under a file lock, the others wait and read the result),
    as xdist's documentation advises for session fixtures. Callers copy what they change."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, above each worker's own
    built = root / f"built-{name}.pickle"
    with (root / f"built-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if built.exists():
            result: T = pickle.loads(built.read_bytes())
            return result
        directory = root / f"built-{name}"
        shutil.rmtree(directory, ignore_errors=True)  # what a failed build left
        directory.mkdir()
        result = build(directory)
        built.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(scope="session")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Example:
    return built_once(tmp_path_factory, "example", build_example)


@pytest.fixture
def example(example_template: Example, tmp_path: Path) -> Iterator[Example]:
    """A fresh copy of the committed example project, hooks installed, objects pushed."""
    yield copy_example(example_template, tmp_path / "ex")


def copy_example(template: Example, base: Path) -> Example:
    """A fresh copy of a template project (its repo and its DVC remote) under `base`."""
    shutil.copytree(template.root.parent, base, symlinks=True)
    return Example(base / template.root.name, base / template.remote.name)
