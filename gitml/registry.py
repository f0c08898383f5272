"""The model registry kept in git tags, in GTO's grammar, so `gto show` reads what gitml writes.

`NAME@vX.Y.Z` registers a version of a commit (`NAME@vX.Y.Z!` deregisters it); `NAME#STAGE#N`
assigns a stage to the commit it points to and `NAME#STAGE!#N` unassigns it, N counting up over
every tag of NAME. All are annotated tags (GTO reads their tagger date and message). The newest
assignment of a stage (highest N) says what is in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gitml import git
from gitml.errors import BadInput

# GTO's own patterns (gto/constants.py): what it accepts as an artifact or stage name.
_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
NAME_RE = re.compile(rf"^{_NAME}$")
_SEMVER = r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)(?P<pre>[-+][0-9A-Za-z.\-+]*)?"
VERSION_RE = re.compile(rf"^v{_SEMVER}$")
_TAG = re.compile(
    rf"^(?P<name>{_NAME})(?:@(?P<version>v{_SEMVER})|#(?P<stage>{_NAME}))(?P<cancel>!?)"
    r"(?:#(?P<counter>\d+))?$"
)


@dataclass(frozen=True)
class Tag:
    """One registry tag of a model."""

    tag: str
    model: str
    commit: str  # the commit it points to (annotated tags peeled)
    version: str | None = None  # "v1.2.3" for a registration
    stage: str | None = None  # for an assignment
    cancel: bool = False  # a deregistration / unassignment
    counter: int = 0
    annotated: bool = True

    @property
    def semver(self) -> tuple[int, int, int] | None:
        m = VERSION_RE.match(self.version or "")
        return (int(m["major"]), int(m["minor"]), int(m["patch"])) if m and not m["pre"] else None


def parse_tag(tag: str, commit: str, annotated: bool = True) -> Tag | None:
    m = _TAG.match(tag)
    if not m:
        return None
    return Tag(
        tag,
        m["name"],
        commit,
        m["version"],
        m["stage"],
        m["cancel"] == "!",
        int(m["counter"] or 0),
        annotated,
    )


def read_tags(root: Path) -> list[Tag]:
    """Every registry tag of the repository, in one git call."""
    out = git.out(
        [
            "for-each-ref",
            "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)",
            "refs/tags",
        ],
        root,
    )
    tags = []
    for line in out.splitlines():
        name, obj, peeled = (line.split("\t") + ["", ""])[:3]
        found = parse_tag(name, peeled or obj, annotated=bool(peeled))
        if found is not None:
            tags.append(found)
    return tags


def check_name(name: str, what: str) -> None:
    if not NAME_RE.match(name):
        raise BadInput(
            f"{what} {name!r} is not a name GTO accepts in a tag (letters, digits, '-', '_', '/', "
            "starting and ending with a letter or digit)"
            + ("; set `name:` for it in gitml.yaml" if what == "model name" else "")
        )


def of_model(tags: list[Tag], model: str) -> list[Tag]:
    return [t for t in tags if t.model == model]


def versions(tags: list[Tag], model: str) -> dict[str, str]:
    """{commit: version} of the registered (not deregistered) versions of `model`."""
    found: dict[str, str] = {}
    cancelled = {t.version for t in tags if t.model == model and t.version and t.cancel}
    for t in of_model(tags, model):
        if t.version and not t.cancel and t.version not in cancelled:
            found.setdefault(t.commit, t.version)
    return found


def latest_version(tags: list[Tag], model: str) -> Tag | None:
    """The registration with the highest plain X.Y.Z version."""
    registered = set(versions(tags, model).values())
    found = [t for t in of_model(tags, model) if t.version in registered and t.semver]
    return max(found, key=lambda t: t.semver or (0, 0, 0)) if found else None


def next_version(tags: list[Tag], model: str) -> str:
    """GTO's default for a new registration: the latest version with its patch bumped."""
    latest = latest_version(tags, model)
    if latest is None or latest.semver is None:
        return "v0.0.1"
    major, minor, patch = latest.semver
    return f"v{major}.{minor}.{patch + 1}"


def next_counter(tags: list[Tag], model: str) -> int:
    return max((t.counter for t in of_model(tags, model)), default=0) + 1


def stage_history(tags: list[Tag], model: str, stage: str) -> list[Tag]:
    """The assignments and unassignments of `stage`, oldest first."""
    return sorted((t for t in of_model(tags, model) if t.stage == stage), key=lambda t: t.counter)


def in_stage(tags: list[Tag], model: str, stage: str) -> Tag | None:
    """The assignment that puts a commit in `stage` now (None: never, or unassigned)."""
    history = stage_history(tags, model, stage)
    return history[-1] if history and not history[-1].cancel else None


def stages(tags: list[Tag], model: str) -> dict[str, Tag]:
    """{stage: its current assignment} for every stage `model` is in now."""
    names = sorted({t.stage for t in of_model(tags, model) if t.stage})
    return {s: t for s in names if (t := in_stage(tags, model, s)) is not None}


def stage_commit(root: Path, model: str, stage: str) -> str | None:
    current = in_stage(read_tags(root), model, stage)
    return current.commit if current else None


def latest_version_commit(root: Path, model: str) -> str | None:
    latest = latest_version(read_tags(root), model)
    return latest.commit if latest else None


def create_tag(root: Path, tag: str, commit: str, message: str) -> None:
    """An annotated tag, as GTO makes them (it reads the tagger date and the message)."""
    git.run(["tag", "-a", "-m", message, "--", tag, commit], root)
