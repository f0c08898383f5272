"""`gitml report`: Markdown with the Mermaid lineage and the deltas; self-contained HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import Example
from test_log_diff import build_history

from gitml.commands.report import MARKER


@pytest.fixture
def hist(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Example:
    return build_history(example_template, tmp_path_factory.mktemp("history") / "ex")


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
    assert "accuracy" in text and "graph LR" in text and "n_estimators" in text


def test_html_report_renders_in_headless_chromium(hist: Example, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (`apt-get install -y chromium`)")
    page = _html(hist, tmp_path)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1000,1600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000, "screenshot is blank"
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50, "the page rendered (almost) one colour"


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
        *("registry", "series", "lineage", "unread", "left_out"),
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
    series = doc["series"]
    assert series["model"] == "model/model.pkl" and len(series["points"]) == 3
    assert all(isinstance(p["value"], float) for p in series["points"])
    assert doc["lineage"].startswith("graph LR")
    both = hist.gitml("report", "--json", "--format", "html")
    assert both.returncode == 2 and "--json or --format html" in both.stderr
