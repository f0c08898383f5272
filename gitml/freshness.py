"""The freshness rule: whether a state's gitml.lock still says what its files say.

DESIGN.md: `gitml lock --check` compares the inputs part alone (hashes of what the dvc.lock and
.dvc files, params, stage code and gitml.yaml say), so it never flips with a library version
or a new production tag; and the recorded test results must be keyed by the state's test files
and the data they read (a commit made around the hook would otherwise pass), and a merge's
results must be ones a parent recorded, or gitml's own for that merge (gitml.mergedlock). Pre-push, promote,
`gitml lock --check` and `gitml doctor` judge by this rule.
"""

from __future__ import annotations

from gitml import dvcconfig, lineage, lockfile, lockinputs, mergedlock, modeltests
from gitml.errors import BadInput
from gitml.lineage import Lineage
from gitml.lockfile import LOCK_FILE
from gitml.notes import EDGE, Teller
from gitml.repo import Repo, config_at
from gitml.snapshot import Snapshot


def unread_metrics_notes(lin: Lineage) -> list[str]:
    """One warning per model whose metrics file could not be read (nothing is recorded)."""
    return [f"model {path}: no metrics recorded: {why}" for path, why in lin.unread_metrics.items()]


def lock_is_fresh(repo: Repo, snap: Snapshot, tell: Teller = EDGE) -> tuple[bool, list[str]]:
    """Whether the snapshot's gitml.lock inputs part matches what its files say now, and its
    recorded test results are keyed by the snapshot's test files and the data they read:
    (fresh, the differences). What could not be judged is told as a warning."""
    config = config_at(snap)
    if config is None:
        raise BadInput("no gitml.yaml in this state: run `gitml init`")
    data = snap.read(LOCK_FILE)
    recorded = lockfile.parse(data) if data is not None else None
    lin = lineage.read_lineage(snap, config, None)
    cfg = dvcconfig.read_config(repo.root)
    new = lineage.inputs(lin, cfg.cache_dir, recorded, dvc_cfg=cfg)
    for note in unread_metrics_notes(lin):
        tell.warn(note)
    if recorded is None:
        return False, [f"{LOCK_FILE} is missing"]
    if lockinputs.old_layout(recorded):  # judged the old way: fresh while gitml.yaml is the same
        new = lockinputs.in_old_layout(new, lineage.config_file_sha256(snap))
    diffs = lockinputs.differences(lockinputs.inputs_part(recorded), lockinputs.inputs_part(new))
    # The recorded results' own key (tests hash, data the tests read), recomputed from the
    # snapshot: inputs alone would let a test file changed around the hook pass.
    mismatches, notes = modeltests.recorded_key_mismatches(lin, recorded)
    for note in notes:
        tell.warn(note)
    diffs += mismatches
    # A merge's lock merged as text: results of one side for the inputs of the other.
    merge = mergedlock.merge_state(repo.root, snap.rev, recorded, config)
    if merge is not None:
        diffs += mergedlock.problems(merge, config, recorded)
    return not diffs, diffs
