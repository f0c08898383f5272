"""Model tests and metric gates: real sklearn models, real pytest, real git commits and pushes.

The example's gitml.yaml has `tests: tests/model` (tests/model/test_model.py: three classes
predicted, accuracy above 0.8) and the gate `accuracy >= 0.9`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import Example, git

from gitml import pytest_plugin

MODEL = "model/model.pkl"


def lock_at(ex: Example, rev: str = "HEAD") -> dict:
    return yaml.safe_load(ex.show_file(rev, "gitml.lock"))["models"][MODEL]


def staged_lock(ex: Example) -> str:
    return ex.git("ls-files", "-s", "gitml.lock").stdout


def set_gates(ex: Example, *rules: str, baseline: str | None = None) -> None:
    path = ex.root / "gitml.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["models"][0]["gates"] = list(rules)
    if baseline:
        doc["models"][0]["baseline"] = baseline
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def retrain(ex: Example, *changes: tuple[str, str]) -> None:
    for old, new in changes:
        ex.set_param(old, new)
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")


def commit(ex: Example, message: str) -> subprocess.CompletedProcess[str]:
    return ex.git("commit", "-q", "-m", message, check=False)


def cache_records(ex: Example) -> list[dict]:
    d = ex.root / ".git" / "gitml" / "modeltests"
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.is_dir() else []


def test_first_commit_recorded_passing_tests_and_gates(example: Example) -> None:
    entry = lock_at(example)
    assert entry["tests"]["passed"] == 2 and entry["tests"]["failed"] == 0
    assert entry["gates"] == [
        {"rule": "accuracy >= 0.9", "value": 0.977778, "baseline": None, "threshold": 0.9,
         "passed": True}
    ]  # fmt: skip


def test_regression_past_a_gate_blocks_then_the_fixed_model_passes(example: Example) -> None:
    head, before = example.head(), staged_lock(example)
    retrain(example, ("n_estimators: 3", "n_estimators: 1"), ("max_depth: 2", "max_depth: 1"))
    staged = staged_lock(example)
    blocked = commit(example, "worse model")
    assert blocked.returncode == 1, blocked.stderr
    err = blocked.stderr
    assert "gates failed for model/model.pkl" in err
    assert "accuracy >= 0.9" in err and "0.622222" in err and "FAIL" in err
    assert "threshold" in err and "baseline" in err  # the table's header
    assert "tests failed for model/model.pkl" in err
    assert "test_predicts_the_three_wine_classes" in err and "test_accuracy_on_the_test" in err
    assert example.head() == head and staged_lock(example) == staged
    assert staged == before  # gitml.lock was never staged by the blocked hook

    retrain(example, ("max_depth: 1", "max_depth: 2"))  # one tree, depth 2: accuracy 0.955556
    ok = commit(example, "fixed model")
    assert ok.returncode == 0, ok.stderr
    entry = lock_at(example)
    assert entry["tests"]["failed"] == 0 and entry["tests"]["passed"] == 2
    assert entry["gates"][0]["value"] == 0.955556 and entry["gates"][0]["passed"] is True


def test_a_failing_model_test_blocks_and_cached_recommit_skips_pytest(example: Example) -> None:
    extra = example.root / "tests" / "model" / "test_extra.py"
    extra.write_text(
        "def test_f1_is_perfect(gitml_metrics):\n    assert gitml_metrics['f1_macro'] == 1.0\n"
    )
    example.git("add", "-A")  # only a test file changes: the model is tested again
    blocked = commit(example, "stricter test")
    assert blocked.returncode == 1
    assert "tests/model/test_extra.py::test_f1_is_perfect" in blocked.stderr
    assert "assert 0.977143 == 1.0" in blocked.stderr

    extra.write_text("def test_f1(gitml_metrics, gitml_params):\n"
                     "    assert gitml_metrics['f1_macro'] > 0.9\n"
                     "    assert gitml_params['train']['max_depth'] == 2\n")  # fmt: skip
    example.git("add", "-A")
    tested = example.gitml("test", "--json")
    assert tested.returncode == 0, tested.stderr
    [result] = json.loads(tested.stdout)["models"]
    assert result["tests"]["passed"] == 3 and result["cached"] is False
    records = cache_records(example)
    ok = commit(example, "f1 test")  # same model, tests, data, env: pytest's result is reused
    assert ok.returncode == 0, ok.stderr
    after = cache_records(example)
    assert len(after) == len(records)
    [reused] = [r for r in after if r["result"]["passed"] == 3]
    assert reused["hits"] == 1
    assert lock_at(example)["tests"]["passed"] == 3


def test_baseline_from_parent_and_from_a_production_tag(example: Example) -> None:
    first = example.head()
    set_gates(example, "accuracy >= baseline.accuracy - 0.01")
    retrain(example, ("n_estimators: 3", "n_estimators: 5"))  # 0.977778 -> 0.955556
    blocked = commit(example, "five trees")
    assert blocked.returncode == 1
    assert first[:12] in blocked.stderr and "0.967778" in blocked.stderr

    set_gates(example, "accuracy >= 0.9")
    example.git("add", "-A")
    assert commit(example, "five trees, fixed gate").returncode == 0
    five = example.head()
    example.git("tag", "-a", "wine-classifier#production#1", first, "-m", "promote")

    # Gates judge metrics, not bytes: the five-tree model itself (0.955556) is judged again
    # against each baseline (its gates changed), without another `gitml repro`.
    set_gates(example, "accuracy >= baseline.accuracy - 0.01")
    example.git("add", "-A")
    parent = example.gitml("test", "--json")  # baseline parent: five trees, same accuracy
    assert parent.returncode == 0, parent.stderr
    [gate] = json.loads(parent.stdout)["models"][0]["gates"]
    assert gate["baseline"] == five and gate["threshold"] == 0.945556 and gate["passed"]

    set_gates(example, "accuracy >= baseline.accuracy - 0.01", baseline="production")
    example.git("add", "-A")
    blocked = commit(example, "five trees vs production")
    assert blocked.returncode == 1
    assert first[:12] in blocked.stderr and "0.967778" in blocked.stderr

    example.git("tag", "-a", "wine-classifier#production#2", five, "-m", "promote five")
    ok = commit(example, "five trees vs new production")
    assert ok.returncode == 0, ok.stderr
    [gate] = lock_at(example)["gates"]
    assert gate["baseline"] == five and gate["threshold"] == 0.945556


def test_a_gate_naming_an_unknown_metric_is_bad_input(example: Example) -> None:
    set_gates(example, "precision >= 0.5")
    example.git("add", "-A")
    before = staged_lock(example)
    res = commit(example, "unknown metric")
    assert res.returncode != 0  # git says 1 whatever the hook's code; `gitml test` says 2
    assert "'precision'" in res.stderr and "accuracy, f1_macro" in res.stderr
    assert "Traceback" not in res.stderr and staged_lock(example) == before
    tested = example.gitml("test")
    assert tested.returncode == 2 and "accuracy, f1_macro" in tested.stderr


def test_a_tampered_cache_object_is_refused_before_loading(example: Example) -> None:
    md5 = lock_at(example)["md5"]
    obj = example.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    marker = example.root.parent / "unpickled"
    shutil.rmtree(example.root / ".git" / "gitml" / "modeltests")  # the first commit's result
    obj.chmod(stat.S_IWUSR | stat.S_IRUSR)
    obj.write_bytes(pickle.dumps(_Marker(str(marker))))
    res = example.gitml("test", "wine-classifier")
    assert res.returncode == 1
    assert "was not loaded" in res.stderr and md5 in res.stderr
    assert not marker.exists()
    assert cache_records(example) == []  # the verdict is on that file, not cached for the md5


class _Marker:
    """Unpickling it creates a file: the proof that a refused model was never loaded."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (self.path, "w"))


