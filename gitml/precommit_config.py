"""Merging gitml's hooks into a `.pre-commit-config.yaml`, keeping everything else as it is.

gitml's hooks (gitml.precommit_hooks) go in as a `repo: local` block (the same ids, entries and
stages as the manifest `.pre-commit-hooks.yaml`): no clone, no network, and gitml runs from the
project's environment.
The user's file is edited as text, so their comments and layout stay byte for byte; every edit is
checked by parsing the result, and a layout the text edit cannot follow goes through ruamel.yaml's
round trip instead. Running it twice changes nothing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitml.errors import BadInput
from gitml.precommit_hooks import (
    CONFIG,
    FRAMEWORK_HOOKS,
    HOOK_TYPES,
    FrameworkHook,
    hook_dict,
    missing,
    parse,
)

NEW_FILE_HEADER = (
    "# pre-commit hooks (https://pre-commit.com). gitml's run from the project's "
    "environment:\n# `gitml-hook` must be on PATH when git runs them.\n"
)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return str(value) if yaml.safe_load(str(value)) == value else json.dumps(value)


@dataclass(frozen=True)
class ItemStyle:
    """How a block sequence writes its items: the `-` at column `dash`, the item's content
    `offset` columns further, on the `-`'s line (`- a: 1`) or, when `bare`, on the next."""

    dash: int = 0
    offset: int = 4
    bare: bool = False

    def item(self, first: str, indent: int = 0) -> list[str]:
        """The lines that open an item whose first content line is `first`."""
        d = " " * (self.dash + indent)
        if self.bare:
            return [f"{d}-\n", f"{d}{' ' * self.offset}{first}\n"]
        return [f"{d}-{' ' * (self.offset - 1)}{first}\n"]


def repo_block(hooks: list[FrameworkHook], style: ItemStyle = ItemStyle()) -> list[str]:
    """`- repo: local` with `hooks`, its items written in `style`."""
    k = " " * (style.dash + style.offset)
    lines = [*style.item("repo: local"), f"{k}hooks:\n"]
    for hook in hooks:
        pairs = [f"{key}: {_scalar(value)}" for key, value in hook_dict(hook).items()]
        lines += style.item(pairs[0], indent=style.offset)
        lines += [f"{k}{' ' * style.offset}{pair}\n" for pair in pairs[1:]]
    return lines


def _types_line(types: list[str]) -> str:
    return f"default_install_hook_types: [{', '.join(types)}]\n"


def _stages_line(stages: list[str]) -> str:
    return f"default_stages: [{', '.join(stages)}]  # hooks without `stages:` run here only\n"


def default_stages(data: dict[str, Any], types: list[str]) -> list[str]:
    """`default_stages` that keeps the user's hooks without `stages:` where they ran, when gitml
    adds hook types: pre-commit runs such a hook at every stage in `default_stages` (all of them
    when unset), so at each installed hook type. Before gitml, those were the config's
    `default_install_hook_types` (pre-commit's default: pre-commit alone), and `manual` for
    `pre-commit run --hook-stage manual`. Empty: nothing to add (no new types, or the user
    already chose `default_stages`)."""
    if not types or "default_stages" in data:
        return []
    before = list(data.get("default_install_hook_types") or ["pre-commit"])
    return [*before, "manual"]


def expected(data: dict[str, Any], hooks: list[FrameworkHook], types: list[str]) -> dict[str, Any]:
    """What the config must parse to once gitml's hooks are in."""
    new = dict(data)
    if types:
        have = list(data.get("default_install_hook_types") or [])
        new["default_install_hook_types"] = have + types
    stages = default_stages(data, types)
    if stages:
        new["default_stages"] = stages
    if hooks:
        new["repos"] = list(data.get("repos") or []) + [
            {"repo": "local", "hooks": [hook_dict(h) for h in hooks]}
        ]
    return new


# -- the text edit --------------------------------------------------------------------------------


TopLevel = dict[str, tuple[yaml.Node, yaml.Node]]  # key -> (key node, value node)


class _Unfollowable(Exception):
    """A layout the text edit does not handle: the round trip takes over."""


def _top_level(text: str) -> TopLevel:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise _Unfollowable
    return {k.value: (k, v) for k, v in root.value}


