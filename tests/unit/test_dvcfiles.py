"""gitml/dvcfiles.py: dvc.lock and .dvc files parsed in process, DVC's hashes and cache layout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gitml import dvcfiles
from gitml.dvcfiles import Dep, Out, Project
from gitml.errors import BadInput

MD5 = "0123456789abcdef" * 2
DIR_MD5 = "a" * 32 + ".dir"

LOCK = f"""\
schema: '2.0'
stages:
  prepare:
    cmd: python prepare.py
    deps:
    - path: data/raw.csv
      hash: md5
      md5: {"b" * 32}
    outs:
    - path: data/clean
      hash: md5
      md5: {DIR_MD5}
      size: 10
      nfiles: 2
  train@0:
    cmd: python train.py 0
    deps:
    - path: data/clean
      md5: {DIR_MD5}
    params:
      params.yaml:
        train.seed: 0
    outs:
    - path: models/0.pkl
      md5: {MD5}
"""


def test_a_lockfile_gives_stages_deps_params_and_outs() -> None:
    project = Project()
    dvcfiles.read_lockfile("dvc.lock", LOCK.encode(), project)
    assert list(project.stages) == ["prepare", "train@0"]  # foreach names as dvc.lock has them
    train = project.stages["train@0"]
    assert train.deps == [Dep("data/clean", DIR_MD5, "md5-dos2unix")]  # no `hash`: DVC 2
    assert train.params == {"params.yaml": {"train.seed": 0}}
    assert project.outs["data/clean"] == Out(
        "data/clean", DIR_MD5, "md5", 10, 2, "dvc.lock", stage="prepare"
    )
    assert project.outs["data/clean"].is_dir and not project.outs["models/0.pkl"].is_dir
    assert project.producer("models/0.pkl") is train
    assert project.directory_of("data/clean/a.csv") == project.outs["data/clean"]
    assert project.directory_of("data/clean") is None
    assert project.upstream(["train@0"]) == ["train@0", "prepare"]
    assert project.upstream(["train@0"], frozen=frozenset({"train@0"})) == ["train@0"]


def test_a_nested_lockfile_names_stages_and_paths_from_its_directory() -> None:
    project = Project()
    lock = b"stages:\n  fit:\n    cmd: x\n    deps:\n    - path: ../shared/d.csv\n      md5: null\n"
    lock += b"    params:\n      cfg.yaml: {a: 1}\n    outs:\n    - path: out/m.pkl\n"
    dvcfiles.read_lockfile("pipelines/a/dvc.lock", lock, project)
    stage = project.stages["pipelines/a:fit"]
    assert [d.path for d in stage.deps] == ["pipelines/shared/d.csv"]
    assert stage.params == {"pipelines/a/cfg.yaml": {"a": 1}}
    assert [(o.path, o.md5, o.stage) for o in stage.outs] == [
        ("pipelines/a/out/m.pkl", None, "pipelines/a:fit")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages: [a]\n", "dvc.lock: `stages` must be a mapping (is it a DVC 1.x lockfile?)"),
        ("stages: {a: 1}\n", "dvc.lock: stage 'a' must be a mapping"),
        ("a: [\n", "dvc.lock: not valid YAML"),
        ("- 1\n", "dvc.lock: expected a mapping at the top level"),
        (
            "stages: {a: {outs: [{path: m.pkl, md5: ../../etc}]}}\n",
            "dvc.lock: stage 'a' is malformed (md5 '../../etc' is not 32 hex digits)",
        ),
        (
            "stages: {a: {outs: [{path: m.pkl, hash: sha1}]}}\n",
            "dvc.lock: stage 'a' is malformed (unsupported hash 'sha1')",
        ),
        (
            "stages: {a: {deps: [{path: ../../x}]}}\n",
            "dvc.lock: stage 'a': dep '../../x' is outside the repository",
        ),
        ("stages: {a: {outs: {path: m}}}\n", "dvc.lock: stage 'a' is malformed (`outs` must be"),
        ("stages: {a: {params: {p.yaml: 3}}}\n", "params of p.yaml must be a mapping"),
    ],
)
def test_a_bad_lockfile_is_one_message(text: str, message: str) -> None:
    with pytest.raises(BadInput) as exc:
        dvcfiles.read_lockfile("dvc.lock", text.encode(), Project())
    assert message in str(exc.value)


def test_a_dvc_file_gives_its_outs_and_import_source() -> None:
    project = Project()
    added = f"outs:\n- md5: {MD5}\n  size: 5\n  hash: md5\n  path: wine.csv\n"
    dvcfiles.read_dvcfile("data/wine.csv.dvc", added.encode(), project)
    imported = (
        "deps:\n- path: data/x.csv\n  repo:\n    url: https://example.com/r.git\n"
        f"    rev_lock: {'c' * 40}\nouts:\n- path: x.csv\n  md5: {MD5}\n"
    )
    dvcfiles.read_dvcfile("data/x.csv.dvc", imported.encode(), project)
    url = "deps:\n- path: s3://bucket/y.csv\nouts:\n- path: y.csv\n"
    dvcfiles.read_dvcfile("y.csv.dvc", url.encode(), project)
    wine = project.outs["data/wine.csv"]
    assert (wine.md5, wine.hash, wine.size, wine.origin, wine.stage) == (
        MD5,
        "md5",
        5,
        "data/wine.csv.dvc",
        None,
    )
    assert project.outs["data/x.csv"].source == {
        "url": "https://example.com/r.git",
        "rev_lock": "c" * 40,
        "path": "data/x.csv",
    }
    assert project.outs["y.csv"].source == {
        "url": "s3://bucket/y.csv",
        "rev_lock": None,
        "path": None,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deps: []\n", "x.dvc: names no output (`outs` is missing or empty)"),
        ("outs: [{md5: null}]\n", "x.dvc: malformed (an out without a path)"),
        ("outs: [{path: /etc/passwd}]\n", "x.dvc: out '/etc/passwd' is absolute"),
        ("outs: [{path: .git/config}]\n", "x.dvc: out '.git/config' is inside a `.git` directory"),
    ],
)
def test_a_bad_dvc_file_is_one_message(text: str, message: str) -> None:
    with pytest.raises(BadInput) as exc:
        dvcfiles.read_dvcfile("x.dvc", text.encode(), Project())
    assert message in str(exc.value)


def test_hashes_as_dvc_computes_them() -> None:
    crlf = b"a\r\nb\r\n"
    assert dvcfiles.md5_for(crlf, "md5") == hashlib.md5(crlf).hexdigest()
    assert dvcfiles.md5_for(crlf, "md5-dos2unix") == hashlib.md5(b"a\nb\n").hexdigest()
    binary = b"\0\r\n"
    assert dvcfiles.md5_for(binary, "md5-dos2unix") == hashlib.md5(binary).hexdigest()
    listing = json.dumps([{"md5": MD5, "relpath": "a.csv"}], sort_keys=True).encode()
    assert dvcfiles.dir_md5([("a.csv", MD5)]) == hashlib.md5(listing).hexdigest() + ".dir"
    assert dvcfiles.is_md5(DIR_MD5) and not dvcfiles.is_md5("A" * 32)
    assert dvcfiles.object_relpath(MD5, "md5") == f"files/md5/01/{MD5[2:]}"
    assert dvcfiles.object_relpath(MD5, "md5-dos2unix") == f"01/{MD5[2:]}"


def test_a_dir_listing_is_checked_against_its_name_and_its_members(tmp_path: Path) -> None:
    data = json.dumps([{"md5": MD5, "relpath": "sub/a.csv"}]).encode()
    name = hashlib.md5(data).hexdigest() + ".dir"
    obj = tmp_path / name[:2] / name[2:]
    obj.parent.mkdir()
    obj.write_bytes(data)
    assert dvcfiles.read_dir_listing(obj) == [("sub/a.csv", MD5)]
    obj.write_bytes(data.replace(b"sub", b"bus"))
    with pytest.raises(dvcfiles.CorruptListing, match="does not match its hash"):
        dvcfiles.read_dir_listing(obj)
    for member, why in (
        ({"md5": MD5, "relpath": "a//b"}, "not a clean relative path"),
        ({"md5": MD5, "relpath": "../x"}, "member '../x' is outside the repository"),
        ({"md5": DIR_MD5, "relpath": "x"}, "is not 32 hex digits"),
        ({"relpath": "x"}, "unreadable or corrupt"),
    ):
        with pytest.raises(BadInput, match=why):
            dvcfiles.parse_dir_listing(json.dumps([member]).encode(), "the listing")
