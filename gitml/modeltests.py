"""Model tests (pytest, with gitml's plugin) and metric gates, for the commit hook and `gitml test`.

A model is tested and gated when its md5 (or anything else in its inputs), its test files or
its gates changed, or when what gitml.lock recorded for it did not pass. Gates (gitml.gates) are
evaluated against the metrics at the commit and at the baseline (gitml.baselines). The tests are
the files gitml.testfiles names, run by gitml.testrunner (which caches their result per clone).
A run happens in place only when those files in the workspace are the staged ones: otherwise
the verdict would be about files the commit does not contain, and gitml refuses, naming them,
rather than stash (a killed hook must never lose work).

gitml.lock records `tests: {passed, failed, hash, data}` (data: {path: md5} of the datasets the
tests looked up) and `gates: [{rule, value, baseline, threshold, passed}]` (gitml.gates).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from gitml import baselines, gates, git, mergedlock, slices, testfiles, testrunner
from gitml.checks import CheckContext, Failure
from gitml.config import Model
from gitml.errors import BadInput
from gitml.lineage import Lineage
from gitml.lockfile import Gate as Verdict
from gitml.lockfile import Lock, ModelEntry, ModelTests
from gitml.records import JsonObject, plain, updated, without
from gitml.snapshot import Snapshot


@dataclass
class ModelResult:
    path: str
    name: str
    tests: dict[str, Any] | None = None  # {passed, failed, skipped, errors, failures, hash}
    gates: list[Verdict] = field(default_factory=list)
    cached: bool = False
    failures: list[Failure] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "passed": not self.failures,
            "cached": self.cached,
            "tests": self.tests,
            "gates": [plain(g) for g in self.gates],
        }


# --- the check the commit hook runs ----------------------------------------------------------


def check(ctx: CheckContext) -> list[Failure]:
    return [f for r in run_models(ctx) for f in r.failures]


def _selected(models: tuple[Model, ...], only: list[str] | None) -> tuple[Model, ...]:
    """The models `only` names, by path or name (all without it); bad input for any other."""
    if not only:
        return models
    _refuse_unknown(models, only)
    wanted = set(only)
    return tuple(m for m in models if m.path in wanted or m.name in wanted)


def _refuse_unknown(models: tuple[Model, ...], only: list[str]) -> None:
    known = {key for m in models for key in (m.path, m.name)}
    unknown = [o for o in only if o not in known]
    if unknown:
        listed = ", ".join(f"{m.path} ({m.name})" for m in models) or "none"
        raise BadInput(f"no model {', '.join(map(repr, unknown))} in gitml.yaml (models: {listed})")


def run_models(
    ctx: CheckContext, only: list[str] | None = None, force: bool = False
) -> list[ModelResult]:
    """Test and gate the models that need it (all of `only`, or every model, with `force`),
    recording their results in ctx.lock (a new Lock each time); warnings go to ctx.report."""
    # The hook resolved HEAD once (ctx.head); `gitml test` builds its context without it.
    head = ctx.head if ctx.head is not None else git.head_commit(ctx.repo.root)
    if ctx.merge is not None:  # as git diffs a merge: against its first parent
        head = ctx.merge.first
    results = []
    for m in _selected(ctx.lineage.config.models, only):
        entry = _unchecked_dropped(ctx.lock.models[m.path], m)
        ctx.lock = ctx.lock.with_model(m.path, entry)
        if not (m.tests or m.gates):
            continue
        thash = tests_key(ctx.lineage.snap, m) if m.tests else None
        if force or needs_run(ctx, m, entry, thash):
            results.append(run_model(ctx, m, entry, thash, head))
    return results


def _unchecked_dropped(entry: ModelEntry, m: Model) -> ModelEntry:
    """The entry without the results of checks gitml.yaml no longer asks of the model."""
    dropped = [name for name, asked in (("tests", m.tests), ("gates", m.gates)) if not asked]
    return without(entry, *dropped) if dropped else entry


def tests_key(snap: Snapshot, m: Model) -> str:
    """What gitml.lock records as `tests.hash`: the hash of the model's test files, and of its
    gitml.yaml `slices:` when it has some (another query measures other rows)."""
    assert m.tests
    files = testfiles.tests_hash(snap, m.tests)
    if m.slices is None:  # as before slices existed: recorded results stay valid
        return files
    spec = json.dumps([m.slices.data, m.slices.by])
    return hashlib.sha256(f"{files}\0{spec}".encode()).hexdigest()


def _tests_hold(lin: Lineage, recorded: ModelTests | None, thash: str | None) -> bool:
    """Whether recorded test results still stand: of these files, on this data, all passed."""
    return (
        recorded is not None
        and recorded.hash == thash
        and not recorded.failed_as_written
        # a result from before gitml recorded the data the tests read: run once to record it
        and recorded.data is not None
        and not data_changes(lin, recorded.data)
    )


def needs_run(ctx: CheckContext, m: Model, entry: ModelEntry, thash: str | None) -> bool:
    if m.path in ctx.changed_models:
        return True
    if m.tests and not _tests_hold(ctx.lineage, entry.tests, thash):
        return True
    merge = ctx.merge
    if merge is not None and not merge.checked and mergedlock.model_problems(merge, m, entry):
        return True  # results a merge took from two sides, which nobody reached together
    # verdicts a merge made without gitml's driver combined from two sides are judged again
    figures = slices.with_test_metrics(entry.metrics, entry.tests)  # gates name `tests.X` too
    mismatched = gates.recorded_mismatches(m.path, m.gates, entry.gates, figures)
    return bool(mismatched) or not gates.recorded_pass(m.gates, entry.gates)


def run_model(
    ctx: CheckContext, m: Model, entry: ModelEntry, thash: str | None, head: str | None
) -> ModelResult:
    """Gate and test one model (its gitml.lock `entry`), recording the verdicts in ctx.lock."""
    result = ModelResult(m.path, m.name)
    base = _baseline(ctx, m, head)
    tests_failed: list[Failure] = []
    if m.tests:  # first: gates may name the figures the tests record (`tests.NAME`)
        _test(ctx, m, entry, thash or "", base, result)
        tests_failed, result.failures = result.failures, []
        entry = ctx.lock.models[m.path]  # with the tests' result: the gates keep it, read it
    if m.gates:
        result.gates = gates.evaluate(
            m.gates,
            slices.with_test_metrics(entry.metrics, entry.tests),
            base.rev,
            base.metrics,
            model=m.path,
            metrics_file=m.metrics,
            unread=ctx.lineage.unread_metrics.get(m.path),
        )
        entry = updated(entry, gates=result.gates)
        ctx.lock = ctx.lock.with_model(m.path, entry)
        if not all(g.passed for g in result.gates):
            result.failures.append(Failure("gates", m.path, "\n" + gates.table(result.gates)))
    result.failures.extend(tests_failed)
    return result


def _test(
    ctx: CheckContext,
    m: Model,
    entry: ModelEntry,
    thash: str,
    base: baselines.Baseline,
    result: ModelResult,
) -> None:
    run = testrunner.run_tests(ctx, m, entry, thash, base, ctx.report)
    tests, result.cached = run.result, run.cached
    failed = int(tests.get("failed", 0)) + int(tests.get("errors", 0))
    result.tests = {**tests, "hash": thash}
    recorded = ModelTests(
        passed=int(tests.get("passed", 0)),
        failed=failed,
        hash=thash,
        data=data_read(ctx.lineage, tests, testrunner.data_paths(ctx.lineage, m)),
        metrics=slices.nested(tests["metrics"]) if tests.get("metrics") else None,
    )
    ctx.lock = ctx.lock.with_model(m.path, updated(entry, tests=recorded))
    if tests.get("exitstatus") == 5:
        ctx.report(f"{m.tests}: pytest collected no tests for {m.path}")
    if failed:
        result.failures.append(Failure("tests", m.path, tests_summary(tests)))


def _baseline(ctx: CheckContext, m: Model, head: str | None) -> baselines.Baseline:
    """The model's baseline. `parent` is HEAD, whose gitml.lock the hook parsed once
    (ctx.head_lock): the metrics it records for the model come from there, not from another read
    and parse of that blob. Without them (no lock, no entry): baselines' own fallbacks."""
    if m.baseline == "parent" and head is not None and head == ctx.head and ctx.head_lock:
        entry = ctx.head_lock.models.get(m.path)
        if entry is not None and entry.metrics is not None:
            figures = slices.with_test_metrics(entry.metrics, entry.tests)
            return baselines.Baseline(m.baseline, head, figures)
    return baselines.baseline_for(ctx.repo.root, m.baseline, m.name, m.path, m.metrics, head)


