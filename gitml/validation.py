"""Data-schema validation with great-expectations (GX 1.x), for the commit hook and `gitml validate`.

In the hook, every dataset whose staged hash or suite changed (or whose recorded validation is
missing or failed) is validated on the bytes the commit names, read from the DVC cache. Results
are cached per clone by (data md5, suite sha256, reader options, GX and pandas versions): the same
bytes committed again cost a cache read, not GX. gitml.lock records, per dataset,
`validation: {success, evaluated, failed}` and a `profile` of the data (what drift detection
compares later).

GX and pandas are imported only when a dataset has to be validated: GX alone costs seconds.
GX runs on an ephemeral context (nothing written into the repo), progress bars off, analytics
off, and its logger kept off the user's screen.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import datareaders, dvcfiles, objects
from gitml import state as state_mod
from gitml.checks import CheckContext, Failure
from gitml.config import Dataset
from gitml.datareaders import Frame, Source
from gitml.errors import BadInput
from gitml.fileio import md5_file
from gitml.lockfile import rounded

CACHE_DIR = "validation"
# 2: profiles count the values of few-valued number columns (drift); 3: histograms of the others
CACHE_VERSION = 3
SAMPLE_VALUES = 5
QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
TOP_VALUES = 5
NUMBER_VALUES = 10  # a number column of at most this many distinct values records each count
TEXT_DTYPES = ("str", "string")  # pandas' names of its text dtypes (as read, before `object`)
_TABLE_COLUMN_TYPES = {
    "expect_table_columns_to_match_ordered_list": "column_list",
    "expect_table_columns_to_match_set": "column_set",
}


@dataclass
class Target:
    """One dataset to validate: its entry in gitml.yaml, its suite, and the files to read."""

    dataset: Dataset
    suite_path: str
    suite_bytes: bytes
    md5: str | None  # the data's hash (DVC's); the cache key's first part
    sources: list[Source]
    formats: list[str]
    size: int


@dataclass
class Result:
    path: str
    suite: str
    success: bool
    evaluated: int
    failed: int
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per failed expectation
    profile: dict[str, Any] = field(default_factory=dict)
    sample: dict[str, Any] | None = None
    cached: bool = False

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "success": self.success,
            "evaluated": self.evaluated,
            "failed": self.failed,
        }
        if self.sample is not None:
            out["sample"] = self.sample
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "suite": self.suite,
            **self.summary(),
            "cached": self.cached,
            "failures": self.rows,
        }


# --- suites: read and checked before GX sees them ------------------------------------------


def load_suite(name: str, data: bytes) -> dict[str, Any]:
    """A GX 1.x suite document, checked for shape; BadInput naming the file otherwise."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"{name}: the suite is not valid JSON ({exc})") from None
    except RecursionError:
        raise BadInput(f"{name}: the suite is nested too deeply to be a suite") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{name}: a suite must be a JSON object with `name` and `expectations`")
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
        if (
            not isinstance(e, dict)
            or not isinstance(e.get("type"), str)
            or not isinstance(e.get("kwargs", {}), dict)
        ):
            raise BadInput(
                f"{name}: expectation #{i + 1} must be an object with a string `type` and a "
                "`kwargs` object"
            )
    return doc


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
            referenced.update(str(kw[k]) for k in ("column", "column_A", "column_B") if k in kw)
            if isinstance(kw.get("column_list"), list):
                referenced.update(str(c) for c in kw["column_list"])
    unknown = sorted(referenced - set(columns) - declared)
    if unknown:
        raise BadInput(
            f"{name}: names column(s) {', '.join(unknown)} that {dataset} does not have "
            f"(its columns: {', '.join(columns)})"
        )


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
    with quiet_gx():
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        suite = gx_suite(name, doc)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch_def = (
            ctx.data_sources.add_pandas("gitml")
            .add_dataframe_asset("data")
            .add_batch_definition_whole_dataframe("all")
        )
        with _no_fingerprint():
            batch = batch_def.get_batch(batch_parameters={"dataframe": frame.df})
            res = batch.validate(
                suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20}
            )
    stats = res.statistics
    rows = [_row(r, frame) for r in res.results if not r.success]
    order = {c: i for i, c in enumerate(frame.df.columns)}
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


