"""`gitml diff [A] [B]`: what changed between two versions of gitml.lock (default HEAD → staged)."""

from __future__ import annotations

import json
from typing import Any

from gitml import history, versiondiff
from gitml import repo as repo_mod
from gitml.modelhistory import cmd_text
from gitml.output import console, warn
from gitml.versiondiff import DataDiff, ModelDiff, Pair, VersionDiff


def compute(a: str | None, b: str | None) -> VersionDiff:
    """A and B as git diff takes them: none = HEAD vs staged, one = A vs staged, two = A vs B."""
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    base = history.version_at(repo, a or "HEAD")
    other = history.version_at(repo, b)
    return versiondiff.diff_versions(base, other)


def diff(a: str | None, b: str | None, json_out: bool = False) -> int:
    result = compute(a, b)
    warn_unread(result)
    if json_out:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True, default=str))
        return 0
    out = console()
    for renderable in render(result):
        out.print(renderable)
    return 0


def warn_unread(result: VersionDiff) -> None:
    """A model without metrics because its metrics file could not be read: said, per side."""
    for path, m in result.models.items():
        for side, why in ((result.a, m.metrics_unread.old), (result.b, m.metrics_unread.new)):
            if why:
                warn(f"model {path} at {side.name}: no metrics recorded: {why}")


def _v(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _delta(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:+g}" if isinstance(value, (int, float)) else str(value)


def _stale(value: Any) -> str:
    if not value:
        return "fresh"
    return "\n".join(value) if isinstance(value, list) else "stale"


def render(result: VersionDiff) -> list[Any]:
    parts: list[Any] = [f"gitml diff {result.a.name} -> {result.b.name}"]
    for path, m in result.models.items():
        if m.changed or m.checks.changed:
            parts += [f"\nmodel {path} ({m.status})", _model_table(m)]
    for path, d in result.data.items():
        parts += [f"\ndata {path} ({d.status})", _data_table(d)]
    if len(parts) == 1:
        parts.append("no differences in models, data, params, code, environment or metrics")
    return parts


Row = tuple[str, str, str, str]  # what, old, new, delta


def _model_table(m: ModelDiff) -> Any:
    from rich.table import Table

    t = Table("what", "old", "new", "delta", title=None, show_edge=False)
    for row in _model_rows(m):
        t.add_row(*row)
    return t


def _model_rows(m: ModelDiff) -> list[Row]:
    rows: list[Row] = []
    if m.md5.changed:
        rows.append(("model md5", _v(m.md5.old)[:12], _v(m.md5.new)[:12], ""))
        rows.append(("model size", _v(m.size.old), _v(m.size.new), ""))
    rows += [(f"metric {k}", _v(d.old), _v(d.new), _delta(d.delta)) for k, d in m.metrics.items()]
    rows += [(f"param {name}", _v(p.old), _v(p.new), "") for name, p in m.params.items()]
    rows += _input_rows(m)
    if m.stale.changed:
        rows.append(("stale", _stale(m.stale.old), _stale(m.stale.new), ""))
    if m.checks.changed:
        rows.append(("checks", m.checks.old.text(), m.checks.new.text(), ""))
    rows += [(what, _v(p.old), _v(p.new), "") for what, p in _environment_rows(m)]
    if not m.environment_recorded.new and m.environment_recorded.old:
        rows.append(("environment", "recorded", "not yet (recorded at commit)", ""))
    return rows


def _input_rows(m: ModelDiff) -> list[Row]:
    """The stage's command, code and data inputs that changed."""
    from rich.markup import escape

    rows: list[Row] = []
    if m.cmd.changed:
        rows.append(("cmd", escape(cmd_text(m.cmd.old)), escape(cmd_text(m.cmd.new)), ""))
    for kind, changed in (("code", m.code), ("data", m.data)):
        rows += [(f"{kind} {k}", _v(p.old)[:12], _v(p.new)[:12], "") for k, p in changed.items()]
    return rows


def _environment_rows(m: ModelDiff) -> list[tuple[str, Pair]]:
    rows = []
    for key, d in m.environment.items():
        if isinstance(d, Pair):
            rows.append((f"env {key}", d))
        elif key == "packages":
            rows += [(f"package {pkg}", p) for pkg, p in d.items()]
        else:
            rows += [(f"env {key}.{sub}", p) for sub, p in d.items()]
    return rows


def _data_table(d: DataDiff) -> Any:
    from rich.table import Table

    t = Table("what", "old", "new", title=None, show_edge=False)
    for key, p in d.fields.items():
        t.add_row(key, _v(p.old), _v(p.new))
    if d.profile.rows is not None:
        t.add_row("rows", _v(d.profile.rows.old), _v(d.profile.rows.new))
    for col, c in d.profile.columns.items():
        if c.added:
            t.add_row(f"column {col}", "-", f"added ({c.dtype})")
        elif c.removed:
            t.add_row(f"column {col}", "present", "removed")
        else:
            for key, p in c.figures.items():
                t.add_row(f"column {col}.{key}", _v(p.old), _v(p.new))
    return t
