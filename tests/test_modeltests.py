"""Model tests and metric gates: real sklearn models, real pytest, real git commits and pushes.

The example's gitml.yaml has `tests: tests/model` (tests/model/test_model.py: three classes
predicted, accuracy above 0.8) and the gate `accuracy >= 0.9`.
"""

from __future__ import annotations

import dataclasses
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

from gitml import modelformats, modelloading, modeltests, precommit, testrunner
from gitml import repo as repo_mod
from gitml.checks import CheckContext
from gitml.lockfile import Lock
from gitml.snapshot import Snapshot

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


@pytest.mark.slow
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


@pytest.mark.slow
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


LAYOUT_TEST = """import json
from pathlib import Path

import wine_names  # from src/, which the root conftest.py puts on sys.path
from tests.helpers import MIN_ACCURACY


def test_helpers_and_project_code_import(gitml_metrics):
    assert wine_names.CLASSES == 3 and gitml_metrics["accuracy"] > MIN_ACCURACY


def test_fixtures_found_from_the_file_and_through_a_symlink():
    fixtures = Path(__file__).parents[1] / "fixtures"
    assert json.loads((fixtures / "classes.json").read_text()) == [0, 1, 2]
    link = Path(__file__).parent / "classes.json"
    assert link.is_symlink() and json.loads(link.read_text()) == [0, 1, 2]
"""


@pytest.mark.slow
def test_model_tests_run_in_place_as_the_project_lays_them_out(example: Example) -> None:
    """Tests in a package (tests/__init__.py: `from tests.helpers import ...`), a root
    conftest.py that puts src/ on sys.path, fixtures found from `__file__`, one that git stores
    as a symlink: the hook's run sees them as `pytest tests/model` from the repository does. A
    staged change to a helper of that package is a new run, not the cached verdict."""
    root = example.root
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "model" / "__init__.py").write_text("")
    (root / "tests" / "helpers.py").write_text("MIN_ACCURACY = 0.8\n")
    (root / "tests" / "fixtures").mkdir()
    (root / "tests" / "fixtures" / "classes.json").write_text("[0, 1, 2]\n")
    (root / "tests" / "model" / "classes.json").symlink_to(Path("..", "fixtures", "classes.json"))
    (root / "tests" / "model" / "test_layout.py").write_text(LAYOUT_TEST)
    (root / "src" / "wine_names.py").write_text("CLASSES = 3\n")
    (root / "conftest.py").write_text(
        "import sys\nfrom pathlib import Path\n\n"
        "sys.path.insert(0, str(Path(__file__).parent / 'src'))\n"
    )
    example.git("add", "-A")
    assert example.git("ls-files", "-s", "tests/model/classes.json").stdout.startswith("120000")
    ok = commit(example, "tests as a package")
    assert ok.returncode == 0, ok.stderr
    assert lock_at(example)["tests"]["passed"] == 4 and lock_at(example)["tests"]["failed"] == 0

    (root / "tests" / "helpers.py").write_text("MIN_ACCURACY = 0.99\n")
    example.git("add", "tests/helpers.py")
    stricter = example.gitml("test", "--json")
    assert stricter.returncode == 1, stricter.stderr
    [result] = json.loads(stricter.stdout)["models"]
    assert result["cached"] is False and result["tests"]["failed"] == 1
    assert "test_helpers_and_project_code_import" in stricter.stderr
    # and the commit hook sees it too: a helper of the tests' package, or a conftest.py above
    # the tests, is watched, and the lock's tests hash covers it
    blocked = commit(example, "stricter helper")
    assert blocked.returncode == 1, blocked.stderr
    assert "test_helpers_and_project_code_import" in blocked.stderr
    (root / "tests" / "helpers.py").write_text("MIN_ACCURACY = 0.8\n")
    (root / "conftest.py").write_text(
        (root / "conftest.py").read_text() + "\n\ndef pytest_runtest_setup(item):\n"
        "    raise AssertionError('the root conftest.py ran')\n"
    )
    example.git("add", "tests/helpers.py", "conftest.py")
    via_conftest = commit(example, "a root conftest.py that fails every test")
    assert via_conftest.returncode == 1, via_conftest.stderr
    assert "the root conftest.py ran" in via_conftest.stderr


