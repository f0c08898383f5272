"""gitml's pytest plugin: fixtures for model tests, results written back as JSON.

Standard library and pytest only: gitml runs the project's interpreter with
`-p gitml.pytest_plugin` and a PYTHONPATH holding nothing but a copy of this module, so it must
import on its own. It is also registered through the `pytest11` entry point, where it does
nothing unless gitml started the run.

Inputs: the path of a JSON file in $GITML_INPUTS:
    {"model": {"path", "file", "md5", "hash", "format", "name"},   # file: the DVC cache object
     "data": {repo path: local file}, "metrics": {...}, "params": {...},
     "baseline": {"rev": sha, "metrics": {...}} | null, "results": path to write}
Results: {"passed", "failed", "skipped", "errors", "exitstatus", "failures": [{"nodeid", "repr"}],
          "model_refused": why (only when a fixture refused to load the model)}

The model is loaded only after the md5 of its bytes matches the recorded one. A matching hash
says the bytes are the committed ones, not that they are safe: unpickling runs code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import pytest

ENV_INPUTS = "GITML_INPUTS"
REPR_LIMIT = 600

# format -> (module to import, the gitml extra that installs it)
EXTRAS = {
    "joblib": ("joblib", "joblib"),
    "skops": ("skops.io", "skops"),
    "onnx": ("onnxruntime", "onnx"),
    "torch": ("torch", "torch"),
    "xgboost": ("xgboost", "xgboost"),
    "lightgbm": ("lightgbm", "lightgbm"),
    "keras": ("keras", "keras"),
}


class ModelRefused(Exception):
    """The model file was not loaded: wrong hash, unknown format, missing library."""


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


# --- hashing and loading ----------------------------------------------------------------------


def dvc_md5(data: bytes, hash_name: str) -> str:
    """DVC's md5 of a file's bytes (DVC 2's md5-dos2unix folds CRLF in text files)."""
    if hash_name == "md5-dos2unix" and b"\0" not in data[:8000]:
        data = data.replace(b"\r\n", b"\n")
    return hashlib.md5(data).hexdigest()


def verified_bytes(path: str, md5: str, hash_name: str = "md5") -> bytes:
    """The file's bytes, or ModelRefused when they do not hash to `md5` (never loaded then)."""
    if str(md5).endswith(".dir"):
        raise ModelRefused(f"{path}: directory models are not supported by gitml_model yet")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelRefused(f"cannot read the model object {path}: {exc}") from None
    actual = dvc_md5(data, hash_name)
    if actual != md5:
        raise ModelRefused(
            f"model bytes at {path} hash to {actual}, not the recorded {md5}: the cache object is "
            "corrupt or was tampered with; it was not loaded (remove it and `dvc pull` or rebuild)"
        )
    return data


def sniff_format(data: bytes) -> str:
    """A model format guessed from the bytes, for files whose suffix says nothing."""
    if data[:2] == b"PK":
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
        if "schema.json" in names:
            return "skops"
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        if "config.json" in names or "metadata.json" in names:
            return "keras"
    if data[:1] == b"\x80":
        return "joblib" if b"joblib.numpy_pickle" in data[:4096] else "pickle"
    if data[:4] == b"\x89HDF":
        return "keras"
    if data[:5] == b"tree\n" or data.startswith(b"version=v"):
        return "lightgbm"
    if data[:1] == b"{" and b'"learner"' in data[:4096]:
        return "xgboost"
    return "onnx" if data[:1] == b"\x08" else "unknown"


def _need(fmt: str) -> Any:
    import importlib

    module, extra = EXTRAS[fmt]
    try:
        return importlib.import_module(module)
    except ImportError:
        import sys

        raise ModelRefused(
            f"loading a {fmt} model needs `{module.split('.')[0]}` in the project's interpreter "
            f"({sys.executable}): install it there (pip install 'gitml[{extra}]' installs it "
            "with gitml)"
        ) from None


def load_model(data: bytes, fmt: str, suffix: str = "") -> Any:
    """Load verified model bytes in `fmt` (`auto`/`unknown`: guessed from the bytes)."""
    if fmt in ("auto", "unknown", ""):
        fmt = sniff_format(data)
    if fmt == "pickle" and b"joblib.numpy_pickle" in data[:4096]:
        fmt = "joblib"
    if fmt == "pickle":
        import pickle

        return pickle.loads(data)  # hash-verified committed bytes (see the module docstring)
    if fmt not in EXTRAS:
        raise ModelRefused(
            f"cannot tell the model's format ({fmt!r}): set `format:` for it in gitml.yaml "
            f"({', '.join(['pickle', *EXTRAS])})"
        )
    lib = _need(fmt)
    if fmt == "joblib":
        return lib.load(io.BytesIO(data))
    if fmt == "skops":
        # The hash says these are the committed bytes; the types they name are the project's.
        return lib.loads(data, trusted=lib.get_untrusted_types(data=data))
    if fmt == "onnx":
        return lib.InferenceSession(data)
    if fmt == "torch":
        import pickle

        try:
            return lib.load(io.BytesIO(data), weights_only=True)  # a state dict
        except pickle.UnpicklingError:
            return lib.load(io.BytesIO(data), weights_only=False)  # a full pickled module
    if fmt == "xgboost":
        booster = lib.Booster()
        booster.load_model(bytearray(data))
        return booster
    if fmt == "lightgbm":
        return lib.Booster(model_str=data.decode())
    # keras reads files only, and by suffix
    with tempfile.TemporaryDirectory(prefix="gitml-keras-") as tmp:
        path = Path(tmp) / ("model" + (suffix if suffix in (".keras", ".h5") else ".keras"))
        path.write_bytes(data)
        return lib.models.load_model(path)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gitml_inputs() -> dict[str, Any]:
    """Everything gitml passed in (model, data, metrics, params, baseline)."""
    return _required()


@pytest.fixture(scope="session")
def gitml_model(gitml_inputs: dict[str, Any]) -> Any:
    """The model as committed: its bytes from the DVC cache, loaded after their md5 matches."""
    m = gitml_inputs["model"]
    try:
        data = verified_bytes(m["file"], m["md5"], m.get("hash") or "md5")
        return load_model(data, m.get("format") or "auto", Path(m.get("path") or "").suffix)
    except ModelRefused as exc:
        _refuse(exc)


@pytest.fixture(scope="session")
def gitml_model_path(gitml_inputs: dict[str, Any]) -> Path:
    """The verified model file (read-only DVC cache object), for loaders of your own."""
    m = gitml_inputs["model"]
    try:
        verified_bytes(m["file"], m["md5"], m.get("hash") or "md5")
    except ModelRefused as exc:
        _refuse(exc)
    return Path(m["file"])


@pytest.fixture(scope="session")
def gitml_data(gitml_inputs: dict[str, Any]) -> dict[str, Path]:
    """{repo path: local file} of the datasets the model's pipeline reads and writes."""
    return {k: Path(v) for k, v in (gitml_inputs.get("data") or {}).items()}


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
        if _refused:
            result["model_refused"] = _refused[0]
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(result, fh, sort_keys=True)
        os.replace(tmp, self.path)


def pytest_configure(config: pytest.Config) -> None:
    data = _inputs()
    if data and data.get("results") and not config.pluginmanager.has_plugin("gitml-results"):
        config.pluginmanager.register(_Recorder(data["results"]), "gitml-results")
