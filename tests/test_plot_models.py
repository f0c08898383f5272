"""Several models over the history (issue 18, item 7): `gitml log --plot METRIC` draws one series
per model, each ordered by commit date, with a legend, and counts each model's versions; the
report plots every model, labelled, and draws both models' lineage. On the `matrix` layout
(tests/layouts.py): models/rf.pkl and models/lr.pkl from one stage, three commits."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import Example
from layouts import build_layout

SVG = "{http://www.w3.org/2000/svg}"
DATES = ["2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00", "2026-01-03T09:00:00+00:00"]
pytestmark = pytest.mark.slow  # three `gitml repro` of two models


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> Example:
    ex = build_layout(tmp_path_factory.mktemp("two-models"), "matrix")
    assert ex.gitml("init").returncode == 0
    for old, seed, date in zip(["42", "42", "7"], ["42", "7", "3"], DATES, strict=True):
        ex.set_param(f"seed: {old}", f"seed: {seed}")
        repro = ex.gitml("repro")
        assert repro.returncode == 0, repro.stderr
        ex.git("add", "-A")
        dated = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
        ex.git("commit", "-q", "-m", f"models, seed {seed}", env=dated)
    return ex


def _accuracies(ex: Example, path: str) -> list[tuple[str, float]]:
    """(short sha, accuracy) of the model at each commit, oldest first."""
    shas = ex.git("log", "--reverse", "--format=%H").stdout.split()[1:]  # after the DVC project
    found = []
    for sha in shas:
        metrics = ex.lock(sha)["models"][path]["metrics"]
        found.append((sha[:8], float(metrics["accuracy"])))
    return found


def test_log_plot_one_line_per_model_counting_its_versions(two_models: Example) -> None:
    proc = two_models.gitml("log", "--plot", "accuracy")
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[1]: line for line in proc.stdout.splitlines()}
    assert sorted(lines) == ["lr", "rf"], proc.stdout
    for name, line in lines.items():
        (first, v0), _, (last, v2) = _accuracies(two_models, f"models/{name}.pkl")
        assert line.startswith(f"accuracy  {name}  "), line
        assert f"{first} {v0:g} -> {last} {v2:g}" in line and "3 versions)" in line, line
    assert "6 versions" not in proc.stdout
    one = two_models.gitml("log", "lr", "--plot", "accuracy")
    assert one.stdout.count("versions)") == 1 and "accuracy  lr  " in one.stdout


def test_log_plot_svg_and_png_have_a_series_and_a_legend_entry_per_model(
    two_models: Example, tmp_path: Path
) -> None:
    svg = tmp_path / "acc.svg"
    proc = two_models.gitml("log", "--plot", "accuracy", "--out", str(svg))
    assert proc.returncode == 0, proc.stderr
    assert "rf: 3 versions" in proc.stderr and "lr: 3 versions" in proc.stderr
    root = ET.fromstring(svg.read_text())
    groups = root.findall(f"{SVG}g[@class='series']")
    assert sorted(g.get("data-model") or "" for g in groups) == ["lr", "rf"]
    for g in groups:
        line = g.find(f"{SVG}polyline")
        assert line is not None
        xs = [float(p.split(",")[0]) for p in (line.get("points") or "").split()]
        assert len(xs) == 3 and xs == sorted(xs) and len(set(xs)) == 3  # by commit date
    legend = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    assert {"rf (3 versions)", "lr (3 versions)"} <= legend
    png = tmp_path / "acc.png"
    proc = two_models.gitml("log", "--plot", "accuracy", "--out", str(png))
    if proc.returncode == 2:  # matplotlib not installed: said, with the way out
        assert "--out FILE.svg" in proc.stderr
        return
    assert proc.returncode == 0 and png.read_bytes().startswith(b"\x89PNG"), proc.stderr


def test_report_plots_and_draws_every_model(two_models: Example, tmp_path: Path) -> None:
    md = two_models.gitml("report", "HEAD~2", "HEAD")
    assert md.returncode == 0, md.stderr
    assert "**accuracy** of rf over 3 versions" in md.stdout
    assert "**accuracy** of lr over 3 versions" in md.stdout
    out = tmp_path / "r.html"
    proc = two_models.gitml("report", "HEAD~2", "HEAD", "--format", "html", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    plot = page.split('<div id="plot">', 1)[1].split("</div>", 1)[0]
    alt = re.search(r'alt="([^"]*)"', plot)
    if alt is not None:  # a PNG (matplotlib): its text names each line
        assert alt[1].startswith("accuracy over the history: ")
        assert "rf: 3 versions" in alt[1] and "lr: 3 versions" in alt[1]
    else:
        assert 'data-model="rf"' in plot and 'data-model="lr"' in plot
    lineage = ET.fromstring(page.split("<h2>Lineage</h2>", 1)[1].split("</svg>", 1)[0] + "</svg>")
    names = {
        "".join(g.find(f"{SVG}text").itertext())  # type: ignore[union-attr]
        for g in lineage.iter(f"{SVG}g")
        if "node" in (g.get("class") or "").split()
    }
    assert {"model models/rf.pkl", "model models/lr.pkl"} <= names
