"""gitml.lock (schema gitml.lock/1), the file: its records as frozen dataclasses, one parser
(bytes or text -> Lock, BadInput saying what is wrong) and one serialiser (Lock -> the bytes gitml
writes: YAML, keys sorted, except the environment blocks placed by model (gitml/locklayout.py),
floats rounded to 6 significant digits).

What the records mean is DESIGN.md's "gitml.lock" section; how they are computed from a commit is
gitml/lineage.py; which of their fields are the inputs part is gitml/lockinputs.py; a dataset's
`profile` is gitml/lockprofile.py's.

A lock read and written back gives the same bytes:
- keys this gitml does not know (a newer gitml's, or a hand edit) are kept in each record's
  `extra` and written back as they were;
- a known key of the wrong type is refused in a model or dataset entry (nothing that reads the
  lock, the hook, show or restore, is asked to guess), and kept in `extra` in the records inside
  them and in environment blocks, whose fields nothing judges;
- each record read remembers the known keys it had (`written`): one an older gitml wrote, without
  a key gitml writes today, comes back without it. A record made now (`written` None) is written
  with the keys today's gitml writes (its `ALWAYS`, and every other one that is not None).
The one exception: a part (`models`, `data`, `environments`) written as null comes back `{}`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from gitml import dvcfiles, locklayout, paths
from gitml.errors import BadInput, GitmlError
from gitml.fileio import dump_yaml, load_yaml, round_sig
from gitml.lockprofile import Profile as Profile  # the dataset's `profile`
from gitml.records import Json, JsonObject, Record, key, nested, plain, read_record
from gitml.snapshot import Snapshot

LOCK_FILE = "gitml.lock"
SCHEMA = "gitml.lock/1"


_REGENERATE = "it is written by gitml: run `gitml lock` to regenerate it"


def rounded(value: Any) -> Any:
    """Floats to 6 significant digits, recursively, so figures do not churn between machines."""
    if isinstance(value, float):
        return round_sig(value)
    if isinstance(value, dict):
        return {str(k): rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value


# --- the records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DirRef(Record):
    """`dir`: the DVC-tracked directory a gitml.yaml path lies in."""

    path: str | None = key(str)
    md5: str | None = key(str)
    ALWAYS = frozenset({"path", "md5"})


@dataclass(frozen=True)
class MetricsSource(Record):
    """`metrics_from`: the DVC-tracked out holding the metrics file (`out` None: in neither)."""

    file: str | None = key(str)
    out: str | None = key(str)
    md5: str | None = key(str)
    ALWAYS = frozenset({"file", "out", "md5"})


@dataclass(frozen=True)
class ImportSource(Record):
    """`source`: where a `dvc import` (-url) took the data from."""

    url: str | None = key(str)
    rev_lock: str | None = key(str)
    path: str | None = key(str)
    ALWAYS = frozenset({"url", "rev_lock", "path"})


@dataclass(frozen=True)
class ModelTests(Record):
    """`tests`: the model's pytest run, by the hash of its test files, and the data it read;
    `metrics`: the figures the tests recorded (`gitml_metric`), which gates name `tests.NAME`
    (a result, so outside the inputs part `lock --check` compares; absent when none)."""

    passed: int | None = key(int)
    failed: int | None = key(int)
    hash: str | None = key(str)
    data: JsonObject | None = key(dict)
    metrics: JsonObject | None = key(dict)
    ALWAYS = frozenset({"passed", "failed", "hash", "data"})

    @property
    def failed_as_written(self) -> Json:
        """`failed` as the file holds it: a count, or what a hand edit left there (not a count,
        kept in `extra`), so that a truthy one still says the run failed."""
        return self.extra.get("failed", self.failed)


@dataclass(frozen=True)
class Gate(Record):
    """One gate's verdict: its rule, the metric's value, the baseline commit it compared with."""

    rule: str | None = key(str)
    value: float | None = key(int, float)
    baseline: str | None = key(str)
    threshold: float | None = key(int, float)
    passed: bool | None = key(bool)
    ALWAYS = frozenset({"rule", "value", "baseline", "threshold", "passed"})


@dataclass(frozen=True)
class Validation(Record):
    """`validation`: the dataset's great-expectations suite run."""

    success: bool | None = key(bool)
    evaluated: int | None = key(int)
    failed: int | None = key(int)
    sample: Json = key(object)
    ALWAYS = frozenset({"success", "evaluated", "failed"})


