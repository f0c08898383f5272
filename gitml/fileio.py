"""Reading and writing files the way gitml promises: atomically, deterministically, hashed."""

from __future__ import annotations

import errno
import hashlib
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from gitml.errors import BadInput

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

CHUNK = 1024 * 1024


def refuse_special_file(path: Path, what: str) -> None:
    """Refuse to write `path` (a file gitml writes or stages) when it is a symlink, or anything
    but a regular file: neither written through nor silently replaced."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        target = f" (to {os.readlink(path)})" if path.is_symlink() else ""
        raise BadInput(
            f"{what} is a symlink{target} or not a regular file: gitml neither reads nor writes "
            f"through it. Replace it with a regular file, then run the command again"
        )


def regular_file_text(path: Path, what: str) -> str:
    """The text of a file gitml is about to rewrite ("" when absent). A symlink there, or
    anything but a regular file, is refused: a cloned repository may link `.gitattributes` to
    the user's secrets, and rewriting the link's target would stage them."""
    refuse_special_file(path, what)
    try:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{what} cannot be read ({exc})") from None


def user_output_file(out: Path) -> Path | None:
    """The regular file `--out FILE` may be written to (None: `-`, standard output). Anything
    else there is refused before the work: a symlink (neither written through nor replaced), a
    directory, a device or a FIFO (replacing /dev/full with a regular file, or feeding a FIFO's
    reader nothing, is not what was asked)."""
    if str(out) == "-":
        return None
    if out.is_symlink():
        raise BadInput(f"--out {out} is a symlink: give the path of a regular file")
    if out.exists() and not out.is_file():
        kind = "a directory" if out.is_dir() else "not a regular file (a device or a FIFO)"
        raise BadInput(f"--out {out} is {kind}: give the path of a regular file, or - for stdout")
    if not out.parent.is_dir():
        raise BadInput(f"--out {out}: its directory {out.parent} does not exist")
    return out


def write_user_output(out: Path, data: bytes) -> str:
    """Write `--out`'s bytes (checked by `user_output_file`) atomically; returns where to."""
    target = user_output_file(out)
    if target is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "standard output"
    atomic_write(target, data)
    return str(target)


def user_output_dir(out: Path) -> Path:
    """The directory `--out DIR` may be filled: made if absent; a symlink or a file is refused."""
    if out.is_symlink():
        raise BadInput(f"--out {out} is a symlink: give the path of a directory")
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is not a directory")
    return out


def atomic_write(path: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    """Write `data` to `path` through a temp file and a rename.

    A reader (or a crash) sees the old file or the new one, never half of one. The temp file is
    made in `tmp_dir` when given (a kill -9 must not leave it in the user's worktree, where
    `git add -A` would pick it up), else, or when `tmp_dir` is on another filesystem, next to
    `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is not None:
        try:
            _write_and_rename(path, data, tmp_dir)
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
    _write_and_rename(path, data, path.parent)


def _write_and_rename(path: Path, data: bytes, tmp_dir: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=tmp_dir)
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# Bounds on any YAML document gitml reads. No file of DVC's or gitml's comes near them, and past
# them a hostile file costs more than it is worth: libyaml's composer recurses in C (a million
# nested `[` crash the process), deep values blow Python's recursion limit in whatever walks them,
# and aliases ("billion laughs") make a few lines expand to billions of nodes.
MAX_YAML_DEPTH = 100
MAX_YAML_NODES = 2_000_000  # counting each alias as the nodes it stands for


class YamlTooComplex(yaml.MarkedYAMLError):  # type: ignore[misc]  # PyYAML is untyped
    """A document beyond MAX_YAML_DEPTH or MAX_YAML_NODES (a YAMLError: callers name the file)."""


def check_yaml_bounds(text: bytes | str) -> None:
    """Refuse a document that is too deep or expands to too many nodes, before composing it.

    Walks the parser's events (libyaml's parser keeps its own stack: no recursion), counting each
    collection's nodes with its aliases expanded. Raises YamlTooComplex, or the YAMLError of a
    document that does not parse.
    """
    count = _NodeCount()
    for event in yaml.parse(text, Loader=_Loader):
        nodes = count.nodes_of(event)
        if nodes is not None:
            count.add(nodes, event)


class _NodeCount:
    """The nodes of a document's open collections so far, each alias counted as the nodes it
    stands for."""

    def __init__(self) -> None:
        self.expanded: dict[str, int] = {}  # anchor -> nodes it stands for
        self.open: list[list[Any]] = []  # per open collection: [nodes so far, anchor]
        self.total = 0

    def nodes_of(self, event: Any) -> int | None:
        """The nodes `event` adds to the collection around it (None: none yet)."""
        if isinstance(event, yaml.CollectionStartEvent):
            if len(self.open) >= MAX_YAML_DEPTH:
                raise YamlTooComplex(
                    problem=f"nested deeper than {MAX_YAML_DEPTH} levels",
                    problem_mark=event.start_mark,
                )
            self.open.append([1, event.anchor])
            return None
        if isinstance(event, yaml.CollectionEndEvent):
            nodes, anchor = self.open.pop()
            if anchor is not None:
                self.expanded[anchor] = nodes
            return int(nodes)
        if isinstance(event, yaml.AliasEvent):
            return self.expanded.get(event.anchor, 1)
        if isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                self.expanded[event.anchor] = 1
            return 1
        return None

    def add(self, nodes: int, event: Any) -> None:
        if self.open:
            self.open[-1][0] += nodes
            count = self.open[-1][0]
        else:
            self.total += nodes
            count = self.total
        if count > MAX_YAML_NODES:
            raise YamlTooComplex(
                problem=f"expands to more than {MAX_YAML_NODES:,} values (YAML aliases?)",
                problem_mark=event.start_mark,
            )


def load_yaml(text: bytes | str) -> Any:
    """A YAML document, within the bounds above (YAMLError otherwise)."""
    check_yaml_bounds(text)
    return yaml.load(text, Loader=_Loader)


class InOrder(dict[str, Any]):
    """A mapping `dump_yaml` writes in its own order instead of sorted (gitml.lock's
    `environments:`, placed by model: gitml/locklayout.py says why)."""


class _OrderKeepingDumper(_Dumper):  # type: ignore[misc]
    pass


# PyYAML sorts a mapping it is given as a dict; given as a list of pairs, it keeps their order.
_OrderKeepingDumper.add_representer(
    InOrder,
    lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", list(data.items())),
)


def dump_yaml(data: Any) -> str:
    """`data` as block-style YAML, keys sorted except in an InOrder mapping."""
    return str(
        yaml.dump(
            data,
            Dumper=_OrderKeepingDumper,
            sort_keys=True,
            default_flow_style=False,
            allow_unicode=True,
        )
    )


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_safe(value: Any) -> Any:
    """A JSON/YAML-safe Python value (numpy scalars unwrapped; NaN -> None)."""
    value = _unwrapped(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _unwrapped(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (its text when it holds none)."""
    if not hasattr(value, "item") or isinstance(value, (list, dict, str)):
        return value
    try:
        return value.item()
    except (ValueError, AttributeError):
        return str(value)


def round_sig(value: float, digits: int = 6) -> float:
    """Round to `digits` significant digits so recorded figures do not churn between machines."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")
