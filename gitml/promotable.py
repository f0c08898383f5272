"""What `gitml promote NAME` (and `rollback`) names at a commit, and whether gitml checks it.

A model of gitml.yaml (by its name or path) is gated: gitml.lock at the commit records its
checks, and they must have passed. GTO tags any artifact, so a GTO user also promotes one that
only dvc.yaml `artifacts:` or GTO's artifacts.yaml declares (by GTO's name, `dir:name` for a
nested dvc.yaml): it is tagged the same way, and gitml's recorded checks apply to it only when
gitml.lock at the commit records its path; otherwise it is tagged unchecked, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gitml import gtofiles, lockfile
from gitml.config import Config, Model
from gitml.errors import BadInput, CheckFailed
from gitml.lockfile import LOCK_FILE, Lock
from gitml.registrysource import Source

GITML_YAML = "gitml.yaml"


@dataclass(frozen=True)
class Target:
    """The model a promotion tags: gitml.yaml's, or an artifact another file declares."""

    model: Model  # a declared artifact: its GTO name and path (and gitml.yaml's checks of it)
    declared_in: str  # "gitml.yaml", a dvc.yaml, or artifacts.yaml
    gitml_name: str | None = None  # the name gitml.yaml gives its path, if it lists the path

    @property
    def gated(self) -> bool:
        """gitml.yaml lists its path: its lock records checks that must have passed."""
        return self.gitml_name is not None


@dataclass(frozen=True)
class Record:
    """What the promoted commit recorded of the target, and whether gitml's checks apply."""

    config: Config
    lock: Lock | None
    checked: bool
    note: str | None  # for a declared artifact: whether gitml's checks applied, and why


def _declared(source: Source) -> list[gtofiles.Declared]:
    where = source.rev[:12] if source.rev else "HEAD"
    in_yaml, _ = gtofiles.in_artifacts_yaml(source.artifacts_yaml(), where)
    return [*gtofiles.in_dvc_yamls(source.dvcyamls()), *in_yaml]


def _as_declared(
    declared: list[gtofiles.Declared], models: tuple[Model, ...], wanted: str
) -> Target | None:
    """The declared artifact `wanted` names; one whose path gitml.yaml lists (by another name)
    is checked as that model."""
    d = next((d for d in declared if d.name == wanted), None)
    if d is None:
        return None
    listed = next((m for m in models if d.path and m.path == d.path), None)
    if listed is not None:
        return Target(replace(listed, name=d.name), d.source, listed.name)
    return Target(Model(path=d.path or "", name=d.name), d.source)


def find(source: Source, wanted: str) -> Target:
    """The model `wanted` names in the files of `source` (a commit, or the workspace)."""
    config = source.config()
    models = config.models if config else ()
    listed = next((m for m in models if wanted in (m.name, m.path)), None)
    if listed is not None:
        return Target(listed, GITML_YAML, listed.name)
    declared = _declared(source)
    target = _as_declared(declared, models, wanted)
    if target is not None:
        return target
    where = source.rev[:12] if source.rev else "the workspace"
    known = [f"{m.name} ({m.path})" for m in models] + [f"{d.name} ({d.source})" for d in declared]
    raise BadInput(
        f"no model {wanted!r} in gitml.yaml, dvc.yaml `artifacts:` or artifacts.yaml at {where}; "
        f"models: {', '.join(known) or 'none'}"
    )


def _gated(source: Source, commit: str, config: Config, target: Target) -> Record:
    """A target gitml.yaml lists: its lock must be there (CheckFailed) and is checked."""
    consequence = "nothing says its checks passed, so it is not promoted"
    _, lock = lockfile.committed_lock(source.root, commit, consequence, CheckFailed)
    if target.declared_in == GITML_YAML:
        return Record(config, lock, True, None)
    note = (
        f"{target.model.name} is declared in {target.declared_in}; its path {target.model.path} "
        f"is gitml.yaml's model {target.gitml_name}, so the checks {LOCK_FILE} records of it "
        "applied"
    )
    return Record(config, lock, True, note)


def committed(source: Source, target: Target) -> Record:
    """What the commit of `source` recorded: a gated target needs its gitml.lock (CheckFailed
    without one); another declared artifact is checked only if the lock records its path."""
    commit = source.rev
    assert commit is not None
    config = source.config() or Config()
    if target.gated:
        return _gated(source, commit, config, target)
    name, path = target.model.name, target.model.path
    data = source.read(LOCK_FILE)
    lock = lockfile.parse(data, f"{LOCK_FILE} at {commit[:12]}") if data else None
    if lock is not None and path in lock.models:
        note = f"{name} is declared in {target.declared_in}; {LOCK_FILE} records {path}"
        return Record(config, lock, True, note + ", so the checks it records applied")
    note = (
        f"not checked by gitml: {name} is declared in {target.declared_in}, not in gitml.yaml, "
        f"and {LOCK_FILE} at {commit[:12]} records no model {path or '(no path)'}: tagged as "
        "GTO tags it (list it in gitml.yaml's `models:` to gate its promotion)"
    )
    return Record(config, lock, False, note)
