"""gitml/plots.py: one series per model, each ordered by commit date, on one time axis, with a
legend; the sparkline counts each model's versions (issue 18, item 7)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gitml import plots
from gitml.modelhistory import Checks, ModelVersion

SVG = "{http://www.w3.org/2000/svg}"


def _row(path: str, name: str, sha: str, date: str | None, accuracy: float) -> ModelVersion:
    return ModelVersion(
        commit=sha if date else None,
        short=sha[:8],
        date=date,
        subject="s",
        model=path,
        name=name,
        md5="0" * 32,
        metrics={"accuracy": accuracy, "other": {"nested": 1}},
        metrics_unread=None,
        params={},
        cmd=None,
        checks=Checks(),
        tags=[],
        environment=None,
        changed=[],
    )


# As `gitml log` lists them: model by model, newest first by git's order. The second model's
# second version sits on a commit whose date is earlier than its parent's (a rebase or a skewed
# clock): the axis follows the dates.
ROWS = [
    _row("models/rf.pkl", "rf", "c" * 40, "2026-01-03T09:00:00+00:00", 0.93),
    _row("models/rf.pkl", "rf", "b" * 40, "2026-01-02T09:00:00+01:00", 0.91),
    _row("models/rf.pkl", "rf", "a" * 40, "2026-01-01T09:00:00+00:00", 0.90),
    _row("models/lr.pkl", "lr", "e" * 40, "2026-01-01T12:00:00+00:00", 0.70),
    _row("models/lr.pkl", "lr", "d" * 40, "2026-01-02T12:00:00+00:00", 0.80),
]


def test_one_series_per_model_each_by_commit_date() -> None:
    series = plots.by_model(ROWS, "accuracy")
    assert [s.model for s in series] == ["rf", "lr"]
    assert [s.values for s in series] == [[0.90, 0.91, 0.93], [0.70, 0.80]]
    assert [p.commit for p in series[1].points] == ["eeeeeeee", "dddddddd"]
    # one axis for all: every commit, by date (the +01:00 one is at 08:00 UTC)
    axis = plots.timeline(series)
    assert axis == ["aaaaaaaa", "eeeeeeee", "bbbbbbbb", "dddddddd", "cccccccc"]


def test_staged_state_comes_last_and_names_that_repeat_get_their_path() -> None:
    rows = [
        _row("a/model.pkl", "model", "staged", None, 0.5),
        _row("a/model.pkl", "model", "f" * 40, "2026-01-01T00:00:00+00:00", 0.4),
        _row("b/model.pkl", "model", "f" * 40, "2026-01-01T00:00:00+00:00", 0.3),
    ]
    series = plots.by_model(rows, "accuracy")
    assert [s.model for s in series] == ["model (a/model.pkl)", "model (b/model.pkl)"]
    assert [p.commit for p in series[0].points] == ["ffffffff", "staged"]
    assert plots.by_model(rows, "nope") == []
    assert [s.values for s in plots.by_model(rows, "other.nested")] == [[1.0, 1.0], [1.0]]


def test_text_lines_count_the_versions_of_each_model() -> None:
    lines = plots.text_lines(plots.by_model(ROWS, "accuracy"))
    assert len(lines) == 2
    assert lines[0].startswith("accuracy  rf  ") and lines[1].startswith("accuracy  lr  ")
    assert "aaaaaaaa 0.9 -> cccccccc 0.93" in lines[0] and "3 versions)" in lines[0]
    assert "eeeeeeee 0.7 -> dddddddd 0.8" in lines[1] and "2 versions)" in lines[1]
    assert plots.sparkline([0.70, 0.80]) in lines[1]
    assert "5 versions" not in "".join(lines)


def test_svg_chart_draws_a_line_per_model_on_the_time_axis_with_a_legend() -> None:
    rows = [*ROWS, _row("models/<x>.pkl", "<b>&x", "9" * 40, "2026-01-05T00:00:00+00:00", 1)]
    series = plots.by_model(rows, "accuracy")
    root = ET.fromstring(plots.svg_chart(series, "accuracy"))  # well-formed: names escaped
    groups = root.findall(f"{SVG}g[@class='series']")
    assert [g.get("data-model") for g in groups] == ["rf", "lr", "<b>&x"]
    x_of = {c: i for i, c in enumerate(plots.timeline(series))}
    for g, s in zip(groups, series, strict=True):
        line = g.find(f"{SVG}polyline")
        assert line is not None
        xs = [float(p.split(",")[0]) for p in (line.get("points") or "").split()]
        assert len(xs) == len(s.points) and xs == sorted(xs)
        assert [x_of[p.commit] for p in s.points] == sorted(x_of[p.commit] for p in s.points)
    colours = {g.find(f"{SVG}polyline").get("stroke") for g in groups}  # type: ignore[union-attr]
    assert len(colours) == 3
    legend = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert {"rf (3 versions)", "lr (2 versions)", "<b>&x (1 version)"} <= set(legend)
