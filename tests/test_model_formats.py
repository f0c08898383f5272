"""Model formats beyond pickle: PyTorch, XGBoost, LightGBM and Keras through gitml's plugin.

One script (the user's training code, run once per session in a subprocess) saves real models
in each format; the tests check what the plugin makes of their bytes, then commit them, tracked
by DVC, into the example project, whose hook runs tests/model-style pytest files against the
`gitml_model` fixture. Keras runs on the torch backend (no tensorflow here). The libraries come
from the test extra (xgboost-cpu, lightgbm, keras); torch is installed apart (`.ci/run` installs
the CPU wheel), and the tests that need it skip, saying so, where it is absent.
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

from gitml import pytest_plugin

# Keras 3 picks its backend when it is first imported, here and in every process these tests
# start (the hook's pytest runs inherit the environment).
os.environ["KERAS_BACKEND"] = "torch"

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

# The user's training code: saves each model and what it predicts for X.
MAKE_MODELS = """
import io, json, sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
(out / "net").mkdir(parents=True)
X = np.array([[0.0], [1.0], [8.0], [9.0]] * 5, dtype=np.float32)
y = np.array([0, 0, 1, 1] * 5)
expected = {}

import torch
from netdef import Net

torch.manual_seed(0)
net = Net(hidden=4).eval()
torch.save(net.state_dict(), out / "net" / "model.pt")
(out / "net" / "config.json").write_text(json.dumps({"hidden": 4}))
torch.save(net, out / "net_full.bin")
torch.jit.script(net).save(str(out / "net_script.pt"))
torch.save(net.state_dict(), out / "net_legacy.pt", _use_new_zipfile_serialization=False)
expected["net"] = net(torch.from_numpy(X[:4])).tolist()

import xgboost
clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y)
clf.save_model(out / "booster.json")
clf.get_booster().save_model(out / "booster_raw.ubj")
expected["booster"] = clf.predict_proba(X[:4]).tolist()

import lightgbm
lgbm = lightgbm.LGBMClassifier(n_estimators=3, min_child_samples=1, verbose=-1).fit(X, y)
lgbm.booster_.save_model(out / "lgbm.txt")
expected["lgbm"] = lgbm.booster_.predict(X[:4]).tolist()

import keras
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2, activation="softmax")])
model.compile(loss="sparse_categorical_crossentropy")
model.fit(X, y, epochs=2, verbose=0)
model.save(out / "clf.keras")
model.save(out / "clf.h5")
expected["clf"] = model.predict(X[:4], verbose=0).tolist()

(out / "expected.json").write_text(json.dumps(expected))
"""

LIBRARIES = ("torch", "xgboost", "lightgbm", "keras")


def need_libraries() -> None:
    """Skip, naming what is missing, unless the four libraries are installed (cheap: no import;
    keras is imported by the script, on the torch backend)."""
    missing = [lib for lib in LIBRARIES if importlib.util.find_spec(lib) is None]
    if missing:
        pytest.skip(
            f"needs {', '.join(missing)} (pip install torch==2.13.0, then pip install -e "
            "'.[test]'; .ci/run installs both)"
        )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with every model saved by MAKE_MODELS, netdef.py and expected.json."""
    need_libraries()
    src = tmp_path_factory.mktemp("made")
    (src / "netdef.py").write_text(NETDEF)
    (src / "make_models.py").write_text(MAKE_MODELS)
    subprocess.run(
        [sys.executable, "make_models.py", "models"], cwd=src, check=True, capture_output=True
    )
    return src


