"""A model file's format told from its bytes: pickle, joblib, skops, onnx, torch, xgboost,
lightgbm, keras, or "unknown".

Standard library only: gitml's pytest plugin loads models with it (inside the project's pytest,
from a directory holding only the plugin's modules), and gitml tells a model's format for
gitml.lock with it (reading a file's head only).
"""

from __future__ import annotations

import io
from pathlib import Path

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


def _zip_members(data: bytes) -> list[str] | None:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except zipfile.BadZipFile:
        return None


def _pickled_format(data: bytes) -> str | None:
    """torch's legacy format, joblib or plain pickle: pickle streams (protocol 2 and up)."""
    if data.startswith(_TORCH_LEGACY_MAGIC):
        return "torch"
    if data[:1] == b"\x80":
        return "joblib" if b"joblib.numpy_pickle" in data[:4096] else "pickle"
    return None


def _other_format(data: bytes) -> str:
    if data[:4] == b"\x89HDF":
        return "keras"
    if data[:5] == b"tree\n" or data.startswith(b"version=v"):
        return "lightgbm"
    if data[:1] == b"{" and b"learner" in data[:64]:  # xgboost JSON ('"learner"') or UBJSON
        return "xgboost"
    if len(data) > 2 and data[0] == 0x08 and 0 < data[1] < 0x80 and data[2:3] in _ONNX_SECOND_TAGS:
        return "onnx"
    return "unknown"


def sniff_format(data: bytes, zip_names: list[str] | None = None) -> str:
    """A model format guessed from the bytes (or the first 4 KiB of them, with the member names
    of a zip file), for files whose suffix says nothing."""
    if data[:2] == b"PK":
        names = zip_names if zip_names is not None else _zip_members(data)
        return "unknown" if names is None else _zip_format(names)
    return _pickled_format(data) or _other_format(data)


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
