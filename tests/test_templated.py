"""Templated dvc.yaml files (vars, ${…}, foreach, matrix) resolved by DVC's own parser, from the
staged bytes, cached by blob shas."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Example, git

from gitml import templated
from gitml.errors import BadInput
from gitml.fileio import load_yaml
from gitml.snapshot import Snapshot

DVC_YAML = """\
vars:
  - extra.yaml:models
stages:
  build:
    foreach: ${models}
    do:
      cmd: python train.py ${item.name} --lr ${item.lr} --seed ${seed}
      outs:
        - model-${item.name}.pkl
  plain:
    cmd: echo hi
  grid:
    matrix:
      a: [1, 2]
      b: [x]
    cmd: echo ${item.a} ${item.b}
"""


def staged_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", cwd=root)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git("add", *files, cwd=root)
    return root


def resolve(root: Path, dvcyaml: str = "sub/dvc.yaml") -> dict[str, dict[str, object]]:
    snap = Snapshot(root)
    doc = load_yaml(snap.read(dvcyaml) or b"")
    return templated.resolved_stages(snap, dvcyaml, doc)


def test_staged_bytes_resolved_by_dvc_and_cached(tmp_path: Path) -> None:
    root = staged_repo(
        tmp_path,
        {
            "sub/dvc.yaml": DVC_YAML,
            "sub/params.yaml": "seed: 3\n",
            "sub/extra.yaml": "models:\n  - {name: a, lr: 0.1}\n  - {name: b, lr: 0.2}\n",
        },
    )
    (root / "sub" / "params.yaml").write_text("seed: 99\n")  # unstaged: not what is committed
    stages = resolve(root)
    assert {name: body["cmd"] for name, body in stages.items()} == {
        "build@0": "python train.py a --lr 0.1 --seed 3",
        "build@1": "python train.py b --lr 0.2 --seed 3",
        "plain": "echo hi",
        "grid@1-x": "echo 1 x",
        "grid@2-x": "echo 2 x",
    }
    assert stages["build@1"]["outs"] == ["model-b.pkl"]
    # cached by blob shas: the second resolution reads the cache, not DVC
    (cached,) = (root / ".git" / "gitml" / "templated").iterdir()
    cached.write_text('{"from-cache": {"cmd": "x"}}')
    assert resolve(root) == {"from-cache": {"cmd": "x"}}
    # a staged change of a vars file is a new key: resolved again
    (root / "sub" / "extra.yaml").write_text("models:\n  - {name: c, lr: 0.3}\n")
    git("add", "sub/extra.yaml", cwd=root)
    assert list(resolve(root)) == ["build@0", "plain", "grid@1-x", "grid@2-x"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "stages:\n  a:\n    cmd: echo ${missing}\n",
            r"^sub/dvc\.yaml: (?!.*gitml-dvcyaml).*'sub/dvc\.yaml'.*'missing'",
        ),
        ("stages: [1, 2]\n", "sub/dvc.yaml: `stages` must be a mapping"),
        ("vars: [../../../etc/passwd]\nstages:\n  a:\n    cmd: echo\n", "outside the repository"),
    ],
)
def test_templating_dvc_refuses_is_bad_input_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    root = staged_repo(tmp_path, {"sub/dvc.yaml": text})
    with pytest.raises(BadInput, match=message):
        resolve(root)


def test_a_stage_reads_its_vars_relative_to_its_wdir(tmp_path: Path) -> None:
    root = staged_repo(
        tmp_path,
        {
            "sub/dvc.yaml": "stages:\n  a:\n    wdir: w\n    vars: [v.yaml]\n    cmd: echo ${x}\n",
            "sub/w/v.yaml": "x: 7\n",
        },
    )
    assert resolve(root)["a"]["cmd"] == "echo 7"


def test_is_templated() -> None:
    assert not templated.is_templated({"stages": {"a": {"cmd": "x"}}}, b"stages: {a: {cmd: x}}")
    assert templated.is_templated({"vars": [], "stages": {}}, b"vars: []")
    assert templated.is_templated({"stages": {"a": {"cmd": "${x}"}}}, b"cmd: ${x}")
    assert templated.is_templated({"stages": {"a": {"foreach": [1], "do": {}}}}, b"foreach")


def test_check_judges_templated_stages_never_run_and_changed(example: Example) -> None:
    """`gitml check` on the example with a foreach stage whose cmd reads a vars file."""
    text = (example.root / "dvc.yaml").read_text()
    text = text.replace(
        "artifacts:",
        "  report:\n"
        "    foreach: [a, b]\n"
        "    do:\n"
        "      cmd: python -c \"print('${greeting} ${item}')\"\n"
        "      deps:\n"
        "        - src/evaluate.py\n"
        "\n"
        "vars:\n"
        "  - report.yaml\n"
        "\n"
        "artifacts:",
    )
    (example.root / "dvc.yaml").write_text(text)
    (example.root / "report.yaml").write_text("greeting: hello\n")
    example.git("add", "dvc.yaml", "report.yaml")

    never_run = example.gitml("check")
    assert never_run.returncode == 1, never_run.stderr
    out = never_run.stdout + never_run.stderr
    assert "report@a" in out and "report@b" in out and "never run" in out, out

    assert example.dvc("repro", "-q").returncode == 0
    example.git("add", "dvc.lock")
    fresh = example.gitml("check")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr

    (example.root / "report.yaml").write_text("greeting: goodbye\n")
    example.git("add", "report.yaml")
    changed = example.gitml("check")
    assert changed.returncode == 1, changed.stderr
    out = changed.stdout + changed.stderr
    assert "report@a" in out and "its cmd in dvc.yaml changed" in out, out
