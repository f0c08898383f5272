"""gitml/hypotheses.py: Hypothesis:/Expected: trailers, judged against the parent's metrics."""

from __future__ import annotations

from gitml import hypotheses
from gitml.hypotheses import CONFIRMED, NOT_JUDGED, REFUTED, Stated, judge

METRICS = {"accuracy": 0.93, "roc_auc": {"test": 0.81}}
PARENT = {"accuracy": 0.90, "roc_auc": {"test": 0.80}}


def test_trailer_fields_become_one_hypothesis_and_each_expectation() -> None:
    claim = hypotheses.stated("deeper trees\x1dand more of them\n", "accuracy > 0.9\x1d\x1d")
    assert claim == Stated("deeper trees / and more of them", ("accuracy > 0.9",))
    assert not hypotheses.stated("", "")


def test_every_expectation_held_is_confirmed_with_the_metric_deltas() -> None:
    claim = Stated("bigger", ("roc_auc.test >= baseline.roc_auc.test + 0.01", "accuracy > 0.9"))
    judged = judge(claim, METRICS, PARENT)
    assert judged.verdict == CONFIRMED and judged.reason is None
    assert judged.judged[0] == {
        "rule": "roc_auc.test >= baseline.roc_auc.test + 0.01",
        "value": 0.81,
        "threshold": 0.81,
        "held": True,
    }
    assert judged.deltas == {"accuracy": 0.03, "roc_auc.test": 0.01}


def test_one_expectation_missed_is_refuted() -> None:
    claim = Stated("bigger", ("accuracy > 0.9", "accuracy >= baseline.accuracy + 0.05"))
    judged = judge(claim, METRICS, PARENT)
    assert judged.verdict == REFUTED
    assert [r["held"] for r in judged.judged] == [True, False]


def test_what_cannot_be_judged_says_why() -> None:
    cases = {
        "f1 >= 0.5": "the model records no metric 'f1'",
        "accuracy >= baseline.f1": "the parent records no metric 'f1'",
        "accuracy is better": "Expected: gate 'accuracy is better' does not parse",
    }
    for rule, reason in cases.items():
        judged = judge(Stated("x", (rule,)), METRICS, PARENT)
        assert judged.verdict == NOT_JUDGED and (judged.reason or "").startswith(reason), rule
    first = judge(Stated("x", ("accuracy >= baseline.accuracy",)), METRICS, None)
    assert first.reason == "the parent commit records no version of this model"


def test_a_hypothesis_without_expectation_is_recorded_unjudged() -> None:
    judged = judge(Stated("just trying", ()), METRICS, PARENT)
    assert judged.verdict is None and judged.summary() == "just trying [no expectation stated]"
