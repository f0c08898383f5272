"""Model formats beyond pickle: PyTorch, XGBoost, LightGBM and Keras through gitml's plugin.

One script (the user's training code, run once per session in a subprocess) saves real models
in each format; the tests check what the plugin makes of their bytes, then commit them, tracked
by DVC, into the example project, whose hook runs tests/model-style pytest files against the
`gitml_model` fixture. Keras runs on the torch backend (no tensorflow here). The libraries come
from the test extra (xgboost-cpu, lightgbm, keras); torch is installed apart (`.ci/run` installs
the CPU wheel). Models are built per library: where torch is absent the torch and Keras tests
skip, saying so, and the XGBoost and LightGBM ones still run; under CI (`CI` set, as `.ci/run`
sets it) a missing library fails instead, so CI cannot pass having run none of them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Example
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gitml import modelformats, modelloading


@pytest.fixture(autouse=True)
def keras_on_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras 3 picks its backend when it is first imported, in every process these tests start
    (the hook's pytest runs inherit the environment): torch, for each test, undone after it."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")


NETDEF = """
import torch


class Net(torch.nn.Module):
    def __init__(self, hidden: int = 3):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(1, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2)
        )

    def forward(self, x):
        return self.body(x)
"""

# The user's training code: saves each model and what it predicts for X, one part per library
# (`python make_models.py OUT LIBRARY...`).
MAKE_PROLOGUE = """
import json, sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
out.mkdir(parents=True)
X = np.array([[0.0], [1.0], [8.0], [9.0]] * 5, dtype=np.float32)
y = np.array([0, 0, 1, 1] * 5)
expected = {}
"""
MAKE_MODELS = {
    "torch": """
import torch
from netdef import Net

torch.manual_seed(0)
net = Net(hidden=4).eval()
(out / "net").mkdir()
torch.save(net.state_dict(), out / "net" / "model.pt")
(out / "net" / "config.json").write_text(json.dumps({"hidden": 4}))
torch.save(net, out / "net_full.bin")
torch.jit.script(net).save(str(out / "net_script.pt"))
torch.save(net.state_dict(), out / "net_legacy.pt", _use_new_zipfile_serialization=False)
expected["net"] = net(torch.from_numpy(X[:4])).tolist()
""",
    "xgboost": """
import xgboost
clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y)
clf.save_model(out / "booster.json")
clf.get_booster().save_model(out / "booster_raw.ubj")
expected["booster"] = clf.predict_proba(X[:4]).tolist()
""",
    "lightgbm": """
import lightgbm
lgbm = lightgbm.LGBMClassifier(n_estimators=3, min_child_samples=1, verbose=-1).fit(X, y)
lgbm.booster_.save_model(out / "lgbm.txt")
expected["lgbm"] = lgbm.booster_.predict(X[:4]).tolist()
""",
    "keras": """
