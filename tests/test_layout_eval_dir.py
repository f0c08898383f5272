"""DVC's tutorial layout: an evaluate stage writes dvclive's files into a cached output `eval`
(`outs: [eval]`), and dvc.yaml's top-level `metrics: [eval/metrics.json]` names a file that
is in no git tree, only in the `.dir` listing of `eval`. Its nested figures are recorded from
those bytes (verified), gated, shown as `train.loss`, and their absence is said, never a null.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Example, copy_example, dvc, git, run

# builds its own template repository; the rule it checks has fast unit tests (tests/unit)
pytestmark = pytest.mark.slow

from gitml import dvcfiles

MAKE_DATA = """\
import sys
from sklearn.datasets import make_classification

X, y = make_classification(n_samples=300, n_features=6, n_informative=4, random_state=7)
rows = ["f0,f1,f2,f3,f4,f5,label"]
rows += [",".join(f"{v:.6f}" for v in x) + f",{t}" for x, t in zip(X, y)]
open(sys.argv[1], "w").write("\\n".join(rows) + "\\n")
"""
TRAIN = """\
import os, pickle
import numpy as np, yaml
from sklearn.ensemble import RandomForestClassifier

params = yaml.safe_load(open("params.yaml"))["train"]
data = np.loadtxt("data/data.csv", delimiter=",", skiprows=1)
model = RandomForestClassifier(n_estimators=params["n_estimators"], random_state=params["seed"])
model.fit(data[:200, :-1], data[:200, -1])
os.makedirs("model", exist_ok=True)
pickle.dump(model, open("model/model.pkl", "wb"))
"""
# What dvclive writes (it is not installed here): eval/metrics.json, nested by split, and
# one .tsv per metric under eval/plots/metrics.
EVALUATE = """\
import json, os, pickle
import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

model = pickle.load(open("model/model.pkl", "rb"))
data = np.loadtxt("data/data.csv", delimiter=",", skiprows=1)
train, test = data[:200], data[200:]
loss = log_loss(train[:, -1], model.predict_proba(train[:, :-1])[:, 1])
auc = roc_auc_score(test[:, -1], model.predict_proba(test[:, :-1])[:, 1])
os.makedirs("eval/plots/metrics/test", exist_ok=True)
with open("eval/metrics.json", "w") as f:
    json.dump({"train": {"loss": loss}, "test": {"roc_auc": auc}}, f, indent=4)
with open("eval/plots/metrics/test/roc_auc.tsv", "w") as f:
    f.write(f"step\\troc_auc\\n0\\t{auc}\\n")
"""
DVC_YAML = """\
stages:
  train:
    cmd: python src/train.py
    deps: [src/train.py, data/data.csv]
    params: [train]
    outs: [model/model.pkl]
  evaluate:
    cmd: python src/evaluate.py
    deps: [src/evaluate.py, model/model.pkl, data/data.csv]
    outs: [eval]
metrics:
  - eval/metrics.json
plots:
  - eval/plots/metrics:
      x: step
