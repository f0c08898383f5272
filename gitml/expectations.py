"""great-expectations (GX 1.x) on one frame: the suite file checked before GX sees it, built
into a GX suite one expectation at a time (so a bad one is named), run on an ephemeral context,
and each failed expectation turned into a plain row (column, expected, observed, failed rows,
sample bad values) that gitml.lock's caller, the cache and the table of failures share.

GX is imported only here, inside the functions that run it: GX alone costs seconds. It runs
with progress bars off, analytics off, and its logger kept off the user's screen.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from gitml.errors import BadInput
from gitml.fileio import json_safe
from gitml.frame import Frame

SAMPLE_VALUES = 5
_TABLE_COLUMN_TYPES = {
    "expect_table_columns_to_match_ordered_list": "column_list",
    "expect_table_columns_to_match_set": "column_set",
}


# --- suites: read and checked before GX sees them ------------------------------------------


def load_suite(name: str, data: bytes) -> dict[str, Any]:
    """A GX 1.x suite document, checked for shape; BadInput naming the file otherwise."""
    doc = _json_object(name, data)
    exps = doc.get("expectations")
    if "expectation_suite_name" in doc or (
        isinstance(exps, list)
        and any(isinstance(e, dict) and "expectation_type" in e for e in exps)
    ):
        raise BadInput(
            f"{name}: the suite is in the great-expectations 0.x format "
            "(`expectation_suite_name`, `expectation_type`), which GX 1.x does not load; rename "
            "those keys to `name` and `type`, or regenerate it with `gitml suite init --force`"
        )
    if not isinstance(exps, list):
        raise BadInput(f"{name}: the suite has no `expectations` list")
    for i, e in enumerate(exps):
        if not _expectation_shaped(e):
            raise BadInput(
                f"{name}: expectation #{i + 1} must be an object with a string `type` and a "
                "`kwargs` object"
            )
    return doc


def _json_object(name: str, data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"{name}: the suite is not valid JSON ({exc})") from None
    except RecursionError:
        raise BadInput(f"{name}: the suite is nested too deeply to be a suite") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{name}: a suite must be a JSON object with `name` and `expectations`")
    return doc


def _expectation_shaped(e: Any) -> bool:
    return (
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("kwargs", {}), dict)
    )


def check_columns(name: str, dataset: str, doc: dict[str, Any], columns: list[str]) -> None:
    """A column the suite names that the data lacks is bad input (exit 2), unless the suite
    declares it in a table-columns expectation: then the data dropped it, and that expectation
    fails (exit 1)."""
    declared: set[str] = set()
    referenced: set[str] = set()
    for e in doc["expectations"]:
        kw = e.get("kwargs") or {}
        key = _TABLE_COLUMN_TYPES.get(e["type"])
        if key:
            declared.update(str(c) for c in kw.get(key) or [])
        elif e["type"] == "expect_column_to_exist":
            declared.add(str(kw.get("column")))
        else:
            referenced.update(_columns_named(kw))
    unknown = sorted(referenced - set(columns) - declared)
    if unknown:
        raise BadInput(
            f"{name}: names column(s) {', '.join(unknown)} that {dataset} does not have "
            f"(its columns: {', '.join(columns)})"
        )


def _columns_named(kw: dict[str, Any]) -> set[str]:
    """The columns an expectation's kwargs name."""
    found = {str(kw[k]) for k in ("column", "column_A", "column_B") if k in kw}
    if isinstance(kw.get("column_list"), list):
        found.update(str(c) for c in kw["column_list"])
    return found


# --- the GX engine ---------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_gx() -> Iterator[list[str]]:
    """GX's log records kept (for error messages) instead of printed; its warnings silenced."""
    import logging  # here, not at the top: a cache hit never needs it

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    log = logging.getLogger("great_expectations")
    kept: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record.getMessage())

    handler = _Keep(logging.WARNING)
    saved = (log.level, log.propagate)
    log.setLevel(logging.WARNING)
    log.propagate = False
    log.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield kept
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


