"""`gitml promote MODEL --to STAGE` and `gitml rollback MODEL --stage STAGE`: GTO tags, gated.

A commit is promoted only if its gitml.lock says it passed: the lock is there and fresh (not
written around the hook), the model's pipeline is not stale, its tests and gates passed, its
datasets validated; and its gates that compare with a registry stage (`baseline: production`)
hold against what is in that stage now, not only against what was there when it was committed.
Then gitml tags it as `gto register` and `gto assign` would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gitml import baselines, git, gtofiles, history, manifest, modeltests, registry
from gitml import repo as repo_mod
from gitml.commands.hook import lock_is_fresh
from gitml.config import Config, Model
from gitml.errors import BadInput, CheckFailed
from gitml.lockfile import LOCK_FILE
from gitml.output import say
from gitml.snapshot import Snapshot


@dataclass
class Promotion:
    model: Model
    commit: str
    stage: str
    version: str = ""
    created: list[str] = field(default_factory=list)  # tags made
    already: bool = False  # the stage held this commit already: nothing made
    problems: list[str] = field(default_factory=list)

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
        }


def _config_and_lock(repo: repo_mod.Repo, commit: str) -> tuple[Config, dict[str, Any]]:
    snap, lock = manifest.committed_lock(
        repo.root, commit, "nothing says its checks passed, so it is not promoted", CheckFailed
    )
    config = repo_mod.config_at(snap)
    if config is None:
        raise BadInput(f"commit {commit[:12]} has no gitml.yaml: it cannot be promoted")
    return config, lock


def find_model(config: Config, wanted: str, where: str) -> Model:
    for m in config.models:
        if wanted in (m.name, m.path):
            return m
    known = ", ".join(f"{m.name} ({m.path})" for m in config.models) or "none"
    raise BadInput(f"no model {wanted!r} in gitml.yaml at {where}; models: {known}")


def recorded_problems(
    repo: repo_mod.Repo, commit: str, config: Config, lock: dict[str, Any], m: Model
) -> list[str]:
    """Why the commit's own record does not let it be promoted (empty: it may be)."""
    fresh, diffs = lock_is_fresh(repo, Snapshot(repo.root, commit))
    if not fresh:
        return [
            f"{LOCK_FILE} at {commit[:12]} is stale (committed around the hook?): " + d
            for d in diffs
        ]
    entry = (lock.get("models") or {}).get(m.path)
    if not isinstance(entry, dict):
        return [f"{LOCK_FILE} at {commit[:12]} records no model {m.path}"]
    problems = []
    if entry.get("stale"):
        stale = entry["stale"]
        why = "; ".join(map(str, stale)) if isinstance(stale, list) else str(stale)
        problems.append(f"{m.path}: its pipeline is stale ({why}): run `gitml repro`")
    problems.extend(modeltests.recorded_problems((m,), lock))
    for d in config.data:
        validation = ((lock.get("data") or {}).get(d.path) or {}).get("validation")
        if d.suite and not (isinstance(validation, dict) and validation.get("success")):
            problems.append(f"{d.path}: its data did not pass validation ({d.suite})")
    return problems


def stage_gate_problems(
    repo: repo_mod.Repo, commit: str, lock: dict[str, Any], m: Model
) -> list[str]:
    """The model's gates against a registry-stage baseline, re-judged against that stage now."""
    if m.baseline not in baselines.STAGES or not m.gates:
        return []
    base = baselines.baseline_for(repo.root, m.baseline, m.name, m.path, m.metrics, None)
    if base.rev is None or base.rev == commit:
        return []
    entry = (lock.get("models") or {}).get(m.path) or {}
    metrics = entry.get("metrics") if isinstance(entry.get("metrics"), dict) else {}
    return [
        f"{m.path}: gate `{g['rule']}` fails against {m.baseline} now ({base.rev[:12]}): "
        f"value {g['value']}, threshold {g['threshold']}"
        for g in modeltests.evaluate_gates(m, metrics or {}, base, history.metrics_unread(entry))
        if not g["passed"]
    ]


@dataclass(frozen=True)
class Options:
    """How `promote` tags, as `gto assign` would be told."""

    version: str | None = None  # the version to register (default: the next one)
    bump: str = "patch"  # or "minor", "major": which part of the latest version to bump
    message: str | None = None  # the stage tag's message (default: GTO's)
    simple: bool = False  # `NAME#STAGE` without a counter (GTO's simple notation)
    force: bool = False  # tag even a deprecated model, or a stage that holds the commit


