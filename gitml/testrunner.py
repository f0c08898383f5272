"""One pytest run of a model's tests, and the per-clone cache of its results.

The run goes through the project's interpreter with gitml's plugin loaded by `-p` from a private
directory holding only the plugin's modules, in the repository itself, as `pytest <tests>` from
its root would run (the layout, imports, conftest.py files, symlinks and fixture paths of the
project all hold). Its inputs (the model's DVC object, verified copies of the datasets, metrics,
params, the baseline's metrics) are written to a JSON file the plugin reads; the plugin writes
the results back. A result is cached by everything the run sees: the model's md5 and inputs, the
datasets' md5s, the files of the tests (gitml.testfiles), the pytest config, params, metrics,
the baseline's metrics, the environment and the interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml import baselines, environment, objects, params, testfiles
from gitml import state as state_mod
from gitml.checks import CheckContext
from gitml.config import Model
from gitml.dvcconfig import DvcConfig, read_config
from gitml.dvcfiles import DEFAULT_PARAMS, md5_for, read_dir_listing
from gitml.errors import BadInput
from gitml.fileio import md5_file
from gitml.lineage import Lineage
from gitml.lockfile import ModelEntry

CACHE_DIR = "modeltests"
RUNS_DIR = "pytest-runs"
ENV_INPUTS = "GITML_INPUTS"
# gitml's modules the plugin is made of (standard library and pytest only, importing no others)
PLUGIN_MODULES = ("pytest_plugin.py", "modelloading.py", "modelformats.py")
# 2: results record the data paths the tests looked up (`data_read`)
# 3: and the figures they recorded (`metrics`: gitml_metric), with gitml.yaml's slices
_RECORD_VERSION = 3
_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class PytestRun:
    """pytest's result for a model: the plugin's counts and failures, and whether it came from
    the cache."""

    result: dict[str, Any]
    cached: bool


def install_plugin(plugin_dir: Path) -> None:
    """A `gitml` package in `plugin_dir` holding only the plugin, for a PYTHONPATH of its own."""
    package = plugin_dir / "gitml"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    here = Path(__file__).parent
    for name in PLUGIN_MODULES:
        shutil.copyfile(here / name, package / name)


def data_paths(lin: Lineage, m: Model) -> list[str]:
    """DVC-tracked datasets of the model: gitml.yaml `data:` and its pipeline's deps and outs."""
    wanted = [d.path for d in lin.config.data]
    out = lin.out(m.path)
    if out is not None and out.stage:
        for name in lin.project.upstream([out.stage]):
            stage = lin.project.stages[name]
            wanted.extend(d.path for d in stage.deps)
            wanted.extend(o.path for o in stage.outs)
    return [p for p in dict.fromkeys(wanted) if p != m.path and lin.out(p) is not None]


def cache_path(common_dir: Path, key: str) -> Path:
    return state_mod.state_dir(common_dir) / CACHE_DIR / f"{key}.json"


@dataclass(frozen=True)
class _Plan:
    """What one model's run sees, gathered once for its cache key and for the run itself."""

    files: list[str]
    data_paths: list[str]
    python: str
    config: Path | None


def _plan(ctx: CheckContext, m: Model) -> _Plan:
    assert m.tests
    root = ctx.repo.root
    return _Plan(
        testfiles.run_files(ctx.lineage.snap, m.tests),
        data_paths(ctx.lineage, m),
        environment.project_python(root, ctx.lineage.config.python),
        testfiles.pytest_config(root, m.tests),
    )


