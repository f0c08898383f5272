"""What changed between two versions of gitml.lock, per model and dataset: the model's bytes,
metrics (with deltas), params, stage command, code and data inputs, checks, staleness and
environment; the dataset's hashes, validation and profile. `gitml diff` and `gitml report`
render it; `to_json()` is `gitml diff --json` (a stable format).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from gitml import params
from gitml.history import STAGED, Version
from gitml.lockfile import DataEntry, Environment, ModelEntry, rounded
from gitml.lockprofile import ColumnProfile, Profile
from gitml.modelhistory import Checks, checks_of, file_inputs, flat_params
from gitml.records import Json, JsonObject, Record, plain, without
from gitml.snapshot import Snapshot


@dataclass(frozen=True)
class Pair:
    """A value on the base side (`old`) and on the other (`new`)."""

    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        return bool(self.old != self.new)

    def to_json(self) -> dict[str, Any]:
        return {"old": _json(self.old), "new": _json(self.new)}


@dataclass(frozen=True)
class MetricDelta:
    old: Json
    new: Json
    delta: float | None  # new - old, where both are numbers

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "delta": self.delta}


# An environment's changes: a Pair per field, or per package / flattened key of a mapping.
EnvironmentDiff = dict[str, "Pair | dict[str, Pair]"]


@dataclass(frozen=True)
class ModelDiff:
    status: str  # added | removed | changed
    md5: Pair
    size: Pair
    metrics: dict[str, MetricDelta]
    metrics_unread: Pair  # why a side has no metrics (None: it has them, or names no file)
    params: dict[str, Pair]
    # the producing stage's command: an input, next to params (a `python train.py data 200`
    # holds its hyperparameter there)
    cmd: Pair
    code: dict[str, Pair]
    data: dict[str, Pair]
    checks: Pair  # of Checks
    stale: Pair
    environment: EnvironmentDiff
    environment_recorded: Pair

    @property
    def changed(self) -> bool:
        """Whether anything but the checks differs."""
        return bool(
            self.md5.changed
            or self.params
            or self.cmd.changed
            or self.code
            or self.data
            or self.environment
            or self.stale.changed
            or any(m.old != m.new for m in self.metrics.values())
        )

    def to_json(self) -> dict[str, Any]:
        return {f.name: _json(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class ColumnDiff:
    """A profile column added, removed, or its figures that changed."""

    added: bool = False
    removed: bool = False
    dtype: str | None = None  # an added column's
    figures: dict[str, Pair] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        if self.removed:
            return {"removed": True}
        if self.added:
            return {"added": True, "dtype": self.dtype}
        return {k: p.to_json() for k, p in self.figures.items()}


@dataclass(frozen=True)
class ProfileDiff:
    rows: Pair | None = None
    columns: dict[str, ColumnDiff] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"rows": self.rows.to_json()} if self.rows else {}
        if self.columns:
            found["columns"] = {c: d.to_json() for c, d in self.columns.items()}
        return found


@dataclass(frozen=True)
class DataDiff:
    status: str  # added | removed | changed
    fields: dict[str, Pair]  # of md5, size, nfiles, validation, source: those that differ
    profile: ProfileDiff

    def to_json(self) -> dict[str, Any]:
        found = {k: p.to_json() for k, p in self.fields.items()}
        if self.profile.rows or self.profile.columns:
            found["profile"] = self.profile.to_json()
        return {**found, "status": self.status}


@dataclass(frozen=True)
class Side:
    rev: str  # a commit sha, or STAGED
    date: str | None
    subject: str | None

    @property
    def name(self) -> str:
        return self.rev[:8] if self.rev != STAGED else STAGED


@dataclass(frozen=True)
class VersionDiff:
    a: Side
    b: Side
    models: dict[str, ModelDiff]
    data: dict[str, DataDiff]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": _json(self.a),
            "b": _json(self.b),
            "models": {p: m.to_json() for p, m in self.models.items()},
            "data": {p: d.to_json() for p, d in self.data.items()},
        }


def _json(value: Any) -> Any:
    """A value of a diff as `gitml diff --json` writes it."""
    if isinstance(value, (Pair, MetricDelta, Checks, ColumnDiff, ProfileDiff)):
        return value.to_json()
    if isinstance(value, Side):
        return {"rev": value.rev, "date": value.date, "subject": value.subject}
    if isinstance(value, Record):
        return plain(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


# --- the diff --------------------------------------------------------------------------------


def diff_versions(a: Version, b: Version) -> VersionDiff:
    """Everything that differs between versions `a` (base) and `b`, per model and dataset."""
    models = {path: model_diff(a, b, path) for path in _union(a.lock.models, b.lock.models)}
    data = {}
    for path in _union(a.lock.data, b.lock.data):
        found = data_diff(a.lock.data.get(path), b.lock.data.get(path))
        if found is not None:
            data[path] = found
    return VersionDiff(_side(a), _side(b), models, data)


def _union(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The keys of `a`, then those only `b` has."""
    return list(a) + [k for k in b if k not in a]


def _status(old: object | None, new: object | None) -> str:
    return "added" if old is None else "removed" if new is None else "changed"


def _side(v: Version) -> Side:
    c = v.commit
    return Side(c.sha if c else STAGED, c.date if c else None, c.subject if c else None)


