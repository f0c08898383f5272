"""Data-schema validation with great-expectations (GX 1.x), for the commit hook and
`gitml validate`.

In the hook, every dataset whose staged hash or suite changed (or whose recorded validation is
missing or failed) is validated on the bytes the commit names, read from the DVC cache. Results
are cached per clone by content (gitml.validation_cache): the same bytes committed again cost a
cache read, not GX. gitml.lock records, per dataset, `validation: {success, evaluated, failed}`
and a `profile` of the data (gitml.profile; what drift detection compares later). GX itself runs
in gitml.expectations, imported only when a dataset has to be validated.

Nothing here prints: results and failures are returned, and the hook and `gitml validate` show
them (gitml.validation_text writes the failed expectations as plain text).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import (
    datareaders,
    dvcconfig,
    dvcfiles,
    expectations,
    mergedlock,
    objects,
    validation_cache,
)
from gitml.checks import CheckContext, Failure
from gitml.config import Dataset
from gitml.datareaders import Source
from gitml.dvcconfig import DvcConfig
from gitml.dvcfiles import Out
from gitml.errors import BadInput
from gitml.fileio import md5_file
from gitml.lockfile import Profile, Validation
from gitml.profile import profile_of
from gitml.records import read_record, updated
from gitml.sampling import Sample
from gitml.validation_text import table as table  # what the hook and `validate` print


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
    # `engine: spark` with `read_from_remote`: the URLs Spark reads (instead of `sources`), and
    # what checks their bytes before they are validated, and the Hadoop settings that read
    # the remote as DVC does (gitml.sparksources.hadoop_settings)
    urls: list[str] = field(default_factory=list)
    verify_remote: Callable[[], None] | None = None
    hadoop: dict[str, str] = field(default_factory=dict)


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

    def cache_body(self) -> dict[str, Any]:
        """What the validation cache keeps of it."""
        return {**self.summary(), "rows": self.rows, "profile": self.profile, "sample": self.sample}

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "suite": self.suite,
            **self.summary(),
            "cached": self.cached,
            "failures": self.rows,
        }


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


def validate_target(
    target: Target, common_dir: Path, progress: Callable[[str], None] | None = None
) -> Result:
    """The suite's verdict on the target's bytes: from the cache when they were validated
    before, else from GX (and cached). `progress` hears what is about to take long."""
    d = target.dataset
    sample = None
    if d.engine == "pandas":
        # The limit first, before the cache: a pass cached under a higher limit must not answer
        # for data the configured limit now refuses.
        sample = datareaders.check_sample(d.path, d.sample)
        datareaders.check_size(d.path, target.size, sample, d.max_bytes)
    inputs = _cache_inputs(target)
    path = validation_cache.entry_path(common_dir, inputs) if inputs else None
    if path is not None:
        hit = validation_cache.read(path)
        if hit is not None:
            return Result(path=d.path, suite=target.suite_path, cached=True, **hit)
    if d.engine == "spark":
        if progress is not None:
            master = d.spark.master if d.spark else "local[*]"
            progress(f"validating {d.path} with Spark ({master}); a JVM takes seconds to start")
        result = _run_spark(target)
    else:
        if progress is not None:
            progress(f"validating {d.path} against {target.suite_path} (great-expectations)")
        result = _run_suite(target, sample)
    if path is not None and inputs is not None:
        validation_cache.write(path, inputs, result.cache_body())
    return result


def _cache_inputs(target: Target) -> dict[str, Any] | None:
    """The cache key's inputs (None: data without a hash is not cached)."""
    if not target.md5:
        return None
    suite_sha = hashlib.sha256(target.suite_bytes).hexdigest()
    return validation_cache.key_inputs(target.md5, suite_sha, target.dataset)


def _run_suite(target: Target, sample: Sample | None) -> Result:
    """GX's verdict on the target's bytes, and their profile."""
    d = target.dataset
    # A miss reads the bytes and caches what GX says under their md5: they must be the bytes
    # that md5 names (the hook checks the cache objects a commit changes, not the ones it keeps).
    verify_sources(target.sources)
    doc = expectations.load_suite(target.suite_path, target.suite_bytes)
    frame = datareaders.read_frame(target.sources, target.formats, d.read, sample)
    expectations.check_columns(target.suite_path, d.path, doc, list(frame.df.columns))
    evaluated, failed, rows = expectations.run_gx(target.suite_path, doc, frame)
    return Result(
        path=d.path,
        suite=target.suite_path,
        success=failed == 0,
        evaluated=evaluated,
        failed=failed,
        rows=rows,
        profile=profile_of(frame),
        sample=sample.record if sample is not None else None,
    )


def _run_spark(target: Target) -> Result:
    """The suite's verdict and the profile, computed in Spark (gitml.sparkvalidation, which
    imports pyspark and starts the session)."""
    from gitml import sparkvalidation

    d = target.dataset
    if target.verify_remote is not None:
        target.verify_remote()
    else:
        verify_sources(target.sources)
    doc = expectations.load_suite(target.suite_path, target.suite_bytes)
    datareaders.check_formats(target.sources, target.formats)
    locations = target.urls or [str(s.file) for s in target.sources]
    run = sparkvalidation.run_suite(
        target.suite_path, doc, d, locations, target.formats[0], target.hadoop
    )
    return Result(
        path=d.path,
        suite=target.suite_path,
        success=run.failed == 0,
        evaluated=run.evaluated,
        failed=run.failed,
        rows=run.rows,
        profile=run.profile,
    )


