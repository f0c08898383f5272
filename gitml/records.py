"""Mappings of a YAML file as frozen dataclasses, read and written back with nothing lost.

A `Record` subclass names its keys as fields (`key(str)`, `nested(Other)`): `read_record`
turns a parsed mapping into one without judging it (what a field does not accept, and every key
it does not know, is kept in `extra`, as read), and `plain` gives the mapping back. Each record
read remembers the known keys it had (`written`), so one without a key, or with a key holding
null, is written back so; a record made in code is written with its `ALWAYS` keys and every other
one that is not None. gitml/lockfile.py describes gitml.lock with them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias, TypeVar

Json: TypeAlias = "None | bool | int | float | str | list[Json] | dict[str, Json]"
JsonObject: TypeAlias = "dict[str, Json]"


@dataclass(frozen=True)
class _Kind:
    """What a key holds: a plain value of `types`, or `record` (one, a list, a map of them)."""

    types: tuple[type, ...] = ()
    record: type[Record] | None = None
    shape: str = "value"  # value | one | list | map
    empty: bool = True  # a map read from null is {} (else None, written back as null)

    def accepts(self, value: Any) -> bool:
        if self.shape == "value":
            return _is_a(value, self.types)
        if self.shape == "one":
            return isinstance(value, dict)
        if self.shape == "list":
            return isinstance(value, list) and all(isinstance(v, dict) for v in value)
        return isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())

    def read(self, value: Any) -> Any:
        record = self.record
        if record is None or (value is None and not (self.shape == "map" and self.empty)):
            return value
        if self.shape == "one":
            return read_record(record, value)
        if self.shape == "list":
            return [read_record(record, v) for v in value]
        return {str(k): read_record(record, v) for k, v in (value or {}).items()}

    def write(self, value: Any) -> Any:
        if self.record is None or value is None:
            return value
        if self.shape == "one":
            return plain(value)
        if self.shape == "list":
            return [plain(v) for v in value]
        return {k: plain(v) for k, v in value.items()}


def _is_a(value: Any, types: tuple[type, ...]) -> bool:
    """isinstance, where a bool is no int (unless bool is named) and anything is an object."""
    if object in types:
        return True
    return isinstance(value, types) and (bool in types or not isinstance(value, bool))


def key(*types: type) -> Any:
    """A field holding a plain value of `types` (None: absent, or null)."""
    return field(default=None, metadata={"kind": _Kind(types)})


def nested(record: type[Record], shape: str = "one", empty: bool = True) -> Any:
    """A field holding a `record`, or (`shape`) a list or a map of them; a map is {} when the
    key is absent or null, unless `empty` is False (then None, and a null written back)."""
    kind = _Kind(record=record, shape=shape, empty=empty)
    if shape == "map" and empty:
        return field(default_factory=dict, metadata={"kind": kind})
    return field(default=None, metadata={"kind": kind})


@dataclass(frozen=True)
class Record:
    """A mapping of the file, its keys as fields of the same names."""

    # the keys this gitml does not read, as they were read
    extra: JsonObject = field(default_factory=dict, kw_only=True)
    # the known keys the record had when read; None: made now, written with its ALWAYS keys
    written: frozenset[str] | None = field(default=None, kw_only=True, compare=False, repr=False)
    # the keys written even when they hold null (when `written` is None)
    ALWAYS: ClassVar[frozenset[str]] = frozenset()


R = TypeVar("R", bound=Record)


_KINDS: dict[type[Record], dict[str, _Kind]] = {}


def _kinds(record: type[Record]) -> dict[str, _Kind]:
    if record not in _KINDS:
        _KINDS[record] = {
            f.name: f.metadata["kind"] for f in dataclasses.fields(record) if "kind" in f.metadata
        }
    return _KINDS[record]


def read_record(record: type[R], doc: Mapping[Any, Any]) -> R:
    """`doc` as a `record`, unchecked: what a field does not accept is kept in `extra`."""
    kinds = _kinds(record)
    values: dict[str, Any] = {}
    extra: JsonObject = {}
    for key, value in doc.items():
        kind = kinds.get(key) if isinstance(key, str) else None
        if kind is not None and (value is None or kind.accepts(value)):
            values[key] = kind.read(value)
        else:
            extra[str(key)] = value
    return record(**values, extra=extra, written=frozenset(values))


def plain(record: Record) -> dict[str, Any]:
    """The record as the plain mapping the file holds (its `extra` included)."""
    out: dict[str, Any] = dict(record.extra)
    for name, kind in _kinds(type(record)).items():
        value = getattr(record, name)
        if _writes(record, name, value):
            out[name] = kind.write(value)
    return out


def _writes(record: Record, name: str, value: Any) -> bool:
    if value is not None and value != {}:
        return True
    return name in (record.written if record.written is not None else record.ALWAYS)


def misfits(record: Record) -> list[str]:
    """The known keys the record holds in `extra`: read with a value of a type its field does
    not accept (what a hand edit leaves; gitml never writes one)."""
    return [name for name in _kinds(type(record)) if name in record.extra]


def written_keys(record: Record) -> frozenset[str]:
    """The known keys the serialiser writes for `record`."""
    return frozenset(n for n in _kinds(type(record)) if _writes(record, n, getattr(record, n)))


def updated(record: R, **changes: Any) -> R:
    """`record` with `changes`, each written, even as null: what setting the keys in the
    file's mapping does (the record's other keys are written as before)."""
    written = written_keys(record) | frozenset(changes)
    extra = {k: v for k, v in record.extra.items() if k not in changes}
    return dataclasses.replace(record, **changes, extra=extra, written=written)


def without(record: R, *names: str) -> R:
    """`record` without the keys `names`: what deleting them from the file's mapping does."""
    written = written_keys(record) - frozenset(names)
    extra = {k: v for k, v in record.extra.items() if k not in names}
    return dataclasses.replace(record, **dict.fromkeys(names), extra=extra, written=written)
