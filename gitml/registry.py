"""The model registry kept in git tags, in GTO's grammar, so `gto show` reads what gitml writes.

A model's name is GTO's (and DVC's): `name` for an artifact of the top dvc.yaml, `dir:name` for
one declared in `dir/dvc.yaml`; in a tag the `:` is written `=` (`pipelines/nlp=nb@v0.0.1`).
`NAME@vX.Y.Z` registers a version of a commit (`NAME@vX.Y.Z!#N` deregisters it); `NAME#STAGE#N`
assigns a stage to the commit it points to and `NAME#STAGE!#N` unassigns it, N counting up over
every tag of NAME. All are annotated tags (GTO reads their tagger date and message, and ignores
lightweight ones). A stage holds the commit of its newest assignment still in force.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitml import git
from gitml.errors import BadInput, CheckFailed, GitError

# GTO's own patterns (gto/constants.py): what it accepts as an artifact or stage name.
_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
NAME_RE = re.compile(rf"^{_NAME}$")
SEPARATOR_IN_NAME = ":"  # `dir:name`, the artifact `name` of `dir/dvc.yaml`
SEPARATOR_IN_TAG = "="  # what `:` becomes in a tag (git refuses `:` in a ref)
_DIRNAME = r"[a-zA-Z0-9\-_./]+"
FULLNAME_RE = re.compile(rf"^(?:{_DIRNAME}{SEPARATOR_IN_NAME})?{_NAME}$")
_SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
VERSION_RE = re.compile(rf"^v{_SEMVER}$")
# gto/constants.py tag_re: `@created` parses too, but GTO 1.10 crashes on it; it is left out.
_TAG = re.compile(
    rf"^(?P<name>(?:{_DIRNAME}{SEPARATOR_IN_TAG})?{_NAME})"
    rf"(?:(?:@(?P<version>v{_SEMVER})|#(?P<stage>{_NAME}))(?P<cancel>!?)|@(?P<deprecated>deprecated))"
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
    counter: int = 0  # 0: GTO's simple notation (`NAME#STAGE`, `NAME@deprecated`)
    message: str = ""  # the annotation's subject
    time: int = 0  # the tagger date (unix seconds): GTO orders events by it
    commit_time: int = 0  # the committer date of `commit`: an event to GTO too
    deprecated: bool = False  # `NAME@deprecated`: the whole artifact

    @property
    def rollback(self) -> bool:
        return self.stage is not None and not self.cancel and ROLLBACK_MARK in self.message

    @property
    def order(self) -> tuple[int, int, bool]:
        """When it happened, as GTO orders events: by tagger date; within one second by counter
        (GTO leaves ties to chance), and a cancellation after what it cancels."""
        return (self.time, self.counter, self.cancel)

    @property
    def semver(self) -> tuple[int, int, int, int, str] | None:
        return semver_key(self.version or "")


def semver_key(version: str) -> tuple[int, int, int, int, str] | None:
    """A sort key in SemVer precedence (a pre-release sorts before its release); None for
    what is not `vX.Y.Z`."""
    m = VERSION_RE.match(version)
    if not m:
        return None
    pre = m["pre"] or ""
    return (int(m["major"]), int(m["minor"]), int(m["patch"]), 0 if pre else 1, pre)


ROLLBACK_MARK = "(rollback"  # in the message of an assignment `gitml rollback` made


def parse_tag(
    tag: str, commit: str, message: str = "", time: int = 0, commit_time: int = 0
) -> Tag | None:
    m = _TAG.match(tag)
    if not m:
        return None
    return Tag(
        tag,
        m["name"].replace(SEPARATOR_IN_TAG, SEPARATOR_IN_NAME),
        commit,
        m["version"],
        m["stage"],
        m["cancel"] == "!",
        int(m["counter"] or 0),
        message,
        time,
        commit_time,
        m["deprecated"] is not None,
    )


def read_tags(root: Path) -> list[Tag]:
    """Every registry tag of the repository, in one git call. Lightweight tags are left out,
    as GTO leaves them out: its tags are annotated."""
    fields = (
        "%(refname:strip=2)",
        "%(objectname)",
        "%(*objectname)",
        "%(taggerdate:unix)",
        "%(*committerdate:unix)",
        "%(contents:subject)",
    )
    out = git.out(["for-each-ref", "--format=" + "%09".join(fields), "refs/tags"], root)
    tags = []
    for line in out.splitlines():
        name, _, peeled, when, committed, subject = (line.split("\t", 5) + [""] * 5)[:6]
        if not peeled:
            continue
        found = parse_tag(name, peeled, subject, _int(when), _int(committed))
        if found is not None:
            tags.append(found)
    return tags


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def full_name(dvcyaml: str, name: str) -> str:
    """The name DVC and GTO give the artifact `name` declared in the dvc.yaml `dvcyaml`."""
    directory = dvcyaml.rpartition("/")[0]
    return f"{directory}{SEPARATOR_IN_NAME}{name}" if directory else name


def version_tag(model: str, version: str, counter: int = 0) -> str:
    tag = f"{model.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)}@{version}"
    return f"{tag}#{counter}" if counter else tag


def stage_tag(model: str, stage: str, counter: int) -> str:
    """`NAME#STAGE#N`, or with counter 0 GTO's simple notation `NAME#STAGE`."""
    tag = f"{model.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)}#{stage}"
    return f"{tag}#{counter}" if counter else tag


