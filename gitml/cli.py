"""The command line: parses arguments and calls one plain function per command.

Nothing here does work: every command lives in gitml/commands/<name>.py. The registry commands'
parsing is in gitml/cli_registry.py, the options several commands share in gitml/cli_options.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitml import notes, output
from gitml.cli_options import JsonOpt, OldRevOpt, RevArg, Typer, done, revision
from gitml.cli_registry import approve, lineage, promote, registry, rollback, verify
from gitml.error_handler import Exit, handled

app = Typer(
    name="gitml",
    help="Git-native checks, lineage and verified reproduction for ML projects on git + DVC.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(asked: bool) -> None:
    if asked:
        from gitml import __version__

        print(__version__)
        raise typer.Exit(0)


@app.callback()
def _edge(
    quiet: Annotated[
        bool,
        typer.Option("-q", "--quiet", help="Say only errors, warnings and the verdict."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "-v", "--verbose", help="Also say the steps of long work (when piped too) and details."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print gitml's version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    # Every command runs here first: what domain code tells goes to the terminal (stderr), as
    # much of it as -q/-v ask for.
    if quiet and verbose:
        from gitml.errors import BadInput

        raise BadInput("give -q/--quiet or -v/--verbose, not both")
    output.set_level("quiet" if quiet else "verbose" if verbose else "normal")
    if verbose:
        from gitml import git

        git.trace = output.debug
    notes.tell_with(output)


@app.command()
def init(
    hooks: Annotated[
        str, typer.Option(help="Install native `git` hooks or `pre-commit` framework hooks.")
    ] = "git",
    ci: Annotated[
        str | None,
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

    done(run(hooks=hooks, ci=ci))


@app.command(
    hidden=True, context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def hook(
    name: Annotated[
        str, typer.Argument(help="The git hook: pre-commit, pre-push, post-checkout, ...")
    ],
    args: Annotated[
        list[str] | None, typer.Argument(help="The arguments git passed the hook.")
    ] = None,
) -> None:
    """Run a git hook's work (what the installed hook shims call)."""
    from gitml.hookfast import main as hook_main

    done(hook_main([name, *(args or [])]))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def repro(
    args: Annotated[
        list[str] | None, typer.Argument(help="Arguments passed to `dvc repro`.")
    ] = None,
) -> None:
    """`dvc repro`, recording the environment that built each output (for gitml.lock)."""
    from gitml.commands.repro import repro as run

    done(run(args or []))


@app.command()
def check(json_out: JsonOpt = False) -> None:
    """Run what the pre-commit hook runs, on the staged state, without committing.

    Exits 1 when a check fails, an object is missing, or the pipeline is stale (for CI).
    """
    from gitml.commands.check import check as run

    done(run(json_out=json_out))


