"""gitml/environment.py: the environment that builds a model, in process (the probe runs this
test's own interpreter)."""

from __future__ import annotations

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


def test_repo_files_names_the_first_lockfile_and_the_dockerfile(tmp_path: Path) -> None:
    files = {"poetry.lock": b"p", "requirements.txt": b"r", "Dockerfile": b"FROM x"}
    extra = environment.repo_files(tmp_path, files.get)
    assert extra["lockfile"]["path"] == "requirements.txt"  # before poetry.lock in LOCKFILES
    assert (
        extra["container"]["image"] is None and len(extra["container"]["dockerfile_sha256"]) == 64
    )
    assert environment.repo_files(tmp_path, {}.get) == {}


def test_block_key_follows_the_content_not_the_order() -> None:
    a = {"python": "3.11", "packages": {"a": "1", "b": "2"}}
    b = {"packages": {"b": "2", "a": "1"}, "python": "3.11"}
    assert environment.block_key(a) == environment.block_key(b)
    assert environment.block_key(a) != environment.block_key({**a, "python": "3.12"})
    assert len(environment.block_key(a)) == 16
