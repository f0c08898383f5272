"""The command line: parses arguments and calls one plain function per command.

Nothing here does work: every command lives in gitml/commands/<name>.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from gitml.error_handler import Exit, handled

app = typer.Typer(
    name="gitml",
    help="Git-native checks, lineage and verified reproduction for ML projects on git + DVC.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

RevArg = Annotated[Optional[str], typer.Argument(help="A commit, branch or tag (default: HEAD).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _done(code: int) -> None:
    raise typer.Exit(code)


@app.command()
def init(
    hooks: Annotated[
        str, typer.Option(help="Install native `git` hooks or `pre-commit` framework hooks.")
    ] = "git",
    ci: Annotated[
        Optional[str],
        typer.Option(
            "--ci",
            help="Also write a CI workflow: `github` (Actions) or `gitlab` (.gitlab-ci.yml).",
        ),
    ] = None,
) -> None:
    """Set gitml up in this git + DVC repository: gitml.yaml, hooks, gitml.lock merge driver.

    Runs `dvc init` if needed, writes gitml.yaml from what dvc.yaml/.dvc files declare, installs
    the hooks next to any that are already there, and is safe to run again.
    """
    from gitml.commands.init import init as run

    _done(run(hooks=hooks, ci=ci))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def hook(
    name: Annotated[
        str, typer.Argument(help="The git hook: pre-commit, pre-push, post-checkout, ...")
    ],
    args: Annotated[
        Optional[list[str]], typer.Argument(help="The arguments git passed the hook.")
    ] = None,
) -> None:
    """Run a git hook's work (what the installed hook shims call)."""
    from gitml.hookfast import main as hook_main

    _done(hook_main([name, *(args or [])]))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def repro(
    args: Annotated[
        Optional[list[str]], typer.Argument(help="Arguments passed to `dvc repro`.")
    ] = None,
) -> None:
    """`dvc repro`, recording the environment that built each output (for gitml.lock)."""
    from gitml.commands.repro import repro as run

    _done(run(args or []))


@app.command()
def check(json_out: JsonOpt = False) -> None:
    """Run what the pre-commit hook runs, on the staged state, without committing.

    Exits 1 when a check fails, an object is missing, or the pipeline is stale (for CI).
    """
    from gitml.commands.check import check as run

    _done(run(json_out=json_out))


@app.command()
def lock(
    check: Annotated[
        bool,
        typer.Option("--check", help="Only say whether gitml.lock is fresh (exit 1 if stale)."),
    ] = False,
    rev: Annotated[
        Optional[str],
        typer.Option(help="With --check: judge this commit instead of the staged state."),
    ] = None,
) -> None:
    """(Re)write gitml.lock for the staged state; `--check` compares its inputs part only."""
    from gitml.commands.lock import lock as run

    _done(run(check=check, rev=rev))


@app.command()
def show(rev: RevArg = None, json_out: JsonOpt = False) -> None:
    """The lineage of a commit: models, their stages, data, params, code and environment."""
    from gitml.commands.show import show as run

    _done(run(rev, json_out=json_out))


@app.command()
def restore(
    rev: RevArg = None,
    paths: Annotated[
        Optional[list[str]],
        typer.Option("--path", help="Restore only this DVC-tracked path (repeatable)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace your edits too, after saving their bytes into the DVC cache "
            "(it prints how to get them back).",
        ),
    ] = False,
) -> None:
    """Put REV's exact data and model bytes into the workspace, verified against gitml.lock.

    Objects missing from the local cache are fetched from the DVC remote. A file whose bytes
    are in no DVC cache is your edit: kept and named (exit 1), unless --force.
    """
    from gitml.commands.restore import restore_command

    _done(restore_command(rev, paths, force=force))


