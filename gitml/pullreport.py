"""What a pull-request report says (`gitml report`): the diff against the base with each
model's verdict, the metrics of what each registry stage holds against this state's, a metric
over the history, and the lineage of the models as a Mermaid graph. gitml/commands/report.py
renders it as Markdown or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitml import (
    baselines,
    dvcfiles,
    git,
    history,
    modelhistory,
    plots,
    registry,
    slices,
    versiondiff,
)
from gitml.history import Version
from gitml.lockfile import ModelEntry
from gitml.output import printable
from gitml.versiondiff import MetricDelta, VersionDiff


@dataclass(frozen=True)
class Series:
    """A metric of a model over its versions, oldest first."""

    model: str
    metric: str
    points: list[tuple[str, float]]  # (short sha, value)


@dataclass(frozen=True)
class Report:
    diff: VersionDiff
    base: str  # labels: short shas, or "staged"
    head: str
    failed: list[str]  # models whose recorded checks failed
    unchecked: list[str]  # models with no checks recorded
    lineage: str  # Mermaid source
    series: Series | None
    registry: list[RegistryRow]
    unread: list[str]  # models without metrics, and why
    left_out: list[str]  # versions of gitml.lock in history that could not be read
    slices: list[list[str]] = field(default_factory=list)  # gitml.slices.report_rows


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
        lineage=mermaid(head, diff),
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
        slices=slices.report_rows(base.lock, head.lock),
    )


@dataclass(frozen=True)
class RegistryRow:
    """A metric of what a registry stage holds now (`delta.old`) against this state's."""

    model: str  # its registry name
    stage: str
    version: str  # `v1.2.0 (1a2b3c4d)`: the version tag, if any, and the commit
    metric: str
    delta: MetricDelta


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
            where = f"{versions.get(tag.commit) or '-'} ({tag.commit[:8]})"
            for metric, d in versiondiff.metric_deltas(held, this).items():
                rows.append(RegistryRow(ref.name, stage, where, metric, d))
    return rows


# --- the lineage as a Mermaid graph ----------------------------------------------------------


def _label(text: str) -> str:
    """A Mermaid label: quoted, with Mermaid's entity codes for what would end the quote, the
    fence or start HTML."""
    for ch, code in (("#", "#35;"), ('"', "#quot;"), ("`", "#96;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(ch, code)
    return '"' + printable(text).replace("\n", " ") + '"'


def _changed_nodes(diff: VersionDiff) -> set[str]:
    """The files and params the diff changed (params by their key, and by its parent's)."""
    changed: set[str] = set(diff.data)
    for path, m in diff.models.items():
        changed.update(m.code, m.data)
        changed.update(k.rsplit(".", 1)[0] for k in m.params)
        changed.update(k.split(".", 1)[0] for k in m.params)
        if m.md5.changed:
            changed.add(path)
    return changed


@dataclass
class _Graph:
    """A Mermaid graph being drawn: nodes by key (changed ones marked), edges once each."""

    changed: set[str]
    ids: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    edges: set[str] = field(default_factory=set)

    def node(self, key: str, label: str, shape: str = "box") -> str:
        if key not in self.ids:
            self.ids[key] = node_id = f"n{len(self.ids)}"
            text = _label(label)
            body = {"box": f"[{text}]", "stage": f"([{text}])", "param": f"{{{{{text}}}}}"}[shape]
            self.lines.append(f"  {node_id}{body}")
            if key.removeprefix("file:").removeprefix("param:") in self.changed:
                self.lines.append(f"  class {node_id} changed")
        return self.ids[key]

    def stage(self, stage: dvcfiles.Stage, wanted: set[str]) -> None:
        """A stage, its deps and params in, those of its outs that are `wanted` out."""
        sid = self.node(f"stage:{stage.name}", f"stage {stage.name}", "stage")
        for dep in stage.deps:
            self.edges.add(f"  {self.node('file:' + dep.path, dep.path)} --> {sid}")
        for pfile, values in stage.params.items():
            for key in values:
                pid = self.node(f"param:{pfile}:{key}", f"{pfile}:{key}", "param")
                self.edges.add(f"  {pid} --> {sid}")
        for o in stage.outs:
            if o.path in wanted:
                self.edges.add(f"  {sid} --> {self.node('file:' + o.path, o.path)}")


def mermaid(head: Version, diff: VersionDiff) -> str:
    """The stages behind each model of `head`, inputs → stage → outputs; changed inputs marked."""
    project = dvcfiles.read_project(head.snap) if head.snap is not None else dvcfiles.Project()
    graph = _Graph(_changed_nodes(diff))
    for path in head.lock.models:
        out = project.outs.get(path)
        model_id = graph.node(f"file:{path}", f"model {path}")
        if out is not None and out.stage is None:
            graph.edges.add(f"  {graph.node('origin:' + out.origin, out.origin)} --> {model_id}")
        seen = project.upstream([out.stage]) if out is not None and out.stage else []
        wanted = {path} | {d.path for s in seen for d in project.stages[s].deps}
        for name in seen:
            graph.stage(project.stages[name], wanted)
    head_lines = ["graph LR", "  classDef changed fill:#fff3b0,stroke:#d4a72c,stroke-width:2px"]
    return "\n".join(head_lines + graph.lines + sorted(graph.edges))


# --- the metric over history -----------------------------------------------------------------


def series_for(root: Path, head: Version, diff: VersionDiff, left_out: list[str]) -> Series | None:
    """The first metric of the first model, over the versions up to `head` (oldest first);
    the versions of gitml.lock that could not be read are added to `left_out`."""
    for path, m in diff.models.items():
        if not m.metrics:
            continue
        metric = next(iter(m.metrics))
        versions = _versions_up_to(root, head, left_out)
        rows = modelhistory.model_history(versions, modelhistory.ModelRef(path, path), {})
        points = plots.metric_series(rows, metric)
        if points:
            return Series(path, metric, points)
    return None


def _versions_up_to(root: Path, head: Version, left_out: list[str]) -> list[Version]:
    if not _has_commits(root):
        return [head] if head.commit is None else []
    found = history.lock_history(root, head.commit.sha if head.commit else "HEAD")
    left_out += [line for line in found.left_out if line not in left_out]
    return ([head] if head.commit is None else []) + found.versions


def _has_commits(root: Path) -> bool:
    return git.head_commit(root) is not None
