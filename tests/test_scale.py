"""Scale: a DVC-tracked directory of many files and a big CSV, through the real hooks and CLI.

The suite runs them at a reduced size (2,000 files, a 20 MB CSV) to stay within CI's budget;
GITML_SLOW_TESTS=1 runs the full size (20,000 files, a 1 GB CSV), as benchmarks/scale.py does.
What is asserted is structure, not timing: the no-op hook never starts Python, a commit that
leaves the directory unchanged hashes none of its files (counted by an SQLite trigger on gitml's
own md5 cache, .git/gitml/md5.sqlite), `restore` puts every file back byte for byte, and
validating a big CSV works under its `max_bytes` and refuses clearly (pointing to `sample:`)
above it.
"""

from __future__ import annotations

import pytest

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import yaml
from conftest import Example
from test_fast_path import spy_on_python

pytestmark = pytest.mark.slow  # builds and rebuilds pipelines concurrently / at scale

SLOW = os.environ.get("GITML_SLOW_TESTS") == "1"
NFILES = 20_000 if SLOW else 2_000
CSV_BYTES = 2**30 if SLOW else 20 * 2**20
PER_DIR = 500  # files per subdirectory of the tracked directory


def shard_files(n: int) -> dict[str, bytes]:
    """`n` files of deterministic, distinct content, `PER_DIR` to a subdirectory."""
    files = {}
    for i in range(n):
        seed = hashlib.sha256(str(i).encode()).hexdigest()
        files[f"part-{i // PER_DIR:03d}/shard-{i:05d}.txt"] = (
            f"shard {i}\n{seed}\n" + "x" * (i % 97) + "\n"
        ).encode()
    return files


