"""A pipeline with a frozen stage (`dvc freeze prepare`) whose dep then changed.

`dvc status` says the pipeline is up to date (a frozen stage's deps are not looked at, and
`dvc repro` does not run it): gitml agrees, records the stage as frozen in gitml.lock for what it
produces, and promotes. The same change without the freeze is still stale.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import Example

PREPARED = "data/prepared/train.csv"


@pytest.fixture(scope="module")
def frozen_template(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Example:
    """The session's example, its prepared training data recorded in gitml.yaml, committed."""
    base = tmp_path_factory.mktemp("frozen-template") / "ex"
    shutil.copytree(example_template.root.parent, base, symlinks=True)
    ex = Example(base / "repo", base / "dvc-remote")
    ex.without_model_checks()
    cfg = ex.root / "gitml.yaml"
    data = "  - path: data/wine.csv\n"
    cfg.write_text(cfg.read_text().replace(data, f"{data}  - path: {PREPARED}\n"))
    ex.git("commit", "-qam", "record the prepared data")
    return ex


@pytest.fixture
def ex(frozen_template: Example, tmp_path: Path) -> Example:
    base = tmp_path / "ex"
    shutil.copytree(frozen_template.root.parent, base, symlinks=True)
    return Example(base / "repo", base / "dvc-remote")


def change_raw_data(ex: Example) -> None:
    """A new version of prepare's dep data/wine.csv, added to DVC, not reproduced."""
    path = ex.root / "data" / "wine.csv"
    lines = path.read_text().splitlines()
    first = lines[1].split(",")
    lines[1] = ",".join([str(float(first[0]) + 0.5), *first[1:]])
    path.write_text("\n".join(lines) + "\n")
    ex.dvc("add", "-q", "data/wine.csv")


def lock(ex: Example, rev: str = "HEAD") -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(ex.show_file(rev, "gitml.lock"))


def test_frozen_stage_with_a_changed_dep_is_up_to_date_as_dvc_says(ex: Example) -> None:
    ex.dvc("freeze", "prepare")
    change_raw_data(ex)
    assert "up to date" in ex.dvc("status").stdout
    ex.git("add", "-A")
    check = ex.gitml("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "stale" not in check.stderr
    ex.git("commit", "-qm", "new raw data; prepare frozen")
    recorded = lock(ex)
    assert recorded["data"][PREPARED]["frozen"] is True
    assert recorded["data"][PREPARED]["stale"] is False
    assert "frozen" not in recorded["models"]["model/model.pkl"]  # train is not frozen
    assert recorded["models"]["model/model.pkl"]["stale"] is False
    assert "frozen" not in recorded["data"]["data/wine.csv"]
    assert ex.gitml("lock", "--check").returncode == 0
    promoted = ex.gitml("promote", "wine-classifier", "--to", "production")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr


def test_the_same_change_without_the_freeze_is_stale(ex: Example) -> None:
    change_raw_data(ex)
    assert "data/wine.csv" in ex.dvc("status").stdout
    ex.git("add", "-A")
    check = ex.gitml("check")
    assert check.returncode == 1
    assert "stage prepare is stale (run `gitml repro`): data/wine.csv changed" in check.stderr
    ex.git("commit", "-qm", "new raw data, not reproduced")
    recorded = lock(ex)
    assert "frozen" not in recorded["data"][PREPARED]
    assert recorded["data"][PREPARED]["stale"] == ["stage prepare: data/wine.csv changed"]
    refused = ex.gitml("promote", "wine-classifier", "--to", "production")
    assert refused.returncode == 1
    assert "its pipeline is stale" in refused.stdout + refused.stderr


def test_a_frozen_stage_whose_cmd_changed_is_still_stale(ex: Example) -> None:
    """DVC still compares a frozen stage's cmd with dvc.lock's ("changed command")."""
    ex.dvc("freeze", "prepare")
    dvcyaml = ex.root / "dvc.yaml"
    dvcyaml.write_text(
        dvcyaml.read_text().replace("python src/prepare.py", "python src/prepare.py  --x", 1)
    )
    assert "changed command" in ex.dvc("status").stdout
    ex.git("add", "-A")
    check = ex.gitml("check")
    assert check.returncode == 1
    assert "stage prepare is stale" in check.stderr and "cmd" in check.stderr


@pytest.mark.slow
def test_the_whole_flow_with_a_frozen_stage(ex: Example) -> None:
    """init, repro, commit through the hooks, show, log, diff, report, checkout + restore,
    reproduce: a user's day on a pipeline with a frozen stage."""
    before = ex.head()
    old_raw = (ex.root / "data" / "wine.csv").read_bytes()
    ex.dvc("freeze", "prepare")
    change_raw_data(ex)
    new_raw = (ex.root / "data" / "wine.csv").read_bytes()
    assert ex.gitml("init").returncode == 0
    repro = ex.gitml("repro")
    assert repro.returncode == 0, repro.stderr
    assert "frozen" in repro.stdout + repro.stderr  # DVC's own warning, passed through
    ex.git("add", "-A")
    commit = ex.git("commit", "-qm", "new raw data; prepare frozen")
    assert "stale" not in commit.stderr
    after = ex.head()
    assert lock(ex)["data"][PREPARED]["frozen"] is True

    show = ex.gitml("show", "--json")
    assert show.returncode == 0 and PREPARED in show.stdout
    assert ex.gitml("log").returncode == 0
    diff = ex.gitml("diff", before, after)
    assert diff.returncode == 0 and "data/wine.csv" in diff.stdout
    report = ex.gitml("report", before, after)
    assert report.returncode == 0 and "Stale pipeline" not in report.stdout

    ex.git("checkout", "-q", before)
    assert (ex.root / "data" / "wine.csv").read_bytes() == old_raw
    ex.git("checkout", "-q", "main")
    assert (ex.root / "data" / "wine.csv").read_bytes() == new_raw
    (ex.root / "data" / "wine.csv").unlink()
    assert ex.gitml("restore").returncode == 0
    assert (ex.root / "data" / "wine.csv").read_bytes() == new_raw

    reproduced = ex.gitml("reproduce", "HEAD")
    assert reproduced.returncode == 0, reproduced.stdout + reproduced.stderr
    assert "identical" in reproduced.stdout