@dataclass(frozen=True)
class Hardware(Record):
    cpu: str | None = key(str)
    gpu: str | None = key(str)
    # on a machine with an NVIDIA GPU: the driver, CUDA (nvidia-smi) and cuDNN (torch) versions
    gpu_driver: str | None = key(str)
    cuda: str | None = key(str)
    cudnn: str | None = key(str)
    ALWAYS = frozenset({"cpu", "gpu"})


@dataclass(frozen=True)
class LockfileRef(Record):
    """The repository's dependency lockfile (requirements.lock, uv.lock, ...)."""

    path: str | None = key(str)
    sha256: str | None = key(str)
    ALWAYS = frozenset({"path", "sha256"})


@dataclass(frozen=True)
class Container(Record):
    dockerfile_sha256: str | None = key(str)
    image: str | None = key(str)
    ALWAYS = frozenset({"dockerfile_sha256", "image"})


@dataclass(frozen=True)
class Infrastructure(Record):
    """The repository's infrastructure files the model was built with (`files`: path ->
    sha256, null for one gitml.yaml names that the commit lacks)."""

    files: JsonObject | None = key(dict)

    def file_hashes(self) -> dict[str, str | None]:
        return {str(k): v if isinstance(v, str) else None for k, v in (self.files or {}).items()}


@dataclass(frozen=True)
class Environment(Record):
    """An environment block (`environments.<key>`): what built a model (`captured: build`),
    else the committer's (`captured: commit`)."""

    captured: str | None = key(str)
    python: str | None = key(str)
    platform: str | None = key(str)
    packages: JsonObject | None = key(dict)
    hardware: Hardware | None = nested(Hardware)
    seeds: JsonObject | None = key(dict)
    # the first dependency lockfile; the Dockerfile and the image (GITML_IMAGE_DIGEST) built in
    lockfile: LockfileRef | None = nested(LockfileRef)
    container: Container | None = nested(Container)
    infrastructure: Infrastructure | None = nested(Infrastructure)
    ALWAYS = frozenset({"captured", "python", "platform", "packages", "hardware", "seeds"})

    def infrastructure_files(self) -> dict[str, str | None]:
        """{path: sha256} of the infrastructure files, from the old `lockfile`/`container`
        fields for a block written before `infrastructure`, so the two compare."""
        if self.infrastructure is not None:
            return self.infrastructure.file_hashes()
        files: dict[str, str | None] = {}
        if self.lockfile is not None and self.lockfile.path:
            files[self.lockfile.path] = self.lockfile.sha256
        if self.container is not None and self.container.dockerfile_sha256:
            files["Dockerfile"] = self.container.dockerfile_sha256
        return files

    def image(self) -> str | None:
        return self.container.image if self.container is not None else None


# A stage's reasons to be rebuilt, or whether it is stale (older locks): `stale`.
Stale: TypeAlias = "bool | list[str] | None"


@dataclass(frozen=True)
class ModelEntry(Record):
    """A model (`models.<path>`): its inputs (hashes, stage, params, metrics) and results."""

    md5: str | None = key(str)
    hash: str | None = key(str)
    size: int | None = key(int)
    format: str | None = key(str)
    format_from: str | None = key(str)  # "bytes": told from the cache object's bytes
    dir: DirRef | None = nested(DirRef)
    stage: str | None = key(str)
    frozen: bool | None = key(bool)
    stale: Stale = key(bool, list)
    inputs: JsonObject | None = key(dict)
    cmd: str | list[str] | None = key(str, list)
    config_sha256: str | None = key(str)  # of its gitml.yaml block (gitml/confighash.py)
    metrics: JsonObject | None = key(dict)
    metrics_from: MetricsSource | None = nested(MetricsSource)
    environment: str | None = key(str)
    tests: ModelTests | None = nested(ModelTests)
    gates: list[Gate] | None = nested(Gate, "list")
    ALWAYS = frozenset({"md5", "hash", "size", "format", "stage", "stale", "inputs", "metrics"})

    @property
    def stale_reasons(self) -> list[str]:
        return list(self.stale) if isinstance(self.stale, list) else []

    @property
    def metrics_unread(self) -> str | None:
        """Why the entry has no metrics though it names a metrics file DVC holds that could not
        be read when the lock was written (`metrics_from`); None otherwise."""
        source = self.metrics_from
        if self.metrics is not None or source is None:
            return None
        if not source.out:
            return f"its metrics file {source.file} was tracked neither by git nor by DVC"
        return (
            f"its metrics file {source.file} (inside the DVC-tracked {source.out}, md5 "
            f"{source.md5}) could not be read when gitml.lock was written; fix: "
            f"`dvc pull {source.out}`, then `gitml lock`"
        )