def gx_suite(name: str, doc: dict[str, Any]) -> Any:
    """Build the GX suite one expectation at a time, so an unknown type or bad kwargs is named
    (GX itself drops an unknown type silently); then compare the counts as a guard."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    built = []
    for i, e in enumerate(doc["expectations"]):
        try:
            conf = ExpectationConfiguration(
                type=e["type"], kwargs=dict(e.get("kwargs") or {}), meta=e.get("meta")
            )
            built.append(conf.to_domain_obj())
        except Exception as exc:  # noqa: BLE001 - GX's and pydantic's errors alike
            if type(exc).__name__ == "ExpectationNotFoundError":
                raise BadInput(
                    f"{name}: expectation #{i + 1} has type {e['type']!r}, which "
                    f"great-expectations {gx.__version__} does not know"
                ) from None
            raise BadInput(
                f"{name}: expectation #{i + 1} ({e['type']}) is not valid: {_one_line(exc)}"
            ) from None
    suite = gx.ExpectationSuite(name=str(doc.get("name") or "suite"), expectations=built)
    if len(suite.expectations) != len(doc["expectations"]):
        raise BadInput(
            f"{name}: great-expectations kept {len(suite.expectations)} of the "
            f"{len(doc['expectations'])} expectations in the suite"
        )
    return suite


def run_gx(name: str, doc: dict[str, Any], frame: Frame) -> tuple[int, int, list[dict[str, Any]]]:
    """(evaluated, failed, table rows) of the suite on the frame."""
    res = _validate(name, doc, "pandas", frame.df)
    return _counted(res, [str(c) for c in frame.df.columns], frame.where)


def run_gx_spark(name: str, doc: dict[str, Any], df: Any) -> tuple[int, int, list[dict[str, Any]]]:
    """(evaluated, failed, table rows) of the suite on a Spark DataFrame, through GX's Spark
    datasource (bad values are shown without their rows: Spark's rows have no order).

    Verdicts first (BOOLEAN_ONLY: GX bundles each expectation's unexpected count into one
    aggregate per domain), then the failed expectations alone again for what the table shows:
    in SUMMARY every expectation also costs a job listing bad values and one counting them,
    full scans of data that has none on a passing run."""
    verdicts = _validate(name, doc, "spark", df, "BOOLEAN_ONLY")
    evaluated, failed, _ = _counted(verdicts, list(df.columns), None)
    if not failed:
        return evaluated, failed, []
    failing = _failed_expectations(doc, verdicts)
    again = _validate(name, {**doc, "expectations": failing}, "spark", df, "SUMMARY")
    _, _, rows = _counted(again, list(df.columns), None)
    return evaluated, failed, rows


def _failed_expectations(doc: dict[str, Any], res: Any) -> list[dict[str, Any]]:
    """The suite's expectations that failed in `res`, found by type and kwargs (all of them
    when one is not found: then the table is made from a second run of the whole suite)."""
    remaining = list(doc["expectations"])
    found = []
    for r in res.results:
        if r.success:
            continue
        conf = r.expectation_config
        kw = {k: v for k, v in conf.kwargs.items() if k != "batch_id"}
        match = next(
            (e for e in remaining if e["type"] == str(conf.type) and (e.get("kwargs") or {}) == kw),
            None,
        )
        if match is None:
            return list(doc["expectations"])
        remaining.remove(match)
        found.append(match)
    return found


def _validate(
    name: str, doc: dict[str, Any], engine: str, dataframe: Any, result_format: str = "SUMMARY"
) -> Any:
    """GX's validation result of the suite on a whole-dataframe batch of `engine`."""
    with quiet_gx():
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        suite = gx_suite(name, doc)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        sources = ctx.data_sources
        source = sources.add_spark("gitml") if engine == "spark" else sources.add_pandas("gitml")
        batch_def = source.add_dataframe_asset("data").add_batch_definition_whole_dataframe("all")
        with _no_fingerprint():
            batch = batch_def.get_batch(batch_parameters={"dataframe": dataframe})
            return batch.validate(
                suite,
                result_format={"result_format": result_format, "partial_unexpected_count": 20},
            )


def _counted(
    res: Any, columns: list[str], where: Callable[[int], str] | None
) -> tuple[int, int, list[dict[str, Any]]]:
    stats = res.statistics
    rows = [_row(r, columns, where) for r in res.results if not r.success]
    order = {c: i for i, c in enumerate(columns)}
    rows.sort(key=lambda r: (order.get(r["column"], -1), r["expectation"], r["expected"]))
    return int(stats["evaluated_expectations"]), int(stats["unsuccessful_expectations"]), rows