def dvc_target(cfg: DvcConfig, root: Path, d: Dataset, suite_bytes: bytes, out: Out) -> Target:
    """A DVC-tracked dataset as `out` names it: its objects in the DVC cache, or with the
    Spark engine's `read_from_remote`, on the default remote."""
    assert d.suite and out.md5
    if d.spark is not None and d.spark.read_from_remote:
        from gitml import sparksources

        found = sparksources.remote_objects(cfg, root, d.path, out)
        formats = [datareaders.format_of(o.name, d.format) for o in found]
        target = Target(d, d.suite, suite_bytes, out.md5, [], formats, out.size or 0)
        target.urls = [o.url for o in found]
        target.verify_remote = lambda: sparksources.verify(cfg, root, found)
        target.hadoop = sparksources.hadoop_settings(cfg)
        return target
    sources = _cache_sources(cfg, d.path, out, out.md5)
    formats = [datareaders.format_of(s.name, d.format) for s in sources]
    size = sum(s.file.stat().st_size for s in sources)
    return Target(d, d.suite, suite_bytes, out.md5, sources, formats, size)


def _staged_target(ctx: CheckContext, cfg: DvcConfig, d: Dataset) -> Target:
    """The dataset as the commit names it: its objects in the DVC cache (never the workspace)."""
    assert d.suite
    suite_bytes = ctx.lineage.snap.read(d.suite)
    if suite_bytes is None:
        raise BadInput(f"suite {d.suite} of {d.path} is not in the commit (git add it)")
    out = ctx.lineage.out(d.path)
    if out is None or not out.md5:  # git-tracked: the staged blob
        if d.engine == "spark":
            raise BadInput(f"{d.path}: `engine: spark` reads DVC-tracked data; this is in git")
        data = ctx.lineage.snap.read(d.path)
        if data is None:
            raise BadInput(f"{d.path}: git-tracked directories are not validated; use DVC")
        src = Source(d.path, io.BytesIO(data))  # type: ignore[arg-type]
        fmt = datareaders.format_of(d.path, d.format)
        md5 = str(ctx.lock.data[d.path].md5)
        return Target(d, d.suite, suite_bytes, md5, [src], [fmt], len(data))
    return dvc_target(cfg, ctx.repo.root, d, suite_bytes, out)


def _cache_sources(cfg: DvcConfig, path: str, out: Out, md5: str) -> list[Source]:
    """The DVC cache objects of a tracked file (`md5`), or of the members of a tracked
    directory (hidden ones aside)."""
    if out.is_dir:
        listing = objects.members(cfg, out) or []
        wanted = [(rel, m) for rel, m in listing if not rel.rsplit("/", 1)[-1].startswith(".")]
    else:
        wanted = [("", md5)]
    sources: list[Source] = []
    for rel, member_md5 in wanted:
        obj = objects.locate(cfg, member_md5, out.hash)
        name = f"{path}/{rel}" if rel else path
        if obj is None:
            raise BadInput(
                f"{name}: its DVC object {member_md5} is not in the local cache (`dvc pull`)"
            )
        sources.append(Source(name, obj, member_md5, out.hash))
    if not sources:
        raise BadInput(f"{path}: the directory has no files")
    return sources


def _needs_validation(ctx: CheckContext, d: Dataset) -> bool:
    """Changed data, no passing validation recorded, or a coarse profile (one written before
    histograms: the lock being rewritten anyway, its profile is brought up to date)."""
    if not d.suite:
        return False
    entry = ctx.lock.data.get(d.path)
    recorded = entry.validation if entry is not None else None
    profile = entry.profile if entry is not None else None
    merge = ctx.merge
    return (
        d.path in ctx.changed_data
        or not (recorded is not None and recorded.success)
        # a profile written before histograms: validated again to record what drift needs
        or (profile is not None and profile.coarse)
        # data of one side of a merge with the other side's verdict: nobody validated that pair
        or (
            entry is not None
            and merge is not None
            and not merge.checked
            and mergedlock.data_problem(merge, d, entry) is not None
        )
    )


def failure_detail(res: Result) -> str:
    head = f"{res.failed} of {res.evaluated} expectations failed (suite {res.suite})"
    return head + "\n" + table(res.rows)


def check(ctx: CheckContext) -> list[Failure]:
    todo = [d for d in ctx.lineage.config.data if _needs_validation(ctx, d)]
    if not todo:
        return []
    cfg = ctx.dvc_config or dvcconfig.read_config(ctx.repo.root)
    failures = []
    for d in todo:
        res = validate_target(_staged_target(ctx, cfg, d), ctx.repo.common_dir, ctx.progress)
        entry = updated(
            ctx.lock.data[d.path],
            validation=read_record(Validation, res.summary()),
            profile=read_record(Profile, res.profile) if res.profile is not None else None,
        )
        ctx.lock = ctx.lock.with_data(d.path, entry)
        if not res.success:
            failures.append(Failure("validation", d.path, failure_detail(res), res.as_json()))
    return failures
