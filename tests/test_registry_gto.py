"""gitml's registry against GTO itself: item by item (`.gto` stages, deprecation, simple
notation, artifacts.yaml and dvc.yaml artifacts), then a differential test: random sequences
of `gto` commands and `gitml promote/rollback/approve` on one real repository; after each step
`gitml registry --json` must say what `gto show --json` says (and an approval, a signed tag of
gitml's, must leave `gto show --json` as it was), and `gitml registry NAME --history --json`
must list the events `gto history NAME --json` lists, in the same order (at the end of a
sequence; after every fifth step in the long sequences of tests/test_registry_gto_long.py).

GTO stamps its tags with the wall clock (it ignores GIT_COMMITTER_DATE), and it orders events
by tagger date, to the second. So that a sequence runs without sleeping, each tag a `gto`
command makes is re-made at once with the same name, target and message and the step's date
(`git tag -f -a`): the meaning is GTO's, only the clock is the test's.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Example, copy_example
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

MODEL = "wine-classifier"
STAGES = ("dev", "prod")
APPROVERS = ("alice", "bob")


class Clock:
    """The test's clock: each step one second after the last, after every commit's date."""

    def __init__(self) -> None:
        self.now = int(time.time()) + 86_400

    def tick(self) -> str:
        self.now += 1
        return f"{self.now} +0000"


def gto(ex: Example, *args: str) -> subprocess.CompletedProcess[str]:
    """`gto ARGS` in `ex`: GTO's own command line, run in this process (its `gto` script is
    this same click group; a process each costs ~1 s of imports, and the long sequences run
    a few thousand)."""
    from click.testing import CliRunner
    from gto.cli import app

    with contextlib.chdir(ex.root):  # GTO's --repo is "." by default
        result = CliRunner().invoke(app, list(args), prog_name="gto")
    return subprocess.CompletedProcess(
        ["gto", *args], result.exit_code, result.stdout, result.stderr
    )


def _tag_names(ex: Example) -> set[str]:
    return set(ex.git("tag", "--list").stdout.split())


def restamp(ex: Example, before: set[str], when: str) -> None:
    """The tags made since `before`, re-made with the tagger date `when`."""
    for name in sorted(_tag_names(ex) - before):
        target = ex.git("rev-parse", f"{name}^{{commit}}").stdout.strip()
        message = ex.git("for-each-ref", "--format=%(contents)", f"refs/tags/{name}").stdout
        ex.git(
            "tag", "-f", "-a", "-m", message.strip() or name, name, target,
            env={"GIT_COMMITTER_DATE": when},
        )  # fmt: skip


def gto_view(ex: Example) -> dict[str, Any]:
    """`gto show --json`: {artifact: {version, stages that hold something}}."""
    proc = gto(ex, "show", "--json")
    assert proc.returncode == 0, proc.stderr
    return {
        name: {"version": a["version"], "stage": {s: v for s, v in a["stage"].items() if v}}
        for name, a in json.loads(proc.stdout).items()
    }


def gitml_view(ex: Example) -> dict[str, Any]:
    """`gitml registry --json` in the same shape, for the artifacts GTO knows of (it reads
    tags and artifacts.yaml, not gitml.yaml or dvc.yaml): active ones only, as `gto show`."""
    proc = ex.gitml("registry", "--json")
    assert proc.returncode == 0, proc.stderr
    return {
        r["model"]: {
            "version": r["latest"]["version"] if r["latest"] else None,
            "stage": {s: h["version"] or h["rev"] for s, h in r["stages"].items()},
        }
        for r in json.loads(proc.stdout)
        if r["active"] and {"tags", "artifacts.yaml"} & set(r["sources"])
    }


def _commit(ex: Example, text: str, date: str) -> str:
    readme = ex.root / "README.md"
    readme.write_text(readme.read_text() + f"\n{text}\n")
    ex.git("add", "README.md")
    ex.git("commit", "-q", "-m", text, env={"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date})
    return ex.head()


def _signing_keys(keys: Path) -> None:
    """An SSH signing key per approver (approvals are signed tags)."""
    keys.mkdir()
    for who in APPROVERS:
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(keys / who)],
            check=True,
        )


def _signer(ex: Example, who: str, when: str) -> dict[str, str]:
    """git config for `who`: their email and SSH signing key; the tag dated `when`."""
    settings = {
        "user.email": f"{who}@x.org",
        "gpg.format": "ssh",
        "user.signingkey": str(ex.root.parent / "keys" / who),
    }
    env = {"GIT_CONFIG_COUNT": str(len(settings)), "GIT_COMMITTER_DATE": when}
    for i, (key, value) in enumerate(settings.items()):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


@pytest.fixture(scope="module")
def repo(example_template: Example, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Example]:
    """The example project with three more commits and approvers' keys, shared: each test
    starts by removing every tag."""
    ex = copy_example(example_template, tmp_path_factory.mktemp("gto-diff") / "ex")
    for i in range(3):
        _commit(ex, f"docs {i}", f"2026-01-0{i + 1}T10:00:00")
    _signing_keys(ex.root.parent / "keys")
    yield ex


def _reset(ex: Example) -> list[str]:
    names = sorted(_tag_names(ex))
    if names:
        ex.git("tag", "-d", *names)
    for f in (".gto",):
        (ex.root / f).unlink(missing_ok=True)
    commits = ex.git("rev-list", "--max-count=4", "HEAD").stdout.split()
    return commits[::-1]  # oldest first; every one has a fresh gitml.lock


# --- item by item ---------------------------------------------------------------------------


def test_gto_config_stages_refuse_a_stage_it_does_not_list(repo: Example) -> None:
    ex = repo
    _reset(ex)
    (ex.root / ".gto").write_text("stages: [dev, staging, prod]\n")
    try:
        assert gto(ex, "assign", MODEL, "HEAD", "--stage", "production").returncode != 0
        r = ex.gitml("promote", MODEL, "--to", "production")
        assert r.returncode == 2, r.stderr
        assert "stage 'production' is not one of the stages .gto allows: dev, staging, prod" in (
            r.stderr
        )
        assert _tag_names(ex) == set()
        r = ex.gitml("promote", MODEL, "--to", "prod")
        assert r.returncode == 0, r.stderr
    finally:
        (ex.root / ".gto").unlink()


def test_deprecated_model_is_shown_deprecated_and_not_promoted(repo: Example) -> None:
    ex = repo
    commits = _reset(ex)
    clock = Clock()
    r = ex.gitml(
        "promote",
        MODEL,
        "--to",
        "dev",
        commits[0],
        env={"GIT_COMMITTER_DATE": clock.tick()},
    )
    assert r.returncode == 0, r.stderr
    before = _tag_names(ex)
    assert gto(ex, "deprecate", MODEL).returncode == 0
    restamp(ex, before, clock.tick())
    assert f"{MODEL}@deprecated" in _tag_names(ex)
    assert gto_view(ex) == gitml_view(ex) == {}
    [row] = [r for r in json.loads(ex.gitml("registry", "--json").stdout) if r["model"] == MODEL]
    assert row["deprecated"]["tag"] == f"{MODEL}@deprecated" and not row["active"]
    assert "(deprecated)" in ex.gitml("registry").stdout
    r = ex.gitml("promote", MODEL, "--to", "prod", env={"GIT_COMMITTER_DATE": clock.tick()})
    assert r.returncode == 1 and f"{MODEL} is deprecated (tag {MODEL}@deprecated)" in r.stderr
    r = ex.gitml(
        "promote", MODEL, "--to", "prod", "--force", env={"GIT_COMMITTER_DATE": clock.tick()}
    )
    assert r.returncode == 0, r.stderr  # as GTO: a newer event makes it active again
    assert gto_view(ex) == gitml_view(ex) and MODEL in gto_view(ex)


def test_simple_notation_is_ordered_by_time_as_gto_orders_it(repo: Example) -> None:
    ex = repo
    commits = _reset(ex)
    clock = Clock()
    for c in commits[:3]:
        r = ex.gitml("promote", MODEL, "--to", "dev", c, env={"GIT_COMMITTER_DATE": clock.tick()})
        assert r.returncode == 0, r.stderr
    r = ex.gitml(
        "promote",
        MODEL,
        "--to",
        "qa",
        commits[0],
        env={"GIT_COMMITTER_DATE": clock.tick()},
    )
    assert r.returncode == 0, r.stderr
    before = _tag_names(ex)
    assert gto(ex, "assign", MODEL, commits[2], "--stage", "qa", "--simple", "true").returncode == 0
    restamp(ex, before, clock.tick())
    assert f"{MODEL}#qa" in _tag_names(ex)
    assert gto_view(ex)[MODEL]["stage"]["qa"] == "v0.0.3"
    assert gto_view(ex) == gitml_view(ex)
    # and gitml writes simple notation that GTO reads
    r = ex.gitml(
        "promote",
        MODEL,
        "--to",
        "staging",
        "--simple",
        commits[1],
        env={"GIT_COMMITTER_DATE": clock.tick()},
    )
    assert r.returncode == 0 and f"{MODEL}#staging" in _tag_names(ex), r.stderr
    assert gto_view(ex)[MODEL]["stage"]["staging"] == "v0.0.2" and gto_view(ex) == gitml_view(ex)


def test_artifacts_of_artifacts_yaml_and_dvc_yaml_are_listed(repo: Example) -> None:
    ex = repo
    _reset(ex)
    head = ex.head()
    (ex.root / "artifacts.yaml").write_text("tok:\n  type: model\n  path: models/tok.bin\n")
    sub = ex.root / "pipelines" / "nlp"
    sub.mkdir(parents=True)
    (sub / "dvc.yaml").write_text("artifacts:\n  nb:\n    path: nb.pkl\n    type: model\n")
    ex.git("add", "artifacts.yaml", "pipelines/nlp/dvc.yaml")
    ex.git("commit", "-q", "-m", "declare artifacts")
    try:
        rows = {r["model"]: r for r in json.loads(ex.gitml("registry", "--json").stdout)}
        assert (
            rows["tok"]["sources"] == ["artifacts.yaml"] and rows["tok"]["path"] == "models/tok.bin"
        )
        assert rows["pipelines/nlp:nb"]["path"] == "pipelines/nlp/nb.pkl"
        assert rows["pipelines/nlp:nb"]["sources"] == ["pipelines/nlp/dvc.yaml"]
        assert MODEL in rows
        # a subdirectory artifact's tags, as GTO writes them, are read by its full name
        assert gto(ex, "register", "pipelines/nlp:nb", "HEAD").returncode == 0
        assert "pipelines/nlp=nb@v0.0.1" in _tag_names(ex)
        rows = {r["model"]: r for r in json.loads(ex.gitml("registry", "--json").stdout)}
        assert rows["pipelines/nlp:nb"]["latest"]["version"] == "v0.0.1"
        assert gto_view(ex) == gitml_view(ex)
    finally:
        names = sorted(_tag_names(ex))
        if names:
            ex.git("tag", "-d", *names)
        ex.git("reset", "-q", "--hard", head)


# --- the differential test ------------------------------------------------------------------

commit_index = st.integers(min_value=0, max_value=3)
stage = st.sampled_from(STAGES)
operation = st.one_of(
    st.tuples(st.just("register"), commit_index),
    st.tuples(st.just("assign"), stage, commit_index, st.booleans()),
    st.tuples(st.just("unassign"), stage, commit_index),
    st.tuples(st.just("deregister"), commit_index),
    st.tuples(st.just("deprecate")),
    st.tuples(st.just("promote"), stage, commit_index),
    st.tuples(st.just("rollback"), stage),
    st.tuples(st.just("approve"), stage, st.sampled_from(APPROVERS)),
)


def _version_at(ex: Example, commit: str) -> str | None:
    """The version GTO gives `commit` now (for `gto deprecate NAME VERSION`)."""
    proc = gto(ex, "show", MODEL, "--json", "--deprecated")
    if proc.returncode != 0:
        return None
    return next(
        (v["version"] for v in json.loads(proc.stdout) if v["commit_hexsha"] == commit), None
    )


def apply(ex: Example, op: tuple[Any, ...], commits: list[str], when: str) -> str:
    """Run one operation at the date `when`; what ran, for the failure message."""
    before = _tag_names(ex)
    kind = op[0]
    if kind == "promote":
        r = ex.gitml(
            "promote",
            MODEL,
            "--to",
            op[1],
            commits[op[2]],
            env={"GIT_COMMITTER_DATE": when},
        )
        assert r.returncode in (0, 1), r.stderr  # 1: deprecated
        return f"gitml promote --to {op[1]} {op[2]} -> {r.returncode}"
    if kind == "rollback":
        r = ex.gitml("rollback", MODEL, "--stage", op[1], env={"GIT_COMMITTER_DATE": when})
        assert r.returncode in (0, 1, 2), r.stderr  # 2: nothing to roll back to
        return f"gitml rollback --stage {op[1]} -> {r.returncode}"
    if kind == "approve":  # the latest version, signed by op[2]
        r = ex.gitml("approve", MODEL, "--stage", op[1], env=_signer(ex, op[2], when))
        assert r.returncode in (0, 2), r.stderr  # 2: no version, or approved already
        return f"gitml approve --stage {op[1]} as {op[2]} -> {r.returncode}"
    if kind == "register":
        args = ["register", MODEL, commits[op[1]]]
    elif kind == "assign":
        args = ["assign", MODEL, commits[op[2]], "--stage", op[1]]
        args += ["--simple", "true"] if op[3] else []
    elif kind == "deprecate":
        args = ["deprecate", MODEL]
    else:
        version = _version_at(ex, commits[op[-1]])
        if version is None:
            return f"{op}: no version"
        args = ["deprecate", MODEL, version] + ([op[1]] if kind == "unassign" else [])
    r = gto(ex, *args)
    restamp(ex, before, when)
    return f"gto {' '.join(args)} -> {r.returncode}"


def history(ex: Example) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(`gto history MODEL --json`, `gitml registry MODEL --history --json`)."""
    theirs = gto(ex, "history", MODEL, "--json")
    assert theirs.returncode == 0, theirs.stderr
    ours = ex.gitml("registry", MODEL, "--history", "--json")
    assert ours.returncode == 0, ours.stderr
    return json.loads(theirs.stdout), json.loads(ours.stdout)


