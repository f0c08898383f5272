"""Promoting a model's commit to a registry stage, and rolling a stage back, as GTO tags.

A commit is promoted only if its gitml.lock says it passed: the lock is there and fresh (not
written around the hook), the model's pipeline is not stale, its tests and gates passed, its
datasets validated; and its gates that compare with a registry stage (`baseline: production`)
hold against what is in that stage now, not only against what was there when it was committed.
Then it is tagged as `gto register` and `gto assign` would tag it: annotated tags, all made or
none (a concurrent promotion loses the race and makes nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import (
    approvals,
    baselines,
    gates,
    git,
    gtotags,
    modeltests,
    promotable,
    registry,
)
from gitml import repo as repo_mod
from gitml.config import Config, Model
from gitml.errors import BadInput, CheckFailed, GitError
from gitml.gtotags import Tag
from gitml.lockfile import LOCK_FILE, Lock, ModelEntry
from gitml.registrysource import Source
from gitml.slices import with_test_metrics
from gitml.snapshot import Snapshot

# Whether a snapshot's gitml.lock is what its files say now: (fresh, the differences).
Freshness = Callable[[repo_mod.Repo, Snapshot], tuple[bool, list[str]]]


@dataclass
class Promotion:
    model: Model
    commit: str
    stage: str
    version: str = ""
    created: list[str] = field(default_factory=list)  # tags made
    already: bool = False  # the stage held this commit already: nothing made
    problems: list[str] = field(default_factory=list)
    checked: bool = True  # gitml's recorded checks applied (not: an artifact gitml.yaml lacks)
    note: str | None = None  # whether they applied to an artifact gitml.yaml does not name

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "path": self.model.path,
            "rev": self.commit,
            "stage": self.stage,
            "version": self.version or None,
            "tags": self.created,
            "already": self.already,
            "passed": not self.problems,
            "problems": self.problems,
            "checked": self.checked,
            "note": self.note,
        }


@dataclass(frozen=True)
class Options:
    """How `promote` tags, as `gto assign` would be told."""

    version: str | None = None  # the version to register (default: the next one)
    bump: str = "patch"  # or "minor", "major": which part of the latest version to bump
    message: str | None = None  # the stage tag's message (default: GTO's)
    simple: bool = False  # `NAME#STAGE` without a counter (GTO's simple notation)
    force: bool = False  # tag even a deprecated model, or a stage that holds the commit


def check_version(version: str | None) -> None:
    if version is not None and not gtotags.VERSION_RE.match(version):
        raise BadInput(f"version {version!r} is not vMAJOR.MINOR.PATCH (e.g. v1.2.0)")


# --- what the commit recorded ----------------------------------------------------------------


def _stale(m: Model, entry: ModelEntry) -> list[str]:
    stale = entry.stale
    if not stale:
        return []
    why = "; ".join(map(str, stale)) if isinstance(stale, list) else str(stale)
    return [f"{m.path}: its pipeline is stale ({why}): run `gitml repro`"]


def _not_validated(config: Config, lock: Lock) -> list[str]:
    problems = []
    for d in config.data:
        entry = lock.data.get(d.path)
        validation = entry.validation if entry is not None else None
        if d.suite and not (validation is not None and validation.success):
            problems.append(f"{d.path}: its data did not pass validation ({d.suite})")
    return problems


def recorded_problems(
    repo: repo_mod.Repo,
    commit: str,
    config: Config,
    lock: Lock,
    m: Model,
    is_fresh: Freshness,
) -> list[str]:
    """Why the commit's own record does not let it be promoted (empty: it may be)."""
    fresh, diffs = is_fresh(repo, Snapshot(repo.root, commit))
    if not fresh:
        return [
            f"{LOCK_FILE} at {commit[:12]} is stale (committed around the hook?): " + d
            for d in diffs
        ]
    entry = lock.models.get(m.path)
    if entry is None:
        return [f"{LOCK_FILE} at {commit[:12]} records no model {m.path}"]
    return [
        *_stale(m, entry),
        *modeltests.recorded_problems((m,), lock),
        *_not_validated(config, lock),
    ]


