"""Figures from model tests (`gitml_metric`) and slices (`gitml_slices`), end to end: gitml.lock
keeps them as `tests.*`, gates read them (against the baseline too), a slice gate blocks a
commit, a slice that selects nothing or whose query fails is bad input (exit 2) naming it, and
`gitml report` shows the per-slice figures against the base."""

from __future__ import annotations

import json

import pytest

from conftest import Example

SLICE_TEST = """
def test_accuracy_per_slice(gitml_model, gitml_slices, gitml_metric):
    for name, rows in gitml_slices:
        predicted = gitml_model.predict(rows.drop(columns=["target"]))
        gitml_metric("accuracy", float((predicted == rows["target"]).mean()), slice=name)
        gitml_metric("rows", len(rows), slice=name)
    gitml_metric("slice_count", len(gitml_slices))
"""

CONFIG = """version: 1
data:
  - path: data/wine.csv
models:
  - path: model/model.pkl
    name: wine-classifier
    metrics: metrics.json
    tests: tests/model
    gates:
      - accuracy >= 0.9
      - tests.slice_count >= 2
      - tests.slices.strong.accuracy >= baseline.tests.slices.strong.accuracy - 0.02
{extra}    slices:
      data: data/prepared/test.csv
      by:
        strong: "alcohol > {strong}"
        light: "alcohol <= {cut}"
"""


def _configure(ex: Example, cut: str = "13", extra: str = "", strong: str = "13") -> None:
    (ex.root / "gitml.yaml").write_text(CONFIG.format(cut=cut, extra=extra, strong=strong))
    (ex.root / "tests" / "model" / "test_slices.py").write_text(SLICE_TEST)
    ex.git("add", "-A")


@pytest.mark.slow  # two runs of the model tests
def test_bad_slices_exit_2_naming_the_slice(example: Example) -> None:
    _configure(example, strong="1000")  # `alcohol > 1000`: no wine is that strong
    proc = example.gitml("test")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "slice 'strong' of model model/model.pkl" in proc.stderr
    assert "selects no rows" in proc.stderr and "Traceback" not in proc.stderr
    _configure(example, strong="13 +")  # a query that does not parse
    proc = example.gitml("test")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "slice 'strong' of model model/model.pkl" in proc.stderr
    assert "the query fails" in proc.stderr


@pytest.mark.slow
def test_slice_figures_gate_commits_and_show_in_the_report(example: Example) -> None:
    _configure(example)
    commit = example.git("commit", "-q", "-m", "slices", check=False)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    tests = example.lock()["models"]["model/model.pkl"]["tests"]
    figures = tests["metrics"]
    assert figures["slice_count"] == 2
    assert set(figures["slices"]) == {"strong", "light"}
    gates = example.lock()["models"]["model/model.pkl"]["gates"]
    strong = next(g for g in gates if "strong" in g["rule"])
    assert strong["passed"] and strong["value"] == figures["slices"]["strong"]["accuracy"]
    assert example.gitml("lock", "--check").returncode == 0  # figures are results, not inputs

    # a slice gate that fails blocks the commit and leaves it unmade
    head = example.head()
    _configure(example, extra="    # stricter\n", cut="13")
    text = (example.root / "gitml.yaml").read_text()
    text = text.replace(
        "      - tests.slice_count >= 2\n", "      - tests.slices.light.accuracy > 1\n"
    )
    (example.root / "gitml.yaml").write_text(text)
    example.git("add", "gitml.yaml")
    blocked = example.git("commit", "-q", "-m", "stricter", check=False)
    assert blocked.returncode != 0
    assert "tests.slices.light.accuracy > 1" in blocked.stderr and "FAIL" in blocked.stderr
    assert example.head() == head

    # another light slice: the report shows each slice's figures against the base (the
    # strong slice is as it was: its gate against the parent holds)
    _configure(example, cut="12.5")
    commit = example.git("commit", "-q", "-m", "other slices", check=False)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    report = example.gitml("report", "HEAD~1", "HEAD")
    assert report.returncode == 0, report.stderr
    assert "Slices" in report.stdout
    before = example.lock("HEAD~1")["models"]["model/model.pkl"]["tests"]["metrics"]
    after = example.lock()["models"]["model/model.pkl"]["tests"]["metrics"]
    # a new query alone runs the tests again: `alcohol <= 12.5` holds fewer wines
    assert after["slices"]["light"]["rows"] < before["slices"]["light"]["rows"]
    row = next(line for line in report.stdout.splitlines() if "| light | rows |" in line)
    was, now = before["slices"]["light"]["rows"], after["slices"]["light"]["rows"]
    assert f"| {was:g} | {now:g} | {now - was:+g} |" in row
    doc = json.loads(example.gitml("report", "HEAD~1", "HEAD", "--json").stdout)
    [light] = [r for r in doc["slices"] if (r["slice"], r["metric"]) == ("light", "rows")]
    assert (light["base"], light["this"], light["delta"]) == (was, now, now - was)
