"""Issue 20 part 3: a commit's `Hypothesis:` and `Expected:` trailers, shown by `gitml log` and
`gitml report` with the metric deltas and whether the expectation held against the parent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Example, built_once, copy_example

# one retrained history per run; the rules are in tests/unit/test_hypotheses.py
pytestmark = pytest.mark.slow


def _retrain(ex: Example, old: str, new: str, message: str) -> None:
    ex.set_param(old, new)
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", message)


def build_hypotheses(template: Example, base: Path) -> Example:
    """Three retrainings: a confirmed, a refuted and an unjudgeable expectation; then a docs
    commit stating a hypothesis but building no model."""
    ex = copy_example(template, base)
    ex.without_model_checks()
    ex.git("commit", "-q", "-am", "no model checks")
    _retrain(
        ex,
        "n_estimators: 3",
        "n_estimators: 4",
        "more trees\n\nHypothesis: more trees do not hurt\n"
        "Expected: accuracy >= baseline.accuracy - 1\n",
    )
    _retrain(
        ex,
        "max_depth: 2",
        "max_depth: 3",
        "deeper\n\nHypothesis: deeper trees gain a whole point\n"
        "Expected: accuracy >= baseline.accuracy + 1\n",
    )
    _retrain(
        ex,
        "n_estimators: 4",
        "n_estimators: 5",
        "f1\n\nHypothesis: f1 improves\nExpected: f1 >= baseline.f1\n",
    )
    (ex.root / "README.md").write_text("words\n")
    ex.git("add", "README.md")
    ex.git("commit", "-q", "-m", "docs\n\nHypothesis: docs train nothing\n")
    return ex


@pytest.fixture
def hyp(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Example:
    return built_once(
        tmp_path_factory, "hypotheses", lambda d: build_hypotheses(example_template, d / "ex")
    )


def test_log_shows_each_hypothesis_judged_against_the_parent(hyp: Example) -> None:
    proc = hyp.gitml("log", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["subject"]: r for r in json.loads(proc.stdout)}
    confirmed = rows["more trees"]["hypothesis"]
    assert confirmed["text"] == "more trees do not hurt"
    assert confirmed["verdict"] == "confirmed"
    (record,) = confirmed["judged"]
    assert record["held"] is True and record["rule"] == "accuracy >= baseline.accuracy - 1"
    assert set(confirmed["deltas"]) == {"accuracy", "f1_macro"}
    assert rows["deeper"]["hypothesis"]["verdict"] == "refuted"
    unjudged = rows["f1"]["hypothesis"]
    assert unjudged["verdict"] == "not judged"
    assert unjudged["reason"] == "the model records no metric 'f1'"
    assert rows["first model"]["hypothesis"] is None
    text = hyp.gitml("log").stdout  # piped: whole lines
    assert "hypothesis: deeper trees gain a whole point [refuted]" in text


def test_report_lists_the_hypotheses_of_the_range(hyp: Example) -> None:
    proc = hyp.gitml("report", "HEAD~4", "HEAD")
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout[proc.stdout.index("### Hypotheses") :]
    assert "| more trees do not hurt | accuracy &gt;= baseline.accuracy - 1 | confirmed |" in table
    assert "deeper trees gain a whole point" in table and "| refuted |" in table
    assert "not judged: the model records no metric 'f1'" in table
    assert "| – | docs train nothing | – | not judged: the commit built no model |" in table