@app.command()
def test(
    models: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Models to test, by path or name (default: every model with tests or gates)."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the model tests (pytest with gitml's fixtures) and metric gates on the staged state.

    Exit 0 when every test and gate passes, 1 when one fails, 2 on bad input (e.g. a gate naming
    a metric that does not exist). Results are cached per clone, as the commit hook's are.
    """
    from gitml.commands.test import test as run

    _done(run(models or [], json_out=json_out))


@app.command()
def validate(
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(help="Datasets to validate (default: every dataset with a suite)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the great-expectations suites on the workspace data; a table of failed expectations.

    Exit 0 when every suite passes, 1 when an expectation fails, 2 on bad input (a suite GX
    cannot load, a column that does not exist, unreadable or empty data).
    """
    from gitml.commands.validate import validate as run

    _done(run(paths or [], json_out=json_out))


suite_app = typer.Typer(
    help="Great-expectations suites for the datasets in gitml.yaml.", no_args_is_help=True
)
app.add_typer(suite_app, name="suite")


@suite_app.command("init")
def suite_init(
    path: Annotated[str, typer.Argument(help="The dataset (a DVC-tracked file or directory).")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the suite if it already exists.")
    ] = False,
) -> None:
    """Scaffold .gitml/suites/<name>.json from the data as it is, and name it in gitml.yaml.

    Columns and their order, types, not-null, min/max with a visible margin, value sets for
    low-cardinality columns, a row-count range: review and edit it, then commit it.
    """
    from gitml.commands.suite import init as run

    _done(run(path, force=force))


@app.command("log")
def log_(
    model: Annotated[
        Optional[str],
        typer.Argument(help="The model, by path or gitml.yaml name (default: every model)."),
    ] = None,
    limit: Annotated[
        Optional[int], typer.Option("-n", "--max-count", help="Show at most N versions per model.")
    ] = None,
    json_out: JsonOpt = False,
    plot: Annotated[
        Optional[str],
        typer.Option(
            "--plot", metavar="METRIC", help="Plot METRIC over the history (a sparkline, or --out)."
        ),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="With --plot: write the plot to FILE.png (matplotlib) or .svg."),
    ] = None,
) -> None:
    """The history of a model: one row per commit that changed it, newest first.

    Reads every gitml.lock version from git without checking anything out: commit, date,
    subject, model md5, metrics, checks, registry (GTO) tags and what changed.
    """
    from gitml.commands.log import log as run

    _done(run(model, limit, json_out=json_out, plot=plot, out=out))


