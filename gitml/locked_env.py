"""`gitml reproduce --env locked`: a venv of the packages a model's environment block records.

Built once per clone, in the state directory, keyed by the sha256 of the sorted requirement
list, and reused by the next run. Packages are installed `--no-deps` (the record is the whole
closure), with uv where it is on PATH; those that cannot be installed are left out and
reported, not fatal.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import git, state
from gitml.environment import NOT_BUILD_PACKAGES
from gitml.errors import BadInput
from gitml.lockfile import Environment, ModelEntry

_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_RECORD_FILE = "gitml-locked.json"  # written last, in the venv: its presence says it is complete


@dataclass
class LockedEnv:
    python: str  # the venv's interpreter
    requirements: list[str]
    not_installed: dict[str, str]  # requirement -> why
    reused: bool
    tool: str

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": "locked",
            "python": self.python,
            "tool": self.tool,
            "reused": self.reused,
            "requirements": len(self.requirements),
            "not_installed": self.not_installed,
        }


def venv_for_models(
    common_dir: Path,
    base_python: str,
    environments: Mapping[str, Environment],
    models: Mapping[str, ModelEntry],
    *,
    note: Callable[[str], None],
    warn: Callable[[str], None],
) -> LockedEnv:
    """The locked venv of the environment block the models record (the first, when several)."""
    keys = list(dict.fromkeys(str(m.environment) for m in models.values()))
    if len(keys) > 1:
        warn(f"--env locked: the models record {len(keys)} environments; using {keys[0]}")
    locked = locked_env(common_dir, base_python, environments.get(keys[0]), note)
    if locked.reused:
        note(f"--env locked: reusing the venv {Path(locked.python).parent.parent}")
    if locked.not_installed:
        warn(
            "--env locked: could not be installed: "
            + ", ".join(f"{r} ({why})" for r, why in locked.not_installed.items())
        )
    return locked


def locked_requirements(block: Environment | None) -> list[str]:
    """`name==version` for each recorded package, sorted, without gitml's own tooling."""
    pkgs = (block.packages if block is not None else None) or {}
    return sorted(
        f"{name}=={version}"
        for name, version in pkgs.items()
        if str(name).lower() not in NOT_BUILD_PACKAGES and version
    )


def locked_env_key(requirements: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()


def locked_env(
    common_dir: Path,
    base_python: str,
    block: Environment | None,
    note: Callable[[str], None] = lambda _: None,
) -> LockedEnv:
    """The venv of the recorded packages, built once per clone (state dir, by the sha256 of the
    sorted requirement list) and reused. Built in place (a venv's scripts name their path)."""
    reqs = locked_requirements(block)
    if not reqs:
        raise BadInput("--env locked: the model's environment records no packages")
    key = locked_env_key(reqs)
    venvs = state.state_dir(common_dir) / "venvs"
    venvs.mkdir(exist_ok=True)
    final = venvs / key[:16]
    python = str(final / "bin" / "python")
    with state.locked(common_dir, f"venv-{key[:16]}", timeout=1800):
        record = state.read_json(final / _RECORD_FILE)
        if record and (final / "bin" / "python").exists():
            failed = dict(record.get("not_installed") or {})
            return LockedEnv(python, reqs, failed, True, str(record.get("tool")))
        shutil.rmtree(final, ignore_errors=True)  # a build that was interrupted
        try:
            failed, tool = _build_venv(final, base_python, reqs, note)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
        return LockedEnv(python, reqs, failed, False, tool)


def _build_venv(
    final: Path, base_python: str, reqs: list[str], note: Callable[[str], None]
) -> tuple[dict[str, str], str]:
    """Create the venv at `final` and install `reqs`; what could not be installed, the tool."""
    use_uv = shutil.which("uv") is not None
    note(
        f"--env locked: building a venv of {len(reqs)} recorded packages with "
        f"{'uv' if use_uv else 'pip'} in {final} (once per clone; reused by the next run)"
    )
    if use_uv:
        cmd = [str(shutil.which("uv")), "venv", "-q", "--seed", "--python", base_python]
    else:
        cmd = [base_python, "-m", "venv"]
    proc = subprocess.run(
        [*cmd, str(final)], check=False, capture_output=True, text=True, env=git.no_git_env()
    )
    if proc.returncode != 0:
        raise BadInput(
            f"--env locked: cannot create a venv with {base_python}: {proc.stderr.strip()[-500:]}"
        )
    failed, tool = install_requirements(str(final / "bin" / "python"), reqs, use_uv)
    # written last (atomically): its presence says the venv is complete
    state.write_json(
        final / _RECORD_FILE, {"requirements": reqs, "not_installed": failed, "tool": tool}
    )
    return failed, tool


def _install(cmd: list[str], reqs: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        [*cmd, *reqs],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout + proc.stderr


def install_requirements(
    python: str, requirements: list[str], use_uv: bool
) -> tuple[dict[str, str], str]:
    """Install `requirements` (`--no-deps`: the record is the whole closure) into the venv of
    `python`; those that cannot be installed are dropped and reported, the rest installed."""
    env = git.no_git_env()
    env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    if use_uv:
        uv = [str(shutil.which("uv")), "pip", "install", "--no-deps", "--python", python]
        if _install(uv, list(requirements), env)[0] == 0:
            return {}, "uv"
    pip = [python, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q"]
    return _pip_install(pip, list(requirements), env), "uv + pip" if use_uv else "pip"


def _pip_install(pip: list[str], todo: list[str], env: dict[str, str]) -> dict[str, str]:
    """Install what installs of `todo`: those pip finds no distribution of are dropped and the
    rest tried again; after an unknown failure (a build error?), one at a time."""
    failed: dict[str, str] = {}
    while todo:
        code, text = _install(pip, todo, env)
        if code == 0:
            return failed
        named = {m.group(1) for m in _NO_MATCH.finditer(text)}
        culprits = [r for r in todo if r in named or r.split("==")[0] in named]
        if not culprits:
            failed.update(_install_one_by_one(pip, todo, env))
            return failed
        for r in culprits:
            failed[r] = "no matching distribution"
            todo.remove(r)
    return failed


def _install_one_by_one(pip: list[str], todo: list[str], env: dict[str, str]) -> dict[str, str]:
    failed: dict[str, str] = {}
    for r in todo:
        code, text = _install(pip, [r], env)
        if code != 0:
            lines = [ln for ln in text.splitlines() if ln.strip() and "WARNING" not in ln]
            failed[r] = (lines[-1] if lines else f"exit {code}")[:200]
    return failed