def run_sequence(ex: Example, ops: list[tuple[Any, ...]], history_each_step: bool) -> None:
    commits = _reset(ex)
    clock = Clock()
    done: list[str] = []
    before: dict[str, Any] = {}  # no tags: GTO shows nothing
    for i, op in enumerate(ops):
        done.append(apply(ex, op, commits, clock.tick()))
        theirs, ours = gto_view(ex), gitml_view(ex)
        assert ours == theirs, "\n".join([*done, f"gto: {theirs}", f"gitml: {ours}"])
        if op[0] == "approve":  # GTO does not read approval tags: nothing changed for it
            assert theirs == before, "\n".join([*done, f"gto before: {before}", f"now: {theirs}"])
        before = theirs
        # every fifth step in the long sequences (gto history costs ~1 s a call), and the last
        if (history_each_step and i % 5 == 4) or i == len(ops) - 1:
            gto_history, gitml_history = history(ex)
            assert gitml_history == gto_history, "\n".join(
                [*done, "gto history:", json.dumps(gto_history, indent=1), "gitml history:",
                 json.dumps(gitml_history, indent=1)]
            )  # fmt: skip


@settings(
    max_examples=1,  # and the explicit example below: the fast part stays small
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=6, max_size=8))
@example(  # approvals among GTO's and gitml's own tags, whatever the generated ones hold
    ops=[
        ("approve", "prod", "alice"),  # nothing registered yet: refused
        ("promote", "dev", 0),
        ("approve", "prod", "alice"),
        ("assign", "prod", 1, False),
        ("approve", "prod", "bob"),
        ("unassign", "prod", 1),
        ("approve", "dev", "alice"),
    ]
)
@pytest.mark.slow
def test_gitml_reads_the_registry_as_gto_does(repo: Example, ops: list[tuple[Any, ...]]) -> None:
    run_sequence(repo, ops, history_each_step=False)