def plain(value: Any) -> Any:
    """A JSON/YAML-safe Python value (numpy scalars unwrapped; NaN -> None)."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(plain(value), default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def _expected(kind: str, kw: dict[str, Any]) -> str:
    lo, hi = kw.get("min_value"), kw.get("max_value")
    if "min_value" in kw or "max_value" in kw:
        what = "rows" if kind == "expect_table_row_count_to_be_between" else "values"
        return f"{what} in [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
    if kind == "expect_column_values_to_not_be_null":
        return "no nulls"
    if "value_set" in kw:
        return f"in {_short(kw['value_set'])}"
    if "type_list" in kw:
        return f"type in {_short(kw['type_list'])}"
    if "type_" in kw:
        return f"type {kw['type_']}"
    for key in ("column_list", "column_set"):
        if key in kw:
            return f"columns {_short(kw[key])}"
    rest = {k: v for k, v in kw.items() if k not in ("column", "batch_id")}
    return _short(rest)


def _observed(kind: str, kw: dict[str, Any], result: dict[str, Any]) -> str:
    observed = result.get("observed_value")
    key = _TABLE_COLUMN_TYPES.get(kind)
    if key and isinstance(observed, list):
        want = [str(c) for c in kw.get(key) or []]
        missing = [c for c in want if c not in observed]
        extra = [c for c in observed if c not in want]
        parts = ([f"missing {missing}"] if missing else []) + ([f"new {extra}"] if extra else [])
        return "; ".join(parts) or f"order {_short(observed)}"
    if observed is not None:
        return _short(observed)
    count, total = result.get("unexpected_count"), result.get("element_count")
    if count is not None and total:
        return f"{count} of {total} rows"
    return ""


def _row(r: Any, frame: Frame) -> dict[str, Any]:
    conf = r.expectation_config
    kw = {k: v for k, v in conf.kwargs.items() if k != "batch_id"}
    kind = str(conf.type)
    column = kw.get("column") or kw.get("column_A") or "(table)"
    result = dict(r.result or {})
    error = _exception_message(r.exception_info)
    if error and column != "(table)" and column not in frame.df.columns:
        observed = "column missing"
    elif error:
        observed = f"error: {error.splitlines()[0][:200]}"
    else:
        observed = _observed(kind, kw, result)
    values = result.get("partial_unexpected_list") or []
    where = result.get("partial_unexpected_index_list") or []
    sample = []
    for i, value in enumerate(values[:SAMPLE_VALUES]):
        shown = _short(plain(value), 30)
        if i < len(where) and isinstance(where[i], int):
            shown += f" ({frame.where(where[i])})"
        sample.append(shown)
    return {
        "column": str(column),
        "expectation": kind,
        "expected": _expected(kind, kw),
        "observed": observed,
        "failed_rows": plain(result.get("unexpected_count")),
        "sample": sample,
    }


# --- profile ---------------------------------------------------------------------------------


def number_key(value: Any) -> str:
    """A number as a profile key, the same whether the column is read as int or float."""
    f = float(value)
    return str(int(f)) if f.is_integer() else repr(f)


def profile(frame: Frame) -> dict[str, Any]:
    """rows; per column dtype, nulls, and mean/std/quantiles and a histogram or the count of
    each value (numbers), or top values (others): what `gitml drift` compares with later."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    df = frame.df
    columns: dict[str, Any] = {}
    for col in df.columns:
        s = df[col]
        entry: dict[str, Any] = {"dtype": frame.dtypes[col], "nulls": int(s.isna().sum())}
        values = s.dropna()
        if is_numeric_dtype(s) and not is_bool_dtype(s):
            if len(values):
                entry.update(_number_profile(values))
        else:
            # Text read as text holds only strings: counted as they are, without a copy of the
            # column as `str` (which `astype(str)` would make to count anything else).
            text = frame.dtypes[col] in TEXT_DTYPES
            counts = (values if text else values.astype(str)).value_counts()
            entry["top"] = _top_values(counts, len(values))
        columns[str(col)] = entry
    result: dict[str, Any] = rounded({"rows": len(df), "columns": columns})
    return result


def _top_values(counts: Any, n: int) -> dict[str, int]:
    """The TOP_VALUES most frequent values, and after them any other that holds at least 5% of
    the values (drift's bins: a new category among ten common ones must not hide in "the
    rest"); ties in count ordered by value."""
    from gitml.drift import POINT_SHARE

    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    kept = [kv for i, kv in enumerate(ordered) if i < TOP_VALUES or int(kv[1]) * POINT_SHARE >= n]
    return {str(k): int(v) for k, v in kept}


