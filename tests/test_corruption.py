"""Corruption (issue 8, item 4): a DVC cache object whose bytes no longer match its hash is
detected, named, and never loaded or pushed.

Covered elsewhere, not repeated here: `gitml restore` (test_restore.py
test_restore_reports_a_corrupt_cache_object), `git push` (test_pre_push.py
test_missing_and_corrupt_objects_are_refused, and a corrupt member of a directory), the model
fixture under `gitml test` (test_modeltests.py
test_a_tampered_cache_object_is_refused_before_loading). Here: the commit hook, and the data the
model fixture hands the tests.
"""

from __future__ import annotations

import pytest

import hashlib
import pickle
import shutil
from pathlib import Path

import yaml
from conftest import Example

MODEL = "model/model.pkl"


class _Marker:
    """Unpickling it creates a file: the proof that a refused model was never loaded."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (self.path, "w"))


def cache_object(ex: Example, md5: str) -> Path:
    return ex.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def staged_out_md5(ex: Example, stage: str, path: str) -> str:
    dvc_lock = yaml.safe_load(ex.git("show", ":dvc.lock").stdout)
    [md5] = [o["md5"] for o in dvc_lock["stages"][stage]["outs"] if o["path"] == path]
    return str(md5)


def overwrite(obj: Path, data: bytes) -> bytes:
    saved = obj.read_bytes()
    obj.chmod(0o644)  # DVC makes cache objects read-only
    obj.write_bytes(data)
    return saved


@pytest.mark.slow
def test_the_commit_hook_names_a_corrupt_model_object_and_blocks(example: Example) -> None:
    example.set_param("n_estimators: 3", "n_estimators: 4")
    assert example.gitml("repro").returncode == 0
    example.git("add", "-A")
    head, index = example.head(), example.git("ls-files", "-s").stdout
    model_bytes = (example.root / MODEL).read_bytes()
    md5 = staged_out_md5(example, "train", MODEL)
    obj = cache_object(example, md5)
    marker = example.root.parent / "unpickled"
    saved = overwrite(obj, pickle.dumps(_Marker(str(marker))))

    res = example.git("commit", "-m", "corrupt model", check=False)
    assert res.returncode != 0
    assert "corrupt" in res.stderr and MODEL in res.stderr and md5 in res.stderr, res.stderr
    assert str(obj) in res.stderr  # the file to delete
    assert "Traceback" not in res.stderr
    assert not marker.exists()  # never loaded
    assert example.head() == head and example.git("ls-files", "-s").stdout == index
    assert (example.root / MODEL).read_bytes() == model_bytes

    overwrite(obj, saved)  # the fix it suggests: the right bytes back (here: as DVC wrote them)
    ok = example.git("commit", "-m", "model", check=False)
    assert ok.returncode == 0, ok.stderr
    assert not marker.exists()


def test_a_corrupt_directory_member_is_named_by_the_hook(example: Example) -> None:
    images = example.root / "data" / "images"
    images.mkdir()
    for name in ("a.bin", "b.bin"):
        (images / name).write_bytes(name.encode() * 100)
    example.dvc("add", "-q", "data/images")
    example.git("add", "-A")
    b_md5 = hashlib.md5(b"b.bin" * 100).hexdigest()
    overwrite(cache_object(example, b_md5), b"rotten")
    res = example.git("commit", "-m", "images", check=False)
    assert res.returncode != 0
    assert "corrupt" in res.stderr and "data/images/b.bin" in res.stderr and b_md5 in res.stderr
    assert "data/images/a.bin" not in res.stderr


def test_the_model_tests_never_read_a_corrupt_data_object(example: Example) -> None:
    md5 = staged_out_md5(example, "prepare", "data/prepared/test.csv")
    obj = cache_object(example, md5)
    overwrite(obj, obj.read_bytes().replace(b"\n", b"\n0,", 5))
    shutil.rmtree(example.root / ".git" / "gitml" / "modeltests")  # the first commit's result
    res = example.gitml("test", "wine-classifier")
    assert res.returncode != 0
    assert "corrupt" in res.stderr and "data/prepared/test.csv" in res.stderr, res.stderr
    assert str(obj) in res.stderr