def check_name(name: str, what: str) -> None:
    """A model name must be GTO's `name` or `dir:name`; a stage name, a plain `name`."""
    if not (FULLNAME_RE if what == "model name" else NAME_RE).match(name):
        raise BadInput(
            f"{what} {name!r} is not a name GTO accepts in a tag (letters, digits, '-', '_', '/', "
            "starting and ending with a letter or digit"
            + (
                ", after an optional `dir:` of letters, digits, '-', '_', '.', '/'); set `name:` "
                "for it in gitml.yaml"
                if what == "model name"
                else ")"
            )
        )


def of_model(tags: list[Tag], model: str) -> list[Tag]:
    return [t for t in tags if t.model == model]


@dataclass
class VersionState:
    """One version of a model as GTO builds it: a (version, commit) pair with its events.

    A commit no registration names is a version named by its hash, and GTO makes one such
    version per stage event on it (its lookup skips versions without registrations): each
    assignment or unassignment of an unregistered commit stands alone, as in GTO."""

    version: str
    commit: str
    direct: list[Tag] = field(default_factory=list)  # registrations, deregistrations
    stage_events: list[Tag] = field(default_factory=list)

    @property
    def registered(self) -> bool:
        return any(not t.cancel for t in self.direct)

    @property
    def active(self) -> bool:
        """Its newest registration or deregistration is a registration (none: active)."""
        if not self.direct:
            return True
        return not max(self.direct, key=lambda t: t.order).cancel

    def assignment(self, stage: str) -> Tag | None:
        """The assignment that keeps it in `stage`, if its newest event there is one."""
        events = [t for t in self.stage_events if t.stage == stage]
        newest = max(events, key=lambda t: t.order) if events else None
        return newest if newest is not None and not newest.cancel else None


@dataclass
class ModelState:
    name: str
    versions: list[VersionState]
    deprecations: list[Tag]
    active: bool  # not deprecated, or something happened after its deprecation

    def stage_names(self) -> list[str]:
        return sorted({t.stage for v in self.versions for t in v.stage_events if t.stage})

    def registered(self) -> dict[str, str]:
        """{commit: version} of the registered (not deregistered) versions."""
        return {v.commit: v.version for v in self.versions if v.registered and v.active}

    def latest(self) -> Tag | None:
        """The registration of the highest active version (SemVer precedence)."""
        found = [
            max((t for t in v.direct if not t.cancel), key=lambda t: t.order)
            for v in self.versions
            if v.registered and v.active and VERSION_RE.match(v.version)
        ]
        return max(found, key=lambda t: t.semver or (0, 0, 0, 0, "")) if found else None

    def holders(self, stage: str) -> list[Tag]:
        """The assignments of `stage` in force, by their latest assignment, oldest first."""
        found = [a for v in self.versions if v.active and (a := v.assignment(stage)) is not None]
        return sorted(found, key=lambda t: t.order)

    def in_stage(self, stage: str) -> Tag | None:
        held = self.holders(stage)
        return held[-1] if held else None

    def stages(self) -> dict[str, Tag]:
        """{stage: its current assignment} for every stage the model is in now."""
        return {s: t for s in self.stage_names() if (t := self.in_stage(s)) is not None}

    def deprecation(self) -> Tag | None:
        """The deprecation in force, if GTO sees the model as deprecated."""
        return None if self.active else max(self.deprecations, key=lambda t: t.order)

    def gone(self) -> set[str]:
        """Commits that have versions but none active (deregistered)."""
        live = {v.commit for v in self.versions if v.active}
        return {v.commit for v in self.versions} - live