def expected(made: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((made / "models" / "expected.json").read_text())
    return data


# --- the plugin on the bytes, in this process -------------------------------------------------


SNIFFED = {
    "net/model.pt": "torch",
    "net/config.json": "unknown",
    "net_full.bin": "torch",
    "net_script.pt": "torch",
    "net_legacy.pt": "torch",
    "booster.json": "xgboost",
    "booster_raw.ubj": "xgboost",
    "lgbm.txt": "lightgbm",
    "clf.keras": "keras",
    "clf.h5": "keras",
}


def test_each_format_is_told_from_its_bytes(made: Path) -> None:
    for name, fmt in SNIFFED.items():
        path = made / "models" / name
        assert pytest_plugin.sniff_format(path.read_bytes()) == fmt, name
        assert pytest_plugin.sniff_file(path) == fmt, name


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torch_and_xgboost_load_named_and_guessed(
    made: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The torch and xgboost loaders on verified bytes of every kind, format named and guessed:
    the loaded model predicts what the saved one did (LightGBM and Keras: in the commit test)."""
    torch = pytest.importorskip("torch")
    np = pytest.importorskip("numpy")
    monkeypatch.syspath_prepend(str(made))  # netdef.Net, for the pickled module
    want = expected(made)
    x = np.array([[0.0], [1.0], [8.0], [9.0]], dtype=np.float32)
    models = made / "models"

    def load(name: str, fmt: str) -> Any:
        data = (models / name).read_bytes()
        data = pytest_plugin.verified_bytes(str(models / name), hashlib.md5(data).hexdigest())
        return pytest_plugin.load_model(data, fmt)

    for named in (True, False):
        for name in ("net_full.bin", "net_script.pt"):
            net = load(name, "torch" if named else "auto")
            assert type(net).__name__ in ("Net", "RecursiveScriptModule"), name
            assert np.allclose(net(torch.from_numpy(x)).tolist(), want["net"], atol=1e-6)
        for name in ("net/model.pt", "net_legacy.pt"):
            state = load(name, "torch" if named else "auto")
            assert sorted(state) == ["body.0.bias", "body.0.weight", "body.2.bias", "body.2.weight"]
        booster = load("booster.json", "xgboost" if named else "auto")
        assert type(booster).__name__ == "XGBClassifier"  # saved by XGBClassifier: given back so
        assert np.allclose(booster.predict_proba(x), want["booster"], atol=1e-6)
        raw = load("booster_raw.ubj", "xgboost" if named else "auto")
        assert type(raw).__name__ == "Booster"  # saved from the Booster: a Booster
        assert np.allclose(raw.inplace_predict(x), np.array(want["booster"])[:, 1], atol=1e-6)


def test_a_directory_loads_its_one_model_file_or_says_what_to_do(
    made: Path, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    net = made / "models" / "net"
    state = pytest_plugin.load_model_directory(net, "auto", "models/net")
    assert "body.0.weight" in state

    both = tmp_path / "two"
    shutil.copytree(net, both)
    shutil.copyfile(made / "models" / "lgbm.txt", both / "lgbm.txt")
    with pytest.raises(pytest_plugin.ModelRefused, match=r"found 2 \(lgbm.txt \(lightgbm\), "):
        pytest_plugin.load_model_directory(both, "auto", "models/two")
    assert "body.0.weight" in pytest_plugin.load_model_directory(both, "torch", "models/two")

    (both / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(pytest_plugin.ModelRefused, match="TensorFlow SavedModel"):
        pytest_plugin.load_model_directory(both, "auto", "models/two")


def _dir_model(tmp_path: Path, listing: list[dict[str, str]], members: dict[str, str]) -> dict:
    data = json.dumps(listing).encode()
    (tmp_path / "listing.dir").write_bytes(data)
    md5 = hashlib.md5(data).hexdigest() + ".dir"
    return {"path": "models/net", "file": str(tmp_path / "listing.dir"), "md5": md5,
            "hash": "md5", "members": members}  # fmt: skip


def test_a_directory_is_rebuilt_only_from_verified_files(made: Path, tmp_path: Path) -> None:
    """Every file against the listing, the listing against the directory's md5; a member
    path that climbs out of the directory is refused before anything is written."""
    pt, cfg = made / "models" / "net" / "model.pt", made / "models" / "net" / "config.json"
    sums = {p: hashlib.md5(p.read_bytes()).hexdigest() for p in (pt, cfg)}
    listing = [
        {"md5": sums[cfg], "relpath": "config.json"},
        {"md5": sums[pt], "relpath": "model.pt"},
    ]
    members = {sums[pt]: str(pt), sums[cfg]: str(cfg)}
    model = _dir_model(tmp_path, listing, members)
    built = pytest_plugin.verified_directory(model, tmp_path / "ok")
    assert sorted(p.name for p in built.iterdir()) == ["config.json", "model.pt"]
    assert (built / "model.pt").read_bytes() == pt.read_bytes()

    wrong = {**model, "md5": "0" * 32 + ".dir"}
    with pytest.raises(pytest_plugin.ModelRefused, match="was not loaded"):
        pytest_plugin.verified_directory(wrong, tmp_path / "wrong")
    swapped = _dir_model(tmp_path, listing, {sums[pt]: str(cfg), sums[cfg]: str(cfg)})
    with pytest.raises(pytest_plugin.ModelRefused, match=f"not the recorded {sums[pt]}"):
        pytest_plugin.verified_directory(swapped, tmp_path / "swapped")
    assert not (tmp_path / "swapped" / "model.pt").exists()
    escaping = _dir_model(tmp_path, [{"md5": sums[pt], "relpath": "../x.pt"}], members)
    with pytest.raises(pytest_plugin.ModelRefused, match="would leave the directory"):
        pytest_plugin.verified_directory(escaping, tmp_path / "esc" / "d")
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


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".")[0]


def add_models(ex: Example, made: Path) -> None:
    shutil.copytree(made / "models" / "net", ex.root / "models" / "net")
    for path in MODEL_TESTS:
        if path != "models/net":
            shutil.copyfile(made / path, ex.root / path)
    shutil.copyfile(made / "netdef.py", ex.root / "src" / "netdef.py")
    (ex.root / "pytest.ini").write_text("[pytest]\npythonpath = src\n")
    ex.dvc("add", "-q", *MODEL_TESTS)
    want = expected(made)
    doc = yaml.safe_load((ex.root / "gitml.yaml").read_text())
    for path, test in MODEL_TESTS.items():
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


def test_four_formats_round_trip_through_a_commit(
    example: Example, made: Path, tmp_path: Path
) -> None:
    """The hook runs each model's tests with the committed bytes, loaded by `gitml_model` after
    their md5 matched: a directory (every file verified), a pickled torch module (format from
    gitml.yaml), XGBoost and LightGBM (from their bytes), Keras (from its suffix)."""
    add_models(example, made)
    ok = example.git("commit", "-q", "-m", "four formats", check=False)
    assert ok.returncode == 0, ok.stderr
    lock = yaml.safe_load(example.show_file("HEAD", "gitml.lock"))["models"]
    for path in MODEL_TESTS:
        assert lock[path]["tests"] == {**lock[path]["tests"], "passed": 1, "failed": 0}, path
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
    lean = lean_interpreter(tmp_path / "lean", "pytest", "keras")
    doc = yaml.safe_load((example.root / "gitml.yaml").read_text())
    doc["python"] = str(lean)
    (example.root / "gitml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    example.git("add", "gitml.yaml")
    missing = example.gitml("test", "lgbm", "clf")
    assert missing.returncode == 1, missing.stderr
    assert f"needs `lightgbm` in the project's interpreter ({lean})" in missing.stderr
    assert "pip install 'gitml[lightgbm]'" in missing.stderr
    assert "`keras` is installed" in missing.stderr and "No module named 'torch'" in missing.stderr
    assert "Keras 3 runs on a backend" in missing.stderr
