"""gitml/registry.py: the state GTO reads from registry tags, on real tags in a real git repo.

Tags are made as `git tag -a` makes them, with their tagger date set (GIT_COMMITTER_DATE): GTO
orders events by that date, not by counter or name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitml import registry
from unit.dated_git import dated_git

_git = dated_git


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A repository of three commits (a, b, c), all made before any tag: built once."""
    root = tmp_path_factory.mktemp("registry-template")
    _git(root, "init", "-q")
    commits = []
    for i in range(3):
        (root / "f").write_text(str(i))
        _git(root, "add", "f")
        _git(root, "commit", "-qm", f"c{i}", date=f"09:00:0{i}")
        commits.append(_git(root, "rev-parse", "HEAD"))
    return root, commits


@pytest.fixture
def repo(template: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of the template for one test's tags."""
    root = tmp_path / "repo"
    shutil.copytree(template[0], root, symlinks=True)
    return root, template[1]


def tag(root: Path, name: str, commit: str, at: str, message: str = "") -> None:
    """An annotated tag made at `at` (HH:MM:SS on one day)."""
    _git(root, "tag", "-a", "-m", message or name, name, commit, date=at)


def test_read_tags_reads_annotated_registry_tags_only(repo: tuple[Path, list[str]]) -> None:
    root, (a, b, _) = repo
    tag(root, "m@v1.0.0", a, "10:00:00", "Registering artifact m version v1.0.0")
    tag(root, "pipelines/nlp=nb#prod#3", b, "10:00:05")
    tag(root, "release-1.0", a, "10:00:06")  # not GTO's grammar
    _git(root, "tag", "m#prod#9", b)  # lightweight: GTO ignores it
    found = {t.tag: t for t in registry.read_tags(root)}
    assert sorted(found) == ["m@v1.0.0", "pipelines/nlp=nb#prod#3"]
    v = found["m@v1.0.0"]
    assert (v.model, v.commit, v.version, v.stage, v.counter) == ("m", a, "v1.0.0", None, 0)
    assert v.message == "Registering artifact m version v1.0.0"
    assert v.time - v.commit_time == 3600  # tagger date and the commit's committer date
    nb = found["pipelines/nlp=nb#prod#3"]
    assert (nb.model, nb.commit, nb.stage, nb.counter) == ("pipelines/nlp:nb", b, "prod", 3)


def test_a_stage_holds_its_newest_assignment_by_tagger_date(repo: tuple[Path, list[str]]) -> None:
    """The counter does not order events, the date does: `#prod#1` made after `#prod#2` wins."""
    root, (a, b, _) = repo
    tag(root, "m#prod#2", a, "10:00:00")
    tag(root, "m#prod#1", b, "10:00:30")
    tags = registry.read_tags(root)
    held = registry.in_stage(tags, "m", "prod")
    assert held is not None and held.commit == b
    assert registry.stage_commit(root, "m", "prod") == b
    assert registry.next_counter(tags, "m") == 3  # past every counter of the model


def test_simple_and_full_notation_are_one_history(repo: tuple[Path, list[str]]) -> None:
    root, (a, b, c) = repo
    tag(root, "m@v0.1.0", a, "10:00:00")  # simple notation: no counter
    tag(root, "m@v0.2.0#2", b, "10:00:01")
    tag(root, "m#prod", a, "10:00:02")  # GTO's simple stage tag
    tag(root, "m#prod#3", b, "10:00:03")
    tags = registry.read_tags(root)
    assert registry.in_stage(tags, "m", "prod").commit == b  # type: ignore[union-attr]
    assert registry.versions(tags, "m") == {a: "v0.1.0", b: "v0.2.0"}
    assert registry.stages(tags, "m")["prod"].tag == "m#prod#3"
    tag(root, "m#prod!#4", b, "10:00:04")  # unassigns b: a, still assigned, holds prod again
    tags = registry.read_tags(root)
    assert registry.in_stage(tags, "m", "prod").commit == a  # type: ignore[union-attr]
    assert registry.rollback_target(tags, "m", "prod") is None
    tag(root, "m#prod#5", c, "10:00:05")  # an unregistered commit holds a stage too
    state = registry.model_state(registry.read_tags(root), "m")
    assert state.in_stage("prod").commit == c  # type: ignore[union-attr]
    assert c not in state.registered()


def test_deprecation_and_what_comes_after_it(repo: tuple[Path, list[str]]) -> None:
    root, (a, b, _) = repo
    tag(root, "m@v1.0.0", a, "10:00:00")
    tag(root, "m#prod#1", a, "10:00:01")
    tag(root, "m@deprecated", a, "10:00:10")
    state = registry.model_state(registry.read_tags(root), "m")
    gone = state.deprecation()
    assert not state.active and gone is not None and gone.tag == "m@deprecated"
    # artifacts.yaml at HEAD declares it in a commit dated after: GTO counts that as an event
    assert registry.model_state(registry.read_tags(root), "m", declared_at=gone.time + 1).active
    # an event in the same second as the deprecation wins the tie, as in GTO
    tag(root, "m#staging#2", b, "10:00:10")
    assert registry.model_state(registry.read_tags(root), "m").active


def test_a_deregistered_version_leaves_its_stages_and_comes_back_once_registered_again(
    repo: tuple[Path, list[str]],
) -> None:
    root, (a, b, _) = repo
    tag(root, "m@v0.0.1", a, "10:00:00")
    tag(root, "m#prod#1", a, "10:00:01")
    tag(root, "m@v0.0.2#2", b, "10:00:02")
    tag(root, "m@v0.0.2!#3", b, "10:00:03")  # deregistered
    tags = registry.read_tags(root)
    assert registry.versions(tags, "m") == {a: "v0.0.1"}
    assert registry.ever_registered(tags, "m") == {a: "v0.0.1", b: "v0.0.2"}
    assert registry.next_version(tags, "m") == "v0.0.3"  # a taken name is never reused
    assert registry.latest_version_commit(root, "m") == a
    tag(root, "m@v0.0.1!#4", a, "10:00:04")  # a deregistered too: it leaves prod
    tags = registry.read_tags(root)
    assert registry.in_stage(tags, "m", "prod") is None
    assert registry.model_state(tags, "m").gone() == {a, b}
    assert registry.latest_version(tags, "m") is None
    tag(root, "m@v0.0.1#5", a, "10:00:05")  # registered again, under the same version
    tags = registry.read_tags(root)
    assert registry.versions(tags, "m") == {a: "v0.0.1"}
    assert registry.in_stage(tags, "m", "prod").commit == a  # type: ignore[union-attr]


def test_next_version_bumps_the_highest_semver(repo: tuple[Path, list[str]]) -> None:
    root, (a, b, c) = repo
    tag(root, "m@v1.2.0", a, "10:00:00")
    tag(root, "m@v1.10.0#2", b, "10:00:01")  # 1.10 > 1.2, made later or not
    tag(root, "m@v1.11.0-rc.1#3", c, "10:00:02")  # a pre-release sorts before its release
    tags = registry.read_tags(root)
    assert registry.latest_version(tags, "m").version == "v1.11.0-rc.1"  # type: ignore[union-attr]
    assert registry.next_version(tags, "other") == "v0.0.1"
    released = [t for t in tags if "-rc" not in t.tag]
    assert registry.next_version(released, "m", "minor") == "v1.11.0"
    assert registry.next_version(released, "m", "major") == "v2.0.0"
    assert registry.next_version(released, "m") == "v1.10.1"
    assert registry.models(tags) == ["m"]
