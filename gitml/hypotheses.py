"""Why a model version was built: the `Hypothesis:` trailer of the commit that built it, and
whether its `Expected:` trailers held against the parent commit's metrics.

`Expected:` uses the gate grammar (gitml/gates.py), `baseline.` naming the parent's figure:
`Expected: roc_auc.test >= baseline.roc_auc.test + 0.01`. The commit message is the record:
nothing is written to gitml.lock, so a hypothesis stays with the commit through rebase and
cherry-pick, and `git log` shows it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import gates, git, lockfile
from gitml.errors import BadInput, GitmlError
from gitml.fileio import round_sig

CONFIRMED, REFUTED, NOT_JUDGED = "confirmed", "refuted", "not judged"
# `git log --format`: the trailers' values, unfolded, several joined by \x1d
TRAILER_FORMAT = (
    "%(trailers:key=Hypothesis,valueonly,unfold,separator=%x1d)%x1f"
    "%(trailers:key=Expected,valueonly,unfold,separator=%x1d)"
)


@dataclass(frozen=True)
class Stated:
    """What a commit message states: the hypothesis and the expectations (trailers)."""

    text: str | None = None
    expected: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.text or self.expected)


def stated(hypothesis_field: str, expected_field: str) -> Stated:
    """The two fields TRAILER_FORMAT gives for a commit."""
    texts = [t.strip() for t in hypothesis_field.split("\x1d") if t.strip()]
    expected = tuple(e.strip() for e in expected_field.split("\x1d") if e.strip())
    return Stated(" / ".join(texts) or None, expected)


@dataclass(frozen=True)
class Hypothesis:
    """A stated hypothesis, judged: `verdict` is confirmed (every expectation held), refuted
    (one did not), not judged (one could not be: `reason`), or None without `Expected:`."""

    text: str | None
    expected: tuple[str, ...]
    verdict: str | None
    reason: str | None = None
    judged: list[dict[str, Any]] = field(default_factory=list)
    deltas: dict[str, float] = field(default_factory=dict)  # metric: this - parent

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "expected": list(self.expected),
            "verdict": self.verdict,
            "reason": self.reason,
            "judged": self.judged,
            "deltas": self.deltas,
        }

    def summary(self) -> str:
        """One line: the hypothesis and its verdict (`-` for none)."""
        verdict = self.verdict or "no expectation stated"
        if self.verdict == NOT_JUDGED and self.reason:
            verdict += f": {self.reason}"
        return f"{self.text or '(no hypothesis text)'} [{verdict}]"


def judge(claim: Stated, metrics: dict[str, Any], parent: dict[str, Any] | None) -> Hypothesis:
    """`claim` judged on the model's `metrics` against its `parent`'s (None: the parent
    commit records no version of the model)."""
    deltas = _deltas(metrics, parent or {})
    if not claim.expected:
        return Hypothesis(claim.text, (), None, deltas=deltas)
    judged: list[dict[str, Any]] = []
    for rule in claim.expected:
        record, problem = _expectation(rule, metrics, parent)
        if problem is not None:
            return Hypothesis(claim.text, claim.expected, NOT_JUDGED, problem, judged, deltas)
        judged.append(record)
    held = all(r["held"] for r in judged)
    return Hypothesis(
        claim.text, claim.expected, CONFIRMED if held else REFUTED, None, judged, deltas
    )


def _expectation(
    rule: str, metrics: dict[str, Any], parent: dict[str, Any] | None
) -> tuple[dict[str, Any], str | None]:
    """One `Expected:` rule's record, or why it cannot be judged."""
    try:
        gate = gates.parse(rule)
    except BadInput as exc:
        return {}, f"Expected: {exc}"
    value = gates.figure(metrics, gate.metric)
    if value is None:
        return {}, f"the model records no metric {gate.metric!r}"
    threshold = gate.threshold
    if gate.baseline_metric is not None:
        if parent is None:
            return {}, "the parent commit records no version of this model"
        was = gates.figure(parent, gate.baseline_metric)
        if was is None:
            return {}, f"the parent records no metric {gate.baseline_metric!r}"
        threshold = round_sig(was + gate.delta)
    assert threshold is not None  # a rule names a number or a baseline figure
    held = gates.holds(gate.op, round_sig(value), round_sig(threshold))
    return {
        "rule": gate.rule,
        "value": round_sig(value),
        "threshold": threshold,
        "held": held,
    }, None


