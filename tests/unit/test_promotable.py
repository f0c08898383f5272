"""gitml/promotable.py: what `promote NAME` names at a commit, and whether gitml checks it, in
a real git repository (gitml.yaml, dvc.yaml `artifacts:`, artifacts.yaml, gitml.lock committed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitml import promotable
from gitml.errors import BadInput, CheckFailed
from gitml.lockfile import Lock
from gitml.registrysource import Source

GITML_YAML = "version: 1\nmodels:\n  - path: model/model.pkl\n    name: wine\n"
DVC_YAML = "artifacts:\n  champion:\n    path: model/model.pkl\n  tagger:\n    path: tagger.pkl\n"


def _commit(root: Path, files: dict[str, str]) -> str:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "c", "--no-verify"], cwd=root, check=True)
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def test_names_resolve_to_gitml_yaml_then_declared_artifacts(root: Path) -> None:
    commit = _commit(
        root,
        {
            "gitml.yaml": GITML_YAML,
            "nlp/dvc.yaml": DVC_YAML,
            "artifacts.yaml": "tok:\n  type: model\n  path: tok.bin\n",
        },
    )
    source = Source(root, commit)
    wine = promotable.find(source, "model/model.pkl")  # gitml.yaml's, by path too
    assert (wine.model.name, wine.declared_in, wine.gated) == ("wine", "gitml.yaml", True)
    tagger = promotable.find(source, "nlp:tagger")
    assert (tagger.model.path, tagger.declared_in, tagger.gated) == (
        "nlp/tagger.pkl", "nlp/dvc.yaml", False,
    )  # fmt: skip
    assert promotable.find(source, "tok").declared_in == "artifacts.yaml"
    with pytest.raises(BadInput, match=r"no model 'tagger' .* nlp:tagger \(nlp/dvc.yaml\)"):
        promotable.find(source, "tagger")  # GTO's name of a nested artifact is `dir:name`
    # an artifact not in gitml.yaml: no gitml.lock needed, and said to be unchecked
    record = promotable.committed(source, tagger)
    assert not record.checked and record.lock is None
    assert record.note is not None and "records no model nlp/tagger.pkl" in record.note
    # gitml.yaml's model needs its lock
    with pytest.raises(CheckFailed, match="has no gitml.lock"):
        promotable.committed(source, wine)


def test_another_name_of_a_gitml_yaml_path_is_checked_as_that_model(root: Path) -> None:
    _commit(root, {"gitml.yaml": GITML_YAML})
    commit = _commit(
        root, {"dvc.yaml": DVC_YAML.replace("nlp/", ""), "gitml.lock": "schema: gitml.lock/1\n"}
    )
    source = Source(root, commit)
    champion = promotable.find(source, "champion")
    assert (champion.model.name, champion.model.path, champion.gitml_name) == (
        "champion", "model/model.pkl", "wine",
    )  # fmt: skip
    record = promotable.committed(source, champion)
    assert record.checked and record.lock == Lock()
    assert record.note is not None and "is gitml.yaml's model wine" in record.note
