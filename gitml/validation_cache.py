"""The per-clone cache of validation results, keyed by content.

A result is stored under the sha256 of (the data's md5, the suite's sha256, the dataset's reader
options and sample, the GX and pandas versions, CACHE_VERSION): the same bytes committed again
cost a cache read, not GX. A hit needs the GX and pandas versions for its key but must not import
them (GX alone costs seconds): they are read from the names of their `.dist-info` directories.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from gitml import state as state_mod
from gitml.config import Dataset

CACHE_DIR = "validation"
# 2: profiles count the values of few-valued number columns (drift); 3: histograms of the others;
# 4: a failed expectation keeps its kwargs and GX's numbers, not display strings
# 5: histograms of datetime columns, Spark's top values of high-cardinality text
CACHE_VERSION = 5

_VERSIONS: dict[str, str | None] = {}


def _version(dist: str) -> str | None:
    """The installed version of `dist`, from its `NAME-VERSION.dist-info` directory name.

    Not imported, nor read through importlib.metadata (~20 ms, most of what a cache hit cost):
    one listing of each sys.path directory is enough for a regular install; importlib.metadata
    is the fallback.
    """
    if dist not in _VERSIONS:
        _VERSIONS[dist] = _listed_version(dist) or _metadata_version(dist)
    return _VERSIONS[dist]


def _listed_version(dist: str) -> str | None:
    prefix = dist.replace("-", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for n in names:
            if n.endswith(".dist-info") and n.lower().startswith(prefix):
                found = n[len(prefix) : -len(".dist-info")]
                if found:
                    return found
                break
    return None


def _metadata_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def key_inputs(md5: str, suite_sha256: str, d: Dataset) -> dict[str, Any]:
    """What a cached result depends on (stored beside it, for diagnostics). The Spark engine's
    results are its own (approximate quantiles): keyed by it and by pyspark's version; the
    pandas engine's keys are as they were before there was another engine."""
    inputs = {
        "md5": md5,
        "suite_sha256": suite_sha256,
        "format": d.format,
        "read": d.read,
        "sample": d.sample,
        "great_expectations": _version("great-expectations"),
        "pandas": _version("pandas"),
        "version": CACHE_VERSION,
    }
    if d.engine != "pandas":
        inputs.update(engine=d.engine, pyspark=_version("pyspark"))
    return inputs


def entry_path(common_dir: Path, inputs: dict[str, Any]) -> Path:
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
    return state_mod.state_dir(common_dir) / CACHE_DIR / f"{key}.json"


def read(path: Path) -> dict[str, Any] | None:
    """The cached result (success, evaluated, failed, rows, profile, sample), typed; None for a
    miss or a record gitml would not have written. A hit is counted."""
    doc = state_mod.read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("result"), dict):
        return None
    r = doc["result"]
    try:
        found = {
            "success": bool(r["success"]),
            "evaluated": int(r["evaluated"]),
            "failed": int(r["failed"]),
            "rows": list(r["rows"]),
            "profile": dict(r["profile"]),
            "sample": r.get("sample"),
        }
    except (KeyError, TypeError, ValueError):
        return None
    state_mod.count_hit(path, doc)
    return found


def write(path: Path, inputs: dict[str, Any], result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state_mod.write_json(path, {"inputs": inputs, "result": result, "hits": 0})