def stage_gate_problems(repo: repo_mod.Repo, commit: str, lock: Lock, m: Model) -> list[str]:
    """The model's gates against a registry-stage baseline, re-judged against that stage now."""
    if m.baseline not in baselines.STAGES or not m.gates:
        return []
    base = baselines.baseline_for(repo.root, m.baseline, m.name, m.path, m.metrics, None)
    if base.rev is None or base.rev == commit:
        return []
    entry = lock.models.get(m.path) or ModelEntry()
    verdicts = gates.evaluate(
        m.gates,
        with_test_metrics(entry.metrics, entry.tests),
        base.rev,
        base.metrics,
        model=m.path,
        metrics_file=m.metrics,
        unread=entry.metrics_unread,
    )
    return [
        f"{m.path}: gate `{g.rule}` fails against {m.baseline} now ({base.rev[:12]}): "
        f"value {g.value}, threshold {g.threshold}"
        for g in verdicts
        if not g.passed
    ]


# --- the tags --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTag:
    """A registry tag to create: `tag` on `commit`, annotated with `message`."""

    tag: str
    commit: str
    message: str


def _registration(tags: list[Tag], p: Promotion, opts: Options) -> tuple[list[NewTag], int]:
    """The registration tag the commit needs (none when it has a version), and the counter of
    the tag after it; sets p.version. A commit whose version was deregistered is registered
    again under that same version (as `gto register` does, with a counter: its simple tag
    exists), never under a second one."""
    name = p.model.name
    counter = registry.next_counter(tags, name)
    p.version = registry.versions(tags, name).get(p.commit, "")
    if p.version:
        if opts.version and opts.version != p.version:
            raise BadInput(
                f"commit {p.commit[:12]} is {name} {p.version} already, not {opts.version}"
            )
        return [], counter
    earlier = registry.ever_registered(tags, name).get(p.commit)
    if earlier:
        if opts.version and opts.version != earlier:
            raise BadInput(
                f"commit {p.commit[:12]} was {name} {earlier} (deregistered): GTO registers it "
                f"again only as {earlier}, not {opts.version}"
            )
        p.version = earlier
        tag = gtotags.version_tag(name, earlier, counter)
        return [NewTag(tag, p.commit, _registering(name, earlier))], counter + 1
    p.version = opts.version or registry.next_version(tags, name, opts.bump)
    if p.version in {t.version for t in registry.of_model(tags, name)}:
        raise BadInput(f"{name} {p.version} is registered already, for another commit")
    tag = gtotags.version_tag(name, p.version)
    return [NewTag(tag, p.commit, _registering(name, p.version))], counter


def _registering(name: str, version: str) -> str:
    return f"Registering artifact {name} version {version}"  # GTO's message


def _assignment(tags: list[Tag], p: Promotion, opts: Options, counter: int, note: str) -> NewTag:
    """The stage tag (GTO's message, or the one given, and `note`)."""
    name = p.model.name
    tag = gtotags.stage_tag(name, p.stage, 0 if opts.simple else counter)
    if opts.simple and any(t.tag == tag for t in tags):
        raise BadInput(
            f"tag {tag} exists already: GTO's simple notation has one tag per stage; promote "
            "without --simple (a `#N` tag)"
        )
    message = opts.message or f"Assigning stage {p.stage} to artifact {name} version {p.version}"
    return NewTag(tag, p.commit, message + note)


def _assign(repo: repo_mod.Repo, p: Promotion, opts: Options, tags: list[Tag], note: str) -> None:
    """Register the commit's version if it has none, then assign the stage (GTO's messages)."""
    new, counter = _registration(tags, p, opts)
    new.append(_assignment(tags, p, opts, counter, note))
    create_tags(repo.root, new)  # all or none: a concurrent promotion gets LostRace
    p.created.extend(t.tag for t in new)


