"""gitml's pytest plugin: fixtures for model tests, results written back as JSON.

Standard library and pytest only: gitml runs the project's interpreter with
`-p gitml.pytest_plugin` and a PYTHONPATH holding nothing but a copy of this module and of the
two it imports (gitml.modelloading, gitml.modelformats), so they must import on their own. It is
also registered through the `pytest11` entry point, where it does nothing unless gitml started
the run.

Inputs: the path of a JSON file in $GITML_INPUTS:
    {"model": {"path", "file", "md5", "hash", "format", "name",   # file: the DVC cache object
               "members": {md5: object file}},   # a directory model: file is its .dir listing
     "data": {repo path: local file}, "metrics": {...}, "params": {...},
     "baseline": {"rev": sha, "metrics": {...}} | null, "results": path to write,
     "slices": {"data": repo path, "file": local file, "format", "read": {...},
                "by": [[name, pandas query], ...]} | null}
Results: {"passed", "failed", "skipped", "errors", "exitstatus", "failures": [{"nodeid", "repr"}],
          "data_read": [repo paths the tests looked up in `gitml_data`],
          "metrics": {dotted name: number} (what `gitml_metric` recorded),
          "model_refused": why (only when a fixture refused to load the model),
          "slice_error": why (only when a slice selected no rows, or its query failed)}

`gitml_model` loads the model only after the md5 of its bytes matches the recorded one
(gitml.modelloading says how, and which formats).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

import pytest

from gitml.modelloading import (
    ModelRefused,
    is_directory,
    load_model,
    load_model_directory,
    verified_bytes,
    verified_directory,
)

ENV_INPUTS = "GITML_INPUTS"
REPR_LIMIT = 600

# Why the model was refused in this session, if it was: gitml does not cache such a run (the
# verdict is about the object on disk, not about the model its md5 names).
_refused: list[str] = []


def _refuse(exc: ModelRefused) -> NoReturn:
    _refused.append(str(exc))
    pytest.fail(str(exc), pytrace=False)


# --- inputs -----------------------------------------------------------------------------------


def _inputs() -> dict[str, Any] | None:
    path = os.environ.get(ENV_INPUTS)
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _required() -> dict[str, Any]:
    data = _inputs()
    if data is None:
        pytest.skip("gitml fixtures need inputs from gitml: run these tests with `gitml test`")
    return data


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gitml_inputs() -> dict[str, Any]:
    """Everything gitml passed in (model, data, metrics, params, baseline)."""
    return _required()


@pytest.fixture(scope="session")
def gitml_model(gitml_inputs: dict[str, Any], request: pytest.FixtureRequest) -> Any:
    """The model as committed: its bytes from the DVC cache, loaded after their md5 matches.
    For a model stored as a directory: its one model file, from the verified directory."""
    m = gitml_inputs["model"]
    fmt = m.get("format") or "auto"
    try:
        if is_directory(m):
            root = request.getfixturevalue("gitml_model_path")
            return load_model_directory(root, fmt, m.get("path") or "")
        data = verified_bytes(m["file"], m["md5"], m.get("hash") or "md5")
        return load_model(data, fmt, Path(m.get("path") or "").suffix, m.get("path") or "")
    except ModelRefused as exc:
        _refuse(exc)


@pytest.fixture(scope="session")
def gitml_model_path(gitml_inputs: dict[str, Any]) -> Iterator[Path]:
    """The verified model, for loaders of your own: its DVC cache object (read-only), or, for
    a model stored as a directory, a temporary copy of it whose every file was verified."""
    m = gitml_inputs["model"]
    if not is_directory(m):
        try:
            verified_bytes(m["file"], m["md5"], m.get("hash") or "md5")
        except ModelRefused as exc:
            _refuse(exc)
        yield Path(m["file"])
        return
    # Beside the inputs: gitml's run directory in .git/gitml (the repository's disk, not a
    # tmpfs), which gitml removes after the run whatever happens here.
    run_dir = Path(os.environ[ENV_INPUTS]).parent
    with tempfile.TemporaryDirectory(prefix="gitml-model-", dir=run_dir) as tmp:
        name = PurePosixPath(m.get("path") or "model").name
        try:
            root = verified_directory(m, Path(tmp) / name)
        except ModelRefused as exc:
            _refuse(exc)
        yield root


# The repo paths the tests looked up in `gitml_data`: gitml records them with their md5s, so a
# change of those bytes alone runs the tests again.
_data_read: set[str] = set()


class DataFiles(dict[str, Path]):
    """`gitml_data`: a dict that notes every path looked up (by key, `get`, or by walking it)."""

    def __getitem__(self, key: str) -> Path:
        _data_read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        _data_read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            _data_read.add(key)
        return super().__contains__(key)

    def _all(self) -> None:
        _data_read.update(super().keys())

    def items(self) -> Any:
        self._all()
        return super().items()

    def values(self) -> Any:
        self._all()
        return super().values()

    def __iter__(self) -> Iterator[str]:
        self._all()
        return super().__iter__()

    def copy(self) -> dict[str, Path]:
        self._all()
        return dict(super().items())


@pytest.fixture(scope="session")
def gitml_data(gitml_inputs: dict[str, Any]) -> dict[str, Path]:
    """{repo path: local file} of the datasets the model's pipeline reads and writes (the paths
    looked up are recorded with the tests' result)."""
    return DataFiles({k: Path(v) for k, v in (gitml_inputs.get("data") or {}).items()})


@pytest.fixture(scope="session")
def gitml_metrics(gitml_inputs: dict[str, Any]) -> dict[str, Any]:
    """This commit's metrics (the model's DVC metrics file)."""
    return dict(gitml_inputs.get("metrics") or {})


