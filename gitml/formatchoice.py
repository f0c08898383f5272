"""The format gitml.lock records for a model (pickle, onnx, xgboost, ...), chosen in order:
what gitml.yaml names, else what the path's suffix says, else what the bytes of its DVC cache
object say (told by gitml/modelformats.py, the one place formats are told from bytes, which the
pytest plugin's loaders use too).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from gitml import dvcfiles
from gitml.errors import BadInput

SUFFIX_FORMATS = {
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


def model_format(
    path: str, configured: str, out: dvcfiles.Out | None = None, cache_dir: Path | None = None
) -> tuple[str, str | None]:
    """The model's format and where it came from: (format, None) when gitml.yaml or the path's
    suffix names it; (format, "bytes") when it was told from the bytes of the DVC cache object
    the out's md5 names (never the workspace's: a commit is about its staged hashes). Only for
    `auto` with a suffix that says nothing are bytes read, and only their heads."""
    if configured != "auto":
        return configured, None
    by_suffix = SUFFIX_FORMATS.get(posixpath.splitext(path)[1].lower())
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
    from gitml.modelformats import sniff_file  # only for models whose suffix says nothing

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
    return _one_format([sniff(member) for _, member in members])


def _one_format(detected: list[str | None]) -> str:
    """A directory's format: that of its one model file. A member missing from the cache
    (None) could be the model file, or a second one: unknown, as with several."""
    if None in detected:
        return "unknown"
    found = [f for f in detected if f != "unknown"]
    return found[0] if len(found) == 1 and found[0] is not None else "unknown"
