"""The README's first command: `gitml demo DIR` runs gitml's whole job on the embedded example
and ends with `gitml reproduce` saying identical."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import gitml, run


def test_the_demo_runs_end_to_end_and_reproduces_identically(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    r = gitml("demo", target, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    assert "gitml.lock updated" in out
    assert "the exact bytes of that commit" in out
    lines = [x for x in out.splitlines() if x.strip()]
    assert lines[-1].startswith("gitml demo: done") and lines[-2] == "identical", lines[-3:]
    assert re.search(r"^target\s+values\s+0\.000\s+stable", out, re.M)  # gitml drift
    assert "promoted wine-classifier v0.0.1" in out
    repo = target / "repo"
    lock = run("git", "show", "HEAD:gitml.lock", cwd=repo).stdout
    assert lock.startswith("schema: gitml.lock/1\n")
    shown = json.loads(gitml("show", "--json", cwd=repo, check=True).stdout)
    assert shown["data"]["data/wine.csv"]["validation"]["success"] is True
    assert run("git", "status", "--porcelain", cwd=repo).stdout == ""
    # run again into the same, now full, directory: refused, nothing touched
    again = gitml("demo", target, cwd=tmp_path)
    assert again.returncode == 2 and "is not empty" in again.stderr