@app.command("diff")
def diff_(
    a: Annotated[Optional[str], typer.Argument(help="The base commit (default: HEAD).")] = None,
    b: Annotated[
        Optional[str], typer.Argument(help="The commit to compare (default: the staged state).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed between two commits: data, params, code, environment, metrics (with deltas)."""
    from gitml.commands.diff import diff as run

    _done(run(a, b, json_out=json_out))


@app.command()
def report(
    a: Annotated[Optional[str], typer.Argument(help="The base commit (default: HEAD).")] = None,
    b: Annotated[
        Optional[str], typer.Argument(help="The commit to report on (default: the staged state).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="`md` (Markdown with a Mermaid graph) or `html`.")
    ] = "md",
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Write the report to FILE (default: stdout).")
    ] = None,
) -> None:
    """A pull-request report: verdict, metric deltas vs the base, checks, changes, lineage graph."""
    from gitml.commands.report import report as run

    _done(run(a, b, fmt=fmt, out=out))


@app.command()
def reproduce(
    rev: RevArg = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Copy the rebuilt models into this directory.")
    ] = None,
    env: Annotated[
        str,
        typer.Option(
            "--env",
            help="`current`: rebuild with the project's interpreter; `locked`: a fresh venv of the recorded packages.",
        ),
    ] = "current",
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary worktree and print its path.")
    ] = False,
    twice: Annotated[
        bool,
        typer.Option("--twice", help="Rebuild twice to tell a nondeterministic pipeline apart."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Rebuild REV in an isolated worktree and verify the model: identical, equivalent or different.

    Exit 0 identical, 3 equivalent (bytes differ, metrics within reproduce.tolerance),
    1 different (with the diagnosis: inputs, environment, seeds). Your worktree is never touched.
    """
    from gitml.commands.reproduce import reproduce as run

    _done(run(rev, out, env, keep, twice, json_out))


ModelArg = Annotated[str, typer.Argument(help="The model: its gitml.yaml name or path.")]
PushOpt = Annotated[
    bool, typer.Option("--push", help="Push the new tags to the git remote (see --remote).")
]
RemoteOpt = Annotated[str, typer.Option("--remote", help="The git remote --push pushes to.")]


@app.command()
def promote(
    model: ModelArg,
    to: Annotated[str, typer.Option("--to", help="The stage, e.g. production or staging.")],
    rev: Annotated[
        Optional[str], typer.Option("--rev", help="The commit to promote (default: HEAD).")
    ] = None,
    version: Annotated[
        Optional[str],
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
        Optional[str],
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
    from gitml.errors import BadInput
    from gitml.promotion import Options

    if bump_minor and bump_major:
        raise BadInput("give one of --bump-minor and --bump-major, not both")
    bump = "major" if bump_major else "minor" if bump_minor else "patch"
    opts = Options(version, bump, message, simple, force)
    _done(run(model, to, rev, opts, push, remote, json_out))


@app.command()
def rollback(
    model: ModelArg,
    stage: Annotated[str, typer.Option("--stage", help="The stage to roll back.")],
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    json_out: JsonOpt = False,
) -> None:
    """Give a stage back the version it held before the current one (a new GTO tag)."""
    from gitml.commands.promote import rollback as run

    _done(run(model, stage, push, remote, json_out))


@app.command()
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
        Optional[str], typer.Option("-m", "--message", help="Why you approve (in the tag).")
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

    _done(run(target, stage, message, push, remote))


@app.command()
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

    _done(run(model, stage, json_out))


@app.command()
def registry(
    name: Annotated[
        Optional[str],
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
        Optional[str],
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
    from gitml.errors import BadInput

    if history:
        if version or ref:
            raise BadInput("--history lists events: not with --version or --ref")
        _done(show_history(name, json_out, repo_url))
    if name is None:
        if version or ref:
            raise BadInput("--version and --ref need a NAME, NAME#STAGE or NAME@VERSION")
        _done(show_registry(json_out, repo_url))
    _done(show_lookup(name, version, ref, json_out, repo_url))


@app.command()
def drift(
    path: Annotated[
        str,
        typer.Argument(
            help="A dataset of gitml.yaml in the workspace, or with --dataset any file or "
            "directory of the same table (e.g. serving data exported from production), inside "
            "the work tree or outside it."
        ),
    ],
    against: Annotated[
        str,
        typer.Option(
            "--against", help="A registry stage (the commit its models are in) or a commit."
        ),
    ] = "production",
    dataset: Annotated[
        Optional[str],
        typer.Option(
            "--dataset",
            help="The recorded dataset PATH is compared with, as gitml.yaml names it "
            "(e.g. data/wine.csv); its reader options apply. Default: PATH itself.",
        ),
    ] = None,
    model: Annotated[
        Optional[str],
        typer.Option("--model", help="With a stage: the model whose commit to use."),
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="PSI at or above which a column has drifted.")
    ] = 0.25,
    json_out: JsonOpt = False,
) -> None:
    """Compare data now with the profile gitml.lock recorded for a dataset at a commit.

    Per column: the population stability index over the bins recorded at validation time
    (a histogram of tie-aware deciles and frequent values for numbers, each value of a number
    column of few, the top values for others), nulls included, and schema changes. Identical
    data gives PSI 0. Exit 1 when a column drifted.
    """
    from gitml.commands.drift import drift_command as run

    _done(run(path, against, model, threshold, json_out, dataset))


@app.command()
def doctor(json_out: JsonOpt = False) -> None:
    """Check the set-up: hooks installed and chained, DVC, remote, config, manifest freshness."""
    from gitml.commands.doctor import doctor as run

    _done(run(json_out=json_out))


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Argument(help="An empty or missing directory to build the example in.")
    ],
) -> None:
    """Build the example project (git + DVC + sklearn on the wine data) and run gitml on it."""
    from gitml.commands.demo import demo as run

    _done(run(directory))


def main(argv: list[str] | None = None) -> int:
    try:
        with handled():
            app(args=argv, prog_name="gitml")
    except Exit as e:
        return e.code
    except SystemExit as e:  # typer/click's own exit, usage errors included (code 2)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
