"""A commit's lineage: what its dvc.lock, .dvc files, params and gitml.yaml say, and the
inputs part of the gitml.lock it should carry (gitml/lockfile.py is the file; results are added
by the checks, environments by the commit hook).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from gitml import confighash, dvcconfig, dvcfiles, lockinputs
from gitml.config import CONFIG_FILE, Config, Dataset, Model
from gitml.errors import BadInput
from gitml.fileio import md5_bytes, sha256_bytes
from gitml.formatchoice import model_format
from gitml.lockfile import DataEntry, DirRef, ImportSource, Lock, ModelEntry, rounded
from gitml.metricsfile import read_metrics
from gitml.records import JsonObject, read_record
from gitml.repo import config_at
from gitml.snapshot import Snapshot
from gitml.staleness import Pipeline, find_stale, frozen_stages
from gitml.state import Md5Cache


@dataclass
class Lineage:
    """What one snapshot says: config, DVC project, and the stale stages with their reasons."""

    snap: Snapshot
    config: Config
    project: dvcfiles.Project
    stale: dict[str, list[str]] = field(default_factory=dict)
    # stages dvc.yaml marks `frozen: true` (`dvc freeze`): their deps are not judged
    frozen: frozenset[str] = frozenset()
    # gitml.yaml paths inside a DVC-tracked directory, as outs of their own (see `member_out`)
    members: dict[str, dvcfiles.Out] = field(default_factory=dict)
    # model path -> why its metrics file could not be read, and the fix (see `read_metrics`)
    unread_metrics: dict[str, str] = field(default_factory=dict)
    pipeline: Pipeline = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.snap, self.project)

    def out(self, path: str) -> dvcfiles.Out | None:
        """The DVC out of a path: a .dvc/dvc.lock out, or a member of a tracked directory."""
        return self.project.outs.get(path) or self.members.get(path)

    def stale_reasons(self, stage_name: str | None) -> list[str] | bool:
        """Why the stage, or one upstream of it, is stale; False when none is."""
        if stage_name is None:
            return False
        upstream = self.project.upstream([stage_name], self.frozen)
        reasons = [f"stage {s}: {r}" for s in upstream for r in self.stale.get(s, [])]
        return reasons or False


def read_lineage(snap: Snapshot, config: Config, md5s: Md5Cache | None) -> Lineage:
    snap.prefetch(snap.key_files())
    lin = Lineage(snap, config, dvcfiles.read_project(snap))
    lin.frozen = frozen_stages(lin.pipeline)
    lin.stale = find_stale(lin.pipeline, lin.frozen, md5s)
    return lin


# --- the inputs part -------------------------------------------------------------------------


def inputs(
    lin: Lineage,
    cache_dir: Path | None,
    recorded: Lock | None = None,
    *,
    dvc_cfg: dvcconfig.DvcConfig | None = None,
    previous: Lock | None = None,
    remote: bool = True,
) -> Lock:
    """The inputs part of gitml.lock for this snapshot (`recorded`: a gitml.lock whose
    freshness is being judged; see `_recorded_member` and `read_metrics`). Metrics files DVC
    holds are read through `dvc_cfg` (default: the repository's, with `cache_dir`), from the
    DVC remote too with `remote`; without their bytes, the figures `recorded` (else `previous`,
    the lock being rewritten) read from the same out md5 are kept. Those that cannot be read
    at all are named in `lin.unread_metrics`."""
    if dvc_cfg is None and cache_dir is not None:
        dvc_cfg = dataclasses.replace(dvcconfig.read_config(lin.snap.root), cache_dir=cache_dir)
    kept = recorded if recorded is not None else previous
    models = {}
    for m in lin.config.models:
        known = kept.models.get(m.path) if kept is not None else None
        models[m.path] = _model_entry(lin, m, cache_dir, recorded, known, dvc_cfg, remote)
    data = {d.path: _data_entry(lin, d, cache_dir, recorded) for d in lin.config.data}
    return Lock(models=models, data=data, settings=confighash.settings_sha256(lin.config))


def config_file_sha256(snap: Snapshot) -> str:
    """The sha256 of the snapshot's whole gitml.yaml: what locks recorded before `settings`
    (as their top-level `config_sha256`)."""
    return sha256_bytes(snap.read(CONFIG_FILE) or b"")


def in_current_layout(lock: Lock | None, *snaps: Snapshot | None) -> Lock | None:
    """`lock`, recorded before `settings` (one hash of all of gitml.yaml), with its entries'
    block hashes where it hashed the gitml.yaml of one of `snaps`, tried in order (see
    lockinputs.upgraded): so the first commit after upgrading gitml keeps the results of what
    did not change."""
    for snap in snaps:
        if lock is None or snap is None or not lockinputs.old_layout(lock):
            return lock
        try:
            config = config_at(snap)
        except BadInput:  # told where that gitml.yaml is read for itself
            continue
        if config is not None:
            lock = lockinputs.upgraded(lock, config, config_file_sha256(snap))
    return lock


def _model_entry(
    lin: Lineage,
    m: Model,
    cache_dir: Path | None,
    recorded: Lock | None,
    known: ModelEntry | None,
    dvc_cfg: dvcconfig.DvcConfig | None,
    remote: bool,
) -> ModelEntry:
    out = _hashed(_tracked(lin, m.path, "model", cache_dir, recorded), "model")
    stage = lin.project.stages.get(out.stage) if out.stage else None
    fmt, fmt_from = model_format(m.path, m.format, out, cache_dir)
    read = read_metrics(lin.snap, lin.project, m.metrics, dvc_cfg, known, remote=remote)
    if read.unread:
        lin.unread_metrics[m.path] = read.unread
    return ModelEntry(
        md5=out.md5,
        hash=out.hash,
        size=out.size,
        format=fmt,
        format_from=fmt_from,  # only when told from the bytes: absent otherwise, as in older locks
        dir=_dir_of(lin, m.path),
        stage=out.stage,
        frozen=_frozen(lin, out),
        stale=lin.stale_reasons(out.stage),
        inputs=_stage_inputs(stage),
        cmd=stage.cmd if stage is not None else None,  # as dvc.lock has it: templating resolved
        config_sha256=confighash.block_sha256(m),
        metrics=read.figures,
        metrics_from=read.source,  # absent for a metrics file in git, as in older locks
    )


def _stage_inputs(stage: dvcfiles.Stage | None) -> JsonObject:
    """What the producing stage reads: each dep's hash, each param's value."""
    found: JsonObject = {}
    if stage is not None:
        for dep in stage.deps:
            found[dep.path] = dep.md5
        for pfile, values in stage.params.items():
            for key, value in values.items():
                found[f"{pfile}:{key}"] = rounded(value)
    return found


def _data_entry(
    lin: Lineage, d: Dataset, cache_dir: Path | None, recorded: Lock | None
) -> DataEntry:
    out = _tracked(lin, d.path, "dataset", cache_dir, recorded)
    if d.suite:  # validated: its bytes are read by their hash
        _hashed(out, "dataset")
    suite = _suite_bytes(lin.snap, d)
    return DataEntry(
        md5=out.md5,
        hash=out.hash,
        size=out.size,
        nfiles=out.nfiles,
        dir=_dir_of(lin, d.path),
        source=read_record(ImportSource, out.source) if out.source is not None else None,
        stage=out.stage,
        frozen=_frozen(lin, out),
        stale=lin.stale_reasons(out.stage),
        suite=d.suite,
        suite_sha256=sha256_bytes(suite) if suite is not None else None,
        reader=_reader(d),
        config_sha256=confighash.block_sha256(d),
    )


def _suite_bytes(snap: Snapshot, d: Dataset) -> bytes | None:
    """The dataset's suite as the commit holds it (None: it names none)."""
    if not d.suite:
        return None
    suite = snap.read(d.suite)
    if suite is None:
        raise BadInput(
            f"{CONFIG_FILE}: suite {d.suite!r} of {d.path!r} is not in the commit (git add it)"
        )
    return suite


def _reader(d: Dataset) -> JsonObject | None:
    """How a validated dataset's bytes are read, where it is not the default: absent with the
    defaults (older locks stay fresh), and without a suite."""
    options: JsonObject = {"format": d.format, "read": d.read, "sample": d.sample}
    reader: JsonObject = {k: v for k, v in options.items() if v and v != "auto"}
    return reader if reader and d.suite else None


def _hashed(out: dvcfiles.Out, kind: str) -> dvcfiles.Out:
    """`out`, refused when it has no md5: its bytes could be neither checked nor restored."""
    if out.md5 is None:
        raise BadInput(
            f"{out.origin}: {kind} {out.path!r} has no md5 (run `gitml repro`, or `dvc commit`)"
        )
    return out


def _dir_of(lin: Lineage, path: str) -> DirRef | None:
    """A member of a tracked directory records that directory (absent for any other path)."""
    parent = lin.project.directory_of(path) if path in lin.members else None
    return parent_record(parent) if parent is not None else None


def _frozen(lin: Lineage, out: dvcfiles.Out) -> bool | None:
    """`frozen: true` for what a frozen stage produces (absent otherwise, as in older locks).
    Not for a `dvc import`: DVC writes every import frozen, and gitml does not judge an
    import's source anyway (`source` records it)."""
    return True if out.stage is not None and out.stage in lin.frozen else None


# --- paths inside a DVC-tracked directory ----------------------------------------------------


def member_out(
    parent: dvcfiles.Out, path: str, listing: list[tuple[str, str]]
) -> dvcfiles.Out | None:
    """`path` inside the tracked directory `parent`, as an out of its own: a file by its md5, a
    folder by its part of the listing (hashed as DVC hashes a directory). None: not listed."""
    rel = path[len(parent.path.rstrip("/")) + 1 :].rstrip("/")

    def member(
        md5: str, nbytes: int | None, nfiles: int | None, sub: tuple[tuple[str, str], ...] | None
    ) -> dvcfiles.Out:
        return dvcfiles.Out(
            path, md5, parent.hash, nbytes, nfiles, parent.origin, parent.stage, parent.source, sub
        )

    # No size: a .dir listing has none, and one read from the cache objects would make
    # gitml.lock's inputs depend on what this clone's cache holds (`lock --check` would flip).
    for r, md5 in listing:
        if r == rel:
            return member(md5, None, None, None)
    sub = tuple((r[len(rel) + 1 :], md5) for r, md5 in listing if r.startswith(rel + "/"))
    if not sub:
        return None
    return member(dvcfiles.dir_md5(list(sub)), None, len(sub), sub)


def parent_record(parent: dvcfiles.Out) -> DirRef:
    """What gitml.lock records of the tracked directory a member lies in."""
    return DirRef(path=parent.path, md5=parent.md5)


def _recorded_member(
    parent: dvcfiles.Out, path: str, kind: str, recorded: Lock | None
) -> dvcfiles.Out | None:
    """The member as `recorded` (a gitml.lock) has it, if it was recorded inside this very
    directory: its hashes follow from the directory's, so no listing is needed to judge that
    lock's freshness (`lock --check` where the DVC cache is empty, as in a fork's CI)."""
    if recorded is None:
        return None
    known = (recorded.models if kind == "model" else recorded.data).get(path)
    if known is None or known.dir != parent_record(parent) or not dvcfiles.is_md5(known.md5):
        return None
    count = known.nfiles if isinstance(known, DataEntry) else None
    return dvcfiles.Out(
        path, str(known.md5), parent.hash, None, count, parent.origin, parent.stage, parent.source
    )


def _member(
    lin: Lineage, path: str, kind: str, cache_dir: Path | None, recorded: Lock | None
) -> dvcfiles.Out | None:
    """A gitml.yaml path inside a DVC-tracked directory (`dvc add data/` naming data/train.csv),
    resolved through the directory's `.dir` listing in the local cache (or, to judge the
    freshness of `recorded`, from it, when it was recorded inside the same directory)."""
    if path in lin.members:
        return lin.members[path]
    parent = lin.project.directory_of(path)
    if parent is None or not parent.md5:
        return None
    obj = dvcfiles.object_path(cache_dir, parent.md5, parent.hash) if cache_dir else None
    if obj is None or not obj.is_file():
        out = _recorded_member(parent, path, kind, recorded)
        if out is None:
            raise BadInput(
                f"{CONFIG_FILE}: {kind} {path!r} is inside {parent.path!r}, a DVC-tracked "
                f"directory ({parent.origin}) whose listing {parent.md5} is not in the local DVC "
                f"cache: `dvc pull {parent.origin}`"
            )
    else:
        out = _listed_member(parent, path, kind, obj)
    lin.members[path] = out
    return out


def _listed_member(parent: dvcfiles.Out, path: str, kind: str, listing: Path) -> dvcfiles.Out:
    """`path` as the `.dir` listing (a file of the cache) of its directory names it."""
    try:
        pairs = dvcfiles.read_dir_listing(listing)
    except BadInput as exc:
        raise BadInput(f"{CONFIG_FILE}: {kind} {path!r}: {exc}") from None
    out = member_out(parent, path, pairs)
    if out is None:
        raise BadInput(
            f"{CONFIG_FILE}: {kind} {path!r} is inside {parent.path!r}, a DVC-tracked directory "
            f"({parent.origin}), but its listing has no such file or folder"
        )
    if kind == "model" and out.listing is not None:
        raise BadInput(
            f"{CONFIG_FILE}: model {path!r} is a folder inside the DVC-tracked directory "
            f"{parent.path!r}: a directory model must be an out of its own (`dvc add {path}`, "
            "or a stage out)"
        )
    return out


def _tracked(
    lin: Lineage, path: str, kind: str, cache_dir: Path | None, recorded: Lock | None
) -> dvcfiles.Out:
    out = lin.project.outs.get(path) or _member(lin, path, kind, cache_dir, recorded)
    if out is not None:
        return out
    data = lin.snap.read(path)
    if data is not None:  # git-tracked (e.g. a `cache: false` output)
        return dvcfiles.Out(path, md5_bytes(data), "md5", len(data), None, "git")
    raise BadInput(
        f"{CONFIG_FILE}: {kind} {path!r} is tracked neither by DVC (no .dvc file or dvc.lock out "
        f"names it{' in ' + lin.snap.rev[:12] if lin.snap.rev else ''}) nor by git"
    )
