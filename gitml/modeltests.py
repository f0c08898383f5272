"""Model tests (pytest, with gitml's plugin) and metric gates, for the commit hook and `gitml test`.

A model is tested and gated when its md5 (or anything else in its inputs), its test files or
its gates changed, or when what gitml.lock recorded for it did not pass. Gates are evaluated
against the metrics at the commit and at the baseline (gitml.baselines). The pytest run goes
through the project's interpreter with the plugin loaded by `-p` from a directory holding only
the plugin, in the repository itself, as `pytest <tests>` from its root would run (the layout,
imports, conftest.py files, symlinks and fixture paths of the project all hold). Its result is
cached per clone by (model md5 and inputs, data md5s, the staged test files, conftest.py files
and the files of the package the tests belong to, the pytest config, params, metrics, baseline
metrics, environment key). A run happens in place only when those files in the workspace are
the staged ones: otherwise the verdict would be about files the commit does not contain, and
gitml refuses, naming them, rather than stash (a killed hook must never lose work).

gitml.lock records `tests: {passed, failed, hash}` and `gates: [{rule, value, baseline,
threshold, passed}]` (baseline: the sha the gate was resolved against, null for a fixed
threshold or when there is no baseline yet).
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import baselines, environment, gates, git, objects, params, paths
from gitml import state as state_mod
from gitml.checks import CheckContext, Failure
from gitml.config import Model
from gitml.dvcfiles import DEFAULT_PARAMS, DvcConfig, md5_for, read_config, read_dir_listing
from gitml.errors import BadInput
from gitml.fileio import md5_file, round_sig, sha256_bytes
from gitml.lineage import Lineage
from gitml.output import warn
from gitml.snapshot import Snapshot

CACHE_DIR = "modeltests"
RUNS_DIR = "pytest-runs"
_MD5 = re.compile(r"[0-9a-f]{32}")
ENV_INPUTS = "GITML_INPUTS"
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass
class ModelResult:
    path: str
    name: str
    tests: dict[str, Any] | None = None  # {passed, failed, skipped, errors, failures, hash}
    gates: list[dict[str, Any]] = field(default_factory=list)
    cached: bool = False
    failures: list[Failure] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "passed": not self.failures,
            "cached": self.cached,
            "tests": self.tests,
            "gates": self.gates,
        }


# --- the check the commit hook runs ----------------------------------------------------------


def check(ctx: CheckContext) -> list[Failure]:
    return [f for r in run_models(ctx) for f in r.failures]


def run_models(
    ctx: CheckContext, only: list[str] | None = None, force: bool = False
) -> list[ModelResult]:
    """Test and gate the models that need it (all of `only`, or every model, with `force`)."""
    models = ctx.lineage.config.models
    if only:
        known = {m.path for m in models} | {m.name for m in models}
        unknown = [o for o in only if o not in known]
        if unknown:
            listed = ", ".join(f"{m.path} ({m.name})" for m in models) or "none"
            raise BadInput(
                f"no model {', '.join(map(repr, unknown))} in gitml.yaml (models: {listed})"
            )
        models = tuple(m for m in models if m.path in only or m.name in only)
    # The hook resolved HEAD once (ctx.head); `gitml test` builds its context without it.
    head = ctx.head if ctx.head is not None else git.head_commit(ctx.repo.root)
    results = []
    for m in models:
        entry = ctx.lock["models"][m.path]
        if not m.tests:
            entry.pop("tests", None)
        if not m.gates:
            entry.pop("gates", None)
        if not (m.tests or m.gates):
            continue
        thash = tests_hash(ctx, m.tests) if m.tests else None
        if not force and not needs_run(ctx, m, entry, thash):
            continue
        results.append(run_model(ctx, m, entry, thash, head))
    return results


def needs_run(ctx: CheckContext, m: Model, entry: dict[str, Any], thash: str | None) -> bool:
    if m.path in ctx.changed_models:
        return True
    recorded_tests = entry.get("tests")
    if m.tests and (
        not isinstance(recorded_tests, dict)
        or recorded_tests.get("hash") != thash
        or recorded_tests.get("failed")
        # a result from before gitml recorded the data the tests read: run once to record it
        or not isinstance(recorded_tests.get("data"), dict)
        or data_changes(ctx.lineage, recorded_tests["data"])
    ):
        return True
    recorded_gates = entry.get("gates") or []
    if [g.get("rule") for g in recorded_gates if isinstance(g, dict)] != list(m.gates):
        return True
    return not all(isinstance(g, dict) and g.get("passed") for g in recorded_gates)


def run_model(
    ctx: CheckContext, m: Model, entry: dict[str, Any], thash: str | None, head: str | None
) -> ModelResult:
    result = ModelResult(m.path, m.name)
    base = _baseline(ctx, m, head)
    metrics = entry.get("metrics") or {}
    if m.gates:
        result.gates = evaluate_gates(m, metrics, base, ctx.lineage.unread_metrics.get(m.path))
        entry["gates"] = result.gates
        if not all(g["passed"] for g in result.gates):
            result.failures.append(Failure("gates", m.path, "\n" + gate_table(result.gates)))
    if m.tests:
        tests, result.cached = run_tests(ctx, m, entry, thash or "", base)
        failed = int(tests.get("failed", 0)) + int(tests.get("errors", 0))
        result.tests = {**tests, "hash": thash}
        entry["tests"] = {
            "passed": int(tests.get("passed", 0)),
            "failed": failed,
            "hash": thash,
            "data": data_read(ctx.lineage, tests, _data_paths(ctx, m)),
        }
        if tests.get("exitstatus") == 5:
            warn(f"{m.tests}: pytest collected no tests for {m.path}")
        if failed:
            result.failures.append(Failure("tests", m.path, tests_summary(tests)))
    return result


def _baseline(ctx: CheckContext, m: Model, head: str | None) -> baselines.Baseline:
    """The model's baseline. `parent` is HEAD, whose gitml.lock the hook parsed once
    (ctx.head_lock): the metrics it records for the model come from there, not from another read
    and parse of that blob. Without them (no lock, no entry): baselines' own fallbacks."""
    if m.baseline == "parent" and head is not None and head == ctx.head and ctx.head_lock:
        entry = (ctx.head_lock.get("models") or {}).get(m.path)
        if isinstance(entry, dict) and isinstance(entry.get("metrics"), dict):
            return baselines.Baseline(m.baseline, head, dict(entry["metrics"]))
    return baselines.baseline_for(ctx.repo.root, m.baseline, m.name, m.path, m.metrics, head)


