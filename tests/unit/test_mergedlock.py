"""gitml/mergedlock.py: a merge's results judged against its parents' locks, in process (the
gate thresholds, which read the first parent's metrics from git, are tested on real merges in
tests/test_merge_edges.py)."""

from __future__ import annotations

from pathlib import Path

from gitml import config, lockfile
from gitml.lockfile import Lock
from gitml.mergedlock import Merge, marked, problems

CONFIG = config.parse(
    "version: 1\nmodels:\n  - path: m.pkl\n    name: m\n    tests: tests/m\n", "gitml.yaml"
)
MAIN, FEATURE = "a" * 40, "b" * 40
OLD, NEW = "0" * 32, "1" * 32  # the model's md5 before and after a retrain


def lock(md5: str, tests_hash: str, merge: list[str] | None = None) -> Lock:
    tests = {"passed": 2, "failed": 0, "hash": tests_hash, "data": {}}
    doc = {"models": {"m.pkl": {"md5": md5, "tests": tests}}, "data": {}, "environments": {}}
    if merge is not None:
        doc["merge"] = merge
    return lockfile.parse(
        lockfile.serialize(lockfile.from_dict({"schema": lockfile.SCHEMA, **doc}))
    )


def merge_of(main: Lock, feature: Lock, checked: bool = False) -> Merge:
    return Merge(Path("/nonexistent"), (MAIN, FEATURE), (main, feature), (), checked)


def test_tests_a_parent_recorded_for_the_same_model_stand() -> None:
    main, feature = lock(OLD, "tests-1"), lock(NEW, "tests-0")
    assert problems(merge_of(main, feature), CONFIG, lock(NEW, "tests-0")) == []
    assert problems(merge_of(main, feature), CONFIG, lock(OLD, "tests-1")) == []


def test_the_model_of_one_side_with_the_tests_of_the_other_is_no_parents() -> None:
    merge = merge_of(lock(OLD, "tests-1"), lock(NEW, "tests-0"))
    [line] = problems(merge, CONFIG, lock(NEW, "tests-1"))
    assert line.startswith(
        "models.m.pkl.tests: recorded for model md5 111111111111 with test files tests-1"
    )
    assert "ran on no parent of the merge" in line


def test_gitml_marks_the_results_it_computed_for_the_merge_and_only_those() -> None:
    merge = merge_of(lock(OLD, "tests-1"), lock(NEW, "tests-0"))
    rerun = marked(lock(NEW, "tests-1"), merge, CONFIG)
    assert rerun.merge == [MAIN, FEATURE]
    checked = merge_of(lock(OLD, "tests-1"), lock(NEW, "tests-0"), checked=True)
    assert problems(checked, CONFIG, rerun) == []
    assert marked(lock(NEW, "tests-0"), merge, CONFIG).merge is None  # a parent's: no mark
    assert marked(rerun, None, CONFIG).merge is None  # not a merge: the mark goes
    assert "merge:" in lockfile.serialize(rerun).decode()


def test_a_parent_not_in_the_clone_is_said() -> None:
    merge = Merge(Path("/nonexistent"), (MAIN, FEATURE), (lock(OLD, "y"), None), (FEATURE,), False)
    [line] = problems(merge, CONFIG, lock(OLD, "y"))
    assert f"parent {FEATURE[:12]} is not in this clone" in line and "--deepen" in line


DATA_CONFIG = config.parse(
    "version: 1\ndata:\n  - path: d.csv\n    suite: .gitml/suites/d.json\n", "gitml.yaml"
)


def data_lock(md5: str, suite_sha256: str, success: bool) -> Lock:
    validation = {"success": success, "evaluated": 3, "failed": 0 if success else 1}
    entry = {"md5": md5, "suite": ".gitml/suites/d.json", "suite_sha256": suite_sha256}
    doc = {"data": {"d.csv": {**entry, "validation": validation}}, "models": {}}
    return lockfile.parse(
        lockfile.serialize(
            lockfile.from_dict({"schema": lockfile.SCHEMA, **doc, "environments": {}})
        )
    )


def test_data_of_one_side_with_the_suite_and_verdict_of_the_other_is_no_parents() -> None:
    # main tightened the suite (the old data fails it); the feature brought new data (passing
    # the old suite): a text merge keeps the new md5 and main's suite hash and verdict
    main, feature = data_lock(OLD, "suite-2", False), data_lock(NEW, "suite-1", True)
    merge = merge_of(main, feature)
    assert problems(merge, DATA_CONFIG, data_lock(NEW, "suite-1", True)) == []  # a parent's
    [line] = problems(merge, DATA_CONFIG, data_lock(NEW, "suite-2", False))
    assert line.startswith("data.d.csv.validation: recorded for data md5 111111111111 with suite")
    assert "validated on no parent of the merge" in line
