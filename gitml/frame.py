"""A dataset in memory as gitml reads it: one pandas DataFrame (text as Python strings, so GX
judges types per value on any pandas), the dtypes as read, and where each row came from, so a
bad value is traced to its file and row. pandas and numpy are imported only where used.
"""

from __future__ import annotations

import bisect
import posixpath
from dataclasses import dataclass, field
from typing import Any

from gitml.errors import BadInput


@dataclass
class Frame:
    df: Any  # pandas.DataFrame, index 0..n-1 across all files
    dtypes: dict[str, str]  # column -> dtype as read (before str columns become object)
    starts: list[int] = field(default_factory=list)  # first row of each file in `df`
    names: list[str] = field(default_factory=list)  # the file each start belongs to
    # A random sample: per row of `df`, the index of its file in `names` and its row there
    origins: tuple[Any, Any] | None = None

    def origin(self, index: int) -> tuple[str | None, int]:
        """(the file, its 1-based data row) of a row of `df`; the file is None when the frame
        is read from one file (the dataset itself)."""
        if self.origins is not None:
            i, row = int(self.origins[0][index]), int(self.origins[1][index]) + 1
        else:
            i = max(bisect.bisect_right(self.starts, index) - 1, 0)
            row = index - self.starts[i] + 1
        return (self.names[i] if len(self.names) > 1 else None), row

    def where(self, index: int) -> str:
        """`row N` (1-based data row) of a single file, `FILE row N` in a directory union."""
        return row_label(*self.origin(index))


def row_label(file: str | None, row: int) -> str:
    """`row N`, or `FILE row N` (the file's base name) for a member of a directory."""
    return f"{posixpath.basename(file)} row {row}" if file is not None else f"row {row}"


def frame_of(df: Any, starts: list[int], names: list[str]) -> Frame:
    """The frame of `df` (the rows read from the files `names`, the first named in errors), its
    dtypes taken before its text columns become objects."""
    if len(df) == 0:
        raise BadInput(f"{names[0]}: the file has no rows")
    dtypes = {str(c): str(df[c].dtype) for c in df.columns}
    return Frame(df=normalize(df), dtypes=dtypes, starts=starts, names=names)


def normalize(df: Any) -> Any:
    """pandas 3 reads text as the `str` dtype, which GX's type expectations do not recognise:
    text columns become `object`, so types are judged per value (`str`), on any pandas."""
    import pandas as pd

    df.columns = [str(c) for c in df.columns]
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if isinstance(col.dtype, pd.StringDtype):
            df.isetitem(i, as_objects(col))
    return df


def as_objects(col: Any) -> Any:
    """A text column as an object column holding one Python string per distinct value.

    `astype(object)` makes a new string object for every row (~50 bytes each: 2 GB for a
    40M-row column of four labels); the values, their order and the missing ones (the dtype's
    own NA) are the same, only shared.
    """
    import numpy as np
    import pandas as pd

    na = col.dtype.na_value
    out = np.empty(len(col), dtype=object)
    to_arrow = getattr(col.array, "__arrow_array__", None)
    if getattr(col.dtype, "storage", None) != "pyarrow" or to_arrow is None:  # python strings
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        out[:] = _lookup(np.asarray(uniques, dtype=object), na)[codes]
    else:  # pyarrow-backed (pandas 3's default): encoded a chunk at a time, without copies
        pos = 0
        arrow = to_arrow()
        for chunk in getattr(arrow, "chunks", [arrow]):
            encoded = chunk.dictionary_encode()
            codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            out[pos : pos + len(chunk)] = _lookup(encoded.dictionary.to_pylist(), na)[codes]
            pos += len(chunk)
    return pd.Series(out, index=col.index, name=col.name, dtype=object, copy=False)


def _lookup(values: Any, na: Any) -> Any:
    """`values` as an object array with `na` appended: code -1 (missing) picks the last."""
    import numpy as np

    table = np.empty(len(values) + 1, dtype=object)
    table[:-1] = values
    table[-1] = na
    return table
