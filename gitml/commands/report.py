"""`gitml report [A] [B]`: a pull-request report (Markdown or self-contained HTML).

A verdict line, metric deltas against the base, checks, params/code/data/environment changes,
the lineage as a Mermaid graph (HTML: drawn as inline SVG, offline), and each model's main
metric over the history (a sparkline each; HTML: a chart per metric, a line per model).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitml import history, modelhistory, plots, svggraph
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.fileio import user_output_file, write_user_output
from gitml.hypotheses import Judged
from gitml.output import printable, say, warn
from gitml.plots import Series
from gitml.pullreport import RegistryRow, Report, build
from gitml.versiondiff import ModelDiff, Pair, ProfileDiff, VersionDiff

MARKER = "<!-- gitml-report -->"  # CI finds its own comment by this line and updates it


def report(
    a: str | None,
    b: str | None,
    fmt: str = "md",
    out: Path | None = None,
    json_out: bool = False,
) -> int:
    if fmt not in ("md", "html"):
        raise BadInput(f"--format must be `md` or `html`, not {fmt!r}")
    if json_out and fmt != "md":
        raise BadInput(f"give --json or --format {fmt}, not both")
    if out is not None:
        user_output_file(out)  # refused before the work, not after it
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    base = history.version_at(repo, a or "HEAD")
    head = history.version_at(repo, b)
    doc = build(repo.root, base, head)
    for line in doc.left_out + doc.unread:
        warn(line)
    if json_out:
        text = json.dumps(doc.to_json(), indent=2, sort_keys=True, default=str) + "\n"
    else:
        text = markdown(doc) if fmt == "md" else to_html(doc)
    if out is None:
        print(text, end="")
    else:
        say(f"wrote {write_user_output(out, text.encode())}")
    return 0


# --- the tables, once, for both formats ------------------------------------------------------


def md_text(text: str) -> str:
    """Text from a repository (a path, a metric or model name) as Markdown shows it literally:
    no emphasis, link, image, heading, HTML or table cell of its own, one line, no control
    characters. (The HTML report escapes the raw text with html.escape instead.)"""
    text = printable(text).replace("\n", " ").replace("&", "&amp;")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    # `[` and `]` escaped make no link or image; `*`, `` ` ``, `|` no emphasis, code or cell.
    # (`_` inside a word emphasises nothing in GitHub's Markdown: names like n_estimators
    # stay readable in the raw comment.)
    return re.sub(r"([\\`*\[\]|])", r"\\\1", text)


def _html_literal(text: str) -> str:
    """A name for the HTML verdict line, whose `**` and backticks `_inline_md` turns into tags
    (the rest is html-escaped there)."""
    return printable(text).replace("`", "'").replace("*", "\u2217")


def verdict(doc: Report, literal: Callable[[str], str] = md_text) -> str:
    deltas = [
        f"{literal(name)} {_v(d.old)} → {_v(d.new)} ({d.delta:+g})"
        for m in doc.diff.models.values()
        for name, d in m.metrics.items()
        if d.delta is not None
    ]
    tail = f" — {'; '.join(deltas[:3])}" if deltas else ""
    where = f"`{doc.head}` vs base `{doc.base}`"
    if doc.status == "failed":
        failed = ", ".join(literal(f) for f in doc.failed)
        return f"❌ **checks failed** for {failed} ({where}){tail}"
    if doc.status == "unchecked":
        return f"⚠️ **no checks recorded** ({where}){tail}"
    return f"✅ **all recorded checks passed** ({where}){tail}"


def _v(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _short(value: Any) -> str:
    return _v(value)[:12]


Table = tuple[str, list[str], list[list[str]]]  # title, header, rows


def sections(doc: Report) -> list[Table]:
    """(title, header, rows) tables shared by the Markdown and HTML renderings."""
    models = doc.diff.models
    return [
        ("Metrics", ["model", "metric", "base", "this", "Δ"], _metric_rows(models)),
        ("Checks", ["model", "base", "this", "verdict"], _check_rows(models)),
        (
            "Slices (figures the model tests recorded per slice)",
            ["model", "slice", "metric", "base", "this", "Δ"],
            [_slice_cells(*row) for row in doc.slices],
        ),
        (
            "Against the registry (what each stage holds now)",
            ["model", "stage", "version", "metric", "stage's", "this", "Δ"],
            [_registry_cells(r) for r in doc.registry],
        ),
        (
            "Stale pipeline (dvc.lock not updated: run `dvc repro`)",
            ["model", "reason"],
            [[p, reason] for p, m in models.items() for reason in _reasons(m.stale.new)],
        ),
        (
            "Params and stage commands changed",
            ["model", "param", "base", "this"],
            _param_rows(models),
        ),
        (
            "Model, code and stage inputs changed",
            ["model", "file", "base", "this"],
            _code_rows(models),
        ),
        ("Data changed", ["dataset", "what", "base", "this"], _data_rows(doc.diff)),
        ("Environment changed", ["model", "what", "base", "this"], _env_rows(models)),
        (
            "Hypotheses (commit trailers, judged against each commit's parent)",
            ["commit", "model", "hypothesis", "expected", "verdict", "Δ metrics"],
            [_hypothesis_cells(j) for j in doc.hypotheses],
        ),
    ]


def _hypothesis_cells(judged: Judged) -> list[str]:
    h = judged.hypothesis
    verdict = h.verdict or "no expectation stated"
    if h.reason:
        verdict += f": {h.reason}"
    deltas = ", ".join(f"{k} {v:+g}" for k, v in h.deltas.items())
    return [
        judged.commit,
        judged.model or "–",
        h.text or "–",
        "; ".join(h.expected) or "–",
        verdict,
        deltas or "–",
    ]


def _slice_cells(model: str, name: str, metric: str, a: float | None, b: float | None) -> list[str]:
    delta = "" if a is None or b is None else f"{b - a:+g}"
    return [model, name, metric, _v(a), _v(b), delta]


def _registry_cells(row: RegistryRow) -> list[str]:
    d = row.delta
    delta = "" if d.delta is None else f"{d.delta:+g}"
    return [row.model, row.stage, row.held, row.metric, _v(d.old), _v(d.new), delta]


_VERDICTS = {True: "passed", False: "FAILED", None: "not recorded"}


def _reasons(stale: bool | list[str]) -> list[str]:
    """A stale entry's reasons (an older gitml recorded only `stale: true`)."""
    return stale if isinstance(stale, list) else ["stale"] if stale else []