@dataclass(frozen=True)
class DataEntry(Record):
    """A dataset (`data.<path>`): its inputs (hashes, import source, suite) and results."""

    md5: str | None = key(str)
    hash: str | None = key(str)
    size: int | None = key(int)
    nfiles: int | None = key(int)
    dir: DirRef | None = nested(DirRef)
    source: ImportSource | None = nested(ImportSource)
    stage: str | None = key(str)
    frozen: bool | None = key(bool)
    stale: Stale = key(bool, list)
    suite: str | None = key(str)
    suite_sha256: str | None = key(str)
    reader: JsonObject | None = key(dict)  # format/read/sample other than the defaults
    config_sha256: str | None = key(str)  # of its gitml.yaml block (gitml/confighash.py)
    validation: Validation | None = nested(Validation)
    profile: Profile | None = nested(Profile)
    ALWAYS = frozenset(
        {"md5", "hash", "size", "nfiles", "source", "stage", "stale", "suite", "suite_sha256"}
    )


@dataclass(frozen=True)
class Lock(Record):
    """A whole gitml.lock."""

    config_sha256: str | None = key(str)  # of all of gitml.yaml: locks written before `settings`
    models: dict[str, ModelEntry] = nested(ModelEntry, "map")
    data: dict[str, DataEntry] = nested(DataEntry, "map")
    environments: dict[str, Environment] = nested(Environment, "map")
    settings: dict[str, str] | None = key(dict)  # gitml.yaml key: sha256 (gitml/confighash.py)
    # the parents of the merge whose results gitml computed itself (gitml/mergedlock.py)
    merge: list[str] | None = key(list)
    ALWAYS = frozenset({"models", "data", "environments"})

    def environment_of(self, entry: ModelEntry) -> Environment | None:
        """The environment block the model's entry names (None: none, or not recorded)."""
        return self.environments.get(entry.environment) if entry.environment else None

    def with_model(self, path: str, entry: ModelEntry) -> Lock:
        """The lock with `entry` as the model at `path` (its place in the order kept)."""
        return dataclasses.replace(self, models={**self.models, path: entry})

    def with_data(self, path: str, entry: DataEntry) -> Lock:
        """The lock with `entry` as the dataset at `path` (its place in the order kept)."""
        return dataclasses.replace(self, data={**self.data, path: entry})

    def to_dict(self) -> dict[str, Any]:
        """The lock as the plain mapping gitml.lock holds, schema included, a copy of its own:
        what `gitml show --json` prints. Nothing reads lock data from it: read the records."""
        return copy.deepcopy({"schema": SCHEMA, **plain(self)})


# --- reading ---------------------------------------------------------------------------------


def parse(data: bytes | str, name: str = LOCK_FILE) -> Lock:
    """A gitml.lock's text as a Lock; BadInput naming `name` and what is wrong otherwise."""
    try:
        doc = load_yaml(data)
    except Exception as exc:  # yaml errors of either loader, and the bounds of fileio
        raise BadInput(
            f"{name}: not valid YAML ({str(exc).splitlines()[0]}); {_REGENERATE}"
        ) from None
    return from_document(doc, name)


