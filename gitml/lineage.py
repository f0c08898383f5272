"""gitml.lock (schema gitml.lock/1): computed from a snapshot, serialised deterministically.

Two parts per entry: the *inputs* (hashes and figures read from the commit's own files; what
`gitml lock --check` compares) and the *results* (what checks found for those inputs; kept as
they are while the inputs do not change, so two machines do not churn them).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import dvcfiles, params, paths, templated
from gitml.config import CONFIG_FILE, Config
from gitml.errors import BadInput, GitmlError
from gitml.fileio import dump_yaml, load_yaml, md5_bytes, round_sig, sha256_bytes
from gitml.snapshot import Snapshot
from gitml.state import Md5Cache

LOCK_FILE = "gitml.lock"
SCHEMA = "gitml.lock/1"
MODEL_INPUT_KEYS = (
    "md5",
    "hash",
    "size",
    "format",
    "format_from",  # "bytes" when gitml.yaml and the suffix left it to the bytes (see model_format)
    "dir",  # for a path inside a tracked directory: that directory's path and md5
    "stage",
    "frozen",  # true when that stage is frozen (`dvc freeze`): absent otherwise
    "stale",
    "inputs",
    "cmd",  # the producing stage's command, as dvc.lock records it (absent: no stage)
    "metrics",
    "metrics_from",  # where DVC holds the metrics file's bytes (absent: in git)
)
DATA_INPUT_KEYS = (
    "md5",
    "hash",
    "size",
    "nfiles",
    "dir",  # for a path inside a tracked directory: that directory's path and md5
    "source",
    "stage",
    "frozen",
    "stale",
    "suite",
    "suite_sha256",
    "reader",  # format/read/sample options other than the defaults: how the bytes are read
)
_MODEL_SUFFIX_FORMATS = {
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".skops": "skops",
    ".onnx": "onnx",
    ".pt": "torch",
    ".pth": "torch",
    ".ubj": "xgboost",
    ".xgb": "xgboost",
    ".keras": "keras",
    ".h5": "keras",
    ".lgb": "lightgbm",
}


def rounded(value: Any) -> Any:
    """Floats to 6 significant digits, recursively, so figures do not churn between machines."""
    if isinstance(value, float):
        return round_sig(value)
    if isinstance(value, dict):
        return {str(k): rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value


def model_format(
    path: str, configured: str, out: dvcfiles.Out | None = None, cache_dir: Path | None = None
) -> tuple[str, str | None]:
    """The model's format and where it came from: (format, None) when gitml.yaml or the path's
    suffix names it; (format, "bytes") when it was told from the bytes of the DVC cache object
    the out's md5 names (never the workspace's: a commit is about its staged hashes). Only for
    `auto` with a suffix that says nothing are bytes read, and only their heads."""
    if configured != "auto":
        return configured, None
    by_suffix = _MODEL_SUFFIX_FORMATS.get(posixpath.splitext(path)[1].lower())
    if by_suffix is not None:
        return by_suffix, None
    if out is None or not out.md5 or cache_dir is None:
        return "unknown", None
    found = _cached_format(out.md5, out.hash, cache_dir)
    # Not in the cache (the hook reports missing objects), or no format in it: unknown, as before.
    return (found, "bytes") if found != "unknown" else ("unknown", None)


def _cached_format(md5: str, hash_name: str, cache_dir: Path) -> str:
    """What the pytest plugin's loaders would take the object for: a file's format from its
    head; a directory's, that of its one model file (none, several, or a member missing from
    the cache: unknown; a TensorFlow SavedModel, which the plugin refuses: unknown)."""
    # Imported here: the plugin is the one place formats are told from bytes; loading it
    # (~35 ms, without pytest: see its head) is for models whose suffix says nothing.
    from gitml.pytest_plugin import sniff_file

    def sniff(digest: str) -> str | None:
        obj = dvcfiles.object_path(cache_dir, digest, hash_name)
        try:
            return sniff_file(obj) if obj.is_file() else None
        except (OSError, ValueError):  # unreadable, or a zip whose directory does not parse
            return "unknown"

    if not md5.endswith(".dir"):
        return sniff(md5) or "unknown"
    try:
        members = dvcfiles.read_dir_listing(dvcfiles.object_path(cache_dir, md5, hash_name))
    except BadInput:  # the listing is absent or corrupt
        return "unknown"
    if any(rel == "saved_model.pb" for rel, _ in members):
        return "unknown"
    found: list[str] = []
    for _rel, member in members:
        detected = sniff(member)
        if detected is None:  # that member could be the model file, or a second one
            return "unknown"
        if detected != "unknown":
            found.append(detected)
            if len(found) > 1:
                return "unknown"
    return found[0] if found else "unknown"


@dataclass
class Lineage:
    """What one snapshot says: config, DVC project, and the stale stages with their reasons."""

    snap: Snapshot
    config: Config
    project: dvcfiles.Project
    stale: dict[str, list[str]] = field(default_factory=dict)
    # stages dvc.yaml marks `frozen: true` (`dvc freeze`): their deps are not judged
    frozen: frozenset[str] = frozenset()
    dvcyaml_stages: dict[str, dict[str, Any] | None] = field(default_factory=dict, repr=False)
    # gitml.yaml paths inside a DVC-tracked directory, as outs of their own (see `members_of`)
    members: dict[str, dvcfiles.Out] = field(default_factory=dict)
    # model path -> why its metrics file could not be read, and the fix (see `read_metrics`)
    unread_metrics: dict[str, str] = field(default_factory=dict)

    def out(self, path: str) -> dvcfiles.Out | None:
        """The DVC out of a path: a .dvc/dvc.lock out, or a member of a tracked directory."""
        return self.project.outs.get(path) or self.members.get(path)


# --- staleness: a stage whose code, params or data changed without `dvc repro` ---------------


def _params_doc(lin: Lineage, pfile: str, cache: dict[str, Any]) -> Any:
    if pfile not in cache:
        data = lin.snap.read(pfile)
        if data is None:
            ws = lin.snap.root / pfile
            data = ws.read_bytes() if (lin.snap.rev is None and ws.is_file()) else None
        cache[pfile] = params.parse(pfile, data) if data is not None else None
    return cache[pfile]


def current_hash(lin: Lineage, path: str, hash_name: str, md5s: Md5Cache | None) -> str | None:
    """The hash a dependency has in this snapshot, computed the way DVC computes it."""
    out = lin.project.outs.get(path)
    if out is not None:
        return out.md5
    snap = lin.snap
    if snap.has(path):
        return dvcfiles.md5_for(snap.read(path) or b"", hash_name)
    below = snap.files_under(path)
    if below:
        snap.prefetch(below)
        rel = len(path.rstrip("/")) + 1
        return dvcfiles.dir_md5(
            [(p[rel:], dvcfiles.md5_for(snap.read(p) or b"", hash_name)) for p in below]
        )
    ws = snap.root / path
    if snap.rev is None and md5s is not None and ws.exists():
        return md5s.hash_path(ws, hash_name)  # neither git- nor DVC-tracked: the workspace file
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def find_stale(lin: Lineage, md5s: Md5Cache | None) -> dict[str, list[str]]:
    """Each stage's reasons to be rebuilt, judged as `dvc status` judges them: a frozen stage's
    deps and params are not looked at (dvc/stage `Stage.status`, `changed_deps`), its cmd is."""
    stale: dict[str, list[str]] = {}
    pcache: dict[str, Any] = {}
    for name, stage in lin.project.stages.items():
        reasons = []
        if name in lin.frozen:
            reasons.extend(_dvcyaml_changes(lin, stage))
            if reasons:
                stale[name] = reasons
            continue
        for dep in stage.deps:
            now = current_hash(lin, dep.path, dep.hash, md5s)
            if now is None:
                reasons.append(f"{dep.path} is missing")
            elif now != dep.md5:
                reasons.append(f"{dep.path} changed")
        for pfile, values in stage.params.items():
            doc = _params_doc(lin, pfile, pcache)
            for key, recorded in values.items():
                value = params.MISSING if doc is None else params.lookup(doc, key)
                if value is params.MISSING:
                    reasons.append(f"{pfile}:{key} was removed")
                elif value != recorded:
                    reasons.append(f"{pfile}:{key} {_short(recorded)} -> {_short(value)}")
        reasons.extend(_dvcyaml_changes(lin, stage))
        if reasons:
            stale[name] = reasons
    for name in _unlocked_stages(lin):
        stale[name] = ["in dvc.yaml but never run (not in dvc.lock)"]
    return stale


def _dvcyaml_stages(lin: Lineage, dvcyaml: str) -> dict[str, Any] | None:
    """A dvc.yaml's stages by the names dvc.lock gives them (`train`, `build@0`), templating
    resolved by DVC's own parser; None when the snapshot has no such dvc.yaml."""
    if dvcyaml not in lin.dvcyaml_stages:
        lin.dvcyaml_stages[dvcyaml] = _read_dvcyaml_stages(lin, dvcyaml)
    return lin.dvcyaml_stages[dvcyaml]


