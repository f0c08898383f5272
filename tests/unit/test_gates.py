"""gitml/gates.py: gate rules parsed and judged against metrics and a baseline, in process."""

from __future__ import annotations

from typing import Any

import pytest

from gitml import gates
from gitml.errors import BadInput
from gitml.lockfile import Gate as Verdict
from gitml.records import plain

PARENT = "a" * 40


def judge(
    rule: str,
    metrics: dict[str, Any],
    baseline: dict[str, Any] | None = None,
    rev: str | None = PARENT,
    unread: str | None = None,
) -> Verdict:
    [verdict] = gates.evaluate(
        [rule],
        metrics,
        rev,
        baseline,
        model="model/model.pkl",
        metrics_file="metrics.json",
        unread=unread,
    )
    return verdict


def test_a_drop_past_the_allowed_delta_fails_and_within_it_passes() -> None:
    rule = "accuracy >= baseline.accuracy - 0.01"
    within = judge(rule, {"accuracy": 0.945}, {"accuracy": 0.95})
    assert within == Verdict(rule=rule, value=0.945, baseline=PARENT, threshold=0.94, passed=True)
    past = judge(rule, {"accuracy": 0.93}, {"accuracy": 0.95})
    assert past.threshold == 0.94 and past.passed is False


def test_fixed_minimum_and_maximum() -> None:
    assert judge("accuracy >= 0.9", {"accuracy": 0.9}).passed is True  # the bound holds
    low = judge("accuracy >= 0.9", {"accuracy": 0.899})
    assert plain(low) == {
        "rule": "accuracy >= 0.9",
        "value": 0.899,
        "baseline": None,  # a fixed threshold resolves against no commit
        "threshold": 0.9,
        "passed": False,
    }
    assert judge("loss <= 0.2", {"loss": 0.21}).passed is False
    assert judge("loss < 0.2", {"loss": 0.2}).passed is False
    assert judge("loss <= 0.2", {"loss": 0.2}).passed is True


def test_a_rise_allowed_on_a_dotted_metric() -> None:
    metrics = {"eval": {"loss": 0.305}}
    verdict = judge("eval.loss <= baseline.eval.loss + 0.01", metrics, {"eval": {"loss": 0.3}})
    assert verdict.threshold == 0.31 and verdict.passed is True


def test_figures_are_compared_at_six_significant_digits() -> None:
    """0.1 + 0.2 is 0.30000000000000004 in floats: not above a threshold of 0.3."""
    verdict = judge("score <= baseline.score + 0.2", {"score": 0.3}, {"score": 0.1})
    assert verdict.threshold == 0.3 and verdict.passed is True


def test_a_metric_the_metrics_lack_is_bad_input_naming_those_there() -> None:
    with pytest.raises(BadInput, match=r"names metric 'precision', which metrics.json does not"):
        judge("precision >= 0.5", {"accuracy": 0.9, "nested": {"f1": 0.8}, "flag": True})
    with pytest.raises(BadInput, match=r"its metrics: accuracy, nested.f1\)"):
        judge("precision >= 0.5", {"accuracy": 0.9, "nested": {"f1": 0.8}, "flag": True})
    # the baseline's side names a figure of the same file
    with pytest.raises(BadInput, match="names metric 'recall'"):
        judge("accuracy >= baseline.recall", {"accuracy": 0.9}, {"recall": 0.5})


def test_metrics_that_could_not_be_read_say_why() -> None:
    with pytest.raises(BadInput, match="cannot be evaluated: metrics.json is not in the cache"):
        judge("accuracy >= 0.9", {}, unread="metrics.json is not in the cache")


def test_a_parent_without_the_metric_skips_the_gate_and_says_so() -> None:
    rule = "accuracy >= baseline.accuracy - 0.01"
    no_figure = judge(rule, {"accuracy": 0.5}, {"loss": 0.1})
    assert no_figure.threshold is None and no_figure.passed is True
    assert no_figure.baseline == PARENT
    no_commit = judge(rule, {"accuracy": 0.5}, None, rev=None)
    assert plain(no_commit) == {
        "rule": rule,
        "value": 0.5,
        "baseline": None,
        "threshold": None,
        "passed": True,
    }
    assert "no baseline (skipped)" in gates.table([no_figure])


