"""The environment that builds a model: interpreter, packages, platform, hardware, seeds.

Captured by running a stdlib-only probe with the project's interpreter (gitml.yaml `python:`),
because that interpreter, not gitml's, is the one the stages and tests run with.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitml import git
from gitml.errors import BadInput
from gitml.fileio import dump_yaml, sha256_bytes

_PROBE = r"""
import json, platform, sys
from importlib import metadata
def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
pkgs = {}
for dist in metadata.distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if name:
        pkgs[name] = dist.version
print(json.dumps({
    "python": platform.python_version(),
    "platform": f"{sys.platform}-{platform.machine()}",
    "packages": dict(sorted(pkgs.items())),
    "hardware": {"cpu": cpu(), "gpu": None},
}))
"""

LOCKFILES = (
    "requirements.lock",
    "requirements.txt",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "conda-lock.yml",
    "environment.yml",
)
# gitml's own tooling is not part of what builds a model.
NOT_BUILD_PACKAGES = frozenset({"gitml", "pip", "setuptools", "wheel"})


def project_python(root: Path, configured: str | None) -> str:
    """The interpreter the stages run with: gitml.yaml `python:`, else `python` on PATH."""
    if configured:
        candidate = Path(configured)
        if not candidate.is_absolute():
            candidate = root / candidate
        if not candidate.exists():
            raise BadInput(f"gitml.yaml: python {configured!r} does not exist")
        return str(candidate)
    found = shutil.which("python") or shutil.which("python3")
    if not found:
        raise BadInput(
            "no `python` on PATH: set `python:` in gitml.yaml to the project's interpreter"
        )
    return found


def _gpu() -> str | None:
    if not shutil.which("nvidia-smi"):
        return None
    proc = subprocess.run(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    names = [n.strip() for n in proc.stdout.splitlines() if n.strip()]
    return ", ".join(names) or None


def capture(python: str, root: Path) -> dict[str, Any]:
    """The environment block of `python`, run in `root`, without seeds (added per commit)."""
    proc = subprocess.run(
        [python, "-I", "-c", _PROBE],
        capture_output=True,
        text=True,
        cwd=root,
        env=git.no_git_env(),
        timeout=120,
    )
    if proc.returncode != 0:
        raise BadInput(f"cannot inspect interpreter {python}: {proc.stderr.strip()[-500:]}")
    env: dict[str, Any] = json.loads(proc.stdout)
    env["packages"] = {k: v for k, v in env["packages"].items() if k not in NOT_BUILD_PACKAGES}
    env["hardware"]["gpu"] = _gpu()
    return env


def repo_files(root: Path, read: Callable[[str], bytes | None]) -> dict[str, Any]:
    """Lockfile and container references the repository holds (read through `read(path)`)."""
    extra: dict[str, Any] = {}
    for name in LOCKFILES:
        data = read(name)
        if data is not None:
            extra["lockfile"] = {"path": name, "sha256": sha256_bytes(data)}
            break
    dockerfile = read("Dockerfile")
    if dockerfile is not None:
        extra["container"] = {"dockerfile_sha256": sha256_bytes(dockerfile), "image": None}
    return extra


def block_key(block: dict[str, Any]) -> str:
    return sha256_bytes(dump_yaml(block).encode())[:16]


def interpreter_on_path(python: str) -> dict[str, str]:
    """An environment whose PATH starts with `python`'s directory, as the stages should see it."""
    env = git.no_git_env()
    env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
    return env
