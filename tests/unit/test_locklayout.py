"""gitml/locklayout.py: independent changes to one gitml.lock entry merge as text, in process.

Each case changes the example lock (tests/unit/locks/example.lock) two ways, as two branches
would, and merges the three texts with `git merge-file` (git's own line merge, what a host's
merge button runs on gitml.lock). Written by today's serialiser they merge cleanly; written
compact (PyYAML alone, as before the blank lines) they conflict. tests/test_merge_matrix.py
measures the same on real repositories.
"""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitml import lockfile, locklayout
from gitml.fileio import dump_yaml

LOCKS = Path(__file__).parent / "locks"
MODEL = "model/model.pkl"
Doc = dict[str, Any]


def base() -> Doc:
    doc: Doc = yaml.safe_load((LOCKS / "example.lock").read_bytes())
    return doc


def retrained(doc: Doc) -> None:
    """A param change retrained the model: its md5, size, inputs, metrics and gate values."""
    m = doc["models"][MODEL]
    m["inputs"]["params.yaml:train"]["n_estimators"] = 8
    m.update(md5="e" * 32, size=5120, metrics={"accuracy": 0.955556, "f1_macro": 0.954})
    m["gates"][0]["value"] = 0.955556


def gate_changed(doc: Doc) -> None:
    """gitml.yaml's gate changed: the config hash, the rule and its threshold."""
    doc["config_sha256"] = "f" * 64
    doc["models"][MODEL]["gates"][0].update(rule="accuracy >= 0.95", threshold=0.95)


def data_changed(doc: Doc) -> None:
    m = doc["models"][MODEL]
    m["inputs"]["data/prepared/train.csv"] = "d" * 32
    m.update(md5="e" * 32, size=5120)


def code_changed(doc: Doc) -> None:
    """A refactor of the training code: the model's bytes are the same."""
    doc["models"][MODEL]["inputs"]["src/train.py"] = "c" * 32


def new_tests(doc: Doc) -> None:
    doc["models"][MODEL]["tests"].update(hash="a" * 64, passed=3)


Change = Callable[[Doc], None]
CASES = {
    "param vs gate": (retrained, gate_changed),
    "data vs code": (data_changed, code_changed),
    "tests vs gate": (new_tests, gate_changed),
}


def merged(tmp_path: Path, write: Callable[[Doc], str], theirs: Change, ours: Change) -> str:
    docs = {"base": base(), "ours": base(), "theirs": base()}
    theirs(docs["theirs"])
    ours(docs["ours"])
    return merge_file(tmp_path, write, docs)