def test_the_commit_is_judged_by_its_staged_test_files(example: Example) -> None:
    """A partly staged test file or conftest.py runs as staged: the workspace versions, which
    alone or together would give the other verdict, do not decide the commit, and neither the
    worktree nor the index changes."""
    test = example.root / "tests" / "model" / "test_staged.py"
    conftest = example.root / "tests" / "conftest.py"

    def threshold(value: float) -> str:
        return f"import pytest\n\n@pytest.fixture\ndef threshold():\n    return {value}\n"

    test.write_text("def test_threshold(threshold):\n    assert threshold < 1.0\n")
    conftest.write_text(threshold(0.5))
    example.git("add", "-A")  # staged: 0.5 < 1.0 passes
    test.write_text("def test_threshold(threshold):\n    assert threshold < 0.1\n")
    conftest.write_text(threshold(2.0))  # any workspace file in the run would fail it
    ok = commit(example, "staged: passing test and conftest")
    assert ok.returncode == 0, ok.stderr
    assert "differs from its staged version: the model tests run the staged one" in ok.stderr
    assert lock_at(example)["tests"]["passed"] == 3

    test.write_text("def test_threshold(threshold):\n    assert threshold > 1.0\n")
    example.git("add", str(test))  # staged: fails with the committed conftest (0.5)
    test.write_text("def test_threshold(threshold):\n    assert threshold > 0.1\n")
    head, index = example.head(), example.git("ls-files", "-s").stdout
    blocked = commit(example, "staged: failing test")  # the workspace files would pass it
    assert blocked.returncode == 1
    assert "tests/model/test_staged.py::test_threshold" in blocked.stderr
    assert "assert 0.5 > 1.0" in blocked.stderr
    assert example.head() == head and example.git("ls-files", "-s").stdout == index
    assert "return 2.0" in conftest.read_text() and "> 0.1" in test.read_text()
    assert not any((example.root / ".git" / "gitml" / "pytest-runs").iterdir())

    (example.root / "tests" / "unstaged").mkdir()  # tests that exist only in the workspace
    (example.root / "tests" / "unstaged" / "test_u.py").write_text("def test_u():\n    pass\n")
    doc = yaml.safe_load((example.root / "gitml.yaml").read_text())
    doc["models"][0]["tests"] = "tests/unstaged"
    (example.root / "gitml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    example.git("add", "gitml.yaml")
    unstaged = example.gitml("test")
    assert unstaged.returncode == 2 and "Traceback" not in unstaged.stderr
    assert "tests/unstaged, have no files in the index: `git add tests/unstaged`" in unstaged.stderr


def test_push_refuses_a_tip_without_passing_model_checks(example: Example, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", origin, cwd=tmp_path)
    example.git("remote", "add", "origin", str(origin))
    # A fresh gitml.lock (inputs match) whose results say the checks did not pass, committed
    # past the hook (a hand edit, a rebase): only the tip's recorded results can judge it.
    lock = yaml.safe_load((example.root / "gitml.lock").read_text())
    del lock["models"][MODEL]["tests"]
    lock["models"][MODEL]["gates"][0]["passed"] = False
    text = "schema: gitml.lock/1\n" + yaml.safe_dump(
        {k: v for k, v in lock.items() if k != "schema"}
    )
    (example.root / "gitml.lock").write_text(text)
    example.git("commit", "-q", "-am", "untested", env={"GITML_SKIP": "1"})
    assert example.gitml("lock", "--check", "--rev", "HEAD").returncode == 0
    res = example.git("push", "-q", "origin", "main", check=False)
    assert res.returncode != 0
    assert "did not pass" in res.stderr and "no recorded model test results" in res.stderr
    assert "gate `accuracy >= 0.9` failed" in res.stderr
    assert "gitml test" in res.stderr


# --- the plugin on its own: formats round-trip, hashes checked --------------------------------


PREDICTS = "def test_predicts(gitml_model):\n    assert list(gitml_model.predict([[0.0], [9.0]])) == [0, 1]\n"


def _plugin_run(tmp_path: Path, model_file: Path, md5: str, fmt: str, test: str = PREDICTS) -> dict:
    """pytest in a subprocess with only the plugin on PYTHONPATH, as gitml runs it."""
    plugin = tmp_path / "plugin" / "gitml"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text("")
    shutil.copyfile(pytest_plugin.__file__, plugin / "pytest_plugin.py")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "test_m.py").write_text(test)
    results = tmp_path / "results.json"
    inputs = tmp_path / "inputs.json"
    model = {"path": f"m.{fmt}", "file": str(model_file), "md5": md5, "hash": "md5", "format": fmt}
    inputs.write_text(json.dumps({"model": model, "results": str(results)}))
    env = {**os.environ, "GITML_INPUTS": str(inputs), "PYTHONPATH": str(plugin.parent)}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:gitml", "-p", "gitml.pytest_plugin",
           "-p", "no:cacheprovider", "-q", "t"]  # fmt: skip
    subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, check=False)
    return json.loads(results.read_text())


