"""gitml/model_comparison.py and the run's verdict (gitml/reproduce.py): rebuilt models on small
files against their records, in process."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gitml import dvcfiles
from gitml.lockfile import ModelEntry
from gitml.model_comparison import (
    DIFFERENT,
    EQUIVALENT,
    IDENTICAL,
    NOT_REBUILT,
    ModelResult,
    compare_metrics,
    compare_models,
    hash_path,
    hash_rebuilt,
    read_metrics,
)
from gitml.reproduce import run_verdict

MODEL_BYTES = b"model bytes"
RECORDED_MD5 = hashlib.md5(MODEL_BYTES).hexdigest()


@pytest.fixture
def wt(tmp_path: Path) -> Path:
    """A rebuilt worktree: a model and its metrics file."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pkl").write_bytes(MODEL_BYTES)
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.9671234567, "loss": 0.1}))
    return tmp_path


def record(md5: str = RECORDED_MD5, accuracy: float = 0.967123) -> ModelEntry:
    return ModelEntry(md5=md5, stage="train", metrics={"accuracy": accuracy, "loss": 0.1})


def compare(wt: Path, rec: ModelEntry, tolerance: dict[str, float]) -> ModelResult:
    models = {"model/model.pkl": rec}
    rebuilt = hash_rebuilt(wt, models)
    [result] = compare_models(wt, models, rebuilt, {"model/model.pkl": "metrics.json"}, tolerance)
    return result


def test_the_same_bytes_are_identical(wt: Path) -> None:
    result = compare(wt, record(), {})
    assert (result.verdict, result.rebuilt_md5, result.recorded_md5) == (
        IDENTICAL,
        RECORDED_MD5,
        RECORDED_MD5,
    )
    assert result.metrics["accuracy"] == {
        "recorded": 0.967123,
        "rebuilt": 0.967123,  # rounded to 6 significant digits, as gitml.lock records it
        "delta": 0.0,
        "tolerance": None,
        "within": None,
    }


def test_other_bytes_within_tolerance_are_equivalent_else_different(wt: Path) -> None:
    other = record(md5="0" * 32, accuracy=0.97)
    assert compare(wt, other, {"accuracy": 0.005}).verdict == EQUIVALENT
    assert compare(wt, other, {"accuracy": 0.001}).verdict == DIFFERENT
    assert compare(wt, other, {}).verdict == DIFFERENT  # no tolerance: other bytes differ


def test_a_model_the_rebuild_did_not_make_is_different(wt: Path) -> None:
    (wt / "model" / "model.pkl").unlink()
    (wt / "metrics.json").unlink()
    result = compare(wt, record(), {"accuracy": 0.005})
    assert result.rebuilt_md5 is None and result.verdict == DIFFERENT
    assert result.metrics["accuracy"]["rebuilt"] is None


def test_a_model_no_stage_produces_is_not_rebuilt(wt: Path) -> None:
    models = {"model/model.pkl": record(), "raw.pkl": ModelEntry(md5="1" * 32)}
    rebuilt = hash_rebuilt(wt, {"model/model.pkl": record()})
    results = compare_models(wt, models, rebuilt, {}, {})
    assert [(r.path, r.verdict, r.rebuilt_md5) for r in results] == [
        ("model/model.pkl", IDENTICAL, RECORDED_MD5),
        ("raw.pkl", NOT_REBUILT, None),
    ]


def test_a_directory_is_hashed_as_dvc_lists_it(tmp_path: Path) -> None:
    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "m" / "a.bin").write_bytes(b"a")
    (tmp_path / "m" / "sub" / "b.bin").write_bytes(b"b")
    md5 = hash_path(tmp_path / "m", "md5")
    assert md5 == dvcfiles.dir_md5(
        [("a.bin", hashlib.md5(b"a").hexdigest()), ("sub/b.bin", hashlib.md5(b"b").hexdigest())]
    )
    (tmp_path / "m" / "sub" / "b.bin").write_bytes(b"c")
    assert hash_path(tmp_path / "m", "md5") != md5
    assert hash_path(tmp_path / "absent", "md5") is None


def test_metrics_read_from_yaml_and_nothing_without_a_file(tmp_path: Path) -> None:
    (tmp_path / "metrics.yaml").write_text("eval:\n  f1: 0.123456789\n")
    assert read_metrics(tmp_path, "metrics.yaml") == {"eval": {"f1": 0.123457}}
    assert read_metrics(tmp_path, "missing.json") is None
    assert read_metrics(tmp_path, None) is None


def test_nested_metrics_compare_by_dotted_name() -> None:
    table, ok = compare_metrics(
        {"eval": {"f1": 0.9, "n": "x"}}, {"eval": {"f1": 0.91, "n": "x"}}, {"eval.f1": 0.02}
    )
    assert ok and table["eval.f1"]["within"] is True and table["eval.n"]["delta"] is None
    _, ok = compare_metrics({"flag": True}, {"flag": False}, {"flag": 1.0})
    assert not ok  # a boolean is no number: no delta, not within


@pytest.mark.parametrize(
    ("verdicts", "run"),
    [
        ([IDENTICAL, IDENTICAL], IDENTICAL),
        ([IDENTICAL, EQUIVALENT], EQUIVALENT),
        ([EQUIVALENT, DIFFERENT, IDENTICAL], DIFFERENT),
        ([IDENTICAL, NOT_REBUILT], IDENTICAL),  # a dvc-added model does not decide
    ],
)
def test_the_run_has_its_worst_models_verdict(verdicts: list[str], run: str) -> None:
    models = [ModelResult(f"m{i}", None, None, {}, v) for i, v in enumerate(verdicts)]
    assert run_verdict(models) == run
