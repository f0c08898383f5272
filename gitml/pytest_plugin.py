"""gitml's pytest plugin: fixtures for model tests, results written back as JSON.

Standard library and pytest only: gitml runs the project's interpreter with
`-p gitml.pytest_plugin` and a PYTHONPATH holding nothing but a copy of this module, so it must
import on its own. It is also registered through the `pytest11` entry point, where it does
nothing unless gitml started the run.

Inputs: the path of a JSON file in $GITML_INPUTS:
    {"model": {"path", "file", "md5", "hash", "format", "name",   # file: the DVC cache object
               "members": {md5: object file}},   # a directory model: file is its .dir listing
     "data": {repo path: local file}, "metrics": {...}, "params": {...},
     "baseline": {"rev": sha, "metrics": {...}} | null, "results": path to write}
Results: {"passed", "failed", "skipped", "errors", "exitstatus", "failures": [{"nodeid", "repr"}],
          "data_read": [repo paths the tests looked up in `gitml_data`],
          "model_refused": why (only when a fixture refused to load the model)}

The model is loaded only after the md5 of its bytes matches the recorded one (for a directory:
its `.dir` listing against the directory's md5, then every file against the listing). A
matching hash says the bytes are the committed ones, not that they are safe: unpickling runs
code. Formats: pickle, joblib, skops, onnx, torch (state dict, pickled module, TorchScript),
xgboost (JSON/UBJSON), lightgbm (text), keras (.keras, .h5); named in gitml.yaml `format:` or
guessed from the bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

if sys.modules.get("pytest") is not None:
    import pytest  # loaded by pytest, as its plugin
else:
    # Imported by gitml itself, for sniff_file (gitml.manifest tells a model's format for
    # gitml.lock): no fixture or hook of this module runs there, and importing pytest would
    # cost ~0.15 s of every such commit (gitml does not even depend on it). Decorators that
    # give back what they decorate are all that needs. A plugin is only ever loaded by a
    # running pytest, which has imported itself first.
    from types import SimpleNamespace

    def _as_is(*args: Any, **kwargs: Any) -> Any:
        return args[0] if len(args) == 1 and callable(args[0]) and not kwargs else _as_is

    pytest = SimpleNamespace(fixture=_as_is, hookimpl=_as_is)  # type: ignore[assignment]

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
    """The file's bytes, or ModelRefused when they do not hash to `md5` (never loaded then).
    For a directory's `.dir` listing object, `md5` is the directory's (ending in `.dir`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelRefused(f"cannot read the model object {path}: {exc}") from None
    actual = dvc_md5(data, hash_name)
    if actual != str(md5).removesuffix(".dir"):
        raise ModelRefused(
            f"model bytes at {path} hash to {actual}, not the recorded {md5}: the cache object is "
            "corrupt or was tampered with; it was not loaded (remove it and `dvc pull` or rebuild)"
        )
    return data


def is_directory(model: dict[str, Any]) -> bool:
    """A model stored as a DVC-tracked directory (its md5 names a `.dir` listing object)."""
    return str(model.get("md5") or "").endswith(".dir")


def _listing(data: bytes, source: str) -> list[tuple[PurePosixPath, str]]:
    """(relpath, md5) of a verified `.dir` listing; paths that would leave the directory refused."""
    try:
        entries = [(str(e["relpath"]), str(e["md5"])) for e in json.loads(data)]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelRefused(f"{source} is not a DVC directory listing ({exc})") from None
    listing = []
    for rel, md5 in entries:
        path = PurePosixPath(rel)
        if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
            raise ModelRefused(f"{source}: member path {rel!r} would leave the directory")
        listing.append((path, md5))
    return listing


def _verified_copy(src: str, md5: str, hash_name: str, dest: Path) -> None:
    """Copy one member object to `dest`, hashing as it goes; refused (and removed) on mismatch."""
    digest = hashlib.md5()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if hash_name != "md5":  # md5-dos2unix needs the whole text to fold its line ends
            data = Path(src).read_bytes()
            actual = dvc_md5(data, hash_name)
            dest.write_bytes(data)
        else:
            with open(src, "rb") as fin, open(dest, "xb") as fout:
                while chunk := fin.read(1 << 20):
                    digest.update(chunk)
                    fout.write(chunk)
            actual = digest.hexdigest()
    except OSError as exc:
        raise ModelRefused(f"cannot copy the model object {src} to {dest}: {exc}") from None
    if actual != md5:
        dest.unlink()
        raise ModelRefused(
            f"model bytes at {src} hash to {actual}, not the recorded {md5}: the cache object is "
            "corrupt or was tampered with; it was not loaded (remove it and `dvc pull` or rebuild)"
        )


def verified_directory(model: dict[str, Any], dest: Path) -> Path:
    """The directory model rebuilt at `dest` from its DVC objects: the `.dir` listing verified
    against the model's md5, then every member against the md5 the listing gives it."""
    hash_name = model.get("hash") or "md5"
    listing = verified_bytes(model["file"], model["md5"], hash_name)
    objects: dict[str, str] = model.get("members") or {}
    for rel, md5 in _listing(listing, model["file"]):
        src = objects.get(md5)
        if src is None:
            raise ModelRefused(
                f"{model.get('path')}/{rel}: its DVC object {md5} is not in the cache; it was not "
                "loaded (`dvc pull` it)"
            )
        _verified_copy(src, md5, hash_name, dest.joinpath(*rel.parts))
    return dest


# ONNX files are protobuf ModelProto: field 1 (ir_version, a small varint) first, then a
# length-delimited field (producer_name, graph, opset_import, ...).
_ONNX_SECOND_TAGS = (b"\x12", b"\x1a", b"\x22", b"\x2a", b"\x32", b"\x3a", b"\x42")
# A legacy (non-zip) torch.save file starts with the pickled magic number 0x1950a86a20f9469cfc6c.
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def _zip_format(names: list[str]) -> str:
    if "schema.json" in names:
        return "skops"
    if any(n.endswith("data.pkl") for n in names):
        return "torch"  # torch.save (state dict or pickled module) and TorchScript archives
    if "config.json" in names or "metadata.json" in names:
        return "keras"
    return "unknown"


def sniff_format(data: bytes, zip_names: list[str] | None = None) -> str:
    """A model format guessed from the bytes (or the first 4 KiB of them, with the member names
    of a zip file), for files whose suffix says nothing."""
    if data[:2] == b"PK":
        if zip_names is None:
            import zipfile

            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    zip_names = zf.namelist()
            except zipfile.BadZipFile:
                return "unknown"
        return _zip_format(zip_names)
    if data.startswith(_TORCH_LEGACY_MAGIC):
        return "torch"
    if data[:1] == b"\x80":
        return "joblib" if b"joblib.numpy_pickle" in data[:4096] else "pickle"
    if data[:4] == b"\x89HDF":
        return "keras"
    if data[:5] == b"tree\n" or data.startswith(b"version=v"):
        return "lightgbm"
    if data[:1] == b"{" and b"learner" in data[:64]:  # xgboost JSON ('"learner"') or UBJSON
        return "xgboost"
    if len(data) > 2 and data[0] == 0x08 and 0 < data[1] < 0x80 and data[2:3] in _ONNX_SECOND_TAGS:
        return "onnx"
    return "unknown"


def sniff_file(path: Path) -> str:
    """sniff_format for a file on disk, reading only its head (and a zip's member list)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head[:2] != b"PK":
        return sniff_format(head)
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return sniff_format(head, zf.namelist())
    except zipfile.BadZipFile:
        return "unknown"


def _need(fmt: str) -> Any:
    import importlib
    import sys

    module, extra = EXTRAS[fmt]
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is None or exc.name.split(".")[0] == top:
            raise ModelRefused(
                f"loading a {fmt} model needs `{top}` in the project's interpreter "
                f"({sys.executable}): install it there (pip install 'gitml[{extra}]' installs "
                "it with gitml)"
            ) from None
        # The library is there but something it imports is not: for Keras 3, its backend.
        backend = (
            " Keras 3 runs on a backend it does not install: install tensorflow, jax or torch "
            "there and name it in KERAS_BACKEND (or ~/.keras/keras.json)."
            if fmt == "keras"
            else ""
        )
        raise ModelRefused(
            f"loading a {fmt} model: `{top}` is installed in the project's interpreter "
            f"({sys.executable}) but importing it failed: {exc}.{backend}"
        ) from None


def _load_torch(torch: Any, data: bytes) -> Any:
    import pickle
    import zipfile

    # A model saved on a GPU still loads where there is none (CI, a laptop).
    where = None if torch.cuda.is_available() else "cpu"
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if any(n.endswith("constants.pkl") for n in zf.namelist()):
                return torch.jit.load(io.BytesIO(data), map_location=where)  # TorchScript
    try:
        # Tensors and plain containers only: a state dict (or a dict of them) loads this way.
        return torch.load(io.BytesIO(data), map_location=where, weights_only=True)
    except pickle.UnpicklingError:
        pass
    # A whole pickled nn.Module needs weights_only=False, which unpickles arbitrary objects
    # (running code the file names). These bytes hashed to the md5 the commit records
    # (verified_bytes / verified_directory ran before this), so what runs is the committed
    # model, as for any pickle format; its classes import from the project's code.
    return torch.load(io.BytesIO(data), map_location=where, weights_only=False)


def _load_xgboost(xgb: Any, data: bytes) -> Any:
    booster = xgb.Booster()
    booster.load_model(bytearray(data))
    # A model saved from the scikit-learn wrapper (XGBClassifier.save_model) says so: give it
    # back as that wrapper, so tests call .predict(X) as on the original.
    try:
        kind = json.loads(booster.attr("scikit_learn") or "{}").get("_estimator_type")
        wrapper = {"classifier": "XGBClassifier", "regressor": "XGBRegressor",
                   "ranker": "XGBRanker"}.get(kind)  # fmt: skip
        if wrapper is None:
            return booster
        model = getattr(xgb, wrapper)()
        model.load_model(bytearray(data))
        return model
    except (ImportError, ValueError, AttributeError):
        return booster


def load_model(data: bytes, fmt: str, suffix: str = "", name: str = "") -> Any:
    """Load verified model bytes in `fmt` (`auto`/`unknown`: guessed from the bytes). Whatever
    stops them loading is a ModelRefused saying so, never a bare traceback."""
    if fmt in ("auto", "unknown", ""):
        fmt = sniff_format(data)
    if fmt == "pickle" and b"joblib.numpy_pickle" in data[:4096]:
        fmt = "joblib"
    if fmt != "pickle" and fmt not in EXTRAS:
        raise ModelRefused(
            f"cannot tell the model's format ({fmt!r}): set `format:` for it in gitml.yaml "
            f"({', '.join(['pickle', *EXTRAS])})"
        )
    try:
        return _load(data, fmt, suffix)
    except ModelRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - each library raises its own kinds for bad bytes
        raise ModelRefused(
            f"{name or 'the model'} did not load as {fmt} ({type(exc).__name__}: {exc}); its "
            "bytes are the committed ones (their md5 matched): check `format:` in gitml.yaml, "
            "the library's version in the project's interpreter, and that the classes the model "
            "names import there"
        ) from None


def _load(data: bytes, fmt: str, suffix: str) -> Any:
    if fmt == "pickle":
        import pickle

        return pickle.loads(data)  # hash-verified committed bytes (see the module docstring)
    lib = _need(fmt)
    if fmt == "joblib":
        return lib.load(io.BytesIO(data))
    if fmt == "skops":
        # The hash says these are the committed bytes; the types they name are the project's.
        return lib.loads(data, trusted=lib.get_untrusted_types(data=data))
    if fmt == "onnx":
        return lib.InferenceSession(data)
    if fmt == "torch":
        return _load_torch(lib, data)
    if fmt == "xgboost":
        return _load_xgboost(lib, data)
    if fmt == "lightgbm":
        return lib.Booster(model_str=data.decode())
    # Keras reads files only, and tells HDF5 from its zip format by the suffix alone: an HDF5
    # file is named .h5 whatever the model's own name (clf.bin, weights.hdf5).
    ext = suffix if suffix in (".keras", ".h5") else (".h5" if data[:4] == b"\x89HDF" else ".keras")
    with tempfile.TemporaryDirectory(prefix="gitml-keras-") as tmp:
        path = Path(tmp) / ("model" + ext)
        path.write_bytes(data)
        return lib.models.load_model(path)


def load_model_directory(root: Path, fmt: str, name: str = "") -> Any:
    """The one model file of a verified directory, loaded (`fmt` picks it when there are more)."""
    if (root / "saved_model.pb").is_file():
        raise ModelRefused(
            f"{name or root} is a TensorFlow SavedModel directory, which Keras 3's load_model "
            "does not read: load it in your test from `gitml_model_path` (the verified "
            "directory), e.g. with tf.saved_model.load or keras.layers.TFSMLayer"
        )
    auto = fmt in ("auto", "unknown", "")
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        detected = sniff_file(path)
        if detected != "unknown" and (auto or detected == fmt):
            found.append((path, detected))
    if len(found) != 1:
        listed = ", ".join(f"{p.relative_to(root)} ({f})" for p, f in found) or "none"
        raise ModelRefused(
            f"{name or root} is a directory: gitml_model loads its one model file"
            + ("" if auto else f" of format {fmt}")
            + f", and found {len(found)} ({listed}). Set `format:` in gitml.yaml to pick one, "
            "or load what you need from `gitml_model_path` (the verified directory)"
        )
    path, detected = found[0]
    member = f"{name or root}/{path.relative_to(root).as_posix()}"
    return load_model(path.read_bytes(), detected, path.suffix, member)


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

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
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