def _fitted() -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit([[0.0], [1.0], [8.0], [9.0]], [0, 0, 1, 1])


@pytest.mark.parametrize("fmt", ["pickle", "joblib", "skops", "auto"])
def test_model_formats_round_trip_through_the_loader(tmp_path: Path, fmt: str) -> None:
    """The fixture's own path (verify, then load) on real files; the example covers pytest."""
    path = tmp_path / "model.bin"
    if fmt in ("pickle", "auto"):
        path.write_bytes(pickle.dumps(_fitted()))
    elif fmt == "joblib":
        import joblib

        joblib.dump(_fitted(), path)
    else:
        sio = pytest.importorskip("skops.io")
        path.write_bytes(sio.dumps(_fitted()))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    data = pytest_plugin.verified_bytes(str(path), md5)
    model = pytest_plugin.load_model(data, fmt)
    assert list(model.predict([[0.0], [9.0]])) == [0, 1]
    if fmt != "pickle":
        assert pytest_plugin.sniff_format(data) == ("pickle" if fmt == "auto" else fmt)


def test_the_fixture_refuses_a_hash_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(pickle.dumps(_fitted()))
    result = _plugin_run(tmp_path, path, "0" * 32, "pickle")
    assert result["passed"] == 0 and "was not loaded" in result["failures"][0]["repr"]


