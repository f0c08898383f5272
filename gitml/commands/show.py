"""`gitml show [REV]`: the lineage a commit recorded, as a tree or as JSON."""

from __future__ import annotations

import json
from typing import Any

from gitml import git, history, manifest, params
from gitml import repo as repo_mod
from gitml.lockfile import LOCK_FILE
from gitml.output import console, warn


def lineage_at(rev: str | None) -> tuple[str, dict[str, Any]]:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    return commit, manifest.committed_lock(repo.root, commit, "it recorded no lineage")[1]


def show(rev: str | None, json_out: bool = False) -> int:
    commit, lock = lineage_at(rev)
    for path, entry in (lock.get("models") or {}).items():
        why = history.metrics_unread(entry) if isinstance(entry, dict) else None
        if why:
            warn(f"model {path} at {commit[:12]}: no metrics recorded: {why}")
    if json_out:
        doc = {"rev": commit, **{k: v for k, v in lock.items()}}
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

    return escape(_fmt(value)[:limit])


def tree(commit: str, lock: dict[str, Any]) -> Any:
    from rich.tree import Tree

    root = Tree(f"[bold]{commit[:12]}[/]  {LOCK_FILE} ({_text(lock.get('schema'))})")
    envs = lock.get("environments") or {}
    for path, m in (lock.get("models") or {}).items():
        stale = m.get("stale")
        flag = "[red]stale[/]" if stale else "[green]fresh[/]"
        node = root.add(
            f"[bold cyan]model[/] {_text(path)}  md5 {_text(m.get('md5'), 12)}  "
            f"{_text(m.get('format'))}  {flag}"
        )
        if m.get("metrics"):
            node.add(f"metrics: {_text(params.flatten(m['metrics']))}")
        elif history.metrics_unread(m):
            node.add(f"[yellow]metrics: not recorded ({_text(history.metrics_unread(m))})[/]")
        if m.get("stage"):
            stage = node.add(f"stage [bold]{_text(m['stage'])}[/]")
            if m.get("cmd") is not None:
                stage.add(f"cmd: {_text(history.cmd_text(m['cmd']))}")
            for dep, value in (m.get("inputs") or {}).items():
                stage.add(f"{_text(dep)}: {_text(value, 60)}")
        for reason in stale if isinstance(stale, list) else []:
            node.add(f"[red]{_text(reason)}[/]")
        env = envs.get(m.get("environment")) if isinstance(m.get("environment"), str) else None
        if isinstance(env, dict):
            packages = env.get("packages")
            e = node.add(
                f"environment ({_text(env.get('captured'))}): python {_text(env.get('python'))}, "
                f"{_text(env.get('platform'))}, "
                f"{len(packages) if isinstance(packages, dict) else 0} packages"
            )
            if env.get("seeds"):
                e.add(f"seeds: {_text(env['seeds'])}")
            hw = env.get("hardware")
            if isinstance(hw, dict):
                e.add(f"hardware: {_text(hw.get('cpu'))}, gpu {_text(hw.get('gpu'))}")
        tests = m.get("tests")
        if isinstance(tests, dict):
            node.add(
                f"tests: {_text(tests.get('passed'))} passed, {_text(tests.get('failed'))} failed"
            )
        for gate in m.get("gates") or []:
            if isinstance(gate, dict):
                verdict = "[green]passed[/]" if gate.get("passed") else "[red]failed[/]"
                base = f", baseline {_text(gate['baseline'], 8)}" if gate.get("baseline") else ""
                node.add(
                    f"gate {_text(gate.get('rule'))}: {_text(gate.get('value'))}{base} {verdict}"
                )
    for path, d in (lock.get("data") or {}).items():
        node = root.add(
            f"[bold magenta]data[/] {_text(path)}  md5 {_text(d.get('md5'), 12)}  "
            f"{_text(d.get('size'))} bytes"
        )
        if d.get("source"):
            node.add(f"imported from {_text(d['source'])}")
        if d.get("validation") is not None:
            node.add(f"validation: {_text(d['validation'])}")
    return root
