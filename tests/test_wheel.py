"""The built wheel carries hooks/ and templates/ and works on its own (not the checkout)."""

from __future__ import annotations

import pytest

import site
import sys
import venv
import zipfile
from pathlib import Path

from conftest import PROJECT, git, run


@pytest.mark.slow
def test_wheel_installs_and_inits_a_repo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, PROJECT, cwd=tmp_path)
    wheel = next(dist.glob("gitml-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "gitml/_data/hooks/hook-tmpl" in names
    assert "gitml/_data/templates/example/dvc.yaml" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    run(py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # gitml's dependencies come from the test environment; gitml itself only from the wheel
    purelib = run(
        py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    ).stdout.strip()
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    where = run(py, "-c", "import gitml; print(gitml.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(env_dir))
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    res = run(env_dir / "bin" / "gitml", "init", cwd=repo)
    assert "hooks installed" in res.stderr
    assert str(py) in (repo / ".git" / "hooks" / "pre-commit").read_text()
    (repo / "README.md").write_text("hello\n")
    git("add", "README.md", cwd=repo)
    git("commit", "-qm", "through the wheel's hooks", cwd=repo)