def merge_file(tmp_path: Path, write: Callable[[Doc], str], docs: dict[str, Doc]) -> str:
    """`git merge-file` of the docs "ours", "base" and "theirs" as `write` writes them."""
    for name, doc in docs.items():
        (tmp_path / name).write_text(write(doc))
    proc = subprocess.run(
        ["git", "merge-file", "-p", "ours", "base", "theirs"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode >= 0, proc.stderr  # the number of conflicts
    return proc.stdout


def today(doc: Doc) -> str:
    return lockfile.serialize(lockfile.from_dict(doc)).decode()


def compact(doc: Doc) -> str:
    return "schema: gitml.lock/1\n" + dump_yaml({k: v for k, v in doc.items() if k != "schema"})


@pytest.mark.parametrize("case", CASES)
def test_independent_changes_merge_cleanly_and_say_both(case: str, tmp_path: Path) -> None:
    theirs, ours = CASES[case]
    text = merged(tmp_path, today, theirs, ours)
    assert "<<<<<<<" not in text
    expected = base()
    theirs(expected)
    ours(expected)
    assert yaml.safe_load(text) == {**expected, "schema": "gitml.lock/1"}
    assert text == today(expected)  # as gitml would write the merged state's lock


@pytest.mark.parametrize("case", ["param vs gate", "data vs code"])
def test_the_compact_layout_conflicted(case: str, tmp_path: Path) -> None:
    theirs, ours = CASES[case]
    assert "<<<<<<<" in merged(tmp_path, compact, theirs, ours)


def test_blank_lines_never_fall_inside_a_value() -> None:
    doc = base()
    long_cmd = "python src/train.py " + " ".join(f"--option-{i} value" for i in range(20))
    doc["models"][MODEL]["cmd"] = long_cmd
    doc["models"][MODEL]["inputs"]["params.yaml:train"]["note"] = "two\n\nparagraphs"
    text = today(copy.deepcopy(doc))
    assert yaml.safe_load(text) == {**doc, "schema": "gitml.lock/1"}


# --- environments of two machines ---------------------------------------------------------------

OTHER = "model/other.pkl"


def two_models(shared: str) -> Doc:
    """The example lock with a second model; both built in one environment, keyed `shared`."""
    doc = base()
    [block] = doc["environments"].values()
    doc["environments"] = {shared: block}
    doc["models"][OTHER] = copy.deepcopy(doc["models"][MODEL])
    for entry in doc["models"].values():
        entry["environment"] = shared
    return doc


def rebuilt_elsewhere(doc: Doc, model: str, key: str, image: str) -> None:
    """`model` retrained on another machine: its md5 and a block of its own (another image)."""
    block = copy.deepcopy(next(iter(doc["environments"].values())))
    block["container"] = {"dockerfile_sha256": None, "image": image}
    doc["environments"][key] = block
    doc["models"][model].update(md5=image[-32:], environment=key)


def environments_merge(tmp_path: Path, write: Callable[[Doc], str], keys: str) -> str:
    shared, ours_key, theirs_key = (c * 64 for c in keys)
    docs = {side: two_models(shared) for side in ("base", "ours", "theirs")}
    rebuilt_elsewhere(docs["ours"], MODEL, ours_key, "sha256:" + "a" * 64)
    rebuilt_elsewhere(docs["theirs"], OTHER, theirs_key, "sha256:" + "b" * 64)
    return merge_file(tmp_path, write, docs)


# the shared block's key, then each side's new one: every order of the three
KEY_ORDERS = ["123", "132", "213", "231", "312", "321"]


@pytest.mark.parametrize("keys", KEY_ORDERS)
def test_two_machines_environments_merge_whatever_their_keys(keys: str, tmp_path: Path) -> None:
    text = environments_merge(tmp_path, today, keys)
    assert "<<<<<<<" not in text, text
    lock = lockfile.parse(text)
    images = {path: lock.environment_of(entry) for path, entry in lock.models.items()}
    assert {path: env.image() if env else None for path, env in images.items()} == {
        MODEL: "sha256:" + "a" * 64,
        OTHER: "sha256:" + "b" * 64,
    }
    # the shared block stays, used by neither: the next lock gitml writes for a commit drops it
    assert set(lock.environments) == {c * 64 for c in keys}


def test_environments_in_key_order_conflicted_for_half_the_orders(tmp_path: Path) -> None:
    conflicted = []
    for keys in KEY_ORDERS:
        (tmp_path / keys).mkdir()
        if "<<<<<<<" in environments_merge(tmp_path / keys, compact, keys):  # by key
            conflicted.append(keys)
    assert conflicted == ["123", "132", "312", "321"]  # both new keys on one side of the shared


def test_environments_of_a_hand_edited_lock_keep_their_blocks() -> None:
    """Entries of any shape (a list, a number as the path) are written back; only the order of
    the blocks follows the models that name them."""
    envs = {"b" * 64: {"python": "3.11"}, "a" * 64: {"python": "3.12"}, "c" * 64: {}}
    models = {"z.pkl": {"environment": "c" * 64}, 3: {"environment": "b" * 64}, "y.pkl": [1]}
    placed = locklayout.placed_by_model(envs, models)
    assert list(placed) == ["b" * 64, "c" * 64, "a" * 64] and dict(placed) == envs
