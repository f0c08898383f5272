"""The command line behaves as git, DVC and GTO users expect (issue 18, items 9-11): --version,
-q/-v, revisions as arguments, help wrapped by the terminal, whole lines when piped, paths
relative to the current directory.

Help and version run in process (typer's CliRunner); what needs a repository or a pipe runs
gitml as a user does, on a copy of the example project.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import Example
from conftest import gitml as run_gitml
from typer.testing import CliRunner

import gitml
from gitml import output
from gitml.cli import app, main

MODEL = "wine-classifier"
COMMANDS = [
    *("init", "repro", "check", "lock", "show", "restore", "test", "validate", "log", "diff"),
    *("report", "reproduce", "promote", "rollback", "registry", "approve", "verify", "drift"),
    *("doctor", "demo", "suite init"),
]


def invoke(*args: str, columns: int = 80) -> tuple[int, str]:
    try:
        r = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    finally:
        output.set_level("normal")  # the global options set it for the process
    return r.exit_code, r.output


def test_version_prints_the_package_version() -> None:
    assert invoke("--version") == (0, gitml.__version__ + "\n")


def test_help_hides_the_internal_hook_command_and_lists_the_global_options() -> None:
    code, text = invoke("--help")
    assert code == 0
    names = [line.split()[1] for line in text.splitlines() if line.startswith("│ ")]
    assert "init" in names and "hook" not in names
    for option in ("--quiet", "-q", "--verbose", "-v", "--version"):
        assert option in text


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_type_on_a_plain_flag(command: str) -> None:
    code, text = invoke(*command.split(), "--help")
    assert code == 0 and "--help" in text
    assert "<bool>" not in text


def test_help_paragraphs_are_wrapped_by_the_terminal_not_by_the_docstring() -> None:
    # promote's docstring breaks its second paragraph over five source lines
    code, text = invoke("promote", "--help", columns=1000)
    assert code == 0
    assert any(
        "Refused (exit 1, saying why)" in line and "readable by `gto show`." in line
        for line in text.splitlines()
    ), text


def test_quiet_and_verbose_together_are_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "-v", "doctor"]) == 2
    assert capsys.readouterr().err == "gitml: give -q/--quiet or -v/--verbose, not both\n"


def test_quiet_keeps_the_verdict_verbose_adds_detail(example: Example) -> None:
    quiet_init = example.gitml("-q", "init")
    assert quiet_init.returncode == 0 and quiet_init.stderr == ""
    check = example.gitml("-q", "lock", "--check")
    assert check.returncode == 0
    assert check.stderr == "gitml: gitml.lock is fresh for the staged state\n"
    verbose = example.gitml("-v", "lock", "--check", "HEAD")
    assert verbose.returncode == 0 and "gitml.lock is fresh for HEAD" in verbose.stderr
    assert "gitml: debug: git rev-parse --show-toplevel" in verbose.stderr


def test_a_revision_is_an_argument_and_the_old_option_still_works(example: Example) -> None:
    fresh = example.gitml("lock", "--check", "HEAD")
    assert fresh.returncode == 0 and "gitml.lock is fresh for HEAD" in fresh.stderr
    old = example.gitml("lock", "--check", "--rev", "HEAD")
    assert old.returncode == 0 and "gitml.lock is fresh for HEAD" in old.stderr
    assert "warning: --rev is deprecated: write `gitml lock --check HEAD`\n" in old.stderr
    both = example.gitml("lock", "--check", "HEAD", "--rev", "HEAD")
    assert both.returncode == 2 and "give the revision once" in both.stderr
    head = example.head()
    example.git("commit", "-q", "--allow-empty", "-m", "later", env={"GITML_SKIP": "1"})
    promoted = example.gitml("promote", MODEL, head, "--to", "staging")
    assert promoted.returncode == 0, promoted.stderr
    tags = example.git("tag", "--points-at", head).stdout.split()
    assert f"{MODEL}#staging#1" in tags


def test_piped_output_is_never_cut_or_wrapped(example: Example) -> None:
    note = "long-" * 40 + "end"
    params = example.root / "params.yaml"
    params.write_text(params.read_text().replace("  seed: 42\n", f"  seed: 42\n  note: {note}\n"))
    example.git("add", "params.yaml")
    r = run_gitml("diff", cwd=example.root, env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    stale = [line for line in r.stdout.splitlines() if "stage prepare: params.yaml:prepare" in line]
    assert len(stale) == 1 and '-> {"note": "long-long-' in stale[0], r.stdout


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_paths_are_relative_to_the_current_directory(example: Example) -> None:
    src = example.root / "src"
    model = example.root / "model" / "model.pkl"
    recorded = _md5(model)
    model.unlink()
    r = run_gitml("restore", "--path", "../model/model.pkl", cwd=src)
    assert r.returncode == 0, r.stderr
    assert _md5(model) == recorded
    log = run_gitml("log", "../model/model.pkl", cwd=src)
    assert log.returncode == 0 and example.head()[:8] in log.stdout, log.stderr
    outside = run_gitml("restore", "--path", "../../elsewhere.pkl", cwd=src)
    assert outside.returncode == 2
    assert "'../../elsewhere.pkl' is outside the repository" in outside.stderr


def test_suite_init_on_a_missing_file_says_it_is_missing(example: Example) -> None:
    suites = example.root / ".gitml" / "suites"
    suites.mkdir(parents=True)
    (suites / "wine.json").write_text("{}")  # another dataset of the same name has a suite
    r = example.gitml("suite", "init", "wine.csv")
    assert r.returncode == 2
    assert "wine.csv: no such file or directory" in r.stderr and "exists" not in r.stderr
