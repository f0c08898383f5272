"""`gitml approve NAME[@VERSION] --stage STAGE` and `gitml verify NAME --stage STAGE`.

approve signs an approval tag (see gitml/approvals.py); verify is the step a deploy job runs:
exit 0 only when what the stage holds was promoted with the approvals its policy requires.
"""

from __future__ import annotations

import json

from gitml import approvals, git, gtofiles, gtotags, registry
from gitml import repo as repo_mod
from gitml.errors import BadInput, CheckFailed
from gitml.output import say, warn


def _version_to_approve(
    root_tags: list[gtotags.Tag], root: repo_mod.Repo, name: str, stage: str
) -> str:
    state = registry.model_state(root_tags, name)
    below = approvals.stage_below(gtofiles.gto_config(root.root).stages or (), stage)
    held = state.in_stage(below) if below else None
    if held is not None and (version := state.registered().get(held.commit)):
        return version
    latest = state.latest()
    if latest is None or latest.version is None:
        raise BadInput(f"{name} has no registered version to approve (see `gitml registry`)")
    return latest.version


def approve(
    target: str,
    stage: str,
    message: str | None = None,
    push: bool = False,
    remote: str = "origin",
) -> int:
    repo = repo_mod.find()
    lookup = gtotags.parse_lookup(target)
    if lookup.stage or lookup.latest:
        raise BadInput(f"approve names a version as NAME@vX.Y.Z (or NAME), not {target!r}")
    gtofiles.gto_config(repo.root).check_stage(stage)
    tags = registry.read_tags(repo.root)
    version = lookup.version or _version_to_approve(tags, repo, lookup.name, stage)
    state = registry.model_state(tags, lookup.name)
    commit = next((c for c, v in state.registered().items() if v == version), None)
    if commit is None:
        gone = version in registry.ever_registered(tags, lookup.name).values()
        raise BadInput(
            f"{lookup.name} {version} is "
            + ("deregistered: it cannot be approved" if gone else "not a registered version")
        )
    tag = approvals.create(repo.root, lookup.name, version, stage, commit, message)
    say(f"approved {lookup.name} {version} ({commit[:12]}) for {stage}: signed tag {tag}")
    if push:
        proc = git.run(["push", remote, f"refs/tags/{tag}"], repo.root, check=False)
        if proc.returncode != 0:
            raise CheckFailed(
                f"the approval was made here but not pushed to {remote!r}: "
                + proc.stderr.decode(errors="replace").strip()
                + f"\n  push it with: git push {remote} refs/tags/{tag}"
            )
        say(f"pushed {tag} to {remote}")
    else:
        say(f"share it with: git push {remote} refs/tags/{tag}")
    return 0


def verify(name: str, stage: str, json_out: bool = False) -> int:
    repo = repo_mod.find()
    gtotags.check_name(name, "model name")
    state = registry.model_state(registry.read_tags(repo.root), name)
    held = state.in_stage(stage)
    if held is None:
        raise CheckFailed(f"{name} has nothing in {stage}: there is nothing to verify")
    version = state.registered().get(held.commit)
    result, problem = approvals.verdict(repo.root, name, version, stage, held)
    if json_out:
        print(json.dumps(_as_json(name, stage, version, held, result, problem), indent=2))
    elif problem is None and result is not None:
        say(f"{name} {version} in {stage} was approved by {', '.join(result.signers)}")
    else:
        warn(f"{name} {version or held.commit[:12]} in {stage} is not verified: {problem}")
        for refused in result.refused if result else []:
            warn(f"  not counted: {refused.tag}: {refused.problem}")
    return 0 if problem is None else 1


def _as_json(
    name: str,
    stage: str,
    version: str | None,
    held: gtotags.Tag,
    result: approvals.Judgement | None,
    problem: str | None,
) -> dict[str, object]:
    return {
        "model": name,
        "stage": stage,
        "version": version,
        "commit": held.commit,
        "promotion": held.tag,
        "verified": problem is None,
        "problem": problem,
        "required": result.required if result else None,
        "approved_by": result.signers if result else [],
        "not_counted": [{"tag": a.tag, "problem": a.problem} for a in result.refused]
        if result
        else [],
    }
