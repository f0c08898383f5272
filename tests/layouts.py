"""Two DVC project layouts seen in real repositories, written by the tests, data generated:

- `matrix`: one training stage with `matrix: {model: [rf, lr]}`, each item writing
  `models/<model>.pkl` and its own `dvclive/<model>/metrics.json`;
- `subdirs`: two pipelines in `pipelines/a` and `pipelines/b`, each dvc.yaml naming its model
  under `artifacts:` (b with a separate evaluate stage whose metrics live inside its output).

Both are git + DVC repositories with a local DVC remote, data `dvc add`ed, nothing reproduced.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import Example, dvc, git, run

MAKE_DATA = """\
import sys
import numpy as np
from sklearn.datasets import make_classification

X, y = make_classification(n_samples=300, n_features=6, n_informative=4, random_state=7)
table = np.column_stack([X, y])
header = ",".join([f"f{i}" for i in range(X.shape[1])] + ["label"])
np.savetxt(sys.argv[1], table, delimiter=",", header=header, comments="", fmt="%.6f")
"""

# python train.py KIND DATA MODEL_OUT METRICS_OUT: a seeded model and its accuracy
TRAIN = """\
import json, os, pickle, sys
import numpy as np
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

kind, data, model_out, metrics_out = sys.argv[1:5]
seed = yaml.safe_load(open("params.yaml"))["train"]["seed"]  # the stage's dir
table = np.loadtxt(data, delimiter=",", skiprows=1)
X, y = table[:, :-1], table[:, -1].astype(int)
cut = 200
if kind == "rf":
    model = RandomForestClassifier(n_estimators=15, max_depth=4, random_state=seed)
else:
    model = LogisticRegression(max_iter=200, C=0.1 if kind == "lr" else 1.0, random_state=seed)
model.fit(X[:cut], y[:cut])
for path in (model_out, metrics_out):
    if path != "-" and os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
with open(model_out, "wb") as f:
    pickle.dump(model, f)
if metrics_out != "-":
    acc = float((model.predict(X[cut:]) == y[cut:]).mean())
    if kind == "rf":  # fitted parameters: tells one model's metrics from another's
        size = sum(int(t.tree_.node_count) for t in model.estimators_)
    else:
        size = int(model.coef_.size + model.intercept_.size)
    with open(metrics_out, "w") as f:
        json.dump({"accuracy": round(acc, 6), "size": size}, f)
"""

EVALUATE = """\
import json, os, pickle, sys
import numpy as np

model_in, data, metrics_out = sys.argv[1:4]
table = np.loadtxt(data, delimiter=",", skiprows=1)
X, y = table[200:, :-1], table[200:, -1].astype(int)
model = pickle.load(open(model_in, "rb"))
with open(metrics_out, "w") as f:
    json.dump({"accuracy": round(float((model.predict(X) == y).mean()), 6)}, f)
"""

MATRIX_DVC_YAML = """\
stages:
  train:
    matrix:
      model: [rf, lr]
    cmd: python src/train.py ${item.model} data/raw.csv models/${item.model}.pkl dvclive/${item.model}/metrics.json
    deps: [src/train.py, data/raw.csv]
    params: [train.seed]
    outs:
      - models/${item.model}.pkl
    metrics:
      - dvclive/${item.model}/metrics.json:
          cache: false
"""

PIPELINE_A = """\
stages:
  train:
    cmd: python ../../src/train.py rf ../../data/raw.csv model.pkl metrics.json
    deps: [../../src/train.py, ../../data/raw.csv]
    params: [train.seed]
    outs: [model.pkl]
    metrics:
      - metrics.json:
          cache: false
artifacts:
  clf:
    path: model.pkl
    type: model
"""

# b: train writes the model only; evaluate reads it and writes an uncached out that the
# top-level `metrics:` names; the artifact has no `type` (its path is a model)
PIPELINE_B = """\
stages:
  train:
    cmd: python ../../src/train.py lr ../../data/raw.csv model.pkl -
    deps: [../../src/train.py, ../../data/raw.csv]
    params: [train.seed]
    outs: [model.pkl]
  evaluate:
    cmd: python ../../src/evaluate.py model.pkl ../../data/raw.csv eval.json
    deps: [../../src/evaluate.py, model.pkl, ../../data/raw.csv]
    outs:
      - eval.json:
          cache: false
metrics:
  - eval.json
artifacts:
  nb:
    path: model.pkl
"""

LAYOUTS = {
    "matrix": {"dvc.yaml": MATRIX_DVC_YAML},
    "subdirs": {"pipelines/a/dvc.yaml": PIPELINE_A, "pipelines/b/dvc.yaml": PIPELINE_B},
}


def build_layout(base: Path, layout: str) -> Example:
    """The layout's repository at `base/repo` (remote `base/dvc-remote`), committed, no gitml."""
    repo, remote = base / "repo", base / "dvc-remote"
    (repo / "src").mkdir(parents=True)
    remote.mkdir()
    (repo / "src" / "make_data.py").write_text(MAKE_DATA)
    (repo / "src" / "train.py").write_text(TRAIN)
    (repo / "src" / "evaluate.py").write_text(EVALUATE)
    (repo / "params.yaml").write_text("train:\n  seed: 42\n")
    for rel, text in LAYOUTS[layout].items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    # DVC reads `params:` from the params.yaml beside each dvc.yaml, as the stage does
    for rel in LAYOUTS[layout]:
        if "/" in rel:
            (repo / rel).with_name("params.yaml").write_text("train:\n  seed: 42\n")
    git("init", "-q", cwd=repo)
    dvc("init", "-q", cwd=repo)
    dvc("remote", "add", "-d", "local", "../dvc-remote", cwd=repo)
    (repo / "data").mkdir()
    run(sys.executable, "src/make_data.py", "data/raw.csv", cwd=repo)
    dvc("add", "-q", "data/raw.csv", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", f"a DVC project ({layout} layout)", cwd=repo)
    return Example(repo, remote)


def gitml_yaml(ex: Example) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ex.root / "gitml.yaml").read_text())
    return doc


