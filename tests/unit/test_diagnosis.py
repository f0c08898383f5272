"""gitml/diagnosis.py: why a rebuilt model differs from its record, in process, on records
built here (no repo, no rebuild)."""

from __future__ import annotations

from typing import Any

from gitml import dvcfiles
from gitml.config import Config
from gitml.diagnosis import (
    diagnose,
    environment_differences,
    input_differences,
    not_rebuilt,
    seed_differences,
    with_determinism,
)
from gitml.lockfile import Environment, ModelEntry
from gitml.records import read_record

DATA_MD5 = "a" * 32
NEW_DATA_MD5 = "b" * 32
CODE_MD5 = "c" * 32

NOW = {
    "python": "3.11.7",
    "platform": "linux-x86_64",
    "packages": {"numpy": "2.0.0", "pandas": "2.2.0", "pip": "24.0"},
    "hardware": {"cpu": "CPU A", "gpu": None},
}


def rebuilt_project(data_md5: str = DATA_MD5, seed: int = 7) -> dvcfiles.Project:
    """The rebuilt worktree's pipeline: stage train, reading data, code and a param."""
    stage = dvcfiles.Stage(
        "train",
        "dvc.lock",
        "python src/train.py",
        deps=[
            dvcfiles.Dep("data/train.csv", data_md5, "md5"),
            dvcfiles.Dep("src/train.py", CODE_MD5, "md5"),
        ],
        params={"params.yaml": {"train.seed": seed}},
    )
    return dvcfiles.Project(stages={"train": stage})


def model_record(**changes: Any) -> ModelEntry:
    record = {
        "stage": "train",
        "environment": "env1",
        "inputs": {
            "data/train.csv": DATA_MD5,
            "src/train.py": CODE_MD5,
            "params.yaml:train.seed": 7,
        },
    }
    return read_record(ModelEntry, record | changes)


def recorded_env(**changes: Any) -> Environment:
    return read_record(Environment, {**NOW, "seeds": {"params.yaml:train.seed": 7}} | changes)


SEEDED = Config(seeds=("params.yaml:train.seed",))


def kinds(found: list[Any]) -> list[str]:
    return [d["kind"] for d in found]


def test_nothing_different_is_unknown_with_the_hint_of_twice() -> None:
    found = diagnose(
        {"model.pkl": model_record()}, {"env1": recorded_env()}, rebuilt_project(), NOW, SEEDED
    )
    assert kinds(found) == ["unknown"]
    assert "--twice" in found[0]["detail"]


def test_stale_then_inputs_then_seeds_then_environment() -> None:
    inputs = {**(model_record().inputs or {}), "data/train.csv": NEW_DATA_MD5}
    record = model_record(stale=["stage train: src/train.py changed"], inputs=inputs)
    env = recorded_env(python="3.8.0", seeds={"params.yaml:train.seed": None})
    found = diagnose({"model.pkl": record}, {"env1": env}, rebuilt_project(), NOW, Config())
    assert kinds(found) == ["stale", "data", "seed", "seed", "python"]
    assert found[0]["detail"].startswith("model.pkl was recorded stale at this commit")
    assert found[1]["detail"] == "data/train.csv: recorded bbbbbbbbbbbb, rebuilt from aaaaaaaaaaaa"
    assert found[2]["detail"] == "seed not set: params.yaml:train.seed"
    assert found[3]["detail"] == "no seeds declared (gitml.yaml reproduce.seeds)"
    assert found[4]["detail"] == "python 3.8.0 recorded, 3.11.7 now"


def test_two_models_of_one_environment_name_each_difference_once() -> None:
    env = recorded_env(platform="darwin-arm64")
    records = {"a.pkl": model_record(), "b.pkl": model_record()}
    found = diagnose(records, {"env1": env}, rebuilt_project(), NOW, SEEDED)
    assert found == [
        {"kind": "platform", "detail": "platform darwin-arm64 recorded, linux-x86_64 now"}
    ]