@pytest.mark.slow
def test_lookups_and_promote_options_a_gto_user_expects(repo: Example) -> None:
    ex = repo
    commits = _reset(ex)
    clock = Clock()

    def promote(*args: str) -> subprocess.CompletedProcess[str]:
        return ex.gitml("promote", MODEL, *args, env={"GIT_COMMITTER_DATE": clock.tick()})

    assert promote("--to", "dev", commits[0]).returncode == 0  # v0.0.1
    r = promote("--to", "prod", commits[1], "--bump-minor", "-m", "ship it")
    assert r.returncode == 0, r.stderr  # v0.1.0
    assert promote("--to", "dev", commits[2], "--bump-major").returncode == 0  # v1.0.0
    assert "ship it" in ex.git("tag", "-n1", "--list", f"{MODEL}#prod#*").stdout
    r = promote("--to", "dev", commits[2])
    assert r.returncode == 0 and "in dev already" in r.stderr
    r = promote("--to", "dev", commits[2], "--force")
    assert r.returncode == 0 and f"{MODEL}#dev#" in r.stderr, r.stderr  # a new tag anyway
    r = promote("--to", "dev", "--bump-minor", "--bump-major")
    assert r.returncode == 2 and "not both" in r.stderr

    # what GTO prints for the same questions
    for question in (f"{MODEL}#prod", f"{MODEL}#dev", f"{MODEL}@latest"):
        ours = ex.gitml("registry", question, "--version")
        theirs = gto(ex, "show", question, "--version")
        assert ours.returncode == 0 and ours.stdout.split() == theirs.stdout.split(), question
        ours = ex.gitml("registry", question, "--ref")
        theirs = gto(ex, "show", question, "--ref")
        assert ours.stdout.strip() and ours.stdout.split() == theirs.stdout.split(), question
    assert ex.gitml("registry", f"{MODEL}#prod", "--version").stdout.strip() == "v0.1.0"
    doc = json.loads(ex.gitml("registry", f"{MODEL}#prod", "--json").stdout)
    assert (doc["version"], doc["rev"], doc["stages"]) == ("v0.1.0", commits[1], ["prod"])
    versions = json.loads(ex.gitml("registry", MODEL, "--json").stdout)
    assert [v["version"] for v in versions] == ["v1.0.0", "v0.1.0", "v0.0.1"]
    r = ex.gitml("registry", f"{MODEL}#staging", "--version")
    assert r.returncode == 1 and "nothing in stage staging" in r.stderr and r.stdout == ""
    r = ex.gitml("registry", "nope#prod")
    assert r.returncode == 2 and "no model 'nope'" in r.stderr
