"""One model across the versions of gitml.lock: a row per version where its recorded entry
changed (what `gitml log` shows), and what a version records of its checks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import gtotags, history, hypotheses, registry
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.history import Version
from gitml.hypotheses import Hypothesis, Stated
from gitml.lockfile import LOCK_FILE, Environment, Lock, ModelEntry, ModelTests
from gitml.records import Json, JsonObject


@dataclass(frozen=True)
class ModelRef:
    path: str
    name: str


def models_of(root: Path, lock: Lock | None, wanted: str | None) -> list[ModelRef]:
    """The models to show: gitml.yaml's (names from it), or those the newest lock records."""
    names = _configured_names(root)
    recorded = list(lock.models) if lock is not None else []
    paths = list(names) or list(recorded)
    paths += [p for p in recorded if p not in paths]
    refs = [ModelRef(p, names.get(p) or Path(p).stem) for p in paths]
    return refs if wanted is None else _chosen(refs, wanted)


def _chosen(refs: list[ModelRef], wanted: str) -> list[ModelRef]:
    """The models `wanted` names, by path or name; BadInput listing them all when none."""
    chosen = [r for r in refs if wanted in (r.path, r.name)]
    if not chosen:
        known = ", ".join(f"{r.name} ({r.path})" for r in refs) or "none recorded"
        raise BadInput(f"no model {wanted!r} in {LOCK_FILE} or gitml.yaml; models: {known}")
    return chosen


def _configured_names(root: Path) -> dict[str, str]:
    """{model path: name} of the workspace's gitml.yaml; {} when it cannot be read."""
    try:
        config = repo_mod.workspace_config(repo_mod.Repo(root, root))
    except BadInput:
        return {}
    return {m.path: m.name for m in config.models}


def tags_in_force(root: Path) -> dict[str, list[str]]:
    """{commit: tag names} as the history lists them: a stage tag only while it holds (as GTO
    reads the registry), every other tag as it is."""
    in_force = registry.stage_tags_in_force(registry.read_tags(root))

    def holds(name: str) -> bool:
        parsed = gtotags.parse_tag(name, "")
        return parsed is None or parsed.stage is None or name in in_force

    by_commit = history.tags_by_commit(root)
    return {commit: [n for n in names if holds(n)] for commit, names in by_commit.items()}


def registry_tags(names: list[str], model_name: str) -> list[str]:
    """The GTO tags among `names` that belong to `model_name` (`name@vX.Y.Z`, `name#stage#N`)."""
    return [
        tag
        for tag in sorted(names)
        if (parsed := gtotags.parse_tag(tag, "")) is not None and parsed.model == model_name
    ]


# --- what a version records --------------------------------------------------------------------


def flat_params(inputs: JsonObject | None) -> dict[str, Json]:
    """`params.yaml:train: {seed: 1}` -> {`params.yaml:train.seed`: 1}; other inputs left out."""
    flat: dict[str, Json] = {}

    def walk(prefix: str, value: Json) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        else:
            flat[prefix] = value

    for key, value in (inputs or {}).items():
        if is_param(key):
            walk(key, value)
    return flat


def file_inputs(inputs: JsonObject | None) -> dict[str, Json]:
    """The stage's inputs that are files (code, data): each one's hash."""
    return {k: v for k, v in (inputs or {}).items() if not is_param(k)}


def is_param(key: str) -> bool:
    file, sep, _ = key.partition(":")
    return bool(sep) and file.endswith((".yaml", ".yml", ".json", ".toml", ".py"))


@dataclass(frozen=True)
class Tally:
    passed: int
    failed: int


@dataclass(frozen=True)
class Checks:
    """What a version records of a model's checks: its tests and gates, the validation of the
    datasets, its pipeline's staleness (None, False: not recorded)."""

    tests: Tally | None = None
    gates: Tally | None = None
    validation: Tally | None = None
    stale: bool | list[str] = False

    def _tallies(self) -> dict[str, Tally]:
        found = {"tests": self.tests, "gates": self.gates, "validation": self.validation}
        return {k: t for k, t in found.items() if t is not None}

    @property
    def passed(self) -> bool | None:
        """True when every recorded check passed, False when one failed, None when none is."""
        tallies = self._tallies()
        if not tallies and not self.stale:
            return None
        return not any(t.failed for t in tallies.values()) and not self.stale

    def text(self) -> str:
        parts = [
            f"{key} {t.passed}/{t.passed + t.failed}" + (" FAILED" if t.failed else "")
            for key, t in self._tallies().items()
        ]
        if self.stale:
            parts.append("STALE")
        return ", ".join(parts) or "-"

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {k: dataclasses.asdict(t) for k, t in self._tallies().items()}
        if self.stale:
            found["stale"] = self.stale
        return found


def checks_of(lock: Lock, model_path: str) -> Checks:
    """tests/gates of the model and validation of the datasets, as recorded."""
    entry = lock.models.get(model_path) or ModelEntry()
    validated = [d.validation for d in lock.data.values() if d.validation is not None]
    return Checks(
        tests=_tests_tally(entry.tests),
        gates=_tally([g.passed for g in entry.gates or []]),
        validation=_tally([v.success for v in validated]),
        stale=entry.stale or False,
    )


