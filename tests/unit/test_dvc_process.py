"""gitml/dvc_process.py: DVC's output as the user sees it from a rebuild, in process."""

from __future__ import annotations

from gitml.dvc_process import WithoutAdvice, running_stage

# `dvc repro --no-commit` in gitml's temporary worktree, as DVC 3.67 prints it
DVC_OUTPUT = """Verifying data sources in stage: 'data/wine.csv.dvc'

Running stage 'prepare':
> python src/prepare.py

Running stage 'train':
> python src/train.py
a line the stage printed

To track the changes with git, run:

\tgit add data/wine.csv.dvc dvc.lock

To enable auto staging, run:

\tdvc config core.autostage true
Use `dvc push` to send your updates to remote storage.
"""


def test_dvc_advice_for_the_worktree_is_left_out_and_everything_else_kept() -> None:
    seen: list[str] = []
    sink = WithoutAdvice(seen.append)
    for line in DVC_OUTPUT.splitlines(keepends=True):
        sink(line)
    assert "".join(seen) == (
        "Verifying data sources in stage: 'data/wine.csv.dvc'\n\n"
        "Running stage 'prepare':\n> python src/prepare.py\n\n"
        "Running stage 'train':\n> python src/train.py\na line the stage printed\n"
    )


def test_a_stage_printing_git_add_itself_is_kept() -> None:
    seen: list[str] = []
    sink = WithoutAdvice(seen.append)
    for line in ("> python src/train.py\n", "\tgit add is what I say\n"):
        sink(line)
    assert seen == ["> python src/train.py\n", "\tgit add is what I say\n"]


def test_the_stage_dvc_starts_is_read_from_its_line() -> None:
    assert running_stage("Running stage 'train':\n") == "train"
    assert (
        running_stage("Running stage 'sub/dir/dvc.yaml:train@rf':") == "sub/dir/dvc.yaml:train@rf"
    )
    assert running_stage("> python src/train.py") is None