def write_files(base: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_csv(path: Path, size: int) -> int:
    """A deterministic CSV of about `size` bytes (id, two numbers, a category); returns rows."""
    labels = ("red", "green", "blue", "white")
    header = b"id,x,y,label\n"
    rows, written = 0, len(header)
    with open(path, "wb") as f:
        f.write(header)
        while written < size:
            block = "".join(
                f"{i},{(i * 7919) % 100003 / 1000:.3f},{(i * 104729) % 1000},{labels[i % 4]}\n"
                for i in range(rows, rows + 50_000)
            ).encode()
            f.write(block)
            rows += 50_000
            written += len(block)
    return rows


def add_data_entry(ex: Example, entry: dict[str, object]) -> None:
    config_file = ex.root / "gitml.yaml"
    doc = yaml.safe_load(config_file.read_text())
    doc["data"] = [d for d in doc["data"] if d["path"] != entry["path"]] + [entry]
    config_file.write_text(yaml.safe_dump(doc, sort_keys=False))


def count_hashes(ex: Example) -> sqlite3.Connection:
    """A trigger on gitml's md5 cache that records every file gitml hashes (it writes a row per
    hash it computes; a cache hit writes nothing)."""
    db = sqlite3.connect(ex.root / ".git" / "gitml" / "md5.sqlite")
    with db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS md5 (path TEXT PRIMARY KEY, inode INTEGER,"
            " mtime INTEGER, size INTEGER, md5 TEXT)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS hashed (path TEXT)")
        db.execute(
            "CREATE TRIGGER IF NOT EXISTS count_hashes AFTER INSERT ON md5 "
            "BEGIN INSERT INTO hashed VALUES (NEW.path); END"
        )
    return db


def hashed_under(db: sqlite3.Connection, prefix: Path) -> int:
    (n,) = db.execute("SELECT COUNT(*) FROM hashed WHERE path LIKE ?", (f"{prefix}/%",)).fetchone()
    return int(n)


def test_a_directory_of_many_files(example: Example, tmp_path: Path) -> None:
    ex = example
    shards = ex.root / "data" / "shards"
    files = shard_files(NFILES)
    write_files(shards, files)
    ex.dvc("add", "-q", "data/shards")
    add_data_entry(ex, {"path": "data/shards"})
    db = count_hashes(ex)

    ex.git("add", "data/shards.dvc", "data/.gitignore", "gitml.yaml")
    added = ex.git("commit", "-q", "-m", f"{NFILES} shards", check=False)
    assert added.returncode == 0, added.stderr
    lock = yaml.safe_load((ex.root / "gitml.lock").read_text())
    assert lock["data"]["data/shards"]["nfiles"] == NFILES
    # the commit that adds the directory hashed its workspace files, each once
    assert hashed_under(db, shards) == NFILES

    # a commit that takes gitml's own path with the directory unchanged hashes none of its files
    db.execute("DELETE FROM hashed")
    db.commit()
    marker = spy_on_python(ex, tmp_path)
    with open(ex.root / "dvc.yaml", "a") as f:
        f.write("# a comment: dvc.yaml is watched, so the hook runs gitml's slow path\n")
    ex.git("add", "dvc.yaml")
    unchanged = ex.git("commit", "-q", "-m", "comment", check=False)
    assert unchanged.returncode == 0, unchanged.stderr
    assert marker.exists(), "the slow path did not run"
    assert hashed_under(db, shards) == 0
    (total,) = db.execute("SELECT COUNT(*) FROM hashed").fetchone()
    assert total == 0, db.execute("SELECT path FROM hashed LIMIT 5").fetchall()

    # the no-op hook: an unwatched change is decided by the shim, without starting Python
    marker.unlink()
    (ex.root / "README.md").write_text("docs only\n")
    ex.git("add", "README.md")
    ex.git("commit", "-q", "-m", "docs")
    assert not marker.exists(), "the no-op hook started Python"

    # restore: every file back, byte for byte
    shutil.rmtree(shards)
    restored = ex.gitml("restore")
    assert restored.returncode == 0, restored.stderr
    assert "data/shards" in restored.stderr
    found = {p.relative_to(shards).as_posix() for p in shards.rglob("*") if p.is_file()}
    assert found == set(files)
    for rel, data in files.items():
        assert (shards / rel).read_bytes() == data, rel
    db.close()


def test_a_big_csv_validates_under_its_limit_and_refuses_above_it(example: Example) -> None:
    ex = example
    csv = ex.root / "data" / "big.csv"
    rows = write_csv(csv, CSV_BYTES)
    size = csv.stat().st_size
    ex.dvc("add", "-q", "data/big.csv")
    add_data_entry(ex, {"path": "data/big.csv", "suite": ".gitml/suites/big.json"})
    made = ex.gitml("suite", "init", "data/big.csv")
    assert made.returncode == 0, made.stderr

    # above the limit: refused before anything is read, pointing to `sample:`
    add_data_entry(
        ex, {"path": "data/big.csv", "suite": ".gitml/suites/big.json", "max_bytes": size // 2}
    )
    refused = ex.gitml("validate", "data/big.csv")
    assert refused.returncode == 2, refused.stderr
    assert "data/big.csv" in refused.stderr and "sample: {rows:" in refused.stderr
    assert "Traceback" not in refused.stderr

    # with an explicit sample: the first rows, under the same limit
    add_data_entry(
        ex,
        {
            "path": "data/big.csv",
            "suite": ".gitml/suites/big.json",
            "max_bytes": size // 2,
            "sample": {"rows": rows * 3 // 4},  # within the scaffolded row-count range
        },
    )
    sampled = ex.gitml("validate", "data/big.csv")
    assert sampled.returncode == 0, sampled.stderr

    # a random sample, drawn while the file streams by, recorded with its seed
    random = {"rows": rows * 3 // 4, "method": "random", "seed": 1}
    add_data_entry(
        ex,
        {"path": "data/big.csv", "suite": ".gitml/suites/big.json", "max_bytes": size // 2}
        | {"sample": random},
    )
    drawn = ex.gitml("validate", "--json", "data/big.csv")
    assert drawn.returncode == 0, drawn.stderr
    assert yaml.safe_load(drawn.stdout)["datasets"][0]["sample"] == random

    # under the limit: the whole file
    add_data_entry(
        ex,
        {"path": "data/big.csv", "suite": ".gitml/suites/big.json", "max_bytes": size + 2**20},
    )
    ok = ex.gitml("validate", "--json", "data/big.csv")
    assert ok.returncode == 0, ok.stderr
    doc = yaml.safe_load(ok.stdout)
    assert doc["passed"] is True