def model_state(tags: list[Tag], model: str, declared_at: int | None = None) -> ModelState:
    """GTO's reading of `model`'s tags (gto/base.py): registrations first, then stage events
    attributed to the commit's registered version. `declared_at`: the date of the HEAD commit
    when GTO's artifacts.yaml declares the model there (GTO counts it as an event)."""
    mine = sorted(of_model(tags, model), key=lambda t: t.order)
    by_key: dict[tuple[str, str], VersionState] = {}
    for t in mine:
        if t.version:
            by_key.setdefault(
                (t.version, t.commit), VersionState(t.version, t.commit)
            ).direct.append(t)
    versions = list(by_key.values())
    for t in mine:
        if not t.stage:
            continue
        at_commit = [v for v in versions if v.direct and v.commit == t.commit]
        if at_commit:  # GTO fails on two versions of one commit; the newest takes it here
            max(at_commit, key=lambda v: max(x.order for x in v.direct)).stage_events.append(t)
        else:
            versions.append(VersionState(t.commit, t.commit, stage_events=[t]))
    deprecations = [t for t in mine if t.deprecated]
    # GTO's events: every tag's, and each version's commit (dated by its committer date)
    others = [x for t in mine if not t.deprecated for x in (t.time, t.commit_time)]
    if declared_at is not None:
        others.append(declared_at)
    # in a tie GTO's sort puts the deprecation first, so the other event wins
    active = not deprecations or max(others, default=0) >= max(t.time for t in deprecations)
    return ModelState(model, versions, deprecations, active)


def deprecated(tags: list[Tag], model: str) -> Tag | None:
    """The deprecation in force (`NAME@deprecated`), if GTO sees the model as deprecated."""
    return model_state(tags, model).deprecation()


def versions(tags: list[Tag], model: str) -> dict[str, str]:
    """{commit: version} of the registered (not deregistered) versions of `model`."""
    return model_state(tags, model).registered()


def ever_registered(tags: list[Tag], model: str) -> dict[str, str]:
    """{commit: version} of every version ever registered, deregistered ones included."""
    return {
        t.commit: t.version
        for t in sorted(of_model(tags, model), key=lambda t: t.order)
        if t.version and not t.cancel
    }


def latest_version(tags: list[Tag], model: str) -> Tag | None:
    return model_state(tags, model).latest()


def next_version(tags: list[Tag], model: str, bump: str = "patch") -> str:
    """GTO's default for a new registration: the latest version with its patch (or minor, or
    major) bumped, v0.0.1 for the first; past any version name already taken, deregistered
    ones included (GTO would refuse a taken one)."""
    taken = {t.version for t in of_model(tags, model) if t.version}
    latest = latest_version(tags, model)
    if latest is None or latest.semver is None:
        major, minor, patch = 0, 0, 1
        if "v0.0.1" not in taken:
            return "v0.0.1"
    else:
        major, minor, patch = latest.semver[:3]
    while True:
        if bump == "major":
            major, minor, patch = major + 1, 0, 0
        elif bump == "minor":
            minor, patch = minor + 1, 0
        else:
            patch += 1
        candidate = f"v{major}.{minor}.{patch}"
        if candidate not in taken:
            return candidate


def next_counter(tags: list[Tag], model: str) -> int:
    return max((t.counter for t in of_model(tags, model)), default=0) + 1


def stage_history(tags: list[Tag], model: str, stage: str) -> list[Tag]:
    """The assignments and unassignments of `stage`, oldest first (GTO's order: by time)."""
    return sorted((t for t in of_model(tags, model) if t.stage == stage), key=lambda t: t.order)


def holders(tags: list[Tag], model: str, stage: str) -> list[Tag]:
    """The assignments of `stage` still in force, by their latest assignment, oldest first.

    As GTO keeps it: an unassignment takes out only the version it names (an earlier one still
    assigned holds the stage again), and a deregistered version leaves every stage.
    """
    return model_state(tags, model).holders(stage)


def in_stage(tags: list[Tag], model: str, stage: str) -> Tag | None:
    """The assignment that puts a commit in `stage` now (None: nothing is in it)."""
    return model_state(tags, model).in_stage(stage)


def rollback_target(tags: list[Tag], model: str, stage: str) -> str | None:
    """The commit a rollback of `stage` gives it: the one held before the current one came.

    The stage's history is read as a stack: a promotion pushes its commit, a rollback pops the
    commit it rolled back from (so rolling back twice goes back two promotions, not back to
    the version the first rollback left), an unassignment or a deregistration removes one.
    """
    stack: list[str] = []
    for t in stage_history(tags, model, stage):
        if t.cancel:
            stack = [c for c in stack if c != t.commit]
            continue
        if t.rollback and stack:
            stack.pop()
        if not stack or stack[-1] != t.commit:
            stack.append(t.commit)
    gone = model_state(tags, model).gone()
    stack = [c for c in stack if c not in gone]
    current = in_stage(tags, model, stage)
    if current is None:
        return None
    if current.commit in stack:  # what lies below its last push
        stack = stack[: len(stack) - 1 - stack[::-1].index(current.commit)]
    return next((c for c in reversed(stack) if c != current.commit), None)