def _read_dvcyaml_stages(lin: Lineage, dvcyaml: str) -> dict[str, Any] | None:
    data = lin.snap.read(dvcyaml)
    if data is None:
        return None
    try:
        doc = load_yaml(data) or {}
    except Exception:
        raise BadInput(f"{dvcyaml}: not valid YAML") from None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return None
    if templated.is_templated(doc, data):
        return templated.resolved_stages(lin.snap, dvcyaml, doc)
    return stages


def _dvcyaml_body(lin: Lineage, stage: dvcfiles.Stage) -> dict[str, Any] | None:
    """The dvc.yaml body of a dvc.lock stage (None: no such stage in dvc.yaml)."""
    dvcyaml = posixpath.join(posixpath.dirname(stage.lockfile), "dvc.yaml")
    stages = _dvcyaml_stages(lin, dvcyaml)
    body = stages.get(stage.name.rsplit(":", 1)[-1]) if stages is not None else None
    return body if isinstance(body, dict) else None


def frozen_stages(lin: Lineage) -> frozenset[str]:
    """The dvc.lock stages whose dvc.yaml body says `frozen: true` (what `dvc freeze` writes)."""
    return frozenset(
        name
        for name, stage in lin.project.stages.items()
        if (body := _dvcyaml_body(lin, stage)) is not None and body.get("frozen") is True
    )


