"""gitml.yaml paths inside a DVC-tracked directory (`dvc add shards/` naming shards/a.csv or
the folder shards/sub): recorded, validated from the cache and gated like outs of their own."""

from __future__ import annotations

import pytest

import hashlib
import json
import os
import shutil
from typing import Any

import yaml
from conftest import Example

from gitml import dvcfiles, suites

SUITE: dict[str, Any] = {
    "name": "shard",
    "expectations": [
        {
            "type": "expect_table_columns_to_match_ordered_list",
            "kwargs": {"column_list": ["a", "b"]},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "a", "min_value": 0, "max_value": 10},
        },
    ],
    "meta": {},
}
FILES = {
    "a.csv": "a,b\n1,x\n2,y\n",
    "b.csv": "a,b\n3,x\n",  # named by no dataset
    "sub/c.csv": "a,b\n4,x\n",
    "sub/d.csv": "a,b\n5,y\n",
}


def _write_shards(ex: Example, files: dict[str, str]) -> None:
    root = ex.root / "shards"
    if root.exists():
        for p in root.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        shutil.rmtree(root)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    ex.dvc("add", "-q", "shards")
    ex.git("add", "shards.dvc", ".gitignore")


def _dvc_dir_md5(pairs: dict[str, str]) -> str:
    """DVC's hash of a directory: md5 of its sorted JSON listing, with `.dir`."""
    listing = [{"md5": hashlib.md5(t.encode()).hexdigest(), "relpath": r} for r, t in pairs.items()]
    listing.sort(key=lambda e: e["relpath"])
    return hashlib.md5(json.dumps(listing, sort_keys=True).encode()).hexdigest() + ".dir"


def _lock(ex: Example, rev: str = "HEAD") -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(ex.show_file(rev, "gitml.lock"))
    return doc