def _metric_rows(models: dict[str, ModelDiff]) -> list[list[str]]:
    return [
        [path, name, _v(d.old), _v(d.new), "" if d.delta is None else f"{d.delta:+g}"]
        for path, m in models.items()
        for name, d in m.metrics.items()
    ]


def _check_rows(models: dict[str, ModelDiff]) -> list[list[str]]:
    return [
        [path, m.checks.old.text(), m.checks.new.text(), _VERDICTS[m.checks.new.passed]]
        for path, m in models.items()
    ]


def _param_rows(models: dict[str, ModelDiff]) -> list[list[str]]:
    rows = []
    for path, m in models.items():
        rows += [[path, k, _v(p.old), _v(p.new)] for k, p in m.params.items()]
        if m.cmd.changed:
            rows.append(
                [path, "cmd", modelhistory.cmd_text(m.cmd.old), modelhistory.cmd_text(m.cmd.new)]
            )
    return rows


def _code_rows(models: dict[str, ModelDiff]) -> list[list[str]]:
    rows = []
    for path, m in models.items():
        if m.md5.changed:
            rows.append([path, "model", _short(m.md5.old), _short(m.md5.new)])
        for k, p in {**m.code, **m.data}.items():
            rows.append([path, k, _short(p.old), _short(p.new)])
    return rows


def _env_rows(models: dict[str, ModelDiff]) -> list[list[str]]:
    rows = []
    for path, m in models.items():
        for key, d in m.environment.items():
            if isinstance(d, Pair):
                rows.append([path, key, _v(d.old), _v(d.new)])
            elif key == "packages":
                rows += [[path, pkg, _v(p.old), _v(p.new)] for pkg, p in d.items()]
            else:
                rows += [[path, f"{key}.{s}", _v(p.old), _v(p.new)] for s, p in d.items()]
    return rows