def _dvcyaml_changes(lin: Lineage, stage: dvcfiles.Stage) -> list[str]:
    body = _dvcyaml_body(lin, stage)
    if body is None:
        return []
    cmd = body.get("cmd")
    if cmd is not None and cmd != stage.cmd:
        return ["its cmd in dvc.yaml changed"]
    return []


def _unlocked_stages(lin: Lineage) -> list[str]:
    names = []
    for path in lin.snap.key_files():
        if posixpath.basename(path) != "dvc.yaml":
            continue
        stages = _dvcyaml_stages(lin, path) or {}
        base = posixpath.dirname(path)
        for short, body in stages.items():
            full = f"{base}:{short}" if base else short
            if isinstance(body, dict) and body.get("cmd") and full not in lin.project.stages:
                names.append(full)
    return names


def stale_reasons(lin: Lineage, stage_name: str | None) -> list[str] | bool:
    if stage_name is None:
        return False
    upstream = lin.project.upstream([stage_name], lin.frozen)
    reasons = [f"stage {s}: {r}" for s in upstream for r in lin.stale.get(s, [])]
    return reasons or False


# --- the inputs part -------------------------------------------------------------------------


def read_lineage(snap: Snapshot, config: Config, md5s: Md5Cache | None) -> Lineage:
    snap.prefetch(snap.key_files())
    lin = Lineage(snap, config, dvcfiles.read_project(snap))
    lin.frozen = frozen_stages(lin)
    lin.stale = find_stale(lin, md5s)
    return lin


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


def parent_record(parent: dvcfiles.Out) -> dict[str, Any]:
    """What gitml.lock records of the tracked directory a member lies in."""
    return {"path": parent.path, "md5": parent.md5}


