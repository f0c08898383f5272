"""A hyperparameter on the stage's command line (`cmd: python train.py data.csv 200`), not in
params.yaml: gitml.lock records the producing stage's command as an input of the model, so
`gitml diff` and `gitml report` between the 200-tree and the 100-tree commits say what changed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import Example, copy_example, dvc, git, run

# builds its own template repository; the rule it checks has fast unit tests (tests/unit)
pytestmark = pytest.mark.slow

MAKE_DATA = """\
import sys
from sklearn.datasets import make_classification

X, y = make_classification(n_samples=300, n_features=5, n_informative=3, random_state=11)
rows = ["f0,f1,f2,f3,f4,label"]
rows += [",".join(f"{v:.6f}" for v in x) + f",{t}" for x, t in zip(X, y)]
open(sys.argv[1], "w").write("\\n".join(rows) + "\\n")
"""
TRAIN = """\
import json, os, pickle, sys
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score

data_path, n_trees = sys.argv[1], int(sys.argv[2])
data = np.loadtxt(data_path, delimiter=",", skiprows=1)
train, test = data[:200], data[200:]
model = RandomForestClassifier(n_estimators=n_trees, max_depth=4, random_state=0)
model.fit(train[:, :-1], train[:, -1])
os.makedirs("model", exist_ok=True)
pickle.dump(model, open("model/model.pkl", "wb"))
figures = {
    "train": {"accuracy": accuracy_score(train[:, -1], model.predict(train[:, :-1]))},
    "test": {"roc_auc": roc_auc_score(test[:, -1], model.predict_proba(test[:, :-1])[:, 1])},
}
json.dump(figures, open("metrics.json", "w"), indent=2)
"""
DVC_YAML = """\
stages:
  train:
    cmd: python train.py data.csv {trees}
    deps: [train.py, data.csv]
    outs: [model/model.pkl]
    metrics:
      - metrics.json:
          cache: false