@pytest.fixture(scope="session")
def gitml_params(gitml_inputs: dict[str, Any]) -> dict[str, Any]:
    """This commit's params.yaml."""
    return dict(gitml_inputs.get("params") or {})


@pytest.fixture(scope="session")
def gitml_baseline(gitml_inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The baseline's metrics (gitml.yaml `baseline:`), or None when there is no baseline."""
    base = gitml_inputs.get("baseline")
    return dict(base["metrics"] or {}) if base else None


# --- figures the tests record, and slices ---------------------------------------------------

_METRIC_NAME = re.compile(r"[A-Za-z_][\w\-]*(?:\.[\w\-]+)*")
# {dotted name: number}: what `gitml_metric` recorded in this session
_metrics: dict[str, float] = {}
# Why a slice could not be given (gitml exits 2 with it: gitml.yaml is wrong, not the model)
_slice_errors: list[str] = []


def _declared_slices(inputs: dict[str, Any]) -> list[list[str]]:
    return list((inputs.get("slices") or {}).get("by") or [])


@pytest.fixture(scope="session")
def gitml_metric(gitml_inputs: dict[str, Any]) -> Callable[..., None]:
    """`gitml_metric(name, value, slice=None)`: record a figure of the model. gitml.lock keeps
    it among the model's metrics as `tests.NAME` (with `slice=S`: `tests.slices.S.NAME`), for
    gates (`tests.NAME >= baseline.tests.NAME - 0.02`) and `gitml report`."""
    declared = {name for name, _query in _declared_slices(gitml_inputs)}

    def record(name: str, value: float, slice: str | None = None) -> None:  # noqa: A002
        if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
            raise ValueError(f"gitml_metric: {name!r} is no metric name (letters, digits, _-.)")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"gitml_metric({name!r}): {value!r} is not a number")
        if not math.isfinite(float(value)):
            raise ValueError(f"gitml_metric({name!r}): {value!r} is not a finite number")
        if slice is not None:
            if slice not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise ValueError(f"gitml_metric: no slice {slice!r} in gitml.yaml (its: {known})")
            name = f"slices.{slice}.{name}"
        _metrics[name] = float(value)

    return record


def _slice_fail(message: str) -> NoReturn:
    _slice_errors.append(message)
    pytest.fail(message, pytrace=False)


def _read_table(spec: dict[str, Any]) -> Any:
    """The sliced dataset as a pandas DataFrame (pandas: the project's own)."""
    import pandas as pd

    path, read = spec["file"], dict(spec.get("read") or {})
    fmt = spec.get("format") or "auto"
    if fmt == "auto":
        suffix = PurePosixPath(spec["data"]).suffix.lstrip(".").lower()
        fmt = suffix if suffix in ("csv", "tsv", "parquet", "jsonl", "json") else "csv"
    if fmt == "parquet":
        return pd.read_parquet(path, **read)
    if fmt in ("json", "jsonl"):
        return pd.read_json(path, lines=fmt == "jsonl", **read)
    return pd.read_csv(path, **({"sep": "\t"} if fmt == "tsv" else {}), **read)


@pytest.fixture(scope="session")
def gitml_slices(gitml_inputs: dict[str, Any]) -> list[tuple[str, Any]]:
    """The slices gitml.yaml declares for the model (`slices: {data, by: {NAME: QUERY}}`), as
    (name, rows): the rows of the dataset each pandas query selects, in gitml.yaml's order."""
    spec = gitml_inputs.get("slices")
    model = (gitml_inputs.get("model") or {}).get("path")
    if not spec:
        pytest.fail(f"gitml.yaml declares no `slices:` for model {model}", pytrace=False)
    _data_read.add(spec["data"])
    frame = _read_table(spec)
    found = []
    for name, query in spec["by"]:
        where = f"slice {name!r} of model {model} (query {query!r} on {spec['data']})"
        try:
            rows = frame.query(query)
        except Exception as exc:  # pandas: a syntax error, an unknown column, a bad comparison
            _slice_fail(f"{where}: the query fails: {type(exc).__name__}: {exc}")
        if len(rows) == 0:
            _slice_fail(f"{where}: it selects no rows")
        found.append((name, rows))
    return found


# --- results ----------------------------------------------------------------------------------


class _Recorder:
    def __init__(self, path: str):
        self.path = path
        self.counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
        self.failures: list[dict[str, str]] = []

    def add_failure(self, nodeid: str, report: Any) -> None:
        crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
        text = getattr(crash, "message", None) or str(getattr(report, "longreprtext", "") or "")
        text = text.strip()
        if len(text) > REPR_LIMIT:
            text = text[: REPR_LIMIT - 3] + "..."
        self.failures.append({"nodeid": nodeid, "repr": text})

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self.counts["failed" if report.when == "call" else "errors"] += 1
            self.add_failure(report.nodeid, report)
        elif report.skipped and report.when in ("setup", "call"):
            self.counts["skipped"] += 1
        elif report.passed and report.when == "call":
            self.counts["passed"] += 1

    @pytest.hookimpl
    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.counts["errors"] += 1
            self.add_failure(report.nodeid or "(collection)", report)

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        result = {**self.counts, "exitstatus": int(exitstatus), "failures": self.failures}
        result["data_read"] = sorted(_data_read)
        result["metrics"] = dict(sorted(_metrics.items()))
        if _refused:
            result["model_refused"] = _refused[0]
        if _slice_errors:
            result["slice_error"] = _slice_errors[0]
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(result, fh, sort_keys=True)
        os.replace(tmp, self.path)


def pytest_configure(config: pytest.Config) -> None:
    data = _inputs()
    if data and data.get("results") and not config.pluginmanager.has_plugin("gitml-results"):
        config.pluginmanager.register(_Recorder(data["results"]), "gitml-results")
