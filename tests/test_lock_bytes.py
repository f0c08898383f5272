"""gitml.lock's bytes do not change for the same state, on each example layout: conftest's
example project, and tests/layouts.py's `matrix` and `subdirs` (gitml init, gates, `gitml repro`,
committed through the hook; built once each per module, hence `slow`).

For each, the committed gitml.lock is in the format DESIGN.md gives (checked against a dump
written here with PyYAML, not gitml's serialiser, the blank lines of gitml/locklayout.py aside,
and the keys of each entry against the lists below), read and written back it is byte-identical, and regenerating it on the unchanged state
gives the committed bytes, both as the commit hook computes it (the staged lock's results kept)
and from scratch with `gitml lock` (gitml.lock out of the index: every check run again, the
environment taken from what `gitml repro` recorded). The files a previous gitml wrote are
tests/unit/locks (tests/unit/test_lockfile.py reads and writes them back).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import Example, copy_example, unfolded_lock_lines
from layouts import add_gates, build_layout

from gitml import git as git_mod
from gitml import lockfile, precommit
from gitml.repo import find
from gitml.snapshot import Snapshot

LAYOUTS = [
    "example",
    pytest.param("matrix", marks=pytest.mark.slow),
    pytest.param("subdirs", marks=pytest.mark.slow),
]


def committed_layout(base: Path, layout: str) -> Example:
    ex = build_layout(base, layout)
    assert ex.gitml("init").returncode == 0
    add_gates(ex, "accuracy >= 0.5")
    repro = ex.gitml("repro", *(["-P"] if layout == "subdirs" else []))
    assert repro.returncode == 0, repro.stderr
    ex.git("add", "-A")
    commit = ex.git("commit", "-q", "-m", "models", check=False)
    assert commit.returncode == 0, commit.stderr
    return ex


@pytest.fixture(scope="module")
def templates() -> dict[str, Example]:
    """Each layout's template, built the first time a test of the module asks for it."""
    return {}


@pytest.fixture
def template(
    request: pytest.FixtureRequest,
    templates: dict[str, Example],
    tmp_path_factory: pytest.TempPathFactory,
) -> Example:
    layout: str = request.param
    if layout == "example":
        found: Example = request.getfixturevalue("example_template")
        return found
    if layout not in templates:
        templates[layout] = committed_layout(tmp_path_factory.mktemp(layout), layout)
    return templates[layout]


@pytest.fixture
def ex(template: Example, tmp_path: Path) -> Example:
    return copy_example(template, tmp_path / "copy")


def committed_bytes(ex: Example) -> bytes:
    data = (ex.root / "gitml.lock").read_bytes()
    assert data == ex.git("show", "HEAD:gitml.lock").stdout.encode()
    return data


# The keys of an entry gitml writes: always, and when they hold something (DESIGN.md).
# config_sha256: the entry's own gitml.yaml block's hash (one top-level hash of the whole file
# before: two gitml.yaml edits git merges cleanly conflicted on it, tests/test_merge_matrix.py)
MODEL_KEYS = {"md5", "hash", "size", "format", "stage", "stale", "inputs", "metrics"}
MODEL_KEYS |= {"config_sha256"}
MODEL_OPTIONAL = {"format_from", "dir", "frozen", "cmd", "metrics_from", "environment"}
MODEL_RESULTS = {"tests", "gates"}
DATA_KEYS = {"md5", "hash", "size", "nfiles", "source", "stage", "stale", "suite", "suite_sha256"}
DATA_KEYS |= {"config_sha256"}
# one hash per top-level gitml.yaml key other than models and data
SETTINGS = {"environment", "hooks", "python", "registry", "reproduce"}


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize("template", LAYOUTS, indirect=True)
def test_the_committed_lock_is_in_the_format_gitml_writes(template: Example) -> None:
    data = committed_bytes(template)
    doc = yaml.safe_load(data)
    body = {k: v for k, v in doc.items() if k != "schema"}
    dumped = yaml.safe_dump(_rounded(body), sort_keys=True, default_flow_style=False)
    # PyYAML's lines, and blank lines between the fields that change independently (locklayout)
    # and a profile's lists of numbers on one line each (issue 19: a line per number made most
    # of the lock; `unfolded_lock_lines` writes them back a line per number, as PyYAML does)
    lines = unfolded_lock_lines(data.decode())
    assert [line for line in lines if line] == ["schema: gitml.lock/1", *dumped.splitlines()]
    assert "" in lines and lines.count("") == data.decode().count("\n\n")
    assert set(body) == {"settings", "models", "data", "environments"}
    assert set(body["settings"]) == SETTINGS
    for entry in doc["models"].values():
        assert MODEL_KEYS <= set(entry) <= MODEL_KEYS | MODEL_OPTIONAL | MODEL_RESULTS, entry
    for entry in doc["data"].values():
        assert set(entry) == DATA_KEYS, entry


@pytest.mark.parametrize("template", LAYOUTS, indirect=True)
def test_the_committed_lock_read_and_written_back_is_byte_identical(template: Example) -> None:
    data = committed_bytes(template)
    assert lockfile.serialize(lockfile.parse(data)) == data


@pytest.mark.parametrize("template", LAYOUTS, indirect=True)
def test_the_hook_computes_the_committed_bytes_on_the_same_state(ex: Example) -> None:
    data = committed_bytes(ex)
    repo = find(ex.root)
    outcome = precommit.evaluate(repo, Snapshot(repo.root), git_mod.head_commit(repo.root))
    assert not outcome.failures and not outcome.missing
    assert outcome.lock_bytes == data and not outcome.lock_changed


@pytest.mark.parametrize("template", LAYOUTS, indirect=True)
def test_gitml_lock_from_scratch_writes_the_committed_bytes(ex: Example) -> None:
    data = committed_bytes(ex)
    ex.git("rm", "-q", "--cached", "gitml.lock")
    (ex.root / "gitml.lock").unlink()
    proc = ex.gitml("lock")
    assert proc.returncode == 0, proc.stderr
    assert (ex.root / "gitml.lock").read_bytes() == data
    assert ex.git("show", ":gitml.lock").stdout.encode() == data  # staged as written
