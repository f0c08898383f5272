"""Reading a dataset into one pandas DataFrame: csv, tsv, parquet, jsonl, json.

A DVC-tracked directory is read as the union of its files (all of one format); the frame keeps
where each file's rows start, so a bad row can be traced to its file (gitml.frame). Nothing is
ever read in chunks: above the size limit gitml refuses, unless gitml.yaml asks for an explicit
`sample:` (gitml.sampling). pandas is imported only inside the functions that read.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitml.errors import BadInput
from gitml.frame import Frame, frame_of
from gitml.paths import inside
from gitml.sampling import SAMPLE_KEYS, SAMPLE_METHODS, SAMPLE_SHAPE, Sample, draw

MAX_BYTES_ENV = "GITML_VALIDATE_MAX_BYTES"
# Validation holds the data in pandas and GX at about 2.5x a numeric CSV's size (a 1 GiB CSV of
# numbers and labels peaks at 2.6 GiB), and more for text of many distinct values (a Python
# string per row): 512 MiB keeps a commit hook within ~3 GB for most tables.
DEFAULT_MAX_BYTES = 512 << 20
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


@dataclass(frozen=True)
class Source:
    """One file to read: `name` is what messages show (repo-relative), `file` holds the bytes
    (a workspace file, or a DVC cache object that has no extension of its own)."""

    name: str
    file: Path
    md5: str | None = None  # a DVC cache object's hash: checked before its bytes are trusted
    hash: str = "md5"  # DVC's hash field for `md5` (md5 or md5-dos2unix)


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


def _whole(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def check_sample(dataset: str, sample: dict[str, Any] | None) -> Sample | None:
    """The explicit `sample:` of a dataset, checked (None: the whole data)."""
    if sample is None:
        return None
    rows, method, seed = sample.get("rows"), sample.get("method", "first"), sample.get("seed", 0)
    if (
        set(sample) - SAMPLE_KEYS
        or not isinstance(rows, int)
        or not _whole(rows, 1)
        or method not in SAMPLE_METHODS
        or not _whole(seed, 0)
        or (method == "first" and "seed" in sample)
    ):
        raise BadInput(
            f"gitml.yaml: `sample` of {dataset!r} must be {SAMPLE_SHAPE}, with N a positive "
            f"integer and S a non-negative one (got {sample!r})"
        )
    return Sample(rows, method, seed)


def check_size(
    dataset: str, total: int, sample: Sample | None, configured: int | None = None
) -> None:
    """Refuse data above the limit (the dataset's `max_bytes`, else the clone-wide default)."""
    limit = configured or max_bytes()
    if total > limit and sample is None:
        raise BadInput(
            f"{dataset} is {total / 2**20:.1f} MiB, above gitml's validation limit of "
            f"{limit / 2**20:.1f} MiB (`max_bytes` in gitml.yaml, default {MAX_BYTES_ENV} or "
            f"{DEFAULT_MAX_BYTES >> 20} MiB). gitml does not validate in chunks (row counts, "
            "uniqueness and quantiles would be wrong). Add an explicit sample to its entry in "
            "gitml.yaml, e.g. `sample: {rows: 1000000}` (the first N rows) or `sample: {rows: "
            "1000000, method: random, seed: 0}` (N rows drawn at random, the same for the same "
            "seed); it is recorded in gitml.lock. Or raise its `max_bytes`, or give it "
            "`engine: spark` (Spark validates it whole, without holding it in memory)"
        )


# Reader options that change which columns a read yields or how they are named: with any of
# them a CSV is read in one pass (the column-group passes below rely on plain positions).
_COLUMN_OPTIONS = frozenset(
    {"usecols", "index_col", "names", "header", "prefix", "iterator", "chunksize", "skipfooter"}
)
GROUPED_READ_BYTES = 64 << 20  # a CSV at least this big is read in column groups
# At most this many passes over the file. Each pass parses all of it (the C parser tokenizes
# every field, converting those of its columns): 4 passes read a 0.2 GB CSV of 10 columns with
# a peak of 0.98 GiB, 2 with 1.04, one with 1.21, and GX then peaks at 1.34 on the frame
# whichever way it was read: 2 passes keep the validation's peak and parse it half as often.
READ_PASSES = 2


def _read_csv(src: Source, opts: dict[str, Any]) -> Any:
    """pandas.read_csv, in up to READ_PASSES passes of a group of columns each when the file is
    big: the C parser holds every chunk of a column beside the finished column (about 2.5x the
    data at its peak), and one group at a time keeps that to a share of it. Each column is
    parsed exactly as in one pass: the parser's chunks are rows (sized by the file's width, not
    by `usecols`), so every column's type is inferred from the same rows, the same way."""
    import pandas as pd

    if (
        isinstance(src.file, Path)
        and not set(opts) & _COLUMN_OPTIONS
        and src.file.stat().st_size >= GROUPED_READ_BYTES
    ):
        try:
            df = _read_csv_grouped(src.file, opts)
        except Exception:  # noqa: BLE001 - any surprise: the plain pass says what is wrong
            df = None
        if df is not None:
            return df
    return pd.read_csv(src.file, **opts)


def _read_csv_grouped(file: Path, opts: dict[str, Any]) -> Any:
    """The CSV as `_read_csv` describes, or None when it is not a plain table of named columns
    (e.g. an implicit index column): then one plain pass reads it."""
    import pandas as pd

    columns = pd.read_csv(file, nrows=0, **opts).columns
    width = len(columns)
    if width < 2 or isinstance(columns, pd.MultiIndex):
        return None
    step = -(-width // READ_PASSES)
    parts: list[Any] = []
    for start in range(0, width, step):
        part = pd.read_csv(file, usecols=list(range(start, min(start + step, width))), **opts)
        if not isinstance(part.index, pd.RangeIndex) or (parts and len(part) != len(parts[0])):
            return None
        parts.append(part)
    df = pd.concat(parts, axis=1)
    del parts
    return df if list(df.columns) == list(columns) else None


def _read_one(src: Source, fmt: str, options: dict[str, Any], rows: int | None) -> Any:
    """The file as one frame (its first `rows` rows when that is set)."""
    reader = _READERS.get(fmt)
    if reader is None:
        raise BadInput(f"{src.name}: unknown format {fmt!r}")
    return reader(src, fmt, dict(options), rows)


def _read_delimited(src: Source, fmt: str, opts: dict[str, Any], rows: int | None) -> Any:
    import pandas as pd

    opts.setdefault("sep", "," if fmt == "csv" else "\t")
    if rows is None:
        return _read_csv(src, opts)
    opts["nrows"] = rows
    return pd.read_csv(src.file, **opts)


def _read_jsonl(src: Source, fmt: str, opts: dict[str, Any], rows: int | None) -> Any:
    import pandas as pd

    if rows is not None:
        opts["nrows"] = rows
    return pd.read_json(src.file, lines=True, **opts)


def _read_json(src: Source, fmt: str, opts: dict[str, Any], rows: int | None) -> Any:
    import pandas as pd

    df = pd.read_json(src.file, **opts)
    return df.head(rows) if rows is not None else df


def _read_parquet(src: Source, fmt: str, opts: dict[str, Any], rows: int | None) -> Any:
    import pandas as pd

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise BadInput(
            f"{src.name}: reading Parquet needs pyarrow, which is not installed in gitml's "
            "environment (pip install pyarrow)"
        ) from None
    df = pd.read_parquet(src.file, **opts)
    return df.head(rows) if rows is not None else df


_READERS: dict[str, Callable[[Source, str, dict[str, Any], int | None], Any]] = {
    "csv": _read_delimited,
    "tsv": _read_delimited,
    "jsonl": _read_jsonl,
    "json": _read_json,
    "parquet": _read_parquet,
}


@contextlib.contextmanager
def _reading(src: Source, fmt: str) -> Iterator[None]:
    """pandas' and pyarrow's reading errors as one BadInput naming the file."""
    import pandas as pd

    try:
        yield
    except BadInput:
        raise
    except pd.errors.EmptyDataError:
        raise BadInput(f"{src.name}: the file is empty") from None
    except TypeError as exc:  # an unknown reader option
        raise BadInput(f"{src.name}: bad `read:` options in gitml.yaml ({exc})") from None
    except (
        ValueError,  # pyarrow's ArrowInvalid among them
        OSError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        IndexError,  # e.g. `index_col` past the last column
        KeyError,
        OverflowError,
    ) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInput(f"{src.name}: cannot be read as {fmt} ({msg})") from None


def _table(src: Source, df: Any) -> Any:
    """`df`, checked to be a table with columns."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):  # `chunksize`/`iterator` give a reader instead
        if hasattr(df, "close"):
            df.close()
        raise BadInput(f"{src.name}: bad `read:` options in gitml.yaml (they give no table)")
    if len(df.columns) == 0:
        raise BadInput(f"{src.name}: the file is empty (no columns)")
    return df


def check_formats(sources: list[Source], formats: list[str]) -> None:
    if len(set(formats)) > 1:
        mixed = ", ".join(sorted(set(formats)))
        where = posixpath.dirname(sources[0].name) if sources else "the dataset"
        raise BadInput(
            f"{where}: a directory is validated as the union of "
            f"files of one format, and it mixes {mixed}; set `format:` in gitml.yaml"
        )


def read_frame(
    sources: list[Source],
    formats: list[str],
    options: dict[str, Any],
    sample: Sample | None = None,
) -> Frame:
    """All `sources` (one file, or the files of a directory) as one frame: all their rows, or
    the explicit sample."""
    check_formats(sources, formats)
    if sample is not None and sample.method == "random":
        return _random_sample(sources, formats, options, sample)
    return _first_rows(sources, formats, options, sample.rows if sample is not None else None)


def _first_rows(
    sources: list[Source], formats: list[str], options: dict[str, Any], rows: int | None
) -> Frame:
    """The files' rows in order: all of them, or the first `rows`."""
    import pandas as pd

    frames, starts, names = [], [], []
    total = 0
    for src, fmt in zip(sources, formats, strict=True):
        with _reading(src, fmt):
            df = _table(src, _read_one(src, fmt, options, None if rows is None else rows - total))
        starts.append(total)
        names.append(src.name)
        frames.append(df)
        total += len(df)
        if rows is not None and total >= rows:
            break
    # The union is concatenated once; `frames` goes with this function (one copy at a time).
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    del frames
    return frame_of(df.reset_index(drop=True), starts, names)


# --- a random sample, drawn while streaming -----------------------------------------------------

SAMPLE_CHUNK_CELLS = 1 << 22  # rows per chunk read = this / columns (4M cells: ~32 MB of numbers)
SAMPLE_CHUNK_LINES = 100_000  # JSON Lines, whose width is unknown before reading


def _chunks(src: Source, fmt: str, options: dict[str, Any]) -> Iterator[Any]:
    """The file's rows as frames of a bounded number of rows (a JSON document, which cannot be
    streamed, and Parquet read with options other than `columns`: in one piece)."""
    import pandas as pd

    opts = dict(options)
    if fmt in ("csv", "tsv"):
        opts.setdefault("sep", "," if fmt == "csv" else "\t")
        width = len(pd.read_csv(src.file, nrows=0, **opts).columns) or 1
        if hasattr(src.file, "seek"):
            src.file.seek(0)
        with pd.read_csv(src.file, chunksize=max(SAMPLE_CHUNK_CELLS // width, 1000), **opts) as r:
            yield from r
    elif fmt == "jsonl":
        with pd.read_json(src.file, lines=True, chunksize=SAMPLE_CHUNK_LINES, **opts) as r:
            yield from r
    elif fmt == "parquet" and set(opts) <= {"columns"}:
        import pyarrow.parquet as pq

        with pq.ParquetFile(src.file) as pf:
            width = max(len(opts.get("columns") or pf.schema_arrow.names), 1)
            size = max(SAMPLE_CHUNK_CELLS // width, 1000)
            for batch in pf.iter_batches(batch_size=size, columns=opts.get("columns")):
                yield batch.to_pandas()
    else:
        yield _read_one(src, fmt, opts, None)


def _all_chunks(
    sources: list[Source], formats: list[str], options: dict[str, Any]
) -> Iterator[tuple[int, Any]]:
    """(index of the file, a chunk of its rows) of every file in order."""
    for i, (src, fmt) in enumerate(zip(sources, formats, strict=True)):
        with _reading(src, fmt):
            for chunk in _chunks(src, fmt, options):
                yield i, _table(src, chunk)


def _random_sample(
    sources: list[Source], formats: list[str], options: dict[str, Any], sample: Sample
) -> Frame:
    """`sample.rows` rows drawn uniformly at random from the union of `sources`, in file order
    (see gitml.sampling), each traced to its file and row."""
    drawn = draw(_all_chunks(sources, formats, options), sample)
    if drawn.kept is None:
        raise BadInput(f"{sources[0].name}: the file has no rows")
    frame = frame_of(drawn.kept.reset_index(drop=True), [], [s.name for s in sources])
    frame.origins = (drawn.files, drawn.rows)
    return frame


def workspace_sources(root: Path, path: str, configured: str) -> tuple[list[Source], list[str]]:
    """The files of a workspace dataset (a file, or every file below a directory)."""
    full = inside(root, path)  # a symlink leading out of the repository is refused
    sources = _listed(path, full)
    if sources is None:
        raise BadInput(f"{path}: no such file or directory in the workspace (`dvc pull` it?)")
    for s in sources:
        inside(root, s.name)
    return sources, [format_of(s.name, configured) for s in sources]


def outside_sources(shown: str, full: Path, configured: str) -> tuple[list[Source], list[str]]:
    """The files of a path outside the repository (a file, or every file below a directory):
    the user's own argument (`full`, resolved; `shown`, as given), read as given."""
    sources = _listed(shown, full)
    if sources is None:
        raise BadInput(f"{shown}: no such file or directory")
    return sources, [format_of(s.name, configured) for s in sources]


def _listed(shown: str, full: Path) -> list[Source] | None:
    """`full` as one source named `shown`, or every file below the directory (hidden ones
    aside) named below it; None when there is no such file or directory."""
    if full.is_dir():
        files = sorted(p for p in full.rglob("*") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise BadInput(f"{shown}: the directory has no files")
        return [Source(f"{shown.rstrip('/')}/{p.relative_to(full).as_posix()}", p) for p in files]
    return [Source(shown, full)] if full.is_file() else None
