"""What a pull-request report says (`gitml report`): the diff against the base with each
model's verdict, the metrics of what each registry stage holds against this state's, a metric
of each model over the history, and the lineage graph of the models (gitml/lineagegraph.py).
gitml/commands/report.py renders it as Markdown or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import (
    baselines,
    git,
    history,
    hypotheses,
    lineagegraph,
    modelhistory,
    plots,
    registry,
    slices,
    versiondiff,
)
from gitml.history import Version
from gitml.hypotheses import Judged
from gitml.lineagegraph import Graph
from gitml.lockfile import ModelEntry
from gitml.plots import Series
from gitml.slices import SliceRow
from gitml.versiondiff import MetricDelta, VersionDiff


@dataclass(frozen=True)
class Report:
    diff: VersionDiff
    base: str  # labels: short shas, or "staged"
    head: str
    failed: list[str]  # models whose recorded checks failed
    unchecked: list[str]  # models with no checks recorded
    lineage: Graph  # .mermaid() for Markdown, gitml/svggraph.py for HTML
    series: list[Series]  # one per model with metrics, oldest first
    registry: list[RegistryRow]
    unread: list[str]  # models without metrics, and why
    left_out: list[str]  # versions of gitml.lock in history that could not be read
    hypotheses: list[Judged]  # of the commits between base and head
    slices: list[SliceRow] = field(default_factory=list)  # per-slice figures of the tests

    @property
    def status(self) -> str:
        """`failed` (a model's recorded checks failed), `unchecked` (no model has checks
        recorded) or `passed`."""
        if self.failed:
            return "failed"
        if self.unchecked and len(self.unchecked) == len(self.diff.models):
            return "unchecked"
        return "passed"

    def to_json(self) -> dict[str, Any]:
        """`gitml report --json` (a stable format): what the Markdown and HTML reports show,
        numbers as numbers."""
        return {
            "base": self.base,
            "head": self.head,
            "verdict": self.status,
            "failed": self.failed,
            "unchecked": self.unchecked,
            "diff": self.diff.to_json(),
            "registry": [r.to_json() for r in self.registry],
            "series": [
                {
                    "model": s.model,
                    "metric": s.metric,
                    "points": [
                        {"commit": p.commit, "date": p.date, "value": p.value} for p in s.points
                    ],
                }
                for s in self.series
            ],
            "lineage": self.lineage.mermaid(),
            "hypotheses": [
                {"commit": j.commit, "model": j.model, **j.hypothesis.to_json()}
                for j in self.hypotheses
            ],
            "slices": [
                {
                    "model": m,
                    "slice": name,
                    "metric": f,
                    "base": a,
                    "this": b,
                    "delta": _delta(a, b),
                }
                for m, name, f, a, b in self.slices
            ],
            "unread": self.unread,
            "left_out": self.left_out,
        }


def _delta(old: float | None, new: float | None) -> float | None:
    return None if old is None or new is None else new - old


def build(root: Path, base: Version, head: Version) -> Report:
    diff = versiondiff.diff_versions(base, head)
    verdicts = {p: m.checks.new.passed for p, m in diff.models.items()}
    left_out: list[str] = []
    return Report(
        diff=diff,
        base=base.label,
        head=head.label,
        failed=[p for p, ok in verdicts.items() if ok is False],
        unchecked=[p for p, ok in verdicts.items() if ok is None],
        lineage=lineagegraph.build(head, diff),
        series=series_for(root, head, diff, left_out),
        registry=registry_rows(root, head),
        unread=[
            f"model {p} at {label}: no metrics recorded: {why}"
            for p, m in diff.models.items()
            for label, why in (
                (base.label, m.metrics_unread.old),
                (head.label, m.metrics_unread.new),
            )
            if why
        ],
        left_out=left_out,
        hypotheses=_hypotheses(root, base, head),
        slices=slices.report_rows(base.lock, head.lock),
    )


def _hypotheses(root: Path, base: Version, head: Version) -> list[Judged]:
    """Those of the commits after `base` up to `head` (HEAD when `head` is the staged state)."""
    if not _has_commits(root):
        return []
    tip = head.commit.sha if head.commit else "HEAD"
    return hypotheses.in_range(root, base.commit.sha if base.commit else None, tip)


@dataclass(frozen=True)
class RegistryRow:
    """A metric of what a registry stage holds now (`delta.old`) against this state's."""

    model: str  # its registry name
    stage: str
    version: str | None  # the version registered for the commit, if any
    commit: str
    metric: str
    delta: MetricDelta

    @property
    def held(self) -> str:
        """`v1.2.0 (1a2b3c4d)`: the version, if any, and the commit."""
        return f"{self.version or '-'} ({self.commit[:8]})"

    def to_json(self) -> dict[str, Any]:
        d = self.delta
        return {
            "model": self.model,
            "stage": self.stage,
            "version": self.version,
            "rev": self.commit,
            "metric": self.metric,
            "stage_value": d.old,
            "value": d.new,
            "delta": d.delta,
        }


def registry_rows(root: Path, head: Version) -> list[RegistryRow]:
    """Per model and registry stage: what the stage holds now, its metrics against this state's
    (a pull request is judged against production, not only against its base branch)."""
    tags = registry.read_tags(root)
    rows = []
    for ref in modelhistory.models_of(root, head.lock, None):
        this = (head.lock.models.get(ref.path) or ModelEntry()).metrics or {}
        versions = registry.versions(tags, ref.name)
        for stage, tag in registry.stages(tags, ref.name).items():
            held = baselines.metrics_at(root, tag.commit, ref.path, None)
            version = versions.get(tag.commit)
            for metric, d in versiondiff.metric_deltas(held, this).items():
                rows.append(RegistryRow(ref.name, stage, version, tag.commit, metric, d))
    return rows


# --- the metric over history -----------------------------------------------------------------


def series_for(root: Path, head: Version, diff: VersionDiff, left_out: list[str]) -> list[Series]:
    """Each model's metric over the versions up to `head` (oldest first): the first metric the
    model records, or one an earlier model's series has (models share a chart per metric). The
    versions of gitml.lock that could not be read are added to `left_out`."""
    measured = {p: m.metrics for p, m in diff.models.items() if m.metrics}
    if not measured:
        return []
    versions = _versions_up_to(root, head, left_out)
    refs = {r.path: r for r in modelhistory.models_of(root, head.lock, None)}
    chosen: list[str] = []
    found: list[Series] = []
    for path, metrics in measured.items():
        metric = next((k for k in chosen if k in metrics), next(iter(metrics)))
        ref = refs.get(path) or modelhistory.ModelRef(path, path)
        series = plots.by_model(modelhistory.model_history(versions, ref, {}), metric)
        found += series
        chosen += [metric] if series and metric not in chosen else []
    return found


def _versions_up_to(root: Path, head: Version, left_out: list[str]) -> list[Version]:
    if not _has_commits(root):
        return [head] if head.commit is None else []
    found = history.lock_history(root, head.commit.sha if head.commit else "HEAD")
    left_out += [line for line in found.left_out if line not in left_out]
    return ([head] if head.commit is None else []) + found.versions


def _has_commits(root: Path) -> bool:
    return git.head_commit(root) is not None