def _number_profile(values: Any) -> dict[str, Any]:
    """mean, std, quantiles (of the finite values: an infinity is no figure gitml.lock can
    hold), and the count of each value for a column of few, else a histogram (drift's bins)."""
    import numpy as np

    from gitml import drift

    with warnings.catch_warnings():  # inf - inf, overflow: a figure that is not one (None)
        warnings.simplefilter("ignore", RuntimeWarning)
        entry: dict[str, Any] = {"mean": plain(float(values.mean()))}
        entry["std"] = plain(float(values.std())) if len(values) > 1 else None
    x = drift.number_values(values)
    finite = values[np.isfinite(x)]
    if len(finite):
        entry["quantiles"] = [plain(float(q)) for q in finite.quantile(list(QUANTILES))]
    # A number column of a few values (a label, a count, a flag) is told by them. The first
    # rows decide cheaply for most columns (more distinct values there than allowed: more in
    # all): counting a big float column's values would cost a hash table of millions of entries.
    if values.iloc[:10_000].nunique() <= NUMBER_VALUES:
        counts = values.value_counts()
        if len(counts) <= NUMBER_VALUES:
            entry["values"] = {number_key(v): int(n) for v, n in sorted(counts.items())}
            return entry
    entry["histogram"] = drift.histogram(x)
    return entry


# --- cache -----------------------------------------------------------------------------------


_VERSIONS: dict[str, str | None] = {}


def _version(dist: str) -> str | None:
    """The installed version of `dist`, from its `NAME-VERSION.dist-info` directory name.

    A cache hit needs the GX and pandas versions for its key but must not import them, nor
    importlib.metadata (~20 ms, most of what a cache hit cost): one listing of each sys.path
    directory is enough for a regular install; importlib.metadata is the fallback.
    """
    if dist in _VERSIONS:
        return _VERSIONS[dist]
    prefix = dist.replace("-", "_").lower() + "-"
    found: str | None = None
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for n in names:
            if n.endswith(".dist-info") and n.lower().startswith(prefix):
                found = n[len(prefix) : -len(".dist-info")] or None
                break
        if found:
            break
    if found is None:
        from importlib import metadata

        try:
            found = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found = None
    _VERSIONS[dist] = found
    return found


def cache_inputs(md5: str, suite_sha256: str, d: Dataset) -> dict[str, Any]:
    return {
        "md5": md5,
        "suite_sha256": suite_sha256,
        "format": d.format,
        "read": d.read,
        "sample": d.sample,
        "great_expectations": _version("great-expectations"),
        "pandas": _version("pandas"),
        "version": CACHE_VERSION,
    }


def cache_path(common_dir: Path, inputs: dict[str, Any]) -> Path:
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
    return state_mod.state_dir(common_dir) / CACHE_DIR / f"{key}.json"


def _from_cache(path: Path, target: Target) -> Result | None:
    doc = state_mod.read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("result"), dict):
        return None
    r = doc["result"]
    try:
        result = Result(
            path=target.dataset.path,
            suite=target.suite_path,
            success=bool(r["success"]),
            evaluated=int(r["evaluated"]),
            failed=int(r["failed"]),
            rows=list(r["rows"]),
            profile=dict(r["profile"]),
            sample=r.get("sample"),
            cached=True,
        )
    except (KeyError, TypeError, ValueError):
        return None
    state_mod.count_hit(path, doc)
    return result


def _to_cache(path: Path, inputs: dict[str, Any], result: Result) -> None:
    body = {**result.summary(), "rows": result.rows, "profile": result.profile}
    body["sample"] = result.sample
    path.parent.mkdir(parents=True, exist_ok=True)
    state_mod.write_json(path, {"inputs": inputs, "result": body, "hits": 0})


# --- validating one dataset ------------------------------------------------------------------


def verify_sources(sources: list[Source]) -> None:
    """BadInput (nothing cached, nothing recorded) for a DVC cache object whose bytes do not
    hash to its name."""
    for src in sources:
        if src.md5 is None:
            continue
        actual = (
            md5_file(src.file)
            if src.hash == "md5"
            else dvcfiles.md5_for(src.file.read_bytes(), src.hash)
        )
        if actual != src.md5:
            raise BadInput(
                f"{src.name}: its DVC cache object {src.file} hashes to {actual}, not {src.md5} "
                "(corrupt or tampered with); it was not validated. Delete that file, then "
                "`dvc pull` it (or rebuild it)"
            )


