"""gitml.lock across history, and what changed between two of its versions.

Reads every version of gitml.lock without checking anything out: one `git log` for the commits
that touched it, one `git cat-file --batch` for their contents, YAML through the C loader with
the (large, rarely changing) environment blocks parsed once per distinct text. Pure data in,
data out: the commands in gitml/commands/{log,diff,report}.py render it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from gitml import git, manifest, params, registry
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.fileio import load_yaml
from gitml.lockfile import LOCK_FILE
from gitml.output import warn
from gitml.snapshot import Snapshot

STAGED = "staged"
_TOP_KEY = re.compile(rb"^[A-Za-z_][\w-]*:", re.MULTILINE)
_ENV_KEY = re.compile(rb"^  [^ \n#][^\n]*:[ \n]", re.MULTILINE)


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str  # committer date, ISO 8601
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:8]


@dataclass
class Version:
    """One state of gitml.lock: a commit's, or the staged one (`commit` None)."""

    commit: Commit | None
    lock: dict[str, Any]
    snap: Snapshot | None = None

    @property
    def label(self) -> str:
        return self.commit.short if self.commit else STAGED


# --- reading gitml.lock fast -----------------------------------------------------------------


@dataclass
class LockParser:
    """Parses gitml.lock texts, reusing the parse of an environment block seen before."""

    envs: dict[bytes, Any] = field(default_factory=dict)
    whole: dict[bytes, dict[str, Any]] = field(default_factory=dict)

    def parse(self, data: bytes, name: str) -> dict[str, Any]:
        if data in self.whole:
            return self.whole[data]
        try:
            doc = self._split_parse(data)
        except (yaml.YAMLError, ValueError, TypeError):
            doc = None  # not the layout gitml writes: the whole text, checked
        # The split parse skips parse_lock's shape check, not the check itself: a text it read
        # that gitml would not have written (an entry that is no mapping, a path that climbs out,
        # an md5 that is not one) goes the checked way too, so log refuses it as show does.
        if doc is None or doc.get("schema") != manifest.SCHEMA or manifest._shape_problem(doc):
            doc = manifest.parse_lock(data, name)  # the slow, checked path (and its message)
        self.whole[data] = doc
        return doc

    def _split_parse(self, data: bytes) -> dict[str, Any] | None:
        starts = [m.start() for m in _TOP_KEY.finditer(data)]
        if not starts or starts[0] != 0:
            return None
        doc: dict[str, Any] = {}
        for begin, end in zip(starts, starts[1:] + [len(data)], strict=True):
            section = data[begin:end]
            if section.startswith(b"environments:\n"):
                doc["environments"] = self._environments(section[len(b"environments:\n") :])
            else:
                part = load_yaml(section)
                if not isinstance(part, dict):
                    return None
                doc.update(part)
        return doc

    def _environments(self, body: bytes) -> dict[str, Any]:
        starts = [m.start() for m in _ENV_KEY.finditer(body)]
        if not starts:
            return {}
        if starts[0] != 0:
            raise ValueError("unexpected environments layout")
        envs: dict[str, Any] = {}
        for begin, end in zip(starts, starts[1:] + [len(body)], strict=True):
            block = body[begin:end]
            if block not in self.envs:
                parsed = load_yaml(block)
                if not isinstance(parsed, dict) or len(parsed) != 1:
                    raise ValueError("unexpected environment block")
                self.envs[block] = parsed
            envs.update(self.envs[block])
        return envs


def read_objects(root: Path, names: list[str]) -> list[bytes | None]:
    """Objects by name (`<sha>:<path>` works) through one cat-file process; None when missing."""
    if not names:
        return []
    proc = git.run(["cat-file", "--batch"], root, input=("\n".join(names) + "\n").encode())
    data, pos = proc.stdout, 0
    found: list[bytes | None] = []
    for _ in names:
        eol = data.index(b"\n", pos)
        header = data[pos:eol].split()
        if len(header) < 3 or header[-1] == b"missing":
            found.append(None)
            pos = eol + 1
            continue
        size = int(header[2])
        found.append(data[eol + 1 : eol + 1 + size])
        pos = eol + 1 + size + 1
    return found


def lock_commits(root: Path, rev: str = "HEAD") -> list[Commit]:
    """The commits reachable from `rev` that changed gitml.lock, newest first."""
    proc = git.run(
        ["log", "--format=%H%x1f%cI%x1f%s%x1e", "--end-of-options", rev, "--", LOCK_FILE],
        root,
    )
    commits = []
    for record in proc.stdout.decode(errors="replace").split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        if len(fields) == 3:
            commits.append(Commit(*fields))
    return commits


