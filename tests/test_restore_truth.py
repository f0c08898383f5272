"""Restore never gives a false success (issue 15, findings 1-7): after any git command the work
tree holds HEAD's recorded bytes or a kept user edit, and gitml says which.

One repository per module, copied per test: the example with a second commit (8 trees) on
`main` and the branch `old` at the first (3 trees), hooks installed, objects pushed.
"""

from __future__ import annotations

import pytest

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import yaml
from conftest import Example

# builds its own template repository; the rule it checks has fast unit tests (tests/unit)
pytestmark = pytest.mark.slow

MODEL = "model/model.pkl"
EDIT = b"my local experiment"


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def recorded(ex: Example, rev: str) -> str:
    return str(yaml.safe_load(ex.show_file(rev, "gitml.lock"))["models"][MODEL]["md5"])


def cache_object(ex: Example, md5_: str) -> Path:
    return ex.root / ".dvc" / "cache" / "files" / "md5" / md5_[:2] / md5_[2:]


@pytest.fixture(scope="module")
def two_commits(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Example:
    base = tmp_path_factory.mktemp("two-commits")
    shutil.copytree(example_template.root.parent, base / "ex", symlinks=True)
    ex = Example(base / "ex" / "repo", base / "ex" / "dvc-remote")
    ex.git("branch", "old")
    ex.set_param("n_estimators: 3", "n_estimators: 8")
    assert ex.gitml("repro").returncode == 0
    ex.git("commit", "-qam", "8 trees")
    ex.dvc("push", "-q")
    return ex


@pytest.fixture
def ex(two_commits: Example, tmp_path: Path) -> Iterator[Example]:
    shutil.copytree(two_commits.root.parent, tmp_path / "ex", symlinks=True)
    yield Example(tmp_path / "ex" / "repo", tmp_path / "ex" / "dvc-remote")


def assert_holds(ex: Example, rev: str, *, link: str = "copy") -> None:
    """The model is `rev`'s recorded bytes, as DVC would lay it out."""
    model = ex.root / MODEL
    assert md5(model) == recorded(ex, rev)
    if link == "symlink":
        assert model.is_symlink()
        assert Path(os.readlink(model)) == cache_object(ex, recorded(ex, rev))
    else:
        assert not model.is_symlink()
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(model.stat().st_mode) == 0o666 & ~umask  # as DVC: not 0600


# --- finding 1: another committed version is not a user edit --------------------------------


def test_restore_replaces_another_committed_version_and_keeps_an_edit(ex: Example) -> None:
    # a clone without hooks (or GITML_SKIP): the revert leaves the 8-tree model in place
    ex.git("revert", "--no-edit", "HEAD", env={"GITML_SKIP": "1"})
    assert md5(ex.root / MODEL) == recorded(ex, "HEAD~1")
    res = ex.gitml("restore")
    assert res.returncode == 0, res.stderr
    assert "restored model/model.pkl" in res.stderr
    assert_holds(ex, "HEAD")

    # bytes in no cache are the user's: kept, named, exit 1
    ex.git("checkout", "-q", "HEAD~1", "--", "dvc.lock", "gitml.lock")
    (ex.root / MODEL).write_bytes(EDIT)
    res = ex.gitml("restore", "HEAD~1")
    assert res.returncode == 1, res.stderr
    assert "model/model.pkl was modified locally" in res.stderr and "your edit): kept" in res.stderr
    assert "--force" in res.stderr
    assert (ex.root / MODEL).read_bytes() == EDIT

    # --force saves them first and says how to get them back
    res = ex.gitml("restore", "--force", "HEAD~1")
    assert res.returncode == 0, res.stderr
    assert_holds(ex, "HEAD~1")
    saved = cache_object(ex, hashlib.md5(EDIT).hexdigest())
    assert saved.read_bytes() == EDIT and f"cp {saved} model/model.pkl" in res.stderr


# --- finding 2: modes and link types ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_cache_type_is_honoured(ex: Example, kind: str) -> None:
    ex.dvc("config", "--local", "cache.type", kind)
    ex.git("checkout", "-q", "old")
    model = ex.root / MODEL
    obj = cache_object(ex, recorded(ex, "old"))
    assert md5(model) == recorded(ex, "old")
    if kind == "symlink":
        assert_holds(ex, "old", link="symlink")
    else:
        assert model.stat().st_ino == obj.stat().st_ino  # no second copy on disk


def test_objects_fetched_into_a_shared_cache_get_dvcs_modes(ex: Example) -> None:
    ex.dvc("config", "cache.shared", "group")
    shutil.rmtree(ex.root / ".dvc" / "cache")
    (ex.root / MODEL).unlink()
    res = ex.gitml("restore")
    assert res.returncode == 0, res.stderr
    assert_holds(ex, "HEAD")
    obj = cache_object(ex, recorded(ex, "HEAD"))
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    assert stat.S_IMODE(obj.parent.stat().st_mode) == 0o2775


# --- finding 3: temporary files ---------------------------------------------------------------


def test_leftover_temporaries_are_reported_and_swept(ex: Example) -> None:
    tmp = ex.root / ".git" / "gitml" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    dead = 2**22 + 12345  # above any pid this machine gives out
    left = tmp / f"{dead}-abc-model.pkl.tmp"
    left.write_bytes(b"half a model")
    res = ex.gitml("doctor")
    assert "temporary files" in res.stdout and left.name in res.stdout, res.stdout
    ex.git("checkout", "-q", "old")
    assert not left.exists()
    assert_holds(ex, "old")
    assert ex.git("status", "--porcelain", "--ignored").stdout.count(".tmp") == 0


# --- finding 4: a .dir listing is verified -----------------------------------------------------


def test_a_listing_with_swapped_members_is_refused(ex: Example) -> None:
    shards = ex.root / "data" / "shards"
    shards.mkdir()
    (shards / "a.txt").write_bytes(b"alpha\n")
    (shards / "b.txt").write_bytes(b"bravo\n")
    ex.dvc("add", "-q", "data/shards")
    ex.git("add", "data/shards.dvc", "data/.gitignore")
    ex.git("commit", "-qm", "shards")
    listing_md5 = yaml.safe_load((ex.root / "data" / "shards.dvc").read_text())["outs"][0]["md5"]
    listing_obj = cache_object(ex, listing_md5)
    entries = json.loads(listing_obj.read_bytes())
    entries[0]["md5"], entries[1]["md5"] = entries[1]["md5"], entries[0]["md5"]
    listing_obj.chmod(0o644)
    listing_obj.write_bytes(json.dumps(entries, sort_keys=True).encode())
    shutil.rmtree(ex.remote)  # the remote cannot repair it
    shutil.rmtree(shards)
    res = ex.gitml("restore")
    assert res.returncode == 1, res.stderr
    assert "data/shards" in res.stderr and "corrupt" in res.stderr
    assert not (shards / "a.txt").exists() and not (shards / "b.txt").exists()


# --- finding 5: the md5 cache and racy timestamps ----------------------------------------------


def test_an_edit_that_keeps_size_and_mtime_is_seen(ex: Example) -> None:
    model = ex.root / MODEL
    past = time.time_ns() - 60_000_000_000
    os.utime(model, ns=(past, past))
    assert ex.gitml("restore").returncode == 0  # records the model's md5
    data = bytearray(model.read_bytes())
    data[-2] ^= 0xFF  # same size
    model.chmod(0o644)
    with open(model, "r+b") as f:
        f.write(bytes(data))
    os.utime(model, ns=(past, past))
    proc = ex.git("checkout", "-q", "old")
    assert "your edit" in proc.stderr, proc.stderr
    assert model.read_bytes() == bytes(data)


# --- finding 6: a corrupt md5.sqlite is rebuilt -------------------------------------------------


def test_a_corrupt_hash_cache_is_rebuilt_with_a_warning(ex: Example) -> None:
    db = ex.root / ".git" / "gitml" / "md5.sqlite"
    ex.gitml("restore")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 200)
    res = ex.gitml("doctor")
    assert "rebuilt" in res.stderr + res.stdout and "internal error" not in res.stderr
    db.write_bytes(b"this is not a database" * 200)
    proc = ex.git("checkout", "-q", "old")
    assert "rebuilt" in proc.stderr and "restored model/model.pkl" in proc.stderr
    assert_holds(ex, "old")
    sqlite3.connect(db).execute("SELECT count(*) FROM md5").fetchone()
    db.write_bytes(b"this is not a database" * 200)
    ex.git("checkout", "-q", "main")
    db.write_bytes(b"this is not a database" * 200)
    (ex.root / "NOTES.md").write_text("notes\n")
    ex.set_param("n_estimators: 8", "n_estimators: 9")
    assert ex.gitml("repro").returncode == 0
    db.write_bytes(b"this is not a database" * 200)
    proc = ex.git("commit", "-qam", "9 trees", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "rebuilt" in proc.stderr and "internal error" not in proc.stderr


# --- finding 7: a local remote that is gone ------------------------------------------------------


def test_a_missing_local_remote_is_named(ex: Example) -> None:
    ex.dvc("remote", "add", "-f", "-d", "gone", f"file://{ex.root.parent / 'unmounted'}")
    ex.dvc("remote", "remove", "local")
    shutil.rmtree(ex.root / ".dvc" / "cache")
    (ex.root / MODEL).unlink()  # with the cache gone, its bytes would be an edit, kept
    res = ex.gitml("restore", "old")
    assert res.returncode == 1, res.stderr
    assert "internal error" not in res.stderr
    assert recorded(ex, "old") in res.stderr
    assert "DVC remote 'gone'" in res.stderr and "does not exist" in res.stderr


# --- commands that run no hook ------------------------------------------------------------------


def test_check_and_doctor_say_the_work_tree_is_behind_after_reset_hard(ex: Example) -> None:
    second = recorded(ex, "HEAD")
    ex.git("reset", "-q", "--hard", "old")
    assert md5(ex.root / MODEL) == second
    for res in (ex.gitml("check"), ex.gitml("doctor")):
        out = res.stderr + res.stdout
        assert "does not hold HEAD's data" in out and "gitml restore" in out, out
        assert "model/model.pkl" in out
    assert ex.gitml("restore").returncode == 0
    assert_holds(ex, "old")
    assert "does not hold" not in ex.gitml("check").stderr


# --- every git command, with and without an edit ------------------------------------------------


def _prepare(ex: Example, start: str) -> None:
    if ex.git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip() != start:
        ex.git("checkout", "-q", start)


COMMANDS: dict[str, tuple[str, list[list[str]], str]] = {
    # name: (branch to start on, git commands, the commit whose data the work tree must hold)
    "checkout": ("main", [["checkout", "-q", "old"]], "old"),
    "switch": ("main", [["switch", "-q", "old"]], "old"),
    "merge": ("old", [["merge", "-q", "--ff-only", "main"]], "main"),
    "pull": ("old", [["pull", "-q", "--ff-only", ".", "main"]], "main"),
    "rebase-ff": ("old", [["rebase", "-q", "main"]], "main"),
    "revert": ("main", [["revert", "--no-edit", "HEAD"]], "old"),
    "cherry-pick": ("old", [["cherry-pick", "main"]], "main"),
    "am": ("old", [["am", "-q", "PATCH"]], "main"),
    "reset-hard": ("main", [["reset", "-q", "--hard", "old"]], "old"),
    "stash-pop": ("main", [["stash", "-q"], ["stash", "pop", "-q"]], "old"),
}


@pytest.mark.slow
@pytest.mark.parametrize("link", ["copy", "symlink"])
@pytest.mark.parametrize("edited", [False, True], ids=["clean", "edited"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_git_commands_leave_heads_data_or_a_kept_edit(
    ex: Example, name: str, edited: bool, link: str
) -> None:
    start, commands, target = COMMANDS[name]
    if link != "copy":
        ex.dvc("config", "--local", "cache.type", link)
    _prepare(ex, start)
    patch = ex.root.parent / "change.patch"
    (patch).write_text(ex.git("format-patch", "-1", "main", "--stdout").stdout)
    if name == "stash-pop":  # the stash holds old's DVC files: popping them runs no hook
        for path in ("dvc.lock", "gitml.lock"):
            (ex.root / path).write_text(ex.show_file("old", path))
    target_md5 = recorded(ex, target)
    model = ex.root / MODEL
    if edited:
        model.unlink()
        model.write_bytes(EDIT)
    printed = ""
    for cmd in commands:
        cmd = [str(patch) if c == "PATCH" else c for c in cmd]
        proc = ex.git(*cmd)
        printed += proc.stderr
    no_hook = name in ("reset-hard", "stash-pop")
    if edited:
        assert model.read_bytes() == EDIT
        assert not model.is_symlink()
        if not no_hook:
            assert "model/model.pkl was modified locally" in printed, printed
        res = ex.gitml("restore")
        assert res.returncode == 1 and "your edit" in res.stderr, res.stderr
        assert model.read_bytes() == EDIT
        return
    if no_hook:
        assert "gitml" not in printed
        assert md5(model) != target_md5
        check = ex.gitml("check")
        if name == "stash-pop":  # the popped dvc.lock is not HEAD's: DVC's checkout is the fix
            assert "uncommitted dvc.lock/.dvc files" in check.stderr, check.stderr
            assert "dvc checkout model/model.pkl" in check.stderr
            return
        assert "does not hold HEAD's data" in check.stderr, check.stderr
        assert ex.gitml("restore").returncode == 0
    else:
        assert "restored model/model.pkl" in printed, printed
    assert ex.git("rev-parse", "HEAD").stdout != ""
    assert md5(model) == target_md5
    assert_holds(ex, "HEAD", link=link)
    res = ex.gitml("restore")
    assert res.returncode == 0 and "already holds" in res.stderr, res.stderr
