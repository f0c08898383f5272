"""gitml/svggraph.py and gitml/graphlayout.py: the lineage graph as inline SVG, offline (issue 18,
item 6): a box per node with its name (escaped), the changed ones highlighted and a legend
saying so, boxes that do not overlap, edges from box to box that run under no box."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gitml import graphlayout, svggraph
from gitml.lineagegraph import Graph, Node

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = 'data/<script>alert("x")</script> & \x1b[31mred.csv'


def _graph(changed: set[str], edges: list[tuple[str, str]], kinds: dict[str, str]) -> Graph:
    graph = Graph()
    for i, (label, kind) in enumerate(kinds.items()):
        graph.nodes[label] = Node(f"n{i}", label, kind, label in changed)
    ids = {label: n.id for label, n in graph.nodes.items()}
    graph.edges = {(ids[a], ids[b]) for a, b in edges}
    return graph


# two pipelines' worth: prepare → train → model, code and a param straight into train (edges
# that span layers), a second model from the same data
KINDS = {
    "data/raw.csv": "file",
    HOSTILE: "file",
    "src/train.py": "file",
    "params.yaml:train": "param",
    "stage prepare": "stage",
    "data/prepared.csv": "file",
    "stage train": "stage",
    "model models/rf.pkl": "model",
    "stage train_lr": "stage",
    "model models/lr.pkl": "model",
}
EDGES = [
    ("data/raw.csv", "stage prepare"),
    (HOSTILE, "stage prepare"),
    ("stage prepare", "data/prepared.csv"),
    ("data/prepared.csv", "stage train"),
    ("src/train.py", "stage train"),
    ("params.yaml:train", "stage train"),
    ("stage train", "model models/rf.pkl"),
    ("data/prepared.csv", "stage train_lr"),
    ("src/train.py", "stage train_lr"),
    ("stage train_lr", "model models/lr.pkl"),
]
CHANGED = {"params.yaml:train", "model models/rf.pkl"}


def _nodes(root: ET.Element) -> dict[str, ET.Element]:
    found = {}
    for g in root.iter(f"{SVG}g"):
        if "node" in (g.get("class") or "").split():
            text = g.find(f"{SVG}text")
            assert text is not None
            found["".join(text.itertext())] = g
    return found


def test_a_box_per_node_named_the_changed_ones_highlighted() -> None:
    root = ET.fromstring(svggraph.svg(_graph(CHANGED, EDGES, KINDS)))  # well-formed XML
    nodes = _nodes(root)
    shown_hostile = 'data/<script>alert("x")</script> & \\033[31mred.csv'
    assert set(nodes) == (set(KINDS) - {HOSTILE}) | {shown_hostile}
    changed = {name for name, g in nodes.items() if "changed" in (g.get("class") or "")}
    assert changed == CHANGED
    for name, g in nodes.items():
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        assert (rect.get("fill") == svggraph.CHANGED[0]) == (name in CHANGED)
    legend = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")][len(nodes) :]
    assert legend == ["stage", "data, code", "params", "model", "changed in this diff"]
    assert len(root.findall(f".//{SVG}path[@class='edge']")) == len(EDGES)


def test_nothing_unescaped_reaches_the_page() -> None:
    text = svggraph.svg(_graph(set(), EDGES, KINDS))
    assert "<script" not in text and "\x1b" not in text and "&lt;script&gt;" in text
    long_name = "data/" + "x" * 300 + ".csv"
    root = ET.fromstring(svggraph.svg(_graph(set(), [], {long_name: "model"})))
    [(shown, g)] = _nodes(root).items()
    assert len(shown) == graphlayout.MAX_LABEL and "…" in shown
    title = g.find(f"{SVG}title")
    assert title is not None and title.text == long_name  # the whole name on hover


def test_layers_boxes_apart_and_edges_under_no_box() -> None:
    found = graphlayout.layout(_graph(CHANGED, EDGES, KINDS))
    boxes = {s.node.label: s for s in found.boxes if s.node is not None}
    # left to right by longest path: data → prepare → prepared data → stages → models
    xs = [boxes[n].x for n in ("data/raw.csv", "stage prepare", "data/prepared.csv")]
    assert xs == sorted(xs) and boxes["stage train"].x == boxes["stage train_lr"].x
    assert boxes["src/train.py"].x == boxes["data/raw.csv"].x
    slots = list(found.slots.values())
    for i, a in enumerate(slots):  # no two slots (boxes, waypoints) overlap
        for b in slots[i + 1 :]:
            apart_x = a.x + a.width <= b.x or b.x + b.width <= a.x
            apart_y = a.y + a.height <= b.y or b.y + b.height <= a.y
            assert apart_x or apart_y, (a, b)
    # the edges from src/train.py and the param pass layers 1 and 2 through waypoints
    long_routes = [r for r in found.routes.values() if len(r) > 2]
    assert len(long_routes) == 3 and all(len(r) == 4 for r in long_routes)


def test_edges_start_and_end_at_their_boxes() -> None:
    graph = _graph(CHANGED, EDGES, KINDS)
    found = graphlayout.layout(graph)
    root = ET.fromstring(svggraph.svg(graph))
    for path in root.iter(f"{SVG}path"):
        if path.get("class") != "edge":
            continue
        a, b = found.slots[path.get("data-from") or ""], found.slots[path.get("data-to") or ""]
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d") or "")]
        (x1, y1), (x2, y2) = numbers[:2], numbers[-2:]
        assert abs(x1 - (a.x + a.width)) < 0.1 and a.y < y1 < a.y + a.height
        assert abs(x2 - (b.x - 2)) < 0.1 and b.y < y2 < b.y + b.height


def test_a_cycle_is_drawn_not_looped_over_and_an_empty_graph_says_so() -> None:
    kinds = {"stage a": "stage", "stage b": "stage"}
    text = svggraph.svg(_graph(set(), [("stage a", "stage b"), ("stage b", "stage a")], kinds))
    assert len(_nodes(ET.fromstring(text))) == 2
    assert "no lineage to draw" in svggraph.svg(Graph())