@contextlib.contextmanager
def _no_fingerprint() -> Iterator[None]:
    """GX fingerprints every pandas batch under 1e9 bytes by hashing all of it
    (`hash_pandas_object`: arrays the size of the frame, ~2x its memory, ~2 s for 4M rows) into
    batch metadata that gitml never reads (its cache key is the data's md5). Off meanwhile."""
    from great_expectations.execution_engine import pandas_execution_engine as engine

    saved = getattr(engine, "HASH_THRESHOLD", None)
    if saved is None:  # another GX: nothing to turn off
        yield
        return
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = saved


def _exception_message(info: Any) -> str | None:
    """GX reports an exception in one of two shapes: a dict with `raised_exception`, or a
    dict of such dicts keyed by metric."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    for sub in info.values():
        msg = _exception_message(sub)
        if msg:
            return msg
    return None


# --- failed expectations as rows --------------------------------------------------------------


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(json_safe(value), default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


# How an expectation's kwarg is shown as what was expected, in this order of preference.
_EXPECTED_SHOWN: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("value_set", lambda v: f"in {_short(v)}"),
    ("type_list", lambda v: f"type in {_short(v)}"),
    ("type_", lambda v: f"type {v}"),
    ("column_list", lambda v: f"columns {_short(v)}"),
    ("column_set", lambda v: f"columns {_short(v)}"),
)


def _expected(kind: str, kw: dict[str, Any]) -> str:
    if "min_value" in kw or "max_value" in kw:
        return _range(kind, kw.get("min_value"), kw.get("max_value"))
    if kind == "expect_column_values_to_not_be_null":
        return "no nulls"
    for key, shown in _EXPECTED_SHOWN:
        if key in kw:
            return shown(kw[key])
    return _short({k: v for k, v in kw.items() if k not in ("column", "batch_id")})


def _range(kind: str, lo: Any, hi: Any) -> str:
    what = "rows" if kind == "expect_table_row_count_to_be_between" else "values"
    return f"{what} in [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"


def _observed(kind: str, kw: dict[str, Any], result: dict[str, Any]) -> str:
    observed = result.get("observed_value")
    key = _TABLE_COLUMN_TYPES.get(kind)
    if key and isinstance(observed, list):
        return _columns_changed([str(c) for c in kw.get(key) or []], observed)
    if observed is not None:
        return _short(observed)
    count, total = result.get("unexpected_count"), result.get("element_count")
    if count is not None and total:
        return f"{count} of {total} rows"
    return ""


def _columns_changed(want: list[str], observed: list[Any]) -> str:
    missing = [c for c in want if c not in observed]
    extra = [c for c in observed if c not in want]
    parts = ([f"missing {missing}"] if missing else []) + ([f"new {extra}"] if extra else [])
    return "; ".join(parts) or f"order {_short(observed)}"


def _row(r: Any, columns: list[str], where: Callable[[int], str] | None) -> dict[str, Any]:
    """One failed expectation as the table of failures shows it."""
    conf = r.expectation_config
    kw = {k: v for k, v in conf.kwargs.items() if k != "batch_id"}
    kind = str(conf.type)
    column = kw.get("column") or kw.get("column_A") or "(table)"
    result = dict(r.result or {})
    error = _exception_message(r.exception_info)
    if error and column != "(table)" and column not in columns:
        observed = "column missing"
    elif error:
        observed = f"error: {error.splitlines()[0][:200]}"
    else:
        observed = _observed(kind, kw, result)
    return {
        "column": str(column),
        "expectation": kind,
        "expected": _expected(kind, kw),
        "observed": observed,
        "failed_rows": json_safe(result.get("unexpected_count")),
        "sample": _bad_values(result, where),
    }


def _bad_values(result: dict[str, Any], where: Callable[[int], str] | None) -> list[str]:
    """The first SAMPLE_VALUES unexpected values, each with the row it is in when GX says."""
    values = result.get("partial_unexpected_list") or []
    rows = result.get("partial_unexpected_index_list") or []
    sample = []
    for i, value in enumerate(values[:SAMPLE_VALUES]):
        shown = _short(json_safe(value), 30)
        if where is not None and i < len(rows) and isinstance(rows[i], int):
            shown += f" ({where(rows[i])})"
        sample.append(shown)
    return sample
