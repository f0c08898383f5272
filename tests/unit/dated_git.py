"""git run at a set date, for the unit tests whose meaning rests on tag and commit dates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DAY = "2026-01-01T"


def dated_git(root: Path, *args: str, date: str = "09:00:00") -> str:
    env = {**os.environ, "GIT_COMMITTER_DATE": DAY + date, "GIT_AUTHOR_DATE": DAY + date}
    proc = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()
