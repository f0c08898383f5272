"""A metric over a model's versions as a picture: a text sparkline, an inline SVG, a PNG
(through matplotlib, when it is installed).
"""

from __future__ import annotations

from typing import Any

from gitml import params
from gitml.modelhistory import ModelVersion

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo
    return "".join(
        _BARS[0 if span == 0 else min(len(_BARS) - 1, int((v - lo) / span * len(_BARS)))]
        for v in values
    )


def svg_sparkline(values: list[float], width: int = 480, height: int = 120, title: str = "") -> str:
    """An inline SVG line chart of `values` (oldest first), with min/max labels."""
    from html import escape

    pad = 24
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = [
        (pad + i * step, height - pad - (v - lo) / span * (height - 2 * pad))
        for i, v in enumerate(values)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f6feb"/>' for x, y in points)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#d0d7de"/>'
        f'<polyline points="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>{dots}'
        f'<text x="4" y="14" font-size="11" fill="#57606a">{escape(title)} max {hi:g}</text>'
        f'<text x="4" y="{height - 6}" font-size="11" fill="#57606a">min {lo:g}</text></svg>'
    )


def metric_series(rows: list[ModelVersion], metric: str) -> list[tuple[str, float]]:
    """(short sha, value) of `metric` over history rows, oldest first; rows without it skipped."""
    series = []
    for row in reversed(rows):
        value: Any = params.flatten(row.metrics).get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            series.append((row.short, float(value)))
    return series


def png_plot(series: list[tuple[str, float]], metric: str) -> bytes | None:
    """A PNG line plot through matplotlib, None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    import io

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.plot([s for s, _ in series], [v for _, v in series], marker="o")
    ax.set_title(metric)
    ax.set_xlabel("commit")
    ax.grid(True, alpha=0.3)
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