def _cache_key(
    ctx: CheckContext,
    m: Model,
    entry: ModelEntry,
    thash: str,
    base: baselines.Baseline,
    plan: _Plan,
) -> str:
    lin = ctx.lineage
    parts = {
        "record": _RECORD_VERSION,
        "model": [entry.md5, entry.hash, entry.format],
        "inputs": entry.inputs,
        # every dataset the tests may look up: a superset of those a run reads
        "data": {p: getattr(lin.out(p), "md5", None) for p in plan.data_paths},
        "tests": [m.tests, thash],
        "slices": [m.slices.data, m.slices.by] if m.slices else None,
        # what else the run reads: the tests' package (staged: a run needs the workspace to
        # match it) and the workspace's pytest config (addopts, pythonpath, ...)
        "files": {p: lin.snap.blob_sha(p) for p in plan.files},
        "pytest_config": testfiles.config_id(ctx.repo.root, plan.config),
        "params": lin.snap.blob_sha(DEFAULT_PARAMS),
        "metrics": entry.metrics,
        "baseline": base.metrics,
        "environment": entry.environment,
        "python": plan.python,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def run_tests(
    ctx: CheckContext,
    m: Model,
    entry: ModelEntry,
    thash: str,
    base: baselines.Baseline,
    report: Callable[[str], None],
) -> PytestRun:
    """pytest's result for this model (from the per-clone cache when nothing it sees changed).
    `report` is told what a cached verdict does not cover."""
    assert m.tests
    plan = _plan(ctx, m)
    record_path = cache_path(ctx.repo.common_dir, _cache_key(ctx, m, entry, thash, base, plan))
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
        python_files = [p for p in plan.files if p.endswith(".py")]
        for path in testfiles.differing_files(ctx.repo.root, ctx.lineage.snap, python_files):
            report(
                f"{path} differs from its staged version: the cached verdict is on the staged one"
            )
        return PytestRun(record["result"], True)
    testfiles.refuse_unstaged(ctx.repo.root, ctx.lineage.snap, m.path, m.tests, plan.files)
    ctx.progress(f"testing {m.path} (pytest {m.tests})")
    result = _run_pytest(ctx, m, entry, base, plan)
    if result.get("slice_error"):  # gitml.yaml's slices are wrong, not the model
        raise BadInput(f"gitml.yaml: {result['slice_error']}")
    # A crash or an interruption is not cached, nor a run whose model object was refused (its
    # bytes did not match the md5: the verdict is about that file, not the model).
    if result.get("exitstatus") in (0, 1, 5) and not result.get("model_refused"):
        state_mod.write_json(record_path, {"result": result, "hits": 0, "model": m.path})
    return PytestRun(result, False)


# --- the run ---------------------------------------------------------------------------------


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


def _verified_object(cfg: DvcConfig, path: str, md5: str, hash_name: str) -> str | None:
    """The cache object of a DVC-tracked file, its bytes checked against `md5`."""
    obj = objects.locate(cfg, md5, hash_name)
    if obj is None:
        return None
    # The run's result is cached under this md5: the bytes the tests read must be its.
    actual = md5_file(obj) if hash_name == "md5" else md5_for(obj.read_bytes(), hash_name)
    if actual != md5:
        raise BadInput(
            f"{path}: its DVC cache object {obj} hashes to {actual}, not {md5} (corrupt "
            "or tampered with); the model tests were not run. Delete that file, then "
            "`dvc pull` it (or `gitml repro`)"
        )
    return str(obj)


def _materialise(ctx: CheckContext, cfg: DvcConfig, path: str, into: Path) -> str | None:
    """A local file for a DVC-tracked path: the cache object, or a verified copy of a directory."""
    out = ctx.lineage.out(path)
    if out is None or not out.md5:
        return None
    if not out.is_dir:
        return _verified_object(cfg, path, out.md5, out.hash)
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


def _inputs(
    ctx: CheckContext,
    cfg: DvcConfig,
    m: Model,
    entry: ModelEntry,
    base: baselines.Baseline,
    obj: Path,
    plan: _Plan,
    tmp: Path,
) -> dict[str, Any]:
    """The plugin's inputs (its module docstring says what each is)."""
    md5, hash_name = str(entry.md5), entry.hash or "md5"
    model: dict[str, str | dict[str, str]] = {
        "path": m.path,
        "name": m.name,
        "file": str(obj),
        "md5": md5,
        "hash": hash_name,
        "format": entry.format or m.format,
    }
    if md5.endswith(".dir"):
        model["members"] = _member_objects(cfg, obj, hash_name)
    data = {p: f for p in plan.data_paths if (f := _materialise(ctx, cfg, p, tmp)) is not None}
    return {
        "model": model,
        "data": data,
        "slices": _slices(ctx, m, data),
        "metrics": entry.metrics or {},
        "params": _params(ctx),
        "baseline": {"rev": base.rev, "metrics": base.metrics} if base.rev else None,
        "results": str(tmp / "results.json"),
    }


def _slices(ctx: CheckContext, m: Model, data: dict[str, str]) -> dict[str, Any] | None:
    """What `gitml_slices` reads: the sliced dataset's verified local file, how to read it."""
    if m.slices is None:
        return None
    path = m.slices.data
    if path not in data:
        raise BadInput(
            f"gitml.yaml: model {m.path}: slices.data {path!r} is not a DVC-tracked dataset its "
            "tests can read (gitml.yaml `data:`, or a dep or out of the model's pipeline)"
        )
    dataset = next((d for d in ctx.lineage.config.data if d.path == path), None)
    return {
        "data": path,
        "file": data[path],
        "format": dataset.format if dataset else "auto",
        "read": dataset.read if dataset else {},
        "by": [list(pair) for pair in m.slices.by],
    }


def _pytest_command(python: str, tests: str, config: Path | None) -> list[str]:
    # In place, as `pytest <tests>` from the repository's root: its layout, imports,
    # conftest.py files and symlinks as they are (refuse_unstaged saw they are the staged
    # ones). The config is named (-c) as the one the cache key hashed; it is the file
    # pytest's own search would pick, so rootdir and confcutdir are the usual ones.
    return [
        python, "-m", "pytest", "-p", "no:gitml", "-p", "gitml.pytest_plugin",
        "-p", "no:cacheprovider", "-q", "--no-header", "-o", "console_output_style=classic",
        *(["-c", str(config)] if config is not None else []), tests,
    ]  # fmt: skip


def _run_pytest(
    ctx: CheckContext, m: Model, entry: ModelEntry, base: baselines.Baseline, plan: _Plan
) -> dict[str, Any]:
    assert m.tests
    cfg = ctx.dvc_config or read_config(ctx.repo.root)
    md5, hash_name = str(entry.md5), entry.hash or "md5"
    obj = objects.locate(cfg, md5, hash_name)
    if obj is None:
        raise BadInput(f"{m.path}: its DVC object {md5} is not in the cache: `dvc pull` it")
    tmp = _run_dir(ctx.repo.common_dir)
    try:
        install_plugin(tmp / "plugin")
        inputs = _inputs(ctx, cfg, m, entry, base, obj, plan, tmp)
        (tmp / "inputs.json").write_text(json.dumps(inputs, sort_keys=True, default=str))
        env = environment.interpreter_on_path(plan.python)
        env[ENV_INPUTS] = str(tmp / "inputs.json")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(tmp / "plugin"), env.get("PYTHONPATH")) if p
        )
        proc = subprocess.run(
            _pytest_command(plan.python, m.tests, plan.config),
            check=False,
            cwd=ctx.repo.root,
            env=env,
            capture_output=True,
            text=True,
        )
        found = state_mod.read_json(tmp / "results.json")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _result(m, plan.python, proc, found)


def _result(
    m: Model, python: str, proc: subprocess.CompletedProcess[str], found: Any
) -> dict[str, Any]:
    """The plugin's results; a pytest that crashed, or never ran, as one error saying so."""
    assert m.tests
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