# --- gates -----------------------------------------------------------------------------------


def metric_names(metrics: Any) -> list[str]:
    """Dotted names of the numeric figures in a metrics document."""
    return [
        name
        for name, value in params.flatten(metrics or {}).items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]


def _figure(metrics: Any, name: str) -> float | None:
    value = params.lookup(metrics, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def evaluate_gates(
    m: Model, metrics: dict[str, Any], base: baselines.Baseline, unread: str | None = None
) -> list[dict[str, Any]]:
    """Each gate's verdict (`unread`: why the metrics file could not be read, if so)."""
    if not m.metrics:
        raise BadInput(f"gitml.yaml: model {m.path!r} has gates but no `metrics:` file to read")
    records = []
    for rule in m.gates:
        gate = gates.parse(rule)
        for name in (gate.metric, gate.baseline_metric):
            if name is not None and _figure(metrics, name) is None:
                if unread and name == gate.metric:
                    raise BadInput(
                        f"gate {rule!r} of model {m.path!r} cannot be evaluated: {unread}"
                    )
                existing = ", ".join(metric_names(metrics)) or "none"
                raise BadInput(
                    f"gitml.yaml: gate {rule!r} of model {m.path!r} names metric {name!r}, "
                    f"which {m.metrics} does not have (its metrics: {existing})"
                )
        value = _figure(metrics, gate.metric)
        assert value is not None
        threshold: float | None = gate.threshold
        baseline_rev = None
        if gate.baseline_metric is not None:
            baseline_rev = base.rev
            was = _figure(base.metrics or {}, gate.baseline_metric) if base.rev else None
            threshold = None if was is None else round_sig(was + gate.delta)
        passed = threshold is None or _OPS[gate.op](round_sig(value), round_sig(threshold))
        records.append(
            {
                "rule": gate.rule,
                "value": round_sig(value),
                "baseline": baseline_rev,
                "threshold": threshold,
                "passed": bool(passed),
            }
        )
    return records


def gate_table(records: list[dict[str, Any]]) -> str:
    rows = [("gate", "value", "baseline", "threshold", "result")]
    for g in records:
        threshold = g["threshold"]
        rows.append(
            (
                str(g["rule"]),
                f"{g['value']:g}",
                str(g["baseline"])[:12] if g["baseline"] else "-",
                "no baseline (skipped)" if threshold is None else f"{threshold:g}",
                "pass" if g["passed"] else "FAIL",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join(
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )


def tests_summary(tests: dict[str, Any]) -> str:
    lines = [
        f"{tests['failed']} failed, {tests.get('errors', 0)} errors, {tests['passed']} passed"
        + (f" (pytest exit {tests['exitstatus']})" if tests.get("exitstatus") not in (0, 1) else "")
    ]
    for f in tests.get("failures") or []:
        lines.append(f"  {f['nodeid']}: {f['repr']}".rstrip())
    return "\n".join(lines)


# --- test files and inputs -------------------------------------------------------------------


def test_files(snap: Snapshot, tests: str) -> list[str]:
    """The staged test files under `tests` and every conftest.py from the root down to them."""
    files = [tests] if snap.has(tests) else snap.files_under(tests)
    parts = tests.split("/")
    for i in range(len(parts)):
        conftest = posixpath.join(*parts[:i], "conftest.py") if i else "conftest.py"
        if snap.has(conftest):
            files.append(conftest)
    return sorted(set(files))


def _package_inits(snap: Snapshot, tests: str) -> list[str]:
    """The staged `__init__.py` of each directory above `tests`, shallowest first."""
    parts = tests.split("/")
    inits = [posixpath.join(*parts[:i], "__init__.py") for i in range(1, len(parts))]
    return [p for p in inits if snap.has(p)]


def read_files(snap: Snapshot, tests: str) -> list[str]:
    """The staged files a run of `tests` reads from the repository: the test files and
    conftest.py files (`test_files`), and every file of the outermost package above the tests
    (with tests/__init__.py, all of tests/: the `tests.helpers` they import, data fixtures)."""
    files = test_files(snap, tests)
    inits = _package_inits(snap, tests)
    if inits:
        files += inits + snap.files_under(posixpath.dirname(inits[0]))
    return sorted(set(files))


def tests_hash(ctx: CheckContext, tests: str) -> str:
    return tests_hash_at(ctx.lineage.snap, tests)


def tests_hash_at(snap: Snapshot, tests: str) -> str:
    """What gitml.lock records as the tests' hash: every file a run reads (`read_files`)."""
    listing = "".join(f"{p}\0{snap.blob_sha(p)}\n" for p in read_files(snap, tests))
    return hashlib.sha256(listing.encode()).hexdigest()


def data_read(lin: Lineage, result: dict[str, Any], data_paths: list[str]) -> dict[str, Any]:
    """{path: md5} of the DVC-tracked paths the run looked up in `gitml_data` (what gitml.lock
    records as `tests.data`): a change of those bytes alone makes the result stale."""
    looked_up = result.get("data_read")
    names = looked_up if isinstance(looked_up, list) else []
    return {p: getattr(lin.out(p), "md5", None) for p in sorted(set(names) & set(data_paths))}


def data_changes(lin: Lineage, recorded: dict[str, Any]) -> list[str]:
    """The recorded data a tests' result was reached on, where this snapshot has other bytes."""
    return [
        f"{p}: md5 {md5} -> {getattr(lin.out(p), 'md5', None)}"
        for p, md5 in sorted(recorded.items())
        if getattr(lin.out(p), "md5", None) != md5
    ]


def run_files(ctx: CheckContext, tests: str) -> list[str]:
    """`read_files`; bad input when the tests path has no staged file at all."""
    snap = ctx.lineage.snap
    if not any(paths.is_under(f, tests) for f in test_files(snap, tests)):
        where = "the index" if snap.rev is None else f"commit {snap.rev[:12]}"
        raise BadInput(
            f"gitml.yaml: the tests of a model, {tests}, have no files in {where}"
            + (f": `git add {tests}`" if snap.rev is None else "")
        )
    return read_files(snap, tests)


def watch_scopes(snap: Snapshot, tests: str) -> list[str]:
    """Where files that pytest would read for `tests` can be: the tests path (or the outermost
    package holding it), and each conftest.py and __init__.py on the way down to it. A staged
    change below any of them is a change of the model's tests (the commit hook watches them)."""
    parts = tests.split("/")
    inits = _package_inits(snap, tests)
    top = [posixpath.dirname(inits[0])] if inits else [tests]
    above = [posixpath.join(*parts[:i], "conftest.py") for i in range(len(parts))]
    above += [posixpath.join(*parts[:i], "__init__.py") for i in range(1, len(parts))]
    return top + above


def _workspace_blob_sha(path: Path) -> str | None:
    """The git blob sha of a workspace file as it is on disk (a symlink: of its target path, as
    git stores one), None when there is none. No clean filter or line-end conversion applied."""
    try:
        if path.is_symlink():
            data = os.fsencode(os.readlink(path))
            return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        if not path.is_file():
            return None
        digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None


def differing_files(ctx: CheckContext, files: list[str]) -> list[str]:
    """Which of `files` differ in the workspace from their staged (or committed) version."""
    root, snap = ctx.repo.root, ctx.lineage.snap
    differ = [p for p in files if _workspace_blob_sha(root / p) != snap.blob_sha(p)]
    # A file whose bytes differ may still be what git stores once its clean filters and
    # line-end conversion (core.autocrlf, .gitattributes) apply: git hashes those, read-only.
    regular = [p for p in differ if not (root / p).is_symlink() and (root / p).is_file()]
    if regular:
        proc = git.run(["hash-object", "--", *regular], root, check=False)
        shas = proc.stdout.decode().split() if proc.returncode == 0 else []
        if len(shas) == len(regular):
            same = {p for p, sha in zip(regular, shas, strict=True) if sha == snap.blob_sha(p)}
            differ = [p for p in differ if p not in same]
    return differ


def untracked_test_files(ctx: CheckContext, tests: str) -> list[str]:
    """Python files where pytest would collect or import them for `tests`, that git does not
    track (ignored files aside): they would take part in an in-place run the commit lacks."""
    proc = git.run(
        ["--literal-pathspecs", "ls-files", "-z", "--others", "--exclude-standard", "--",
         *watch_scopes(ctx.lineage.snap, tests)],
        ctx.repo.root,
    )  # fmt: skip
    snap = ctx.lineage.snap
    return sorted(p for p in git.split_z(proc.stdout) if p.endswith(".py") and not snap.has(p))


def refuse_unstaged(ctx: CheckContext, m: Model, files: list[str]) -> None:
    """pytest runs in place, on the workspace: refuse (naming them) when the files it would read
    there are not the ones the commit stages. gitml never stashes them itself: a hook killed
    between a stash and its pop would leave the user's work in a stash they do not know of."""
    assert m.tests
    differ = differing_files(ctx, files)
    untracked = untracked_test_files(ctx, m.tests)
    if not (differ or untracked):
        return
    named = []
    if differ:
        verb = "differs" if len(differ) == 1 else "differ"
        named.append(f"{', '.join(differ)} {verb} from the staged version")
    if untracked:
        verb = "is" if len(untracked) == 1 else "are"
        named.append(f"{', '.join(untracked)} {verb} not staged (untracked)")
    raise BadInput(
        f"{m.path}: its model tests ({m.tests}) run in the repository as it is, and "
        + "; ".join(named)
        + ": they would judge files the commit does not contain. Stage them (`git add -- "
        + " ".join(differ + untracked)
        + "`), or set the changes aside until the commit is made (`git stash push --keep-index "
        "--include-untracked`, then `git stash pop`)"
    )


# The names pytest looks for, in its order (pytest 9 added the two TOML files)
_PYTEST_CONFIGS = (
    "pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini",
    "setup.cfg",
)  # fmt: skip


def _has_pytest_config(path: Path) -> bool:
    """Whether pytest would take `path` as its config file (its own rules, per file name)."""
    import configparser
    import tomllib

    if path.name in ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini"):
        return True  # config even when empty
    try:
        text = path.read_text(encoding="utf-8")
        if path.name == "pyproject.toml":
            tool = tomllib.loads(text).get("tool") or {}
            return isinstance(tool, dict) and "pytest" in tool
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
        return parser.has_section("pytest" if path.name == "tox.ini" else "tool:pytest")
    except (OSError, UnicodeDecodeError, ValueError, configparser.Error):
        return False


def pytest_config(root: Path, tests: str) -> Path | None:
    """The workspace's pytest config file that a run of `tests` from the repository would use
    (pytest's search: from the tests path up to the root). Like the project's code, it is read
    from the workspace: its relative paths (`pythonpath`, ...) resolve against the repository."""
    parts = [p for p in tests.split("/") if p]
    for depth in range(len(parts), -1, -1):
        folder = root.joinpath(*parts[:depth])
        for name in _PYTEST_CONFIGS:
            if (folder / name).is_file() and _has_pytest_config(folder / name):
                return folder / name
    return None


def _member_objects(cfg: DvcConfig, listing: Path, hash_name: str) -> dict[str, str]:
    """{md5: object file} of the files of a directory model. The plugin verifies the listing
    against the model's md5 and each file against the listing before loading anything, and
    refuses the model when one is missing, so a listing that does not parse is left to it."""
    try:
        pairs = read_dir_listing(listing)
    except BadInput:
        return {}
    found = {}
    for _rel, md5 in pairs:
        if _MD5.fullmatch(md5) and (obj := objects.locate(cfg, md5, hash_name)) is not None:
            found[md5] = str(obj)
    return found


def _run_dir(common_dir: Path) -> Path:
    """A new private directory for one pytest run (plugin, inputs, data copies), under
    .git/gitml; runs killed before they could remove theirs are swept after a day."""
    runs = state_mod.state_dir(common_dir) / RUNS_DIR
    runs.mkdir(exist_ok=True)
    now = time.time()
    for old in runs.iterdir():
        try:
            if now - old.stat().st_mtime > 86400:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix="run-", dir=runs))


def _data_paths(ctx: CheckContext, m: Model) -> list[str]:
    """DVC-tracked datasets of the model: gitml.yaml `data:` and its pipeline's deps and outs."""
    lin = ctx.lineage
    wanted = [d.path for d in lin.config.data]
    out = lin.out(m.path)
    if out is not None and out.stage:
        for name in lin.project.upstream([out.stage]):
            stage = lin.project.stages[name]
            wanted.extend(d.path for d in stage.deps)
            wanted.extend(o.path for o in stage.outs)
    return [p for p in dict.fromkeys(wanted) if p != m.path and lin.out(p) is not None]


def _materialise(ctx: CheckContext, path: str, into: Path) -> str | None:
    """A local file for a DVC-tracked path: the cache object, or a verified copy of a directory."""
    cfg = ctx.dvc_config or read_config(ctx.repo.root)
    out = ctx.lineage.out(path)
    if out is None or not out.md5:
        return None
    if not out.is_dir:
        obj = objects.locate(cfg, out.md5, out.hash)
        if obj is None:
            return None
        # The run's result is cached under this md5: the bytes the tests read must be its.
        actual = md5_file(obj) if out.hash == "md5" else md5_for(obj.read_bytes(), out.hash)
        if actual != out.md5:
            raise BadInput(
                f"{path}: its DVC cache object {obj} hashes to {actual}, not {out.md5} (corrupt "
                "or tampered with); the model tests were not run. Delete that file, then "
                "`dvc pull` it (or `gitml repro`)"
            )
        return str(obj)
    listing = objects.members(cfg, out)
    if listing is None:
        return None
    dest = into / "data" / path
    for rel, md5 in listing:
        obj = objects.locate(cfg, md5, out.hash)
        if obj is None or not objects.verified_copy(obj, md5, out.hash, dest / rel):
            return None
    return str(dest)


def _params(ctx: CheckContext) -> dict[str, Any]:
    data = ctx.lineage.snap.read(DEFAULT_PARAMS)
    return params.parse(DEFAULT_PARAMS, data) if data is not None else {}


def _cache_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _config_id(root: Path, config: Path | None) -> list[str] | None:
    """[path, sha256] of the workspace pytest config a run uses (None: there is none)."""
    if config is None:
        return None
    try:
        data = config.read_bytes()
    except OSError as exc:
        raise BadInput(f"{config}: cannot read this pytest config ({exc.strerror})") from None
    return [config.relative_to(root).as_posix(), sha256_bytes(data)]


def cache_path(common_dir: Path, key: str) -> Path:
    return state_mod.state_dir(common_dir) / CACHE_DIR / f"{key}.json"


def run_tests(
    ctx: CheckContext, m: Model, entry: dict[str, Any], thash: str, base: baselines.Baseline
) -> tuple[dict[str, Any], bool]:
    """pytest's result for this model (from the per-clone cache when nothing it sees changed)."""
    assert m.tests
    lin = ctx.lineage
    files = run_files(ctx, m.tests)
    data_paths = _data_paths(ctx, m)
    python = environment.project_python(ctx.repo.root, lin.config.python)
    config = pytest_config(ctx.repo.root, m.tests)
    key = _cache_key(
        {
            # 2: results record the data paths the tests looked up (`data_read`)
            "record": 2,
            "model": [entry.get("md5"), entry.get("hash"), entry.get("format")],
            "inputs": entry.get("inputs"),
            # every dataset the tests may look up: a superset of those a run reads
            "data": {p: getattr(lin.out(p), "md5", None) for p in data_paths},
            "tests": [m.tests, thash],
            # what else the run reads: the tests' package (staged: a run needs the workspace
            # to match it) and the workspace's pytest config (addopts, pythonpath, ...)
            "files": {p: lin.snap.blob_sha(p) for p in files},
            "pytest_config": _config_id(ctx.repo.root, config),
            "params": lin.snap.blob_sha(DEFAULT_PARAMS),
            "metrics": entry.get("metrics"),
            "baseline": base.metrics,
            "environment": entry.get("environment"),
            "python": python,
        }
    )
    record_path = cache_path(ctx.repo.common_dir, key)
    record = state_mod.read_json(record_path)
    if isinstance(record, dict) and isinstance(record.get("result"), dict):
        # A hit trusts the recorded result without re-hashing the model's cache object, as DVC
        # trusts its cache (`dvc status -c` / a pull verify it). The record is a verdict on the
        # model its md5 names, reached on bytes the plugin verified against that md5 before
        # loading them; a later change to the object on disk does not make it false, and on a
        # hit nothing is loaded. Every path that reads model bytes verifies them: the plugin
        # (verify, then load) on a miss, the hook's corrupt-object check for each output whose
        # hash the commit changes, `gitml restore`. Re-hashing here would cost a full read of the
        # model (seconds for a large one) on every commit that touches nothing of it.
        state_mod.count_hit(record_path, record)
        # A hint, on every hit: the Python files only, not data fixtures of any size.
        for path in differing_files(ctx, [p for p in files if p.endswith(".py")]):
            warn(f"{path} differs from its staged version: the cached verdict is on the staged one")
        return record["result"], True
    refuse_unstaged(ctx, m, files)
    result = _pytest(ctx, m, entry, data_paths, base, python, config)
    # A crash or an interruption is not cached, nor a run whose model object was refused (its
    # bytes did not match the md5: the verdict is about that file, not the model).
    if result.get("exitstatus") in (0, 1, 5) and not result.get("model_refused"):
        state_mod.write_json(record_path, {"result": result, "hits": 0, "model": m.path})
    return result, False


def _pytest(
    ctx: CheckContext,
    m: Model,
    entry: dict[str, Any],
    data_paths: list[str],
    base: baselines.Baseline,
    python: str,
    config: Path | None,
) -> dict[str, Any]:
    assert m.tests
    cfg = ctx.dvc_config or read_config(ctx.repo.root)
    md5, hash_name = str(entry["md5"]), str(entry.get("hash") or "md5")
    obj = objects.locate(cfg, md5, hash_name)
    if obj is None:
        raise BadInput(f"{m.path}: its DVC object {md5} is not in the cache: `dvc pull` it")
    tmp = _run_dir(ctx.repo.common_dir)
    try:
        plugin_dir = tmp / "plugin"
        (plugin_dir / "gitml").mkdir(parents=True)
        (plugin_dir / "gitml" / "__init__.py").write_text("")
        shutil.copyfile(
            Path(__file__).with_name("pytest_plugin.py"), plugin_dir / "gitml" / "pytest_plugin.py"
        )
        data = {p: f for p in data_paths if (f := _materialise(ctx, p, tmp)) is not None}
        results = tmp / "results.json"
        model = {
            "path": m.path,
            "name": m.name,
            "file": str(obj),
            "md5": md5,
            "hash": hash_name,
            "format": entry.get("format") or m.format,
        }
        if md5.endswith(".dir"):
            model["members"] = _member_objects(cfg, obj, hash_name)
        inputs = {
            "model": model,
            "data": data,
            "metrics": entry.get("metrics") or {},
            "params": _params(ctx),
            "baseline": {"rev": base.rev, "metrics": base.metrics} if base.rev else None,
            "results": str(results),
        }
        (tmp / "inputs.json").write_text(json.dumps(inputs, sort_keys=True, default=str))
        env = environment.interpreter_on_path(python)
        env[ENV_INPUTS] = str(tmp / "inputs.json")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(plugin_dir), env.get("PYTHONPATH")) if p
        )
        # In place, as `pytest <tests>` from the repository's root: its layout, imports,
        # conftest.py files and symlinks as they are (refuse_unstaged saw they are the staged
        # ones). The config is named (-c) as the one the cache key hashed; it is the file
        # pytest's own search would pick, so rootdir and confcutdir are the usual ones.
        cmd = [
            python, "-m", "pytest", "-p", "no:gitml", "-p", "gitml.pytest_plugin",
            "-p", "no:cacheprovider", "-q", "--no-header", "-o", "console_output_style=classic",
            *(["-c", str(config)] if config is not None else []), m.tests,
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, check=False, cwd=ctx.repo.root, env=env, capture_output=True, text=True
        )
        found = state_mod.read_json(results)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
    if isinstance(found, dict):
        if found.get("exitstatus") not in (0, 1, 5) and not found.get("failures"):
            found["errors"] = int(found.get("errors", 0)) + 1
            found["failures"] = [
                {"nodeid": m.tests, "repr": f"pytest exited {proc.returncode}:\n{tail}"}
            ]
        return found
    if "No module named pytest" in tail:
        raise BadInput(
            f"the model tests of {m.path} need pytest in the project's interpreter {python} "
            "(gitml.yaml `python:`): install it there"
        )
    return {
        "passed": 0,
        "failed": 1,
        "skipped": 0,
        "errors": 1,
        "exitstatus": proc.returncode,
        "failures": [{"nodeid": m.tests, "repr": f"pytest did not run ({python}):\n{tail}"}],
    }


