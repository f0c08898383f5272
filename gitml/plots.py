"""A metric over the versions of one or several models as a picture: text sparklines, an inline
SVG chart, a PNG (through matplotlib, when it is installed). One series per model, each ordered
by commit date, on one time axis (the commits of every series, by date), with a legend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from gitml import params
from gitml.modelhistory import ModelVersion
from gitml.output import printable

_BARS = "▁▂▃▄▅▆▇█"
# distinguishable with the common colour blindnesses (Okabe and Ito), then repeated
COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"]


@dataclass(frozen=True)
class Point:
    commit: str  # short sha, or "staged"
    date: str | None  # committer date, ISO 8601; None: the staged state (after every commit)
    value: float


@dataclass(frozen=True)
class Series:
    """A metric of one model over its versions, oldest first."""

    model: str  # what the legend calls it: the model's name (with its path when names repeat)
    metric: str
    points: list[Point]

    @property
    def values(self) -> list[float]:
        return [p.value for p in self.points]


def when(date: str | None) -> float:
    """A point's place in time: its commit date; the staged state comes after every commit."""
    return math.inf if date is None else datetime.fromisoformat(date).timestamp()


def by_model(rows: list[ModelVersion], metric: str) -> list[Series]:
    """`metric` over history rows, one series per model (in the order met), each ordered by
    commit date; rows without the metric skipped, models without it left out."""
    grouped: dict[str, list[ModelVersion]] = {}
    for row in rows:
        grouped.setdefault(row.model, []).append(row)
    names = [group[0].name for group in grouped.values()]
    found = []
    for path, group in grouped.items():
        name = group[0].name
        label = name if names.count(name) == 1 else f"{name} ({path})"
        # oldest first as git lists them (a tie of dates keeps that order), then by date
        points = sorted(_points(group[::-1], metric), key=lambda p: when(p.date))
        if points:
            found.append(Series(label, metric, points))
    return found


def _points(rows: list[ModelVersion], metric: str) -> list[Point]:
    points = []
    for row in rows:
        value: Any = params.flatten(row.metrics).get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            points.append(Point(row.short, row.date, float(value)))
    return points


def timeline(series: list[Series]) -> list[str]:
    """The commits of every series on one axis, by commit date: x positions of the charts."""
    seen: dict[str, float] = {}
    for s in series:
        for p in s.points:
            seen.setdefault(p.commit, when(p.date))
    return sorted(seen, key=lambda commit: seen[commit])


def by_metric(series: list[Series]) -> dict[str, list[Series]]:
    """The series grouped for one chart per metric (models of one metric share its axes)."""
    charts: dict[str, list[Series]] = {}
    for s in series:
        charts.setdefault(s.metric, []).append(s)
    return charts


# --- text ------------------------------------------------------------------------------------


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo
    return "".join(
        _BARS[0 if span == 0 else min(len(_BARS) - 1, int((v - lo) / span * len(_BARS)))]
        for v in values
    )


def text_lines(series: list[Series]) -> list[str]:
    """One line per series: metric, model, sparkline, first and last value, the count of this
    model's versions."""
    width = max((len(printable(s.model)) for s in series), default=0)
    lines = []
    for s in series:
        first, last, values = s.points[0], s.points[-1], s.values
        lines.append(
            f"{printable(s.metric)}  {printable(s.model):<{width}}  {sparkline(values)}  "
            f"{first.commit} {first.value:g} -> {last.commit} {last.value:g}  "
            f"(min {min(values):g}, max {max(values):g}, {_versions(len(values))})"
        )
    return lines


def _versions(count: int) -> str:
    return f"{count} version" + ("" if count == 1 else "s")


def counts(series: list[Series]) -> str:
    """`rf: 3 versions, lr: 2 versions`."""
    return ", ".join(f"{s.model}: {_versions(len(s.points))}" for s in series)


# --- SVG -------------------------------------------------------------------------------------


def svg_chart(series: list[Series], metric: str, width: int = 560, height: int = 200) -> str:
    """An inline SVG line chart: one coloured line per model on the commits' time axis, min and
    max of the metric, the first and last commit, a legend naming each model's line."""
    if not series:
        return ""
    pad, legend_h = 28, 18 * len(series) + 6
    axis = timeline(series)
    x_of = {c: i for i, c in enumerate(axis)}
    values = [v for s in series for v in s.values]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / max(1, len(axis) - 1)

    def xy(p: Point) -> tuple[float, float]:
        up = (p.value - lo) / span * (height - 2 * pad)
        return pad + x_of[p.commit] * step, height - pad - up

    lines = "".join(
        _svg_line(s, [xy(p) for p in s.points], COLOURS[i % len(COLOURS)])
        for i, s in enumerate(series)
    )
    title = escape(printable(metric))
    total = height + legend_h
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{width}" height="{total}" '
        f'viewBox="0 0 {width} {total}" role="img" aria-label="{title} over the history" '
        'font-family="sans-serif">'
        f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#d0d7de"/>{lines}'
        f'<text x="4" y="14" font-size="11" fill="#57606a">{title} max {hi:g}</text>'
        f'<text x="4" y="{height - 6}" font-size="11" fill="#57606a">min {lo:g}</text>'
        f'<text x="{width - 4}" y="{height - 6}" font-size="11" fill="#57606a" '
        f'text-anchor="end">{escape(axis[0])} … {escape(axis[-1])} (by commit date)</text>'
        f"{_svg_legend(series, height + 4)}</svg>"
    )


def _svg_line(s: Series, points: list[tuple[float, float]], colour: str) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points)
    return (
        f'<g class="series" data-model="{escape(printable(s.model))}">'
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}</g>'
    )


def _svg_legend(series: list[Series], top: float) -> str:
    entries = []
    for i, s in enumerate(series):
        y = top + 18 * i + 9
        colour = COLOURS[i % len(COLOURS)]
        entries.append(
            f'<g class="legend-entry"><line x1="8" y1="{y}" x2="30" y2="{y}" stroke="{colour}" '
            f'stroke-width="2"/><text x="36" y="{y + 4}" font-size="12" fill="#1f2328">'
            f"{escape(printable(s.model))} ({_versions(len(s.points))})</text></g>"
        )
    return f'<g class="legend">{"".join(entries)}</g>'


# --- PNG -------------------------------------------------------------------------------------


def png_plot(series: list[Series], metric: str) -> bytes | None:
    """A PNG line plot through matplotlib, one labelled line per model; None when matplotlib is
    not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    import io

    axis = timeline(series)
    x_of = {c: i for i, c in enumerate(axis)}
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=100)
    for i, s in enumerate(series):
        ax.plot(
            [x_of[p.commit] for p in s.points],
            s.values,
            marker="o",
            color=COLOURS[i % len(COLOURS)],
            label=_mpl_text(f"{s.model} ({_versions(len(s.points))})"),
        )
    ax.set_xticks(range(len(axis)), axis)
    ax.set_title(_mpl_text(metric))
    ax.set_xlabel("commit (by date)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _mpl_text(text: str) -> str:
    """Text matplotlib shows as it is (a `$` would start its math mode)."""
    return printable(text).replace("\n", " ").replace("$", r"\$")
