"""The registry commands of the command line: promote, rollback, registry (GTO tags), approve
and verify (signed approvals); and lineage, the export of a commit's lineage for auditors.

Parsed here, registered on the app by gitml/cli.py in their place; each calls
gitml/commands/promote.py or gitml/commands/registry.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitml.cli_options import JsonOpt, OldRevOpt, done, revision
from gitml.errors import BadInput

ModelArg = Annotated[
    str, typer.Argument(metavar="MODEL", help="The model: its gitml.yaml name or path.")
]
PromotedRevArg = Annotated[
    str | None, typer.Argument(metavar="REV", help="The commit to promote (default: HEAD).")
]
PushOpt = Annotated[
    bool, typer.Option("--push", help="Push the new tags to the git remote (see --remote).")
]
RemoteOpt = Annotated[str, typer.Option("--remote", help="The git remote --push pushes to.")]


def promote(
    model: ModelArg,
    to: Annotated[
        str, typer.Option("--to", metavar="STAGE", help="The stage, e.g. production or staging.")
    ],
    rev: PromotedRevArg = None,
    old_rev: OldRevOpt = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="Register the commit as this vX.Y.Z (default: the next patch)."
        ),
    ] = None,
    bump_minor: Annotated[
        bool,
        typer.Option("--bump-minor", help="Register the next minor version (v1.3.0 after v1.2.5)."),
    ] = False,
    bump_major: Annotated[
        bool,
        typer.Option("--bump-major", help="Register the next major version (v2.0.0 after v1.2.5)."),
    ] = False,
    message: Annotated[
        str | None,
        typer.Option("-m", "--message", help="The stage tag's message (default: GTO's)."),
    ] = None,
    simple: Annotated[
        bool,
        typer.Option(
            "--simple",
            help="Tag `NAME#STAGE` without a counter (GTO's simple notation; one per stage).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Tag even when the stage holds the commit already or the model is deprecated "
            "(the recorded checks and gates still apply).",
        ),
    ] = False,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    json_out: JsonOpt = False,
) -> None:
    """Put a commit's model into a stage with GTO tags, if its recorded checks passed.

    Refused (exit 1, saying why) when the commit's gitml.lock is missing or stale, its pipeline
    is stale, its tests, gates or data validation failed, a gate against a registry stage
    (`baseline: production`) fails against what that stage holds now, or the model is
    deprecated; a stage `.gto` does not allow is bad input (exit 2). Registers a version
    (`NAME@vX.Y.Z`) if the commit has none, then tags `NAME#STAGE#N`, readable by `gto show`.
    """
    from gitml.commands.promote import promote as run
    from gitml.promotion import Options

    opts = Options(version, _bump(bump_minor, bump_major), message, simple, force)
    rev = revision(rev, old_rev, "gitml promote MODEL REV --to STAGE")
    done(run(model, to, rev, opts, push, remote, json_out))


def _bump(minor: bool, major: bool) -> str:
    if minor and major:
        raise BadInput("give one of --bump-minor and --bump-major, not both")
    return "major" if major else "minor" if minor else "patch"


def rollback(
    model: ModelArg,
    stage: Annotated[str, typer.Option("--stage", help="The stage to roll back.")],
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    json_out: JsonOpt = False,
) -> None:
    """Give a stage back the version it held before the current one (a new GTO tag)."""
    from gitml.commands.promote import rollback as run

    done(run(model, stage, push, remote, json_out))


def registry(
    name: Annotated[
        str | None,
        typer.Argument(
            help="One model: NAME (its versions), NAME#STAGE (what the stage holds), "
            "NAME@vX.Y.Z or NAME@latest, as `gto show` takes them (default: every model)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", help="With NAME...: print only the version(s).")
    ] = False,
    ref: Annotated[
        bool,
        typer.Option(
            "--ref", help="With NAME...: print only the git ref(s), its registration tag, as GTO."
        ),
    ] = False,
    history: Annotated[
        bool,
        typer.Option("--history", help="The registry events, newest first, as `gto history`."),
    ] = False,
    repo_url: Annotated[
        str | None,
        typer.Option(
            "-r", "--repo", help="Read another repository's registry (URL or path), unfetched."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Every model's versions, what each stage holds now and each version's signed approvals
    (verified: approvers and the number the policy requires), read from the GTO tags.

    Models are those of gitml.yaml, dvc.yaml `artifacts:`, GTO's artifacts.yaml and the tags.
    With NAME#STAGE (or @VERSION, @latest): exit 1 when it names nothing. With -r, the tags and
    default branch of that repository are fetched without file contents into a temporary
    repository, and its files are read as its HEAD commit has them.
    """
    from gitml.commands.registry import show_history, show_lookup, show_registry

    if history:
        if version or ref:
            raise BadInput("--history lists events: not with --version or --ref")
        done(show_history(name, json_out, repo_url))
    if name is None:
        if version or ref:
            raise BadInput("--version and --ref need a NAME, NAME#STAGE or NAME@VERSION")
        done(show_registry(json_out, repo_url))
    done(show_lookup(name, version, ref, json_out, repo_url))


