"""Why a rebuilt model is not the recorded one: the differences found, most likely cause first.

The order is the contract's: a model recorded stale, then its inputs (data hashes, code,
params) against the rebuilt worktree's dvc.lock, then per environment block the seeds left
unset and the environment (python, packages, platform, hardware). With `--twice`, two rebuilds
that differ from each other go first of all; models that no stage produces come last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from gitml import dvcfiles
from gitml.config import Config
from gitml.environment import NOT_BUILD_PACKAGES
from gitml.lockfile import Environment, Hardware, ModelEntry, rounded
from gitml.records import JsonObject, plain

_CODE_SUFFIXES = (".py", ".R", ".sh", ".ipynb", ".jl", ".scala")


class Difference(TypedDict):
    """One entry of the diagnosis, as `--json` prints it."""

    kind: str  # stale, data, code, params, seed, python, packages, platform, hardware, ...
    detail: str


def _difference(kind: str, detail: str) -> Difference:
    return {"kind": kind, "detail": detail}


_UNKNOWN = (
    "inputs, seeds and environment match the record: try --twice to see whether the pipeline "
    "is deterministic"
)


def diagnose(
    records: Mapping[str, ModelEntry],
    environments: Mapping[str, Environment],
    project: dvcfiles.Project,
    now: dict[str, Any],
    config: Config,
) -> list[Difference]:
    """The differences behind the models `records` (path -> gitml.lock record) that were not
    rebuilt identical: `project` is the rebuilt worktree's pipeline, `now` the environment the
    rebuild ran in. Each difference once; `unknown` when none is found."""
    first: list[Difference] = []
    blocks = []
    for path, record in records.items():
        if record.stale:
            first.append(
                _difference(
                    "stale",
                    f"{path} was recorded stale at this commit "
                    f"(code/params/data changed without `dvc repro`): {record.stale}",
                )
            )
        first.extend(input_differences(record.inputs or {}, project, record.stage))
        blocks.append(environments.get(record.environment) if record.environment else None)
    later: list[Difference] = []
    for block in blocks:
        later.extend(seed_differences(block, config))
        later.extend(environment_differences(block, now))
    return _each_once(first + later) or [_difference("unknown", _UNKNOWN)]


def _each_once(found: list[Difference]) -> list[Difference]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for d in found:
        if (d["kind"], d["detail"]) not in seen:
            seen.add((d["kind"], d["detail"]))
            unique.append(d)
    return unique


def with_determinism(found: list[Difference], varying: list[str]) -> list[Difference]:
    """`found` with what `--twice` saw: the models whose two rebuilds here differ (first), or
    that the two were identical (last)."""
    if varying:
        detail = "two rebuilds here differ from each other: " + ", ".join(varying)
        return [_difference("nondeterministic", detail), *found]
    return [*found, _difference("deterministic", "two rebuilds here are identical to each other")]


def not_rebuilt(paths: list[str]) -> list[Difference]:
    return [
        _difference(
            "not-rebuilt", f"{p} is tracked by a .dvc file (dvc add): restorable, not rebuildable"
        )
        for p in paths
    ]


def input_differences(
    recorded: JsonObject, project: dvcfiles.Project, stage: str | None
) -> list[Difference]:
    """Recorded model inputs against the rebuilt worktree's dvc.lock."""
    if not stage or stage not in project.stages:
        return []
    st = project.stages[stage]
    actual: dict[str, Any] = {d.path: d.md5 for d in st.deps}
    for pfile, values in st.params.items():
        for key, value in values.items():
            actual[f"{pfile}:{key}"] = rounded(value)
    found = []
    for key in sorted(set(recorded) | set(actual)):
        a, b = recorded.get(key), actual.get(key)
        if a == b:
            continue
        if key not in actual:
            detail = f"{key}: recorded but no longer an input of stage {stage}"
        elif key not in recorded:
            detail = f"{key}: an input of stage {stage} not in the record"
        else:
            detail = f"{key}: recorded {_short(a)}, rebuilt from {_short(b)}"
        found.append(_difference(_kind_of_input(key), detail))
    return found


def _kind_of_input(key: str) -> str:
    if ":" in key and not key.startswith("/"):
        return "params"
    if key.endswith(_CODE_SUFFIXES):
        return "code"
    return "data"


def _short(v: Any) -> str:
    s = str(v)
    return s[:12] if isinstance(v, str) and len(s) >= 32 else s[:80]