def model_diff(a: Version, b: Version, path: str) -> ModelDiff:
    """What differs in the model at `path` between versions `a` and `b`."""
    found_old, found_new = a.lock.models.get(path), b.lock.models.get(path)
    old, new = found_old or ModelEntry(), found_new or ModelEntry()
    deps = _changed_map(file_inputs(old.inputs), file_inputs(new.inputs))
    code = {k: v for k, v in deps.items() if _is_code(k, [a.snap, b.snap])}
    return ModelDiff(
        status=_status(found_old, found_new),
        md5=Pair(old.md5, new.md5),
        size=Pair(old.size, new.size),
        metrics=metric_deltas(old.metrics, new.metrics),
        metrics_unread=Pair(old.metrics_unread, new.metrics_unread),
        params=_changed_map(flat_params(old.inputs), flat_params(new.inputs)),
        cmd=Pair(old.cmd, new.cmd),
        code=code,
        data={k: v for k, v in deps.items() if k not in code},
        checks=Pair(checks_of(a.lock, path), checks_of(b.lock, path)),
        stale=Pair(old.stale or False, new.stale or False),
        environment=environment_diff(a.lock.environment_of(old), b.lock.environment_of(new)),
        environment_recorded=Pair(
            old.environment in a.lock.environments, new.environment in b.lock.environments
        ),
    )


def data_diff(old: DataEntry | None, new: DataEntry | None) -> DataDiff | None:
    """What differs in a dataset's entry between two versions; None when nothing does."""
    before, after = old or DataEntry(), new or DataEntry()
    fields = {}
    for name in ("md5", "size", "nfiles", "validation", "source"):
        pair = Pair(_as_json(getattr(before, name)), _as_json(getattr(after, name)))
        if pair.changed:
            fields[name] = pair
    profile = profile_diff(before.profile, after.profile)
    if not fields and not profile.rows and not profile.columns:
        return None
    return DataDiff(_status(old, new), fields, profile)


def _as_json(value: Any) -> Any:
    """A record as the file holds it (keys sorted), other values as they are."""
    return dict(sorted(plain(value).items())) if isinstance(value, Record) else value


def _number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def metric_deltas(old: JsonObject | None, new: JsonObject | None) -> dict[str, MetricDelta]:
    """Every metric of either side: old, new, delta (new - old) where both are numbers."""
    fo, fn = params.flatten(old or {}), params.flatten(new or {})
    found = {}
    for key in sorted(set(fo) | set(fn)):
        a, b = fo.get(key), fn.get(key)
        delta = rounded(float(b) - float(a)) if _number(a) and _number(b) else None
        found[key] = MetricDelta(a, b, delta)
    return found


def _changed_map(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Pair]:
    return {
        k: Pair(old.get(k), new.get(k))
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    }


def _is_code(path: str, snaps: list[Snapshot | None]) -> bool:
    return any(s is not None and (s.has(path) or bool(s.files_under(path))) for s in snaps)


def environment_diff(old: Environment | None, new: Environment | None) -> EnvironmentDiff:
    """The fields, packages and figures (hardware, seeds, infrastructure) that differ; nothing
    when a side records no environment."""
    found: EnvironmentDiff = {}
    if old is None or new is None:
        return found
    for name in ("python", "platform", "captured"):
        pair = Pair(getattr(old, name), getattr(new, name))
        if pair.changed:
            found[name] = pair
    packages = _changed_map(old.packages or {}, new.packages or {})
    if packages:
        found["packages"] = packages
    for name in ("hardware", "seeds"):
        changed = _changed_map(_flat(getattr(old, name)), _flat(getattr(new, name)))
        if changed:
            found[name] = changed
    infrastructure = _changed_map(_infrastructure(old), _infrastructure(new))
    if infrastructure:
        found["infrastructure"] = infrastructure
    return found


def _infrastructure(env: Environment) -> dict[str, Any]:
    """Files by path and the image, read alike from blocks written before `infrastructure`."""
    return {**env.infrastructure_files(), "image": env.image()}


def _flat(value: Record | JsonObject | None) -> dict[str, Any]:
    return params.flatten(_as_json(value) or {})


def profile_diff(old: Profile | None, new: Profile | None) -> ProfileDiff:
    """rows, and per column: added/removed, dtype, nulls and summary figures that changed."""
    old, new = old or Profile(), new or Profile()
    rows = Pair(old.rows, new.rows)
    oc, nc = old.columns or {}, new.columns or {}
    columns: dict[str, ColumnDiff] = {}
    for col in _union(oc, nc):
        if col not in nc:
            columns[col] = ColumnDiff(removed=True)
        elif col not in oc:
            columns[col] = ColumnDiff(added=True, dtype=nc[col].dtype)
        elif changed := _changed_map(_figures(oc[col]), _figures(nc[col])):
            columns[col] = ColumnDiff(figures=changed)
    return ProfileDiff(rows if rows.changed else None, columns)


def _figures(column: ColumnProfile) -> dict[str, Any]:
    """A profile column's figures, flattened, without its histogram (drift's bins: counts
    that change whenever the data does, which the figures already say)."""
    return params.flatten(plain(without(column, "histogram")))
