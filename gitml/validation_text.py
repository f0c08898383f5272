"""Failed expectations as plain text (the commit hook prints it, with no rich on that path):
per expectation, where GX's data docs show the same, its column and type with its kwargs as the
suite wrote them (mostly, row_condition, bounds, value sets), what GX measured (the unexpected
share of the non-missing values with its counts, or the observed value), whether that fell short
of `mostly`, and the first unexpected values with their rows.

Values from the data and the suite are shown JSON-encoded (quoted strings: a newline or an
escape sequence is shown, not acted on) and cut short; `gitml validate --json` has them whole.
"""

from __future__ import annotations

import json
from typing import Any

from gitml.fileio import json_safe
from gitml.frame import row_label

SHOWN_VALUES = 5  # unexpected values shown per expectation
_FIRST_KWARGS = ("column_A", "column_B", "min_value", "max_value")
_LAST_KWARGS = ("mostly", "row_condition", "condition_parser")
_TABLE_COLUMN_KWARGS = {
    "expect_table_columns_to_match_ordered_list": "column_list",
    "expect_table_columns_to_match_set": "column_set",
}


def table(rows: list[dict[str, Any]]) -> str:
    """Each failed expectation (a row of gitml.expectations) in two or three indented lines."""
    return "\n".join(_block(r) for r in rows)


def _block(r: dict[str, Any]) -> str:
    column = "(table)" if r["column"] is None else _name(r["column"])
    shown = sorted((k for k in r["kwargs"] if k != "column"), key=_kwarg_order)
    kwargs = ", ".join(f"{k}={_short(r['kwargs'][k], 60)}" for k in shown)
    lines = [f"  {column}: {r['expectation']}" + (f"  {kwargs}" if kwargs else "")]
    lines.append("      " + measured(r))
    values = unexpected_values(r)
    if values:
        lines.append("      unexpected values: " + values)
    return "\n".join(lines)


def _kwarg_order(key: str) -> tuple[int, str]:
    """Bounds first, what qualifies the expectation (mostly, row_condition) last: one order,
    whether the row came from GX or from the cache (which keeps JSON keys sorted)."""
    if key in _FIRST_KWARGS:
        return (0, str(_FIRST_KWARGS.index(key)))
    return (2, str(_LAST_KWARGS.index(key))) if key in _LAST_KWARGS else (1, key)


def _name(text: str) -> str:
    """A column name as is, or JSON-quoted when it holds what a terminal would not show as is."""
    return text if text.isprintable() and text.strip() == text and text else json.dumps(text)


def _short(value: Any, width: int) -> str:
    text = json.dumps(json_safe(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def percent(value: float) -> str:
    """A share as GX's data docs give it, to two decimals, without trailing zeros."""
    if 0 < value < 0.005:
        return "<0.01%"
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def measured(r: dict[str, Any]) -> str:
    """What GX found: an error, the observed value, or the unexpected share with its counts."""
    res = r["result"]
    if r["error"]:
        return f"error: {r['error']}"
    if res["observed_value"] is not None:
        return "observed " + _observed(r["expectation"], r["kwargs"], res["observed_value"])
    if res["unexpected_count"] is None or res["element_count"] is None:
        return "great-expectations reported no counts"
    return _unexpected(r)


def _observed(kind: str, kwargs: dict[str, Any], observed: Any) -> str:
    if isinstance(observed, float):
        return f"{observed:.10g}"  # as GX's data docs give it (10 significant digits)
    key = _TABLE_COLUMN_KWARGS.get(kind)
    if key is None or not isinstance(observed, list):
        return _short(observed, 200)
    want = [str(c) for c in kwargs.get(key) or []]
    missing = [c for c in want if c not in observed]
    extra = [c for c in observed if c not in want]
    parts = [f"columns missing {_short(missing, 200)}"] if missing else []
    parts += [f"new columns {_short(extra, 200)}"] if extra else []
    return "; ".join(parts) or f"columns in the order {_short(observed, 200)}"


def _unexpected(r: dict[str, Any]) -> str:
    """`11 of 149 non-missing values unexpected (7.38%), more than the 5% mostly=0.95 allows;
    150 rows, 1 missing`, as GX counts them (the share is of the non-missing values)."""
    res, kwargs = r["result"], r["kwargs"]
    rows, missing, count = res["element_count"], res["missing_count"], res["unexpected_count"]
    considered = rows - missing if missing is not None else rows
    share = res["unexpected_percent"]
    if share is None:
        share = 100 * count / considered if considered else 0.0
    values = "non-missing values" if missing is not None else "values"
    text = f"{count} of {considered} {values} unexpected ({percent(share)})"
    mostly = kwargs.get("mostly")
    if r["short_of_mostly"] is True:
        text += f", more than the {percent(100 * (1 - mostly))} mostly={mostly} allows"
    elif r["short_of_mostly"] is False:
        text += f", within the {percent(100 * (1 - mostly))} mostly={mostly} allows"
    where = " matching row_condition" if kwargs.get("row_condition") else ""
    if missing:
        text += f"; {rows} rows{where}, {missing} missing"
    elif where:
        text += f"; {rows} rows{where}"
    return text


def unexpected_values(r: dict[str, Any]) -> str:
    """The first SHOWN_VALUES unexpected values, each with its row where the engine says."""
    values = r["result"]["partial_unexpected_list"] or []
    rows = r["unexpected_rows"] or []
    shown = []
    for i, value in enumerate(values[:SHOWN_VALUES]):
        text = _short(value, 30)
        at = rows[i] if i < len(rows) else None
        shown.append(f"{text} ({row_label(at['file'], at['row'])})" if at else text)
    count = r["result"]["unexpected_count"]
    if isinstance(count, int) and count > len(shown) and shown:
        shown.append(f"... ({len(shown)} of {count} shown)")
    return ", ".join(shown)
