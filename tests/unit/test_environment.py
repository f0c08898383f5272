"""gitml/environment.py: the environment that builds a model, in process (the probe runs this
test's own interpreter)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from gitml import environment
from gitml.errors import BadInput


def test_capture_reports_this_interpreter_without_gitmls_tooling(tmp_path: Path) -> None:
    env = environment.capture(sys.executable, tmp_path)
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["platform"].startswith(sys.platform)
    assert "pyyaml" in env["packages"]  # a dependency of gitml, so installed here
    assert not environment.NOT_BUILD_PACKAGES & set(env["packages"])
    assert list(env["packages"]) == sorted(env["packages"])
    assert set(env["hardware"]) == {"cpu", "gpu"} and env["hardware"]["cpu"]


def test_an_interpreter_that_cannot_run_is_bad_input(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho no such module >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(BadInput, match="cannot inspect interpreter .*no such module"):
        environment.capture(str(broken), tmp_path)


def test_project_python_relative_to_the_root_or_on_path(tmp_path: Path) -> None:
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").write_text("")
    assert environment.project_python(tmp_path, "venv/bin/python") == str(
        tmp_path / "venv" / "bin" / "python"
    )
    assert environment.project_python(tmp_path, sys.executable) == sys.executable
    with pytest.raises(BadInput, match="gitml.yaml: python 'nowhere/python' does not exist"):
        environment.project_python(tmp_path, "nowhere/python")
    assert Path(environment.project_python(tmp_path, None)).name.startswith("python")


def test_the_interpreter_goes_first_on_path() -> None:
    env = environment.interpreter_on_path("/opt/py/bin/python")
    assert env["PATH"].split(os.pathsep)[0] == "/opt/py/bin"
    assert env["PATH"].split(os.pathsep)[1:] == os.environ["PATH"].split(os.pathsep)


def test_infrastructure_files_are_hashed_where_present_and_named_ones_recorded_absent() -> None:
    files = {
        "poetry.lock": b"p",
        "requirements.txt": b"r",
        "requirements-dev.txt": b"d",
        "Dockerfile": b"FROM python:3.11",
        "docker/Dockerfile": b"nested",  # not top level: only when gitml.yaml names it
        "train.py": b"code",
    }
    found = environment.infrastructure_files(files, files.get, ("docker/Dockerfile", "env.lock"))
    assert list(found) == [
        "Dockerfile",
        "poetry.lock",
        "requirements-dev.txt",
        "requirements.txt",
        "docker/Dockerfile",
        "env.lock",
    ]
    assert found["Dockerfile"] == hashlib.sha256(b"FROM python:3.11").hexdigest()
    assert found["env.lock"] is None  # named in gitml.yaml, absent from the commit: said so
    assert environment.infrastructure_files({}, {}.get) == {}


def test_the_image_digest_is_recorded_only_as_one_printable_word(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    digest = "python@sha256:" + "a" * 64
    monkeypatch.setenv(environment.IMAGE_VARIABLE, digest)
    block = environment.capture(sys.executable, tmp_path)
    assert block["container"] == {"dockerfile_sha256": None, "image": digest}
    files = {"Dockerfile": "f" * 64, "poetry.lock": "p" * 64, "requirements.txt": "r" * 64}
    merged = environment.with_infrastructure(block, files)
    assert merged["infrastructure"] == {"files": files}
    assert merged["container"] == {"dockerfile_sha256": "f" * 64, "image": digest}
    # DESIGN.md's `lockfile`: the first of LOCKFILES present, requirements.txt before poetry.lock
    assert merged["lockfile"] == {"path": "requirements.txt", "sha256": "r" * 64}
    monkeypatch.setenv(environment.IMAGE_VARIABLE, "x\x1b[31mred")
    assert environment.image_digest() is None
    monkeypatch.delenv(environment.IMAGE_VARIABLE)
    plain = environment.with_infrastructure(environment.capture(sys.executable, tmp_path), {})
    assert plain["infrastructure"] == {"files": {}}
    assert "container" not in plain and "lockfile" not in plain


def test_gpu_stack_reads_models_driver_and_cuda_from_nvidia_smi_output() -> None:
    query = "NVIDIA A100-SXM4-40GB, 535.104.05\nNVIDIA A100-SXM4-40GB, 535.104.05\n"
    banner = "| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2     |"
    assert environment.gpu_stack(query, banner) == {
        "gpu": "NVIDIA A100-SXM4-40GB, NVIDIA A100-SXM4-40GB",
        "gpu_driver": "535.104.05",
        "cuda": "12.2",
    }
    assert environment.gpu_stack("", "") == {"gpu": None, "gpu_driver": None, "cuda": None}


def test_block_key_follows_the_content_not_the_order() -> None:
    a = {"python": "3.11", "packages": {"a": "1", "b": "2"}}
    b = {"packages": {"b": "2", "a": "1"}, "python": "3.11"}
    assert environment.block_key(a) == environment.block_key(b)
    assert environment.block_key(a) != environment.block_key({**a, "python": "3.12"})
    assert len(environment.block_key(a)) == 16