def validate_target(target: Target, common_dir: Path) -> Result:
    d = target.dataset
    # The limit first, before the cache: a pass cached under a higher limit must not answer
    # for data the configured limit now refuses.
    sample = datareaders.check_sample(d.path, d.sample)
    datareaders.check_size(d.path, target.size, sample, d.max_bytes)
    suite_sha = hashlib.sha256(target.suite_bytes).hexdigest()
    inputs = cache_inputs(target.md5, suite_sha, d) if target.md5 else None
    path = cache_path(common_dir, inputs) if inputs else None
    if path is not None:
        hit = _from_cache(path, target)
        if hit is not None:
            return hit
    # A miss reads the bytes and caches what GX says under their md5: they must be the bytes
    # that md5 names (the hook checks the cache objects a commit changes, not the ones it keeps).
    verify_sources(target.sources)
    doc = load_suite(target.suite_path, target.suite_bytes)
    frame = datareaders.read_frame(target.sources, target.formats, d.read, sample)
    check_columns(target.suite_path, d.path, doc, list(frame.df.columns))
    evaluated, failed, table = run_gx(target.suite_path, doc, frame)
    result = Result(
        path=d.path,
        suite=target.suite_path,
        success=failed == 0,
        evaluated=evaluated,
        failed=failed,
        rows=table,
        profile=profile(frame),
        sample=sample.record if sample is not None else None,
    )
    if path is not None and inputs is not None:
        _to_cache(path, inputs, result)
    return result


def _staged_target(ctx: CheckContext, cfg: dvcfiles.DvcConfig, d: Dataset) -> Target:
    """The dataset as the commit names it: its objects in the DVC cache (never the workspace)."""
    assert d.suite
    suite_bytes = ctx.lineage.snap.read(d.suite)
    if suite_bytes is None:
        raise BadInput(f"suite {d.suite} of {d.path} is not in the commit (git add it)")
    out = ctx.lineage.out(d.path)
    entry = ctx.lock["data"][d.path]
    if out is None or not out.md5:  # git-tracked: the staged blob
        data = ctx.lineage.snap.read(d.path)
        if data is None:
            raise BadInput(f"{d.path}: git-tracked directories are not validated; use DVC")
        src = Source(d.path, io.BytesIO(data))  # type: ignore[arg-type]
        fmt = datareaders.format_of(d.path, d.format)
        return Target(d, d.suite, suite_bytes, str(entry["md5"]), [src], [fmt], len(data))
    sources: list[Source] = []
    if out.is_dir:
        listing = objects.members(cfg, out) or []
        wanted = [(rel, md5) for rel, md5 in listing if not rel.rsplit("/", 1)[-1].startswith(".")]
    else:
        wanted = [("", out.md5)]
    for rel, md5 in wanted:
        obj = objects.locate(cfg, md5, out.hash)
        name = f"{d.path}/{rel}" if rel else d.path
        if obj is None:
            raise BadInput(f"{name}: its DVC object {md5} is not in the local cache (`dvc pull`)")
        sources.append(Source(name, obj, md5, out.hash))
    if not sources:
        raise BadInput(f"{d.path}: the directory has no files")
    formats = [datareaders.format_of(s.name, d.format) for s in sources]
    size = sum(s.file.stat().st_size for s in sources)
    return Target(d, d.suite, suite_bytes, out.md5, sources, formats, size)


def _needs_validation(ctx: CheckContext, d: Dataset) -> bool:
    if not d.suite:
        return False
    recorded = (ctx.lock.get("data") or {}).get(d.path, {}).get("validation")
    return d.path in ctx.changed_data or not (
        isinstance(recorded, dict) and recorded.get("success")
    )


def failure_detail(res: Result) -> str:
    head = f"{res.failed} of {res.evaluated} expectations failed (suite {res.suite})"
    return head + "\n" + table(res.rows)


def check(ctx: CheckContext) -> list[Failure]:
    todo = [d for d in ctx.lineage.config.data if _needs_validation(ctx, d)]
    if not todo:
        return []
    cfg = ctx.dvc_config or dvcfiles.read_config(ctx.repo.root)
    failures = []
    for d in todo:
        res = validate_target(_staged_target(ctx, cfg, d), ctx.repo.common_dir)
        entry = ctx.lock["data"][d.path]
        entry["validation"] = res.summary()
        entry["profile"] = res.profile
        if not res.success:
            failures.append(Failure("validation", d.path, failure_detail(res)))
    return failures


# --- the table of failed expectations --------------------------------------------------------

HEADERS = ("column", "expectation", "expected", "observed", "failed rows", "sample bad values")


def table(rows: list[dict[str, Any]]) -> str:
    """Plain fixed-width text (the hook prints it; no rich on that path)."""
    cells = [
        [
            r["column"],
            r["expectation"].removeprefix("expect_"),
            r["expected"],
            r["observed"],
            "" if r["failed_rows"] is None else str(r["failed_rows"]),
            ", ".join(r["sample"]),
        ]
        for r in rows
    ]
    cells = [[c if len(c) <= 70 else c[:67] + "..." for c in row] for row in cells]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(HEADERS)]

    def line(values: list[str] | tuple[str, ...]) -> str:
        return "  " + "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    sep = "  " + "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADERS), sep, *(line(row) for row in cells)])