# --- what a pushed tip recorded ---------------------------------------------------------------


def recorded_key_mismatches(lin: Lineage, lock: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Where a gitml.lock's recorded test results are not about what its snapshot holds:
    (mismatches, notes). The results' key is recomputed from the snapshot: the tests hash from
    its test, conftest and package files, and the md5 of each dataset the tests read from its
    DVC files. A mismatch means the result was reached on other files (a commit made around
    the hook). Notes: what cannot be judged, for a result recorded before gitml kept the data
    the tests read (its tests hash is still compared)."""
    mismatches: list[str] = []
    notes: list[str] = []
    for m in lin.config.models:
        recorded = ((lock.get("models") or {}).get(m.path) or {}).get("tests")
        if not m.tests or not isinstance(recorded, dict):
            continue
        now = tests_hash_at(lin.snap, m.tests)
        if recorded.get("hash") != now:
            mismatches.append(
                f"models.{m.path}.tests.hash: {str(recorded.get('hash'))[:12]} -> {now[:12]} "
                f"(the files of {m.tests} are not those its tests ran on)"
            )
        data = recorded.get("data")
        if not isinstance(data, dict):
            notes.append(
                f"{m.path}: its recorded tests name no data they read (written by an older "
                "gitml), so a change of that data alone is not seen; the next commit that "
                "touches the model's files runs them again and records it (`gitml lock` too)"
            )
            continue
        mismatches.extend(
            f"models.{m.path}.tests.data.{change} (its tests ran on other data)"
            for change in data_changes(lin, data)
        )
    return mismatches, notes


def recorded_problems(config_models: tuple[Model, ...], lock: dict[str, Any]) -> list[str]:
    """Why a commit's recorded model checks do not pass (empty when they do)."""
    problems = []
    for m in config_models:
        entry = (lock.get("models") or {}).get(m.path) or {}
        tests = entry.get("tests")
        if m.tests:
            if not isinstance(tests, dict):
                problems.append(f"{m.path}: no recorded model test results")
            elif tests.get("failed"):
                problems.append(f"{m.path}: {tests.get('failed')} model test(s) failed")
        recorded = [g for g in entry.get("gates") or [] if isinstance(g, dict)]
        if m.gates and [g.get("rule") for g in recorded] != list(m.gates):
            problems.append(f"{m.path}: no recorded results for its gates")
        problems.extend(
            f"{m.path}: gate `{g.get('rule')}` failed (value {g.get('value')}, "
            f"threshold {g.get('threshold')})"
            for g in recorded
            if not g.get("passed")
        )
    return problems