import keras
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2, activation="softmax")])
model.compile(loss="sparse_categorical_crossentropy")
model.fit(X, y, epochs=2, verbose=0)
model.save(out / "clf.keras")
model.save(out / "clf.h5")
expected["clf"] = model.predict(X[:4], verbose=0).tolist()
""",
}
MAKE_EPILOGUE = """
(out / "expected.json").write_text(json.dumps(expected))
"""

LIBRARIES = tuple(MAKE_MODELS)
# What each library's models need installed: Keras runs on the torch backend here.
REQUIRES = {"torch": ("torch",), "xgboost": ("xgboost",), "lightgbm": ("lightgbm",),
            "keras": ("keras", "torch")}  # fmt: skip


def missing(*libraries: str) -> list[str]:
    """The modules that `libraries` need and this interpreter lacks (cheap: no import)."""
    wanted = dict.fromkeys(m for lib in libraries for m in REQUIRES.get(lib, (lib,)))
    return [m for m in wanted if not _installed(m)]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # what an import hook that refuses the module raises
        return False


def need(*libraries: str) -> None:
    """Skip, naming what is missing, unless `libraries` can run; under CI (`CI` set), fail:
    a CI run must not go green having skipped them."""
    gone = missing(*libraries)
    if not gone:
        return
    why = (
        f"needs {', '.join(gone)} (pip install torch==2.13.0, then pip install -e '.[test]'; "
        ".ci/run installs both)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{why}; CI is set, so a missing library fails", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with netdef.py and models/: the models of every library installed here,
    saved by MAKE_MODELS, with expected.json. Each test says which libraries it needs."""
    libraries = [lib for lib in LIBRARIES if not missing(lib)]
    src = tmp_path_factory.mktemp("made")
    (src / "netdef.py").write_text(NETDEF)
    script = MAKE_PROLOGUE + "".join(MAKE_MODELS[lib] for lib in libraries) + MAKE_EPILOGUE
    (src / "make_models.py").write_text(script)
    proc = subprocess.run(
        [sys.executable, "make_models.py", "models"],
        cwd=src,
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": "torch"},  # module scope: no monkeypatch here
    )
    assert proc.returncode == 0, f"make_models.py ({', '.join(libraries)}):\n{proc.stderr}"
    return src