def _tests_tally(tests: ModelTests | None) -> Tally | None:
    return Tally(tests.passed or 0, tests.failed or 0) if tests is not None else None


def _tally(verdicts: list[bool | None]) -> Tally | None:
    """How many passed and failed; None when there are none (nothing recorded)."""
    ok = sum(1 for v in verdicts if v)
    return Tally(ok, len(verdicts) - ok) if verdicts else None


def cmd_text(cmd: str | list[str] | None) -> str:
    """A stage's command as dvc.lock has it (one string, or a list run in order) as one line."""
    if cmd is None:
        return "-"
    return " && ".join(str(c) for c in cmd) if isinstance(cmd, list) else str(cmd)


# --- one model's versions --------------------------------------------------------------------


@dataclass(frozen=True)
class ModelVersion:
    """A version of gitml.lock where the model's recorded entry changed: a row of `gitml log`."""

    commit: str | None  # None: the staged state
    short: str
    date: str | None
    subject: str | None
    model: str
    name: str
    md5: str | None
    metrics: JsonObject
    metrics_unread: str | None
    params: dict[str, Json]
    cmd: str | list[str] | None
    checks: Checks
    tags: list[str]
    environment: Environment | None
    changed: list[str]
    # the building commit's Hypothesis:/Expected: trailers, judged (judge_hypotheses)
    hypothesis: Hypothesis | None = None

    @property
    def passed(self) -> bool | None:
        return self.checks.passed

    def to_json(self) -> dict[str, Any]:
        """The row of `gitml log --json` (a stable format)."""
        env = self.environment or Environment()
        doc = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {
            **doc,
            "checks": self.checks.to_json(),
            "passed": self.passed,
            "environment": {"python": env.python, "platform": env.platform},
            "hypothesis": self.hypothesis.to_json() if self.hypothesis else None,
        }


def _model_key(lock: Lock, path: str) -> Any:
    """What a version records of the model: its entry and its environment block."""
    entry = lock.models.get(path)
    if entry is None:
        return None
    return (dataclasses.replace(entry, environment=None), lock.environment_of(entry))


def model_history(
    versions: list[Version], model: ModelRef, tags: dict[str, list[str]]
) -> list[ModelVersion]:
    """One row per version where the model's recorded entry changed, newest first."""
    rows = []
    for i, version in enumerate(versions):
        key = _model_key(version.lock, model.path)
        if key is None:
            continue
        older = versions[i + 1] if i + 1 < len(versions) else None
        old_key = _model_key(older.lock, model.path) if older else None
        if older is not None and key == old_key:
            continue
        rows.append(version_row(version, older if old_key is not None else None, model, tags))
    return rows


def version_row(
    version: Version, older: Version | None, model: ModelRef, tags: dict[str, list[str]]
) -> ModelVersion:
    entry = version.lock.models[model.path]
    commit = version.commit
    changed = what_changed(older.lock.models[model.path], entry) if older is not None else ["new"]
    return ModelVersion(
        commit=commit.sha if commit else None,
        short=version.label,
        date=commit.date if commit else None,
        subject=commit.subject if commit else None,
        model=model.path,
        name=model.name,
        md5=entry.md5,
        metrics=entry.metrics or {},
        metrics_unread=entry.metrics_unread,
        params=flat_params(entry.inputs),
        cmd=entry.cmd,
        checks=checks_of(version.lock, model.path),
        tags=registry_tags(tags.get(commit.sha, []) if commit else [], model.name),
        environment=version.lock.environment_of(entry),
        changed=changed,
    )


def judge_hypotheses(root: Path, rows: list[ModelVersion], claims: dict[str, Stated]) -> None:
    """Each row whose commit states a hypothesis (`claims`: sha -> trailers) gets it, judged
    against the model's metrics at the commit's parent."""
    for i, row in enumerate(rows):
        claim = claims.get(row.commit or "")
        if claim:
            parent = hypotheses.parent_metrics(root, row.commit or "", row.model)
            judged = hypotheses.judge(claim, dict(row.metrics), parent)
            rows[i] = dataclasses.replace(row, hypothesis=judged)


def what_changed(old: ModelEntry, new: ModelEntry) -> list[str]:
    """Short names of what differs between two recorded entries of one model."""
    found = ["model"] if old.md5 != new.md5 else []
    found += _changed_keys(flat_params(old.inputs), flat_params(new.inputs))
    found += ["cmd"] if old.cmd != new.cmd else []
    found += _changed_keys(file_inputs(old.inputs), file_inputs(new.inputs))
    found += ["metrics"] if old.metrics != new.metrics else []
    found += ["environment"] if old.environment != new.environment else []
    found += ["tests"] if old.tests != new.tests else []
    found += ["stale"] if old.stale != new.stale else []
    found += ["gates"] if _gate_verdicts(old) != _gate_verdicts(new) else []
    return found


def _changed_keys(old: dict[str, Json], new: dict[str, Json]) -> list[str]:
    return [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def _gate_verdicts(entry: ModelEntry) -> list[tuple[str | None, bool | None]]:
    return [(g.rule, g.passed) for g in entry.gates or []]
