"""`gitml report`: Markdown with the Mermaid lineage and the deltas; self-contained HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pngpixels
import pytest
import yaml
from conftest import Example
from test_log_diff import history_template

from gitml import svggraph
from gitml.commands.report import MARKER


@pytest.fixture
def hist(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Example:
    return history_template(example_template, tmp_path_factory)


def test_markdown_report_has_verdict_deltas_and_mermaid(hist: Example) -> None:
    proc = hist.gitml("report", "HEAD~3", "HEAD~2")
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    assert md.startswith(MARKER)
    assert "✅ **all recorded checks passed**" in md
    lock_old = hist.show_file("HEAD~3", "gitml.lock")
    lock_new = hist.show_file("HEAD~2", "gitml.lock")
    acc_old = float(re.search(r"accuracy: ([\d.]+)", lock_old)[1])  # type: ignore[index]
    acc_new = float(re.search(r"accuracy: ([\d.]+)", lock_new)[1])  # type: ignore[index]
    assert (
        f"| model/model.pkl | accuracy | {acc_old:g} | {acc_new:g} | {acc_new - acc_old:+g} |" in md
    )
    assert "| model/model.pkl | params.yaml:train.n_estimators | 3 | 5 |" in md
    block = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("graph LR")
    assert '(["stage train"])' in block and '(["stage prepare"])' in block
    assert '["model model/model.pkl"]' in block and '{{"params.yaml:train"}}' in block
    assert "classDef changed" in block
    ids = dict(re.findall(r'^  (n\d+)[^"\n]*"([^"\n]+)"', block, re.MULTILINE))
    changed = {ids[n] for n in re.findall(r"^  class (n\d+) changed$", block, re.MULTILINE)}
    assert changed == {"model model/model.pkl", "params.yaml:train"}


def test_report_of_code_change_and_to_file(hist: Example, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    proc = hist.gitml("report", "HEAD~1", "HEAD", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    md = out.read_text()
    assert "| model/model.pkl | src/train.py |" in md
    assert "params.yaml:train.max_depth | 2 | 3 |" in md
    assert hist.gitml("report", "--format", "pdf").returncode == 2


def _html(hist: Example, tmp_path: Path) -> Path:
    out = tmp_path / "report.html"
    proc = hist.gitml("report", "HEAD~3", "HEAD", "--format", "html", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_html_report_is_self_contained(hist: Example, tmp_path: Path) -> None:
    text = _html(hist, tmp_path).read_text()
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text
    assert not re.search(r"(src|href)=\"(https?:)?//", text), "no external resources"
    assert "<script" not in text
    assert 'id="plot"' in text and ("<svg" in text or "data:image/png;base64," in text)
    assert "accuracy" in text and "n_estimators" in text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="lineage"' in text
    assert "graph LR" not in text, "the lineage is drawn, not shown as Mermaid source"


def _mermaid_nodes(md: str) -> tuple[set[str], set[str]]:
    """The node labels of the report's Mermaid graph, and those of its changed nodes."""
    block = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    ids = dict(re.findall(r'^  (n\d+)[^"\n]*"([^"\n]+)"', block, re.MULTILINE))
    changed = {ids[n] for n in re.findall(r"^  class (n\d+) changed$", block, re.MULTILINE)}
    return set(ids.values()), changed


