"""Issue 20 part 2: the infrastructure that built a model (Dockerfile, requirements, files named
in gitml.yaml, the CI image) is in gitml.lock's environment record; `gitml diff` shows its
changes and `gitml reproduce` says when the rebuild's differs from the recorded one."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import Example, built_once, copy_example

# each test builds on a retrained example; the pure parts are in tests/unit/test_environment.py
pytestmark = pytest.mark.slow

DIGEST = "registry.example/train@sha256:" + "1" * 64


def _environment_of(ex: Example, rev: str = "HEAD") -> dict[str, object]:
    lock = ex.lock(rev)
    (model,) = lock["models"].values()
    block: dict[str, object] = lock["environments"][model["environment"]]
    return block


def _with(**variables: str) -> dict[str, str]:
    return {**os.environ, **variables}


def build_infra_history(template: Example, base: Path) -> Example:
    """The example retrained with a Dockerfile, a requirements file and a file gitml.yaml names,
    in an image given by GITML_IMAGE_DIGEST; then a commit that changes only the Dockerfile."""
    ex = copy_example(template, base)
    ex.without_model_checks()
    (ex.root / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (ex.root / "requirements-train.txt").write_text("scikit-learn\n")
    (ex.root / "infra").mkdir()
    (ex.root / "infra" / "cluster.tf").write_text('resource "node" "gpu" {}\n')
    with (ex.root / "gitml.yaml").open("a") as config:
        config.write("environment:\n  files: [infra/cluster.tf, infra/absent.yaml]\n")
    ex.set_param("n_estimators: 3", "n_estimators: 4")
    assert ex.gitml("repro", env=_with(GITML_IMAGE_DIGEST=DIGEST)).returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "retrained in a container", env=_with(GITML_IMAGE_DIGEST=DIGEST))
    (ex.root / "Dockerfile").write_text("FROM python:3.12-slim\n")
    ex.git("commit", "-q", "-am", "newer base image, model not rebuilt")
    return ex


@pytest.fixture
def infra(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Example:
    return built_once(
        tmp_path_factory, "infra", lambda d: build_infra_history(example_template, d / "ex")
    )


def test_the_lock_records_infrastructure_files_and_the_image(infra: Example) -> None:
    block = _environment_of(infra, "HEAD~1")
    sha = hashlib.sha256(b"FROM python:3.11-slim\n").hexdigest()
    assert block["infrastructure"] == {
        "files": {
            "Dockerfile": sha,
            "requirements-train.txt": hashlib.sha256(b"scikit-learn\n").hexdigest(),
            "infra/cluster.tf": hashlib.sha256(b'resource "node" "gpu" {}\n').hexdigest(),
            "infra/absent.yaml": None,  # named in gitml.yaml, not in the commit: said so
        },
    }
    assert block["container"] == {"dockerfile_sha256": sha, "image": DIGEST}
    # the model was not rebuilt: the environment that built it stays, old Dockerfile included
    assert _environment_of(infra, "HEAD") == block


def test_diff_shows_the_infrastructure_that_changed(infra: Example) -> None:
    proc = infra.gitml("diff", "HEAD~2", "HEAD~1", "--json")
    assert proc.returncode == 0, proc.stderr
    (model,) = json.loads(proc.stdout)["models"].values()
    changes = model["environment"]["infrastructure"]
    assert changes["Dockerfile"]["old"] is None
    assert changes["Dockerfile"]["new"] == hashlib.sha256(b"FROM python:3.11-slim\n").hexdigest()
    assert changes["image"] == {"old": None, "new": DIGEST}
    text = infra.gitml("diff", "HEAD~2", "HEAD~1").stdout
    assert "infrastructure.Dockerfile" in text and "infrastructure.image" in text


def test_reproduce_names_a_changed_dockerfile_and_another_image(infra: Example) -> None:
    proc = infra.gitml("reproduce", "HEAD", "--json", env=_with(GITML_IMAGE_DIGEST="other:1"))
    result = json.loads(proc.stdout)
    assert result["verdict"] == "identical", proc.stderr  # sklearn on one machine: same bytes
    details = [d["detail"] for d in result["diagnosis"] if d["kind"] == "infrastructure"]
    model = next(iter(infra.lock()["models"]))
    assert f"{model}: image {DIGEST} recorded, other:1 now" in details
    (files,) = [d for d in details if "built with other files" in d]
    assert files.startswith(f"{model}: built with other files: Dockerfile (sha256 ")
    assert "infra/absent.yaml" not in files  # absent then and now: no change
