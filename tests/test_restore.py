"""Restoring a commit's exact bytes: post-checkout/post-merge/post-rewrite and `gitml restore`."""

from __future__ import annotations

import pytest

import hashlib
import json
import shutil
import sys
from pathlib import Path

import yaml
from conftest import Example, dvc, git, gitml, run_in_terminal


def md5(path) -> str:  # type: ignore[no-untyped-def]
    return hashlib.md5(path.read_bytes()).hexdigest()


def recorded(ex: Example, rev: str, path: str = "model/model.pkl") -> str:
    return yaml.safe_load(ex.show_file(rev, "gitml.lock"))["models"][path]["md5"]


def second_commit(ex: Example, trees: int = 8) -> None:
    ex.set_param("n_estimators: 3", f"n_estimators: {trees}")
    assert ex.gitml("repro").returncode == 0
    ex.git("commit", "-qam", f"{trees} trees")


def test_checkout_of_an_older_commit_restores_its_model(example: Example) -> None:
    first = example.head()
    second_commit(example)
    model = example.root / "model" / "model.pkl"
    assert md5(model) == recorded(example, "HEAD")
    proc = example.git("checkout", "-q", first)
    assert "restored model/model.pkl" in proc.stderr
    assert md5(model) == recorded(example, first)
    example.git("checkout", "-q", "main")
    assert md5(model) == recorded(example, "main")


@pytest.mark.slow
def test_modified_file_is_never_overwritten(example: Example) -> None:
    first = example.head()
    second_commit(example)
    model = example.root / "model" / "model.pkl"
    model.chmod(0o644)
    model.write_bytes(b"my local experiment")
    proc = example.git("checkout", "-q", first)
    assert "modified locally" in proc.stderr
    assert model.read_bytes() == b"my local experiment"


def test_file_checkout_and_branch_switch_without_data_change_are_quiet(example: Example) -> None:
    example.git("checkout", "-q", "-b", "feature")
    (example.root / "NOTES.md").write_text("x\n")
    example.git("add", "NOTES.md")
    example.git("commit", "-qm", "notes")
    proc = example.git("checkout", "-q", "main")
    assert proc.stderr == ""
    (example.root / "params.yaml").write_text("garbage: [\n")
    proc = example.git("checkout", "--", "params.yaml")
    assert proc.stderr == ""


@pytest.mark.slow
def test_rebase_restores_once_at_the_end(example: Example) -> None:
    base = example.head()
    example.git("checkout", "-q", "-b", "feature")
    second_commit(example, 8)
    example.git("checkout", "-q", "main")
    (example.root / "NOTES.md").write_text("x\n")
    example.git("add", "NOTES.md")
    example.git("commit", "-qm", "notes on main")
    example.git("checkout", "-q", "feature")
    proc = example.git("rebase", "-q", "main")
    assert proc.returncode == 0
    assert md5(example.root / "model" / "model.pkl") == recorded(example, "feature")
    assert example.git("status", "--porcelain").stdout == ""
    assert base != example.head()


@pytest.mark.slow
def test_merge_restores_the_merged_model(example: Example) -> None:
    example.git("checkout", "-q", "-b", "feature")
    second_commit(example, 8)
    example.git("checkout", "-q", "main")
    proc = example.git("merge", "-q", "--ff-only", "feature")
    assert proc.returncode == 0
    assert md5(example.root / "model" / "model.pkl") == recorded(example, "HEAD")