def tests_summary(tests: dict[str, Any]) -> str:
    lines = [
        f"{tests['failed']} failed, {tests.get('errors', 0)} errors, {tests['passed']} passed"
        + (f" (pytest exit {tests['exitstatus']})" if tests.get("exitstatus") not in (0, 1) else "")
    ]
    for f in tests.get("failures") or []:
        lines.append(f"  {f['nodeid']}: {f['repr']}".rstrip())
    return "\n".join(lines)


# --- the data the tests read -----------------------------------------------------------------


def data_read(lin: Lineage, result: dict[str, Any], data_paths: list[str]) -> JsonObject:
    """{path: md5} of the DVC-tracked paths the run looked up in `gitml_data` (what gitml.lock
    records as `tests.data`): a change of those bytes alone makes the result stale."""
    looked_up = result.get("data_read")
    names = looked_up if isinstance(looked_up, list) else []
    return {p: getattr(lin.out(p), "md5", None) for p in sorted(set(names) & set(data_paths))}


def data_changes(lin: Lineage, recorded: JsonObject) -> list[str]:
    """The recorded data a tests' result was reached on, where this snapshot has other bytes."""
    return [
        f"{p}: md5 {md5} -> {getattr(lin.out(p), 'md5', None)}"
        for p, md5 in sorted(recorded.items())
        if getattr(lin.out(p), "md5", None) != md5
    ]