def seed_differences(recorded: Environment | None, config: Config) -> list[Difference]:
    """The seeds the record says were unset, and none declared in gitml.yaml."""
    seeds = (recorded.seeds if recorded is not None else None) or {}
    unset = sorted(k for k, v in seeds.items() if v is None)
    found = [_difference("seed", f"seed not set: {k}") for k in unset]
    if not config.seeds:
        found.append(_difference("seed", "no seeds declared (gitml.yaml reproduce.seeds)"))
    return found


def environment_differences(recorded: Environment | None, now: dict[str, Any]) -> list[Difference]:
    """The recorded environment block against the one captured now (`environment.capture`'s
    mapping), most telling first."""
    if recorded is None or not plain(recorded):  # none, or an empty block
        return [_difference("environment", "no environment was recorded for this model")]
    return [
        *_python_difference(recorded, now),
        *_package_differences(recorded.packages, now.get("packages")),
        *_platform_difference(recorded, now),
        *_hardware_differences(recorded.hardware, now.get("hardware") or {}),
    ]


def _python_difference(recorded: Environment, now: dict[str, Any]) -> list[Difference]:
    was, is_ = recorded.python, now.get("python")
    if str(was) == str(is_):
        return []
    return [_difference("python", f"python {was} recorded, {is_} now")]


def _package_differences(recorded: Any, now: Any) -> list[Difference]:
    was, is_ = _build_packages(recorded), _build_packages(now)
    changed = [f"{k} {was[k]} -> {is_[k]}" for k in sorted(was) if k in is_ and was[k] != is_[k]]
    removed = [f"{k} {was[k]}" for k in sorted(was) if k not in is_]
    added = [f"{k} {is_[k]}" for k in sorted(is_) if k not in was]
    found = []
    for label, names in (("changed", changed), ("missing now", removed), ("not recorded", added)):
        if names:
            found.append(_difference("packages", f"{label}: " + ", ".join(names)))
    return found


def _build_packages(packages: Any) -> dict[Any, str]:
    """{name: version} of a packages block, without gitml's own tooling."""
    return {k: str(v) for k, v in (packages or {}).items() if k not in NOT_BUILD_PACKAGES}


def _platform_difference(recorded: Environment, now: dict[str, Any]) -> list[Difference]:
    was, is_ = recorded.platform, now.get("platform")
    if was == is_:
        return []
    return [_difference("platform", f"platform {was} recorded, {is_} now")]


def _hardware_differences(recorded: Hardware | None, now: dict[str, Any]) -> list[Difference]:
    was = {"cpu": recorded.cpu, "gpu": recorded.gpu} if recorded is not None else {}
    return [
        _difference("hardware", f"{key} {was.get(key)} recorded, {now.get(key)} now")
        for key in ("cpu", "gpu", "gpu_driver", "cuda", "cudnn")
        if was.get(key) != now.get(key)
    ]


def infrastructure_differences(
    recorded: dict[str, Environment | None], now: Environment
) -> list[Difference]:
    """The infrastructure of the rebuild (`now`: its files at the commit, its image) against
    each model's recorded one (path -> block): a file changed, added or gone, another image."""
    found: list[Difference] = []
    for path, block in recorded.items():
        if block is None:
            continue
        was, is_ = block.infrastructure_files(), now.infrastructure_files()
        # a block written before `infrastructure` named one lockfile and the Dockerfile only
        looked_at = set(was) | set(is_) if block.infrastructure is not None else set(was)
        changed = sorted(f for f in looked_at if was.get(f) != is_.get(f))
        if changed:
            detail = ", ".join(_file_change(f, was.get(f), is_.get(f)) for f in changed)
            found.append(_difference("infrastructure", f"{path}: built with other files: {detail}"))
        if block.image() != now.image() and (block.image() or now.image()):
            found.append(
                _difference(
                    "infrastructure",
                    f"{path}: image {block.image() or 'not recorded'} recorded, "
                    f"{now.image() or 'none given (GITML_IMAGE_DIGEST)'} now",
                )
            )
    return _each_once(found)


def _file_change(path: str, was: str | None, is_: str | None) -> str:
    if was is None:
        return f"{path} (not recorded at the build)"
    if is_ is None:
        return f"{path} (recorded, absent now)"
    return f"{path} (sha256 {was[:12]} recorded, {is_[:12]} now)"