def test_a_model_without_an_environment_block_says_so() -> None:
    found = diagnose({"m.pkl": model_record()}, {}, rebuilt_project(), NOW, SEEDED)
    assert found == [
        {"kind": "environment", "detail": "no environment was recorded for this model"}
    ]


def test_no_seeds_declared_and_no_environment_recorded() -> None:
    found = diagnose({"m.pkl": model_record()}, {}, rebuilt_project(), NOW, Config())
    assert kinds(found) == ["seed", "environment"]
    assert found[0]["detail"] == "no seeds declared (gitml.yaml reproduce.seeds)"


def test_inputs_are_named_by_kind_and_what_changed() -> None:
    recorded = {
        "data/train.csv": DATA_MD5,
        "src/train.py": "d" * 32,
        "params.yaml:train.seed": 7,
        "data/old.csv": DATA_MD5,
    }
    found = input_differences(recorded, rebuilt_project(seed=8), "train")
    assert found == [
        {"kind": "data", "detail": "data/old.csv: recorded but no longer an input of stage train"},
        {"kind": "params", "detail": "params.yaml:train.seed: recorded 7, rebuilt from 8"},
        {
            "kind": "code",
            "detail": "src/train.py: recorded dddddddddddd, rebuilt from cccccccccccc",
        },
    ]
    assert input_differences(recorded, rebuilt_project(), "no-such-stage") == []
    assert input_differences(recorded, rebuilt_project(), None) == []


def test_an_input_not_in_the_record() -> None:
    found = input_differences({"data/train.csv": DATA_MD5}, rebuilt_project(), "train")
    assert {
        "kind": "code",
        "detail": "src/train.py: an input of stage train not in the record",
    } in found


def test_environment_differences_most_telling_first() -> None:
    old = recorded_env(
        python="3.10.1",
        platform="linux-aarch64",
        packages={"numpy": "1.0.0", "left-pad": "1.0", "gitml": "0.0.1"},
        hardware={"cpu": "CPU B", "gpu": "A100"},
    )
    found = environment_differences(old, NOW)
    assert found == [
        {"kind": "python", "detail": "python 3.10.1 recorded, 3.11.7 now"},
        {"kind": "packages", "detail": "changed: numpy 1.0.0 -> 2.0.0"},
        {"kind": "packages", "detail": "missing now: left-pad 1.0"},
        {"kind": "packages", "detail": "not recorded: pandas 2.2.0"},  # pip: tooling, not listed
        {"kind": "platform", "detail": "platform linux-aarch64 recorded, linux-x86_64 now"},
        {"kind": "hardware", "detail": "cpu CPU B recorded, CPU A now"},
        {"kind": "hardware", "detail": "gpu A100 recorded, None now"},
    ]
    assert environment_differences(recorded_env(), NOW) == []


def test_seeds_unset_sorted_and_none_declared() -> None:
    block = Environment(seeds={"z.yaml:seed": None, "a.yaml:seed": None, "b.yaml:seed": 3})
    assert [d["detail"] for d in seed_differences(block, SEEDED)] == [
        "seed not set: a.yaml:seed",
        "seed not set: z.yaml:seed",
    ]
    assert kinds(seed_differences(None, Config())) == ["seed"]


def test_twice_puts_nondeterminism_first_and_determinism_last() -> None:
    found = [{"kind": "data", "detail": "x"}]
    varying = with_determinism(found, ["a.pkl", "b.pkl"])  # type: ignore[arg-type]
    assert varying[0] == {
        "kind": "nondeterministic",
        "detail": "two rebuilds here differ from each other: a.pkl, b.pkl",
    }
    assert kinds(with_determinism(found, [])) == ["data", "deterministic"]  # type: ignore[arg-type]


def test_models_added_with_dvc_add_are_named_not_rebuilt() -> None:
    assert not_rebuilt(["raw.pkl"]) == [
        {
            "kind": "not-rebuilt",
            "detail": "raw.pkl is tracked by a .dvc file (dvc add): restorable, not rebuildable",
        }
    ]
