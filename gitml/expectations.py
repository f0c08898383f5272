"""great-expectations (GX 1.x) on one frame: the suite file checked before GX sees it, built
into a GX suite one expectation at a time (so a bad one is named), run on an ephemeral context,
and each failed expectation turned into a plain JSON row (its type and kwargs as the suite
writes them, GX's figures under GX's names, the rows of its unexpected values) that the cache,
`--json` and the text of failures (gitml.validation_text) share, whichever engine ran it.

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

Row = dict[str, Any]  # a failed expectation (_row), as gitml validate --json shows it
# (file or None, 1-based row) of a frame's row; None on an engine whose rows have no order
Locate = Callable[[int], tuple[str | None, int]] | None
# From this size of a frame (its columns' buffers) the pandas engine validates each group of
# expectations on the columns it reads: GX drops a column's null rows for each of its column
# expectations by copying the whole frame (`df[df[column].notnull()]`, every column of it), so a
# wide frame would peak at twice its size (benchmarks/spark.py's 10 columns).
NARROW_FROM_BYTES = 64 << 20
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


def gx_suite(name: str, doc: dict[str, Any], positions: list[int] | None = None) -> Any:
    """Build the GX suite one expectation at a time, so an unknown type or bad kwargs is named
    (GX itself drops an unknown type silently); then compare the counts as a guard. Each
    expectation's meta keeps its position in the suite (`positions[i]` where `doc` holds some of
    the suite's expectations)."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    built = []
    for at, e in enumerate(doc["expectations"]):
        i = positions[at] if positions is not None else at
        try:
            meta = {**(e.get("meta") or {}), _INDEX_KEY: i}  # to find it in the results
            conf = ExpectationConfiguration(
                type=e["type"], kwargs=dict(e.get("kwargs") or {}), meta=meta
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


def run_gx(name: str, doc: dict[str, Any], frame: Frame) -> tuple[int, int, list[Row]]:
    """(evaluated, failed, a row per failed expectation) of the suite on the frame: on the
    whole frame at once, or, from NARROW_FROM_BYTES, each group of expectations on the columns
    it reads (the same results: GX judges each expectation on its own)."""
    columns = [str(c) for c in frame.df.columns]
    if int(frame.df.memory_usage(deep=False).sum()) < NARROW_FROM_BYTES:
        return _counted(_validate(name, doc, "pandas", frame.df), doc, columns, frame.origin)
    evaluated = failed = 0
    rows: list[Row] = []
    for needed, positions in column_groups(doc, list(frame.df.columns)):
        part = frame.df if needed is None else frame.df[needed]
        picked = {**doc, "expectations": [doc["expectations"][i] for i in positions]}
        res = _validate(name, picked, "pandas", part, positions=positions)
        found = _counted(res, doc, columns, frame.origin)
        evaluated, failed, rows = evaluated + found[0], failed + found[1], rows + found[2]
    rows.sort(key=lambda r: -1 if r["index"] is None else r["index"])  # the suite's order
    return evaluated, failed, rows


def column_groups(
    doc: dict[str, Any], labels: list[Any]
) -> list[tuple[list[Any] | None, list[int]]]:
    """The suite's positions grouped by the frame columns (`labels`, in the frame's order) their
    expectation reads: a column expectation without a row condition reads its own columns; any
    other (table-level, with a row_condition, naming a column the frame lacks) the whole frame
    (None)."""
    groups: dict[tuple[Any, ...] | None, list[int]] = {}
    for i, e in enumerate(doc["expectations"]):
        groups.setdefault(_columns_read(e.get("kwargs") or {}, labels), []).append(i)
    return [(None if key is None else list(key), found) for key, found in groups.items()]


def _columns_read(kw: dict[str, Any], labels: list[Any]) -> tuple[Any, ...] | None:
    """The frame columns (of `labels`) an expectation's kwargs read, None for the whole frame."""
    needed = _columns_named(kw)
    if not needed or kw.get("row_condition") or not needed <= {str(x) for x in labels}:
        return None
    return tuple(label for label in labels if str(label) in needed)


def run_gx_spark(
    name: str, doc: dict[str, Any], written: dict[str, Any], df: Any
) -> tuple[int, int, list[Row]]:
    """(evaluated, failed, a row per failed expectation) of the suite `doc` on a Spark
    DataFrame, through GX's Spark datasource; rows show the expectations as `written` (the
    suite before its type names were given in Spark's). Unexpected values come without their
    rows: Spark's rows have no order.

    Verdicts first (BOOLEAN_ONLY: GX bundles each expectation's unexpected count into one
    aggregate per domain), then the failed expectations alone again for what the rows show:
    in SUMMARY every expectation also costs a job listing bad values and one counting them,
    full scans of data that has none on a passing run."""
    verdicts = _validate(name, doc, "spark", df, "BOOLEAN_ONLY")
    stats = verdicts.statistics
    evaluated, failed = (
        int(stats["evaluated_expectations"]),
        int(stats["unsuccessful_expectations"]),
    )
    if not failed:
        return evaluated, failed, []
    keep = _failed_positions(verdicts, len(doc["expectations"]))

    def picked(suite: dict[str, Any]) -> dict[str, Any]:
        return {**suite, "expectations": [suite["expectations"][i] for i in keep]}

    again = _validate(name, picked(doc), "spark", df, "SUMMARY")
    _, _, rows = _counted(again, picked(written), list(df.columns), None)
    return evaluated, failed, rows


def _failed_positions(res: Any, count: int) -> list[int]:
    """The suite positions (gx_suite's index in each expectation's meta) of the expectations
    that failed in `res`; every position when one lacks its index."""
    found = []
    for r in res.results:
        if r.success:
            continue
        index = (r.expectation_config.meta or {}).get(_INDEX_KEY)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
            return list(range(count))
        found.append(index)
    return sorted(found)


def _validate(
    name: str,
    doc: dict[str, Any],
    engine: str,
    dataframe: Any,
    result_format: str = "SUMMARY",
    positions: list[int] | None = None,
) -> Any:
    """GX's validation result of the suite on a whole-dataframe batch of `engine` (`doc`
    holding the suite's expectations at `positions`, all of them by default)."""
    with quiet_gx():
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        suite = gx_suite(name, doc, positions)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        sources = ctx.data_sources
        # persist=False: gitml keeps the data it reads (gitml.sparkread.read_kept); GX's own
        # persist would cache the typed frame a second time
        source = (
            sources.add_spark("gitml", persist=False)
            if engine == "spark"
            else sources.add_pandas("gitml")
        )
        batch_def = source.add_dataframe_asset("data").add_batch_definition_whole_dataframe("all")
        with _no_fingerprint():
            batch = batch_def.get_batch(batch_parameters={"dataframe": dataframe})
            return batch.validate(
                suite,
                result_format={"result_format": result_format, "partial_unexpected_count": 20},
            )


def _counted(
    res: Any, written: dict[str, Any], columns: list[str], locate: Locate
) -> tuple[int, int, list[Row]]:
    stats = res.statistics
    exps = written["expectations"]
    rows = [_row(r, exps, columns, locate) for r in res.results if not r.success]
    rows.sort(key=lambda r: -1 if r["index"] is None else r["index"])  # the suite's order
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

# What of GX's result a row keeps, under GX's names (None where GX measured no such thing).
RESULT_KEYS = (
    "element_count",
    "missing_count",
    "unexpected_count",
    "unexpected_percent",  # of the non-missing values, as GX counts it
    "unexpected_percent_total",
    "observed_value",
    "partial_unexpected_list",
)
# Where gx_suite puts each expectation's position in the suite, to find its kwargs as written.
_INDEX_KEY = "gitml_suite_index"


def _row(r: Any, written: list[dict[str, Any]], columns: list[str], locate: Locate) -> Row:
    """One failed expectation: as the suite wrote it (type, kwargs), what GX measured, and
    where its unexpected values are. The same fields on every engine."""
    conf = r.expectation_config
    index = (conf.meta or {}).get(_INDEX_KEY)
    if isinstance(index, int) and 0 <= index < len(written):
        kind, kw = written[index]["type"], dict(written[index].get("kwargs") or {})
    else:  # not ours (cannot happen with gx_suite): GX's own view of it
        index, kind, kw = None, str(conf.type), dict(conf.kwargs)
    kw.pop("batch_id", None)
    column = kw.get("column", kw.get("column_A"))
    result = dict(r.result or {})
    measured = {key: json_safe(result.get(key)) for key in RESULT_KEYS}
    error = _exception_message(r.exception_info)
    if error and column is not None and str(column) not in columns:
        error = f"column {json.dumps(str(column))} is not in the data"
    rows = result.get("partial_unexpected_index_list")
    return {
        "index": index,
        "expectation": kind,
        "column": None if column is None else str(column),
        "kwargs": json_safe(kw),
        "result": measured,
        "unexpected_rows": _located(rows, locate) if locate is not None else None,
        "short_of_mostly": None if error else _short_of_mostly(kw.get("mostly"), measured),
        "error": error.splitlines()[0][:300] if error else None,
    }


def _located(rows: Any, locate: Callable[[int], tuple[str | None, int]]) -> list[Any] | None:
    """The file and row of each value in GX's partial_unexpected_list (None where GX gave no
    row for one)."""
    if not isinstance(rows, list):
        return None
    found: list[Any] = []
    for index in rows:
        if isinstance(index, int) and not isinstance(index, bool):
            file, row = locate(index)
            found.append({"file": file, "row": row})
        else:
            found.append(None)
    return found


def _short_of_mostly(mostly: Any, measured: dict[str, Any]) -> bool | None:
    """Whether the share of expected values fell below `mostly`, as GX decides it (expected
    non-missing values / non-missing values >= mostly); None without a `mostly` or counts."""
    total, missing = measured["element_count"], measured["missing_count"] or 0
    unexpected = measured["unexpected_count"]
    if isinstance(mostly, bool) or not isinstance(mostly, (int, float)):
        return None
    if not isinstance(total, int) or not isinstance(unexpected, int) or total - missing <= 0:
        return None
    considered = total - missing
    return bool((considered - unexpected) / considered < mostly)
