"""The environment that builds a model: interpreter, packages, platform, hardware, seeds and
the infrastructure (the files that define it, the container image, the GPU stack).

Captured by running a stdlib-only probe with the project's interpreter (gitml.yaml `python:`),
because that interpreter, not gitml's, is the one the stages and tests run with.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
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
def cudnn():
    # only on a machine with an NVIDIA GPU (argv[1]), and only through torch, which links it
    if len(sys.argv) < 2 or sys.argv[1] != "gpu":
        return None
    try:
        import torch
        version = torch.backends.cudnn.version()
    except Exception:
        return None
    return str(version) if version else None
print(json.dumps({
    "python": platform.python_version(),
    "platform": f"{sys.platform}-{platform.machine()}",
    "packages": dict(sorted(pkgs.items())),
    "hardware": {"cpu": cpu(), "gpu": None, "cudnn": cudnn()},
}))
"""

# The dependency lockfile DESIGN.md's environment names (`lockfile`): the first of these present.
LOCKFILES = (
    "requirements.lock",
    "requirements.txt",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "conda-lock.yml",
    "environment.yml",
)
# Files that define the infrastructure a model is built on, recorded by sha256 where present
# (top level of the repository; gitml.yaml `environment: {files: [...]}` adds more).
INFRA_FILES = (
    "Dockerfile",
    "Containerfile",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
    "environment.yml",
    "environment.yaml",
    "conda-lock.yml",
    "requirements.lock",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pyproject.toml",
)
INFRA_PATTERNS = ("requirements*.txt",)
# The CI templates set it to the image the job runs in (a digest where the host gives one).
IMAGE_VARIABLE = "GITML_IMAGE_DIGEST"
_PRINTABLE = re.compile(r"[\x21-\x7e]{1,300}")
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


def _nvidia_smi(*args: str) -> str:
    try:
        proc = subprocess.run(
            ["nvidia-smi", *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout if proc.returncode == 0 else ""


def gpu_stack(query: str, banner: str) -> dict[str, str | None]:
    """GPU models, driver and CUDA versions from `nvidia-smi --query-gpu=name,driver_version
    --format=csv,noheader` (`query`) and plain `nvidia-smi`'s banner ("CUDA Version: 12.2")."""
    rows = [
        [cell.strip() for cell in line.split(",")] for line in query.splitlines() if line.strip()
    ]
    names = [row[0] for row in rows if row and row[0]]
    drivers = sorted({row[1] for row in rows if len(row) > 1 and row[1]})
    cuda = re.search(r"CUDA Version:\s*([0-9][0-9.]*)", banner)
    return {
        "gpu": ", ".join(names) or None,
        "gpu_driver": ", ".join(drivers) or None,
        "cuda": cuda.group(1) if cuda else None,
    }


def _gpu() -> dict[str, str | None]:
    if not shutil.which("nvidia-smi"):
        return {"gpu": None}
    query = _nvidia_smi("--query-gpu=name,driver_version", "--format=csv,noheader")
    return gpu_stack(query, _nvidia_smi())


def image_digest() -> str | None:
    """The container image the CI job runs in (GITML_IMAGE_DIGEST), or None; a value that is
    not one printable word is not recorded (it would reach terminals and YAML as it is)."""
    value = os.environ.get(IMAGE_VARIABLE, "").strip()
    return value if _PRINTABLE.fullmatch(value) else None


def capture(python: str, root: Path) -> dict[str, Any]:
    """The environment block of `python`, run in `root`, without seeds (added per commit) and
    without the repository's infrastructure files (`with_infrastructure`, per commit)."""
    gpu = _gpu()
    proc = subprocess.run(
        [python, "-I", "-c", _PROBE, "gpu" if gpu["gpu"] else "cpu"],
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
    hardware = env["hardware"]
    hardware.update(gpu)
    env["hardware"] = {k: v for k, v in hardware.items() if v is not None or k in ("cpu", "gpu")}
    image = image_digest()
    if image:
        env["container"] = {"dockerfile_sha256": None, "image": image}
    return env


def infrastructure_files(
    listing: Iterable[str], read: Callable[[str], bytes | None], configured: Iterable[str] = ()
) -> dict[str, str | None]:
    """{path: sha256} of the infrastructure files in `listing` (a commit's paths), read through
    `read(path)`; a file gitml.yaml names that the commit lacks is recorded as null, not left out."""
    present = set(listing)
    top_level = sorted(p for p in present if "/" not in p)
    names = [n for n in INFRA_FILES if n in present]
    names += [p for p in top_level if any(fnmatch.fnmatchcase(p, g) for g in INFRA_PATTERNS)]
    names += [p for p in configured if p not in names]
    files: dict[str, str | None] = {}
    for name in names:
        data = read(name) if name in present else None
        files[name] = sha256_bytes(data) if data is not None else None
    return files


def with_infrastructure(block: dict[str, Any], files: dict[str, str | None]) -> dict[str, Any]:
    """`block` with the commit's infrastructure files: all of them under `infrastructure`, and
    as DESIGN.md's environment names them, the first dependency lockfile (`lockfile`) and the
    Dockerfile beside the image the block was captured in (`container`)."""
    found = {**block, "infrastructure": {"files": files}}
    lockfile = next((n for n in LOCKFILES if files.get(n)), None)
    if lockfile:
        found["lockfile"] = {"path": lockfile, "sha256": files[lockfile]}
    image = (block.get("container") or {}).get("image")
    if files.get("Dockerfile") or image:
        found["container"] = {"dockerfile_sha256": files.get("Dockerfile"), "image": image}
    return found


def block_key(block: dict[str, Any]) -> str:
    return sha256_bytes(dump_yaml(block).encode())[:16]


def interpreter_on_path(python: str) -> dict[str, str]:
    """An environment whose PATH starts with `python`'s directory, as the stages should see it."""
    env = git.no_git_env()
    env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
    return env
