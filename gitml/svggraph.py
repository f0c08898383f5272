"""The lineage graph drawn as inline SVG, offline: no script, no web font, no network. The
layout is gitml/graphlayout.py's; boxes coloured by kind, the changed ones yellow (the colours
of the Mermaid `changed` class), a legend under them. Edges leave and enter a box's side spread
over its height, follow their waypoints through the layers between, and run under no box.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from gitml.graphlayout import PAD, Edge, Layout, Slot, label_text, layout, text_width
from gitml.lineagegraph import Graph
from gitml.output import printable

# kind: (fill, stroke, corner radius, what the legend calls it)
STYLES = {
    "stage": ("#ddf4ff", "#54aeff", 14, "stage"),
    "file": ("#f6f8fa", "#8c959f", 3, "data, code"),
    "param": ("#fbefff", "#a475f9", 8, "params"),
    "model": ("#dafbe1", "#2da44e", 3, "model"),
}
CHANGED = ("#fff3b0", "#d4a72c")  # fill, stroke
LEGEND_HEIGHT = 14


def svg(graph: Graph) -> str:
    """The graph as an `<svg>` element: one `<g class="node KIND [changed]">` per node, its
    label in a `<text>` and a `<title>`; the changed ones yellow, said by a legend."""
    found = layout(graph)
    boxes = found.boxes
    if not boxes:
        return '<p class="lineage-empty">No model recorded: no lineage to draw.</p>'
    legend_y = max(b.y + b.height for b in boxes) + PAD
    legend, legend_end = _legend(graph, legend_y)
    width = max(legend_end, *(b.x + b.width for b in boxes)) + PAD
    height = legend_y + LEGEND_HEIGHT + PAD
    ends = _ports(found)
    edges = "".join(_edge(found, edge, ends[edge]) for edge in sorted(found.routes))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="lineage" id="lineage" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'style="max-width:100%;height:auto" role="img" aria-label="lineage of the models" '
        'font-family="monospace" font-size="12"><defs><marker id="arrow" viewBox="0 0 10 10" '
        'refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#6e7781"/></marker></defs>'
        f'<g class="edges">{edges}</g><g class="nodes">{"".join(_box(b) for b in boxes)}</g>'
        f"{legend}</svg>"
    )


Ends = tuple[float, float]  # y where an edge leaves its source, y where it enters its target


def _ports(found: Layout) -> dict[Edge, Ends]:
    """The edges of a box's side spread over its height, in the order of where they go next
    (no two arrows on one spot, fewer crossings at the box)."""
    leaving: dict[str, list[Edge]] = {}
    entering: dict[str, list[Edge]] = {}
    for edge, chain in found.routes.items():
        leaving.setdefault(chain[0], []).append(edge)
        entering.setdefault(chain[-1], []).append(edge)
    slots = found.slots
    out = _spread(leaving, slots, lambda e: slots[found.routes[e][1]].y)
    into = _spread(entering, slots, lambda e: slots[found.routes[e][-2]].y)
    return {e: (out[e], into[e]) for e in found.routes}


def _spread(
    sides: dict[str, list[Edge]], slots: dict[str, Slot], next_y: Callable[[Edge], float]
) -> dict[Edge, float]:
    found = {}
    for slot_id, edges in sides.items():
        box = slots[slot_id]
        step = (box.height - 8) / len(edges)
        for k, edge in enumerate(sorted(edges, key=lambda e: (next_y(e), e))):
            found[edge] = box.y + 4 + step * (k + 0.5)
    return found


def _edge(found: Layout, edge: Edge, ends: Ends) -> str:
    """A curve from the source's right side to each waypoint, straight across the waypoint's
    layer, a curve on to the next; an arrow into the target's left side."""
    chain = [found.slots[s] for s in found.routes[edge]]
    points = [(chain[0].x + chain[0].width, ends[0])]
    for way in chain[1:-1]:
        points += [(way.x, way.middle), (way.x + way.width, way.middle)]
    points.append((chain[-1].x - 2, ends[1]))
    d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for i in range(1, len(points)):
        (x1, y1), (x2, y2) = points[i - 1], points[i]
        mid = (x1 + x2) / 2
        curve = i % 2 == 1  # odd steps cross a gap between layers, even ones a layer
        d += (
            f" C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            if curve
            else (f" L{x2:.1f},{y2:.1f}")
        )
    source, target = edge
    return (
        f'<path class="edge" data-from="{source}" data-to="{target}" d="{d}" fill="none" '
        'stroke="#6e7781" stroke-width="1.3" marker-end="url(#arrow)"/>'
    )


def _box(box: Slot) -> str:
    node = box.node
    assert node is not None  # boxes are the slots of nodes
    fill, stroke, radius, _ = STYLES.get(node.kind, STYLES["file"])
    if node.changed:
        fill, stroke = CHANGED
    classes = f"node {node.kind}" + (" changed" if node.changed else "")
    return (
        f'<g class="{classes}" data-id="{node.id}"><title>{escape(printable(node.label))}</title>'
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height}" '
        f'rx="{radius}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{2.5 if node.changed else 1.2}"/>'
        f'<text x="{box.x + box.width / 2:.1f}" y="{box.middle + 4:.1f}" text-anchor="middle" '
        f'fill="#1f2328">{escape(label_text(node.label))}</text></g>'
    )


def _legend(graph: Graph, y: float) -> tuple[str, float]:
    """A swatch and a word for each kind the graph has, and for `changed` when a node is; and
    where the legend ends on the right."""
    kinds = {"file" if n.kind == "origin" else n.kind for n in graph.nodes.values()}
    entries = [style for kind, style in STYLES.items() if kind in kinds]
    if any(n.changed for n in graph.nodes.values()):
        entries.append((*CHANGED, 3, "changed in this diff"))
    parts, x = [], float(PAD)
    for fill, stroke, radius, name in entries:
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="22" height="{LEGEND_HEIGHT}" '
            f'rx="{min(radius, 7)}" fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{x + 28:.1f}" y="{y + 11:.1f}" fill="#57606a">{escape(name)}</text>'
        )
        x += 28 + text_width(name) + 18
    return f'<g class="legend">{"".join(parts)}</g>', x