# git's words when a ref of the transaction is locked by another process (refs/files-backend.c)
_LOCKED = re.compile(
    r"cannot lock ref 'refs/tags/([^']+)': Unable to create '([^']+)': File exists"
)


class LostRace(CheckFailed):
    """Another run created one of the tags after this one read the registry: nothing was made."""


def create_tags(root: Path, new: Sequence[NewTag]) -> None:
    """Annotated tags as GTO makes them (`git tag -a -m`: the committer, now, as tagger; GTO
    reads the tagger date and the message), all or none.

    The tag objects are written first (unreferenced, they are harmless if no ref is made), then
    every ref in one `git update-ref --stdin` transaction of `create` lines, which git refuses
    whole when any of the refs exists: two promotions at once leave the tags of one of them,
    never a part of each. The other gets LostRace (exit 1)."""
    if not new:
        return
    tagger = git.out(["var", "GIT_COMMITTER_IDENT"], root)
    updates = []
    for t in new:
        body = f"object {t.commit}\ntype commit\ntag {t.tag}\ntagger {tagger}\n\n{t.message}\n"
        sha = git.out(["mktag"], root, input=body.encode())
        updates.append(f"create refs/tags/{t.tag} {sha}\n")
    proc = git.run(["update-ref", "--stdin"], root, input="".join(updates).encode(), check=False)
    if proc.returncode != 0:
        _refused(root, new, proc.stderr.decode(errors="replace").strip())


def _refused(root: Path, new: Sequence[NewTag], err: str) -> None:
    """Why `git update-ref` made none of the tags: one of them exists (lightweight, or made by
    another run meanwhile), or git's own error."""
    taken = _existing_tags(root, [t.tag for t in new])
    locked = _LOCKED.search(err)
    if not taken and locked:
        # git locks each ref of the transaction before it writes any: another run is making
        # this tag at this moment (or a git that crashed left its lock file)
        raise LostRace(
            f"lost a race: tag {locked.group(1)} is being made by another git process (it "
            "holds the tag's lock), so this one tagged nothing; see `gitml registry` once it "
            "has ended, and run the command again if it is still wanted (if no git runs, a "
            f"crashed one left {locked.group(2)}: remove it)"
        )
    if not taken:
        raise GitError(f"`git update-ref --stdin` failed, no tag was made: {err}")
    lightweight = sorted(name for name, kind in taken.items() if kind != "tag")
    if lightweight:
        raise BadInput(
            f"tag {', '.join(lightweight)} exists already, not annotated (so the registry, as GTO, "
            "ignores it), so no tag was made: delete it (`git tag -d "
            + " ".join(lightweight)
            + "`) and run again"
        )
    raise LostRace(
        f"lost a race: {', '.join(sorted(taken))} "
        + ("was" if len(taken) == 1 else "were")
        + " made by another run after this one read the registry, so this one tagged nothing; "
        "see `gitml registry`, and run the command again if it is still wanted"
    )


def _existing_tags(root: Path, names: list[str]) -> dict[str, str]:
    """{tag: type of the object its ref holds} for those of `names` that exist."""
    out = git.out(
        ["for-each-ref", "--format=%(refname:strip=2)%09%(objecttype)"]
        + [f"refs/tags/{n}" for n in names],
        root,
    )
    found = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    return {n: found[n] for n in names if n in found}  # for-each-ref matches by prefix too


# --- promote and roll back -------------------------------------------------------------------


def _deprecated(state: registry.ModelState, opts: Options) -> list[str]:
    """The refusal of a model GTO sees as deprecated (none with --force)."""
    gone = state.deprecation()
    if gone is None or opts.force:
        return []
    return [
        f"{state.name} is deprecated (tag {gone.tag}), as `gto show` says: nothing of it "
        "is promoted; --force promotes it anyway (GTO then sees it active again), or "
        f"delete the deprecation (`git tag -d {gone.tag}`, and on the remote)"
    ]


