"""`gitml diff [A] [B]`: what changed between two versions of gitml.lock (default HEAD → staged)."""

from __future__ import annotations

import json
from typing import Any

from gitml import history
from gitml import repo as repo_mod
from gitml.output import console, warn


def compute(a: str | None, b: str | None) -> dict[str, Any]:
    """A and B as git diff takes them: none = HEAD vs staged, one = A vs staged, two = A vs B."""
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    base = history.version_at(repo, a or "HEAD")
    other = history.version_at(repo, b)
    return history.diff_versions(base, other)


def diff(a: str | None, b: str | None, json_out: bool = False) -> int:
    result = compute(a, b)
    warn_unread(result)
    if json_out:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
        return 0
    out = console()
    if not out.is_terminal:
        out.width = max(out.width, 160)  # piped: plain text, no truncated names
    for renderable in render(result):
        out.print(renderable)
    return 0


def warn_unread(result: dict[str, Any]) -> None:
    """A model without metrics because its metrics file could not be read: said, per side."""
    for path, m in result["models"].items():
        for side, key in (("a", "old"), ("b", "new")):
            why = m["metrics_unread"][key]
            if why:
                warn(f"model {path} at {_side_name(result[side])}: no metrics recorded: {why}")


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


def _side_name(side: dict[str, Any]) -> str:
    return side["rev"][:8] if side["rev"] != history.STAGED else "staged"


def render(result: dict[str, Any]) -> list[Any]:
    from rich.markup import escape
    from rich.table import Table

    a, b = _side_name(result["a"]), _side_name(result["b"])
    parts: list[Any] = [f"gitml diff {a} -> {b}"]
    anything = False
    for path, m in result["models"].items():
        if not history.model_changed(m) and m["checks"]["old"] == m["checks"]["new"]:
            continue
        anything = True
        parts.append(f"\nmodel {path} ({m['status']})")
        t = Table("what", "old", "new", "delta", title=None, show_edge=False)
        if m["md5"]["old"] != m["md5"]["new"]:
            t.add_row("model md5", _v(m["md5"]["old"])[:12], _v(m["md5"]["new"])[:12], "")
            t.add_row("model size", _v(m["size"]["old"]), _v(m["size"]["new"]), "")
        for name, d in m["metrics"].items():
            t.add_row(f"metric {name}", _v(d["old"]), _v(d["new"]), _delta(d["delta"]))
        for name, d in m["params"].items():
            t.add_row(f"param {name}", _v(d["old"]), _v(d["new"]), "")
        if m["cmd"]["old"] != m["cmd"]["new"]:
            old_cmd, new_cmd = (escape(history.cmd_text(m["cmd"][k])) for k in ("old", "new"))
            t.add_row("cmd", old_cmd, new_cmd, "")
        for name, d in m["code"].items():
            t.add_row(f"code {name}", _v(d["old"])[:12], _v(d["new"])[:12], "")
        for name, d in m["data"].items():
            t.add_row(f"data {name}", _v(d["old"])[:12], _v(d["new"])[:12], "")
        if m["stale"]["old"] != m["stale"]["new"]:
            t.add_row("stale", _stale(m["stale"]["old"]), _stale(m["stale"]["new"]), "")
        if m["checks"]["old"] != m["checks"]["new"]:
            t.add_row(
                "checks",
                history.checks_text(m["checks"]["old"]),
                history.checks_text(m["checks"]["new"]),
                "",
            )
        for key, d in m["environment"].items():
            if key == "packages":
                for pkg, p in d.items():
                    t.add_row(f"package {pkg}", _v(p["old"]), _v(p["new"]), "")
            elif "old" in d:
                t.add_row(f"env {key}", _v(d["old"]), _v(d["new"]), "")
            else:
                for sub, p in d.items():
                    t.add_row(f"env {key}.{sub}", _v(p["old"]), _v(p["new"]), "")
        if not m["environment_recorded"]["new"] and m["environment_recorded"]["old"]:
            t.add_row("environment", "recorded", "not yet (recorded at commit)", "")
        parts.append(t)
    for path, d in result["data"].items():
        anything = True
        parts.append(f"\ndata {path} ({d['status']})")
        t = Table("what", "old", "new", title=None, show_edge=False)
        for key in ("md5", "size", "nfiles", "validation", "source"):
            if key in d:
                t.add_row(key, _v(d[key]["old"]), _v(d[key]["new"]))
        prof = d.get("profile") or {}
        if "rows" in prof:
            t.add_row("rows", _v(prof["rows"]["old"]), _v(prof["rows"]["new"]))
        for col, c in (prof.get("columns") or {}).items():
            if c.get("added"):
                t.add_row(f"column {col}", "-", f"added ({c.get('dtype')})")
            elif c.get("removed"):
                t.add_row(f"column {col}", "present", "removed")
            else:
                for key, p in c.items():
                    t.add_row(f"column {col}.{key}", _v(p["old"]), _v(p["new"]))
        parts.append(t)
    if not anything:
        parts.append("no differences in models, data, params, code, environment or metrics")
    return parts