def _deltas(metrics: dict[str, Any], parent: dict[str, Any]) -> dict[str, float]:
    """Each figure both record: this version's minus the parent's."""
    found = {}
    for name in gates.metric_names(metrics):
        now, was = gates.figure(metrics, name), gates.figure(parent, name)
        if now is not None and was is not None:
            found[name] = round_sig(now - was)
    return found


def parent_metrics(root: Path, commit: str, model_path: str) -> dict[str, Any] | None:
    """The model's metrics in gitml.lock at `commit`'s first parent; None when there is no
    parent, no lock there, or no version of the model in it."""
    proc = git.run(["rev-parse", "--verify", "-q", f"{commit}^1^{{commit}}"], root, check=False)
    if proc.returncode != 0:
        return None
    parent = proc.stdout.decode().strip()
    data = git.run(["cat-file", "blob", f"{parent}:{lockfile.LOCK_FILE}"], root, check=False)
    if data.returncode != 0:
        return None
    try:
        entry = lockfile.parse(data.stdout, f"{lockfile.LOCK_FILE} at {parent[:12]}").models.get(
            model_path
        )
    except GitmlError:
        return None
    return dict(entry.metrics or {}) if entry is not None else None


@dataclass(frozen=True)
class Judged:
    """A hypothesis of a commit in a range, for a model version the commit built."""

    commit: str  # short sha
    model: str | None  # None: the commit built no model version
    hypothesis: Hypothesis


def in_range(root: Path, base: str | None, head: str) -> list[Judged]:
    """The hypotheses of the commits in `base..head` (oldest first), each judged for every
    model whose version the commit built (its md5 differs from the parent's)."""
    spec = [f"{base}..{head}"] if base else ["-1", head]
    proc = git.run(["log", "--reverse", f"--format=%H%x1f{TRAILER_FORMAT}%x1e", *spec], root)
    found: list[Judged] = []
    for record in proc.stdout.decode(errors="replace").split("\x1e"):
        fields = record.strip("\n").split("\x1f")
        claim = stated(fields[-2], fields[-1]) if len(fields) >= 3 else Stated()
        if claim:
            found += _judged_commit(root, fields[0], claim)
    return found


def _judged_commit(root: Path, commit: str, claim: Stated) -> list[Judged]:
    built = [
        Judged(commit[:8], path, judge(claim, metrics, parent))
        for path, (metrics, parent) in _models_at(root, commit).items()
    ]
    if built:
        return built
    unjudged = Hypothesis(claim.text, claim.expected, NOT_JUDGED, "the commit built no model")
    return [Judged(commit[:8], None, unjudged)]


def _models_at(root: Path, commit: str) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """{model path: (metrics, the first parent's metrics or None)} of the versions `commit`
    built: md5 not its first parent's. Each lock is read once, however many models it holds."""
    locks = []
    for rev in (commit, f"{commit}^1"):
        proc = git.run(["cat-file", "blob", f"{rev}:{lockfile.LOCK_FILE}"], root, check=False)
        try:
            locks.append(lockfile.parse(proc.stdout) if proc.returncode == 0 else None)
        except GitmlError:
            locks.append(None)
    now, before = locks
    if now is None:
        return {}
    was = before.models if before is not None else {}
    return {
        path: (
            dict(entry.metrics or {}),
            dict(was[path].metrics or {}) if path in was else None,
        )
        for path, entry in now.models.items()
        if path not in was or was[path].md5 != entry.md5
    }