def expected(made: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((made / "models" / "expected.json").read_text())
    return data


# --- the plugin on the bytes, in this process -------------------------------------------------


SNIFFED = {
    "torch": {
        "net/model.pt": "torch",
        "net/config.json": "unknown",
        "net_full.bin": "torch",
        "net_script.pt": "torch",
        "net_legacy.pt": "torch",
    },
    "xgboost": {"booster.json": "xgboost", "booster_raw.ubj": "xgboost"},
    "lightgbm": {"lgbm.txt": "lightgbm"},
    "keras": {"clf.keras": "keras", "clf.h5": "keras"},
}


@pytest.mark.parametrize("library", LIBRARIES)
def test_each_format_is_told_from_its_bytes(made: Path, library: str) -> None:
    need(library)
    for name, fmt in SNIFFED[library].items():
        path = made / "models" / name
        assert modelformats.sniff_format(path.read_bytes()) == fmt, name
        assert modelformats.sniff_file(path) == fmt, name


def _load(made: Path, name: str, fmt: str) -> Any:
    path = made / "models" / name
    data = modelloading.verified_bytes(str(path), hashlib.md5(path.read_bytes()).hexdigest())
    return modelloading.load_model(data, fmt)


X4 = [[0.0], [1.0], [8.0], [9.0]]


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torch_loads_named_and_guessed(made: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The torch loader on verified bytes of every kind, format named and guessed: the loaded
    model predicts what the saved one did."""
    need("torch")
    import numpy as np
    import torch

    monkeypatch.syspath_prepend(str(made))  # netdef.Net, for the pickled module
    want = expected(made)
    for fmt in ("torch", "auto"):
        for name in ("net_full.bin", "net_script.pt"):
            net = _load(made, name, fmt)
            assert type(net).__name__ in ("Net", "RecursiveScriptModule"), name
            got = net(torch.tensor(X4)).tolist()
            assert np.allclose(got, want["net"], atol=1e-6)
        for name in ("net/model.pt", "net_legacy.pt"):
            state = _load(made, name, fmt)
            assert sorted(state) == ["body.0.bias", "body.0.weight", "body.2.bias", "body.2.weight"]


def test_xgboost_loads_named_and_guessed(made: Path) -> None:
    """XGBoost JSON from the scikit-learn wrapper comes back as that wrapper, UBJSON from a
    Booster as a Booster, format named or guessed (LightGBM and Keras: in the commit test)."""
    need("xgboost")
    import numpy as np

    want = expected(made)
    x = np.array(X4, dtype=np.float32)
    for fmt in ("xgboost", "auto"):
        booster = _load(made, "booster.json", fmt)
        assert type(booster).__name__ == "XGBClassifier"  # saved by XGBClassifier: given back so
        assert np.allclose(booster.predict_proba(x), want["booster"], atol=1e-6)
        raw = _load(made, "booster_raw.ubj", fmt)
        assert type(raw).__name__ == "Booster"  # saved from the Booster: a Booster
        assert np.allclose(raw.inplace_predict(x), np.array(want["booster"])[:, 1], atol=1e-6)


KERAS_LOADS = """
import json, sys
from pathlib import Path

import numpy as np

from gitml import modelloading

data = Path(sys.argv[1]).read_bytes()
out = {}
for suffix in (".bin", ".hdf5", ""):  # clf.bin, a .hdf5 in a model directory, no suffix
    model = modelloading.load_model(data, "auto", suffix, "models/clf" + suffix)
    out[suffix] = model.predict(np.array([[0.0], [1.0], [8.0], [9.0]]), verbose=0).tolist()
try:
    modelloading.load_model(data[:1024], "keras", ".h5", "models/clf.h5")
except modelloading.ModelRefused as exc:
    out["refused"] = str(exc)
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_keras_hdf5_file_loads_whatever_its_name(made: Path, tmp_path: Path) -> None:
    """Keras tells HDF5 from its zip format by the file name: HDF5 bytes named otherwise load
    all the same; bytes Keras cannot read are the plugin's refusal, not a traceback. In a
    subprocess: Keras fixes its backend in the process that first imports it."""
    need("keras")
    script = tmp_path / "keras_loads.py"
    script.write_text(KERAS_LOADS)
    proc = subprocess.run(
        [sys.executable, str(script), str(made / "models" / "clf.h5")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    import numpy as np

    for suffix in (".bin", ".hdf5", ""):
        assert np.allclose(out[suffix], expected(made)["clf"], atol=1e-5), suffix
    assert out["refused"].startswith("models/clf.h5 did not load as keras (")


def test_a_directory_loads_its_one_model_file_or_says_what_to_do(
    made: Path, tmp_path: Path
) -> None:
    need("torch", "lightgbm")
    net = made / "models" / "net"
    state = modelloading.load_model_directory(net, "auto", "models/net")
    assert "body.0.weight" in state

    both = tmp_path / "two"
    shutil.copytree(net, both)
    shutil.copyfile(made / "models" / "lgbm.txt", both / "lgbm.txt")
    with pytest.raises(modelloading.ModelRefused, match=r"found 2 \(lgbm.txt \(lightgbm\), "):
        modelloading.load_model_directory(both, "auto", "models/two")
    assert "body.0.weight" in modelloading.load_model_directory(both, "torch", "models/two")

    (both / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(modelloading.ModelRefused, match="TensorFlow SavedModel"):
        modelloading.load_model_directory(both, "auto", "models/two")


def _dir_model(tmp_path: Path, listing: list[dict[str, str]], members: dict[str, str]) -> dict:
    data = json.dumps(listing).encode()
    (tmp_path / "listing.dir").write_bytes(data)
    md5 = hashlib.md5(data).hexdigest() + ".dir"
    return {"path": "models/net", "file": str(tmp_path / "listing.dir"), "md5": md5,
            "hash": "md5", "members": members}  # fmt: skip


def test_a_directory_is_rebuilt_only_from_verified_files(tmp_path: Path) -> None:
    """Every file against the listing, the listing against the directory's md5; a member
    path that climbs out of the directory is refused before anything is written. (Bytes only:
    no library needed.)"""
    (tmp_path / "objects").mkdir()
    pt, cfg = tmp_path / "objects" / "model.pt", tmp_path / "objects" / "config.json"
    pt.write_bytes(b"PK\x03\x04 weights of a net")
    cfg.write_text('{"hidden": 4}')
    sums = {p: hashlib.md5(p.read_bytes()).hexdigest() for p in (pt, cfg)}
    listing = [
        {"md5": sums[cfg], "relpath": "config.json"},
        {"md5": sums[pt], "relpath": "model.pt"},
    ]
    members = {sums[pt]: str(pt), sums[cfg]: str(cfg)}
    model = _dir_model(tmp_path, listing, members)
    built = modelloading.verified_directory(model, tmp_path / "ok")
    assert sorted(p.name for p in built.iterdir()) == ["config.json", "model.pt"]
    assert (built / "model.pt").read_bytes() == pt.read_bytes()

    wrong = {**model, "md5": "0" * 32 + ".dir"}
    with pytest.raises(modelloading.ModelRefused, match="was not loaded"):
        modelloading.verified_directory(wrong, tmp_path / "wrong")
    swapped = _dir_model(tmp_path, listing, {sums[pt]: str(cfg), sums[cfg]: str(cfg)})
    with pytest.raises(modelloading.ModelRefused, match=f"not the recorded {sums[pt]}"):
        modelloading.verified_directory(swapped, tmp_path / "swapped")
    assert not (tmp_path / "swapped" / "model.pt").exists()
    escaping = _dir_model(tmp_path, [{"md5": sums[pt], "relpath": "../x.pt"}], members)
    with pytest.raises(modelloading.ModelRefused, match="would leave the directory"):
        modelloading.verified_directory(escaping, tmp_path / "esc" / "d")
    assert not (tmp_path / "esc").exists()


# --- committed into a real repository, loaded by the hook's pytest runs -----------------------


MODEL_TESTS = {
    "models/net": """
import json

def test_state_dict_from_the_directory(gitml_model, gitml_model_path):
    import torch  # here, not above: the tampered-object run refuses before it needs torch
    from netdef import Net  # the project's code, importable through pytest.ini's pythonpath

    net = Net(**json.loads((gitml_model_path / "config.json").read_text()))
    net.load_state_dict(gitml_model)
    got = net(torch.tensor([[0.0], [1.0], [8.0], [9.0]])).tolist()
    assert torch.allclose(torch.tensor(got), torch.tensor(EXPECTED), atol=1e-6)
""",
    "models/net_full.bin": """
import torch
from netdef import Net

def test_pickled_module(gitml_model):
    assert isinstance(gitml_model, Net)
    got = gitml_model(torch.tensor([[0.0], [1.0], [8.0], [9.0]]))
    assert torch.allclose(got, torch.tensor(EXPECTED), atol=1e-6)
""",
    "models/booster.json": """
import numpy as np

def test_classifier(gitml_model):
    got = gitml_model.predict_proba(np.array([[0.0], [1.0], [8.0], [9.0]]))
    assert np.allclose(got, EXPECTED, atol=1e-6)
    assert gitml_model.predict(np.array([[0.0], [9.0]])).tolist() == [0, 1]
""",
    "models/lgbm.txt": """
import numpy as np

def test_booster(gitml_model):
    assert np.allclose(gitml_model.predict(np.array([[0.0], [1.0], [8.0], [9.0]])), EXPECTED)
""",
    "models/clf.keras": """
import numpy as np

def test_keras_model(gitml_model):
    got = gitml_model.predict(np.array([[0.0], [1.0], [8.0], [9.0]]), verbose=0)
    assert np.allclose(got, EXPECTED, atol=1e-5)
""",
}
# torch for the pickled module by gitml.yaml `format:` (its suffix says nothing); the others
# by their suffix (.keras) or their bytes (the directory, .json, .txt).
FORMATS = {"models/net_full.bin": "torch"}
LIBRARY = {"models/net": "torch", "models/net_full.bin": "torch", "models/booster.json": "xgboost",
           "models/lgbm.txt": "lightgbm", "models/clf.keras": "keras"}  # fmt: skip


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".")[0]


def add_models(ex: Example, made: Path, paths: list[str]) -> None:
    (ex.root / "models").mkdir()
    for path in paths:
        if path == "models/net":
            shutil.copytree(made / path, ex.root / path)
        else:
            shutil.copyfile(made / path, ex.root / path)
    shutil.copyfile(made / "netdef.py", ex.root / "src" / "netdef.py")
    (ex.root / "pytest.ini").write_text("[pytest]\npythonpath = src\n")
    ex.dvc("add", "-q", *paths)
    want = expected(made)
    doc = yaml.safe_load((ex.root / "gitml.yaml").read_text())
    for path in paths:
        test = MODEL_TESTS[path]
        stem = _stem(path)
        tests = ex.root / "tests" / f"model_{stem}"
        tests.mkdir(parents=True)
        outputs = want["net" if stem.startswith("net") else stem]  # two saves of one net
        (tests / f"test_{stem}.py").write_text(f"EXPECTED = {outputs!r}\n{test}")
        entry = {"path": path, "name": stem, "tests": f"tests/model_{stem}"}
        doc["models"].append({**entry, **({"format": FORMATS[path]} if path in FORMATS else {})})
    (ex.root / "gitml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    ex.git("add", "-A")


def lean_interpreter(base: Path, *dists: str) -> Path:
    """A real venv whose site-packages holds only `dists` and what they require, linked from
    this environment: a project interpreter that lacks the other model libraries."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", base], check=True)
    [site] = (base / "lib").glob("python3*/site-packages")
    todo, seen = list(dists), set()
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        dist = importlib.metadata.distribution(name)
        for top in {f.parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            if not (site / top).exists():
                (site / top).symlink_to(Path(str(dist.locate_file(top))))
        for req in map(Requirement, dist.requires or []):
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return base / "bin" / "python"


@pytest.mark.slow
def test_the_formats_round_trip_through_a_commit(
    example: Example, made: Path, tmp_path: Path
) -> None:
    """The hook runs each model's tests with the committed bytes, loaded by `gitml_model` after
    their md5 matched: a directory (every file verified), a pickled torch module (format from
    gitml.yaml), XGBoost and LightGBM (from their bytes), Keras (from its suffix). Each library
    installed here takes part; the ones that are not are skipped, or fail under CI."""
    paths = [p for p in MODEL_TESTS if not missing(LIBRARY[p])]
    if not paths or os.environ.get("CI"):
        need(*LIBRARIES)
    add_models(example, made, paths)
    ok = example.git("commit", "-q", "-m", "model formats", check=False)
    assert ok.returncode == 0, ok.stderr
    lock = yaml.safe_load(example.show_file("HEAD", "gitml.lock"))["models"]
    for path in paths:
        assert lock[path]["tests"] == {**lock[path]["tests"], "passed": 1, "failed": 0}, path

    if "models/net" in paths:
        assert lock["models/net"]["md5"].endswith(".dir")
        assert lock["models/net_full.bin"]["format"] == "torch"
        # A member of the directory whose cache object no longer matches is refused, unloaded.
        listing = example.root / ".dvc" / "cache" / "files" / "md5"
        md5 = lock["models/net"]["md5"]
        members = json.loads((listing / md5[:2] / md5[2:]).read_text())
        [pt] = [m["md5"] for m in members if m["relpath"] == "model.pt"]
        obj = listing / pt[:2] / pt[2:]
        obj.chmod(0o644)
        obj.write_bytes(obj.read_bytes() + b"\0")
        shutil.rmtree(example.root / ".git" / "gitml" / "modeltests")
        refused = example.gitml("test", "net")
        assert refused.returncode == 1
        assert "was not loaded" in refused.stderr and pt in refused.stderr

    # A project interpreter without lightgbm, and with keras but not its torch backend.
    names = [_stem(p) for p in ("models/lgbm.txt", "models/clf.keras") if p in paths]
    if not names:
        return
    # numpy, as any project that trains models has it: the lightgbm model's test imports it
    # (with keras present it came with keras; without torch keras is left out).
    lean = lean_interpreter(
        tmp_path / "lean", "pytest", "numpy", *(["keras"] if "clf" in names else [])
    )
    doc = yaml.safe_load((example.root / "gitml.yaml").read_text())
    doc["python"] = str(lean)
    (example.root / "gitml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    example.git("add", "gitml.yaml")
    lacking = example.gitml("test", *names)
    assert lacking.returncode == 1, lacking.stderr
    if "lgbm" in names:
        assert f"needs `lightgbm` in the project's interpreter ({lean})" in lacking.stderr
        assert "pip install 'gitml[lightgbm]'" in lacking.stderr
    if "clf" in names:
        assert "`keras` is installed" in lacking.stderr
        assert "No module named 'torch'" in lacking.stderr
        assert "Keras 3 runs on a backend" in lacking.stderr


# --- where a library is missing ----------------------------------------------------------------


def test_a_missing_library_skips_or_under_ci_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs gitml_no_such_library"):
        need("gitml_no_such_library")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI is set, so a missing library fails"):
        need("gitml_no_such_library")


# A sitecustomize that hides torch from an interpreter and every process it starts (through
# PYTHONPATH): importing it fails as where it is not installed, and it is not in sys.modules.
HIDE_TORCH = """
import sys


class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoTorch())
"""
# A pytest plugin recording KERAS_BACKEND once the test modules are imported and at the end.
ENV_PROBE = """
import json, os

def _record(when):
    with open(os.environ["GITML_ENV_PROBE"], "a") as fh:
        fh.write(json.dumps([when, os.environ.get("KERAS_BACKEND")]) + "\\n")

def pytest_collection_finish(session):
    _record("collected")

def pytest_sessionfinish(session):
    _record("finished")
"""


@pytest.mark.slow
def test_without_torch_the_other_libraries_still_run(tmp_path: Path) -> None:
    """This file, run by pytest where torch cannot be imported: the XGBoost, LightGBM and
    library-free tests run and pass, the torch and Keras ones skip saying why. Importing the
    file and running it leave no KERAS_BACKEND behind for the rest of a session."""
    need("xgboost", "lightgbm")
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_TORCH)
    (hide / "gitml_env_probe.py").write_text(ENV_PROBE)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "KERAS_BACKEND")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(hide), env.get("PYTHONPATH")) if p)
    env["GITML_ENV_PROBE"] = str(tmp_path / "probe.jsonl")
    report = tmp_path / "report.xml"
    here = Path(__file__)
    # -n 0: in one process (pyproject's addopts spread tests over xdist workers, each of which
    # would load the probe and write its events again)
    cmd = [sys.executable, "-m", "pytest", "-p", "gitml_env_probe", "-p", "no:cacheprovider",
           "-n", "0", "-q", f"--junitxml={report}", "-k", "not through_a_commit and not without_torch",
           str(here)]  # fmt: skip
    proc = subprocess.run(
        cmd, cwd=here.parent.parent, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    import xml.etree.ElementTree as ET

    outcome = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        skipped = case.find("skipped")
        outcome[case.get("name")] = (
            "skipped: " + (skipped.get("message") or "") if skipped is not None else "passed"
        )
    for name in ("test_each_format_is_told_from_its_bytes[xgboost]",
                 "test_each_format_is_told_from_its_bytes[lightgbm]",
                 "test_xgboost_loads_named_and_guessed",
                 "test_a_directory_is_rebuilt_only_from_verified_files"):  # fmt: skip
        assert outcome.pop(name) == "passed", name
    for name in ("test_each_format_is_told_from_its_bytes[torch]",
                 "test_each_format_is_told_from_its_bytes[keras]",
                 "test_torch_loads_named_and_guessed",
                 "test_a_keras_hdf5_file_loads_whatever_its_name",
                 "test_a_directory_loads_its_one_model_file_or_says_what_to_do"):  # fmt: skip
        assert outcome.pop(name).startswith("skipped: needs torch (pip install torch=="), name
    assert outcome == {"test_a_missing_library_skips_or_under_ci_fails": "passed"}
    probe = [json.loads(line) for line in (tmp_path / "probe.jsonl").read_text().splitlines()]
    assert probe == [["collected", None], ["finished", None]]
