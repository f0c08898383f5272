"""The README's first command: it installs gitml with the `example` extra into a fresh venv and
runs `gitml demo DIR`, gitml's whole job on the embedded example, ending with `gitml reproduce`
saying identical. Run exactly as written, in a venv holding only what `.[example]` installs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, PROJECT, run

README_DEMO_DIR = "/tmp/gitml-demo"


def readme_command(number: int) -> str:
    """The README's `number`th set-up command (1 or 2), as written in its first sh block."""
    block = re.search(r"```sh\n(.*?)```", (PROJECT / "README.md").read_text(), re.DOTALL)
    assert block, "the README has no sh block"
    commands = [x for x in block.group(1).splitlines() if x.strip() and not x.startswith("#")]
    return commands[number - 1]


def checkout_copy(target: Path) -> Path:
    """The checkout's files (tracked and new, not ignored), as a clone of this work would hold."""
    listed = run(
        "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=PROJECT
    ).stdout
    for rel in filter(None, listed.split("\0")):
        src = PROJECT / rel
        if src.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / rel)
    return target


def fresh_machine_env() -> dict[str, str]:
    """This environment without the test venv: `python3` is the machine's, as on a new machine."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CI")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != str(BIN))
    return env


@pytest.mark.slow
def test_the_readme_first_command_as_written(tmp_path: Path) -> None:
    command = readme_command(1)
    assert README_DEMO_DIR in command and "'.[example]'" in command, command
    target = tmp_path / "demo"
    checkout = checkout_copy(tmp_path / "gitml")
    proc = subprocess.run(
        ["bash", "-c", command.replace(README_DEMO_DIR, str(target))],
        cwd=checkout,
        env=fresh_machine_env(),
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    assert "gitml.lock updated" in out
    assert "the exact bytes of that commit" in out
    lines = [x for x in out.splitlines() if x.strip()]
    assert lines[-1].startswith("gitml demo: done") and lines[-2] == "identical", lines[-3:]
    assert re.search(r"^target\s+values\s+0\.000\s+stable", out, re.MULTILINE)  # gitml drift
    assert "promoted wine-classifier v0.0.1" in out

    venv_gitml = checkout / ".venv" / "bin" / "gitml"
    repo = target / "repo"
    lock = run("git", "show", "HEAD:gitml.lock", cwd=repo).stdout
    assert lock.startswith("schema: gitml.lock/1\n")
    shown = json.loads(run(venv_gitml, "show", "--json", cwd=repo).stdout)
    assert shown["data"]["data/wine.csv"]["validation"]["success"] is True
    assert shown["models"]["model/model.pkl"]["tests"]["failed"] == 0
    assert run("git", "status", "--porcelain", cwd=repo).stdout == ""
    # again into the same, now full, directory: refused, saying what is there, nothing touched
    again = run(venv_gitml, "demo", target, cwd=tmp_path, check=False)
    assert again.returncode == 2
    assert "holds a previous gitml demo" in again.stderr and "rm -rf" in again.stderr
    assert run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip() == shown["rev"]


@pytest.mark.slow
def test_a_failed_demo_removes_what_it_built_and_a_rerun_says_why(tmp_path: Path) -> None:
    """A step that fails (here `gitml init`, refusing a global core.hooksPath) stops the demo,
    which removes what it built, so the same command runs again once the cause is fixed."""
    from conftest import gitml

    gitconfig = tmp_path / "gitconfig"
    shutil.copyfile(os.environ["GIT_CONFIG_GLOBAL"], gitconfig)
    gitconfig.write_text(gitconfig.read_text() + f"[core]\n\thooksPath = {tmp_path / 'hooks'}\n")
    target = tmp_path / "demo"
    r = gitml("demo", target, cwd=tmp_path, env={"GIT_CONFIG_GLOBAL": str(gitconfig)})
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert "demo step `" in r.stderr and "gitml init` failed (exit 2)" in r.stderr
    assert f"what it built in {target} was removed" in r.stderr
    assert f"run `gitml demo {target}` again" in r.stderr
    assert not target.exists()
    # into an empty directory of the user's: emptied again, the directory itself kept
    target.mkdir()
    r = gitml("demo", target, cwd=tmp_path, env={"GIT_CONFIG_GLOBAL": str(gitconfig)})
    assert r.returncode == 1 and target.is_dir() and not any(target.iterdir())
    # a directory holding something else is refused, naming what it holds
    (target / "notes.txt").write_text("mine\n")
    r = gitml("demo", target, cwd=tmp_path)
    assert r.returncode == 2 and "is not empty (it holds notes.txt)" in r.stderr
    assert (target / "notes.txt").read_text() == "mine\n"
