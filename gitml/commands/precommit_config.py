"""`gitml init --hooks pre-commit`: gitml's hooks merged into `.pre-commit-config.yaml`, installed.

The hooks go in as a `repo: local` block (the same ids, entries and stages as the manifest
`.pre-commit-hooks.yaml`): no clone, no network, and gitml runs from the project's environment.
The user's file is edited as text, so their comments and layout stay byte for byte; every edit is
checked by parsing the result, and a layout the text edit cannot follow goes through ruamel.yaml's
round trip instead. Running it twice changes nothing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitml import git
from gitml.errors import BadInput
from gitml.fileio import atomic_write, load_yaml, regular_file_text
from gitml.output import say

CONFIG = ".pre-commit-config.yaml"
MIN_VERSION = "4.4.0"
NEW_FILE_HEADER = (
    "# pre-commit hooks (https://pre-commit.com). gitml's run from the project's "
    "environment:\n# `gitml-hook` must be on PATH when git runs them.\n"
)
HOOK_TYPES = (
    "pre-commit",
    "pre-merge-commit",
    "pre-push",
    "post-checkout",
    "post-merge",
    "post-rewrite",
)


@dataclass(frozen=True)
class Hook:
    id: str
    name: str
    entry: str
    stages: tuple[str, ...]
    verbose: bool = False  # show its output when it passes too


HOOKS = (
    Hook(
        "gitml-check",
        "gitml check",
        "gitml-hook pre-commit --framework",
        ("pre-commit", "pre-merge-commit"),
    ),
    Hook("gitml-pre-push", "gitml pre-push", "gitml-hook pre-push --framework", ("pre-push",)),
    Hook(
        "gitml-restore",
        "gitml restore",
        "gitml-hook post-checkout --framework",
        ("post-checkout", "post-merge", "post-rewrite"),
        verbose=True,
    ),
)


def hook_dict(hook: Hook) -> dict[str, Any]:
    """The hook as pre-commit reads it (a `repo: local` hook, or a manifest entry)."""
    return {
        "id": hook.id,
        "name": hook.name,
        "entry": hook.entry,
        "language": "unsupported",
        "pass_filenames": False,
        "require_serial": True,
        "always_run": True,
        **({"verbose": True} if hook.verbose else {}),
        "stages": list(hook.stages),
        "minimum_pre_commit_version": MIN_VERSION,
    }


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


def repo_block(hooks: list[Hook], style: ItemStyle = ItemStyle()) -> list[str]:
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


# -- what is missing ------------------------------------------------------------------------------


def parse(text: str) -> dict[str, Any]:
    """The config as data ({} for an empty file); BadInput when it is not a pre-commit config."""
    try:
        data = load_yaml(text)  # bounded: an alias bomb is refused, not expanded
    except yaml.YAMLError as e:
        raise BadInput(f"{CONFIG} is not valid YAML, so gitml cannot add its hooks: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key) or [], list) for key in ("repos", "default_install_hook_types")
    ):
        raise BadInput(
            f"{CONFIG} is not a pre-commit configuration (a mapping with a `repos:` "
            "list, and `default_install_hook_types:` a list); fix it (for an old "
            "list-only file: `pre-commit migrate-config`), then run `gitml init "
            "--hooks pre-commit` again"
        )
    return data


def present_ids(data: dict[str, Any]) -> set[str]:
    ids = set()
    for repo in data.get("repos") or []:
        for hook in (repo.get("hooks") or []) if isinstance(repo, dict) else []:
            if isinstance(hook, dict) and "id" in hook:
                ids.add(str(hook["id"]))
    return ids


def hooks_at_every_stage(data: dict[str, Any]) -> list[str]:
    """Ids of the user's hooks that run at every installed hook type: no `stages:` of their own
    and no `default_stages` (a remote hook's manifest may still limit its stages)."""
    if "default_stages" in data:
        return []
    ours = {h.id for h in HOOKS}
    return [
        str(hook["id"])
        for repo in data.get("repos") or []
        for hook in ((repo.get("hooks") or []) if isinstance(repo, dict) else [])
        if isinstance(hook, dict)
        and "id" in hook
        and hook["id"] not in ours
        and not hook.get("stages")
    ]


def missing(data: dict[str, Any]) -> tuple[list[Hook], list[str]]:
    """gitml's hooks the config lacks (by id: a hook the user adapted is theirs), hook types too."""
    ids = present_ids(data)
    types = data.get("default_install_hook_types") or []
    return ([h for h in HOOKS if h.id not in ids], [t for t in HOOK_TYPES if t not in types])


def expected(data: dict[str, Any], hooks: list[Hook], types: list[str]) -> dict[str, Any]:
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


class _Unfollowable(Exception):
    """A layout the text edit does not handle: the round trip takes over."""


def _top_level(text: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
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
        return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
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


def _before_key(top: dict[str, tuple[yaml.Node, yaml.Node]], key: str) -> int:
    """The line after which a new top-level key goes, so that it comes just before `key`."""
    node = top[key][0]
    if node.start_mark.column != 0:
        raise _Unfollowable
    return node.start_mark.line - 1


def _flow_replace(lines: list[str], node: yaml.Node, text: str) -> tuple[int, str]:
    """The line holding the single-line flow `node`, with the node replaced by `text`."""
    start, end = node.start_mark, node.end_mark
    if start.line != end.line:
        raise _Unfollowable
    line = lines[start.line]
    return start.line, line[: start.column] + text + line[end.column :]


def text_edit(text: str, data: dict[str, Any], hooks: list[Hook], types: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    top = _top_level(text)
    inserts: list[tuple[int, list[str]]] = []  # (after line index, lines)
    replaced: dict[int, str] = {}
    stages = default_stages(data, types)
    if stages:
        anchor = next((k for k in ("default_install_hook_types", "repos") if k in top), None)
        after = _before_key(top, anchor) if anchor else len(lines) - 1
        inserts.append((after, [_stages_line(stages)]))
    if types:
        if "default_install_hook_types" in top:
            node = top["default_install_hook_types"][1]
            if isinstance(node, yaml.SequenceNode) and node.flow_style:
                have = list(data.get("default_install_hook_types") or [])
                i, line = _flow_replace(lines, node, "[" + ", ".join(have + types) + "]")
                replaced[i] = line
            else:
                inserts.append(_block_items(lines, node, types))
        elif "repos" in top:
            inserts.append((_before_key(top, "repos"), [_types_line(types)]))
        else:
            inserts.append((len(lines) - 1, [_types_line(types)]))
    if hooks:
        if "repos" not in top:
            inserts.append((len(lines) - 1, ["repos:\n", *repo_block(hooks)]))
        else:
            node = top["repos"][1]
            if isinstance(node, yaml.SequenceNode) and node.flow_style and not node.value:
                i, line = _flow_replace(lines, node, "")
                head, sep, comment = line.rstrip("\n").partition("#")
                replaced[i] = head.rstrip() + (f"  {sep}{comment}" if sep else "") + "\n"
                inserts.append((i, repo_block(hooks)))
            elif isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
                inserts.append((_last_line(node), repo_block(hooks, _item_layout(lines, node))))
            else:
                raise _Unfollowable
    for i, line in replaced.items():
        lines[i] = line
    # from the bottom up, so line numbers hold; at one line, in the order they were listed
    for _, (after, new) in sorted(enumerate(inserts), key=lambda e: (e[1][0], e[0]), reverse=True):
        lines[after + 1 : after + 1] = new
    return "".join(lines)


def roundtrip_edit(text: str, data: dict[str, Any], hooks: list[Hook], types: list[str]) -> str:
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
        hooks, types = list(HOOKS), list(HOOK_TYPES)
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


# -- installing -----------------------------------------------------------------------------------


def refuse_hooks_path(root: Path) -> None:
    """`pre-commit install` refuses when core.hooksPath is set: say so before changing anything."""
    proc = git.run(["config", "--show-scope", "--get", "core.hooksPath"], root, check=False)
    if proc.returncode != 0:
        return
    scope, _, value = proc.stdout.decode().strip().partition("\t")
    raise BadInput(hooks_path_message(scope, value))


def hooks_path_message(scope: str, value: str) -> str:
    flag = f"--{scope} " if scope in ("global", "system", "worktree") else ""
    return (
        f"core.hooksPath is set ({value}, in your {scope} git config) and `pre-commit install` "
        "refuses to install hooks then. Either unset it "
        f"(`git config {flag}--unset-all core.hooksPath`) and run `gitml init --hooks "
        "pre-commit` again, or use gitml's native hooks (`gitml init`), which install into a "
        "repository-level core.hooksPath."
    )


def remove_native(root: Path) -> list[str]:
    """Take out gitml's own native shims (pre-commit would chain them and run gitml twice),
    putting back the hook each one had chained, for pre-commit to chain instead."""
    from gitml.commands.init import LEGACY_SUFFIX, MARKER, hooks_dir
    from gitml.hookfast import HOOKS as NATIVE

    removed = []
    target = hooks_dir(root)
    for name in NATIVE:
        path = target / name
        if path.is_file() and MARKER in path.read_text(errors="replace"):
            path.unlink()
            removed.append(name)
            legacy = path.with_name(name + LEGACY_SUFFIX)
            if legacy.exists():
                os.replace(legacy, path)
    return removed


def run_install(root: Path) -> None:
    types = [arg for t in HOOK_TYPES for arg in ("-t", t)]
    cmd = [sys.executable, "-m", "pre_commit", "install", "--allow-missing-config", *types]
    proc = subprocess.run(
        cmd, cwd=root, env=git.no_git_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BadInput(f"`pre-commit install` failed: {(proc.stdout + proc.stderr).strip()}")


def install_framework(root: Path) -> None:
    refuse_hooks_path(root)
    path = root / CONFIG
    text = regular_file_text(path, CONFIG) if path.exists() or path.is_symlink() else None
    new = merged(text)
    if new is None:
        say(f"{CONFIG} already runs gitml's hooks")
    else:
        atomic_write(path, new.encode())
        say(
            f"{'added' if text is None else 'merged'} gitml's hooks in {CONFIG} "
            f"({', '.join(h.id for h in HOOKS)}; hook types {', '.join(HOOK_TYPES)})"
        )
    removed = remove_native(root)
    if removed:
        say(f"removed gitml's native hooks ({', '.join(removed)}): pre-commit runs gitml now")
    run_install(root)
    git.run(["add", "--", CONFIG], root)
    say(f"pre-commit installed for {', '.join(HOOK_TYPES)}; staged {CONFIG}")