def models_by_path(ex: Example) -> dict[str, dict[str, Any]]:
    return {m["path"]: m for m in gitml_yaml(ex)["models"]}


def add_gates(ex: Example, rule: str) -> None:
    """Every model of gitml.yaml gated by `rule`."""
    doc = gitml_yaml(ex)
    for m in doc["models"]:
        m["gates"] = [rule]
    (ex.root / "gitml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def metrics_file(ex: Example, rel: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ex.root / rel).read_text())
    return doc


def gto_show(ex: Example) -> dict[str, Any]:
    gto = Path(sys.executable).with_name("gto")
    proc = run(gto, "show", "--json", cwd=ex.root)
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def assert_discovered(ex: Example, expected: dict[str, dict[str, str]]) -> None:
    """gitml.yaml lists exactly the `expected` models ({path: {metrics, name?}}), no `${`."""
    text = (ex.root / "gitml.yaml").read_text()
    assert "${" not in text, text
    found = {
        p: {k: v for k, v in m.items() if k in ("name", "metrics")}
        for p, m in models_by_path(ex).items()
    }
    assert found == expected, text
    assert {"path": "data/raw.csv"} in gitml_yaml(ex)["data"]


def user_flow(
    ex: Example,
    expected: dict[str, dict[str, str]],
    repro: list[str],
    promoted: str,
    tags: list[str],
) -> None:
    """What a user runs on the layout: init before any repro, repro, init again agrees, commit
    through the hooks with gates, a second model version, show/log/diff/report, promote (GTO
    reads the tags), checkout + restore of the first version, and reproduce says identical."""
    r = ex.gitml("init")
    assert r.returncode == 0, r.stderr
    assert_discovered(ex, expected)
    add_gates(ex, "accuracy >= 0.5")
    r = ex.gitml("repro", *repro)
    assert r.returncode == 0, r.stderr
    # init after the repro finds the same (dvc.lock now agrees with dvc.yaml)
    kept = (ex.root / "gitml.yaml").read_bytes()
    (ex.root / "gitml.yaml").unlink()
    assert ex.gitml("init").returncode == 0
    assert_discovered(ex, expected)
    (ex.root / "gitml.yaml").write_bytes(kept)

    ex.git("add", "-A")
    commit = ex.git("commit", "-q", "-m", "first models", check=False)
    assert commit.returncode == 0, commit.stderr
    first = ex.head()
    lock = ex.lock(first)
    for path, want in expected.items():
        entry = lock["models"][path]
        assert entry["metrics"] == metrics_file(ex, want["metrics"]), path
        assert [g["passed"] for g in entry["gates"]] == [True], entry["gates"]
    assert len({json.dumps(lock["models"][p]["metrics"]) for p in expected}) == len(expected)
    ex.dvc("push", "-q")

    ex.set_param("seed: 42", "seed: 7")
    for params in ex.root.glob("pipelines/*/params.yaml"):
        params.write_text(params.read_text().replace("seed: 42", "seed: 7"))
    assert ex.gitml("repro", *repro).returncode == 0
    ex.git("add", "-A")
    commit = ex.git("commit", "-q", "-m", "second models", check=False)
    assert commit.returncode == 0, commit.stderr
    second = ex.head()

    shown = json.loads(ex.gitml("show", "--json").stdout)
    assert sorted(shown["models"]) == sorted(expected)
    names = {
        p: want.get("name") or p.rsplit("/", 1)[-1].split(".")[0] for p, want in expected.items()
    }
    for path, name in names.items():
        log = ex.gitml("log", name, "--json")
        assert log.returncode == 0, log.stderr
        rows = json.loads(log.stdout)
        assert [row["commit"] for row in rows] == [second, first] and rows[0]["name"] == name
        assert rows[1]["metrics"] == lock["models"][path]["metrics"]
    diff = ex.gitml("diff", first, second, "--json")
    assert diff.returncode == 0, diff.stderr
    assert set(json.loads(diff.stdout)["models"]) == set(expected)
    report = ex.gitml("report", first, second)
    assert report.returncode == 0, report.stderr
    assert all(p in report.stdout for p in expected)

    promote = ex.gitml("promote", promoted, "--to", "prod", first)
    assert promote.returncode == 0, promote.stderr
    assert sorted(ex.git("tag", "--list").stdout.split()) == sorted(tags)
    assert gto_show(ex)[promoted]["stage"]["prod"] == "v0.0.1"
    registry = {m["model"]: m for m in json.loads(ex.gitml("registry", "--json").stdout)}
    assert registry[promoted]["stages"]["prod"]["rev"] == first

    ex.git("checkout", "-q", first)  # post-checkout restores the first models from the cache
    for path in expected:
        recorded = lock["models"][path]["md5"]
        assert hashlib.md5((ex.root / path).read_bytes()).hexdigest() == recorded, path
    restore = ex.gitml("restore")
    assert restore.returncode == 0, restore.stderr
    ex.git("checkout", "-q", "main")
    again = ex.gitml("reproduce", first, "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    verdict = json.loads(again.stdout)
    assert verdict["verdict"] == "identical"
    assert sorted(m["path"] for m in verdict["models"]) == sorted(expected)