def lock_history(root: Path, rev: str = "HEAD") -> list[Version]:
    """Every version of gitml.lock in the history of `rev`, newest first."""
    commits = lock_commits(root, rev)
    blobs = read_objects(root, [f"{c.sha}:{LOCK_FILE}" for c in commits])
    parser = LockParser()
    versions = []
    for commit, data in zip(commits, blobs, strict=True):
        if data is None:  # the commit deleted gitml.lock
            continue
        try:
            versions.append(Version(commit, parser.parse(data, f"{LOCK_FILE} at {commit.short}")))
        except BadInput as exc:
            # History cannot be rewritten: one unreadable or ill-shaped lock (hand-edited,
            # committed with --no-verify) must not make the whole log unusable for good. It is
            # left out, said once; `gitml show` of that commit still refuses it.
            warn(f"{exc}; that version is left out")
    return versions


def tags_by_commit(root: Path) -> dict[str, list[str]]:
    """{commit sha: [tag names]} for every tag, annotated tags peeled (GTO's are annotated)."""
    out = git.out(
        [
            "for-each-ref",
            "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)",
            "refs/tags",
        ],
        root,
    )
    tags: dict[str, list[str]] = {}
    for line in out.splitlines():
        name, obj, peeled = (line.split("\t") + ["", ""])[:3]
        tags.setdefault(peeled or obj, []).append(name)
    return tags


def registry_tags(names: list[str], model_name: str) -> list[str]:
    """The GTO tags among `names` that belong to `model_name` (`name@vX.Y.Z`, `name#stage#N`)."""
    return [
        tag
        for tag in sorted(names)
        if (parsed := registry.parse_tag(tag, "")) is not None and parsed.model == model_name
    ]


# --- one model's history ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRef:
    path: str
    name: str


def models_of(root: Path, lock: dict[str, Any] | None, wanted: str | None) -> list[ModelRef]:
    """The models to show: gitml.yaml's (names from it), or those the newest lock records."""
    names: dict[str, str] = {}
    try:
        config = repo_mod.workspace_config(repo_mod.Repo(root, root))
        names = {m.path: m.name for m in config.models}
    except BadInput:
        pass
    paths = list(names) or list((lock or {}).get("models") or {})
    for path in (lock or {}).get("models") or {}:
        if path not in paths:
            paths.append(path)
    refs = [ModelRef(p, names.get(p) or Path(p).stem) for p in paths]
    if wanted is None:
        return refs
    chosen = [r for r in refs if wanted in (r.path, r.name)]
    if not chosen:
        known = ", ".join(f"{r.name} ({r.path})" for r in refs) or "none recorded"
        raise BadInput(f"no model {wanted!r} in {LOCK_FILE} or gitml.yaml; models: {known}")
    return chosen


