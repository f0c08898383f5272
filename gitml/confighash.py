"""The hashes of gitml.yaml that gitml.lock records, each where the config it hashes lives.

Each model and dataset entry records the sha256 of its own gitml.yaml block, and the top level
one per other top-level key (`settings:`). One hash of the whole file changed on every edit of
it: two branches editing different blocks, which git merges cleanly, conflicted on that one
line of gitml.lock where no merge driver runs (issue 18), and any edit re-ran every check. A
hash is of the parsed values (defaults filled in, mappings' keys sorted), not of the text: a
comment, a reordered mapping or a default spelled out changes nothing gitml does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from gitml.config import Config, Dataset, Model
from gitml.fileio import sha256_bytes

# The Config fields each `settings` hash covers; models and data are hashed per entry.
SETTINGS: dict[str, tuple[str, ...]] = {
    "environment": ("environment_files",),
    "hooks": ("block_stale",),
    "python": ("python",),
    "registry": ("approvals",),
    "reproduce": ("seeds", "tolerance"),
}
PER_ENTRY = ("data", "models")
UNHASHED = ("version",)  # always 1


def block_sha256(block: Model | Dataset) -> str:
    """The sha256 of one model's or dataset's gitml.yaml block, as gitml parsed it."""
    return _sha256_of(block)


def settings_sha256(config: Config) -> dict[str, str]:
    """One sha256 per top-level gitml.yaml key other than `models`, `data` and `version`."""
    return {
        key: _sha256_of({name: getattr(config, name) for name in names})
        for key, names in SETTINGS.items()
    }


def _sha256_of(value: Any) -> str:
    text = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), default=repr)
    return sha256_bytes(text.encode())


def _canonical(value: Any) -> Any:
    """`value` as JSON can hold it: records as mappings, tuples as lists. A mapping with keys
    other than strings (YAML allows them in a reader's options) as its sorted [key, value]
    pairs, which json.dumps could neither sort nor tell apart from their strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        items = [(_canonical(k), _canonical(v)) for k, v in value.items()]
        if all(isinstance(k, str) for k, _ in items):
            return dict(items)
        return sorted(([k, v] for k, v in items), key=lambda kv: json.dumps(kv, default=repr))
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value
