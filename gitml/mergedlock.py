"""A merge's gitml.lock that no gitml judged: its results must be ones a parent recorded.

GitHub's and GitLab's merge buttons merge gitml.lock as text, with no merge driver and no hook:
each line comes from the side that changed it. So a model's md5 can come from one side and its
recorded tests from the other, a pair nobody ran; and a gate relative to `baseline: parent`
keeps the threshold its branch computed against that branch's parent, where git diffs a merge
against its first parent. Such a lock is judged here: each model's recorded tests must be what
a parent of the merge recorded for the same model bytes, and each relative gate of a `parent`
baseline must have the threshold the merge's first parent gives (unless the model and its
verdicts are the first parent's own, carried as any commit carries them).

Where gitml computed a merge's results itself (the pre-merge-commit hook, `gitml lock`), results
no parent has are its own: it writes `merge: [the parents]` into the lock, which a text merge
cannot produce. A merge that no gitml judged is judged where it is (`gitml lock --check REV`),
and on top of it: the staged state of a branch whose HEAD is such a merge is judged as that
merge, its checks run again against the merge's first parent, so that `gitml lock` fixes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitml import baselines, gates, git, lockfile
from gitml.config import Config, Dataset, Model
from gitml.errors import BadInput
from gitml.fileio import round_sig
from gitml.lockfile import LOCK_FILE, DataEntry, Lock, ModelEntry
from gitml.records import plain, updated, without


@dataclass(frozen=True)
class Merge:
    """A merge a lock is judged as: its parents (the first one is what git diffs it against),
    their gitml.locks (None: none, or unreadable), the parents not in this clone, and whether
    the lock records that gitml checked it as this very merge (`checked`)."""

    root: Path
    parents: tuple[str, ...]
    locks: tuple[Lock | None, ...]
    absent: tuple[str, ...]
    checked: bool

    @property
    def first(self) -> str:
        return self.parents[0]


def merge_state(root: Path, rev: str | None, lock: Lock | None, config: Config) -> Merge | None:
    """The merge a state's gitml.lock (`lock`) is judged as: commit `rev` if it is a merge; for
    the staged state (`rev` None), the merge in progress, else HEAD when it is a merge whose lock
    no gitml judged and does not hold (see the module's doc). None: no merge to judge."""
    if rev is not None:
        parents = _parents(root, rev)
        return _merge(root, parents, lock) if len(parents) > 1 else None
    head = git.head_commit(root)
    if head is None:
        return None
    in_progress = _merge_heads(root)
    if in_progress:
        return _merge(root, (head, *in_progress), lock)
    parents = _parents(root, head)
    if len(parents) < 2:
        return None
    head_lock = _lock_at(root, head)
    at_head = _merge(root, parents, head_lock)
    if not problems(at_head, config, head_lock):  # checked, or its results add up
        return None
    return _merge(root, parents, lock)


def problems(merge: Merge, config: Config, lock: Lock | None) -> list[str]:
    """Where `lock`'s results are no parent's (lines for `gitml lock --check`); nothing is
    said of a lock gitml checked as this merge."""
    if lock is None or merge.checked:
        return []
    lines = [
        f"the merge's parent {p[:12]} is not in this clone, so its {LOCK_FILE} cannot be "
        "compared (a shallow clone: `git fetch --deepen=1`)"
        for p in merge.absent
    ]
    for m in config.models:
        entry = lock.models.get(m.path)
        if entry is not None:
            lines += model_problems(merge, m, entry)
    for d in config.data:
        data_entry = lock.data.get(d.path)
        problem = data_problem(merge, d, data_entry) if data_entry is not None else None
        lines += [problem] if problem else []
    return lines


def model_problems(merge: Merge, m: Model, entry: ModelEntry) -> list[str]:
    """Why one model's recorded results are not a parent's (empty: they are)."""
    found = _gate_problems(merge, m, entry)
    tests = _tests_problem(merge, m, entry)
    return [tests, *found] if tests else found


def marked(lock: Lock, merge: Merge | None, config: Config) -> Lock:
    """The lock gitml writes for the state `merge` describes: `merge: [parents]` where its
    results are gitml's own for that merge (results no parent has), else without the key."""
    if merge is not None and (merge.checked or _needs_mark(merge, config, lock)):
        return updated(lock, merge=list(merge.parents))
    return without(lock, "merge") if lock.merge is not None else lock


def _needs_mark(merge: Merge, config: Config, lock: Lock) -> bool:
    unmarked = Merge(merge.root, merge.parents, merge.locks, merge.absent, checked=False)
    return bool(problems(unmarked, config, lock))


# --- the judgements --------------------------------------------------------------------------


def data_problem(merge: Merge, d: Dataset, entry: DataEntry) -> str | None:
    """The dataset's recorded validation, unless a parent recorded it for the same bytes and
    suite: a text merge can take the data's md5 from one side and the suite's hash and verdict
    from the other, a validation nobody ran."""
    if not d.suite or entry.validation is None:
        return None
    ran = _validation_record(entry)
    if _a_parent_recorded(merge, lambda lock: _validation_record(lock.data.get(d.path)), ran):
        return None
    return (
        f"data.{d.path}.validation: recorded for data md5 {str(entry.md5 or entry.hash)[:12]} "
        f"with suite {str(entry.suite_sha256)[:12]}, a pair validated on {_no_parent(merge)}"
    )


def _tests_problem(merge: Merge, m: Model, entry: ModelEntry) -> str | None:
    """The model's recorded tests, unless a parent recorded them for the same model bytes."""
    if not m.tests or entry.tests is None:
        return None
    ran = _tests_record(entry)
    if _a_parent_recorded(merge, lambda lock: _tests_record(lock.models.get(m.path)), ran):
        return None
    return (
        f"models.{m.path}.tests: recorded for model md5 {str(entry.md5)[:12]} with test files "
        f"{str(entry.tests.hash)[:12]}, a pair that ran on {_no_parent(merge)}"
    )


def _validation_record(entry: DataEntry | None) -> tuple[object, ...] | None:
    """What a dataset's validation was recorded for, and its verdict (None: no validation)."""
    if entry is None or entry.validation is None:
        return None
    return (entry.md5, entry.hash, entry.suite_sha256, plain(entry.validation))


def _tests_record(entry: ModelEntry | None) -> tuple[object, ...] | None:
    """The model bytes its tests ran on, and their verdict (None: no tests recorded)."""
    if entry is None or entry.tests is None:
        return None
    return (entry.md5, plain(entry.tests))


def _a_parent_recorded(
    merge: Merge, record: Callable[[Lock], tuple[object, ...] | None], ran: object
) -> bool:
    """Whether the lock of a parent of the merge holds `ran`, as `record` reads it there."""
    return any(lock is not None and record(lock) == ran for lock in merge.locks)


def _no_parent(merge: Merge) -> str:
    parents = ", ".join(p[:12] for p in merge.parents)
    return f"no parent of the merge ({parents}): {LOCK_FILE} was merged as text"


def _gate_problems(merge: Merge, m: Model, entry: ModelEntry) -> list[str]:
    """Each relative gate of a `parent` baseline whose threshold is not the one the merge's
    first parent gives; none where the model and its verdicts are the first parent's own."""
    if m.baseline != "parent" or not entry.gates:
        return []
    first_lock = merge.locks[0]
    first = first_lock.models.get(m.path) if first_lock is not None else None
    if first is not None and _same_verdicts(first, entry):
        return []
    figures = None
    lines = []
    for verdict in entry.gates:
        gate = _relative(verdict.rule)
        if gate is None:
            continue
        if figures is None:
            figures = baselines.metrics_at(merge.root, merge.first, m.path, m.metrics)
        expected = gates.threshold_of(gate, merge.first, figures)
        if _rounded(verdict.threshold) != _rounded(expected):
            lines.append(
                f"models.{m.path}.gates[{verdict.rule}]: threshold {_shown(verdict.threshold)} "
                f"(against {str(verdict.baseline)[:12]}), but the merge's first parent "
                f"{merge.first[:12]} gives {_shown(expected)}"
            )
    return lines


def _same_verdicts(first: ModelEntry, entry: ModelEntry) -> bool:
    return first.md5 == entry.md5 and _plain_gates(first.gates) == _plain_gates(entry.gates)


def _plain_gates(verdicts: Sequence[lockfile.Gate] | None) -> list[dict[str, object]]:
    return [plain(v) for v in verdicts or []]


def _relative(rule: str | None) -> gates.Gate | None:
    try:
        gate = gates.parse(str(rule))
    except BadInput:  # gates.recorded_mismatches says so
        return None
    return gate if gate.baseline_metric is not None else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round_sig(float(value))


def _shown(value: float | None) -> str:
    return "none (no baseline figure)" if value is None else f"{value:g}"


# --- reading the merge -----------------------------------------------------------------------


def _merge(root: Path, parents: tuple[str, ...], lock: Lock | None) -> Merge:
    present = [p for p in parents if _has_commit(root, p)]
    locks = tuple(_lock_at(root, p) if p in present else None for p in parents)
    absent = tuple(p for p in parents if p not in present)
    checked = lock is not None and lock.merge == list(parents)
    return Merge(root, parents, locks, absent, checked)


def _parents(root: Path, rev: str) -> tuple[str, ...]:
    """The commit's parents as the commit object names them (a shallow clone's grafts hide
    them from `git rev-list`)."""
    text = git.run(["cat-file", "commit", rev], root).stdout.decode(errors="replace")
    header = text.split("\n\n", 1)[0]
    return tuple(line[7:].strip() for line in header.splitlines() if line.startswith("parent "))


def _merge_heads(root: Path) -> tuple[str, ...]:
    """The commits a merge in progress brings in (MERGE_HEAD), none outside a merge."""
    try:
        text = (git.git_dir(root) / "MERGE_HEAD").read_text()
    except OSError:
        return ()
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _has_commit(root: Path, rev: str) -> bool:
    proc = git.run(["cat-file", "-e", f"{rev}^{{commit}}"], root, check=False)
    return proc.returncode == 0


def _lock_at(root: Path, rev: str) -> Lock | None:
    proc = git.run(["cat-file", "blob", f"{rev}:{LOCK_FILE}"], root, check=False)
    if proc.returncode != 0:
        return None
    try:
        return lockfile.parse(proc.stdout)
    except BadInput:
        return None
