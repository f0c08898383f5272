"""gitml/output.py: how much is said at each level (-q, default, -v), in process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitml import output


@pytest.fixture(autouse=True)
def normal_level() -> Iterator[None]:
    yield
    output.set_level("normal")


def said(capsys: pytest.CaptureFixture[str], level: output.Level) -> list[str]:
    """What each kind of line prints at `level`, stderr not being a terminal (a pipe)."""
    output.set_level(level)
    output.say("did a thing")
    output.verdict("checks passed")
    output.warn("could not read x")
    output.say_on_terminal("validating data/x.csv")
    output.debug("resolved HEAD")
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.splitlines()


def test_quiet_keeps_only_the_verdict_and_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert said(capsys, "quiet") == ["gitml: checks passed", "gitml: warning: could not read x"]


def test_normal_leaves_the_steps_to_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert said(capsys, "normal") == [
        "gitml: did a thing",
        "gitml: checks passed",
        "gitml: warning: could not read x",
    ]


def test_verbose_says_the_steps_in_a_pipe_too_and_debug_detail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert said(capsys, "verbose") == [
        "gitml: did a thing",
        "gitml: checks passed",
        "gitml: warning: could not read x",
        "gitml: validating data/x.csv",
        "gitml: debug: resolved HEAD",
    ]


def test_a_piped_table_is_printed_whole(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.table import Table

    table = Table("metric", "value")
    table.add_row("recall", "0.427932 " + "x" * 150)
    output.console().print(table)
    lines = capsys.readouterr().out.splitlines()
    assert any("0.427932 " + "x" * 150 in line for line in lines), lines
