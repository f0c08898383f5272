"""A layered layout of a lineage graph, left to right as Mermaid's `graph LR` draws it
(gitml/svggraph.py draws it). A node's layer is its longest path from a source; an edge that
spans layers passes each layer between it and its target through a slot of its own (a waypoint
ordered with the boxes), so that no edge runs under a box. Within a layer, boxes and waypoints
are ordered by the mean place of their neighbours, a few sweeps each way: fewer crossings.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from gitml.lineagegraph import Graph, Node
from gitml.output import printable

BOX_HEIGHT = 28
WAYPOINT_HEIGHT = 10  # the slot an edge takes in a layer it passes through
GAP_X = 56  # between layers
GAP_Y = 14  # between the slots of a layer
PAD = 16
CHAR_WIDTH = 7.3  # 12px monospace, generously: a label never overflows its box
MAX_LABEL = 64  # longer labels are cut in the middle (the whole name is the box's tooltip)
SWEEPS = 4

Edge = tuple[str, str]


@dataclass(frozen=True)
class Slot:
    """A box (`node` set) or an edge's waypoint (`node` None) with its place."""

    node: Node | None
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Layout:
    slots: dict[str, Slot]  # by node id, and by waypoint id
    routes: dict[Edge, list[str]]  # each edge: source id, waypoint ids, target id

    @property
    def boxes(self) -> list[Slot]:
        return [s for s in self.slots.values() if s.node is not None]


def label_text(label: str) -> str:
    """One line, what a terminal would run escaped, cut in the middle when long."""
    text = printable(label).replace("\n", " ")
    if len(text) > MAX_LABEL:
        head = (MAX_LABEL - 1) // 2
        text = text[:head] + "…" + text[len(text) - (MAX_LABEL - 1 - head) :]
    return text


def text_width(text: str) -> float:
    """Wide (East Asian) characters take two cells of a monospace font."""
    cells = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return cells * CHAR_WIDTH


def layout(graph: Graph) -> Layout:
    by_id = {n.id: n for n in graph.nodes.values()}
    depth = _depths(list(by_id), graph.edges)
    routes: dict[Edge, list[str]] = {}
    layer_of = {node_id: depth[node_id] for node_id in by_id}
    for a, b in sorted(graph.edges):
        waypoints = [f"{a}>{b}@{i}" for i in range(depth[a] + 1, depth[b])]
        layer_of.update((w, int(w.rsplit("@", 1)[1])) for w in waypoints)
        routes[a, b] = [a, *waypoints, b]
    grouped: list[list[str]] = [[] for _ in range(max(layer_of.values(), default=-1) + 1)]
    for slot_id, layer in layer_of.items():  # nodes in the order met, then waypoints: stable
        grouped[layer].append(slot_id)
    _order(grouped, list(routes.values()))
    return Layout(_place(grouped, by_id), routes)


def _depths(ids: list[str], edges: set[Edge]) -> dict[str, int]:
    """Longest path from a source; a cycle (DVC refuses them) is cut where it is met."""
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in sorted(edges):
        preds[b].append(a)
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


def _order(grouped: list[list[str]], chains: list[list[str]]) -> None:
    """Each layer sorted by the mean place of its neighbours in the layer before (sweeping
    right) or after (sweeping left)."""
    left: dict[str, list[str]] = {}
    right: dict[str, list[str]] = {}
    for chain in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        for i in range(1, len(grouped)) if down else range(len(grouped) - 2, -1, -1):
            fixed = grouped[i - 1] if down else grouped[i + 1]
            grouped[i] = _by_barycentre(grouped[i], fixed, left if down else right)


def _by_barycentre(layer: list[str], fixed: list[str], links: dict[str, list[str]]) -> list[str]:
    where = {slot_id: i for i, slot_id in enumerate(fixed)}

    def key(item: tuple[int, str]) -> float:
        pos, slot_id = item
        near = [where[n] for n in links.get(slot_id, []) if n in where]
        return sum(near) / len(near) if near else float(pos)

    return [slot_id for _, slot_id in sorted(enumerate(layer), key=key)]


def _place(grouped: list[list[str]], by_id: dict[str, Node]) -> dict[str, Slot]:
    """Layers left to right, each as wide as its widest label, centred vertically."""

    def height(slot_id: str) -> float:
        return BOX_HEIGHT if slot_id in by_id else WAYPOINT_HEIGHT

    def column(layer: list[str]) -> float:
        return sum(height(s) + GAP_Y for s in layer) - GAP_Y

    tallest = max((column(layer) for layer in grouped), default=0.0)
    slots: dict[str, Slot] = {}
    x = float(PAD)
    for layer in grouped:
        labels = [label_text(by_id[s].label) for s in layer if s in by_id]
        width = max((text_width(t) + 20 for t in labels), default=0.0)
        y = PAD + (tallest - column(layer)) / 2
        for slot_id in layer:
            slots[slot_id] = Slot(by_id.get(slot_id), x, y, width, height(slot_id))
            y += height(slot_id) + GAP_Y
        x += width + GAP_X
    return slots
