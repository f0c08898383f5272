"""gitml.yaml `slices:` and the figures model tests record (gitml/slices.py), and the gates that
read them (gitml/gates.py): pure functions, no repository."""

from __future__ import annotations

import pytest

from gitml import config, gates, slices
from gitml.errors import BadInput
from gitml.lockfile import ModelTests

YAML = """version: 1
models:
  - path: model.pkl
    tests: tests
    gates: [tests.slices.short.auc >= 0.7]
    slices:
      data: data/x.csv
      by: {%s}
"""


def test_slices_parse_in_order() -> None:
    cfg = config.parse(YAML % '"short": "length < 10", long: "length >= 10"')
    assert cfg.models[0].slices == slices.Slices(
        "data/x.csv", (("short", "length < 10"), ("long", "length >= 10"))
    )


@pytest.mark.parametrize(
    "by, said",
    [
        ("", "`by` must map"),
        ('"a b": "x > 1"', "slice name 'a b'"),
        ('short: ""', "slice 'short': its query must be"),
        ("short: 3", "slice 'short': its query must be"),
    ],
)
def test_bad_slices_name_file_line_and_key(by: str, said: str) -> None:
    with pytest.raises(BadInput) as exc:
        config.parse(YAML % by)
    assert "gitml.yaml: line 7, key 'models[0].slices'" in str(exc.value)
    assert said in str(exc.value)


def test_slices_data_must_stay_inside_the_repository() -> None:
    with pytest.raises(BadInput, match="models\\[0\\].slices"):
        config.parse((YAML % "a: x > 1").replace("data/x.csv", "../x.csv"))


def test_test_metrics_join_the_model_metrics_for_gates() -> None:
    recorded = slices.nested({"auc": 0.9, "slices.short.auc": 0.8, "slices.long.auc": 0.95})
    assert recorded == {"auc": 0.9, "slices": {"long": {"auc": 0.95}, "short": {"auc": 0.8}}}
    metrics = slices.with_test_metrics({"accuracy": 0.97}, ModelTests(passed=3, metrics=recorded))
    base = slices.with_test_metrics({"accuracy": 0.97}, ModelTests(metrics={"auc": 0.93}))
    verdicts = gates.evaluate(
        ["tests.slices.short.auc >= 0.75", "tests.auc >= baseline.tests.auc - 0.02"],
        metrics,
        "b" * 40,
        base,
        model="model.pkl",
        metrics_file="metrics.json",
    )
    assert [(g.value, g.threshold, g.passed) for g in verdicts] == [
        (0.8, 0.75, True),
        (0.9, 0.91, False),
    ]
    assert slices.slice_figures(recorded) == {"long": {"auc": 0.95}, "short": {"auc": 0.8}}


def test_a_gate_on_a_figure_no_test_recorded_says_so() -> None:
    with pytest.raises(BadInput, match="did not record .`gitml_metric\\('auc', value\\)`"):
        gates.evaluate(["tests.auc >= 0.5"], {}, None, None, model="m", metrics_file=None)
