"""Reading a dataset into one pandas DataFrame: csv, tsv, parquet, jsonl, json.

A DVC-tracked directory is read as the union of its files (all of one format); the frame keeps
where each file's rows start, so a bad row can be traced to its file. Nothing is ever read in
chunks: above the size limit gitml refuses, unless gitml.yaml asks for an explicit `sample:`.
pandas is imported only inside the functions that read.
"""

from __future__ import annotations

import bisect
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.errors import BadInput
from gitml.paths import inside

MAX_BYTES_ENV = "GITML_VALIDATE_MAX_BYTES"
DEFAULT_MAX_BYTES = 1 << 30
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
SAMPLE_KEYS = {"rows"}


@dataclass(frozen=True)
class Source:
    """One file to read: `name` is what messages show (repo-relative), `file` holds the bytes
    (a workspace file, or a DVC cache object that has no extension of its own)."""

    name: str
    file: Path
    md5: str | None = None  # a DVC cache object's hash: checked before its bytes are trusted
    hash: str = "md5"  # DVC's hash field for `md5` (md5 or md5-dos2unix)


@dataclass
class Frame:
    df: Any  # pandas.DataFrame, index 0..n-1 across all files
    dtypes: dict[str, str]  # column -> dtype as read (before str columns become object)
    starts: list[int] = field(default_factory=list)  # first row of each file in `df`
    names: list[str] = field(default_factory=list)  # the file each start belongs to

    def where(self, index: int) -> str:
        """`row N` (1-based data row) of a single file, `FILE row N` in a directory union."""
        i = max(bisect.bisect_right(self.starts, index) - 1, 0)
        row = index - self.starts[i] + 1
        return (
            f"{posixpath.basename(self.names[i])} row {row}"
            if len(self.names) > 1
            else (f"row {row}")
        )


def max_bytes() -> int:
    raw = os.environ.get(MAX_BYTES_ENV)
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        return int(raw)
    except ValueError:
        raise BadInput(f"{MAX_BYTES_ENV}={raw!r} must be a number of bytes") from None


def format_of(name: str, configured: str) -> str:
    if configured != "auto":
        return configured
    fmt = SUFFIX_FORMATS.get(posixpath.splitext(name)[1].lower())
    if fmt is None:
        raise BadInput(
            f"{name}: cannot tell its format from the name; set `format:` "
            f"({', '.join(sorted(set(SUFFIX_FORMATS.values())))}) for it in gitml.yaml"
        )
    return fmt


def check_sample(dataset: str, sample: dict[str, Any] | None) -> int | None:
    """The number of rows an explicit `sample: {rows: N}` asks for (None: the whole data)."""
    if sample is None:
        return None
    unknown = set(sample) - SAMPLE_KEYS
    rows = sample.get("rows")
    if unknown or isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise BadInput(
            f"gitml.yaml: `sample` of {dataset!r} must be {{rows: N}} with N a positive integer "
            "(validate the first N rows)"
        )
    return rows


def check_size(dataset: str, total: int, rows: int | None, configured: int | None = None) -> None:
    """Refuse data above the limit (the dataset's `max_bytes`, else the clone-wide default)."""
    limit = configured or max_bytes()
    if total > limit and rows is None:
        raise BadInput(
            f"{dataset} is {total / 2**20:.1f} MiB, above gitml's validation limit of "
            f"{limit / 2**20:.1f} MiB (`max_bytes` in gitml.yaml, default {MAX_BYTES_ENV}). gitml does not validate in chunks "
            "(row counts, uniqueness and quantiles would be wrong). Add an explicit sample to its "
            "entry in gitml.yaml, e.g. `sample: {rows: 1000000}` (validates the first N rows and "
            "is recorded in gitml.lock), or raise its `max_bytes`"
        )


