"""`gitml promote MODEL --to STAGE` and `gitml rollback MODEL --stage STAGE`: GTO tags, gated.

What lets a commit be promoted, and how it is tagged: gitml.promotion. These commands resolve
the arguments, fetch and push the registry tags with --push, and say what happened.
"""

from __future__ import annotations

import json

from gitml import git, gtofiles, paths, promotable, promotion, registry
from gitml import repo as repo_mod
from gitml.errors import BadInput
from gitml.freshness import lock_is_fresh
from gitml.output import say, verdict, warn
from gitml.promotion import Options, Promotion
from gitml.registrysource import Source


def _report(
    p: Promotion, push: bool, remote: str, json_out: bool, verb: str, retired: str = ""
) -> int:
    if json_out:
        print(json.dumps({**p.as_json(), "pushed": push and bool(p.created)}, indent=2))
    if p.problems:
        verdict(
            f"{p.model.name} at {p.commit[:12]} not {verb} to {p.stage}:\n  "
            + "\n  ".join(p.problems)
        )
        return 1
    what = f"{p.model.name} {p.version or p.commit[:12]} ({p.commit[:12]})"
    if p.already:
        verdict(f"{what} is in {p.stage} already; no tag made")
        return 0
    if retired:  # a rollback: what the stage holds now, and what left it
        verdict(
            f"rolled back {p.stage} of {p.model.name}: it holds {p.version or p.commit[:12]} "
            f"({p.commit[:12]}) again, {retired} retired from it: tag(s) {', '.join(p.created)}"
        )
    else:
        verdict(f"{verb} {what} to {p.stage}: tag(s) {', '.join(p.created)}")
    if p.note:
        (say if p.checked else warn)(p.note)
    if not push:
        say(f"share it with: git push {remote} " + " ".join(p.created))
    return 0


def promote(
    model: str,
    to: str,
    rev: str | None,
    opts: Options,
    push: bool = False,
    remote: str = "origin",
    json_out: bool = False,
) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    gtofiles.gto_config(repo.root).check_stage(to)
    promotion.check_version(opts.version)
    if opts.version and opts.bump != "patch":
        raise BadInput("give either --version or a --bump option, not both")
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    if push:
        promotion.fetch_tags(repo, remote)
    model = paths.model_from_cli(repo.root, model)
    p = promotion.move(repo, model, to, commit, opts, is_fresh=lock_is_fresh)
    if push and not p.problems:
        promotion.push_tags(repo, remote, p.created)
    return _report(p, push, remote, json_out, "promoted")


def rollback(
    model: str, stage: str, push: bool = False, remote: str = "origin", json_out: bool = False
) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    gtofiles.gto_config(repo.root).check_stage(stage)
    name = promotable.find(Source(repo.root), paths.model_from_cli(repo.root, model)).model.name
    if push:
        promotion.fetch_tags(repo, remote)
    tags = registry.read_tags(repo.root)
    current, before = promotion.previous_in_stage(tags, name, stage)
    retired = f"{registry.versions(tags, name).get(current) or current[:12]} ({current[:12]})"
    p = promotion.move(repo, name, stage, before, is_fresh=lock_is_fresh, rollback_from=current)
    if push and not p.problems:
        promotion.push_tags(repo, remote, p.created)
    return _report(p, push, remote, json_out, "rolled back", retired)