@app.command()
def lock(
    rev: Annotated[
        str | None,
        typer.Argument(
            metavar="REV",
            help="With --check: judge this commit instead of the staged state.",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Only say whether gitml.lock is fresh (exit 1 if stale)."),
    ] = False,
    old_rev: OldRevOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """(Re)write gitml.lock for the staged state; `--check` compares its inputs part only."""
    from gitml.commands.lock import lock as run
    from gitml.errors import BadInput

    rev = revision(rev, old_rev, "gitml lock --check REV")
    if rev is not None and not check:
        raise BadInput(
            f"a REV goes with --check (`gitml lock --check {rev}`): `gitml lock` "
            "writes gitml.lock for the staged state"
        )
    done(run(check=check, rev=rev, json_out=json_out))


@app.command()
def show(rev: RevArg = None, json_out: JsonOpt = False) -> None:
    """The lineage of a commit: models, their stages, data, params, code and environment."""
    from gitml.commands.show import show as run

    done(run(rev, json_out=json_out))


@app.command()
def restore(
    rev: RevArg = None,
    paths: Annotated[
        list[str] | None,
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
    json_out: JsonOpt = False,
) -> None:
    """Put REV's exact data and model bytes into the workspace, verified against gitml.lock.

    Objects missing from the local cache are fetched from the DVC remote. A file whose bytes
    are in no DVC cache is your edit: kept and named (exit 1), unless --force.
    """
    from gitml.commands.restore import restore_command

    done(restore_command(rev, paths, force=force, json_out=json_out))


@app.command()
def test(
    models: Annotated[
        list[str] | None,
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

    done(run(models or [], json_out=json_out))


@app.command()
def validate(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Datasets to validate (default: every dataset with a suite)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the great-expectations suites on the workspace data; a table of failed expectations.

    Exit 0 when every suite passes, 1 when an expectation fails, 2 on bad input (a suite GX
    cannot load, a column that does not exist, unreadable or empty data).
    """
    from gitml.commands.validate import validate as run

    done(run(paths or [], json_out=json_out))


suite_app = Typer(
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

    done(run(path, force=force))


@app.command("log")
def log_(
    model: Annotated[
        str | None,
        typer.Argument(help="The model, by path or gitml.yaml name (default: every model)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("-n", "--max-count", help="Show at most N versions per model.")
    ] = None,
    json_out: JsonOpt = False,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot", metavar="METRIC", help="Plot METRIC over the history (a sparkline, or --out)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="With --plot: write the plot to FILE.png (matplotlib) or .svg."),
    ] = None,
) -> None:
    """The history of a model: one row per commit that changed it, newest first.

    Reads every gitml.lock version from git without checking anything out: commit, date,
    subject, model md5, metrics, checks, registry (GTO) tags and what changed.
    """
    from gitml.commands.log import log as run

    done(run(model, limit, json_out=json_out, plot=plot, out=out))


@app.command("diff")
def diff_(
    a: Annotated[str | None, typer.Argument(help="The base commit (default: HEAD).")] = None,
    b: Annotated[
        str | None, typer.Argument(help="The commit to compare (default: the staged state).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """What changed between two commits: data, params, code, environment, metrics (with deltas)."""
    from gitml.commands.diff import diff as run

    done(run(a, b, json_out=json_out))


@app.command()
def report(
    a: Annotated[str | None, typer.Argument(help="The base commit (default: HEAD).")] = None,
    b: Annotated[
        str | None, typer.Argument(help="The commit to report on (default: the staged state).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="`md` (Markdown with a Mermaid graph) or `html`.")
    ] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report to FILE (default: stdout).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """A pull-request report: verdict, metric deltas vs the base, checks, changes, lineage graph."""
    from gitml.commands.report import report as run

    done(run(a, b, fmt=fmt, out=out, json_out=json_out))


@app.command()
def reproduce(
    rev: RevArg = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Copy the rebuilt models into this directory.")
    ] = None,
    env: Annotated[
        str,
        typer.Option(
            "--env",
            help="`current`: rebuild with the project's interpreter; "
            "`locked`: a fresh venv of the recorded packages.",
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

    done(run(rev, out, env, keep, twice, json_out))


app.command()(promote)
app.command()(rollback)
app.command()(registry)
app.command()(approve)
app.command()(verify)
app.command()(lineage)


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
        str | None,
        typer.Option(
            "--dataset",
            help="The recorded dataset PATH is compared with, as gitml.yaml names it "
            "(e.g. data/wine.csv); its reader options apply. Default: PATH itself.",
        ),
    ] = None,
    model: Annotated[
        str | None,
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

    done(run(path, against, model, threshold, json_out, dataset))


@app.command()
def doctor(json_out: JsonOpt = False) -> None:
    """Check the set-up: hooks installed and chained, DVC, remote, config, manifest freshness."""
    from gitml.commands.doctor import doctor as run

    done(run(json_out=json_out))


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Argument(help="An empty or missing directory to build the example in.")
    ],
) -> None:
    """Build the example project (git + DVC + sklearn on the wine data) and run gitml on it."""
    from gitml.commands.demo import demo as run

    done(run(directory))


def main(argv: list[str] | None = None) -> int:
    try:
        with handled():
            app(args=argv, prog_name="gitml")
    except Exit as e:
        return e.code
    except SystemExit as e:  # typer/click's own exit, usage errors included (code 2)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
