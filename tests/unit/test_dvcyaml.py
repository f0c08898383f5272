"""gitml/dvcyaml.py: the stages a workspace dvc.yaml declares, templating resolved by DVC."""

from __future__ import annotations

from pathlib import Path

from gitml.dvcyaml import Declared, StageDecl, read_declared

TEMPLATED = """\
vars:
  - models: [rf, lr]
stages:
  prepare:
    foreach: [a, b]
    do:
      cmd: python prepare.py ${item}
      deps:
        - raw/${item}.csv
      outs:
        - clean/${item}.csv
  train:
    matrix:
      model: ${models}
      seed: [0, 1]
    cmd: python train.py ${item.model} ${item.seed}
    deps:
      - clean
    outs:
      - models/${item.model}-${item.seed}.pkl
    metrics:
      - metrics/${item.model}-${item.seed}.json:
          cache: false
metrics: [summary.json]
artifacts:
  forest:
    path: models/rf-0.pkl
    type: model
"""


def test_foreach_and_matrix_stages_get_dvcs_names(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text(TEMPLATED)
    found = Declared()
    read_declared(tmp_path, "dvc.yaml", found)
    assert [s.name for s in found.stages] == [
        "prepare@a",
        "prepare@b",
        "train@rf-0",
        "train@rf-1",
        "train@lr-0",
        "train@lr-1",
    ]
    assert found.stages[0] == StageDecl("prepare@a", ["raw/a.csv"], ["clean/a.csv"], [])
    assert found.stages[3] == StageDecl(
        "train@rf-1", ["clean"], ["models/rf-1.pkl"], ["metrics/rf-1.json"]
    )
    assert found.metrics == ["summary.json"]
    assert found.names == {"models/rf-0.pkl": "forest"}
    assert found.warnings == []


def test_a_nested_dvc_yaml_and_wdir_give_repo_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "pipes").mkdir()
    (tmp_path / "pipes" / "dvc.yaml").write_text(
        "stages:\n  fit:\n    wdir: ../src\n    cmd: x\n    deps: [../data/d.csv, {p.py: {}}]\n"
        "    outs: [/abs.pkl, m.pkl]\n"
    )
    found = Declared()
    read_declared(tmp_path, "pipes/dvc.yaml", found)
    assert found.stages == [StageDecl("pipes:fit", ["data/d.csv", "src/p.py"], ["src/m.pkl"])]
    (warning,) = found.warnings
    assert "pipes/dvc.yaml: stage fit: path '/abs.pkl' is absolute" in warning
    assert warning.endswith(": skipped")


def test_a_broken_dvc_yaml_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text("stages: [\n")
    (tmp_path / "list.yaml").write_text("- a\n")
    (tmp_path / "bad.yaml").write_text("stages:\n  s:\n    cmd: echo ${nope}\n")
    found = Declared()
    for name in ("dvc.yaml", "list.yaml", "missing.yaml", "bad.yaml"):
        read_declared(tmp_path, name, found)
    assert found.stages == []
    assert found.warnings[0].startswith("dvc.yaml: not read (")
    assert found.warnings[1] == "list.yaml: not a mapping at the top level: not read"
    assert found.warnings[2].startswith("missing.yaml: not read (")
    assert found.warnings[3].startswith("bad.yaml: DVC cannot resolve its templating")
    assert found.warnings[3].endswith("its stages are taken from dvc.lock only")
