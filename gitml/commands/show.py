"""`gitml show [REV]`: the lineage a commit recorded, as a tree or as JSON."""

from __future__ import annotations

import json
from typing import Any

from gitml import git, lockfile, params
from gitml import repo as repo_mod
from gitml.lockfile import LOCK_FILE, SCHEMA, DataEntry, Environment, Lock, ModelEntry
from gitml.modelhistory import cmd_text
from gitml.output import console, warn
from gitml.records import Record, plain


def lineage_at(rev: str | None) -> tuple[str, Lock]:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    return commit, lockfile.committed_lock(repo.root, commit, "it recorded no lineage")[1]


def show(rev: str | None, json_out: bool = False) -> int:
    commit, lock = lineage_at(rev)
    for path, entry in lock.models.items():
        if entry.metrics_unread:
            warn(f"model {path} at {commit[:12]}: no metrics recorded: {entry.metrics_unread}")
    if json_out:
        doc = {"rev": commit, **lock.to_dict()}
        print(json.dumps(doc, indent=2, sort_keys=True, default=str))
        return 0
    console().print(tree(commit, lock))
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return str(value)


def _text(value: Any, limit: int | None = None) -> str:
    """A value of the manifest as plain text inside rich markup: cut first, then escaped, so a
    path like `[bold]x` or `[/]` is shown as it is instead of being read as markup."""
    from rich.markup import escape

    if isinstance(value, Record):  # as the file has it: keys sorted
        value = dict(sorted(plain(value).items()))
    return escape(_fmt(value)[:limit])


def tree(commit: str, lock: Lock) -> Any:
    from rich.tree import Tree

    root = Tree(f"[bold]{commit[:12]}[/]  {LOCK_FILE} ({_text(SCHEMA)})")
    for path, model in lock.models.items():
        _model_node(root, path, model, lock.environment_of(model))
    for path, data in lock.data.items():
        _data_node(root, path, data)
    return root


def _model_node(root: Any, path: str, m: ModelEntry, env: Environment | None) -> None:
    flag = "[red]stale[/]" if m.stale else "[green]fresh[/]"
    node = root.add(
        f"[bold cyan]model[/] {_text(path)}  md5 {_text(m.md5, 12)}  {_text(m.format)}  {flag}"
    )
    if m.metrics:
        node.add(f"metrics: {_text(params.flatten(m.metrics))}")
    elif m.metrics_unread:
        node.add(f"[yellow]metrics: not recorded ({_text(m.metrics_unread)})[/]")
    if m.stage:
        stage = node.add(f"stage [bold]{_text(m.stage)}[/]")
        if m.cmd is not None:
            stage.add(f"cmd: {_text(cmd_text(m.cmd))}")
        for dep, value in (m.inputs or {}).items():
            stage.add(f"{_text(dep)}: {_text(value, 60)}")
    for reason in m.stale_reasons:
        node.add(f"[red]{_text(reason)}[/]")
    if env is not None:
        _environment_node(node, env)
    _checks_nodes(node, m)


def _environment_node(node: Any, env: Environment) -> None:
    e = node.add(
        f"environment ({_text(env.captured)}): python {_text(env.python)}, "
        f"{_text(env.platform)}, {len(env.packages or {})} packages"
    )
    if env.seeds:
        e.add(f"seeds: {_text(env.seeds)}")
    if env.hardware is not None:
        e.add(f"hardware: {_text(env.hardware.cpu)}, gpu {_text(env.hardware.gpu)}")


def _checks_nodes(node: Any, m: ModelEntry) -> None:
    if m.tests is not None:
        node.add(f"tests: {_text(m.tests.passed)} passed, {_text(m.tests.failed)} failed")
    for gate in m.gates or []:
        verdict = "[green]passed[/]" if gate.passed else "[red]failed[/]"
        base = f", baseline {_text(gate.baseline, 8)}" if gate.baseline else ""
        node.add(f"gate {_text(gate.rule)}: {_text(gate.value)}{base} {verdict}")


def _data_node(root: Any, path: str, d: DataEntry) -> None:
    node = root.add(
        f"[bold magenta]data[/] {_text(path)}  md5 {_text(d.md5, 12)}  {_text(d.size)} bytes"
    )
    if d.source is not None and plain(d.source):
        node.add(f"imported from {_text(d.source)}")
    if d.validation is not None:
        node.add(f"validation: {_text(d.validation)}")
