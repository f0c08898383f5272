"""gitml.lock's `format` for a model whose suffix says nothing (`format: auto`): told from the
bytes of its DVC cache object, as the pytest plugin tells them, and recorded with
`format_from: bytes`; compared as `unknown`, so `gitml lock --check` stays fresh on a lock
written before gitml did this, and where the cache is empty.

Real XGBoost and LightGBM models (saved by the libraries, as tests/test_model_formats.py saves
them) committed through the hook into the example project; the format functions on cache
directories built here, and in an interpreter without pytest (gitml does not depend on it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PROJECT, Example
from test_model_formats import need

from gitml import dvcfiles, lockfile, lockinputs, formatchoice

# The user's training code: an XGBoost classifier saved as JSON (and as UBJSON under a name
# with no suffix), a LightGBM booster as text, alone and in a directory beside its settings.
MAKE = """
import json, shutil, sys
from pathlib import Path

import lightgbm
import numpy as np
import xgboost

out = Path(sys.argv[1])
out.mkdir(parents=True)
X = np.array([[0.0], [1.0], [8.0], [9.0]] * 5, dtype=np.float32)
y = np.array([0, 0, 1, 1] * 5)
clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y)
clf.save_model(out / "booster.json")
clf.get_booster().save_model(out / "raw.ubj")
(out / "raw.ubj").rename(out / "raw")
lgbm = lightgbm.LGBMClassifier(n_estimators=3, min_child_samples=1, verbose=-1).fit(X, y)
lgbm.booster_.save_model(out / "lgbm.txt")
(out / "trees").mkdir()
shutil.copyfile(out / "lgbm.txt", out / "trees" / "model.txt")
(out / "trees" / "settings.json").write_text(json.dumps({"threshold": 0.5}))
(out / "notes.txt").write_text("not a model\\n")
"""
SNIFFED = {
    "models/booster.json": "xgboost",
    "models/raw": "xgboost",
    "models/lgbm.txt": "lightgbm",
    "models/trees": "lightgbm",
}
BOOSTER_TEST = """
def test_the_classifier_comes_back(gitml_model):
    assert type(gitml_model).__name__ == "XGBClassifier"
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need("xgboost", "lightgbm")
    src = tmp_path_factory.mktemp("saved")
    (src / "make.py").write_text(MAKE)
    proc = subprocess.run(
        [sys.executable, "make.py", "models"], cwd=src, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return src / "models"


def commit_models(ex: Example, saved: Path) -> dict[str, Any]:
    """The saved models, `dvc add`ed and in gitml.yaml (booster.json with a test), committed
    through the hook: HEAD's gitml.lock models."""
    shutil.copytree(saved, ex.root / "models")
    paths = [*SNIFFED, "models/notes.txt"]
    ex.dvc("add", "-q", *paths)
    tests = ex.root / "tests" / "model_booster"
    tests.mkdir(parents=True)
    (tests / "test_booster.py").write_text(BOOSTER_TEST)
    doc = yaml.safe_load((ex.root / "gitml.yaml").read_text())
    for path in paths:
        entry = {"path": path, "name": Path(path).name.replace(".", "-")}
        if path == "models/booster.json":
            entry["tests"] = "tests/model_booster"
        doc["models"].append(entry)
    (ex.root / "gitml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    ex.git("add", "-A")
    ok = ex.git("commit", "-q", "-m", "boosters", check=False)
    assert ok.returncode == 0, ok.stderr
    models: dict[str, Any] = yaml.safe_load(ex.show_file("HEAD", "gitml.lock"))["models"]
    return models


def fresh(ex: Example, *args: str) -> None:
    proc = ex.gitml("lock", "--check", *args)
    assert proc.returncode == 0 and "is fresh" in proc.stderr + proc.stdout, proc.stderr


def test_the_lock_records_the_format_read_from_the_cache(example: Example, saved: Path) -> None:
    models = commit_models(example, saved)
    for path, fmt in SNIFFED.items():
        assert (models[path]["format"], models[path].get("format_from")) == (fmt, "bytes"), path
    assert models["models/trees"]["md5"].endswith(".dir")
    assert models["models/notes.txt"]["format"] == "unknown"  # no format in its bytes
    assert "format_from" not in models["models/notes.txt"]
    assert models["model/model.pkl"]["format"] == "pickle"  # by its suffix: nothing read
    assert "format_from" not in models["model/model.pkl"]
    # The plugin was handed the recorded format, and loaded the classifier by it.
    assert models["models/booster.json"]["tests"]["passed"] == 1
    fresh(example)
    fresh(example, "HEAD")
    # A clone with no DVC cache (a fork's CI, nothing pulled): the bytes cannot be read, and
    # the lock is still fresh.
    cache = example.root / ".dvc" / "cache"
    cache.rename(example.root.parent / "cache-away")
    fresh(example, "HEAD")


def test_a_lock_written_before_formats_were_read_stays_fresh(example: Example, saved: Path) -> None:
    """A gitml.lock that says `unknown` where gitml now reads the format (what an older gitml
    wrote) is not stale; the next `gitml lock` records the format, its checks carried over."""
    models = commit_models(example, saved)
    old = yaml.safe_load(example.show_file("HEAD", "gitml.lock"))
    for path in SNIFFED:
        old["models"][path]["format"] = "unknown"
        del old["models"][path]["format_from"]
    (example.root / "gitml.lock").write_bytes(lockfile.serialize(lockfile.from_dict(old)))
    example.git("commit", "-qam", "as an older gitml wrote it", env={"GITML_SKIP": "1"})
    fresh(example, "HEAD")
    fresh(example)
    records = example.root / ".git" / "gitml" / "modeltests"
    before = {p.name: p.read_bytes() for p in records.iterdir()}
    proc = example.gitml("lock")
    assert proc.returncode == 0, proc.stderr
    after = yaml.safe_load((example.root / "gitml.lock").read_text())["models"]
    for path, fmt in SNIFFED.items():
        assert (after[path]["format"], after[path]["format_from"]) == (fmt, "bytes"), path
    assert after["models/booster.json"]["tests"] == models["models/booster.json"]["tests"]
    # Carried over, not run again: the inputs compared equal.
    assert {p.name: p.read_bytes() for p in records.iterdir()} == before


# --- the functions, on cache directories built here ------------------------------------------


LIGHTGBM = b"tree\nversion=v4\nnum_class=1\n"
XGBOOST = b'{"learner":{"attributes":{}}, "version":[2,1,0]}'


def put(cache: Path, data: bytes, suffix: str = "") -> str:
    md5 = hashlib.md5(data).hexdigest() + suffix
    obj = dvcfiles.object_path(cache, md5, "md5")
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(data)
    return md5


def out(path: str, md5: str) -> dvcfiles.Out:
    return dvcfiles.Out(path, md5, "md5", None, None, f"{path}.dvc")


def directory(cache: Path, members: dict[str, bytes], stored: bool = True) -> str:
    listing = [
        {"md5": put(cache, data) if stored else hashlib.md5(data).hexdigest(), "relpath": rel}
        for rel, data in sorted(members.items())
    ]
    return put(cache, json.dumps(listing, sort_keys=True).encode(), ".dir")


def test_model_format_reads_only_the_cache_and_only_when_it_must(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lgbm = put(cache, LIGHTGBM)
    fmt = formatchoice.model_format
    assert fmt("models/m", "auto", out("models/m", lgbm), cache) == ("lightgbm", "bytes")
    assert fmt("models/m.txt", "xgboost", out("models/m.txt", lgbm), cache) == ("xgboost", None)
    # The suffix decides: the object is not read (it holds LightGBM text).
    assert fmt("models/m.pkl", "auto", out("models/m.pkl", lgbm), cache) == ("pickle", None)
    absent = hashlib.md5(XGBOOST).hexdigest()
    assert fmt("models/m", "auto", out("models/m", absent), cache) == ("unknown", None)
    assert fmt("models/m", "auto", out("models/m", lgbm), None) == ("unknown", None)
    # Nothing is taken from a workspace file at the model's path.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m").write_bytes(XGBOOST)
    assert fmt("models/m", "auto", out("models/m", absent), tmp_path) == ("unknown", None)

    one = directory(cache, {"model.txt": LIGHTGBM, "settings.json": b'{"a": 1}'})
    assert fmt("models/d", "auto", out("models/d", one), cache) == ("lightgbm", "bytes")
    two = directory(cache, {"a.txt": LIGHTGBM, "b.json": XGBOOST})
    assert fmt("models/d", "auto", out("models/d", two), cache) == ("unknown", None)
    missing = directory(cache, {"model.txt": LIGHTGBM + b"#", "x.json": b"{}"}, stored=False)
    assert fmt("models/d", "auto", out("models/d", missing), cache) == ("unknown", None)
    savedmodel = directory(cache, {"saved_model.pb": b"\x08\x01\x12\x00", "m.txt": LIGHTGBM})
    assert fmt("models/d", "auto", out("models/d", savedmodel), cache) == ("unknown", None)


def test_model_format_needs_no_pytest(tmp_path: Path) -> None:
    """gitml's own interpreter need not have pytest, and does not import it (~0.15 s a commit):
    the plugin module, where formats are told from bytes, imports without it."""
    cache = tmp_path / "cache"
    md5 = put(cache, XGBOOST)
    call = (
        "from pathlib import Path\n"
        "from gitml import dvcfiles, formatchoice\n"
        f"out = dvcfiles.Out('m', {md5!r}, 'md5', None, None, 'm.dvc')\n"
        f"print(formatchoice.model_format('m', 'auto', out, Path({str(cache)!r}))[0])\n"
        "print('pytest' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    for script in (
        # `import pytest` fails, as where it is not installed
        "import sys\nsys.modules['pytest'] = None\n" + call,
        # where it is installed, it is not imported all the same
        "import sys\n" + call,
    ):
        proc = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split()[0] == "xgboost"
    assert proc.stdout.split()[1] == "False"


def entry(fmt: str, fmt_from: str | None = None, **results: Any) -> dict[str, Any]:
    found = {"md5": "a" * 32, "hash": "md5", "size": 9, "format": fmt, **results}
    return {**found, "format_from": fmt_from} if fmt_from else found


def test_a_format_read_from_bytes_is_compared_as_unknown() -> None:
    def lock(e: dict[str, Any]) -> dict[str, Any]:
        return {"config_sha256": "c", "models": {"m": e}, "data": {}}

    def compared(e: dict[str, Any]) -> dict[str, Any]:
        return lockinputs.inputs_part(lockfile.from_dict(lock(e)))

    assert compared(entry("xgboost", "bytes")) == compared(entry("unknown"))  # an older lock
    assert compared(entry("xgboost", "bytes")) != compared(entry("xgboost"))  # gitml.yaml names it
    assert compared(entry("lightgbm")) != compared(entry("xgboost"))
    # Results are kept across the upgrade, and the format read is kept where this clone could
    # not read the bytes (a commit made without the object): no churn back to `unknown`.
    tests = {"passed": 1, "failed": 0}
    merged = lockinputs.merge_results(
        lockfile.from_dict(lock(entry("xgboost", "bytes"))),
        lockfile.from_dict(lock(entry("unknown", None, tests=tests))),
    ).to_dict()
    assert merged["models"]["m"] == entry("xgboost", "bytes", tests=tests)
    merged = lockinputs.merge_results(
        lockfile.from_dict(lock(entry("unknown"))),
        lockfile.from_dict(lock(entry("xgboost", "bytes", tests=tests))),
    ).to_dict()
    assert merged["models"]["m"] == entry("xgboost", "bytes", tests=tests)
    # A format gitml.yaml names replaces one read from the bytes, and drops the results.
    merged = lockinputs.merge_results(
        lockfile.from_dict(lock(entry("lightgbm"))),
        lockfile.from_dict(lock(entry("xgboost", "bytes", tests=tests))),
    ).to_dict()
    assert merged["models"]["m"] == entry("lightgbm")
