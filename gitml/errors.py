"""One family of expected failures; the top-level handler maps them to DESIGN.md's exit codes."""

from __future__ import annotations

PASSED = 0
CHECK_FAILED = 1
BAD_INPUT = 2
EQUIVALENT = 3
INTERNAL = 4


class GitmlError(Exception):
    """An expected failure: printed as one message, exits with `exit_code`."""

    exit_code = BAD_INPUT


class BadInput(GitmlError):
    """Bad input or usage: a clear message, nothing changed (exit 2)."""

    exit_code = BAD_INPUT


class CheckFailed(GitmlError):
    """A check failed: validation, test, gate, stale manifest, missing object (exit 1)."""

    exit_code = CHECK_FAILED


class GitError(BadInput):
    """A git command failed; the message carries the command and git's own words."""