@pytest.mark.slow
def test_files_and_folders_inside_a_tracked_directory(example: Example) -> None:
    ex = example
    _write_shards(ex, FILES)
    suites_dir = ex.root / ".gitml" / "suites"
    suites_dir.mkdir(parents=True, exist_ok=True)
    cfg = ex.root / "gitml.yaml"
    for path, name in (("shards/a.csv", "a"), ("shards/sub", "sub")):
        (suites_dir / f"{name}.json").write_text(json.dumps({**SUITE, "name": name}))
        cfg.write_text(suites.set_suite(cfg.read_text(), path, f".gitml/suites/{name}.json"))
    ex.git("add", "-A")
    r = ex.git("commit", "-q", "-m", "shards", check=False)
    assert r.returncode == 0, r.stderr

    data = _lock(ex)["data"]
    a, sub = data["shards/a.csv"], data["shards/sub"]
    assert a["md5"] == hashlib.md5(FILES["a.csv"].encode()).hexdigest()
    assert (a["size"], a["nfiles"], a["stage"]) == (None, None, None)  # a listing has no sizes
    assert a["validation"] == {"success": True, "evaluated": 2, "failed": 0}
    assert a["profile"]["rows"] == 2
    sub_files = {r[4:]: t for r, t in FILES.items() if r.startswith("sub/")}
    assert sub["md5"] == _dvc_dir_md5(sub_files)
    assert sub["nfiles"] == 2 and sub["profile"]["rows"] == 2
    assert sub["validation"]["success"] is True
    head = ex.head()

    # A bad row in the named file blocks the commit, naming it; nothing is changed.
    _write_shards(ex, {**FILES, "a.csv": "a,b\n1,x\n42,y\n"})
    index = ex.git("ls-files", "-s").stdout
    lock_before = (ex.root / "gitml.lock").read_bytes()
    r = ex.git("commit", "-q", "-m", "bad shard", check=False)
    assert r.returncode != 0
    assert "validation failed for shards/a.csv" in r.stderr and "42" in r.stderr
    assert "shards/sub" not in r.stderr  # unchanged: not validated again
    assert ex.head() == head
    assert ex.git("ls-files", "-s").stdout == index
    assert (ex.root / "gitml.lock").read_bytes() == lock_before

    # A change to a file no dataset names leaves the named ones' entries as they were.
    _write_shards(ex, {**FILES, "b.csv": "a,b\n99,x\n"})
    r = ex.git("commit", "-q", "-m", "other shard", check=False)
    assert r.returncode == 0, r.stderr
    now = _lock(ex)["data"]
    shards_md5 = yaml.safe_load((ex.root / "shards.dvc").read_text())["outs"][0]["md5"]
    for path in ("shards/a.csv", "shards/sub"):
        assert now[path]["dir"] == {"path": "shards", "md5": shards_md5}  # the lineage moved on
        assert {k: v for k, v in now[path].items() if k != "dir"} == {
            k: v for k, v in data[path].items() if k != "dir"
        }
    # Freshness does not depend on what the local cache holds of the members.
    cache = ex.root / ".dvc" / "cache"
    shutil.move(cache, ex.root.parent / "cache-aside")
    (ex.root / ".dvc" / "cache" / "files" / "md5").mkdir(parents=True)
    md5 = yaml.safe_load((ex.root / "shards.dvc").read_text())["outs"][0]["md5"]
    listing = dvcfiles.object_path(ex.root.parent / "cache-aside", md5, "md5")
    target = dvcfiles.object_path(cache, md5, "md5")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(listing, target)  # the directory's listing, none of its files
    r = ex.gitml("lock", "--check")
    assert r.returncode == 0, r.stderr
    # Nor on the listing itself (a fork's CI, no `dvc pull`): the lock records the directory
    # each member lies in, and the members' hashes follow from the directory's.
    assert _lock(ex)["data"]["shards/a.csv"]["dir"] == {"path": "shards", "md5": md5}
    target.unlink()
    r = ex.gitml("lock", "--check")
    assert r.returncode == 0, r.stderr
    # A changed directory is not judged from the lock: without its listing, that is said.
    (ex.root / "shards.dvc").write_text(
        (ex.root / "shards.dvc").read_text().replace(md5, "0" * 32 + ".dir")
    )
    ex.git("add", "shards.dvc")
    r = ex.gitml("lock", "--check")
    assert r.returncode == 2 and "dvc pull shards.dvc" in r.stderr, r.stderr
    ex.git("checkout", "HEAD", "--", "shards.dvc")
    shutil.rmtree(ex.root / ".dvc" / "cache")
    shutil.move(ex.root.parent / "cache-aside", cache)

    # A path the directory does not list is bad input, named.
    cfg.write_text(cfg.read_text().replace("path: shards/a.csv", "path: shards/nope.csv"))
    ex.git("add", "gitml.yaml")
    r = ex.gitml("check")
    assert r.returncode == 2, r.stderr
    assert "'shards/nope.csv' is inside 'shards'" in r.stderr and "no such file" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_a_model_inside_a_tracked_directory_is_recorded_and_tested(example: Example) -> None:
    ex = example
    models = ex.root / "models"
    models.mkdir()
    shutil.copyfile(ex.root / "model" / "model.pkl", models / "clf.pkl")
    (models / "notes.txt").write_text("not a model\n")
    ex.dvc("add", "-q", "models")
    tests = ex.root / "tests" / "clf"
    tests.mkdir()
    (tests / "test_clf.py").write_text(
        "def test_the_member_model_loads(gitml_model, gitml_data):\n"
        "    assert hasattr(gitml_model, 'predict')\n"
        "    assert 'data/wine.csv' in gitml_data\n"
    )
    cfg = ex.root / "gitml.yaml"
    text = cfg.read_text()
    text = text.replace("models:\n", "models:\n  - path: models/clf.pkl\n    tests: tests/clf\n")
    cfg.write_text(text)
    ex.git("add", "-A")
    r = ex.git("commit", "-q", "-m", "a model in a tracked directory", check=False)
    assert r.returncode == 0, r.stderr
    entry = _lock(ex)["models"]["models/clf.pkl"]
    assert entry["md5"] == hashlib.md5((models / "clf.pkl").read_bytes()).hexdigest()
    assert entry["format"] == "pickle" and entry["stage"] is None
    assert entry["tests"]["passed"] == 1 and entry["tests"]["failed"] == 0

    # A folder inside a tracked directory cannot be a model: said, exit 2.
    (models / "sub").mkdir()
    os.chmod(models / "clf.pkl", 0o644)
    shutil.move(models / "clf.pkl", models / "sub" / "clf.pkl")
    ex.dvc("add", "-q", "models")
    cfg.write_text(text.replace("path: models/clf.pkl", "path: models/sub"))
    ex.git("add", "-A")
    r = ex.gitml("check")
    assert r.returncode == 2, r.stderr
    assert "model 'models/sub' is a folder inside the DVC-tracked directory" in r.stderr