def from_document(doc: Any, name: str = LOCK_FILE) -> Lock:
    """A parsed gitml.lock document, checked for the shape gitml writes, as a Lock."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise BadInput(f"{name}: not a {SCHEMA} manifest; run `gitml lock` to regenerate it")
    problem = shape_problem(doc)
    if problem:
        raise BadInput(f"{name}: {problem}; {_REGENERATE}")
    return from_dict(doc)


def from_dict(doc: Mapping[str, Any]) -> Lock:
    """A lock gitml holds as a plain mapping, as a Lock, unchecked and nothing lost."""
    return read_record(Lock, {k: v for k, v in doc.items() if k != "schema"})


def committed_lock(
    root: Path, commit: str, consequence: str, error: type[GitmlError] = BadInput
) -> tuple[Snapshot, Lock]:
    """The commit's files and its gitml.lock; `error` saying `consequence` without one."""
    snap = Snapshot(root, commit)
    data = snap.read(LOCK_FILE)
    if data is None:
        raise error(
            f"commit {commit[:12]} has no {LOCK_FILE} (made before gitml, or with --no-verify): "
            + consequence
        )
    return snap, parse(data, f"{LOCK_FILE} at {commit[:12]}")


# The types of the entry fields gitml writes (None is allowed for each: an old or partial record).
# Unknown fields are kept and ignored; a known one of another type means the file was not
# written by gitml, and nothing that reads it (show, restore, the hook) is asked to guess.
_ENTRY_FIELDS: dict[str, type | tuple[type, ...]] = {
    "hash": str,
    "size": int,
    "nfiles": int,
    "format": str,
    "stage": str,
    "frozen": bool,
    "stale": (bool, list),
    "inputs": dict,
    "metrics": dict,
    "metrics_from": dict,
    "cmd": (str, list),
    "config_sha256": str,
    "tests": dict,
    "gates": list,
    "environment": str,
    "source": dict,
    "suite": str,
    "suite_sha256": str,
    "reader": dict,
    "validation": dict,
    "profile": dict,
}


def shape_problem(doc: Mapping[str, Any]) -> str | None:
    """What makes a parsed gitml.lock unlike one gitml writes, or None."""
    for part in ("models", "data", "environments"):
        body = doc.get(part)
        if body is not None and not isinstance(body, dict):
            return f"`{part}` must be a mapping"
        for name, entry in (body or {}).items():
            where = f"{part}.{str(name)[:80]}"
            if not isinstance(entry, dict):
                return f"`{where}` must be a mapping"
            problem = None if part == "environments" else _entry_problem(where, name, entry)
            if problem:
                return problem
    return None


def _entry_problem(where: str, path: Any, entry: dict[Any, Any]) -> str | None:
    if not isinstance(path, str) or not _clean_path(path):
        return f"`{where}`: not a clean path inside the repository"
    md5 = entry.get("md5")
    if md5 is not None and not dvcfiles.is_md5(md5):
        return f"`{where}.md5` is not a DVC md5 (32 hex digits)"
    return _field_problem(where, entry)


def _field_problem(where: str, entry: dict[Any, Any]) -> str | None:
    for field_name, kind in _ENTRY_FIELDS.items():
        found = entry.get(field_name)
        if found is not None and not _is_a(found, kind):
            return f"`{where}.{field_name}` has the wrong type ({type(found).__name__})"
    stale = entry.get("stale")
    if isinstance(stale, list) and not all(isinstance(r, str) for r in stale):
        return f"`{where}.stale` must be a list of reasons"
    if not all(isinstance(g, dict) for g in entry.get("gates") or []):
        return f"`{where}.gates` must be a list of mappings"
    return None


def _is_a(found: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(found, kind) and not (kind is int and isinstance(found, bool))


def _clean_path(path: str) -> bool:
    try:
        return paths.normalize(path) == path
    except BadInput:
        return False


# --- writing ---------------------------------------------------------------------------------


def serialize(lock: Lock) -> bytes:
    """The bytes of gitml.lock: the schema line, then the rest, keys sorted, floats rounded, the
    fields that change independently kept apart by blank lines (gitml/locklayout.py)."""
    doc = rounded(plain(lock))
    if doc.get("environments"):
        doc["environments"] = locklayout.placed_by_model(doc["environments"], doc["models"])
    return (f"schema: {SCHEMA}\n" + locklayout.laid_out(dump_yaml(doc))).encode()
