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

Blank lines are inserted at the first line of a key (or of a list item), found by parsing what
PyYAML wrote, so they never fall inside a multi-line scalar. Readers see the same document.
"""

from __future__ import annotations

from typing import Any

import yaml

# The nodes whose children are kept apart, as paths from the document root; "*" is any key.
SEPARATED: tuple[tuple[str, ...], ...] = (
    (),
    ("models",),
    ("data",),
    ("models", "*"),
    ("data", "*"),
    ("models", "*", "inputs"),
    ("models", "*", "gates"),
    ("models", "*", "gates", "*"),
    ("models", "*", "tests"),
    ("data", "*", "validation"),
)

_Composer: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    if _matches(path):
        before.update(line for _, _, line in children[1:])
    for key, child, _ in children:
        _collect(child, (*path, key), before)


def _matches(path: tuple[str, ...]) -> bool:
    return any(
        len(p) == len(path) and all(a in ("*", b) for a, b in zip(p, path, strict=True))
        for p in SEPARATED
    )
