"""gitml/keyfiles.py: the installed shim (sh) and Python agree on which staged paths are key files.

The shim is rendered as `gitml init` writes it; its own lines run in sh, its own `grep -E` on
what `git diff --cached --name-only` prints, and its own `git ls-files` on a real index.
"""

from __future__ import annotations

import posixpath
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from conftest import git

from gitml import hook_install, keyfiles

# (path, is it a key file)
TABLE = [
    ("dvc.yaml", True),
    ("sub/dvc.yaml", True),
    ("dvc.lock", True),
    ("deep/er/dvc.lock", True),
    ("x.dvc", True),
    ("data/raw data.csv.dvc", True),
    (".dvc", True),  # fnmatch's `*` matches nothing too
    ("gitml.yaml", True),
    ("gitml.lock", True),
    ("params.yaml", True),
    ("sub/params.yaml", True),
    ("a.dvc/b", False),
    ("dvc.yaml.bak", False),
    ("my-dvc.lock", False),
    ("xdvc.yaml", False),
    ("other/dvc.yaml/readme", False),
    ("x.dvcx", False),
    ("params.yml", False),
    ("gitml.yaml~", False),
    ("has space/dvc.yaml", True),
    ("has space.txt", False),
    ('quote"d/dvc.yaml', True),
    ('quote"d.txt', False),
    ("it's/x.dvc", True),
    ("it's.txt", False),
    ("tab\there.dvc", True),
    ("ünïcode/dvc.lock", True),
    ("ünïcode.txt", False),
]


def shim_lines(prefixes: tuple[str, ...]) -> str:
    """The lines of the installed pre-commit shim that start with `prefixes`, as `gitml init`
    writes them."""
    text = hook_install.shim("pre-commit")
    lines = [line for line in text.splitlines() if line.startswith(prefixes)]
    assert len(lines) == len(prefixes), lines
    return "\n".join(lines) + "\n"


def sh(script: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["sh", "-c", script], cwd=cwd, input=stdin, capture_output=True)


@pytest.fixture(scope="module")
def staged_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose index holds every path of TABLE (and one commit before them)."""
    root = tmp_path_factory.mktemp("keys")
    git("init", "-q", cwd=root)
    git("commit", "-q", "--allow-empty", "-m", "empty", cwd=root)
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"], cwd=root, input=b"x\n", capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    entries = b"".join(f"100644 {blob}\t{path}".encode() + b"\0" for path, _ in TABLE)
    subprocess.run(
        ["git", "update-index", "--add", "-z", "--index-info"], cwd=root, input=entries, check=True
    )
    return root


def test_python_list() -> None:
    for path, expected in TABLE:
        assert keyfiles.is_key_file(path) is expected, path


def test_the_shims_grep_agrees_with_python(staged_repo: Path) -> None:
    """Each name as the shim sees it (git's --name-only line, quoted by git when unusual):
    grep -E with the shim's regex matches exactly the key files; a name git quoted always
    matches (the shim leaves it to gitml), so it never hides a key file."""
    lines = git("diff", "--cached", "--name-only", "--no-renames", cwd=staged_repo).stdout
    shown = lines.splitlines()
    raw = git("diff", "--cached", "--name-only", "--no-renames", "-z", cwd=staged_repo).stdout
    names = [n for n in raw.split("\0") if n]
    assert sorted(names) == sorted(p for p, _ in TABLE) and len(shown) == len(names)
    script = shim_lines(("KEY_FILES_REGEX=",)) + 'grep -E "$KEY_FILES_REGEX" || true\n'
    proc = sh(script, staged_repo, lines.encode())
    assert proc.returncode == 0, proc.stderr
    matched = set(proc.stdout.decode().splitlines())
    for name, line in zip(names, shown, strict=True):
        if line.startswith('"'):
            assert line in matched, line  # unusual bytes: gitml decides
        else:
            assert line == name
            assert (line in matched) is keyfiles.is_key_file(name), name
    assert any(line.startswith('"') for line in shown)  # the table does test quoted names


def test_the_shims_listing_is_pythons(staged_repo: Path) -> None:
    """The shim's `git ls-files` of the key files gives the bytes Python writes as the
    watch-list's key, and lists exactly the key files that key the watch-list."""
    script = shim_lines(("staged_key_files_listing()",)) + "staged_key_files_listing\n"
    proc = sh(script, staged_repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == keyfiles.staged_listing(staged_repo)
    listed = git("ls-files", "-z", *keyfiles.LISTING_PATHSPECS, cwd=staged_repo).stdout
    keying = [k.name for k in keyfiles.KEY_FILES if k.keys_watch_list]
    want = {p for p, _ in TABLE if any(fnmatchcase(posixpath.basename(p), n) for n in keying)}
    assert {n for n in listed.split("\0") if n} == want
    assert "params.yaml" not in want and "sub/dvc.yaml" in want


def test_an_older_shim_is_not_current() -> None:
    """A shim whose key-file list differs from this gitml's is reported as another version's
    (`gitml doctor`), whatever interpreter it names."""
    text = hook_install.shim("pre-commit", "/opt/other python/bin/python3")
    assert hook_install.installed_python(text) == "/opt/other python/bin/python3"
    assert hook_install.shim_is_current(text, "pre-commit")
    older = text.replace(keyfiles.shim_regex(), keyfiles.shim_regex().replace("|params\\.yaml", ""))
    assert older != text and not hook_install.shim_is_current(older, "pre-commit")
