"""gitml/lockinputs.py: the inputs part of gitml.lock (what freshness compares) and keeping an
entry's results across a rewrite, in process."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gitml import confighash, lockfile, lockinputs
from gitml.config import Config, Dataset, Model
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


# --- gitml.yaml hashed per block (gitml/confighash.py) and locks of the old layout -----------

A, B = "models/a.pkl", "models/b.pkl"


def two_models(hash_a: str, hash_b: str) -> Lock:
    """A lock of two models, each with its block's hash and a recorded test run."""
    return lockfile.from_dict(
        {
            "models": {
                p: {"md5": m * 32, "config_sha256": h, "tests": {"passed": 3}}
                for p, m, h in ((A, "a", hash_a), (B, "b", hash_b))
            },
            "settings": {"hooks": "h" * 64},
        }
    )


def test_a_changed_block_drops_only_its_entrys_results() -> None:
    """A gate added to model A's block: A's checks run again, B keeps its results."""
    old = two_models("1" * 64, "2" * 64)
    new = lockfile.from_dict(
        {
            "models": {
                A: {"md5": "a" * 32, "config_sha256": "3" * 64},
                B: {"md5": "b" * 32, "config_sha256": "2" * 64},
            },
        }
    )
    merged = lockinputs.merge_results(new, old)
    assert merged.models[A].tests is None
    assert merged.models[B].tests is not None and merged.models[B].tests.passed == 3
    diffs = lockinputs.differences(lockinputs.inputs_part(old), lockinputs.inputs_part(new))
    assert [d.split(":")[0] for d in diffs] == [f"models.{A}.config_sha256", "settings"]


def example_config() -> Config:
    """The gitml.yaml example.lock was written for (its entries; as parsed)."""
    return Config(
        models=(Model(path="model/model.pkl", name="model", metrics="metrics.json"),),
        data=(Dataset(path="data/wine.csv"),),
    )


def test_an_old_lock_of_the_same_gitml_yaml_is_upgraded_keeping_its_results() -> None:
    """A lock committed before `settings` hashed the whole file: where that is the file now,
    each entry gets its block's hash, so rewriting it keeps every result and writes the new
    layout; where the file changed, which block changed is unknown: the lock is left as is."""
    old = committed()
    assert lockinputs.old_layout(old) and old.config_sha256 is not None
    config = example_config()
    assert lockinputs.upgraded(old, config, "0" * 64) is old
    up = lockinputs.upgraded(old, config, old.config_sha256)
    assert not lockinputs.old_layout(up) and up.settings == confighash.settings_sha256(config)
    assert up.models["model/model.pkl"].config_sha256 == confighash.block_sha256(config.models[0])
    assert up.data["data/wine.csv"].config_sha256 == confighash.block_sha256(config.data[0])
    text = lockfile.serialize(up).decode()
    assert "\nconfig_sha256" not in text and "\nsettings:\n" in text
    assert "\n    config_sha256: " in text  # in each entry
    # inputs computed now (the new layout) match it: its results are kept
    new = inputs_of(up)
    merged = lockinputs.merge_results(dataclasses.replace(new, config_sha256=None), up)
    assert merged.models["model/model.pkl"].tests == old.models["model/model.pkl"].tests


def test_inputs_of_the_new_layout_compare_with_an_old_lock_the_old_way() -> None:
    old = committed()
    assert old.config_sha256 is not None
    up = lockinputs.upgraded(old, example_config(), old.config_sha256)
    now = dataclasses.replace(inputs_of(up), config_sha256=None)
    as_old = lockinputs.in_old_layout(now, old.config_sha256)
    assert lockinputs.differences(lockinputs.inputs_part(old), lockinputs.inputs_part(as_old)) == []
    changed = lockinputs.in_old_layout(now, "0" * 64)
    diffs = lockinputs.differences(lockinputs.inputs_part(old), lockinputs.inputs_part(changed))
    assert [d.split(":")[0] for d in diffs] == ["config_sha256"]