def test_gates_without_a_metrics_file_are_bad_input() -> None:
    with pytest.raises(BadInput, match="has gates but no `metrics:` file"):
        gates.evaluate(["a >= 1"], {"a": 2}, None, None, model="m.pkl", metrics_file=None)


@pytest.mark.parametrize("rule", ["accuracy >>= 1", "accuracy >= ", ">= 0.9", "a >= baseline."])
def test_rules_that_do_not_parse(rule: str) -> None:
    with pytest.raises(BadInput, match="does not parse"):
        gates.parse(rule)


def test_parse_reads_sign_and_delta() -> None:
    gate = gates.parse("  loss <= baseline.loss + 1e-2 ")
    assert (gate.rule, gate.metric, gate.op, gate.baseline_metric) == (
        "loss <= baseline.loss + 1e-2",
        "loss",
        "<=",
        "loss",
    )
    assert gate.delta == 0.01 and gate.threshold is None
    assert gates.parse("a >= baseline.a - 2").delta == -2.0


def test_table_lines_up_each_verdict() -> None:
    records = [
        judge("accuracy >= 0.9", {"accuracy": 0.95}),
        judge("accuracy >= baseline.accuracy - 0.01", {"accuracy": 0.9}, {"accuracy": 0.95}),
    ]
    lines = gates.table(records).splitlines()
    assert lines[0].split() == ["gate", "value", "baseline", "threshold", "result"]
    assert lines[1].split()[-3:] == ["-", "0.9", "pass"]
    assert lines[2].split()[-3:] == [PARENT[:12], "0.94", "FAIL"]
    column = lines[0].index("value")  # the value column lines up
    assert lines[1][column:].startswith("0.95") and lines[2][column:].startswith("0.9 ")


def test_recorded_verdicts_hold_only_for_the_same_rules_all_passed() -> None:
    passed = [Verdict(rule="a >= 1", passed=True)]
    assert gates.recorded_pass(["a >= 1"], passed)
    assert not gates.recorded_pass(["a >= 2"], passed)  # the rule changed
    failing = [Verdict(rule="a >= 1", passed=False)]
    assert not gates.recorded_pass(["a >= 1"], failing)
    assert not gates.recorded_pass(["a >= 1"], None)
    assert gates.recorded_pass([], None)
    failed = [Verdict(rule="a >= 1", passed=False, value=0.5, threshold=1.0)]
    assert gates.recorded_problems("m.pkl", ["a >= 1"], failed) == [
        "m.pkl: gate `a >= 1` failed (value 0.5, threshold 1.0)"
    ]
    assert gates.recorded_problems("m.pkl", ["a >= 1"], None) == [
        "m.pkl: no recorded results for its gates"
    ]
    assert gates.recorded_problems("m.pkl", ["a >= 1"], passed) == []


def test_recorded_verdicts_that_contradict_their_lock_are_named() -> None:
    """A merge without gitml's driver can take the rule from one side and the metrics from the
    other: the verdict is then not about the lock it is in."""
    rule = "accuracy >= 0.82"
    verdict = judge(rule, {"accuracy": 0.84}, rev=None)
    assert gates.recorded_mismatches("m.pkl", [rule], [verdict], {"accuracy": 0.84}) == []
    assert gates.recorded_mismatches("m.pkl", [rule], None, {"accuracy": 0.84}) == []
    # the other side retrained: its metrics merged in, the rule's verdict from this side
    merged = Verdict(rule=rule, value=None, baseline=None, threshold=0.82, passed=True)
    assert gates.recorded_mismatches("m.pkl", [rule], [merged], {"accuracy": 0.78}) == [
        "models.m.pkl.gates[accuracy >= 0.82]: recorded as passed, but accuracy 0.78 >= 0.82 "
        "is False"
    ]
    assert gates.recorded_mismatches("m.pkl", [rule], [verdict], {"accuracy": 0.9}) == [
        "models.m.pkl.gates[accuracy >= 0.82]: value 0.84, but the recorded metrics say "
        "accuracy 0.9"
    ]
    assert gates.recorded_mismatches("m.pkl", ["accuracy >= 0.5"], [verdict], {}) == [
        "models.m.pkl.gates: recorded for ['accuracy >= 0.82'], gitml.yaml has ['accuracy >= 0.5']"
    ]
