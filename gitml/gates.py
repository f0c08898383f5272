"""Metric gates: `accuracy >= 0.90`, `loss <= baseline.loss + 0.01`, dotted metric keys.

A gate compares one figure of the model's metrics with a fixed number, or with a figure of the
baseline's metrics moved by a delta. Its verdict is what gitml.lock records under `gates:`:
`{rule, value, baseline, threshold, passed}` (baseline: the sha the gate was resolved against,
null for a fixed threshold or when there is no baseline yet; a relative gate without a baseline
figure passes, its threshold null: "no baseline (skipped)").
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gitml import params
from gitml.errors import BadInput
from gitml.fileio import round_sig
from gitml.lockfile import Gate as Verdict

_NAME = r"[A-Za-z_][\w\-]*(?:\.[\w\-]+)*"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RULE = (
    rf"^\s*(?P<metric>{_NAME})\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    rf"(?:(?P<number>{_NUMBER})"
    rf"|baseline\.(?P<base>{_NAME})\s*(?:(?P<sign>[-+])\s*(?P<delta>{_NUMBER}))?)\s*$"
)  # compiled on first use (re caches it): a commit without gates does not pay for it
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Gate:
    rule: str
    metric: str
    op: str
    threshold: float | None  # a fixed number, or None when relative to the baseline
    baseline_metric: str | None
    delta: float


def parse(rule: str) -> Gate:
    m = re.match(_RULE, rule or "")
    if not m:
        raise BadInput(
            f"gate {rule!r} does not parse: write METRIC OP NUMBER or "
            "METRIC OP baseline.METRIC [+|- NUMBER], "
            "e.g. `accuracy >= 0.9` or `accuracy >= baseline.accuracy - 0.01`"
        )
    delta = float(m["delta"]) if m["delta"] else 0.0
    if m["sign"] == "-":
        delta = -delta
    return Gate(
        rule=rule.strip(),
        metric=m["metric"],
        op=m["op"],
        threshold=float(m["number"]) if m["number"] is not None else None,
        baseline_metric=m["base"],
        delta=delta,
    )


def metric_names(metrics: Any) -> list[str]:
    """Dotted names of the numeric figures in a metrics document."""
    return [
        name
        for name, value in params.flatten(metrics or {}).items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]


def figure(metrics: Any, name: str) -> float | None:
    """The number at dotted `name` in a metrics document (None: absent or not a number)."""
    value = params.lookup(metrics, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _value(
    gate: Gate, metrics: dict[str, Any], model: str, metrics_file: str | None, unread: str | None
) -> float:
    """The gate's figure of the metrics; bad input when they lack a figure the gate names (the
    baseline's side too: both sides are figures of one metrics file)."""
    for name in (gate.metric, gate.baseline_metric):
        if name is None or figure(metrics, name) is not None:
            continue
        if unread and name == gate.metric:
            raise BadInput(f"gate {gate.rule!r} of model {model!r} cannot be evaluated: {unread}")
        existing = ", ".join(metric_names(metrics)) or "none"
        if name.startswith("tests."):  # a figure of the tests: `gitml_metric`, not the file
            raise BadInput(
                f"gate {gate.rule!r} of model {model!r} names {name!r}, which its model tests "
                f"did not record (`gitml_metric({name[6:]!r}, value)`; recorded: {existing})"
            )
        raise BadInput(
            f"gitml.yaml: gate {gate.rule!r} of model {model!r} names metric {name!r}, "
            f"which {metrics_file} does not have (its metrics: {existing})"
        )
    return float(params.lookup(metrics, gate.metric))


def threshold_of(
    gate: Gate, baseline_rev: str | None, baseline_metrics: dict[str, Any] | None
) -> float | None:
    """The fixed number, or the baseline's figure moved by the delta (None: no baseline)."""
    if gate.baseline_metric is None:
        return gate.threshold
    was = figure(baseline_metrics or {}, gate.baseline_metric) if baseline_rev else None
    return None if was is None else round_sig(was + gate.delta)


def holds(op: str, value: float, threshold: float) -> bool:
    """Whether `value OP threshold` (op one of the gate grammar's)."""
    return _OPS[op](value, threshold)