def _read_one(src: Source, fmt: str, options: dict[str, Any], rows: int | None) -> Any:
    import pandas as pd

    opts = dict(options)
    if fmt in ("csv", "tsv"):
        opts.setdefault("sep", "," if fmt == "csv" else "\t")
        if rows is not None:
            opts["nrows"] = rows
        return pd.read_csv(src.file, **opts)
    if fmt == "jsonl":
        if rows is not None:
            opts["nrows"] = rows
        return pd.read_json(src.file, lines=True, **opts)
    if fmt == "json":
        df = pd.read_json(src.file, **opts)
        return df.head(rows) if rows is not None else df
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise BadInput(
                f"{src.name}: reading Parquet needs pyarrow, which is not installed in gitml's "
                "environment (pip install pyarrow)"
            ) from None
        df = pd.read_parquet(src.file, **opts)
        return df.head(rows) if rows is not None else df
    raise BadInput(f"{src.name}: unknown format {fmt!r}")


def read_frame(
    sources: list[Source],
    formats: list[str],
    options: dict[str, Any],
    rows: int | None = None,
) -> Frame:
    """All `sources` (one file, or the files of a directory) as one frame."""
    import pandas as pd

    if len(set(formats)) > 1:
        mixed = ", ".join(sorted(set(formats)))
        raise BadInput(
            f"{posixpath.dirname(sources[0].name)}: a directory is validated as the union of "
            f"files of one format, and it mixes {mixed}; set `format:` in gitml.yaml"
        )
    frames, starts, names = [], [], []
    total = 0
    for src, fmt in zip(sources, formats):
        try:
            df = _read_one(src, fmt, options, None if rows is None else rows - total)
        except BadInput:
            raise
        except pd.errors.EmptyDataError:
            raise BadInput(f"{src.name}: the file is empty") from None
        except TypeError as exc:  # an unknown reader option
            raise BadInput(f"{src.name}: bad `read:` options in gitml.yaml ({exc})") from None
        except (
            ValueError,
            OSError,
            UnicodeDecodeError,
            pd.errors.ParserError,
            IndexError,  # e.g. `index_col` past the last column
            KeyError,
            OverflowError,
        ) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BadInput(f"{src.name}: cannot be read as {fmt} ({msg})") from None
        if not isinstance(df, pd.DataFrame):  # `chunksize`/`iterator` give a reader instead
            if hasattr(df, "close"):
                df.close()
            raise BadInput(f"{src.name}: bad `read:` options in gitml.yaml (they give no table)")
        if len(df.columns) == 0:
            raise BadInput(f"{src.name}: the file is empty (no columns)")
        starts.append(total)
        names.append(src.name)
        frames.append(df)
        total += len(df)
        if rows is not None and total >= rows:
            break
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    df = df.reset_index(drop=True)
    if len(df) == 0:
        raise BadInput(f"{sources[0].name}: the file has no rows")
    dtypes = {str(c): str(df[c].dtype) for c in df.columns}
    return Frame(df=normalize(df), dtypes=dtypes, starts=starts, names=names)


def normalize(df: Any) -> Any:
    """pandas 3 reads text as the `str` dtype, which GX's type expectations do not recognise:
    text columns become `object`, so types are judged per value (`str`), on any pandas."""
    import pandas as pd

    df.columns = [str(c) for c in df.columns]
    for col in df.columns:
        if isinstance(df[col].dtype, pd.StringDtype):
            df[col] = df[col].astype(object)
    return df


def workspace_sources(root: Path, path: str, configured: str) -> tuple[list[Source], list[str]]:
    """The files of a workspace dataset (a file, or every file below a directory)."""
    full = inside(root, path)  # a symlink leading out of the repository is refused
    if full.is_dir():
        files = sorted(p for p in full.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise BadInput(f"{path}: the directory has no files")
        sources = [Source(f"{path}/{p.relative_to(full).as_posix()}", p) for p in files]
        for s in sources:
            inside(root, s.name)
    elif full.is_file():
        sources = [Source(path, full)]
    else:
        raise BadInput(f"{path}: no such file or directory in the workspace (`dvc pull` it?)")
    return sources, [format_of(s.name, configured) for s in sources]