def _last_line(node: yaml.Node) -> int:
    """The last line holding content of `node` (not the comments or blank lines after it)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        end = node.end_mark
        line: int = end.line
        return line - 1 if end.column == 0 and line > node.start_mark.line else line
    children = (
        [v for pair in node.value for v in pair]
        if isinstance(node, yaml.MappingNode)
        else node.value
    )
    return max((_last_line(c) for c in children), default=node.start_mark.line)


def _item_layout(lines: list[str], seq: yaml.SequenceNode) -> ItemStyle:
    """How a block sequence writes its items, judged by the first: its `-` (where the sequence
    starts) and its content, on that line or below it (a bare `-`, maybe with a comment)."""
    dash, first = seq.start_mark, seq.value[0].start_mark
    line = lines[dash.line]
    if line[dash.column : dash.column + 1] != "-" or first.column <= dash.column:
        raise _Unfollowable
    if first.line == dash.line:
        return ItemStyle(dash.column, first.column - dash.column)
    after = line[dash.column + 1 :].strip()
    if after and not after.startswith("#"):
        raise _Unfollowable
    return ItemStyle(dash.column, first.column - dash.column, bare=True)


def _block_items(lines: list[str], seq: yaml.Node, new: list[str]) -> tuple[int, list[str]]:
    """Insertion (after line, lines) appending plain items to a block sequence."""
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        raise _Unfollowable
    style = _item_layout(lines, seq)
    return _last_line(seq), [line for item in new for line in style.item(item)]


def _before_key(top: TopLevel, key: str) -> int:
    """The line after which a new top-level key goes, so that it comes just before `key`."""
    node = top[key][0]
    if node.start_mark.column != 0:
        raise _Unfollowable
    line: int = node.start_mark.line
    return line - 1


def _flow_replace(lines: list[str], node: yaml.Node, text: str) -> tuple[int, str]:
    """The line holding the single-line flow `node`, with the node replaced by `text`."""
    start, end = node.start_mark, node.end_mark
    if start.line != end.line:
        raise _Unfollowable
    line = lines[start.line]
    return start.line, line[: start.column] + text + line[end.column :]


@dataclass
class _TextEdit:
    """Lines to insert and lines to replace in a file, applied at once."""

    lines: list[str]
    inserts: list[tuple[int, list[str]]] = field(default_factory=list)  # (after line, lines)
    replaced: dict[int, str] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return len(self.lines) - 1

    def applied(self) -> str:
        lines = list(self.lines)
        for i, line in self.replaced.items():
            lines[i] = line
        # from the bottom up, so line numbers hold; at one line, in the order they were listed
        ordered = sorted(enumerate(self.inserts), key=lambda e: (e[1][0], e[0]), reverse=True)
        for _, (after, new) in ordered:
            lines[after + 1 : after + 1] = new
        return "".join(lines)


def text_edit(text: str, data: dict[str, Any], hooks: list[FrameworkHook], types: list[str]) -> str:
    """The config with gitml's hooks and hook types added as text, everything else kept byte
    for byte; _Unfollowable for a layout this does not handle."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    top = _top_level(text)
    edit = _TextEdit(lines)
    stages = default_stages(data, types)
    if stages:
        anchor = next((k for k in ("default_install_hook_types", "repos") if k in top), None)
        after = _before_key(top, anchor) if anchor else edit.end
        edit.inserts.append((after, [_stages_line(stages)]))
    if types:
        _add_hook_types(edit, top, list(data.get("default_install_hook_types") or []), types)
    if hooks:
        _add_repo_block(edit, top, hooks)
    return edit.applied()


def _add_hook_types(edit: _TextEdit, top: TopLevel, have: list[str], types: list[str]) -> None:
    if "default_install_hook_types" not in top:
        after = _before_key(top, "repos") if "repos" in top else edit.end
        edit.inserts.append((after, [_types_line(types)]))
        return
    node = top["default_install_hook_types"][1]
    if isinstance(node, yaml.SequenceNode) and node.flow_style:
        i, line = _flow_replace(edit.lines, node, "[" + ", ".join(have + types) + "]")
        edit.replaced[i] = line
    else:
        edit.inserts.append(_block_items(edit.lines, node, types))


def _add_repo_block(edit: _TextEdit, top: TopLevel, hooks: list[FrameworkHook]) -> None:
    if "repos" not in top:
        edit.inserts.append((edit.end, ["repos:\n", *repo_block(hooks)]))
        return
    node = top["repos"][1]
    if not isinstance(node, yaml.SequenceNode):
        raise _Unfollowable
    if node.flow_style and not node.value:  # `repos: []`: the block goes below, as a list
        i, line = _flow_replace(edit.lines, node, "")
        head, sep, comment = line.rstrip("\n").partition("#")
        edit.replaced[i] = head.rstrip() + (f"  {sep}{comment}" if sep else "") + "\n"
        edit.inserts.append((i, repo_block(hooks)))
    elif not node.flow_style and node.value:
        style = _item_layout(edit.lines, node)
        edit.inserts.append((_last_line(node), repo_block(hooks, style)))
    elif node.flow_style and node.value:
        _add_flow_item(edit, node, _flow_repo(edit.lines, node, hooks))
    else:
        raise _Unfollowable


def _flow_repo(lines: list[str], node: yaml.Node, hooks: list[FrameworkHook]) -> str:
    """gitml's `repo: local` block as one flow item, its strings quoted as JSON where the
    user's list quotes its keys (`{"repo": ...}`), plain otherwise."""
    block = {"repo": "local", "hooks": [hook_dict(h) for h in hooks]}
    first = node.value[0].start_mark
    if lines[first.line][first.column :].lstrip("{ ").startswith('"'):
        return json.dumps(block)
    dumped = yaml.safe_dump(block, default_flow_style=True, sort_keys=False, width=1 << 30)
    return str(dumped).strip()


