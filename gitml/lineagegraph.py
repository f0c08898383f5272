"""The lineage of a version's models as a graph: inputs → stage → outputs, the inputs a diff
changed marked. `gitml report` writes it as Mermaid (Markdown: GitHub and GitLab draw it) and
as inline SVG (HTML: gitml/svggraph.py draws it, offline).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gitml import dvcfiles
from gitml.history import Version
from gitml.output import printable
from gitml.versiondiff import VersionDiff

_SHAPES = {"stage": "([{}])", "param": "{{{{{}}}}}"}  # the rest: a box `[...]`


@dataclass(frozen=True)
class Node:
    id: str  # n0, n1, …: in the order first met
    label: str  # raw text from the repository: escape it where it is written
    kind: str  # "stage", "param", "model", "file" (data, code), "origin" (a .dvc file)
    changed: bool


@dataclass
class Graph:
    """Nodes by key (`stage:train`, `file:data/x.csv`, …), edges (from id, to id) once each."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def mermaid(self) -> str:
        head = ["graph LR", "  classDef changed fill:#fff3b0,stroke:#d4a72c,stroke-width:2px"]
        lines = []
        for n in self.nodes.values():
            lines.append(f"  {n.id}{_SHAPES.get(n.kind, '[{}]').format(_mermaid_label(n.label))}")
            if n.changed:
                lines.append(f"  class {n.id} changed")
        return "\n".join(head + lines + sorted(f"  {a} --> {b}" for a, b in self.edges))


def _mermaid_label(text: str) -> str:
    """A Mermaid label: quoted, with Mermaid's entity codes for what would end the quote, the
    fence or start HTML."""
    for ch, code in (("#", "#35;"), ('"', "#quot;"), ("`", "#96;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(ch, code)
    return '"' + printable(text).replace("\n", " ") + '"'


def changed_keys(diff: VersionDiff) -> set[str]:
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
class _Builder:
    changed: set[str]
    graph: Graph = field(default_factory=Graph)

    def node(self, key: str, label: str, kind: str) -> str:
        nodes = self.graph.nodes
        if key not in nodes:
            name = key.removeprefix("file:").removeprefix("param:")
            nodes[key] = Node(f"n{len(nodes)}", label, kind, name in self.changed)
        return nodes[key].id

    def edge(self, a: str, b: str) -> None:
        self.graph.edges.add((a, b))

    def stage(self, stage: dvcfiles.Stage, wanted: set[str]) -> None:
        """A stage, its deps and params in, those of its outs that are `wanted` out."""
        sid = self.node(f"stage:{stage.name}", f"stage {stage.name}", "stage")
        for dep in stage.deps:
            self.edge(self.node("file:" + dep.path, dep.path, "file"), sid)
        for pfile, values in stage.params.items():
            for key in values:
                self.edge(self.node(f"param:{pfile}:{key}", f"{pfile}:{key}", "param"), sid)
        for o in stage.outs:
            if o.path in wanted:
                self.edge(sid, self.node("file:" + o.path, o.path, "file"))


def build(head: Version, diff: VersionDiff) -> Graph:
    """The stages behind each model of `head`, inputs → stage → outputs; changed inputs marked."""
    project = dvcfiles.read_project(head.snap) if head.snap is not None else dvcfiles.Project()
    graph = _Builder(changed_keys(diff))
    for path in head.lock.models:
        out = project.outs.get(path)
        model_id = graph.node(f"file:{path}", f"model {path}", "model")
        if out is not None and out.stage is None:
            graph.edge(graph.node("origin:" + out.origin, out.origin, "origin"), model_id)
        seen = project.upstream([out.stage]) if out is not None and out.stage else []
        wanted = {path} | {d.path for s in seen for d in project.stages[s].deps}
        for name in seen:
            graph.stage(project.stages[name], wanted)
    return graph.graph