class _LineageNodes(HTMLParser):
    """The drawn lineage nodes of a DOM: the text of each `<g class="node …">`, and whether it
    is `changed`."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[tuple[str, bool]] = []
        self._node: list[str] | None = None  # the classes of the node being read
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "g" and "node" in classes:
            self._node = classes
        elif tag == "text" and self._node is not None:
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "text" and self._node is not None and self._text is not None:
            self.nodes.append(("".join(self._text), "changed" in self._node))
            self._node = self._text = None


@pytest.mark.slow  # a browser start: 5-20 s; the SVG's shape has fast unit tests (tests/unit/test_svggraph.py)
def test_html_report_draws_the_lineage_in_headless_chromium(hist: Example, tmp_path: Path) -> None:
    """Offline (the page has no script and no external resource): the browser draws the SVG,
    a box per node of the Mermaid graph, the changed ones in the highlight colour."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (`apt-get install -y chromium`)")
    page = _html(hist, tmp_path)
    shot = tmp_path / "shot.png"
    dom = subprocess.run(
        [
            browser,
            *("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,2800"),
            f"--screenshot={shot}",
            "--dump-dom",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    drawn = _LineageNodes()
    drawn.feed(dom)
    names, changed = _mermaid_nodes(hist.gitml("report", "HEAD~3", "HEAD").stdout)
    assert sorted(n for n, _ in drawn.nodes) == sorted(names)
    assert {n for n, is_changed in drawn.nodes if is_changed} == changed
    assert changed == {"model model/model.pkl", "params.yaml:train", "src/train.py"}
    colours = pngpixels.colour_counts(shot)
    assert len(colours) > 50, "the page rendered (almost) one colour"
    fill = tuple(int(svggraph.CHANGED[0][i : i + 2], 16) for i in (1, 3, 5))
    assert colours[fill] > 3 * 1000, "the changed nodes are not drawn highlighted"
    stage = tuple(int(svggraph.STYLES["stage"][0][i : i + 2], 16) for i in (1, 3, 5))
    assert colours[stage] > 2 * 1000, "the stages are not drawn"


def test_report_compares_with_what_production_holds(hist: Example) -> None:
    """A pull request is judged against production too, not only against its base branch
    (the history's `wine-classifier#production#1`, made by hand as `gto assign` would, is on
    HEAD~2, which has no version tag)."""
    md = hist.gitml("report", "HEAD~1", "HEAD").stdout
    assert "### Against the registry (what each stage holds now)" in md
    prod, head = (hist.show_file(r, "gitml.lock") for r in ("HEAD~2", "HEAD"))
    acc_prod = float(re.search(r"accuracy: ([\d.]+)", prod)[1])  # type: ignore[index]
    acc_head = float(re.search(r"accuracy: ([\d.]+)", head)[1])  # type: ignore[index]
    sha = hist.git("rev-parse", "--short=8", "HEAD~2").stdout.strip()
    row = (
        f"| wine-classifier | production | - ({sha}) | accuracy | {acc_prod:g} | "
        f"{acc_head:g} | {acc_head - acc_prod:+g} |"
    )
    assert row in md, md


def test_report_json_gives_the_same_figures_as_numbers(hist: Example) -> None:
    proc = hist.gitml("report", "HEAD~1", "HEAD", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {
        *("base", "head", "verdict", "failed", "unchecked", "diff"),
        *("registry", "series", "lineage", "hypotheses", "slices", "unread", "left_out"),
    }
    short = [hist.git("rev-parse", "--short=8", r).stdout.strip() for r in ("HEAD~1", "HEAD")]
    assert [doc["base"], doc["head"]] == short
    assert doc["verdict"] == "passed" and doc["failed"] == doc["unchecked"] == []
    lock = {r: yaml.safe_load(hist.show_file(r, "gitml.lock")) for r in ("HEAD~2", "HEAD")}
    acc = {r: lock[r]["models"]["model/model.pkl"]["metrics"]["accuracy"] for r in lock}
    model = doc["diff"]["models"]["model/model.pkl"]
    assert model["params"]["params.yaml:train.max_depth"] == {"old": 2, "new": 3}
    [row] = [r for r in doc["registry"] if r["metric"] == "accuracy"]
    assert row["model"] == "wine-classifier" and row["stage"] == "production"
    assert row["rev"] == hist.git("rev-parse", "HEAD~2").stdout.strip() and row["version"] is None
    assert (row["stage_value"], row["value"]) == (acc["HEAD~2"], acc["HEAD"])
    assert row["delta"] == pytest.approx(acc["HEAD"] - acc["HEAD~2"])
    [series] = doc["series"]
    assert series["metric"] == "accuracy" and len(series["points"]) == 3
    assert all(isinstance(p["value"], float) for p in series["points"])
    assert doc["lineage"].startswith("graph LR")
    both = hist.gitml("report", "--json", "--format", "html")
    assert both.returncode == 2 and "--json or --format html" in both.stderr