def _recorded_member(
    parent: dvcfiles.Out, path: str, kind: str, recorded: dict[str, Any] | None
) -> dvcfiles.Out | None:
    """The member as `recorded` (a gitml.lock) has it, if it was recorded inside this very
    directory: its hashes follow from the directory's, so no listing is needed to judge that
    lock's freshness (`lock --check` where the DVC cache is empty, as in a fork's CI)."""
    known = ((recorded or {}).get("models" if kind == "model" else "data") or {}).get(path)
    if not isinstance(known, dict) or known.get("dir") != parent_record(parent):
        return None
    md5, nfiles = known.get("md5"), known.get("nfiles")
    if not dvcfiles.is_md5(md5):
        return None
    count = nfiles if isinstance(nfiles, int) and not isinstance(nfiles, bool) else None
    return dvcfiles.Out(
        path, str(md5), parent.hash, None, count, parent.origin, parent.stage, parent.source
    )


def _member(
    lin: Lineage, path: str, kind: str, cache_dir: Path | None, recorded: dict[str, Any] | None
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
        known = _recorded_member(parent, path, kind, recorded)
        if known is not None:
            lin.members[path] = known
            return known
        raise BadInput(
            f"{CONFIG_FILE}: {kind} {path!r} is inside {parent.path!r}, a DVC-tracked directory "
            f"({parent.origin}) whose listing {parent.md5} is not in the local DVC cache: "
            f"`dvc pull {parent.origin}`"
        )
    try:
        listing = dvcfiles.read_dir_listing(obj)
    except BadInput as exc:
        raise BadInput(f"{CONFIG_FILE}: {kind} {path!r}: {exc}") from None
    out = member_out(parent, path, listing)
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
    lin.members[path] = out
    return out


def _tracked(
    lin: Lineage, path: str, kind: str, cache_dir: Path | None, recorded: dict[str, Any] | None
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


@dataclass(frozen=True)
class MetricsRead:
    """A model's metrics file as one snapshot holds it."""

    figures: dict[str, Any] | None
    # Where DVC holds its bytes, as gitml.lock records it (`metrics_from`): {file, out, md5}
    # of the DVC-tracked output (the file itself, or the directory it lies in); None in git.
    source: dict[str, Any] | None = None
    unread: str | None = None  # why the figures could not be read, and the fix


def read_metrics(
    snap: Snapshot,
    project: dvcfiles.Project,
    path: str | None,
    dvc_cfg: dvcfiles.DvcConfig | None,
    recorded: dict[str, Any] | None = None,
    *,
    remote: bool = True,
) -> MetricsRead:
    """The figures of metrics file `path`, read from the bytes the snapshot names: its git
    blob, else the DVC object of the out that holds it (a file out, or a member named by the
    `.dir` listing of a tracked directory: dvclive's `eval/metrics.json`), from the cache, else
    the remote, each hash verified. Without those bytes, `recorded` (the model's entry in a
    gitml.lock being judged) gives the figures if it read them from the very same out md5: so
    `gitml lock --check` without the DVC cache (a fork's CI) does not flip."""
    if not path:
        return MetricsRead(None)
    data = snap.read(path)
    if data is not None:
        return MetricsRead(rounded(params.parse(path, data)))
    holder = project.outs.get(path) or project.directory_of(path)
    if holder is None:
        return MetricsRead(
            None,
            {"file": path, "out": None, "md5": None},
            f"{path} is tracked neither by git nor by DVC (git add it, or make it a stage's "
            "metrics/out)",
        )
    source = {"file": path, "out": holder.path, "md5": holder.md5}
    data, why = _out_file_bytes(snap, holder, path, dvc_cfg, remote)
    if data is not None:
        return MetricsRead(rounded(params.parse(path, data)), source)
    known = recorded or {}
    if known.get("metrics_from") == source and isinstance(known.get("metrics"), dict):
        return MetricsRead(known["metrics"], source)
    return MetricsRead(None, source, f"{path} could not be read: {why}")


def pull_target(out: dvcfiles.Out) -> str:
    """What `dvc pull` takes to fetch `out`: its .dvc file, else its stage."""
    return out.origin if out.origin.endswith(".dvc") else (out.stage or out.path)


def _out_file_bytes(
    snap: Snapshot,
    out: dvcfiles.Out,
    path: str,
    cfg: dvcfiles.DvcConfig | None,
    remote: bool,
) -> tuple[bytes | None, str]:
    """The verified bytes of `path`, the out itself or a file inside the directory out; or
    None and why not (with the fix)."""
    from gitml import objects  # shutil, tempfile: only for metrics DVC holds

    fix = f"`dvc pull {pull_target(out)}`"
    if not out.md5:
        return None, f"{out.origin} records no md5 for {out.path} (run `gitml repro`)"
    if cfg is None:
        return None, f"no DVC cache to read {out.path} from ({fix})"
    md5 = out.md5
    if out.is_dir:
        listing = objects.verified_bytes(cfg, snap.root, out.md5, out.hash, remote=remote)
        if listing is None:
            return None, (
                f"the listing of {out.path} ({out.md5}, named in {out.origin}) is in neither "
                f"the DVC cache nor the remote; fix: {fix}"
            )
        try:
            pairs = dvcfiles.parse_dir_listing(listing, f"{out.md5} ({out.path})")
        except BadInput as exc:
            return None, str(exc)
        rel = path[len(out.path.rstrip("/")) + 1 :]
        member = dict(pairs).get(rel)
        if member is None:
            return None, (
                f"the listing of {out.path} ({out.md5}) has no {rel} (does the stage still "
                "write it? `gitml repro`)"
            )
        md5 = member
    data = objects.verified_bytes(cfg, snap.root, md5, out.hash, remote=remote)
    if data is None:
        return None, (
            f"its object {md5} (in {out.path}, named in {out.origin}) is in neither the DVC "
            f"cache nor the remote, or does not match its hash; fix: {fix}"
        )
    return data, ""


def _hashed(out: dvcfiles.Out, kind: str) -> dvcfiles.Out:
    """`out`, refused when it has no md5: its bytes could be neither checked nor restored."""
    if out.md5 is None:
        raise BadInput(
            f"{out.origin}: {kind} {out.path!r} has no md5 (run `gitml repro`, or `dvc commit`)"
        )
    return out


def _record_dir(lin: Lineage, path: str, entry: dict[str, Any]) -> None:
    """A member of a tracked directory records that directory (absent for any other path)."""
    parent = lin.project.directory_of(path) if path in lin.members else None
    if parent is not None:
        entry["dir"] = parent_record(parent)


def _record_frozen(lin: Lineage, out: dvcfiles.Out, entry: dict[str, Any]) -> None:
    """`frozen: true` for what a frozen stage produces (absent otherwise, as in older locks).
    Not for a `dvc import`: DVC writes every import frozen, and gitml does not judge an
    import's source anyway (`source` records it)."""
    if out.stage is not None and out.stage in lin.frozen:
        entry["frozen"] = True


def inputs(
    lin: Lineage,
    cache_dir: Path | None,
    recorded: dict[str, Any] | None = None,
    *,
    dvc_cfg: dvcfiles.DvcConfig | None = None,
    previous: dict[str, Any] | None = None,
    remote: bool = True,
) -> dict[str, Any]:
    """The inputs part of gitml.lock for this snapshot (`recorded`: a gitml.lock whose
    freshness is being judged; see `_recorded_member` and `read_metrics`). Metrics files DVC
    holds are read through `dvc_cfg` (default: the repository's, with `cache_dir`), from the
    DVC remote too with `remote`; without their bytes, the figures `recorded` (else `previous`,
    the lock being rewritten) read from the same out md5 are kept. Those that cannot be read
    at all are named in `lin.unread_metrics`."""
    if dvc_cfg is None and cache_dir is not None:
        dvc_cfg = dataclasses.replace(dvcfiles.read_config(lin.snap.root), cache_dir=cache_dir)
    kept = recorded if recorded is not None else previous
    models: dict[str, Any] = {}
    for m in lin.config.models:
        out = _hashed(_tracked(lin, m.path, "model", cache_dir, recorded), "model")
        stage = lin.project.stages.get(out.stage) if out.stage else None
        stage_inputs: dict[str, Any] = {}
        if stage is not None:
            for dep in stage.deps:
                stage_inputs[dep.path] = dep.md5
            for pfile, values in stage.params.items():
                for key, value in values.items():
                    stage_inputs[f"{pfile}:{key}"] = rounded(value)
        fmt, fmt_from = model_format(m.path, m.format, out, cache_dir)
        known = ((kept or {}).get("models") or {}).get(m.path)
        read = read_metrics(
            lin.snap,
            lin.project,
            m.metrics,
            dvc_cfg,
            known if isinstance(known, dict) else None,
            remote=remote,
        )
        if read.unread:
            lin.unread_metrics[m.path] = read.unread
        models[m.path] = {
            "md5": out.md5,
            "hash": out.hash,
            "size": out.size,
            "format": fmt,
            "stage": out.stage,
            "stale": stale_reasons(lin, out.stage),
            "inputs": stage_inputs,
            "metrics": read.figures,
        }
        if stage is not None and stage.cmd is not None:
            models[m.path]["cmd"] = stage.cmd  # as dvc.lock has it: templating resolved
        if read.source is not None:  # absent for a metrics file in git, as in older locks
            models[m.path]["metrics_from"] = read.source
        if fmt_from:  # only when told from the bytes: absent otherwise, as in older locks
            models[m.path]["format_from"] = fmt_from
        _record_frozen(lin, out, models[m.path])
        _record_dir(lin, m.path, models[m.path])
    data: dict[str, Any] = {}
    for d in lin.config.data:
        out = _tracked(lin, d.path, "dataset", cache_dir, recorded)
        if d.suite:  # validated: its bytes are read by their hash
            _hashed(out, "dataset")
        suite = lin.snap.read(d.suite) if d.suite else None
        if d.suite and suite is None:
            raise BadInput(
                f"{CONFIG_FILE}: suite {d.suite!r} of {d.path!r} is not in the commit (git add it)"
            )
        data[d.path] = {
            "md5": out.md5,
            "hash": out.hash,
            "size": out.size,
            "nfiles": out.nfiles,
            "source": out.source,
            "stage": out.stage,
            "stale": stale_reasons(lin, out.stage),
            "suite": d.suite,
            "suite_sha256": sha256_bytes(suite) if suite is not None else None,
        }
        _record_dir(lin, d.path, data[d.path])
        _record_frozen(lin, out, data[d.path])
        reader = {"format": d.format, "read": d.read, "sample": d.sample}
        reader = {k: v for k, v in reader.items() if v and v != "auto"}
        if reader and d.suite:  # absent with the defaults: older locks stay fresh
            data[d.path]["reader"] = reader
    config_bytes = lin.snap.read(CONFIG_FILE) or b""
    return {"config_sha256": sha256_bytes(config_bytes), "models": models, "data": data}


def inputs_part(lock: dict[str, Any]) -> dict[str, Any]:
    """The inputs part of a written gitml.lock (what freshness compares)."""
    return {
        "config_sha256": lock.get("config_sha256"),
        "models": {
            p: compared_inputs("models", e)
            for p, e in (lock.get("models") or {}).items()
            if isinstance(e, dict)
        },
        "data": {
            p: compared_inputs("data", e)
            for p, e in (lock.get("data") or {}).items()
            if isinstance(e, dict)
        },
    }


def compared_inputs(part: str, entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's inputs as freshness compares them. A format told from the model's bytes
    (`format_from: bytes`) is compared as `unknown`, what gitml.yaml and the suffix say: it is a
    result of those bytes, which `md5` compares already, and of whether the local cache holds
    them. So a lock written before gitml read formats from bytes (`unknown`) stays fresh, and
    `gitml lock --check` without the cache (a fork's CI, no `dvc pull`) does not flip; a format
    gitml.yaml names is still compared, so changing it re-runs that model's checks."""
    if part != "models":
        return {k: entry.get(k) for k in DATA_INPUT_KEYS}
    found = {k: entry.get(k) for k in MODEL_INPUT_KEYS}
    if found.pop("format_from") == "bytes":
        found["format"] = "unknown"
    return found


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Human lines naming what differs between two inputs parts."""
    lines = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        where = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            lines.extend(differences(a, b, where + "."))
        elif a != b:
            if a is None:
                lines.append(f"{where}: added")
            elif b is None:
                lines.append(f"{where}: removed")
            else:
                lines.append(f"{where}: {_short(a)} -> {_short(b)}")
    return lines


# --- serialisation ---------------------------------------------------------------------------


def parse_lock(data: bytes, name: str = LOCK_FILE) -> dict[str, Any]:
    try:
        doc = load_yaml(data)
    except Exception as exc:
        raise BadInput(
            f"{name}: not valid YAML ({str(exc).splitlines()[0]}); "
            "it is written by gitml: run `gitml lock` to regenerate it"
        ) from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise BadInput(f"{name}: not a {SCHEMA} manifest; run `gitml lock` to regenerate it")
    problem = _shape_problem(doc)
    if problem:
        raise BadInput(
            f"{name}: {problem}; it is written by gitml: run `gitml lock` to regenerate it"
        )
    return doc


# The types of the fields gitml writes (None is allowed for each: an old or partial record).
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


def committed_lock(
    root: Path, commit: str, consequence: str, error: type[GitmlError] = BadInput
) -> tuple[Snapshot, dict[str, Any]]:
    """The commit's files and its gitml.lock, parsed; `error` saying `consequence` without one."""
    snap = Snapshot(root, commit)
    data = snap.read(LOCK_FILE)
    if data is None:
        raise error(
            f"commit {commit[:12]} has no {LOCK_FILE} (made before gitml, or with --no-verify): "
            + consequence
        )
    return snap, parse_lock(data, f"{LOCK_FILE} at {commit[:12]}")


def _shape_problem(doc: dict[str, Any]) -> str | None:
    """What makes a parsed gitml.lock unlike one gitml writes, or None."""
    for part in ("models", "data", "environments"):
        body = doc.get(part)
        if body is not None and not isinstance(body, dict):
            return f"`{part}` must be a mapping"
        for key, entry in (body or {}).items():
            where = f"{part}.{str(key)[:80]}"
            if not isinstance(entry, dict):
                return f"`{where}` must be a mapping"
            if part == "environments":
                continue
            if not isinstance(key, str) or not _clean_path(key):
                return f"`{where}`: not a clean path inside the repository"
            md5 = entry.get("md5")
            if md5 is not None and not dvcfiles.is_md5(md5):
                return f"`{where}.md5` is not a DVC md5 (32 hex digits)"
            for field_name, kind in _ENTRY_FIELDS.items():
                value = entry.get(field_name)
                if value is not None and (
                    not isinstance(value, kind) or (kind is int and isinstance(value, bool))
                ):
                    return f"`{where}.{field_name}` has the wrong type ({type(value).__name__})"
            stale = entry.get("stale")
            if isinstance(stale, list) and not all(isinstance(r, str) for r in stale):
                return f"`{where}.stale` must be a list of reasons"
            gates = entry.get("gates") or []
            if not all(isinstance(g, dict) for g in gates):
                return f"`{where}.gates` must be a list of mappings"
    return None


def _clean_path(path: str) -> bool:
    try:
        return paths.normalize(path) == path
    except BadInput:
        return False


def serialize(lock: dict[str, Any]) -> bytes:
    body = {k: v for k, v in lock.items() if k != "schema"}
    return (f"schema: {SCHEMA}\n" + dump_yaml(rounded(body))).encode()


def merge_results(new_inputs: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """New inputs, with each entry's previous results kept where its inputs did not change."""
    lock: dict[str, Any] = {"schema": SCHEMA, **copy.deepcopy(new_inputs)}
    prev_inputs = inputs_part(previous) if previous else {"models": {}, "data": {}}
    for part in ("models", "data"):
        for path, entry in lock[part].items():
            old = ((previous or {}).get(part) or {}).get(path)
            now = compared_inputs(part, entry)
            if isinstance(old, dict) and prev_inputs[part].get(path) == now:
                keys = MODEL_INPUT_KEYS if part == "models" else DATA_INPUT_KEYS
                entry.update({k: v for k, v in old.items() if k not in keys})
                told = old.get("format") if old.get("format_from") == "bytes" else None
                if entry.get("format") == "unknown" and isinstance(told, str):
                    # The same bytes, told before where the cache held them: kept as a result
                    # is, so a commit made without the object does not churn it to `unknown`.
                    entry["format"], entry["format_from"] = told, "bytes"
    return lock