def _assign(
    repo: repo_mod.Repo,
    p: Promotion,
    opts: Options,
    tags: list[registry.Tag],
    note: str,
) -> None:
    """Register the commit's version if it has none, then assign the stage (GTO's messages).

    A commit whose version was deregistered is registered again under that same version (as
    `gto register` does, with a counter: its simple tag exists), never under a second one."""
    name = p.model.name
    new: list[registry.NewTag] = []
    counter = registry.next_counter(tags, name)
    p.version = registry.versions(tags, name).get(p.commit, "")
    earlier = registry.ever_registered(tags, name).get(p.commit)
    if not p.version and earlier:
        if opts.version and opts.version != earlier:
            raise BadInput(
                f"commit {p.commit[:12]} was {name} {earlier} (deregistered): GTO registers it "
                f"again only as {earlier}, not {opts.version}"
            )
        p.version = earlier
        message = f"Registering artifact {name} version {p.version}"
        tag = registry.version_tag(name, p.version, counter)
        new.append(registry.NewTag(tag, p.commit, message))
        counter += 1
    elif not p.version:
        p.version = opts.version or registry.next_version(tags, name, opts.bump)
        if p.version in {t.version for t in registry.of_model(tags, name)}:
            raise BadInput(f"{name} {p.version} is registered already, for another commit")
        message = f"Registering artifact {name} version {p.version}"
        new.append(registry.NewTag(registry.version_tag(name, p.version), p.commit, message))
    elif opts.version and opts.version != p.version:
        raise BadInput(f"commit {p.commit[:12]} is {name} {p.version} already, not {opts.version}")
    tag = registry.stage_tag(name, p.stage, 0 if opts.simple else counter)
    if opts.simple and any(t.tag == tag for t in tags):
        raise BadInput(
            f"tag {tag} exists already: GTO's simple notation has one tag per stage; promote "
            "without --simple (a `#N` tag)"
        )
    message = opts.message or f"Assigning stage {p.stage} to artifact {name} version {p.version}"
    new.append(registry.NewTag(tag, p.commit, message + note))
    registry.create_tags(repo.root, new)  # all or none: a concurrent promotion gets LostRace
    p.created.extend(t.tag for t in new)


def _check_version(version: str | None) -> None:
    if version is not None and not registry.VERSION_RE.match(version):
        raise BadInput(f"version {version!r} is not vMAJOR.MINOR.PATCH (e.g. v1.2.0)")


def move(
    repo: repo_mod.Repo,
    wanted: str,
    stage: str,
    commit: str,
    opts: Options = Options(),
    *,
    rollback_from: str | None = None,
) -> Promotion:
    """Assign `stage` to the commit if its record allows. A rollback (`rollback_from`: the
    commit it leaves) is marked in the tag's message, and its gates are not judged against the
    stage: the version it returns to passed them there, and judging it against the version
    being rolled back would defeat the rollback."""
    config, lock = _config_and_lock(repo, commit)
    m = find_model(config, wanted, commit[:12])
    registry.check_name(m.name, "model name")
    p = Promotion(m, commit, stage)
    tags = registry.read_tags(repo.root)
    state = registry.model_state(tags, m.name)
    current = state.in_stage(stage)
    if current is not None and current.commit == commit and not opts.force:
        p.already, p.version = True, state.registered().get(commit, "")
        return p
    gone = state.deprecation()
    if gone is not None and not opts.force:
        p.problems = [
            (
                f"{m.name} is deprecated (tag {gone.tag}), as `gto show` says: nothing of it "
                "is promoted; --force promotes it anyway (GTO then sees it active again), or "
                f"delete the deprecation (`git tag -d {gone.tag}`, and on the remote)"
            )
        ]
        return p
    p.problems = recorded_problems(repo, commit, config, lock, m)
    if rollback_from is None and not p.problems:
        p.problems = stage_gate_problems(repo, commit, lock, m)
    if not p.problems:
        note = ""
        if rollback_from is not None:
            left = state.registered().get(rollback_from) or rollback_from[:12]
            note = f" {registry.ROLLBACK_MARK} from {left})"
        _assign(repo, p, opts, tags, note)
    return p


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


def _report(p: Promotion, push: bool, remote: str, json_out: bool, verb: str) -> int:
    if json_out:
        print(json.dumps({**p.as_json(), "pushed": push and bool(p.created)}, indent=2))
    if p.problems:
        say(
            f"{p.model.name} at {p.commit[:12]} not {verb} to {p.stage}:\n  "
            + "\n  ".join(p.problems)
        )
        return 1
    what = f"{p.model.name} {p.version or p.commit[:12]} ({p.commit[:12]})"
    if p.already:
        say(f"{what} is in {p.stage} already; no tag made")
        return 0
    say(f"{verb} {what} to {p.stage}: tag(s) {', '.join(p.created)}")
    if not push:
        say(f"share it with: git push {remote} " + " ".join(p.created))
    return 0


def promote(
    model: str,
    to: str,
    rev: str | None = None,
    opts: Options = Options(),
    push: bool = False,
    remote: str = "origin",
    json_out: bool = False,
) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    gtofiles.gto_config(repo.root).check_stage(to)
    _check_version(opts.version)
    if opts.version and opts.bump != "patch":
        raise BadInput("give either --version or a --bump option, not both")
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    if push:
        fetch_tags(repo, remote)
    p = move(repo, model, to, commit, opts)
    if push and not p.problems:
        push_tags(repo, remote, p.created)
    return _report(p, push, remote, json_out, "promoted")


def previous_in_stage(tags: list[registry.Tag], name: str, stage: str) -> tuple[str, str]:
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


def rollback(
    model: str, stage: str, push: bool = False, remote: str = "origin", json_out: bool = False
) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    gtofiles.gto_config(repo.root).check_stage(stage)
    name = find_model(repo_mod.workspace_config(repo), model, "the workspace").name
    if push:
        fetch_tags(repo, remote)
    current, before = previous_in_stage(registry.read_tags(repo.root), name, stage)
    p = move(repo, name, stage, before, rollback_from=current)
    if push and not p.problems:
        push_tags(repo, remote, p.created)
    return _report(p, push, remote, json_out, "rolled back")
