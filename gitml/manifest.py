"""TRANSITIONAL: gitml.lock as plain dicts, for the modules that still read it by key.

Issue 16 typed gitml.lock (gitml/lockfile.py: Lock, one parser, one serialiser; gitml/lineage.py
builds the inputs part; gitml/lockinputs.py compares and merges parts). The modules being
restructured at the same time still take and return the lock as `Lock.to_dict()`'s mapping:
precommit, checks, modeltests, validation, reproduce, restore, commands/hook, commands/push,
commands/promote and commands/drift. Each function here is the typed one behind that mapping, so
the bytes written are the one serialiser's. The second pass converts those callers to Lock and
deletes this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitml import dvcconfig, lineage, lockfile, lockinputs, staleness
from gitml.errors import BadInput, GitmlError
from gitml.lineage import Lineage, read_lineage
from gitml.lockfile import LOCK_FILE, rounded
from gitml.lockinputs import DATA_INPUT_KEYS, MODEL_INPUT_KEYS, differences
from gitml.snapshot import Snapshot

# named by their callers as `manifest.X` (the second pass imports them from where they live);
# LOCK_FILE too, for modules written meanwhile that import it from here
__all__ = [
    "DATA_INPUT_KEYS",
    "LOCK_FILE",
    "MODEL_INPUT_KEYS",
    "Lineage",
    "committed_lock",
    "differences",
    "frozen_stages",
    "inputs",
    "inputs_part",
    "merge_results",
    "parse_lock",
    "read_lineage",
    "rounded",
    "serialize",
]


def parse_lock(data: bytes, name: str = LOCK_FILE) -> dict[str, Any]:
    return lockfile.parse(data, name).to_dict()


def serialize(lock: dict[str, Any]) -> bytes:
    return lockfile.serialize(lockfile.from_dict(lock))


def committed_lock(
    root: Path, commit: str, consequence: str, error: type[GitmlError] = BadInput
) -> tuple[Snapshot, dict[str, Any]]:
    snap, lock = lockfile.committed_lock(root, commit, consequence, error)
    return snap, lock.to_dict()


def inputs(
    lin: Lineage,
    cache_dir: Path | None,
    recorded: dict[str, Any] | None = None,
    *,
    dvc_cfg: dvcconfig.DvcConfig | None = None,
    previous: dict[str, Any] | None = None,
    remote: bool = True,
) -> dict[str, Any]:
    lock = lineage.inputs(
        lin,
        cache_dir,
        _typed(recorded),
        dvc_cfg=dvc_cfg,
        previous=_typed(previous),
        remote=remote,
    )
    doc = lock.to_dict()
    return {k: doc[k] for k in ("config_sha256", "models", "data")}


def inputs_part(lock: dict[str, Any]) -> dict[str, Any]:
    return lockinputs.inputs_part(lockfile.from_dict(lock))


def merge_results(new_inputs: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    return lockinputs.merge_results(lockfile.from_dict(new_inputs), _typed(previous)).to_dict()


def frozen_stages(lin: Lineage) -> frozenset[str]:
    return staleness.frozen_stages(lin.pipeline)


def _typed(lock: dict[str, Any] | None) -> lockfile.Lock | None:
    return lockfile.from_dict(lock) if lock is not None else None
