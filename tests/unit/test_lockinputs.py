"""gitml/lockinputs.py: the inputs part of gitml.lock (what freshness compares) and keeping an
entry's results across a rewrite, in process."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gitml import lockfile, lockinputs
from gitml.lockfile import Gate, Lock, ModelEntry, ModelTests

LOCKS = Path(__file__).parent / "locks"


def committed() -> Lock:
    return lockfile.parse((LOCKS / "example.lock").read_bytes())


def inputs_of(lock: Lock) -> Lock:
    """The lock as `lineage.inputs` would compute it for the same state: its inputs only."""
    models = {
        p: dataclasses.replace(e, environment=None, tests=None, gates=None, written=None)
        for p, e in lock.models.items()
    }
    data = {
        p: dataclasses.replace(e, validation=None, profile=None, written=None)
        for p, e in lock.data.items()
    }
    return Lock(config_sha256=lock.config_sha256, models=models, data=data)


def test_unchanged_inputs_keep_the_results_and_the_bytes() -> None:
    old = committed()
    merged = lockinputs.merge_results(inputs_of(old), old)
    merged = dataclasses.replace(merged, environments=old.environments)
    assert lockfile.serialize(merged) == (LOCKS / "example.lock").read_bytes()


def test_changed_inputs_drop_the_results() -> None:
    old = committed()
    new = inputs_of(old)
    model = new.models["model/model.pkl"]
    new.models["model/model.pkl"] = dataclasses.replace(model, md5="0" * 32)
    merged = lockinputs.merge_results(new, old).models["model/model.pkl"]
    assert merged.tests is None and merged.gates is None and merged.environment is None
    assert lockinputs.differences(lockinputs.inputs_part(old), lockinputs.inputs_part(new)) == [
        f'models.model/model.pkl.md5: "{old.models["model/model.pkl"].md5}" -> "{"0" * 32}"'
    ]


def test_unknown_keys_and_nulls_of_an_entry_are_carried_with_its_results() -> None:
    old = lockfile.from_dict(
        {
            "models": {
                "m": {"md5": "a" * 32, "tests": None, "explain": {"k": 1}, "size": "big"},
            }
        }
    )
    new = lockfile.from_dict({"models": {"m": {"md5": "a" * 32, "size": "big"}}})
    merged = lockinputs.merge_results(new, old).to_dict()["models"]["m"]
    assert merged == {"md5": "a" * 32, "size": "big", "tests": None, "explain": {"k": 1}}


def test_a_format_read_from_the_bytes_compares_as_unknown_and_is_kept() -> None:
    told = ModelEntry(md5="a" * 32, format="xgboost", format_from="bytes")
    unknown = ModelEntry(md5="a" * 32, format="unknown")
    named = ModelEntry(md5="a" * 32, format="xgboost")
    assert lockinputs.compared_inputs(told) == lockinputs.compared_inputs(unknown)
    assert lockinputs.compared_inputs(told) != lockinputs.compared_inputs(named)
    tests = ModelTests(passed=1, failed=0)
    old = Lock(models={"m": dataclasses.replace(told, tests=tests)})
    kept = lockinputs.merge_results(Lock(models={"m": unknown}), old).models["m"]
    assert (kept.format, kept.format_from, kept.tests) == ("xgboost", "bytes", tests)
    replaced = lockinputs.merge_results(Lock(models={"m": named}), old).models["m"]
    assert (replaced.format, replaced.format_from, replaced.tests) == ("xgboost", None, None)


def test_the_inputs_part_leaves_the_results_out() -> None:
    lock = committed()
    entry = lock.models["model/model.pkl"]
    other = dataclasses.replace(entry, gates=[Gate(rule="x", passed=False)], environment="k")
    changed = dataclasses.replace(lock, models={"model/model.pkl": other})
    assert lockinputs.inputs_part(changed) == lockinputs.inputs_part(lock)
    assert set(lockinputs.inputs_part(lock)["models"]["model/model.pkl"]) == set(  # type: ignore[index]
        lockinputs.MODEL_INPUT_KEYS
    ) - {"format_from"}
