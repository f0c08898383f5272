"""The model registry as GTO reads it from git tags: each model's versions, stages and deprecation.

The tags (gitml.gtotags says their grammar) are annotated (GTO reads their tagger date and
message, and ignores lightweight ones). GTO orders events by tagger date; a version is a
(version, commit) pair with its registrations and deregistrations; a stage holds the commit of
its newest assignment still in force. Reading only: gitml.promotion makes the tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitml import git
from gitml.gtotags import VERSION_RE, Tag, parse_tag


def read_tags(root: Path) -> list[Tag]:
    """Every registry tag of the repository, in one git call. Lightweight tags are left out,
    as GTO leaves them out: its tags are annotated."""
    return read_tags_noting(root, None)[0]


def read_tags_noting(root: Path, prefix: str | None) -> tuple[list[Tag], bool]:
    """(every registry tag, whether any tag's name starts with `prefix`), in one git call: a
    caller learns whether other tags of its own are there without another walk of every ref."""
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
    noted = False
    for line in out.splitlines():
        name, _, peeled, when, committed, subject = (line.split("\t", 5) + [""] * 5)[:6]
        noted = noted or (prefix is not None and name.startswith(prefix))
        if not peeled:
            continue
        found = parse_tag(name, peeled, subject, _int(when), _int(committed))
        if found is not None:
            tags.append(found)
    return tags, noted


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


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
        """The assignments of `stage` in force, by their latest assignment, oldest first.

        As GTO keeps it: an unassignment takes out only the version it names (an earlier one
        still assigned holds the stage again), and a deregistered version leaves every stage."""
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


def _versions(mine: list[Tag]) -> list[VersionState]:
    """The versions of a model's tags (oldest first): registrations first, then each stage
    event attributed to the registered version of its commit."""
    by_key: dict[tuple[str, str], VersionState] = {}
    for t in mine:
        if t.version:
            key = (t.version, t.commit)
            by_key.setdefault(key, VersionState(t.version, t.commit)).direct.append(t)
    versions = list(by_key.values())
    for t in mine:
        if t.stage:
            _attribute(versions, t)
    return versions


def _attribute(versions: list[VersionState], event: Tag) -> None:
    """A stage event goes to its commit's registered version; on an unregistered commit it is
    a version of its own (GTO's, named by the hash)."""
    at_commit = [v for v in versions if v.direct and v.commit == event.commit]
    if at_commit:  # GTO fails on two versions of one commit; the newest takes it here
        max(at_commit, key=lambda v: max(x.order for x in v.direct)).stage_events.append(event)
    else:
        versions.append(VersionState(event.commit, event.commit, stage_events=[event]))


def _active(mine: list[Tag], deprecations: list[Tag], declared_at: int | None) -> bool:
    """Not deprecated, or an event of GTO's came after the deprecation: every other tag's date,
    each version's commit (dated by its committer date), and HEAD's when it declares the model."""
    if not deprecations:
        return True
    others = [x for t in mine if not t.deprecated for x in (t.time, t.commit_time)]
    if declared_at is not None:
        others.append(declared_at)
    # in a tie GTO's sort puts the deprecation first, so the other event wins
    return max(others, default=0) >= max(t.time for t in deprecations)


def model_state(tags: list[Tag], model: str, declared_at: int | None = None) -> ModelState:
    """GTO's reading of `model`'s tags (gto/base.py). `declared_at`: the date of the HEAD commit
    when GTO's artifacts.yaml declares the model there (GTO counts it as an event)."""
    mine = sorted(of_model(tags, model), key=lambda t: t.order)
    deprecations = [t for t in mine if t.deprecated]
    active = _active(mine, deprecations, declared_at)
    return ModelState(model, _versions(mine), deprecations, active)


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


def in_stage(tags: list[Tag], model: str, stage: str) -> Tag | None:
    """The assignment that puts a commit in `stage` now (None: nothing is in it)."""
    return model_state(tags, model).in_stage(stage)


def _promotion_stack(history: list[Tag]) -> list[str]:
    """A stage's history read as a stack: a promotion pushes its commit, a rollback pops the
    commit it rolled back from, an unassignment removes its commit."""
    stack: list[str] = []
    for t in history:
        if t.cancel:
            stack = [c for c in stack if c != t.commit]
            continue
        if t.rollback and stack:
            stack.pop()
        if not stack or stack[-1] != t.commit:
            stack.append(t.commit)
    return stack


def rollback_target(tags: list[Tag], model: str, stage: str) -> str | None:
    """The commit a rollback of `stage` gives it: the one held before the current one came.

    Rolling back twice goes back two promotions, not back to the version the first rollback
    left (`_promotion_stack`); a deregistered version is never a target.
    """
    state = model_state(tags, model)
    current = state.in_stage(stage)
    if current is None:
        return None
    gone = state.gone()
    stack = [c for c in _promotion_stack(stage_history(tags, model, stage)) if c not in gone]
    if current.commit in stack:  # what lies below its last push
        stack = stack[: len(stack) - 1 - stack[::-1].index(current.commit)]
    return next((c for c in reversed(stack) if c != current.commit), None)


def stages(tags: list[Tag], model: str) -> dict[str, Tag]:
    """{stage: its current assignment} for every stage `model` is in now."""
    return model_state(tags, model).stages()


def stage_tags_in_force(tags: list[Tag]) -> set[str]:
    """The names of the assignment tags that put a version in a stage now, every model's: GTO
    retires the others (a later assignment, an unassignment, a rollback, a deregistration)."""
    return {t.tag for name in models(tags) for t in stages(tags, name).values()}


def models(tags: list[Tag]) -> list[str]:
    """Every model name the tags speak of."""
    return sorted({t.model for t in tags})


def stage_commit(root: Path, model: str, stage: str) -> str | None:
    current = in_stage(read_tags(root), model, stage)
    return current.commit if current else None


def latest_version_commit(root: Path, model: str) -> str | None:
    latest = latest_version(read_tags(root), model)
    return latest.commit if latest else None
