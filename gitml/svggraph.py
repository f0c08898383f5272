"""The lineage graph drawn as inline SVG, offline (no script, no font, no network): a layered
layout, left to right as Mermaid's `graph LR` draws it. A node's layer is its longest path from
a source; within a layer, nodes are ordered by the mean position of their neighbours (a few
sweeps each way: fewer crossings). Edges are curves from a box's right side to the next box's
left side; boxes are drawn over them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from html import escape

from gitml.lineagegraph import Graph, Node
from gitml.output import printable

BOX_HEIGHT = 28
GAP_X = 56  # between layers
GAP_Y = 14  # between boxes of a layer
PAD = 16
CHAR_WIDTH = 7.3  # 12px monospace, generously: a label never overflows its box
MAX_LABEL = 64  # longer labels are cut in the middle (the whole name is the box's tooltip)
SWEEPS = 4

# kind: (fill, stroke, corner radius, what the legend calls it)
STYLES = {
    "stage": ("#ddf4ff", "#54aeff", 14, "stage"),
    "file": ("#f6f8fa", "#8c959f", 3, "data, code"),
    "origin": ("#f6f8fa", "#8c959f", 3, "data, code"),
    "param": ("#fbefff", "#a475f9", 8, "params"),
    "model": ("#dafbe1", "#2da44e", 3, "model"),
}
CHANGED = ("#fff3b0", "#d4a72c")  # fill, stroke: the colours of the Mermaid classDef


@dataclass(frozen=True)
class Box:
    node: Node
    x: float
    y: float
    width: float


def label_text(label: str) -> str:
    """One line, what a terminal would run escaped, cut in the middle when long."""
    text = printable(label).replace("\n", " ")
    if len(text) > MAX_LABEL:
        half = (MAX_LABEL - 1) // 2
        text = text[:half] + "…" + text[-half:]
    return text


def text_width(text: str) -> float:
    """Wide (East Asian) characters take two cells of a monospace font."""
    cells = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return cells * CHAR_WIDTH


def layers(graph: Graph) -> list[list[Node]]:
    """The nodes by layer (longest path from a source), each layer ordered to cross less."""
    by_id = {n.id: n for n in graph.nodes.values()}
    preds: dict[str, list[str]] = {i: [] for i in by_id}
    succs: dict[str, list[str]] = {i: [] for i in by_id}
    for a, b in sorted(graph.edges):
        preds[b].append(a)
        succs[a].append(b)
    depth = _depths(list(by_id), preds)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node_id in by_id:  # in the order met: a stable start
        grouped[depth[node_id]].append(node_id)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        order = range(1, len(grouped)) if down else range(len(grouped) - 2, -1, -1)
        for i in order:
            fixed = grouped[i - 1] if down else grouped[i + 1]
            grouped[i] = _by_barycentre(grouped[i], fixed, preds if down else succs)
    return [[by_id[i] for i in layer] for layer in grouped]


def _depths(ids: list[str], preds: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from a source; a cycle (DVC refuses them) is cut where it is met."""
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(node_id: str) -> int:
        if node_id in depth:
            return depth[node_id]
        visiting.add(node_id)
        found = [visit(p) + 1 for p in preds[node_id] if p not in visiting]
        visiting.discard(node_id)
        depth[node_id] = max(found, default=0)
        return depth[node_id]

    for node_id in ids:
        visit(node_id)
    return depth


def _by_barycentre(layer: list[str], fixed: list[str], links: dict[str, list[str]]) -> list[str]:
    where = {node_id: i for i, node_id in enumerate(fixed)}

    def key(item: tuple[int, str]) -> float:
        pos, node_id = item
        near = [where[n] for n in links[node_id] if n in where]
        return sum(near) / len(near) if near else float(pos)

    return [node_id for _, node_id in sorted(enumerate(layer), key=key)]