def test_restore_fetches_from_the_remote_into_a_fresh_clone(example: Example, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clone = tmp_path / "clone"
    git("clone", "-q", str(example.root), str(clone), cwd=tmp_path)
    # the clone's DVC remote is relative to its .dvc/: point it at the same directory
    dvc("remote", "modify", "--local", "local", "url", str(example.remote), cwd=clone)
    res = gitml("restore", "--json", cwd=clone)
    assert res.returncode == 0, res.stderr
    assert md5(clone / "model" / "model.pkl") == recorded(example, "HEAD")
    assert (
        md5(clone / "data" / "wine.csv")
        == yaml.safe_load((clone / "data" / "wine.csv.dvc").read_text())["outs"][0]["md5"]
    )
    # where the bytes came from, truthfully: the remote (the clone's cache was empty)
    assert "from DVC remote 'local'" in res.stderr and "DVC cache" not in res.stderr
    doc = json.loads(res.stdout)
    assert doc["rev"] == example.head() and doc["at_target"] is True
    restored = {r["path"]: r["from"] for r in doc["restored"]}
    assert restored["model/model.pkl"] == ["DVC remote 'local'"]
    assert doc["missing"] == [] and doc["kept_modified"] == []
    (clone / "model" / "model.pkl").unlink()
    res = gitml("restore", "--json", cwd=clone)
    assert res.returncode == 0 and "restored model/model.pkl from the DVC cache" in res.stderr
    assert json.loads(res.stdout)["restored"] == [
        {"path": "model/model.pkl", "from": ["the DVC cache"]}
    ]


@pytest.mark.slow
def test_restore_reports_a_corrupt_cache_object(example: Example) -> None:
    first = example.head()
    second_commit(example)
    md5_first = recorded(example, first)
    obj = example.root / ".dvc" / "cache" / "files" / "md5" / md5_first[:2] / md5_first[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"rotten")
    shutil.rmtree(example.remote)
    res = example.gitml("restore", first)
    assert res.returncode != 0
    assert "corrupt" in res.stderr and "model/model.pkl" in res.stderr
    assert md5(example.root / "model" / "model.pkl") == recorded(example, "HEAD")


def test_restore_of_a_commit_without_lock_is_refused(example: Example) -> None:
    example.git("checkout", "-q", "--orphan", "old")
    example.git("rm", "-q", "--cached", "gitml.lock")
    example.git("commit", "-qm", "no lock", env={"GITML_SKIP": "1"})
    res = example.gitml("restore")
    assert res.returncode == 2
    assert "has no gitml.lock" in res.stderr


def commit_directory(ex: Example, files: dict[str, bytes], message: str) -> None:
    shards = ex.root / "data" / "shards"
    for rel, data in files.items():
        (shards / rel).parent.mkdir(parents=True, exist_ok=True)
        (shards / rel).write_bytes(data)
    ex.dvc("add", "-q", "data/shards")
    ex.git("add", "data/shards.dvc", "data/.gitignore")
    ex.git("commit", "-qm", message)


def test_restore_of_a_large_directory_shows_progress_on_a_terminal_only(example: Example) -> None:
    files = {f"part-{i:04d}.txt": f"row {i}\n".encode() for i in range(150)}
    commit_directory(example, files, "150 shards")
    shards = example.root / "data" / "shards"

    shutil.rmtree(shards)
    code, seen = run_in_terminal([sys.executable, "-m", "gitml", "restore"], example.root)
    assert code == 0, seen
    assert "restoring data/shards" in seen and "150/150" in seen, seen
    assert {p.name: p.read_bytes() for p in shards.iterdir()} == files

    shutil.rmtree(shards)
    piped = example.gitml("restore")  # a log or a hook run from an IDE: no bar
    assert piped.returncode == 0, piped.stderr
    assert "restored data/shards" in piped.stderr and "150/150" not in piped.stderr
    assert len(list(shards.iterdir())) == 150


def test_restore_never_writes_through_a_symlinked_directory_out_of_the_repo(
    example: Example, tmp_path: Path
) -> None:
    notes = example.root / "data" / "a-notes.txt"  # sorted before data/shards: written first
    for version in ("v1", "v2"):
        notes.write_text(f"notes {version}\n")
        example.dvc("add", "-q", "data/a-notes.txt")
        example.git("add", "data/a-notes.txt.dvc", "data/.gitignore")
        commit_directory(example, {"a.txt": version.encode(), "b.txt": b"two\n"}, version)
        if version == "v1":
            first = example.head()
    shards = example.root / "data" / "shards"
    # the user moved the directory to another disk and left a symlink: restoring the old version
    # would write into that disk
    outside = tmp_path / "other-disk" / "shards"
    shutil.copytree(shards, outside)
    shutil.rmtree(shards)
    shards.symlink_to(outside, target_is_directory=True)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}

    res = example.gitml("restore", first)
    assert res.returncode == 2, res.stderr
    assert "data/shards.dvc" in res.stderr and "outside the repository" in res.stderr
    assert "Traceback" not in res.stderr
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
    assert notes.read_text() == "notes v2\n"  # refused before anything was written


def test_a_directory_listing_that_climbs_out_is_refused_before_writing(
    example: Example, tmp_path: Path
) -> None:
    """A `.dir` object (hash intact) whose member path leaves the directory: nothing is written."""
    payload = b"planted\n"
    member = hashlib.md5(payload).hexdigest()
    listing = json.dumps(
        [
            {"md5": member, "relpath": "a.txt"},
            {"md5": member, "relpath": "../../../planted.txt"},
        ]
    ).encode()
    listing_md5 = hashlib.md5(listing).hexdigest()
    cache = example.root / ".dvc" / "cache" / "files" / "md5"
    for md5_, data in ((member, payload), (listing_md5 + ".dir", listing)):
        (cache / md5_[:2]).mkdir(parents=True, exist_ok=True)
        (cache / md5_[:2] / md5_[2:]).write_bytes(data)
    (example.root / "data" / "evil.dvc").write_text(
        f"outs:\n- md5: {listing_md5}.dir\n  path: evil\n  hash: md5\n"
    )
    example.git("add", "data/evil.dvc")
    # the hook is skipped (GITML_SKIP) as a teammate without gitml would: only restore judges it
    example.git("commit", "-qm", "planted listing", env={"GITML_SKIP": "1"})

    res = example.gitml("restore")
    assert res.returncode == 2, res.stderr
    assert "data/evil.dvc" in res.stderr and "Traceback" not in res.stderr
    assert not list(tmp_path.rglob("planted.txt"))
    assert not (example.root / "data" / "evil").exists()  # not even the member in bounds