def stages(tags: list[Tag], model: str) -> dict[str, Tag]:
    """{stage: its current assignment} for every stage `model` is in now."""
    return model_state(tags, model).stages()


def models(tags: list[Tag]) -> list[str]:
    """Every model name the tags speak of."""
    return sorted({t.model for t in tags})


def stage_commit(root: Path, model: str, stage: str) -> str | None:
    current = in_stage(read_tags(root), model, stage)
    return current.commit if current else None


def latest_version_commit(root: Path, model: str) -> str | None:
    latest = latest_version(read_tags(root), model)
    return latest.commit if latest else None


@dataclass(frozen=True)
class NewTag:
    """A registry tag to create: `tag` on `commit`, annotated with `message`."""

    tag: str
    commit: str
    message: str


class LostRace(CheckFailed):
    """Another run created one of the tags after this one read the registry: nothing was made."""


def create_tags(root: Path, new: Sequence[NewTag]) -> None:
    """Annotated tags as GTO makes them (`git tag -a -m`: the committer, now, as tagger; GTO
    reads the tagger date and the message), all or none.

    The tag objects are written first (unreferenced, they are harmless if no ref is made), then
    every ref in one `git update-ref --stdin` transaction of `create` lines, which git refuses
    whole when any of the refs exists: two promotions at once leave the tags of one of them,
    never a part of each. The other gets LostRace (exit 1)."""
    if not new:
        return
    tagger = git.out(["var", "GIT_COMMITTER_IDENT"], root)
    updates = []
    for t in new:
        body = f"object {t.commit}\ntype commit\ntag {t.tag}\ntagger {tagger}\n\n{t.message}\n"
        sha = git.out(["mktag"], root, input=body.encode())
        updates.append(f"create refs/tags/{t.tag} {sha}\n")
    proc = git.run(["update-ref", "--stdin"], root, input="".join(updates).encode(), check=False)
    if proc.returncode == 0:
        return
    taken = _existing_tags(root, [t.tag for t in new])
    if not taken:
        err = proc.stderr.decode(errors="replace").strip()
        raise GitError(f"`git update-ref --stdin` failed, no tag was made: {err}")
    lightweight = sorted(name for name, kind in taken.items() if kind != "tag")
    if lightweight:
        raise BadInput(
            f"tag {', '.join(lightweight)} exists already, not annotated (so the registry, as GTO, "
            "ignores it), so no tag was made: delete it (`git tag -d "
            + " ".join(lightweight)
            + "`) and run again"
        )
    raise LostRace(
        f"lost a race: {', '.join(sorted(taken))} "
        + ("was" if len(taken) == 1 else "were")
        + " made by another run after this one read the registry, so this one tagged nothing; "
        "see `gitml registry`, and run the command again if it is still wanted"
    )


def _existing_tags(root: Path, names: list[str]) -> dict[str, str]:
    """{tag: type of the object its ref holds} for those of `names` that exist."""
    out = git.out(
        ["for-each-ref", "--format=%(refname:strip=2)%09%(objecttype)"]
        + [f"refs/tags/{n}" for n in names],
        root,
    )
    found = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    return {n: found[n] for n in names if n in found}  # for-each-ref matches by prefix too


_SHORTCUT = re.compile(
    rf"^(?P<name>(?:{_DIRNAME}{SEPARATOR_IN_NAME})?{_NAME})"
    rf"(?:#(?P<stage>{_NAME})|@(?P<version>latest|greatest|v{_SEMVER}))$"
)


@dataclass(frozen=True)
class Lookup:
    """What `NAME`, `NAME#STAGE`, `NAME@vX.Y.Z` or `NAME@latest` asks for (GTO's shortcuts)."""

    name: str
    stage: str | None = None
    version: str | None = None
    latest: bool = False

    @property
    def one(self) -> bool:
        """It names one version (not every version of the model)."""
        return bool(self.stage or self.version or self.latest)


def parse_lookup(text: str) -> Lookup:
    m = _SHORTCUT.match(text)
    if m is None:
        check_name(text, "model name")
        return Lookup(text)
    latest = m["version"] in ("latest", "greatest")
    return Lookup(m["name"], m["stage"], None if latest else m["version"], latest)