def test_test_files_that_are_not_as_staged_are_refused_naming_them(example: Example) -> None:
    """pytest runs in the repository, so a partly staged test file, or an untracked one it
    would collect, would make the verdict about files the commit does not contain: refused,
    naming them and what to do, with the index and the worktree as they were. A verdict already
    reached on the staged files is reused whatever the workspace holds, with a warning."""
    test = example.root / "tests" / "model" / "test_staged.py"
    test.write_text("def test_staged():\n    assert True\n")
    example.git("add", str(test))
    test.write_text("def test_staged():\n    assert False\n")  # the workspace's would fail
    head, index = example.head(), example.git("ls-files", "-s").stdout
    blocked = commit(example, "partly staged test")
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr
    err = " ".join(blocked.stderr.split())
    assert "tests/model/test_staged.py differs from the staged version" in err
    assert "`git add -- tests/model/test_staged.py`" in err
    assert "git stash push --keep-index --include-untracked" in err
    assert example.head() == head and example.git("ls-files", "-s").stdout == index
    assert "assert False" in test.read_text()
    runs = example.root / ".git" / "gitml" / "pytest-runs"
    assert not runs.exists() or not any(runs.iterdir())

    test.write_text("def test_staged():\n    assert True\n")
    wip = example.root / "tests" / "model" / "test_wip.py"
    wip.write_text("def test_wip():\n    assert False\n")
    untracked = example.gitml("test")
    assert untracked.returncode == 2, untracked.stderr
    assert "tests/model/test_wip.py is not staged (untracked)" in " ".join(untracked.stderr.split())
    wip.unlink()
    ok = commit(example, "staged test")
    assert ok.returncode == 0, ok.stderr
    assert lock_at(example)["tests"]["passed"] == 3

    test.write_text("def test_staged():\n    assert False\n")
    cached = example.gitml("test", "--json")
    assert cached.returncode == 0, cached.stderr
    assert json.loads(cached.stdout)["models"][0]["cached"] is True
    assert (
        "test_staged.py differs from its staged version: the cached verdict is on the staged one"
        in cached.stderr
    )

    (example.root / "tests" / "unstaged").mkdir()  # tests that exist only in the workspace
    (example.root / "tests" / "unstaged" / "test_u.py").write_text("def test_u():\n    pass\n")
    doc = yaml.safe_load((example.root / "gitml.yaml").read_text())
    doc["models"][0]["tests"] = "tests/unstaged"
    (example.root / "gitml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    example.git("add", "gitml.yaml")
    unstaged = example.gitml("test")
    assert unstaged.returncode == 2 and "Traceback" not in unstaged.stderr
    assert "tests/unstaged, have no files in the index: `git add tests/unstaged`" in unstaged.stderr


@pytest.mark.slow
def test_the_pytest_config_is_part_of_a_cached_verdict(example: Example) -> None:
    """pytest reads the workspace's pytest config (addopts, pythonpath, ...): a verdict
    reached under one config is not reused under another."""

    def tested() -> dict:
        res = example.gitml("test", "--json")
        assert res.returncode == 0, res.stderr
        [result] = json.loads(res.stdout)["models"]
        return {"cached": result["cached"], "passed": result["tests"]["passed"]}

    assert tested()["passed"] == 2
    ini = example.root / "pytest.ini"
    ini.write_text("[pytest]\naddopts = -k predicts\n")
    assert tested() == {"cached": False, "passed": 1}
    ini.write_text("[pytest]\naddopts = -k accuracy\n")
    assert tested() == {"cached": False, "passed": 1}
    assert tested() == {"cached": True, "passed": 1}


def test_a_parent_baseline_reads_the_head_lock_the_hook_parsed(example: Example) -> None:
    """`baseline: parent` takes HEAD's metrics from the gitml.lock the hook already parsed
    (CheckContext.head_lock), and reads HEAD's blob itself only without one."""
    repo = repo_mod.find(example.root)
    head = example.head()
    outcome = precommit.evaluate(repo, Snapshot(repo.root), head, run_checks=False)
    assert outcome.lineage is not None and outcome.lock is not None and outcome.head_lock
    head_entry = outcome.head_lock.models[MODEL]
    metrics = {**(head_entry.metrics or {}), "accuracy": 0.5}  # tells the two sources apart
    parsed = outcome.head_lock.with_model(MODEL, dataclasses.replace(head_entry, metrics=metrics))
    [m] = outcome.lineage.config.models
    gated = dataclasses.replace(m, tests=None, gates=("accuracy >= baseline.accuracy - 0.01",))
    entry = outcome.lock.models[MODEL]

    def threshold(head_lock: Lock | None) -> float:
        ctx = CheckContext(repo, outcome.lineage, outcome.lock, repo.root / ".dvc" / "cache",
                           head=head, head_lock=head_lock)  # fmt: skip
        [gate] = modeltests.run_model(ctx, gated, entry, None, head).gates
        assert gate.baseline == head and gate.threshold is not None
        return gate.threshold

    assert threshold(parsed) == 0.49
    assert threshold(None) == 0.967778  # HEAD's gitml.lock, read from git


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
    assert example.gitml("lock", "--check", "HEAD").returncode == 0
    res = example.git("push", "-q", "origin", "main", check=False)
    assert res.returncode != 0
    assert "did not pass" in res.stderr and "no recorded model test results" in res.stderr
    assert "gate `accuracy >= 0.9` failed" in res.stderr
    assert "gitml test" in res.stderr


HOLDOUT_TEST = """import pandas as pd


def test_accuracy_on_the_holdout(gitml_model, gitml_data):
    holdout = pd.read_csv(gitml_data["data/holdout.csv"])
    predicted = gitml_model.predict(holdout.drop(columns=["target"]))
    assert (predicted == holdout["target"]).mean() > 0.8
"""


def write_holdout(ex: Example, relabel: bool) -> None:
    """data/holdout.csv, DVC-tracked on its own (no stage reads it): the test split, its labels
    shifted by one class with `relabel`, so a test of accuracy on it fails."""
    lines = (ex.root / "data" / "prepared" / "test.csv").read_text().splitlines()
    column = lines[0].split(",").index("target")
    rows = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if relabel:
            cells[column] = str((int(cells[column]) + 1) % 3)
        rows.append(",".join(cells))
    (ex.root / "data" / "holdout.csv").write_text("\n".join(rows) + "\n")
    ex.dvc("add", "-q", "data/holdout.csv")
    ex.git("add", "data/holdout.csv.dvc", "data/.gitignore")


@pytest.mark.slow
def test_tests_run_again_when_only_the_data_they_read_changes(example: Example) -> None:
    """Finding 8: the data a test looks up in `gitml_data` is recorded with its md5, and a
    change of those bytes alone (the model, its inputs and the test files as they were) runs
    the tests again; a commit made around the hook is refused by lock --check and promote."""
    cfg = example.root / "gitml.yaml"
    cfg.write_text(cfg.read_text().replace(
        "data:\n  - path: data/wine.csv\n",
        "data:\n  - path: data/wine.csv\n  - path: data/holdout.csv\n",
    ))  # fmt: skip
    (example.root / "tests" / "model" / "test_holdout.py").write_text(HOLDOUT_TEST)
    write_holdout(example, relabel=False)
    example.git("add", "-A")
    ok = commit(example, "a holdout set and a test on it")
    assert ok.returncode == 0, ok.stderr
    tests = lock_at(example)["tests"]
    assert tests["passed"] == 3 and tests["failed"] == 0
    holdout_md5 = yaml.safe_load((example.root / "data" / "holdout.csv.dvc").read_text())
    holdout_md5 = holdout_md5["outs"][0]["md5"]

    head = example.head()
    write_holdout(example, relabel=True)  # only the holdout's bytes change
    blocked = commit(example, "relabelled holdout")
    assert blocked.returncode == 1, blocked.stderr
    assert "tests/model/test_holdout.py::test_accuracy_on_the_holdout" in blocked.stderr
    assert example.head() == head

    # What the tests looked up in gitml_data, with the md5s (the example's test reads the split)
    test_md5 = yaml.safe_load((example.root / "dvc.lock").read_text())["stages"]["prepare"]
    test_md5 = next(o["md5"] for o in test_md5["outs"] if o["path"] == "data/prepared/test.csv")
    assert tests["data"] == {"data/holdout.csv": holdout_md5, "data/prepared/test.csv": test_md5}

    skipped = example.git("commit", "-q", "--no-verify", "-m", "around the hook", check=False)
    assert skipped.returncode == 0, skipped.stderr
    check = example.gitml("lock", "--check", "HEAD")
    assert check.returncode == 1, check.stderr
    assert "tests.data.data/holdout.csv" in check.stderr and "other data" in check.stderr
    promoted = example.gitml("promote", "wine-classifier", "--to", "production")
    assert promoted.returncode == 1, promoted.stderr
    assert "not promoted" in promoted.stderr and "data/holdout.csv" in promoted.stderr
    assert example.git("tag").stdout == ""


@pytest.mark.slow
def test_a_failing_test_committed_around_the_hook_fails_lock_check_and_promote(
    example: Example,
) -> None:
    """Finding 9: the recorded tests hash is recomputed from the commit's test files."""
    extra = example.root / "tests" / "model" / "test_extra.py"
    extra.write_text("def test_fails():\n    assert False\n")
    example.git("add", "-A")
    example.git("commit", "-q", "--no-verify", "-m", "a failing test, hook skipped")
    check = example.gitml("lock", "--check", "HEAD")
    assert check.returncode == 1, check.stderr
    assert "models.model/model.pkl.tests.hash" in check.stderr
    assert "not those its tests ran on" in check.stderr
    assert example.gitml("lock", "--check").returncode == 1  # the staged state: the same
    promoted = example.gitml("promote", "wine-classifier", "--to", "production")
    assert promoted.returncode == 1, promoted.stderr
    assert "not promoted" in promoted.stderr and "tests.hash" in promoted.stderr
    assert example.git("tag").stdout == ""

    assert example.gitml("lock").returncode == 1  # runs them: the new test fails
    extra.write_text("def test_passes():\n    assert True\n")
    example.git("add", "-A")
    assert commit(example, "a passing test").returncode == 0
    assert example.gitml("lock", "--check", "HEAD").returncode == 0
    promoted = example.gitml("promote", "wine-classifier", "--to", "production")
    assert promoted.returncode == 0, promoted.stderr


def test_check_and_test_name_watched_files_that_differ_from_the_staged_ones(
    example: Example,
) -> None:
    """Finding 10: `gitml check` and `gitml test` judge the staged state and say, in one line,
    which watched files differ in the work tree, and whether those copies are valid."""
    clean = example.gitml("check")
    assert clean.returncode == 0, clean.stderr
    assert "staged state" not in clean.stderr

    cfg = example.root / "gitml.yaml"
    staged_cfg = cfg.read_text()
    cfg.write_text(staged_cfg + "models: [\n")  # broken, unstaged
    dvc_yaml = example.root / "dvc.yaml"
    dvc_yaml.write_text(
        dvc_yaml.read_text().replace("python src/train.py", "python src/train.py -v")
    )
    (example.root / "tests" / "model" / "test_wip.py").write_text("def test_wip(:\n")
    r = example.gitml("check")
    assert r.returncode == 0, r.stderr
    [line] = [x for x in r.stderr.splitlines() if "judged the staged state" in x]
    assert "gitml.yaml (not valid:" in line and "dvc.yaml," in line
    assert "tests/model/test_wip.py (untracked, not valid: SyntaxError" in line
    assert "checks passed" in r.stderr

    # An unstaged gitml.yaml without the model's tests: `gitml test` still tests the staged one
    cfg.write_text(staged_cfg)
    example.without_model_checks()
    (example.root / "tests" / "model" / "test_wip.py").unlink()
    r = example.gitml("test")
    assert r.returncode == 0, r.stderr
    [line] = [x for x in r.stderr.splitlines() if "judged the staged state" in x]
    assert "gitml.yaml" in line and "not valid" not in line and "git add" in line
    assert "model/model.pkl (wine-classifier): passed" in r.stderr


# --- the plugin on its own: formats round-trip, hashes checked --------------------------------


PREDICTS = "def test_predicts(gitml_model):\n    assert list(gitml_model.predict([[0.0], [9.0]])) == [0, 1]\n"


def _plugin_run(tmp_path: Path, model_file: Path, md5: str, fmt: str, test: str = PREDICTS) -> dict:
    """pytest in a subprocess with only the plugin on PYTHONPATH, as gitml runs it."""
    plugin = tmp_path / "plugin" / "gitml"
    testrunner.install_plugin(plugin.parent)
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
    data = modelloading.verified_bytes(str(path), md5)
    model = modelloading.load_model(data, fmt)
    assert list(model.predict([[0.0], [9.0]])) == [0, 1]
    if fmt != "pickle":
        assert modelformats.sniff_format(data) == ("pickle" if fmt == "auto" else fmt)


def test_the_fixture_refuses_a_hash_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(pickle.dumps(_fitted()))
    result = _plugin_run(tmp_path, path, "0" * 32, "pickle")
    assert result["passed"] == 0 and "was not loaded" in result["failures"][0]["repr"]


def test_a_model_that_does_not_load_is_refused_with_a_message(tmp_path: Path) -> None:
    """Verified bytes that do not load (a pickle naming a module the project lacks) are the
    plugin's refusal, naming the model and the cause, not a traceback; such a run is not cached."""
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x80\x04cgitml_no_such_module\nModel\n.")
    with pytest.raises(modelloading.ModelRefused, match="did not load as pickle .*no_such"):
        modelloading.load_model(path.read_bytes(), "auto", ".bin")
    result = _plugin_run(tmp_path, path, hashlib.md5(path.read_bytes()).hexdigest(), "pickle")
    assert result["passed"] == 0 and result["errors"] == 1, result
    message = result["failures"][0]["repr"]
    assert "m.pickle did not load as pickle (ModuleNotFoundError: No module named" in message
    assert "Traceback" not in message and "gitml.yaml" in message
    assert result["model_refused"].startswith("m.pickle did not load as pickle")


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
    data = modelloading.verified_bytes(str(path), md5)
    assert modelformats.sniff_format(data) == "onnx"
    x = np.array([[0.0], [0.4], [4.4], [5.0], [8.0], [9.0]], dtype=np.float32)
    for fmt in ("onnx", "auto"):
        session = modelloading.load_model(data, fmt)
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
