"""Step 6 of `gitml reproduce`: each rebuilt model against its record in gitml.lock.

gitml hashes the rebuilt outputs itself (as DVC would: `--no-commit` keeps them out of every
cache). A model is `identical` when its bytes are the recorded ones, `equivalent` when they are
not but every metric with a `reproduce.tolerance` is within it, else `different`; a model that
no stage produces (dvc add) is `not rebuildable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from gitml import dvcfiles
from gitml import params as params_mod
from gitml.fileio import md5_file
from gitml.lockfile import ModelEntry, rounded

IDENTICAL, EQUIVALENT, DIFFERENT = "identical", "equivalent", "different"
NOT_REBUILT = "not rebuildable"


class MetricComparison(TypedDict):
    recorded: Any  # a metric's value as its file has it
    rebuilt: Any
    delta: float | None  # rebuilt - recorded, when both are numbers
    tolerance: float | None  # gitml.yaml reproduce.tolerance, when declared for this metric
    within: bool | None  # None without a tolerance


@dataclass
class ModelResult:
    path: str
    recorded_md5: str | None
    rebuilt_md5: str | None
    metrics: dict[str, MetricComparison] = field(default_factory=dict)
    verdict: str = DIFFERENT

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "recorded_md5": self.recorded_md5,
            "rebuilt_md5": self.rebuilt_md5,
            "metrics": self.metrics,
            "verdict": self.verdict,
        }


def hash_rebuilt(wt: Path, rebuildable: Mapping[str, ModelEntry]) -> dict[str, str | None]:
    """{model path: DVC's hash of its rebuilt bytes in `wt`, by the hash its record names}."""
    return {p: hash_path(wt / p, m.hash or "md5") for p, m in rebuildable.items()}


def hash_path(path: Path, hash_name: str) -> str | None:
    """DVC's hash of a rebuilt file or directory; None when there is neither."""
    if path.is_file():
        if hash_name == "md5":
            return md5_file(path)
        return dvcfiles.md5_for(path.read_bytes(), hash_name)
    if path.is_dir():
        entries = []
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            entries.append((f.relative_to(path).as_posix(), hash_path(f, hash_name) or ""))
        return dvcfiles.dir_md5(entries)
    return None


def compare_models(
    wt: Path,
    models: Mapping[str, ModelEntry],
    rebuilt: dict[str, str | None],
    metrics_files: dict[str, str | None],
    tolerance: dict[str, float],
) -> list[ModelResult]:
    """Every recorded model (`models`, path -> record) against what the rebuild made: `rebuilt`
    holds the hashes of those rebuilt; the others are not rebuildable."""
    results = []
    for path, record in models.items():
        if path not in rebuilt:
            results.append(ModelResult(path, record.md5, None, {}, NOT_REBUILT))
            continue
        rebuilt_metrics = read_metrics(wt, metrics_files.get(path))
        results.append(compare_model(path, record, rebuilt[path], rebuilt_metrics, tolerance))
    return results


def compare_model(
    path: str,
    record: ModelEntry,
    rebuilt_md5: str | None,
    rebuilt_metrics: dict[str, Any] | None,
    tolerance: dict[str, float],
) -> ModelResult:
    """One rebuilt model against its record, with its verdict."""
    metrics, within = compare_metrics(record.metrics, rebuilt_metrics, tolerance)
    recorded_md5 = record.md5
    if rebuilt_md5 == recorded_md5:
        verdict = IDENTICAL
    elif within:
        verdict = EQUIVALENT
    else:
        verdict = DIFFERENT
    return ModelResult(path, recorded_md5, rebuilt_md5, metrics, verdict)


def read_metrics(wt: Path, path: str | None) -> dict[str, Any] | None:
    """The metrics file `path` of the rebuilt worktree, rounded as gitml.lock records them."""
    if not path or not (wt / path).is_file():
        return None
    metrics: dict[str, Any] = rounded(params_mod.parse(path, (wt / path).read_bytes()))
    return metrics


def compare_metrics(
    recorded: dict[str, Any] | None, rebuilt: dict[str, Any] | None, tolerance: dict[str, float]
) -> tuple[dict[str, MetricComparison], bool]:
    """Each metric of either side compared; True when every declared tolerance holds (and at
    least one is declared: without one, other bytes are `different`)."""
    rec, new = params_mod.flatten(recorded or {}), params_mod.flatten(rebuilt or {})
    table = {
        name: _compare_metric(rec.get(name), new.get(name), tolerance.get(name))
        for name in sorted(set(rec) | set(new))
    }
    ok = bool(tolerance) and all(n in table and table[n]["within"] for n in tolerance)
    return table, ok


def _compare_metric(recorded: Any, rebuilt: Any, tolerance: float | None) -> MetricComparison:
    delta = None
    if _number(recorded) and _number(rebuilt):
        delta = float(rebuilt) - float(recorded)
    within = None if tolerance is None else (delta is not None and abs(delta) <= tolerance + 1e-12)
    return {
        "recorded": recorded,
        "rebuilt": rebuilt,
        "delta": rounded(delta) if delta is not None else None,
        "tolerance": tolerance,
        "within": within,
    }


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
