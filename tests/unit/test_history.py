"""gitml/history.py, modelhistory.py and versiondiff.py: versions of gitml.lock, a model's rows
across them, and the diff between two, in process (versions made from tests/unit/locks)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from gitml import history, lockfile, modelhistory, versiondiff
from gitml.errors import BadInput
from gitml.history import Commit, Version
from gitml.lockfile import Gate, Lock, ModelEntry
from gitml.lockprofile import ColumnProfile, Profile
from gitml.modelhistory import Checks, ModelRef, Tally
from gitml.records import updated

LOCKS = Path(__file__).parent / "locks"
MODEL = "model/model.pkl"


def read(name: str) -> Lock:
    return lockfile.parse((LOCKS / name).read_bytes())


def version(lock: Lock, sha: str = "a") -> Version:
    return Version(Commit(sha * 40, "2026-01-01T00:00:00+00:00", f"commit {sha}"), lock)


def with_model(lock: Lock, **changes: object) -> Lock:
    entry = dataclasses.replace(lock.models[MODEL], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(lock, models={**lock.models, MODEL: entry})


def test_the_diff_names_what_changed_in_a_model() -> None:
    old = read("example.lock")
    model = old.models[MODEL]
    inputs = dict(model.inputs or {})
    inputs["params.yaml:train"] = {"max_depth": 3, "n_estimators": 3, "seed": 42}
    inputs["src/train.py"] = "f" * 32
    new = with_model(old, md5="e" * 32, metrics={"accuracy": 0.95}, inputs=inputs)
    diff = versiondiff.diff_versions(version(old), version(new, "b"))
    m = diff.models[MODEL]
    assert m.status == "changed" and m.md5.changed and m.changed
    assert m.params == {"params.yaml:train.max_depth": versiondiff.Pair(2, 3)}
    assert m.data == {"src/train.py": versiondiff.Pair(model.inputs["src/train.py"], "f" * 32)}  # type: ignore[index]
    assert m.code == {}  # no snapshot to tell code from data: the file is an input, not code
    delta = m.metrics["accuracy"]
    assert (delta.old, delta.new, delta.delta) == (0.977778, 0.95, -0.027778)
    assert m.metrics["f1_macro"] == versiondiff.MetricDelta(0.977143, None, None)
    assert m.environment == {} and m.checks.old == m.checks.new
    assert diff.data == {}


def test_the_diff_json_is_the_stable_format() -> None:
    old = read("example.lock")
    new = with_model(old, gates=[Gate(rule="accuracy >= 0.9", value=0.8, passed=False)])
    doc = versiondiff.diff_versions(version(old), version(new, "b")).to_json()
    assert doc["a"] == {"rev": "a" * 40, "date": "2026-01-01T00:00:00+00:00", "subject": "commit a"}
    m = doc["models"][MODEL]
    assert sorted(m) == sorted(
        [
            "status", "md5", "size", "metrics", "metrics_unread", "params", "cmd", "code",
            "data", "checks", "stale", "environment", "environment_recorded",
        ]
    )  # fmt: skip
    assert m["md5"] == {"old": old.models[MODEL].md5, "new": old.models[MODEL].md5}
    assert m["checks"] == {
        "old": {"tests": {"passed": 2, "failed": 0}, "gates": {"passed": 1, "failed": 0}},
        "new": {"tests": {"passed": 2, "failed": 0}, "gates": {"passed": 0, "failed": 1}},
    }
    assert m["environment_recorded"] == {"old": True, "new": True}


def test_the_diff_of_a_dataset_names_its_profile_changes() -> None:
    old = read("validated.lock")
    data = old.data["data/wine.csv"]
    assert data.profile is not None and data.profile.columns is not None
    columns = dict(data.profile.columns)
    columns["alcohol"] = updated(columns["alcohol"], nulls=2)
    del columns["hue"]
    columns["ash"] = ColumnProfile(dtype="float64", nulls=0)
    changed = dataclasses.replace(data, md5="9" * 32, profile=Profile(rows=170, columns=columns))
    new = dataclasses.replace(old, data={"data/wine.csv": changed})
    diff = versiondiff.diff_versions(version(old), version(new, "b"))
    assert diff.data["data/wine.csv"].to_json() == {
        "md5": {"old": data.md5, "new": "9" * 32},
        "profile": {
            "rows": {"old": 173, "new": 170},
            "columns": {
                "alcohol": {"nulls": {"old": 0, "new": 2}},
                "hue": {"removed": True},
                "ash": {"added": True, "dtype": "float64"},
            },
        },
        "status": "changed",
    }


def test_a_model_only_one_side_records_is_added_or_removed() -> None:
    old = read("example.lock")
    new = dataclasses.replace(old, models={})
    removed = versiondiff.diff_versions(version(old), version(new, "b")).models[MODEL]
    assert removed.status == "removed" and removed.md5.new is None
    added = versiondiff.diff_versions(version(new), version(old, "b")).models[MODEL]
    assert added.status == "added" and added.environment_recorded.old is False


def test_the_environment_diff_names_packages_and_fields() -> None:
    old = read("matrix.lock").environments["b7689c335f2dc96f"]
    assert old.packages is not None
    new = dataclasses.replace(
        old, python="3.12.1", packages={**old.packages, "numpy": "3.0.0"}, seeds={"s": 1}
    )
    found = versiondiff.environment_diff(old, new)
    assert found == {
        "python": versiondiff.Pair("3.11.7", "3.12.1"),
        "packages": {"numpy": versiondiff.Pair(old.packages["numpy"], "3.0.0")},
        "seeds": {"s": versiondiff.Pair(None, 1)},
    }


def test_checks_say_what_passed() -> None:
    assert Checks().passed is None and Checks().text() == "-"
    checks = Checks(tests=Tally(2, 0), gates=Tally(0, 1))
    assert checks.passed is False and checks.text() == "tests 2/2, gates 0/1 FAILED"
    assert Checks(stale=["stage train: x changed"]).text() == "STALE"
    recorded = modelhistory.checks_of(read("validated.lock"), MODEL)
    assert recorded.validation == Tally(1, 0) and recorded.passed is True


def test_a_models_rows_are_the_versions_where_its_entry_changed() -> None:
    first = read("example.lock")
    second = with_model(first, metrics={"accuracy": 0.5, "f1_macro": 0.977143})
    same = dataclasses.replace(second)
    versions = [version(same, "c"), version(second, "b"), version(first, "a")]
    rows = modelhistory.model_history(
        versions, ModelRef(MODEL, "wine"), {"b" * 40: ["wine@v1.0.0"]}
    )
    assert [(r.short, r.changed, r.tags) for r in rows] == [
        ("bbbbbbbb", ["metrics"], ["wine@v1.0.0"]),
        ("aaaaaaaa", ["new"], []),
    ]
    doc = rows[0].to_json()
    assert doc["environment"] == {"python": "3.11.7", "platform": "linux-x86_64"}
    assert doc["passed"] is True and doc["checks"]["tests"] == {"passed": 2, "failed": 0}
    assert doc["params"]["params.yaml:train.max_depth"] == 2


def test_what_changed_names_each_part() -> None:
    old = read("example.lock").models[MODEL]
    new = dataclasses.replace(
        old, cmd="python src/train.py --x", stale=["x"], gates=[Gate(rule="r", passed=False)]
    )
    assert modelhistory.what_changed(old, new) == ["cmd", "stale", "gates"]
    assert modelhistory.what_changed(old, ModelEntry()) == [
        "model", *sorted(modelhistory.flat_params(old.inputs)), "cmd",
        "data/prepared/train.csv", "src/train.py", "metrics", "environment", "tests", "stale",
        "gates",
    ]  # fmt: skip


def test_the_fast_parse_is_the_full_parse() -> None:
    for name in ("example.lock", "validated.lock", "newer.lock"):
        data = (LOCKS / name).read_bytes()
        parser = history.LockParser()
        assert parser.parse(data, name) == lockfile.parse(data)
        assert parser._split_parse(data) is not None  # the fast path read it


def test_the_fast_parse_refuses_what_the_full_parse_refuses() -> None:
    bad = (LOCKS / "example.lock").read_bytes().replace(b"  model/model.pkl:", b"  ../m.pkl:")
    with pytest.raises(BadInput, match=r"x: `models.../m.pkl`: not a clean path"):
        history.LockParser().parse(bad, "x")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_the_history_leaves_out_an_unreadable_version_and_says_so(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    for text in [(LOCKS / "example.lock").read_bytes(), b"schema: gitml.lock/1\nmodels: []\n"]:
        (tmp_path / "gitml.lock").write_bytes(text)
        git(tmp_path, "add", "gitml.lock")
        git(tmp_path, "commit", "-qm", "a version")
    found = history.lock_history(tmp_path)
    assert len(found.versions) == 1 and MODEL in found.versions[0].lock.models
    [line] = found.left_out
    assert "`models` must be a mapping" in line and line.endswith("that version is left out")
