"""An explicit `sample:` of a dataset in gitml.yaml, and drawing it.

gitml reads a dataset whole, or refuses it above the size limit, unless gitml.yaml asks for a
sample: the first N rows, or N rows drawn uniformly at random with a seed. The random draw keeps
the rows of the N smallest keys while the files stream by (bottom-k sampling): memory holds the
sample and one chunk, and the same seed on the same bytes draws the same rows whatever the
chunk sizes. numpy and pandas are imported only inside the draw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SAMPLE_KEYS = {"rows", "method", "seed"}
SAMPLE_METHODS = ("first", "random")
SAMPLE_SHAPE = "{rows: N} (the first N rows) or {rows: N, method: random, seed: S}"


@dataclass(frozen=True)
class Sample:
    """An explicit `sample:` of gitml.yaml: the first `rows` rows, or `rows` rows drawn at
    random (uniformly, without replacement, the same rows for the same seed and bytes)."""

    rows: int
    method: str = "first"
    seed: int = 0

    @property
    def record(self) -> dict[str, Any]:
        """What gitml.lock records: `{rows}` for the first rows, with method and seed else."""
        if self.method == "first":
            return {"rows": self.rows}
        return {"method": self.method, "rows": self.rows, "seed": self.seed}


@dataclass
class Drawn:
    """The rows drawn so far, in stream order, with per row its key, the index of its file and
    its row in that file."""

    kept: Any = None  # pandas.DataFrame, None before the first chunk
    keys: Any = None
    files: Any = None
    rows: Any = None

    def take(self, positions: Any) -> None:
        self.kept = self.kept.iloc[positions]
        self.keys, self.files, self.rows = (
            self.keys[positions],
            self.files[positions],
            self.rows[positions],
        )


def draw(chunks: Iterable[tuple[int, Any]], sample: Sample) -> Drawn:
    """`sample.rows` rows drawn uniformly at random from `chunks` ((file index, frame) in file
    order): every row gets a key from one generator seeded with `sample.seed`, in file order,
    and the rows of the smallest keys are kept. Each chunk's columns get their types as pandas
    reads them; the kept rows are joined as pandas joins chunks."""
    import numpy as np

    rng = np.random.default_rng(sample.seed)
    drawn = Drawn(keys=np.empty(0), files=np.empty(0, dtype=np.int64))
    drawn.rows = np.empty(0, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, chunk in chunks:
        keys = rng.random(len(chunk))
        start = seen.get(i, 0)
        positions = np.arange(start, start + len(chunk), dtype=np.int64)
        seen[i] = start + len(chunk)
        best = _smallest(keys, sample.rows)  # only these can make the sample
        if best is not None:
            chunk, keys, positions = chunk.iloc[best], keys[best], positions[best]
        _append(drawn, chunk, keys, i, positions)
        best = _smallest(drawn.keys, sample.rows)
        if best is not None:
            drawn.take(best)
    return drawn


def _append(drawn: Drawn, chunk: Any, keys: Any, file: int, positions: Any) -> None:
    import numpy as np
    import pandas as pd

    drawn.kept = chunk if drawn.kept is None else pd.concat([drawn.kept, chunk], ignore_index=True)
    drawn.keys = np.concatenate([drawn.keys, keys])
    drawn.files = np.concatenate([drawn.files, np.full(len(chunk), file, dtype=np.int64)])
    drawn.rows = np.concatenate([drawn.rows, positions])


def _smallest(keys: Any, k: int) -> Any:
    """The positions of the `k` smallest keys, in order (None: there are no more than `k`)."""
    import numpy as np

    if len(keys) <= k:
        return None
    return np.sort(np.argpartition(keys, k - 1)[:k])
