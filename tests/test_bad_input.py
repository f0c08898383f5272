"""Bad input: one clear message, exit 2, never a traceback; internal errors exit 4."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Example, git, gitml


def assert_clean_error(res, *fragments: str, code: int = 2) -> None:  # type: ignore[no-untyped-def]
    assert res.returncode == code, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    for fragment in fragments:
        assert fragment in res.stderr


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("version: 1\nmodels: [\n", ["gitml.yaml", "line", "not valid YAML"]),
        ("version: 1\nmodles: []\n", ["gitml.yaml: line 2", "'modles'", "unknown key"]),
        ("version: 2\n", ["'version'", "must be 1"]),
        (
            "version: 1\nmodels:\n  - path: ../outside.pkl\n",
            ["models[0].path", "outside the repository"],
        ),
        ("version: 1\nmodels:\n  - path: /etc/passwd\n", ["models[0].path", "absolute"]),
        (
            "version: 1\nmodels:\n  - path: model/model.pkl\n    gates: ['accuracy >>= 1']\n",
            ["line 4", "gates[0]", "does not parse"],
        ),
        (
            "version: 1\ndata:\n  - path: data/wine.csv\n    format: xls\n",
            ["data[0].format", "must be one of"],
        ),
        ("version: 1\nhooks:\n  block_stale: maybe\n", ["hooks.block_stale", "true or false"]),
        ("", ["gitml.yaml", "empty"]),
    ],
)
def test_malformed_config(example: Example, text: str, fragments: list[str]) -> None:
    (example.root / "gitml.yaml").write_text(text)
    example.git("add", "gitml.yaml")
    assert_clean_error(example.gitml("check"), *fragments)
    before = example.git("ls-files", "-s").stdout
    proc = example.git("commit", "-qm", "bad config", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert example.git("ls-files", "-s").stdout == before


def test_untracked_model_path(example: Example) -> None:
    (example.root / "gitml.yaml").write_text("version: 1\nmodels:\n  - path: model/nope.pkl\n")
    example.git("add", "gitml.yaml")
    assert_clean_error(example.gitml("check"), "model/nope.pkl", "tracked neither by DVC")


def test_unknown_revision(example: Example) -> None:
    assert_clean_error(example.gitml("show", "no-such-rev"), "unknown revision 'no-such-rev'")
    assert_clean_error(example.gitml("restore", "deadbeef"), "unknown revision")


def test_commit_without_lock(example: Example) -> None:
    example.git("rm", "-q", "gitml.lock")
    example.git("commit", "-qm", "drop lock", env={"GITML_SKIP": "1"})
    assert_clean_error(example.gitml("show"), "has no gitml.lock")


def test_corrupt_lock_file(example: Example) -> None:
    (example.root / "gitml.lock").write_text("schema: [broken\n")
    example.git("commit", "-qam", "broken lock", env={"GITML_SKIP": "1"})
    assert_clean_error(example.gitml("show"), "gitml.lock", "regenerate")
    assert_clean_error(example.gitml("lock", "--check", "HEAD"), "gitml.lock")


def test_malformed_dvc_lock(example: Example) -> None:
    (example.root / "dvc.lock").write_text("stages: [1, 2\n")
    example.git("add", "dvc.lock")
    assert_clean_error(example.gitml("check"), "dvc.lock", "not valid YAML")


def test_not_a_git_repository(tmp_path: Path) -> None:
    assert_clean_error(gitml("show", cwd=tmp_path), "not a git repository")


def test_no_dvc(tmp_path: Path) -> None:
    git("init", "-q", cwd=tmp_path)
    assert_clean_error(gitml("show", cwd=tmp_path), "gitml init")
    assert_clean_error(gitml("check", cwd=tmp_path), "gitml init")


def test_usage_error_exits_2(example: Example) -> None:
    res = example.gitml("show", "--no-such-option")
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_internal_error_exits_4_with_log(example: Example) -> None:
    # the md5 cache database replaced by a directory: sqlite fails in a way nobody planned for
    db = example.root / ".git" / "gitml" / "md5.sqlite"
    db.unlink()
    db.mkdir()
    res = example.gitml("lock")
    assert res.returncode == 4, res.stderr
    assert "internal error" in res.stderr and "Traceback" not in res.stderr
    # one line for the error (the hash cache's own warning that it could not rebuild may precede it)
    lines = res.stderr.splitlines()
    assert lines[-1].startswith("gitml: internal error") and len(lines) <= 2, res.stderr
    log = example.root / ".git" / "gitml" / "gitml.log"
    assert "Traceback" in log.read_text()


def test_every_command_has_help() -> None:
    from gitml.cli import app
    from typer.main import get_command

    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"`gitml {name}` has no help text"
        for param in command.params:
            if param.name not in ("help",) and getattr(param, "param_type_name", "") == "option":
                assert param.help, f"`gitml {name} --{param.name}` has no help text"


def test_pipeline_file_dvc_would_reject(example: Example) -> None:
    dvcyaml = example.root / "dvc.yaml"
    dvcyaml.write_text(
        dvcyaml.read_text().replace("      - src/train.py\n", "      - src/train.py: 1\n")
    )
    example.git("add", "dvc.yaml")
    before = example.git("ls-files", "-s").stdout
    proc = example.git("commit", "-qm", "broken pipeline", check=False)
    assert proc.returncode != 0
    assert "dvc.yaml: DVC would reject this pipeline file" in proc.stderr
    assert "stages.train.deps.0" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert example.git("ls-files", "-s").stdout == before
