"""`gitml suite init`: a GX 1.x suite scaffolded from the data as it is, and its gitml.yaml entry;
and the dataset a command line names (`gitml suite init PATH`, `gitml validate PATH`).

The suite states what the data is today: the columns (set and order), each column's type,
not-null where there are no nulls, min/max widened by a visible margin (kept in each
expectation's `meta`, for people to edit), value sets for low-cardinality columns, and a
row-count range. gitml.yaml is edited as text, at one place, so its comments survive.
"""

from __future__ import annotations

import math
import posixpath
from typing import Any

import yaml

from gitml import config as config_mod
from gitml.config import CONFIG_FILE
from gitml.errors import BadInput
from gitml.fileio import check_yaml_bounds, round_sig
from gitml.frame import Frame

SUITES_DIR = ".gitml/suites"
MARGIN = 0.1  # min/max widened by this share of the observed range
ROWS_RANGE = (0.5, 2.0)  # the row count may halve or double
MAX_SET = 20  # columns with at most this many distinct values get a value set
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def suite_path_for(path: str) -> str:
    stem = posixpath.basename(path.rstrip("/")).split(".", 1)[0] or "data"
    return f"{SUITES_DIR}/{stem}.json"


def _expect(kind: str, meta: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": meta or {}}


def _type_names(dtype: Any) -> list[str]:
    from pandas.api.types import is_object_dtype

    if is_object_dtype(dtype):
        return ["str"]  # text (pandas 3 `str` columns are read as object: judged per value)
    return [str(dtype)]


def _range(lo: float, hi: float, integer: bool) -> tuple[float, float]:
    span = hi - lo or abs(hi) or 1.0
    low, high = lo - MARGIN * span, hi + MARGIN * span
    if integer:
        return float(math.floor(low)), float(math.ceil(high))
    low, high = round_sig(low), round_sig(high)
    return min(low, lo), max(high, hi)


def _small_value_set(column: Any, limit: int) -> list[Any] | None:
    """The sorted distinct non-null values of `column` when there are at most `limit`, else
    None. Read a million rows at a time, stopping once past `limit`: a column of millions of
    distinct values never builds a hash table of them all (`nunique` did: GBs on a 1 GB CSV)."""
    import pandas as pd

    seen: set[Any] = set()
    step = 1 << 20
    for start in range(0, len(column), step):
        seen.update(pd.unique(column.iloc[start : start + step].dropna()))
        if len(seen) > limit:
            return None
    return sorted(v.item() if hasattr(v, "item") else v for v in seen)


def _column_expectations(col: Any, s: Any, n: int) -> list[dict[str, Any]]:
    """What one column of `n` rows is today: its type, not null, a value set or a range."""
    from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

    nonnull = int(s.count())
    exps = [
        _expect(
            "expect_column_values_to_be_in_type_list", column=col, type_list=_type_names(s.dtype)
        )
    ]
    if nonnull == n:
        exps.append(_expect("expect_column_values_to_not_be_null", column=col))
    numeric = is_numeric_dtype(s) and not is_bool_dtype(s)
    integer = is_integer_dtype(s)
    value_set = _small_value_set(s, MAX_SET) if (not numeric or integer) and nonnull else None
    if value_set is not None and len(value_set) < max(n / 2, 2):
        exps.append(_expect("expect_column_values_to_be_in_set", column=col, value_set=value_set))
    elif numeric and nonnull:
        exps.append(_between(col, s, integer))
    return exps


def _between(col: Any, s: Any, integer: bool) -> dict[str, Any]:
    lo, hi = float(s.min()), float(s.max())  # NaN skipped, as by dropna(), without a copy
    low, high = _range(lo, hi, integer)
    meta = {"gitml": {"observed": [round_sig(lo), round_sig(hi)], "margin": MARGIN}}
    return _expect(
        "expect_column_values_to_be_between",
        meta,
        column=col,
        min_value=int(low) if integer else low,
        max_value=int(high) if integer else high,
    )


def scaffold(frame: Frame, dataset: str) -> dict[str, Any]:
    """The suite document for the data in `frame`."""
    df = frame.df
    n = len(df)
    exps = [
        _expect("expect_table_columns_to_match_ordered_list", column_list=list(df.columns)),
        _expect(
            "expect_table_row_count_to_be_between",
            {"gitml": {"observed": n, "range": list(ROWS_RANGE)}},
            min_value=math.floor(n * ROWS_RANGE[0]),
            max_value=math.ceil(n * ROWS_RANGE[1]),
        ),
    ]
    for col in df.columns:
        exps.extend(_column_expectations(col, df[col], n))
    stem = posixpath.basename(dataset.rstrip("/")).split(".", 1)[0] or "data"
    return {
        "name": stem,
        "expectations": exps,
        "meta": {
            "gitml": {
                "generated_from": dataset,
                "rows": n,
                "note": "scaffolded by `gitml suite init`: ranges are widened by `margin` "
                "(see each expectation's meta); edit freely",
            }
        },
    }


# --- gitml.yaml, edited as text --------------------------------------------------------------


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _end_of_line(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _compose(text: str) -> yaml.MappingNode | None:
    """gitml.yaml's node tree (None: an empty file); bad input when it is not a mapping."""
    if not text.strip():
        return None
    try:
        check_yaml_bounds(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{CONFIG_FILE}: not valid YAML ({str(exc).splitlines()[0]})") from None
    node = yaml.compose(text, Loader=_Loader)
    if node is not None and not isinstance(node, yaml.MappingNode):
        raise BadInput(f"{CONFIG_FILE}: the top level must be a mapping")
    return node


def _entry_of(data: yaml.SequenceNode, path: str) -> yaml.MappingNode | None:
    """The `data:` entry whose `path:` is `path`."""
    for item in data.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        items = {k.value: v for k, v in item.value}
        if "path" in items and items["path"].value.rstrip("/") == path.rstrip("/"):
            return item
    return None


def _set_in_entry(text: str, item: yaml.MappingNode, suite: str) -> str:
    """`suite:` of a listed dataset set (replaced, or added after its `path:`)."""
    items = {k.value: (k, v) for k, v in item.value}
    if "suite" in items:
        value = items["suite"][1]
        return text[: value.start_mark.index] + suite + text[value.end_mark.index :]
    if item.flow_style:
        close = item.end_mark.index - 1
        return text[:close].rstrip() + f", suite: {suite}" + text[close:]
    path_key, path_value = items["path"]
    at = _end_of_line(text, path_value.end_mark.index)
    indent = " " * int(path_key.start_mark.column)
    return text[:at] + indent + f"suite: {suite}\n" + text[at:]


def _append_entry(text: str, data: yaml.SequenceNode, path: str, suite: str) -> str:
    """A new `data:` entry for `path`, after the last one."""
    if data.flow_style:
        close = data.end_mark.index - 1
        inner = text[data.start_mark.index + 1 : close].strip()
        entry = f"{{path: {path}, suite: {suite}}}"
        return text[:close].rstrip() + (", " if inner else "") + entry + text[close:]
    idx = data.value[-1].end_mark.index
    while idx > 0 and text[idx - 1] in " \t\r\n":
        idx -= 1
    at = _end_of_line(text, idx)
    dash = " " * data.start_mark.column
    return text[:at] + f"{dash}- path: {path}\n{dash}  suite: {suite}\n" + text[at:]


def _new_data(text: str, key: yaml.Node | None, path: str, suite: str) -> str:
    """A `data:` list of one entry: appended, or in place of an empty `data:` (`key`)."""
    if key is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{sep}data:\n  - path: {path}\n    suite: {suite}\n"
    start = _line_start(text, key.start_mark.index)
    end = _end_of_line(text, key.start_mark.index)
    indent = " " * key.start_mark.column
    block = f"{indent}data:\n{indent}  - path: {path}\n{indent}    suite: {suite}\n"
    return text[:start] + block + text[end:]


def add_suite_to_config(text: str, path: str, suite: str) -> str:
    """gitml.yaml's text with `suite: SUITE` set on the dataset PATH (added if not listed)."""
    node = _compose(text)
    top = {k.value: (k, v) for k, v in node.value} if node is not None else {}
    if "data" not in top:
        return _new_data(text, None, path, suite)
    key, data = top["data"]
    if isinstance(data, yaml.ScalarNode) and data.value in ("", "~", "null"):
        return _new_data(text, key, path, suite)
    if not isinstance(data, yaml.SequenceNode):
        raise BadInput(f"{CONFIG_FILE}: `data` must be a list")
    item = _entry_of(data, path)
    if item is not None:
        return _set_in_entry(text, item, suite)
    return _append_entry(text, data, path, suite)


def set_suite(text: str, path: str, suite: str) -> str:
    """`add_suite_to_config`, checked: the result must parse and name the suite."""
    new = add_suite_to_config(text, path, suite)
    cfg = config_mod.parse(new)
    if not any(d.path == path and d.suite == suite for d in cfg.data):
        raise BadInput(f"{CONFIG_FILE}: could not add `suite: {suite}` to {path}; add it by hand")
    return new