def flat_params(inputs: dict[str, Any] | None) -> dict[str, Any]:
    """`params.yaml:train: {seed: 1}` -> {`params.yaml:train.seed`: 1}; other inputs left out."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        else:
            flat[prefix] = value

    for key, value in (inputs or {}).items():
        if is_param(key):
            walk(key, value)
    return flat


def is_param(key: str) -> bool:
    file, sep, _ = key.partition(":")
    return bool(sep) and file.endswith((".yaml", ".yml", ".json", ".toml", ".py"))


def checks_of(lock: dict[str, Any], model_path: str) -> dict[str, Any]:
    """tests/gates of the model and validation of the datasets, as recorded (absent: missing)."""
    entry = (lock.get("models") or {}).get(model_path) or {}
    found: dict[str, Any] = {}
    tests = entry.get("tests")
    if isinstance(tests, dict):
        found["tests"] = {"passed": tests.get("passed", 0), "failed": tests.get("failed", 0)}
    gates = entry.get("gates")
    if isinstance(gates, list) and gates:
        ok = sum(1 for g in gates if isinstance(g, dict) and g.get("passed"))
        found["gates"] = {"passed": ok, "failed": len(gates) - ok}
    validated = [
        (p, d["validation"])
        for p, d in (lock.get("data") or {}).items()
        if isinstance(d, dict) and isinstance(d.get("validation"), dict)
    ]
    if validated:
        ok = sum(1 for _, v in validated if v.get("success"))
        found["validation"] = {"passed": ok, "failed": len(validated) - ok}
    if entry.get("stale"):
        found["stale"] = entry["stale"]
    return found


def checks_passed(checks: dict[str, Any]) -> bool | None:
    """True when every recorded check passed, False when one failed, None when none recorded."""
    if not checks:
        return None
    failed = any(isinstance(v, dict) and v.get("failed") for v in checks.values())
    return not failed and not checks.get("stale")


def checks_text(checks: dict[str, Any]) -> str:
    if not checks:
        return "-"
    parts = []
    for key in ("tests", "gates", "validation"):
        c = checks.get(key)
        if c:
            total = c["passed"] + c["failed"]
            parts.append(f"{key} {c['passed']}/{total}" + (" FAILED" if c["failed"] else ""))
    if checks.get("stale"):
        parts.append("STALE")
    return ", ".join(parts)


def _model_key(lock: dict[str, Any], path: str) -> Any:
    entry = (lock.get("models") or {}).get(path)
    if not isinstance(entry, dict):
        return None
    env = (lock.get("environments") or {}).get(entry.get("environment"))
    return ({k: v for k, v in entry.items() if k != "environment"}, env)


def model_history(
    versions: list[Version], model: ModelRef, tags: dict[str, list[str]]
) -> list[dict[str, Any]]:
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
) -> dict[str, Any]:
    entry = version.lock["models"][model.path]
    commit = version.commit
    checks = checks_of(version.lock, model.path)
    env = (version.lock.get("environments") or {}).get(entry.get("environment")) or {}
    changed = (
        what_changed(older.lock["models"][model.path], entry) if older is not None else ["new"]
    )
    return {
        "commit": commit.sha if commit else None,
        "short": version.label,
        "date": commit.date if commit else None,
        "subject": commit.subject if commit else None,
        "model": model.path,
        "name": model.name,
        "md5": entry.get("md5"),
        "metrics": entry.get("metrics") or {},
        "metrics_unread": metrics_unread(entry),
        "params": flat_params(entry.get("inputs")),
        "cmd": entry.get("cmd"),
        "checks": checks,
        "passed": checks_passed(checks),
        "tags": registry_tags(tags.get(commit.sha, []) if commit else [], model.name),
        "environment": {"python": env.get("python"), "platform": env.get("platform")},
        "changed": changed,
    }


def metrics_unread(entry: dict[str, Any]) -> str | None:
    """Why a recorded model entry has no metrics though it names a metrics file DVC holds
    (`metrics_from`) that could not be read when the lock was written; None otherwise."""
    source = entry.get("metrics_from")
    if entry.get("metrics") is not None or not isinstance(source, dict):
        return None
    file, out = source.get("file"), source.get("out")
    if not out:
        return f"its metrics file {file} was tracked neither by git nor by DVC"
    return (
        f"its metrics file {file} (inside the DVC-tracked {out}, md5 {source.get('md5')}) could "
        f"not be read when gitml.lock was written; fix: `dvc pull {out}`, then `gitml lock`"
    )


def cmd_text(cmd: Any) -> str:
    """A stage's command as dvc.lock has it (one string, or a list run in order) as one line."""
    if cmd is None:
        return "-"
    return " && ".join(str(c) for c in cmd) if isinstance(cmd, list) else str(cmd)


def _gate_verdicts(entry: dict[str, Any]) -> list[Any]:
    gates = entry.get("gates")
    if not isinstance(gates, list):
        return []
    return [(g.get("rule"), g.get("passed")) for g in gates if isinstance(g, dict)]


def what_changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Short names of what differs between two recorded entries of one model."""
    found = []
    if old.get("md5") != new.get("md5"):
        found.append("model")
    po, pn = flat_params(old.get("inputs")), flat_params(new.get("inputs"))
    found += [k for k in sorted(set(po) | set(pn)) if po.get(k) != pn.get(k)]
    if old.get("cmd") != new.get("cmd"):
        found.append("cmd")
    io = {k: v for k, v in (old.get("inputs") or {}).items() if not is_param(k)}
    inn = {k: v for k, v in (new.get("inputs") or {}).items() if not is_param(k)}
    found += [k for k in sorted(set(io) | set(inn)) if io.get(k) != inn.get(k)]
    if old.get("metrics") != new.get("metrics"):
        found.append("metrics")
    if old.get("environment") != new.get("environment"):
        found.append("environment")
    for key in ("tests", "stale"):
        if old.get(key) != new.get(key):
            found.append(key)
    if _gate_verdicts(old) != _gate_verdicts(new):
        found.append("gates")
    return found


# --- two versions: what changed --------------------------------------------------------------


def version_at(repo: repo_mod.Repo, rev: str | None) -> Version:
    """gitml.lock at commit `rev`, or the staged state's when `rev` is None or "staged"."""
    if rev is None or rev == STAGED:
        return staged_version(repo)
    sha = git.resolve_commit(repo.root, rev)
    snap = Snapshot(repo.root, sha)
    data = snap.read(LOCK_FILE)
    if data is None:
        raise BadInput(
            f"commit {sha[:12]} has no {LOCK_FILE} (made before gitml, or with --no-verify)"
        )
    line = git.out(["log", "-1", "--format=%cI%x1f%s", sha], repo.root).split("\x1f")
    commit = Commit(sha, line[0], line[1] if len(line) > 1 else "")
    return Version(commit, manifest.parse_lock(data, f"{LOCK_FILE} at {sha[:12]}"), snap)


