"""promote / rollback / registry: GTO tags on real repos, gated by what gitml.lock recorded, read
back by GTO itself (`gto show`), and pushed to a real bare git remote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Example, run

from gitml import gtotags, promotion, registry

MODEL = "wine-classifier"


def _tags(ex: Example) -> list[str]:
    return sorted(ex.git("tag", "--list").stdout.split())


def _gto_stage(ex: Example, stage: str) -> str:
    """What GTO itself says `stage` of the model holds (its version)."""
    gto = Path(sys.executable).with_name("gto")
    proc = subprocess.run(
        [str(gto), "show", "--json"], cwd=ex.root, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return str(doc[MODEL]["stage"][stage])


def _readme_commit(ex: Example, msg: str, date: str) -> str:
    """A commit gitml has nothing to check (its lock stays fresh), at a set date for GTO."""
    readme = ex.root / "README.md"
    readme.write_text(readme.read_text() + f"\n{msg}\n")
    ex.git("add", "README.md")
    ex.git("commit", "-q", "-m", msg, env={"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date})
    return ex.head()


def _promote(ex: Example, *args: str, date: str) -> subprocess.CompletedProcess[str]:
    # GTO orders a stage's assignments by their tagger date: one second apart at least.
    return ex.gitml("promote", MODEL, *args, env={"GIT_COMMITTER_DATE": date})


def test_promote_registers_assigns_and_gto_reads_it(example: Example) -> None:
    ex = example
    first = ex.head()
    r = _promote(ex, "--to", "production", date="2026-01-01T10:00:00")
    assert r.returncode == 0, r.stderr
    assert _tags(ex) == [f"{MODEL}#production#1", f"{MODEL}@v0.0.1"]
    assert "promoted wine-classifier v0.0.1" in r.stderr
    assert f"git push origin {MODEL}@v0.0.1 {MODEL}#production#1" in r.stderr
    # annotated, with GTO's messages, pointing at the commit
    msg = ex.git("tag", "-n1", "--list", f"{MODEL}#production#1").stdout
    assert "Assigning stage production to artifact wine-classifier version v0.0.1" in msg
    assert ex.git("cat-file", "-t", f"{MODEL}@v0.0.1").stdout.strip() == "tag"
    assert ex.git("rev-parse", f"{MODEL}#production#1^{{commit}}").stdout.strip() == first
    assert _gto_stage(ex, "production") == "v0.0.1"

    # Again: nothing to do, no new tag, exit 0.
    r = _promote(ex, "--to", "production", date="2026-01-01T10:00:01")
    assert r.returncode == 0 and "in production already" in r.stderr
    assert len(_tags(ex)) == 2

    # A second commit: its own version (the next patch), a new counter, the registry table.
    second = _readme_commit(ex, "docs", "2026-01-01T10:00:02")
    r = _promote(ex, "--to", "staging", "--json", date="2026-01-01T10:00:03")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["version"], doc["rev"], doc["passed"]) == ("v0.0.2", second, True)
    assert doc["tags"] == [f"{MODEL}@v0.0.2", f"{MODEL}#staging#2"]
    r = ex.gitml("registry", "--json")
    assert r.returncode == 0, r.stderr
    [row] = json.loads(r.stdout)
    assert row["latest"] == {"version": "v0.0.2", "rev": second}
    assert row["stages"]["production"]["version"] == "v0.0.1"
    assert row["stages"]["staging"] == {
        "version": "v0.0.2",
        "rev": second,
        "tag": f"{MODEL}#staging#2",
    }
    r = ex.gitml("registry")
    assert r.returncode == 0 and "wine-classifier" in r.stdout and "staging: v0.0.2" in r.stdout

    # The production baseline of gates now resolves through these tags.
    assert registry.stage_commit(ex.root, MODEL, "production") == first


def test_rollback_gives_the_stage_its_previous_version(example: Example) -> None:
    ex = example
    first = ex.head()
    assert _promote(ex, "--to", "production", date="2026-01-01T10:00:00").returncode == 0
    second = _readme_commit(ex, "v2", "2026-01-01T10:00:01")
    assert _promote(ex, "--to", "production", date="2026-01-01T10:00:02").returncode == 0
    assert _gto_stage(ex, "production") == "v0.0.2"

    r = ex.gitml(
        "rollback",
        MODEL,
        "--stage",
        "production",
        env={"GIT_COMMITTER_DATE": "2026-01-01T10:00:03"},
    )
    assert r.returncode == 0, r.stderr
    assert (
        f"rolled back production of wine-classifier: it holds v0.0.1 ({first[:12]}) again, "
        f"v0.0.2 ({second[:12]}) retired from it" in r.stderr
    )
    assert registry.stage_commit(ex.root, MODEL, "production") == first
    assert _gto_stage(ex, "production") == "v0.0.1"
    assert f"{MODEL}#production#3" in _tags(ex)
    assert second != first
    # Nothing earlier than v0.0.1 ever was in staging: said, exit 2.
    r = ex.gitml("rollback", MODEL, "--stage", "staging")
    assert r.returncode == 2 and "nothing in staging" in r.stderr


def test_a_commit_made_around_the_hook_is_not_promoted(example: Example) -> None:
    ex = example
    ex.set_param("n_estimators: 3", "n_estimators: 4")
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "skipped the hook", env={"GITML_SKIP": "1"})
    r = _promote(ex, "--to", "production", date="2026-01-01T10:00:00")
    assert r.returncode == 1, r.stderr
    assert "not promoted to production" in r.stderr and "gitml.lock at" in r.stderr
    assert "is stale" in r.stderr
    assert _tags(ex) == []


def test_a_gate_against_production_is_judged_against_production_now(example: Example) -> None:
    ex = example
    cfg = ex.root / "gitml.yaml"
    text = cfg.read_text().replace(
        "      - accuracy >= 0.9\n",
        "      - accuracy >= 0.9\n      - accuracy > baseline.accuracy\n    baseline: production\n",
    )
    cfg.write_text(text)
    ex.git("add", "gitml.yaml")
    r = ex.git("commit", "-q", "-m", "gate against production", check=False)
    assert r.returncode == 0, r.stderr  # nothing in production yet: nothing to beat
    assert _promote(ex, "--to", "production", date="2026-01-01T10:00:00").returncode == 0

    # The same model again: it does not beat production, so it is refused, for any stage.
    _readme_commit(ex, "same model", "2026-01-01T10:00:01")
    for stage in ("production", "staging"):
        r = _promote(ex, "--to", stage, date="2026-01-01T10:00:02")
        assert r.returncode == 1, r.stderr
        assert "gate `accuracy > baseline.accuracy` fails against production now" in r.stderr
    assert len(_tags(ex)) == 2


def test_push_sends_the_tags_to_the_git_remote(example: Example, tmp_path: Path) -> None:
    ex = example
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    ex.git("remote", "add", "origin", str(bare))
    ex.git("push", "-q", "origin", "main")
    r = ex.gitml("promote", MODEL, "--to", "production", "--push")
    assert r.returncode == 0, r.stderr
    remote = subprocess.run(
        ["git", "ls-remote", "--tags", str(bare)], capture_output=True, text=True, check=True
    ).stdout
    assert f"refs/tags/{MODEL}#production#1" in remote and f"refs/tags/{MODEL}@v0.0.1" in remote
    assert "share it with" not in r.stderr

    # A teammate's clone promotes a newer commit; ours, behind, rolls production back: the
    # team's tags are fetched first, so the counter and the stage's history are the team's.
    mate = tmp_path / "mate"
    subprocess.run(["git", "clone", "-q", str(bare), str(mate)], check=True)
    readme = mate / "README.md"
    readme.write_text(readme.read_text() + "\nteammate\n")
    subprocess.run(["git", "commit", "-q", "-am", "teammate", "--no-verify"], cwd=mate, check=True)
    subprocess.run(["git", "push", "-q", "--no-verify", "origin", "HEAD"], cwd=mate, check=True)
    new = subprocess.run(["git", "rev-parse", "HEAD"], cwd=mate, capture_output=True, text=True)
    ex.git("fetch", "-q", "origin")
    r = ex.gitml("promote", MODEL, "--to", "production", new.stdout.strip(), "--push")
    assert r.returncode == 0, r.stderr  # the teammate's commit: its lock is HEAD's, fresh
    subprocess.run(["git", "tag", "-d", f"{MODEL}#production#2"], cwd=ex.root, check=True)
    r = ex.gitml("rollback", MODEL, "--stage", "production", "--push")
    assert r.returncode == 0, r.stderr
    assert f"{MODEL}#production#3" in r.stderr  # not a second #2


def test_a_tag_in_the_way_makes_no_tag_at_all(example: Example) -> None:
    """The version tag and the stage tag are made together or not at all: with the stage tag's
    name taken (a lightweight tag, which the registry does not read), no version tag is left."""
    ex = example
    ex.git("tag", f"{MODEL}#staging#1")
    r = ex.gitml("promote", MODEL, "--to", "staging")
    assert r.returncode == 2, r.stderr
    assert f"tag {MODEL}#staging#1 exists already, not annotated" in r.stderr
    assert f"git tag -d {MODEL}#staging#1" in r.stderr and "Traceback" not in r.stderr
    assert _tags(ex) == [f"{MODEL}#staging#1"]  # no wine-classifier@v0.0.1 left behind
    ex.git("tag", "-d", f"{MODEL}#staging#1")
    r = ex.gitml("promote", MODEL, "--to", "staging")
    assert r.returncode == 0, r.stderr
    assert _tags(ex) == [f"{MODEL}#staging#1", f"{MODEL}@v0.0.1"]


_PROMOTING_HOOK = """#!/bin/sh
# git's reference-transaction hook: the first time a transaction has locked its refs, one more
# promotion runs to its end, while this one holds them
cat > /dev/null
[ "$1" = prepared ] && [ ! -e "$MARK" ] || exit 0
: > "$MARK"
unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX GIT_COMMON_DIR GIT_OBJECT_DIRECTORY
cd "$ROOT" && "$PYTHON" -m gitml promote "$MODEL" --to staging "$REV" --json >"$OUT" 2>"$ERR"
echo $? > "$RC"
"""


@pytest.mark.parametrize("outer", ["registered", "new"])
def test_a_promotion_while_another_holds_its_tags_tags_nothing(
    example: Example, tmp_path: Path, outer: str
) -> None:
    """Two `gitml promote --to staging` at once, of a registered commit (one tag to make) and of
    a new one (a version tag and a stage tag): the second runs at the moment the first's
    `git update-ref` has locked its tags (from git's own reference-transaction hook, as a
    user's hook would run). The first makes its tags, whole; the second makes none, exits 1
    and says it lost a race to another git process."""
    ex = example
    revs = {"registered": ex.head()}
    assert ex.gitml("promote", MODEL, "--to", "dev").returncode == 0  # @v0.0.1, #dev#1
    revs["new"] = _readme_commit(ex, "docs", "2026-01-01T10:00:00")
    before = _tags(ex)
    inner = "new" if outer == "registered" else "registered"
    hooks = ex.root / ex.git("rev-parse", "--git-path", "hooks").stdout.strip()
    hook = hooks / "reference-transaction"
    hook.write_text(_PROMOTING_HOOK)
    hook.chmod(0o755)
    files = {k: tmp_path / k for k in ("mark", "out", "err", "rc")}
    env = {"MARK": str(files["mark"]), "OUT": str(files["out"]), "ERR": str(files["err"])}
    env |= {"RC": str(files["rc"]), "ROOT": str(ex.root), "PYTHON": sys.executable}
    env |= {"MODEL": MODEL, "REV": revs[inner]}
    won = ex.gitml("promote", MODEL, "--to", "staging", revs[outer], "--json", env=env)
    assert won.returncode == 0, won.stderr
    made = json.loads(won.stdout)["tags"]
    assert len(made) == (1 if outer == "registered" else 2)
    assert _tags(ex) == sorted(before + made)  # the winner's tags, whole; none of the loser's
    lost = files["err"].read_text()
    assert files["rc"].read_text().strip() == "1", lost
    assert f"lost a race: tag {MODEL}#staging#2 is being made by another git process" in lost
    assert "this one tagged nothing" in lost and "Traceback" not in lost
    assert files["out"].read_text() == ""


def test_a_promotion_that_read_the_registry_before_another_tagged_tags_nothing(
    example: Example,
) -> None:
    """The other order of a race: a promotion made its tags after this one read the registry
    (so this one would make a stage counter taken meanwhile, and a version beside it). All of
    this one's tags are refused in one transaction: the version tag it could make is not made,
    and the error names the tag taken."""
    ex = example
    registered = ex.head()
    assert ex.gitml("promote", MODEL, "--to", "dev").returncode == 0  # @v0.0.1, #dev#1
    new = _readme_commit(ex, "docs", "2026-01-01T10:00:00")
    # what `promote --to staging new` computes from the registry as it is now
    planned = [
        promotion.NewTag(f"{MODEL}@v0.0.2", new, f"Registering artifact {MODEL} version v0.0.2"),
        promotion.NewTag(f"{MODEL}#staging#2", new, f"Assigning stage staging to {MODEL}"),
    ]
    other = ex.gitml("promote", MODEL, "--to", "staging", registered)  # meanwhile
    assert other.returncode == 0, other.stderr
    before = _tags(ex)
    assert f"{MODEL}#staging#2" in before
    with pytest.raises(promotion.LostRace, match=f"lost a race: {MODEL}#staging#2 was made"):
        promotion.create_tags(ex.root, planned)
    assert _tags(ex) == before  # not even the version tag nobody else made


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--to", "production"], "no model 'nope' in gitml.yaml"),
        ([MODEL, "--to", "prod#1"], "stage 'prod#1' is not a name GTO accepts"),
        ([MODEL, "--to", "production", "no-such-rev"], "unknown revision"),
        ([MODEL, "--to", "production", "--version", "1.0"], "is not vMAJOR.MINOR.PATCH"),
    ],
)
def test_bad_promotions_are_exit_2_and_tag_nothing(
    example: Example, args: list[str], message: str
) -> None:
    r = example.gitml("promote", *args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert _tags(example) == []


def test_gto_tag_grammar_round_trips() -> None:
    t = gtotags.parse_tag("a/b-c#prod!#12", "0" * 40)
    assert t is not None and (t.model, t.stage, t.cancel, t.counter) == ("a/b-c", "prod", True, 12)
    v = gtotags.parse_tag("m@v1.2.3", "0" * 40)
    assert v is not None and v.semver == (1, 2, 3, 1, "") and v.stage is None
    rc = gtotags.parse_tag("m@v1.3.0-rc.1", "2" * 40)
    assert rc is not None and rc.semver is not None and v.semver < rc.semver  # precedence
    for not_gto in ("m@v1.0.0-", "m@v1.0.0-01", "m@v1.0.0+a+b", "release-1.0"):
        assert gtotags.parse_tag(not_gto, "0" * 40) is None, not_gto
    assert registry.next_version([v, rc], "m") == "v1.3.1"  # as GTO bumps
    tags = [v, t, gtotags.parse_tag("m#prod#3", "1" * 40)]
    assert registry.next_version([x for x in tags if x][:1], "m") == "v1.2.4"
    assert registry.next_counter([x for x in tags if x], "m") == 4


def _t(tag: str, commit: str, message: str = "") -> gtotags.Tag:
    parsed = gtotags.parse_tag(tag, commit, message)
    assert parsed is not None
    return parsed


def test_rolling_back_twice_goes_back_two_promotions() -> None:
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    tags = [_t("m#prod#1", a), _t("m#prod#2", b), _t("m#prod#3", c)]
    assert registry.rollback_target(tags, "m", "prod") == b
    tags.append(_t("m#prod#4", b, "Assigning ... (rollback from v3)"))
    assert registry.in_stage(tags, "m", "prod").commit == b  # type: ignore[union-attr]
    assert registry.rollback_target(tags, "m", "prod") == a  # not c, the bad one
    tags.append(_t("m#prod#5", a, "Assigning ... (rollback from v2)"))
    assert registry.rollback_target(tags, "m", "prod") is None


def test_stage_holders_follow_gto_through_unassign_and_deregister(tmp_path: Path) -> None:
    """Hand-made tags as `gto` makes them; after each, gitml's reading is GTO's own."""
    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    commits = []
    for i in range(3):
        (repo / "f").write_text(str(i))
        subprocess.run(["git", "add", "f"], cwd=repo, check=True)
        subprocess.run(["git", "commit", "-qm", f"c{i}"], cwd=repo, check=True)
        commits.append(
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
            ).stdout.strip()
        )
    gto = Path(sys.executable).with_name("gto")
    steps = [
        ("m@v0.0.1", 0),
        ("m@v0.0.2", 1),
        ("m@v0.0.3", 2),
        ("m#prod#1", 0),
        ("m#prod#2", 1),
        ("m#prod!#3", 1),  # unassign v0.0.2: v0.0.1 holds prod again
        ("m#prod#4", 2),
        ("m@v0.0.3!#5", 2),  # deregister v0.0.3: it leaves prod
    ]
    for second, (tag, i) in enumerate(steps):
        date = f"2026-01-01T10:00:{second:02d}"
        subprocess.run(
            ["git", "tag", "-a", "-m", tag, tag, commits[i]],
            cwd=repo,
            check=True,
            env={**os.environ, "GIT_COMMITTER_DATE": date},
        )
        shown = subprocess.run(
            [str(gto), "show", "--json"], cwd=repo, capture_output=True, text=True, check=False
        )
        assert shown.returncode == 0, shown.stderr
        gto_prod = (json.loads(shown.stdout).get("m") or {}).get("stage", {}).get("prod")
        tags = registry.read_tags(repo)
        held = registry.in_stage(tags, "m", "prod")
        ours = registry.versions(tags, "m").get(held.commit) if held else None
        assert ours == gto_prod, (tag, ours, gto_prod)


def test_an_artifact_gitml_yaml_does_not_name_is_tagged_saying_if_it_was_checked(
    example: Example,
) -> None:
    """As `gto assign` tags any artifact: one only dvc.yaml `artifacts:` or artifacts.yaml
    declares is promoted too, unchecked unless gitml.lock records its path (then checked)."""
    ex = example
    sub = ex.root / "pipelines" / "nlp"
    sub.mkdir(parents=True)
    (sub / "dvc.yaml").write_text("artifacts:\n  nb:\n    path: nb.pkl\n    type: model\n")
    (ex.root / "artifacts.yaml").write_text("tok:\n  type: model\n  path: models/tok.bin\n")
    dvcyaml = ex.root / "dvc.yaml"
    dvcyaml.write_text(dvcyaml.read_text() + "  champion:\n    path: model/model.pkl\n")
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "declare artifacts")

    r = ex.gitml(
        "promote", "pipelines/nlp:nb", "--to", "staging", "--json",
        env={"GIT_COMMITTER_DATE": "2026-01-01T10:00:01"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["tags"] == ["pipelines/nlp=nb@v0.0.1", "pipelines/nlp=nb#staging#1"]
    assert doc["checked"] is False and doc["path"] == "pipelines/nlp/nb.pkl"
    assert "warning: not checked by gitml: pipelines/nlp:nb is declared in pipelines/nlp/" in (
        r.stderr
    )
    assert "records no model pipelines/nlp/nb.pkl" in r.stderr
    r = ex.gitml("promote", "tok", "--to", "staging")
    assert r.returncode == 0 and "tok is declared in artifacts.yaml, not in gitml.yaml" in r.stderr
    # GTO reads what was tagged
    gto = Path(sys.executable).with_name("gto")
    shown = subprocess.run(
        [str(gto), "show", "--json"], cwd=ex.root, capture_output=True, text=True
    )
    stages = {name: a["stage"].get("staging") for name, a in json.loads(shown.stdout).items()}
    assert stages["pipelines/nlp:nb"] == "v0.0.1" and stages["tok"] == "v0.0.1"

    # dvc.yaml's other name for gitml.yaml's model: gitml.lock records its path, so it is checked
    r = ex.gitml("promote", "champion", "--to", "production", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["checked"] is True
    assert "its path model/model.pkl is gitml.yaml's model wine-classifier" in r.stderr
    assert "warning" not in r.stderr
    r = ex.gitml("rollback", "pipelines/nlp:nb", "--stage", "staging")
    assert r.returncode == 2 and "held nothing before" in r.stderr  # the name resolves
    r = ex.gitml("promote", "nb", "--to", "staging")
    assert r.returncode == 2
    assert "no model 'nb' in gitml.yaml, dvc.yaml `artifacts:` or artifacts.yaml" in r.stderr
    assert "pipelines/nlp:nb (pipelines/nlp/dvc.yaml)" in r.stderr


def test_registry_of_another_repository_is_read_without_its_files(
    example: Example, tmp_path: Path
) -> None:
    """`-r URL|PATH`, as `gto show -r`: the tags and HEAD fetched without blobs into a temporary
    repository, files read as HEAD has them (not the work tree), the remote's config unused."""
    ex = example
    assert _promote(ex, "--to", "production", date="2026-01-01T10:00:00").returncode == 0
    local = json.loads(ex.gitml("registry", "--json").stdout)
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    # a server that honours `--filter` (as hosting services do): blobs come only when asked
    subprocess.run(["git", "config", "uploadpack.allowFilter", "true"], cwd=bare, check=True)
    ex.git("push", "-q", "--no-verify", str(bare), "main", "--tags")
    # what gitml must never run: the other repository's own config
    ex.git("config", "core.fsmonitor", f"touch {tmp_path / 'pwned'}")
    cfg = ex.root / "gitml.yaml"
    cfg.write_text(cfg.read_text().replace("name: wine-classifier", "name: renamed"))

    elsewhere = tmp_path / "elsewhere"  # not a repository at all
    elsewhere.mkdir()

    def registry(*args: str) -> subprocess.CompletedProcess[str]:
        return run(sys.executable, "-m", "gitml", "registry", *args, cwd=elsewhere, check=False)

    for where in (str(bare), bare.as_uri(), str(ex.root)):
        r = registry("-r", where, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == local, where  # HEAD's gitml.yaml, not the work tree's
    r = registry("--repo", str(bare), f"{MODEL}#production", "--version")
    assert r.returncode == 0 and r.stdout.strip() == "v0.0.1"
    r = registry("-r", str(bare), MODEL, "--history", "--json")
    assert [e["event"] for e in json.loads(r.stdout)] == ["assignment", "registration"]
    assert not (tmp_path / "pwned").exists()
    r = registry("-r", "--upload-pack=touch x", "--json")
    assert r.returncode == 2 and "cannot start with '-'" in r.stderr
    r = registry("-r", "ext::sh -c touch% pwned")
    assert r.returncode == 2 and "transport 'ext' not allowed" in r.stderr
    r = registry("-r", str(tmp_path / "nothing-here"))
    assert r.returncode == 2 and "could not fetch the registry" in r.stderr
    assert "Traceback" not in r.stderr
