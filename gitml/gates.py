"""Metric gates: `accuracy >= 0.90`, `loss <= baseline.loss + 0.01`, dotted metric keys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitml.errors import BadInput

_NAME = r"[A-Za-z_][\w\-]*(?:\.[\w\-]+)*"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RULE = (
    rf"^\s*(?P<metric>{_NAME})\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    rf"(?:(?P<number>{_NUMBER})|baseline\.(?P<base>{_NAME})\s*(?:(?P<sign>[-+])\s*(?P<delta>{_NUMBER}))?)\s*$"
)  # compiled on first use (re caches it): a commit without gates does not pay for it


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
            f"gate {rule!r} does not parse: write METRIC OP NUMBER or METRIC OP baseline.METRIC [+|- NUMBER], "
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