def approve(
    target: Annotated[
        str,
        typer.Argument(
            help="NAME@vX.Y.Z, or NAME: the version the stage before STAGE holds (`.gto` "
            "stages order), else the latest."
        ),
    ],
    stage: Annotated[str, typer.Option("--stage", help="The stage the approval is for.")],
    message: Annotated[
        str | None, typer.Option("-m", "--message", help="Why you approve (in the tag).")
    ] = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
) -> None:
    """Approve a model version for a stage with a signed git tag (`git tag -s`).

    Signed with your git signing key (`gpg.format ssh` and `user.signingkey`, or GPG). gitml.yaml's
    `registry: {approvals: {STAGE: {required: N, signers: FILE}}}` makes `gitml promote --to
    STAGE` wait for N such approvals from distinct signers listed in FILE (git's allowed-signers
    format), not counting the commit's author; the promoter's own approval never counts alone.
    The tag (`gitml-approval/...`) is one GTO does not read.
    """
    from gitml.commands.approve import approve as run

    done(run(target, stage, message, push, remote))


def verify(
    model: ModelArg,
    stage: Annotated[str, typer.Option("--stage", help="The stage to verify.")],
    json_out: JsonOpt = False,
) -> None:
    """Exit 0 only if what STAGE holds was promoted with the approvals gitml.yaml requires.

    The step a deploy job runs: each approval is a signed tag checked by `git verify-tag`
    against the allowed-signers file as it stood at the promoted commit, made no later than the
    promotion. Exit 1 names who approved, who is missing and each approval not counted.
    """
    from gitml.commands.approve import verify as run

    done(run(model, stage, json_out))


def lineage(
    rev: Annotated[
        str | None,
        typer.Argument(help="A commit, or a range A..B (default: HEAD)."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="`openlineage` (a JSON array of RunEvents) or `prov`."),
    ] = "openlineage",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the export to FILE (default: stdout).")
    ] = None,
    emit: Annotated[
        str | None,
        typer.Option(
            "--emit",
            help="Send the OpenLineage events to this HTTP endpoint (POST URL/api/v1/lineage, "
            "as Marquez takes them).",
        ),
    ] = None,
    all_commits: Annotated[
        bool, typer.Option("--all", help="Every commit of REV's history, oldest first.")
    ] = False,
) -> None:
    """A commit's lineage in a standard format: OpenLineage RunEvents or W3C PROV-JSON.

    One COMPLETE RunEvent per DVC stage of the commit (run id derived from commit and stage: an
    export is the same every time), its deps and outs with their md5, the data validation and
    profile gitml.lock recorded, the environment as the `gitml_environment` facet. PROV: the
    datasets, models, code and params as entities, the stage runs as activities, the author
    and committer as agents. With `--emit`, nothing is printed unless `--out` is given.
    """
    from gitml.commands.lineage import lineage as run

    done(run(rev, fmt, out, emit, all_commits))
