"""gitml/registryhistory.py: registry events as `gto history` lists them, on real tags.

Tags are made by `git tag -a` with their tagger date set (GIT_COMMITTER_DATE, with its zone);
the end result is compared with `gto history --json` itself, once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gitml import registryhistory
from unit.dated_git import dated_git

_git = dated_git


def test_events_in_gtos_order_with_gtos_fields(tmp_path: Path) -> None:
    root = tmp_path
    _git(root, "init", "-q")
    commits = []
    for i in range(3):
        (root / "f").write_text(str(i))
        _git(root, "add", "f")
        _git(root, "commit", "-qm", f"c{i}", date=f"09:00:0{i}")
        commits.append(_git(root, "rev-parse", "HEAD"))
    a, b, c = commits
    steps = [
        ("m@v0.0.1", a, "10:00:00"),
        ("m#prod#1", a, "10:00:01"),
        ("m#prod#2", c, "10:00:02"),  # an unregistered commit: its version is its hash
        ("m@v0.0.2", b, "10:00:02"),  # the same second: a registration sorts before
        ("m#prod!#3", a, "10:00:03"),
        ("m@deprecated", a, "10:00:04"),
        ("x=other@v1.0.0", b, "11:30:05+01:30"),  # 10:00:05 UTC, in another zone, another artifact
        ("m#prod#9", b, "10:00:06"),
    ]
    for name, commit, at in steps:
        _git(root, "tag", "-a", "-m", f"{name}\n\nbody", name, commit, date=at)
    _git(root, "tag", "-d", "m#prod#9")
    _git(root, "tag", "m#prod#9", b)  # lightweight: not an event (GTO ignores it)

    tags, taggers = registryhistory.read(root, "m")
    events = registryhistory.events(tags, taggers, "m")
    assert [e.tag.tag for e in events] == [
        "m@deprecated", "m#prod!#3", "m#prod#2", "m@v0.0.2", "m#prod#1", "m@v0.0.1",
    ]  # fmt: skip
    first = events[2].as_json()
    assert (first["event"], first["version"], first["stage"], first["priority"]) == (
        "assignment", c, "prod", 5,
    )  # fmt: skip
    assert first["message"] == "m#prod#2\n\nbody" and first["author_email"] == "tests@gitml.invalid"
    assert events[0].as_json()["version"] is None  # a deprecation has none
    assert events[1].as_json()["version"] == "v0.0.1"

    every = [e.as_json() for e in registryhistory.events(*registryhistory.read(root))]
    assert every[0]["timestamp"] == "2026-01-01T11:30:05+01:30"
    assert every[0]["artifact"] == "x:other"
    gto = Path(sys.executable).with_name("gto")
    theirs = subprocess.run(
        [str(gto), "history", "--json"], cwd=root, capture_output=True, text=True, check=True
    )
    assert every == json.loads(theirs.stdout)
