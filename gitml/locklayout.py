"""Where gitml.lock's blank lines go, and why: so that git merges it where no merge driver runs.

GitHub's and GitLab's merge buttons ignore `merge=gitml` and merge gitml.lock as text, line by
line; git calls two changes a conflict when they touch, with no unchanged line between them.
Two branches change different fields of one entry independently: a retrained model (its md5,
size, metrics, gate values) against a changed gate (the rule and threshold), a changed dataset
against changed code (two inputs of one stage). dvc.lock keeps such changes apart by its
layout (`- path:` and `hash:` lines between them); gitml.lock, written by PyYAML with its keys
sorted, put them on adjacent lines. So a blank line goes between the fields of each model and
dataset entry, between the inputs of a model, between the gates and the fields of each gate,
and between the fields of the recorded tests and validation: each independent change is a hunk
of its own. Environments, profiles and metrics stay compact: they change with what produced
them, where dvc.lock changes too.

Environment blocks are the exception to sorted keys. They are keyed by the hash of the block
(DESIGN.md), so in key order two branches that each retrain a different model on another machine
insert their new blocks at one place about half the time (both keys sort before, or after, the
block they share): a conflict where dvc.lock merges cleanly. So `environments:` lists the blocks
in the order of the models that use them (sorted model paths; blocks no model names last, by key):
each branch's new block goes next to its own model's place, apart from the other's.

Blank lines are inserted at the first line of a key (or of a list item), found by parsing what
PyYAML wrote, so they never fall inside a multi-line scalar. Readers see the same document.

A profile's lists of numbers (quantiles, histogram edges and counts) are written on one line
each, `edges: [11.03, 11.87, 12.25]`, where PyYAML writes a line per number: they are figures
of one measurement, which change together, and a line each made them most of the lock (the
wine demo's, with its profile: 421 lines, 291 of them one number each; 130 lines written this
way, 4.3 kB instead of 8.0). Locks written with a line per number read the same, and are
written back this way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from gitml.fileio import InOrder

# The nodes whose children are kept apart, as paths from the document root; "*" is any key.
SEPARATED: tuple[tuple[str, ...], ...] = (
    (),
    ("models",),
    ("data",),
    ("settings",),  # each a hash of one top-level key of gitml.yaml, edited independently
    ("models", "*"),
    ("data", "*"),
    ("models", "*", "inputs"),
    ("models", "*", "gates"),
    ("models", "*", "gates", "*"),
    ("models", "*", "tests"),
    ("data", "*", "validation"),
)

# The lists of numbers written on one line (FLOWED), as paths from the document root.
_COLUMN = ("data", "*", "profile", "columns", "*")
FLOWED: tuple[tuple[str, ...], ...] = (
    (*_COLUMN, "quantiles"),
    (*_COLUMN, "histogram", "edges"),
    (*_COLUMN, "histogram", "counts"),
)
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

_Composer: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def placed_by_model(environments: Mapping[str, Any], models: Mapping[str, Any]) -> InOrder:
    """`environments` (key -> block) in the order of the models that use them (`models`: path
    -> entry with its `environment` key), then the blocks no model uses, by key."""
    # any shape a hand edit left is written back as it is: this only orders
    by_path = sorted(models.items(), key=lambda item: str(item[0]))
    used = [entry.get("environment") for _, entry in by_path if isinstance(entry, Mapping)]
    first = [key for key in dict.fromkeys(used) if isinstance(key, str) and key in environments]
    rest = sorted((key for key in environments if key not in set(first)), key=str)
    return InOrder((key, environments[key]) for key in [*first, *rest])


def laid_out(text: str) -> str:
    """`text`, a gitml.lock body as PyYAML dumps it (block style), in gitml.lock's layout:
    the FLOWED lists on one line, blank lines between the children of the SEPARATED nodes."""
    return spaced(flowed(text))


def flowed(text: str) -> str:
    """`text` with each FLOWED list of plain numbers, one per line, on its key's line."""
    root = yaml.compose(text, Loader=_Composer)
    if root is None:
        return text
    lines = text.splitlines(keepends=True)
    joined: dict[int, str] = {}
    dropped: set[int] = set()
    for key, seq in _flowed_lists(root, ()):
        line = key.start_mark.line
        items = [item.start_mark.line for item in seq.value]
        values = [item.value for item in seq.value]
        if lines[line].rstrip("\n").endswith(":") and all(
            lines[i].strip() == f"- {v}" for i, v in zip(items, values, strict=True)
        ):
            joined[line] = lines[line].rstrip("\n") + " [" + ", ".join(values) + "]\n"
            dropped.update(items)
    return "".join(joined.get(i, line) for i, line in enumerate(lines) if i not in dropped)


def _flowed_lists(
    node: yaml.Node, path: tuple[str, ...]
) -> list[tuple[yaml.Node, yaml.SequenceNode]]:
    """(key, list) of each block list of plain numbers at a FLOWED path below `node`."""
    if not isinstance(node, yaml.MappingNode):
        return []
    found = []
    for key, value in node.value:
        where = (*path, str(key.value))
        if _numbers(value) and _matches(where, FLOWED):
            found.append((key, value))
        else:
            found += _flowed_lists(value, where)
    return found


def _numbers(node: yaml.Node) -> bool:
    """A non-empty block list of plain numbers, each on a line of its own."""
    return (
        isinstance(node, yaml.SequenceNode)
        and not node.flow_style
        and bool(node.value)
        and all(
            isinstance(item, yaml.ScalarNode)
            and not item.style  # plain: None (PyYAML) or "" (its C loader)
            and item.tag in _NUMBER_TAGS
            and item.start_mark.line == item.end_mark.line
            for item in node.value
        )
    )


def spaced(text: str) -> str:
    """`text`, a gitml.lock body as PyYAML dumps it (block style), with a blank line before
    each child of the SEPARATED nodes but the first."""
    root = yaml.compose(text, Loader=_Composer)
    if root is None:
        return text
    before: set[int] = set()
    _collect(root, (), before)
    lines = text.splitlines(keepends=True)
    return "".join(("\n" if i in before else "") + line for i, line in enumerate(lines))


def _collect(node: yaml.Node, path: tuple[str, ...], before: set[int]) -> None:
    children: list[tuple[str, yaml.Node, int]] = []
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        children = [(str(k.value), v, k.start_mark.line) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
        children = [("*", v, v.start_mark.line) for v in node.value]
    if _matches(path, SEPARATED):
        before.update(line for _, _, line in children[1:])
    for key, child, _ in children:
        _collect(child, (*path, key), before)


def _matches(path: tuple[str, ...], patterns: tuple[tuple[str, ...], ...]) -> bool:
    return any(
        len(p) == len(path) and all(a in ("*", b) for a, b in zip(p, path, strict=True))
        for p in patterns
    )