"""
GATE = "test.roc_auc >= 0.5"


def build_eval_layout(base: Path) -> Example:
    """The project as a DVC user has it (data added, pipeline run), then `gitml init`, a gate
    on a nested metric, and the first commit through the hooks; objects pushed."""
    repo, remote = base / "repo", base / "dvc-remote"
    for rel, text in {
        "src/make_data.py": MAKE_DATA,
        "src/train.py": TRAIN,
        "src/evaluate.py": EVALUATE,
        "params.yaml": "train:\n  n_estimators: 20\n  seed: 3\n",
        "dvc.yaml": DVC_YAML,
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    remote.mkdir()
    git("init", "-q", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "local", "../dvc-remote", cwd=repo)
    (repo / "data").mkdir()
    run(sys.executable, "src/make_data.py", "data/data.csv", cwd=repo)
    dvc("add", "-q", "data/data.csv", cwd=repo)
    dvc("repro", "-q", cwd=repo)
    ex = Example(repo, remote)
    r = ex.gitml("init")
    assert r.returncode == 0, r.stderr
    cfg = yaml.safe_load((repo / "gitml.yaml").read_text())
    assert cfg["models"] == [{"path": "model/model.pkl", "metrics": "eval/metrics.json"}]
    add_gate(ex)
    ex.git("add", "-A")
    r = ex.git("commit", "-q", "-m", "first model", check=False)
    assert r.returncode == 0, r.stderr
    ex.dvc("push", "-q")
    return ex


def add_gate(ex: Example) -> None:
    cfg = ex.root / "gitml.yaml"
    text = cfg.read_text()
    anchor = "  path: model/model.pkl\n"
    assert anchor in text
    cfg.write_text(text.replace(anchor, f"{anchor}  gates:\n  - {GATE}\n"))


@pytest.fixture(scope="module")
def eval_template(tmp_path_factory: pytest.TempPathFactory) -> Example:
    return build_eval_layout(tmp_path_factory.mktemp("eval-layout"))


@pytest.fixture
def ev(eval_template: Example, tmp_path: Path) -> Iterator[Example]:
    yield copy_example(eval_template, tmp_path / "ev")


def eval_out(ex: Example) -> dict[str, Any]:
    lock = yaml.safe_load((ex.root / "dvc.lock").read_text())
    outs: list[dict[str, Any]] = lock["stages"]["evaluate"]["outs"]
    return outs[0]


def workspace_metrics(ex: Example) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ex.root / "eval" / "metrics.json").read_text())
    return doc


def close(recorded: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(
        abs(recorded[split][name] - value) <= 1e-5 * max(1.0, abs(value))
        for split, figures in actual.items()
        for name, value in figures.items()
    )


def drop_listing(ex: Example) -> str:
    """Remove eval's `.dir` object from the cache and the remote (a fork's CI: no dvc pull)."""
    md5 = eval_out(ex)["md5"]
    for root in (ex.root / ".dvc" / "cache", ex.remote):
        dvcfiles.object_path(root, md5, "md5").unlink()
    return str(md5)


def test_metrics_recorded_from_the_eval_directory(ev: Example) -> None:
    entry = ev.lock()["models"]["model/model.pkl"]
    assert close(entry["metrics"], workspace_metrics(ev))
    assert set(entry["metrics"]) == {"train", "test"}
    assert entry["metrics_from"] == {
        "file": "eval/metrics.json",
        "out": "eval",
        "md5": eval_out(ev)["md5"],
    }
    assert entry["cmd"] == "python src/train.py"
    (gate,) = entry["gates"]
    assert gate["rule"] == GATE and gate["passed"] is True
    assert gate["value"] == entry["metrics"]["test"]["roc_auc"]

    # One spelling of a nested metric: show, log.
    shown = ev.gitml("show")
    assert shown.returncode == 0, shown.stderr
    auc = entry["metrics"]["test"]["roc_auc"]
    assert f"test.roc_auc={auc}" in shown.stdout and "train.loss=" in shown.stdout
    assert "train=" not in shown.stdout and "{" not in shown.stdout
    assert "cmd: python src/train.py" in shown.stdout
    logged = ev.gitml("log")
    assert logged.returncode == 0, logged.stderr
    assert f"test.roc_auc={auc}" in logged.stdout and "train.loss=" in logged.stdout
    assert "{" not in logged.stdout
    assert "warning" not in shown.stderr + logged.stderr


def test_without_the_listing_the_lock_stays_fresh_and_a_new_one_says_why(ev: Example) -> None:
    md5 = drop_listing(ev)
    # The same directory md5 as recorded: its figures follow from it, no listing needed.
    r = ev.gitml("lock", "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fresh" in r.stderr and "warning" not in r.stderr

    # A lock written anew cannot read them: said, with the fix; the gate cannot be judged.
    ev.git("rm", "-q", "--cached", "gitml.lock")
    r = ev.gitml("check")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "eval/metrics.json could not be read" in r.stderr
    assert f"the listing of eval ({md5}" in r.stderr and "`dvc pull evaluate`" in r.stderr
    assert f"gate {GATE!r} of model 'model/model.pkl' cannot be evaluated" in r.stderr

    # Without the gate, the lock records no figures, and every reader says why.
    cfg = ev.root / "gitml.yaml"
    cfg.write_text(cfg.read_text().replace(f"  gates:\n  - {GATE}\n", ""))
    ev.git("add", "gitml.yaml")
    r = ev.git("commit", "-q", "-m", "no gate", check=False)
    assert r.returncode == 0, r.stderr
    assert "no metrics recorded: eval/metrics.json could not be read" in r.stderr
    entry = ev.lock()["models"]["model/model.pkl"]
    assert entry["metrics"] is None and entry["metrics_from"]["md5"] == md5
    for args in (("show",), ("log",), ("diff", "HEAD~1", "HEAD"), ("report", "HEAD~1", "HEAD")):
        r = ev.gitml(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert "no metrics recorded: its metrics file eval/metrics.json" in r.stderr, args
        assert "`dvc pull eval`" in r.stderr, args
    assert "no metrics recorded" in ev.gitml("report", "HEAD~1", "HEAD").stdout


def test_a_member_whose_bytes_do_not_match_its_hash_is_not_read(ev: Example) -> None:
    listing = dvcfiles.read_dir_listing(
        dvcfiles.object_path(ev.root / ".dvc" / "cache", eval_out(ev)["md5"], "md5")
    )
    member = dict(listing)["metrics.json"]
    fake = json.dumps({"train": {"loss": 9.0}, "test": {"roc_auc": 0.01}}).encode()
    assert hashlib.md5(fake).hexdigest() != member
    for root in (ev.root / ".dvc" / "cache", ev.remote):
        obj = dvcfiles.object_path(root, member, "md5")
        obj.chmod(0o644)
        obj.write_bytes(fake)
    ev.git("rm", "-q", "--cached", "gitml.lock")
    r = ev.gitml("check")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"its object {member} (in eval" in r.stderr and "does not match its hash" in r.stderr
    assert "0.01" not in r.stderr


def test_the_whole_flow(ev: Example) -> None:
    ex = ev
    first = ex.head()
    first_lock = ex.lock()["models"]["model/model.pkl"]
    first_model = (ex.root / "model" / "model.pkl").read_bytes()
    first_metrics = (ex.root / "eval" / "metrics.json").read_bytes()
    ex.set_param("n_estimators: 20", "n_estimators: 5")
    r = ex.gitml("repro")
    assert r.returncode == 0, r.stderr
    ex.git("add", "-A")
    r = ex.git("commit", "-q", "-m", "five trees", check=False)
    assert r.returncode == 0, r.stderr
    entry = ex.lock()["models"]["model/model.pkl"]
    assert entry["md5"] != first_lock["md5"]
    assert close(entry["metrics"], workspace_metrics(ex))
    assert entry["metrics"] != first_lock["metrics"]
    assert entry["metrics_from"]["md5"] == eval_out(ex)["md5"] != first_lock["metrics_from"]["md5"]
    assert entry["gates"][0]["passed"] is True
    ex.dvc("push", "-q")

    shown = ex.gitml("show")
    assert "test.roc_auc=" in shown.stdout and "train.loss=" in shown.stdout
    header, *logged = ex.gitml("log").stdout.splitlines()
    assert header.startswith("commit") and "metrics" in header
    assert len(logged) == 2 and all("train.loss=" in line for line in logged)
    r = ex.gitml("diff", first, "HEAD")
    assert r.returncode == 0, r.stderr
    for row in ("metric test.roc_auc", "metric train.loss", "param params.yaml:train.n_estimators"):
        assert row in r.stdout, row
    r = ex.gitml("report", first, "HEAD")
    assert "| model/model.pkl | train.loss |" in r.stdout
    assert "| model/model.pkl | params.yaml:train.n_estimators | 20 | 5 |" in r.stdout
    assert "warning" not in r.stderr

    # Back to the first commit: the hook restores the model and the eval directory.
    r = ex.git("checkout", "-q", first, check=False)
    assert r.returncode == 0, r.stderr
    assert (ex.root / "model" / "model.pkl").read_bytes() == first_model
    assert (ex.root / "eval" / "metrics.json").read_bytes() == first_metrics
    r = ex.gitml("restore")
    assert r.returncode == 0 and "already holds" in r.stderr, r.stderr
    r = ex.gitml("reproduce", first)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == "identical"