"""
GATE = "test.roc_auc >= 0.5"
CMD_200, CMD_100 = "python train.py data.csv 200", "python train.py data.csv 100"


def set_trees(ex: Example, trees: int) -> None:
    (ex.root / "dvc.yaml").write_text(DVC_YAML.format(trees=trees))


def build_cmd_layout(base: Path) -> Example:
    """The project as a DVC user has it (data added, the 200-tree model built), then `gitml
    init`, a gate on a nested metric and the first commit through the hooks; objects pushed."""
    repo, remote = base / "repo", base / "dvc-remote"
    repo.mkdir(parents=True)
    (repo / "make_data.py").write_text(MAKE_DATA)
    (repo / "train.py").write_text(TRAIN)
    remote.mkdir()
    git("init", "-q", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "local", "../dvc-remote", cwd=repo)
    run(sys.executable, "make_data.py", "data.csv", cwd=repo)
    dvc("add", "-q", "data.csv", cwd=repo)
    ex = Example(repo, remote)
    set_trees(ex, 200)
    dvc("repro", "-q", cwd=repo)
    r = ex.gitml("init")
    assert r.returncode == 0, r.stderr
    cfg = repo / "gitml.yaml"
    assert yaml.safe_load(cfg.read_text())["models"] == [
        {"path": "model/model.pkl", "metrics": "metrics.json"}
    ]
    anchor = "  path: model/model.pkl\n"
    cfg.write_text(cfg.read_text().replace(anchor, f"{anchor}  gates:\n  - {GATE}\n"))
    ex.git("add", "-A")
    r = ex.git("commit", "-q", "-m", "200 trees", check=False)
    assert r.returncode == 0, r.stderr
    ex.dvc("push", "-q")
    return ex


def commit(ex: Example, message: str) -> None:
    ex.git("add", "-A")
    r = ex.git("commit", "-q", "-m", message, check=False)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def cmd_template(tmp_path_factory: pytest.TempPathFactory) -> Example:
    return build_cmd_layout(tmp_path_factory.mktemp("cmd-layout"))


@pytest.fixture
def cmdex(cmd_template: Example, tmp_path: Path) -> Iterator[Example]:
    yield copy_example(cmd_template, tmp_path / "cmd")


def assert_cmd_diffed(ex: Example, first: str) -> None:
    """diff, diff --json, report and log name the changed command, 200 -> 100."""
    r = ex.gitml("diff", first, "HEAD")
    assert r.returncode == 0, r.stderr
    (row,) = [line for line in r.stdout.splitlines() if line.strip().startswith("cmd ")]
    assert CMD_200 in row and CMD_100 in row
    doc = json.loads(ex.gitml("diff", first, "HEAD", "--json").stdout)
    assert doc["models"]["model/model.pkl"]["cmd"] == {"old": CMD_200, "new": CMD_100}
    r = ex.gitml("report", first, "HEAD")
    assert r.returncode == 0, r.stderr
    assert f"| model/model.pkl | cmd | {CMD_200} | {CMD_100} |" in r.stdout
    rows = json.loads(ex.gitml("log", "--json").stdout)
    assert [row["cmd"] for row in rows] == [CMD_100, CMD_200]
    assert "cmd" in rows[0]["changed"]


def test_a_changed_command_is_a_changed_input(cmdex: Example) -> None:
    ex = cmdex
    first = ex.head()
    assert ex.lock()["models"]["model/model.pkl"]["cmd"] == CMD_200
    # The command changes and dvc.lock records it (`dvc commit`: no retraining, so cheap here;
    # the slow test below retrains): the lock's input changes with it.
    set_trees(ex, 100)
    ex.dvc("commit", "-q", "-f")
    commit(ex, "100 trees")
    assert ex.lock()["models"]["model/model.pkl"]["cmd"] == CMD_100
    assert_cmd_diffed(ex, first)


def test_a_lock_from_before_cmd_was_recorded_is_stale_naming_it(cmdex: Example) -> None:
    ex = cmdex
    lock = ex.root / "gitml.lock"
    text = lock.read_text()
    assert f"    cmd: {CMD_200}\n" in text
    lock.write_text(text.replace(f"    cmd: {CMD_200}\n", ""))
    ex.git("add", "gitml.lock")
    r = ex.gitml("lock", "--check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "models.model/model.pkl.cmd: added" in r.stderr
    r = ex.gitml("lock")
    assert r.returncode == 0, r.stderr
    assert ex.gitml("lock", "--check").returncode == 0
    assert f"    cmd: {CMD_200}\n" in lock.read_text()


def test_the_whole_flow_with_the_command_retrained(cmdex: Example) -> None:
    ex = cmdex
    first = ex.head()
    first_model = (ex.root / "model" / "model.pkl").read_bytes()
    set_trees(ex, 100)
    r = ex.gitml("repro")
    assert r.returncode == 0, r.stderr
    commit(ex, "100 trees")
    old, new = (ex.lock(rev)["models"]["model/model.pkl"] for rev in (first, "HEAD"))
    assert old["md5"] != new["md5"] and old["inputs"] == new["inputs"]  # only the command
    assert new["gates"][0]["passed"] is True
    assert_cmd_diffed(ex, first)
    r = ex.gitml("diff", first, "HEAD")
    assert "metric test.roc_auc" in r.stdout and "model md5" in r.stdout
    shown = ex.gitml("show")
    assert f"cmd: {CMD_100}" in shown.stdout and "test.roc_auc=" in shown.stdout
    ex.dvc("push", "-q")

    # Back to the 200-tree commit: the hook restores its model from the cache.
    r = ex.git("checkout", "-q", first, check=False)
    assert r.returncode == 0, r.stderr
    assert (ex.root / "model" / "model.pkl").read_bytes() == first_model
    r = ex.gitml("restore")
    assert r.returncode == 0 and "already holds" in r.stderr, r.stderr
    r = ex.gitml("reproduce", first)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == "identical"
