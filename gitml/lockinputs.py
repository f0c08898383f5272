"""The two parts of a gitml.lock entry: its *inputs* (hashes and figures read from the commit's
own files; all that `gitml lock --check` compares) and its *results* (what the checks found for
those inputs; every other key). A rewrite keeps an entry's results while its inputs are the same,
so two machines do not churn them.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeGuard, TypeVar

from gitml.lockfile import DataEntry, Lock, ModelEntry
from gitml.records import JsonObject, plain, written_keys

MODEL_INPUT_KEYS = (
    "md5",
    "hash",
    "size",
    "format",
    "format_from",  # "bytes" when gitml.yaml and the suffix left it to the bytes (see formatchoice)
    "dir",  # for a path inside a tracked directory: that directory's path and md5
    "stage",
    "frozen",  # true when that stage is frozen (`dvc freeze`): absent otherwise
    "stale",
    "inputs",
    "cmd",  # the producing stage's command, as dvc.lock records it (absent: no stage)
    "metrics",
    "metrics_from",  # where DVC holds the metrics file's bytes (absent: in git)
)
DATA_INPUT_KEYS = (
    "md5",
    "hash",
    "size",
    "nfiles",
    "dir",  # for a path inside a tracked directory: that directory's path and md5
    "source",
    "stage",
    "frozen",
    "stale",
    "suite",
    "suite_sha256",
    "reader",  # format/read/sample options other than the defaults: how the bytes are read
)

Entry = TypeVar("Entry", ModelEntry, DataEntry)


def compared_inputs(entry: ModelEntry | DataEntry) -> JsonObject:
    """An entry's inputs as freshness compares them. A format told from the model's bytes
    (`format_from: bytes`) is compared as `unknown`, what gitml.yaml and the suffix say: it is a
    result of those bytes, which `md5` compares already, and of whether the local cache holds
    them. So a lock written before gitml read formats from bytes (`unknown`) stays fresh, and
    `gitml lock --check` without the cache (a fork's CI, no `dvc pull`) does not flip; a format
    gitml.yaml names is still compared, so changing it re-runs that model's checks."""
    written = plain(entry)
    if isinstance(entry, DataEntry):
        return {k: written.get(k) for k in DATA_INPUT_KEYS}
    found = {k: written.get(k) for k in MODEL_INPUT_KEYS}
    if found.pop("format_from") == "bytes":
        found["format"] = "unknown"
    return found


def inputs_part(lock: Lock) -> JsonObject:
    """The inputs part of a gitml.lock (what freshness compares)."""
    return {
        "config_sha256": lock.extra.get("config_sha256", lock.config_sha256),
        "models": {p: compared_inputs(e) for p, e in lock.models.items()},
        "data": {p: compared_inputs(e) for p, e in lock.data.items()},
    }


def short(value: Any) -> str:
    """A value as one line of at most 40 characters, for messages."""
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Human lines naming what differs between two inputs parts."""
    lines = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        where = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            lines.extend(differences(a, b, where + "."))
        elif a != b:
            if a is None:
                lines.append(f"{where}: added")
            elif b is None:
                lines.append(f"{where}: removed")
            else:
                lines.append(f"{where}: {short(a)} -> {short(b)}")
    return lines


def merge_results(new: Lock, previous: Lock | None) -> Lock:
    """The lock `new` (inputs only), each entry with its results in `previous` kept where its
    inputs did not change. Top-level keys are `new`'s: the environments come from the caller."""
    if previous is None:
        return new
    models = {}
    for path, model in new.models.items():
        old_model = previous.models.get(path)
        if _same_inputs(old_model, model):
            model = _format_kept(_with_results(model, old_model, MODEL_INPUT_KEYS), old_model)
        models[path] = model
    data = {}
    for path, dataset in new.data.items():
        old_data = previous.data.get(path)
        if _same_inputs(old_data, dataset):
            dataset = _with_results(dataset, old_data, DATA_INPUT_KEYS)
        data[path] = dataset
    return dataclasses.replace(new, models=models, data=data)


def _same_inputs(old: Entry | None, new: Entry) -> TypeGuard[Entry]:
    return old is not None and compared_inputs(old) == compared_inputs(new)


def _with_results(new: Entry, old: Entry, input_keys: tuple[str, ...]) -> Entry:
    """`new`, with every non-input key of `old`: its results, and keys this gitml does not know."""
    results = {f: getattr(old, f) for f in _fields(old) if f not in input_keys}
    extra = {**new.extra, **{k: v for k, v in old.extra.items() if k not in input_keys}}
    written = None
    if new.written is not None or old.written is not None:
        written = written_keys(new) | (written_keys(old) - set(input_keys))
    return dataclasses.replace(new, **results, extra=extra, written=written)


def _format_kept(entry: ModelEntry, old: ModelEntry) -> ModelEntry:
    """The same bytes, their format told before where the cache held them: kept as a result
    is, so a commit made without the object does not churn it to `unknown`."""
    if entry.format == "unknown" and old.format_from == "bytes" and isinstance(old.format, str):
        written = entry.written | {"format_from"} if entry.written is not None else None
        return dataclasses.replace(entry, format=old.format, format_from="bytes", written=written)
    return entry


def _fields(entry: ModelEntry | DataEntry) -> list[str]:
    return [f.name for f in dataclasses.fields(entry) if f.name not in ("extra", "written")]


def has_results(entry: ModelEntry | DataEntry) -> bool:
    """Whether the entry holds a key besides its inputs and its environment: the results a
    check recorded (or a key this gitml does not know, kept as a result is)."""
    inputs = MODEL_INPUT_KEYS if isinstance(entry, ModelEntry) else DATA_INPUT_KEYS
    keys = written_keys(entry) | set(entry.extra)
    return bool(keys - set(inputs) - {"environment"})
