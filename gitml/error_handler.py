"""The one error handler at the top: expected failures print one message and exit with their
code; anything else exits 4 with one line, the traceback going to the per-clone log."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from gitml.errors import INTERNAL, GitmlError
from gitml.output import printable


class Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _log_path() -> Path | None:
    from gitml import git

    try:
        _, common = git.toplevel_and_common_dir()
    except Exception:
        return None
    return common / "gitml" / "gitml.log"


def _write_log(text: str) -> str:
    path = _log_path()
    if path is None:
        return "(no git repository: traceback not saved)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError:
        return "(traceback could not be saved)"
    return f"(traceback in {path})"


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn every exception into DESIGN.md's exit codes, raising Exit(code)."""
    try:
        yield
    except GitmlError as exc:
        print(f"gitml: {printable(str(exc))}", file=sys.stderr)
        raise Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("gitml: interrupted; nothing was changed", file=sys.stderr)
        raise Exit(130) from None
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the exit flush
        raise Exit(0) from None
    except Exception as exc:
        where = _write_log(f"gitml {sys.argv[1:]}:\n{traceback.format_exc()}")
        print(
            f"gitml: internal error: {type(exc).__name__}: {printable(str(exc))} {where}",
            file=sys.stderr,
        )
        raise Exit(INTERNAL) from None
