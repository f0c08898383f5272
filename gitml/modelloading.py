"""The committed model, loaded: its bytes verified against the md5 DVC records, then read by the
library of its format.

Standard library only (each format's library is imported when a model of it is loaded): gitml's
pytest plugin, inside the project's pytest, imports it from a directory holding only the
plugin's modules. The model is loaded only after the md5 of its bytes matches the recorded one
(for a directory: its `.dir` listing against the directory's md5, then every file against the
listing). A matching hash says the bytes are the committed ones, not that they are safe:
unpickling runs code. Formats: pickle, joblib, skops, onnx, torch (state dict, pickled module,
TorchScript), xgboost (JSON/UBJSON), lightgbm (text), keras (.keras, .h5); named in gitml.yaml
`format:` or guessed from the bytes (gitml.modelformats).
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from gitml.modelformats import sniff_file, sniff_format

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


# --- hashing -------------------------------------------------------------------------------------


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


# --- loading -------------------------------------------------------------------------------------


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


def _model_files(root: Path, fmt: str | None) -> list[tuple[Path, str]]:
    """(path, format) of the files of `root` in a model format (`fmt`: only that one)."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        detected = sniff_file(path)
        if detected != "unknown" and fmt in (None, detected):
            found.append((path, detected))
    return found


def load_model_directory(root: Path, fmt: str, name: str = "") -> Any:
    """The one model file of a verified directory, loaded (`fmt` picks it when there are more)."""
    if (root / "saved_model.pb").is_file():
        raise ModelRefused(
            f"{name or root} is a TensorFlow SavedModel directory, which Keras 3's load_model "
            "does not read: load it in your test from `gitml_model_path` (the verified "
            "directory), e.g. with tf.saved_model.load or keras.layers.TFSMLayer"
        )
    auto = fmt in ("auto", "unknown", "")
    found = _model_files(root, None if auto else fmt)
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