def move(
    repo: repo_mod.Repo,
    wanted: str,
    stage: str,
    commit: str,
    opts: Options = Options(),
    *,
    is_fresh: Freshness,
    rollback_from: str | None = None,
) -> Promotion:
    """Assign `stage` to the commit if its record allows. A rollback (`rollback_from`: the
    commit it leaves) is marked in the tag's message, and its gates are not judged against the
    stage: the version it returns to passed them there, and judging it against the version
    being rolled back would defeat the rollback."""
    source = Source(repo.root, commit)
    target = promotable.find(source, wanted)
    m = target.model
    gtotags.check_name(m.name, "model name")
    record = promotable.committed(source, target)
    p = Promotion(m, commit, stage, checked=record.checked, note=record.note)
    tags = registry.read_tags(repo.root)
    state = registry.model_state(tags, m.name)
    current = state.in_stage(stage)
    if current is not None and current.commit == commit and not opts.force:
        p.already, p.version = True, state.registered().get(commit, "")
        return p
    p.problems = _deprecated(state, opts) or _recorded(
        repo, p, record, is_fresh, stage_gates=rollback_from is None
    )
    if not p.problems:  # signed approvals, if gitml.yaml asks for them in this stage
        p.problems = approvals.promotion_problems(repo.root, m.name, commit, stage)
    if not p.problems:
        note = ""
        if rollback_from is not None:
            left = state.registered().get(rollback_from) or rollback_from[:12]
            note = f" {gtotags.ROLLBACK_MARK} from {left})"
        _assign(repo, p, opts, tags, note)
    return p


def _recorded(
    repo: repo_mod.Repo,
    p: Promotion,
    record: promotable.Record,
    is_fresh: Freshness,
    stage_gates: bool,
) -> list[str]:
    """Why what the commit recorded does not let it in (none when gitml checks nothing of it),
    then (`stage_gates`) its gates against a registry stage, judged against that stage now."""
    if record.lock is None or not p.checked:
        return []
    problems = recorded_problems(repo, p.commit, record.config, record.lock, p.model, is_fresh)
    if stage_gates and not problems:
        problems = stage_gate_problems(repo, p.commit, record.lock, p.model)
    return problems


def previous_in_stage(tags: list[Tag], name: str, stage: str) -> tuple[str, str]:
    """(current commit, the commit a rollback gives the stage)."""
    current = registry.in_stage(tags, name, stage)
    if current is None:
        raise BadInput(f"{name} has nothing in {stage} to roll back")
    target = registry.rollback_target(tags, name, stage)
    if target is None:
        raise BadInput(
            f"{stage} of {name} has held nothing before {current.commit[:12]}: there is no "
            "earlier version to roll back to"
        )
    return current.commit, target


# --- the remote ------------------------------------------------------------------------------


def fetch_tags(repo: repo_mod.Repo, remote: str) -> None:
    """Before tagging for --push: the remote's registry tags, so that the counter and what a
    stage holds are the team's (a teammate's `#production#3` would reject ours)."""
    proc = git.run(
        ["fetch", "--quiet", "--no-write-fetch-head", remote, "refs/tags/*:refs/tags/*"],
        repo.root,
        check=False,
    )
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise CheckFailed(
            f"could not fetch the registry tags from {remote!r}, so nothing was tagged: "
            + (detail[-1] if detail else f"git fetch exited {proc.returncode}")
        )


def push_tags(repo: repo_mod.Repo, remote: str, tags: list[str]) -> None:
    if not tags:
        return
    proc = git.run(["push", remote, *[f"refs/tags/{t}" for t in tags]], repo.root, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise CheckFailed(
            f"the tags were made here but not pushed to {remote!r}: "
            + (detail[-1] if detail else f"git push exited {proc.returncode}")
            + f"\n  push them with: git push {remote} "
            + " ".join(tags)
        )