def place(graph: Graph) -> list[Box]:
    """Each node's box: layers left to right, each layer centred vertically."""
    found = layers(graph)
    tallest = max((len(layer) for layer in found), default=0)
    boxes: list[Box] = []
    x = float(PAD)
    for layer in found:
        width = max(text_width(label_text(n.label)) for n in layer) + 20
        top = PAD + (tallest - len(layer)) * (BOX_HEIGHT + GAP_Y) / 2
        for j, node in enumerate(layer):
            boxes.append(Box(node, x, top + j * (BOX_HEIGHT + GAP_Y), width))
        x += width + GAP_X
    return boxes


def svg(graph: Graph) -> str:
    """The graph as an `<svg>` element: one `<g class="node KIND [changed]">` per node, its
    label in a `<text>` and a `<title>`; the changed ones yellow, said by a legend."""
    boxes = place(graph)
    if not boxes:
        return '<p class="lineage-empty">No model recorded: no lineage to draw.</p>'
    legend_y = max(b.y for b in boxes) + BOX_HEIGHT + 2 * PAD
    legend, legend_end = _legend(graph, legend_y)
    width = max(legend_end, *(b.x + b.width for b in boxes)) + PAD
    height = legend_y + BOX_HEIGHT + PAD
    by_id = {b.node.id: b for b in boxes}
    edges = [_edge(by_id[a], by_id[b]) for a, b in sorted(graph.edges)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" id="lineage" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'role="img" aria-label="lineage of the models" font-family="monospace" font-size="12">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6e7781"/></marker>'
        f'</defs><g class="edges">{"".join(edges)}</g>'
        f'<g class="nodes">{"".join(_box(b) for b in boxes)}</g>'
        f"{legend}</svg>"
    )


def _edge(a: Box, b: Box) -> str:
    x1, y1 = a.x + a.width, a.y + BOX_HEIGHT / 2
    x2, y2 = b.x - 2, b.y + BOX_HEIGHT / 2
    mid = (x1 + x2) / 2
    return (
        f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} '
        f'{x2:.1f},{y2:.1f}" fill="none" stroke="#6e7781" stroke-width="1.3" '
        'marker-end="url(#arrow)"/>'
    )


def _box(box: Box) -> str:
    node = box.node
    fill, stroke, radius, _ = STYLES.get(node.kind, STYLES["file"])
    if node.changed:
        fill, stroke = CHANGED
    classes = f"node {node.kind}" + (" changed" if node.changed else "")
    return (
        f'<g class="{classes}" data-id="{node.id}"><title>{escape(printable(node.label))}</title>'
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{BOX_HEIGHT}" '
        f'rx="{radius}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{2.5 if node.changed else 1.2}"/>'
        f'<text x="{box.x + box.width / 2:.1f}" y="{box.y + BOX_HEIGHT / 2 + 4:.1f}" '
        f'text-anchor="middle" fill="#1f2328">{escape(label_text(node.label))}</text></g>'
    )


def _legend(graph: Graph, y: float) -> tuple[str, float]:
    """A swatch and a word for each kind the graph has, and for `changed` when one is; where
    the legend ends on the right."""
    kinds = {n.kind for n in graph.nodes.values()}
    entries = [
        (fill, stroke, radius, name)
        for kind, (fill, stroke, radius, name) in STYLES.items()
        if kind in kinds and kind != "origin"
    ]
    if "origin" in kinds and "file" not in kinds:
        entries.append(STYLES["file"])
    if any(n.changed for n in graph.nodes.values()):
        entries.append((*CHANGED, 3, "changed in this diff"))
    parts, x = [], float(PAD)
    for fill, stroke, radius, name in entries:
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="22" height="14" rx="{min(radius, 7)}" '
            f'fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{x + 28:.1f}" y="{y + 11:.1f}" fill="#57606a">{escape(name)}</text>'
        )
        x += 28 + text_width(name) + 18
    return f'<g class="legend">{"".join(parts)}</g>', x