def _data_rows(diff: VersionDiff) -> list[list[str]]:
    rows = []
    for path, d in diff.data.items():
        for key in ("md5", "size", "nfiles", "validation"):
            if key in d.fields:
                rows.append([path, key, _short(d.fields[key].old), _short(d.fields[key].new)])
        if d.profile.rows is not None:
            rows.append([path, "rows", _v(d.profile.rows.old), _v(d.profile.rows.new)])
        rows += [[path, *cells] for cells in _column_cells(d.profile)]
    return rows


def _column_cells(profile: ProfileDiff) -> list[list[str]]:
    cells = []
    for col, c in profile.columns.items():
        if c.added or c.removed:
            this = f"added ({c.dtype})" if c.added else "removed"
            cells.append([f"column {col}", "–" if c.added else "present", this])
        else:
            cells += [[f"{col}.{k}", _v(p.old), _v(p.new)] for k, p in c.figures.items()]
    return cells


# --- Markdown --------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return md_text(text)


def markdown(doc: Report) -> str:
    lines = [MARKER, "## gitml report", "", verdict(doc), ""]
    lines += [f"> ⚠️ {_md_cell(line)}" for line in doc.unread] + ([""] if doc.unread else [])
    for title, header, rows in sections(doc):
        if not rows:
            continue
        lines += [f"### {title}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    for s in doc.series:
        values = s.values
        lines += [
            (
                f"**{md_text(s.metric)}** of {md_text(s.model)} over {len(values)} versions: "
                f"`{plots.sparkline(values)}` (min {min(values):g}, max {max(values):g})"
            ),
            "",
        ]
    lines += ["### Lineage", "", "```mermaid", doc.lineage.mermaid(), "```", ""]
    return "\n".join(lines)


# --- HTML (self-contained: inline CSS, the plot inline) --------------------------------------

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#1f2328}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d0d7de;padding:4px 10px;
text-align:left;font-size:.9em}th{background:#f6f8fa}.verdict{font-size:1.1em;padding:.6em;
border-radius:6px;background:#f6f8fa}.fail{background:#ffebe9}.pass{background:#dafbe1}
pre{background:#f6f8fa;padding:1em;overflow:auto}.plot{display:block;margin:1em 0}
"""


def _inline_md(text: str) -> str:
    """The verdict line: **bold** and `code` to HTML, everything else escaped."""
    out, bold, code = [], False, False
    for part in html.escape(text).replace("**", "\0b\0").replace("`", "\0c\0").split("\0"):
        if part == "b":
            out.append("</strong>" if bold else "<strong>")
            bold = not bold
        elif part == "c":
            out.append("</code>" if code else "<code>")
            code = not code
        else:
            out.append(part)
    return "".join(out)


def plot_html(series: list[Series]) -> str:
    """A chart per metric, a labelled line per model (a PNG when matplotlib is there)."""
    if not series:
        return "<p>No metric recorded over the history yet.</p>"
    charts = []
    for metric, group in plots.by_metric(series).items():
        png = plots.png_plot(group, metric)
        if png is None:
            charts.append(plots.svg_chart(group, metric))
            continue
        alt = html.escape(f"{metric} over the history: {plots.counts(group)}")
        data = base64.b64encode(png).decode()
        charts.append(f'<img class="plot" alt="{alt}" src="data:image/png;base64,{data}">')
    return f'<div id="plot">{"".join(charts)}</div>'


def _text_glyphs(text: str) -> str:
    """Emoji (what GitHub renders) as text symbols that any system font has, for the html page."""
    return text.replace("✅", "✔").replace("❌", "✘").replace("⚠️", "⚠")


def to_html(doc: Report) -> str:
    v = verdict(doc, _html_literal)
    cls = "fail" if v.startswith("❌") else "pass" if v.startswith("✅") else ""
    body = [
        f"<h1>gitml report: {html.escape(doc.head)} vs {html.escape(doc.base)}</h1>",
        f'<p class="verdict {cls}">{_inline_md(_text_glyphs(v))}</p>',
        *(f"<p>⚠ {html.escape(line)}</p>" for line in doc.unread),
    ]
    for title, header, rows in sections(doc):
        if not rows:
            continue
        body.append(f"<h2>{html.escape(title)}</h2><table><tr>")
        body.append("".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        body.append("</table>")
    body += ["<h2>Metrics over the history</h2>", plot_html(doc.series)]
    body += ["<h2>Lineage</h2>", svggraph.svg(doc.lineage)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>gitml report</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
