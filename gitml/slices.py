"""Slices of a dataset that a model's tests measure the model on (gitml.yaml, per model:
`slices: {data: PATH, by: {NAME: "pandas query", ...}}`), and the figures the tests record.

The tests get the slices through the pytest plugin's `gitml_slices` fixture (each as
(name, rows), the rows the query selects) and record figures with `gitml_metric(name, value)`,
or `gitml_metric(name, value, slice=NAME)` for a slice's. gitml.lock keeps them in the model's
`tests.metrics` (`{auc: 0.9, slices: {short: {auc: 0.8}}}`), and gates name them as metrics:
`tests.auc >= baseline.tests.auc - 0.02`, `tests.slices.short.auc >= 0.75`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from gitml import paths
from gitml.errors import BadInput

if TYPE_CHECKING:  # gitml.yaml's parser imports this module: it stays light
    from gitml.lockfile import Lock, ModelTests

TESTS_KEY = "tests"  # the figures of the tests, among the model's metrics
SLICES_KEY = "slices"  # a slice's figures, among the tests'
SLICE_NAME = re.compile(r"[A-Za-z_][\w\-]*")


@dataclass(frozen=True)
class Slices:
    data: str  # the dataset (repo path) the queries select rows of
    by: tuple[tuple[str, str], ...]  # (name, pandas query), in gitml.yaml's order


def parse(value: Any) -> Slices:
    """A model's `slices:` mapping; BadInput saying what is wrong (config.py adds file, line)."""
    if not isinstance(value, dict) or set(value) - {"data", "by"}:
        raise BadInput("must be a mapping with `data: PATH` and `by: {NAME: QUERY, ...}`")
    data = value.get("data")
    if not isinstance(data, str):
        raise BadInput("`data` must be the path of a dataset")
    by = value.get("by")
    if not isinstance(by, dict) or not by:
        raise BadInput("`by` must map each slice's name to a pandas query")
    found = []
    for name, query in by.items():
        if not isinstance(name, str) or not SLICE_NAME.fullmatch(name):
            raise BadInput(f"slice name {name!r}: letters, digits, `_` and `-` only")
        if not isinstance(query, str) or not query.strip():
            raise BadInput(f"slice {name!r}: its query must be a non-empty string")
        found.append((name, query))
    return Slices(paths.normalize(data, what="path"), tuple(found))


class _Document(Protocol):
    """gitml.yaml as gitml/config.py reads it: values by node, errors naming file and line."""

    def value(self, node: Any) -> Any: ...

    def fail(self, node: Any, key: str, msg: str) -> BadInput: ...


def from_node(doc: _Document, node: Any, key: str) -> Slices | None:
    """A model's `slices:` node of gitml.yaml (None: absent); errors name the file and line."""
    if node is None:
        return None
    try:
        return parse(doc.value(node))
    except BadInput as exc:
        raise doc.fail(node, key, str(exc)) from None


def with_test_metrics(
    metrics: Mapping[str, Any] | None, tests: ModelTests | None
) -> dict[str, Any]:
    """The model's metrics with the figures its tests recorded under `tests` (what gates read)."""
    merged = dict(metrics or {})
    recorded = tests.metrics if tests is not None else None
    if isinstance(recorded, dict) and recorded:
        own = merged.get(TESTS_KEY)
        merged[TESTS_KEY] = {**(own if isinstance(own, dict) else {}), **recorded}
    return merged


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """{"slices.short.auc": 0.8} as {"slices": {"short": {"auc": 0.8}}} (the plugin reports
    dotted names; gitml.lock and gates read nested ones)."""
    out: dict[str, Any] = {}
    for name in sorted(flat):
        parts = name.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = flat[name]
    return out


def slice_figures(tests_metrics: Any) -> dict[str, dict[str, float]]:
    """{slice: {metric: value}} of a `tests.metrics` record (the report's per-slice table)."""
    by_slice = tests_metrics.get(SLICES_KEY) if isinstance(tests_metrics, dict) else None
    if not isinstance(by_slice, dict):
        return {}
    return {
        str(name): {
            str(k): float(v)
            for k, v in figures.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        for name, figures in by_slice.items()
        if isinstance(figures, dict)
    }


# (model, slice, figure, base's value, this value): a row of `gitml report`'s Slices table
SliceRow = tuple[str, str, str, float | None, float | None]


def report_rows(base: Lock, head: Lock) -> list[SliceRow]:
    """Each figure the tests recorded per slice (`tests.metrics.slices`) at either side."""
    rows: list[SliceRow] = []
    for path, entry in head.models.items():
        was = base.models.get(path)
        new = slice_figures(entry.tests.metrics if entry.tests else None)
        old = slice_figures(was.tests.metrics if was is not None and was.tests else None)
        for name in sorted(set(new) | set(old)):
            after, before = new.get(name, {}), old.get(name, {})
            for figure in sorted(set(after) | set(before)):
                rows.append((path, name, figure, before.get(figure), after.get(figure)))
    return rows
