"""gitml/freshness.py: the freshness rule, in process, on a small real repository.

The repository is git with a `.dvc/` folder and a DVC cache written by hand (no `dvc` run): one
dataset and one model tracked by .dvc files, a gitml.yaml naming them, and a gitml.lock written
from what the files say.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import git

from gitml import dvcconfig, freshness, lineage, lockfile, lockinputs, testfiles
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE, Lock, ModelTests
from gitml.notes import Notes
from gitml.records import updated, without
from gitml.repo import Repo, config_at, find
from gitml.snapshot import Snapshot

CONFIG = """\
version: 1
data:
  - path: data.csv
models:
  - path: model.pkl
    metrics: metrics.json
    tests: tests
"""


def track(root: Path, name: str, data: bytes) -> None:
    """`name` as `dvc add` leaves it: bytes in the cache, a .dvc file, the file git-ignored."""
    md5 = hashlib.md5(data).hexdigest()
    obj = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(data)
    (root / name).write_bytes(data)
    (root / f"{name}.dvc").write_text(
        f"outs:\n- md5: {md5}\n  size: {len(data)}\n  hash: md5\n  path: {name}\n"
    )


def lock_for(repo: Repo, snap: Snapshot) -> Lock:
    """The gitml.lock the snapshot's files call for (its inputs part; no checks run)."""
    config = config_at(snap)
    assert config is not None
    lin = lineage.read_lineage(snap, config, None)
    cfg = dvcconfig.read_config(repo.root)
    return lockinputs.merge_results(lineage.inputs(lin, cfg.cache_dir, dvc_cfg=cfg), None)


def write_lock(repo: Repo, lock: Lock) -> None:
    (repo.root / LOCK_FILE).write_bytes(lockfile.serialize(lock))
    git("add", LOCK_FILE, cwd=repo.root)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", cwd=root)
    (root / ".dvc").mkdir()
    (root / ".dvc" / "config").write_text("")
    track(root, "data.csv", b"a,b\n1,2\n")
    track(root, "model.pkl", b"not really a pickle")
    (root / ".gitignore").write_text("/data.csv\n/model.pkl\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_model.py").write_text("def test_it():\n    pass\n")
    (root / "gitml.yaml").write_text(CONFIG)
    git("add", "-A", cwd=root)
    found = find(root)
    write_lock(found, lock_for(found, Snapshot(root)))
    return found


def test_a_lock_written_from_the_files_is_fresh(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    told = Notes()
    assert freshness.lock_is_fresh(repo, Snapshot(repo.root), told) == (True, [])
    # what could not be judged is told to the caller's teller, not printed
    assert [n.warning for n in told.notes] == [True]
    assert "model model.pkl: no metrics recorded" in told.texts[0]
    assert capsys.readouterr() == ("", "")


def test_a_changed_dvc_file_makes_it_stale(repo: Repo) -> None:
    track(repo.root, "data.csv", b"a,b\n1,3\n")
    git("add", "data.csv.dvc", cwd=repo.root)
    fresh, diffs = freshness.lock_is_fresh(repo, Snapshot(repo.root), Notes())
    assert not fresh
    assert len(diffs) == 1 and diffs[0].startswith("data.data.csv.md5"), diffs


def test_a_changed_gitml_yaml_makes_it_stale(repo: Repo) -> None:
    (repo.root / "gitml.yaml").write_text(CONFIG + "# a comment\n")
    git("add", "gitml.yaml", cwd=repo.root)
    fresh, diffs = freshness.lock_is_fresh(repo, Snapshot(repo.root), Notes())
    assert not fresh and [d.split(":")[0] for d in diffs] == ["config_sha256"]


def test_a_commit_is_judged_by_its_own_files(repo: Repo) -> None:
    git("commit", "-qm", "first", cwd=repo.root)
    head = git("rev-parse", "HEAD", cwd=repo.root).stdout.strip()
    track(repo.root, "data.csv", b"a,b\n9,9\n")
    git("add", "data.csv.dvc", cwd=repo.root)  # the index changes, the commit does not
    assert freshness.lock_is_fresh(repo, Snapshot(repo.root, head), Notes()) == (True, [])
    assert not freshness.lock_is_fresh(repo, Snapshot(repo.root), Notes())[0]


def test_a_missing_lock_or_config(repo: Repo) -> None:
    git("rm", "-q", "--cached", LOCK_FILE, cwd=repo.root)
    assert freshness.lock_is_fresh(repo, Snapshot(repo.root), Notes()) == (
        False,
        [f"{LOCK_FILE} is missing"],
    )
    git("rm", "-q", "--cached", "gitml.yaml", cwd=repo.root)
    with pytest.raises(BadInput, match="no gitml.yaml"):
        freshness.lock_is_fresh(repo, Snapshot(repo.root), Notes())


def test_recorded_tests_must_be_keyed_by_the_test_files(repo: Repo) -> None:
    """Results recorded for other test files are stale though every input hash matches; a
    result that names no data it read is told, not judged on it."""
    snap = Snapshot(repo.root)
    lock = lock_for(repo, snap)
    now = testfiles.tests_hash(snap, "tests")
    tests = ModelTests(passed=1, failed=0, hash=now, data={})
    write_lock(repo, lock.with_model("model.pkl", updated(lock.models["model.pkl"], tests=tests)))
    assert freshness.lock_is_fresh(repo, Snapshot(repo.root), Notes()) == (True, [])

    (repo.root / "tests" / "test_model.py").write_text("def test_it():\n    assert False\n")
    git("add", "tests", cwd=repo.root)
    fresh, diffs = freshness.lock_is_fresh(repo, Snapshot(repo.root), Notes())
    assert not fresh and diffs[0].startswith("models.model.pkl.tests.hash"), diffs

    # as an older gitml wrote them: no `data`
    tests = ModelTests(passed=1, failed=0, hash=testfiles.tests_hash(Snapshot(repo.root), "tests"))
    written = lockfile.parse((repo.root / LOCK_FILE).read_bytes())
    entry = updated(written.models["model.pkl"], tests=without(tests, "data"))
    write_lock(repo, written.with_model("model.pkl", entry))
    told = Notes()
    assert freshness.lock_is_fresh(repo, Snapshot(repo.root), told) == (True, [])
    assert any("name no data they read" in t for t in told.texts), told.texts