def evaluate(
    rules: Sequence[str],
    metrics: dict[str, Any],
    baseline_rev: str | None,
    baseline_metrics: dict[str, Any] | None,
    *,
    model: str,
    metrics_file: str | None,
    unread: str | None = None,
) -> list[Verdict]:
    """Each gate's verdict, as gitml.lock records it. `model`, `metrics_file`: the gitml.yaml
    names messages use; `unread`: why the metrics file could not be read, if so."""
    parsed = [parse(rule) for rule in rules]
    if not metrics_file and any(not g.metric.startswith("tests.") for g in parsed):
        raise BadInput(f"gitml.yaml: model {model!r} has gates but no `metrics:` file to read")
    records = []
    for gate in parsed:
        value = round_sig(_value(gate, metrics, model, metrics_file, unread))
        threshold = threshold_of(gate, baseline_rev, baseline_metrics)
        passed = threshold is None or holds(gate.op, value, round_sig(threshold))
        records.append(
            Verdict(
                rule=gate.rule,
                value=value,
                baseline=baseline_rev if gate.baseline_metric is not None else None,
                threshold=threshold,
                passed=bool(passed),
            )
        )
    return records


def table(records: Sequence[Verdict]) -> str:
    """The verdicts as a plain fixed-width table (the hook prints it; no rich there)."""
    rows = [("gate", "value", "baseline", "threshold", "result")]
    for g in records:
        threshold = g.threshold
        rows.append(
            (
                str(g.rule),
                f"{g.value:g}",
                str(g.baseline)[:12] if g.baseline else "-",
                "no baseline (skipped)" if threshold is None else f"{threshold:g}",
                "pass" if g.passed else "FAIL",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join(
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )


def recorded_pass(rules: Sequence[str], recorded: Sequence[Verdict] | None) -> bool:
    """Whether recorded verdicts are of exactly these rules, and all passed."""
    records = recorded or []
    if [g.rule for g in records] != list(rules):
        return False
    return all(g.passed for g in records)


def recorded_problems(
    model: str, rules: Sequence[str], recorded: Sequence[Verdict] | None
) -> list[str]:
    """Why recorded verdicts do not let the model's gates pass (empty: they do)."""
    records = recorded or []
    problems = []
    if rules and [g.rule for g in records] != list(rules):
        problems.append(f"{model}: no recorded results for its gates")
    problems.extend(
        f"{model}: gate `{g.rule}` failed (value {g.value}, threshold {g.threshold})"
        for g in records
        if not g.passed
    )
    return problems


def recorded_mismatches(
    model: str, rules: Sequence[str], recorded: Sequence[Verdict] | None, metrics: Any
) -> list[str]:
    """Where recorded verdicts are not about the lock they are in: other rules than gitml.yaml's,
    a value other than the recorded metrics', a verdict its own value and threshold contradict.
    Each verdict is written with its model's inputs, but a merge made without gitml's merge
    driver (a host's merge button) can take the rules from one side and the metrics from the
    other. Empty for a lock gitml wrote; nothing is said about a model without recorded gates
    (recorded_problems tells that)."""
    records = list(recorded or [])
    if not records:
        return []
    where = f"models.{model}.gates"
    found = [g.rule for g in records]
    if found != list(rules):
        return [f"{where}: recorded for {found}, gitml.yaml has {list(rules)}"]
    problems = []
    for g in records:
        problem = _contradiction(g, metrics)
        if problem:
            problems.append(f"{where}[{g.rule}]: {problem}")
    return problems


def _contradiction(record: Verdict, metrics: Any) -> str | None:
    """What in one recorded verdict disagrees with the metrics beside it, or with itself."""
    try:
        gate = parse(str(record.rule))
    except BadInput:
        return "the rule does not parse"
    value, threshold = record.value, record.threshold
    figure_now = figure(metrics or {}, gate.metric)
    if figure_now is None:
        return f"the recorded metrics have no {gate.metric}"
    if isinstance(value, (int, float)) and round_sig(float(value)) != round_sig(figure_now):
        return f"value {value}, but the recorded metrics say {gate.metric} {figure_now:g}"
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        return None  # a relative gate without a baseline figure passes (and older locks)
    held = holds(gate.op, round_sig(figure_now), round_sig(float(threshold)))
    if bool(record.passed) != held:
        verdict = "passed" if record.passed else "failed"
        judged = f"{gate.metric} {figure_now:g} {gate.op} {threshold:g}"
        return f"recorded as {verdict}, but {judged} is {held}"
    return None