# --- what a pushed tip recorded ---------------------------------------------------------------


def _tests_key_mismatches(lin: Lineage, m: Model, recorded: ModelTests) -> list[str]:
    assert m.tests
    now = tests_key(lin.snap, m)
    if recorded.hash == now:
        return []
    return [
        f"models.{m.path}.tests.hash: {str(recorded.hash)[:12]} -> {now[:12]} "
        f"(the files of {m.tests}, or its slices, are not those its tests ran on)"
    ]


def recorded_key_mismatches(lin: Lineage, lock: Lock) -> tuple[list[str], list[str]]:
    """Where a gitml.lock's recorded test results are not about what its snapshot holds, or its
    recorded gate verdicts not about its own rules and metrics (gates.recorded_mismatches):
    (mismatches, notes). The results' key is recomputed from the snapshot: the tests hash from
    its test, conftest and package files, and the md5 of each dataset the tests read from its
    DVC files. A mismatch means the result was reached on other files (a commit made around
    the hook). Notes: what cannot be judged, for a result recorded before gitml kept the data
    the tests read (its tests hash is still compared)."""
    mismatches: list[str] = []
    notes: list[str] = []
    for m in lin.config.models:
        entry = lock.models.get(m.path)
        if entry is not None:
            figures = slices.with_test_metrics(entry.metrics, entry.tests)
            mismatches.extend(gates.recorded_mismatches(m.path, m.gates, entry.gates, figures))
        recorded = entry.tests if entry is not None else None
        if not m.tests or recorded is None:
            continue
        mismatches.extend(_tests_key_mismatches(lin, m, recorded))
        data = recorded.data
        if data is None:
            notes.append(
                f"{m.path}: its recorded tests name no data they read (written by an older "
                "gitml), so a change of that data alone is not seen; the next commit that "
                "touches the model's files runs them again and records it (`gitml lock` too)"
            )
            continue
        mismatches.extend(
            f"models.{m.path}.tests.data.{change} (its tests ran on other data)"
            for change in data_changes(lin, data)
        )
    return mismatches, notes


def _tests_problems(m: Model, tests: ModelTests | None) -> list[str]:
    if not m.tests:
        return []
    if tests is None:
        return [f"{m.path}: no recorded model test results"]
    if tests.failed_as_written:
        return [f"{m.path}: {tests.failed_as_written} model test(s) failed"]
    return []


def recorded_problems(config_models: tuple[Model, ...], lock: Lock) -> list[str]:
    """Why a commit's recorded model checks do not pass (empty when they do)."""
    problems = []
    for m in config_models:
        entry = lock.models.get(m.path) or ModelEntry()
        problems.extend(_tests_problems(m, entry.tests))
        problems.extend(gates.recorded_problems(m.path, m.gates, entry.gates))
    return problems