def _add_flow_item(edit: _TextEdit, node: yaml.Node, item: str) -> None:
    """`item` appended to the flow sequence `node`: on a line of its own, indented as the first
    item, when the closing `]` has a line of its own; before the `]` otherwise."""
    close, last = node.end_mark, node.value[-1].end_mark
    line = edit.replaced.get(close.line, edit.lines[close.line])
    if line[close.column - 1 : close.column] != "]" or close.line in edit.replaced:
        raise _Unfollowable
    if line[: close.column - 1].strip():  # `..., last]`: on the same line
        edit.replaced[close.line] = f"{line[: close.column - 1]}, {item}{line[close.column - 1 :]}"
        return
    if last.line in edit.replaced or last.line == close.line:
        raise _Unfollowable
    after = edit.lines[last.line]
    edit.replaced[last.line] = after[: last.column] + "," + after[last.column :]
    indent = " " * node.value[0].start_mark.column
    edit.inserts.append((close.line - 1, [f"{indent}{item}\n"]))


def json_edit(text: str, want: dict[str, Any]) -> str | None:
    """A config written as JSON (valid YAML, and a style of its own), rewritten as JSON with
    the same indentation (one line when it was one) and gitml's keys before `repos`; None
    for a file that is not JSON."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    added = [k for k in want if k not in doc]
    keys = [k for k in doc if k != "repos"] + added + (["repos"] if "repos" in doc else [])
    if "repos" in added:
        keys = [k for k in keys if k != "repos"] + ["repos"]
    ordered = {k: want[k] for k in dict.fromkeys(keys)}
    dumped = json.dumps(ordered, indent=_json_indent(text), ensure_ascii=False)
    return dumped + ("\n" if text.endswith("\n") else "")


def _json_indent(text: str) -> int | None:
    """The indentation of a JSON text: None on one line, else the first indent's width (YAML,
    so pre-commit, refuses tabs)."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) < len(line):
            return len(line) - len(stripped)
    return None


def roundtrip_edit(
    text: str, data: dict[str, Any], hooks: list[FrameworkHook], types: list[str]
) -> str:
    """ruamel.yaml's round trip (keeps comments, may re-indent): for layouts text_edit refuses."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    indent, block_seq_indent = _guess_indent(text)
    rt = YAML()
    rt.preserve_quotes = True
    rt.indent(mapping=indent, sequence=indent, offset=block_seq_indent)
    rt.explicit_start = _explicit_start(text)
    doc = rt.load(text) or CommentedMap()
    stages = default_stages(data, types)
    if types:
        have = doc.get("default_install_hook_types")
        if have is None:
            flow = CommentedSeq(types)
            flow.fa.set_flow_style()
            doc.insert(0, "default_install_hook_types", flow)
        else:
            have.extend(types)
    if stages:
        flow = CommentedSeq(stages)
        flow.fa.set_flow_style()
        doc.insert(0, "default_stages", flow)
    if hooks:
        if doc.get("repos") is None:
            doc["repos"] = CommentedSeq()
        doc["repos"].append({"repo": "local", "hooks": [hook_dict(h) for h in hooks]})
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()


def _guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, columns before a sequence's `-`) as the file writes them; ruamel's own
    guess fails on some valid layouts (a bare `-` ending a line), and then 2 and 0 do."""
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        _, indent, block_seq_indent = load_yaml_guess_indent(text)
    except (IndexError, ValueError):
        return 2, 0
    return indent or 2, block_seq_indent or 0


def _explicit_start(text: str) -> bool:
    """Whether the document opens with `---` (after comments and directives), to keep it."""
    for line in text.splitlines():
        if line.strip() and not line.startswith(("#", "%")):
            return line.startswith("---")
    return False


def merged(text: str | None) -> str | None:
    """The config with gitml's hooks in it; None when it already has them (nothing to write)."""
    if text is None or not text.strip():
        hooks, types = list(FRAMEWORK_HOOKS), list(HOOK_TYPES)
        head = text or NEW_FILE_HEADER
        return (
            head
            + _types_line(types)
            + _stages_line(default_stages({}, types))
            + "repos:\n"
            + "".join(repo_block(hooks))
        )
    data = parse(text)
    hooks, types = missing(data)
    if not hooks and not types:
        return None
    want = expected(data, hooks, types)
    new = json_edit(text, want)
    if new is not None and _loads(new) == want:
        return new
    try:
        new = text_edit(text, data, hooks, types)
        if _loads(new) == want:
            return new
    except _Unfollowable:
        pass
    new = roundtrip_edit(text, data, hooks, types)
    if _loads(new) != want:
        raise BadInput(
            f"gitml could not add its hooks to {CONFIG} without changing what it says; "
            "add this block to its `repos:` by hand:\n" + "".join(repo_block(hooks))
        )
    return new


def _loads(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None