def staged_version(repo: repo_mod.Repo) -> Version:
    """The staged state's gitml.lock as the next commit would record it: inputs computed from
    the index, results kept from the staged gitml.lock where those inputs did not change."""
    from gitml import dvcfiles

    snap = Snapshot(repo.root)
    config = repo_mod.config_at(snap)
    if config is None:
        raise BadInput("no gitml.yaml staged: run `gitml init`")
    data = snap.read(LOCK_FILE)
    previous = manifest.parse_lock(data, f"{LOCK_FILE} (staged)") if data is not None else None
    lin = manifest.read_lineage(snap, config, None)
    cfg = dvcfiles.read_config(repo.root)
    lock = manifest.merge_results(
        manifest.inputs(lin, cfg.cache_dir, dvc_cfg=cfg, previous=previous), previous
    )
    lock["environments"] = dict((previous or {}).get("environments") or {})
    return Version(None, lock, snap)


def _pair(a: Any, b: Any) -> dict[str, Any]:
    return {"old": a, "new": b}


def _number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def metric_deltas(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """Every metric of either side: old, new, delta (new - old) where both are numbers."""
    fo, fn = params.flatten(old or {}), params.flatten(new or {})
    found = {}
    for key in sorted(set(fo) | set(fn)):
        a, b = fo.get(key), fn.get(key)
        delta = manifest.rounded(float(b) - float(a)) if _number(a) and _number(b) else None
        found[key] = {"old": a, "new": b, "delta": delta}
    return found


def _changed_map(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _pair(old.get(k), new.get(k))
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    }


def _is_code(path: str, snaps: list[Snapshot | None]) -> bool:
    for snap in snaps:
        if snap is not None and (snap.has(path) or snap.files_under(path)):
            return True
    return False


def environment_diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    old, new = old or {}, new or {}
    found: dict[str, Any] = {}
    for key in ("python", "platform", "captured"):
        if old.get(key) != new.get(key):
            found[key] = _pair(old.get(key), new.get(key))
    packages = _changed_map(old.get("packages") or {}, new.get("packages") or {})
    if packages:
        found["packages"] = packages
    for key in ("hardware", "seeds", "lockfile", "container"):
        changed = _changed_map(
            params.flatten(old.get(key) or {}), params.flatten(new.get(key) or {})
        )
        if changed:
            found[key] = changed
    return found


def profile_diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """rows, and per column: added/removed, dtype, nulls and summary figures that changed."""
    old, new = old or {}, new or {}
    found: dict[str, Any] = {}
    if old.get("rows") != new.get("rows"):
        found["rows"] = _pair(old.get("rows"), new.get("rows"))
    oc, nc = old.get("columns") or {}, new.get("columns") or {}
    columns: dict[str, Any] = {}
    for col in list(oc) + [c for c in nc if c not in oc]:
        if col not in nc:
            columns[col] = {"removed": True}
        elif col not in oc:
            columns[col] = {"added": True, "dtype": nc[col].get("dtype")}
        else:
            changed = _changed_map(_figures(oc[col]), _figures(nc[col]))
            if changed:
                columns[col] = changed
    if columns:
        found["columns"] = columns
    return found


def _figures(column: dict[str, Any] | None) -> dict[str, Any]:
    """A profile column's figures, flattened, without its histogram (drift's bins: counts
    that change whenever the data does, which the figures already say)."""
    flat = params.flatten(column or {})
    return {k: v for k, v in flat.items() if not k.startswith("histogram.")}


def diff_versions(a: Version, b: Version) -> dict[str, Any]:
    """Everything that differs between versions `a` (base) and `b`, per model and dataset."""
    envs_a, envs_b = a.lock.get("environments") or {}, b.lock.get("environments") or {}
    models: dict[str, Any] = {}
    ma, mb = a.lock.get("models") or {}, b.lock.get("models") or {}
    for path in list(ma) + [p for p in mb if p not in ma]:
        old, new = ma.get(path) or {}, mb.get(path) or {}
        io = {k: v for k, v in (old.get("inputs") or {}).items() if not is_param(k)}
        inn = {k: v for k, v in (new.get("inputs") or {}).items() if not is_param(k)}
        deps = _changed_map(io, inn)
        snaps = [a.snap, b.snap]
        env_old = envs_a.get(old.get("environment"))
        env_new = envs_b.get(new.get("environment"))
        entry: dict[str, Any] = {
            "status": "added" if not old else "removed" if not new else "changed",
            "md5": _pair(old.get("md5"), new.get("md5")),
            "size": _pair(old.get("size"), new.get("size")),
            "metrics": metric_deltas(old.get("metrics"), new.get("metrics")),
            "metrics_unread": _pair(metrics_unread(old), metrics_unread(new)),
            "params": _changed_map(flat_params(old.get("inputs")), flat_params(new.get("inputs"))),
            # the producing stage's command: an input, next to params (a `python train.py
            # data 200` holds its hyperparameter there)
            "cmd": _pair(old.get("cmd"), new.get("cmd")),
            "code": {k: v for k, v in deps.items() if _is_code(k, snaps)},
            "data": {k: v for k, v in deps.items() if not _is_code(k, snaps)},
            "checks": _pair(checks_of(a.lock, path), checks_of(b.lock, path)),
            "stale": _pair(old.get("stale") or False, new.get("stale") or False),
            "environment": environment_diff(env_old, env_new) if env_old and env_new else {},
            "environment_recorded": _pair(
                old.get("environment") in envs_a, new.get("environment") in envs_b
            ),
        }
        models[path] = entry
    data: dict[str, Any] = {}
    da, db = a.lock.get("data") or {}, b.lock.get("data") or {}
    for path in list(da) + [p for p in db if p not in da]:
        old, new = da.get(path) or {}, db.get(path) or {}
        entry = {
            k: _pair(old.get(k), new.get(k))
            for k in ("md5", "size", "nfiles", "validation", "source")
            if old.get(k) != new.get(k)
        }
        profile = profile_diff(old.get("profile"), new.get("profile"))
        if profile:
            entry["profile"] = profile
        if entry:
            entry["status"] = "added" if not old else "removed" if not new else "changed"
            data[path] = entry
    return {
        "a": _side(a),
        "b": _side(b),
        "models": models,
        "data": data,
    }


def _side(v: Version) -> dict[str, Any]:
    c = v.commit
    return {
        "rev": c.sha if c else STAGED,
        "date": c.date if c else None,
        "subject": c.subject if c else None,
    }


def model_changed(entry: dict[str, Any]) -> bool:
    return bool(
        entry["md5"]["old"] != entry["md5"]["new"]
        or entry["params"]
        or entry["cmd"]["old"] != entry["cmd"]["new"]
        or entry["code"]
        or entry["data"]
        or entry["environment"]
        or entry["stale"]["old"] != entry["stale"]["new"]
        or any(m["old"] != m["new"] for m in entry["metrics"].values())
    )


# --- pictures without dependencies -----------------------------------------------------------

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo
    return "".join(
        _BARS[0 if span == 0 else min(len(_BARS) - 1, int((v - lo) / span * len(_BARS)))]
        for v in values
    )


def svg_sparkline(values: list[float], width: int = 480, height: int = 120, title: str = "") -> str:
    """An inline SVG line chart of `values` (oldest first), with min/max labels."""
    from html import escape

    pad = 24
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = [
        (pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad))
        for i, v in enumerate(values)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f6feb"/>' for x, y in points)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#d0d7de"/>'
        f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>{dots}'
        f'<text x="4" y="14" font-size="11" fill="#57606a">{escape(title)} max {hi:g}</text>'
        f'<text x="4" y="{height - 6}" font-size="11" fill="#57606a">min {lo:g}</text></svg>'
    )


def metric_series(rows: list[dict[str, Any]], metric: str) -> list[tuple[str, float]]:
    """(short sha, value) of `metric` over history rows, oldest first; rows without it skipped."""
    series = []
    for row in reversed(rows):
        value: Any = params.flatten(row.get("metrics") or {}).get(metric)
        if _number(value):
            series.append((row["short"], float(value)))
    return series


def png_plot(series: list[tuple[str, float]], metric: str) -> bytes | None:
    """A PNG line plot through matplotlib, None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    import io

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.plot([s for s, _ in series], [v for _, v in series], marker="o")
    ax.set_title(metric)
    ax.set_xlabel("commit")
    ax.grid(True, alpha=0.3)
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
