"""The pre-push rule: judge the pushed tips, and put every DVC object the pushed commits name
on the DVC remote before git sends the commits.

What is pushed is what git says it pushes (gitml.push_commits), so objects go up per commit,
not "everything in the workspace" as DVC's own hook does:

1. every pushed tip (a new commit) that has a gitml.lock must have a fresh one (gitml.freshness)
   whose recorded model checks passed;
2. every object named by the dvc.lock/.dvc files of every pushed commit (git-tracked outs,
   `cache: false` and `push: false` outs excepted; gitml.push_objects) must be on the DVC remote
   afterwards (gitml.push_remote).

Commits from before gitml (neither they nor an ancestor ever had a gitml.lock) get their objects
pushed when the local cache has them, and are never refused for missing ones; a history that
deleted gitml.lock is not "before gitml". Refused: exit 1, with the list and the fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gitml import dvcconfig, freshness, git, lockfile, modeltests
from gitml.config import CONFIG_FILE
from gitml.dvcconfig import DvcConfig
from gitml.errors import BadInput
from gitml.lockfile import LOCK_FILE
from gitml.notes import EDGE, ProgressFactory, Teller, no_progress
from gitml.push_commits import Push, read_push
from gitml.push_objects import Collector, Need
from gitml.push_remote import Outcome, push_local, push_with_dvc
from gitml.repo import Repo, config_at
from gitml.snapshot import Snapshot

LIST_LIMIT = 20  # lines of an object list before "... and N more"


def pre_push(
    repo: Repo,
    args: list[str],
    stdin: BinaryIO,
    tell: Teller = EDGE,
    progress: ProgressFactory = no_progress,
) -> int:
    """The hook: 0 when the push may go on, 1 refused (told why)."""
    push = read_push(repo.root, args, stdin, os.environ)
    if push is None:
        return 0
    stale, failing = judge_tips(repo, push, tell)
    if stale:
        _refuse_stale(repo, stale, tell)
        return 1
    if failing:
        _refuse_failing(failing, tell)
        return 1
    cfg = dvcconfig.read_config(repo.root)
    needs = _collect(repo, cfg, push, tell)
    return _push_all(repo, cfg, needs, tell, progress) if needs else 0


# -- 1. the pushed tips ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    ref: str
    tip: str
    problems: list[str]

    @property
    def name(self) -> str:
        return self.ref.removeprefix("refs/heads/").removeprefix("refs/tags/") or self.tip[:12]


def judge_tips(repo: Repo, push: Push, tell: Teller = EDGE) -> tuple[list[Judged], list[Judged]]:
    """(stale, failing): the new tips whose gitml.lock is stale or missing, and those whose
    recorded model checks did not pass. A tip already on the remote was judged when it first
    went there."""
    new = {p.commit for p in push.commits}
    stale: list[Judged] = []
    failing: list[Judged] = []
    judged: set[str] = set()
    for ref, tip in push.tips:
        if tip in new and tip not in judged:
            judged.add(tip)
            staleness, problems = _judge_tip(repo, tip, tip in push.since_gitml, tell)
            if staleness:
                stale.append(Judged(ref, tip, staleness))
            elif problems:
                failing.append(Judged(ref, tip, problems))
    return stale, failing


def _judge_tip(
    repo: Repo, tip: str, since_gitml: bool, tell: Teller
) -> tuple[list[str], list[str]]:
    """(why the tip's gitml.lock is stale, why its recorded checks fail); both empty: it passes."""
    snap = Snapshot(repo.root, tip)
    if not snap.has(LOCK_FILE):
        if since_gitml and snap.has(CONFIG_FILE):
            # gitml.yaml still asks for checks, and nothing records them
            return [
                f"{LOCK_FILE} is missing, deleted from a history that had one (--no-verify?)"
            ], []
        return [], []  # a commit from before gitml, or gitml removed from the project
    try:
        fresh, diffs = freshness.lock_is_fresh(repo, snap, tell)
    except BadInput as exc:
        fresh, diffs = False, [str(exc)]
    if not fresh:
        return diffs, []
    return [], _failing_checks(snap)


def _failing_checks(snap: Snapshot) -> list[str]:
    """Why the model tests and gates a tip's gitml.lock recorded do not pass (empty: they do)."""
    config, data = config_at(snap), snap.read(LOCK_FILE)
    if config is None or data is None:
        return []
    return modeltests.recorded_problems(config.models, lockfile.parse(data))


def _refuse_stale(repo: Repo, stale: list[Judged], tell: Teller) -> None:
    head = git.head_commit(repo.root)
    for j in stale:
        fix = (
            "run `gitml lock`, then `git commit -m 'refresh gitml.lock'`"
            if j.tip == head
            else f"`git checkout {j.name}`, `gitml lock`, then commit"
        )
        tell.say(
            f"push refused: {LOCK_FILE} is stale at {j.name} ({j.tip[:12]}):\n  "
            + "\n  ".join(j.problems)
            + f"\n  fix: {fix}, and push again (rebases and cherry-picks do not run the commit "
            "hook)"
        )


def _refuse_failing(failing: list[Judged], tell: Teller) -> None:
    for j in failing:
        tell.say(
            f"push refused: the model checks {LOCK_FILE} records at {j.name} ({j.tip[:12]}) did "
            "not pass:\n  " + "\n  ".join(j.problems) + "\n  fix: `gitml test` shows the "
            "failures; fix the model or its tests and commit through the gitml hook (it runs "
            "them), then push"
        )


# -- 2. the DVC objects of every pushed commit ----------------------------------------------------


def _collect(repo: Repo, cfg: DvcConfig, push: Push, tell: Teller) -> list[Need]:
    collector = Collector(repo.root, cfg, tell)
    for p in push.commits:
        collector.add_commit(p.commit, p.tree, p.commit in push.since_gitml)
    found = collector.result
    for line in found.unreadable:
        tell.warn(f"skipped a commit from before gitml whose DVC files do not parse ({line})")
    if found.not_pushed:
        tell.say("not pushed (`push: false`): " + ", ".join(sorted(found.not_pushed)))
    return list(found.needs.values())


def _push_all(
    repo: Repo, cfg: DvcConfig, needs: list[Need], tell: Teller, progress: ProgressFactory
) -> int:
    groups: dict[str | None, list[Need]] = {}
    for need in needs:
        groups.setdefault(need.remote or cfg.default_remote, []).append(need)
    refused = False
    for name, group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        if name is None or name not in cfg.remotes:
            refused |= _no_remote(cfg, name, group, tell)
        elif _cloud_versioned(cfg, name):
            refused |= _judge_versioned(name, group, tell)
        else:
            url = cfg.remotes[name]
            if "://" in url:
                outcome = push_with_dvc(repo.root, cfg, name, group)
            else:
                outcome = push_local(cfg, Path(url), group, progress)
            refused |= _report(name, outcome, tell)
    return 1 if refused else 0


def _truthy(value: str | None) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _cloud_versioned(cfg: DvcConfig, name: str) -> bool:
    options = cfg.remote_options.get(name, {})
    return _truthy(options.get("version_aware")) or _truthy(options.get("worktree"))


def _judge_versioned(name: str, group: list[Need], tell: Teller) -> bool:
    """A cloud-versioned remote holds versions of paths, not hashes: what a commit pushed is
    what its DVC files record (`dvc push` writes the version ids into them, per commit)."""
    unrecorded = [n for n in group if n.parent is None and name not in n.versioned_in]
    if unrecorded:
        return _refuse(
            unrecorded,
            f"DVC remote '{name}' is cloud-versioned and the pushed DVC files record no version "
            "of these on it",
            "`dvc push`, commit the DVC files it updates (they record the object versions), "
            "and push again",
            tell,
        )
    tell.say(
        f"the DVC files of the pushed commits record every object on the cloud-versioned "
        f"remote '{name}'"
    )
    return False


# -- what is told ---------------------------------------------------------------------------------


def _listed(needs: list[Need]) -> str:
    lines = [n.line() for n in sorted(needs, key=lambda n: (n.path, n.md5))]
    if len(lines) > LIST_LIMIT:
        lines = lines[:LIST_LIMIT] + [f"  ... and {len(lines) - LIST_LIMIT} more"]
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _refuse(needs: list[Need], why: str, fix: str, tell: Teller) -> bool:
    counted = [n for n in needs if n.gitml]
    if not counted:
        tell.warn(f"{why}; the objects of commits from before gitml are not pushed ({fix})")
        return False
    tell.say(
        f"push refused: {why}. The pushed commits name these DVC objects:\n{_listed(counted)}\n"
        f"  fix: {fix}"
    )
    return True


def _no_remote(cfg: DvcConfig, name: str | None, needs: list[Need], tell: Teller) -> bool:
    if name is None and cfg.remotes:
        return _refuse(
            needs,
            "no default DVC remote is set",
            f"`dvc remote default NAME` (one of: {', '.join(sorted(cfg.remotes))})",
            tell,
        )
    if name is None:
        return _refuse(needs, "no DVC remote is configured", "`dvc remote add -d NAME URL`", tell)
    return _refuse(
        needs,
        f"the DVC remote '{name}' is not configured",
        f"`dvc remote add {name} URL`, or `dvc remote list` to see the names",
        tell,
    )


def _report(name: str, outcome: Outcome, tell: Teller) -> bool:
    """What the push to remote `name` did; True when it refuses the push."""
    note = f" ({outcome.present} already there)" if outcome.present else ""
    tell.say(f"pushed {_plural(outcome.pushed, 'DVC object')} to remote '{name}'{note}")
    if outcome.missing_ok:
        tell.warn(
            "not pushed, in neither the local cache nor the remote (named by commits from "
            "before gitml, or imported: not refused):\n" + _listed(outcome.missing_ok)
        )
    if outcome.missing:
        tell.say(
            "push refused: these DVC objects are in neither the local cache nor the remote "
            f"'{name}':\n{_listed(outcome.missing)}\n"
            "  fix: `dvc push` them from the clone that has them, or rebuild them "
            "(`gitml repro`, `dvc commit`) and commit"
        )
    if outcome.corrupt:
        tell.say(
            "push refused: these cached objects do not match their hash (corrupt cache) and "
            f"were not pushed:\n{_listed(outcome.corrupt)}\n"
            "  fix: remove them from .dvc/cache and rebuild or re-add them (`gitml repro`, "
            "`dvc add`), or `dvc pull` them from a remote that has good copies"
        )
    if outcome.failed:
        err = f" ({outcome.error})" if outcome.error else ""
        tell.say(
            f"push refused: the DVC remote '{name}' did not take these objects{err}:\n"
            f"{_listed(outcome.failed)}\n  fix: check the remote (`gitml doctor`, `dvc push`) "
            "and push again"
        )
    return bool(outcome.missing or outcome.corrupt or outcome.failed)