ONNX_TEST = """
import numpy as np

def test_onnx_session(gitml_model):
    name = gitml_model.get_inputs()[0].name
    x = np.array([[0.0], [1.0], [8.0], [9.0]], dtype=np.float32)
    assert gitml_model.run(None, {name: x})[0].tolist() == [0, 0, 1, 1]
"""


def test_an_onnx_model_round_trips_through_the_fixture(tmp_path: Path) -> None:
    """skl2onnx converts a fitted sklearn model; the plugin verifies, then loads it with
    onnxruntime (format named, and sniffed from the bytes), and it predicts like the original."""
    np = pytest.importorskip("numpy")
    skl2onnx = pytest.importorskip("skl2onnx")
    pytest.importorskip("onnxruntime")
    from skl2onnx.common.data_types import FloatTensorType

    fitted = _fitted()
    onx = skl2onnx.convert_sklearn(
        fitted, initial_types=[("x", FloatTensorType([None, 1]))], target_opset=17
    )
    path = tmp_path / "model.onnx"
    path.write_bytes(onx.SerializeToString())
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    data = pytest_plugin.verified_bytes(str(path), md5)
    assert pytest_plugin.sniff_format(data) == "onnx"
    x = np.array([[0.0], [0.4], [4.4], [5.0], [8.0], [9.0]], dtype=np.float32)
    for fmt in ("onnx", "auto"):
        session = pytest_plugin.load_model(data, fmt)
        labels, probabilities = session.run(None, {"x": x})
        assert labels.tolist() == fitted.predict(x).tolist()  # type: ignore[attr-defined]
        expected = fitted.predict_proba(x)  # type: ignore[attr-defined]
        got = np.array([[p[c] for c in sorted(p)] for p in probabilities])
        assert np.allclose(got, expected, atol=1e-5)
    # through the gitml_model fixture in pytest, as gitml runs it; a wrong hash is refused
    result = _plugin_run(tmp_path / "ok", path, md5, "onnx", ONNX_TEST)
    assert result["passed"] == 1 and result["failed"] == 0, result
    result = _plugin_run(tmp_path / "bad", path, "0" * 32, "onnx", ONNX_TEST)
    assert result["errors"] == 1 and "was not loaded" in result["failures"][0]["repr"]
