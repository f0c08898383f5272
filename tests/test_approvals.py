"""Signed approvals before production (`gitml approve`, `gitml verify`, `promote` waiting for them):
real SSH keys made by ssh-keygen, git's own `git tag -s` and `verify-tag`, GTO reading the
registry beside them, no network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Example, copy_example

# builds its own template repository; the rule it checks has fast unit tests (tests/unit)
pytestmark = pytest.mark.slow

MODEL = "wine-classifier"
SIGNERS = ".gitml/allowed_signers"
AUTHOR = "tests@gitml.invalid"  # conftest's git identity: the author of every commit here
PEOPLE = ("alice", "bob", "carol", "mallory", "tests")


def _keygen(keys: Path, who: str) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(keys / who)],
        check=True,
    )
    kind, key = (keys / f"{who}.pub").read_text().split()[:2]
    return f"{kind} {key}"


def _as(ex: Example, who: str) -> dict[str, str]:
    """git config for one person: their email and SSH signing key."""
    email = AUTHOR if who == "tests" else f"{who}@x.org"
    settings = {
        "user.email": email,
        "gpg.format": "ssh",
        "user.signingkey": str(ex.root.parent / "keys" / who),
    }
    env = {"GIT_CONFIG_COUNT": str(len(settings))}
    for i, (key, value) in enumerate(settings.items()):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


def _policy(ex: Example, required: int) -> None:
    text = (ex.root / "gitml.yaml").read_text()
    text += (
        f"registry:\n  approvals:\n    production: {{required: {required}, signers: {SIGNERS}}}\n"
    )
    (ex.root / "gitml.yaml").write_text(text)


@pytest.fixture(scope="module")
def approvals_template(
    example_template: Example, tmp_path_factory: pytest.TempPathFactory
) -> Example:
    """The example with keys for five people, an allowed-signers file (carol's key revoked,
    mallory's absent), production needing 2 approvals, and v0.0.1 in staging."""
    ex = copy_example(example_template, tmp_path_factory.mktemp("approvals") / "t")
    keys = ex.root.parent / "keys"
    keys.mkdir()
    public = {who: _keygen(keys, who) for who in PEOPLE}
    (ex.root / ".gitml").mkdir()
    (ex.root / SIGNERS).write_text(
        f"alice@x.org {public['alice']}\n"
        f"bob@x.org {public['bob']}\n"
        f'carol@x.org valid-before="20200101" {public["carol"]}\n'
        f"{AUTHOR} {public['tests']}\n"
    )
    _policy(ex, 2)
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "production needs two approvals")
    r = ex.gitml("promote", MODEL, "--to", "staging")
    assert r.returncode == 0, r.stderr
    return ex


@pytest.fixture
def ex(approvals_template: Example, tmp_path: Path) -> Example:
    return copy_example(approvals_template, tmp_path / "ex")


def _approve(ex: Example, who: str, *args: str) -> subprocess.CompletedProcess[str]:
    return ex.gitml("approve", f"{MODEL}@v0.0.1", "--stage", "production", *args, env=_as(ex, who))


def _promote(ex: Example, who: str = "dave") -> subprocess.CompletedProcess[str]:
    env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.email"}
    env["GIT_CONFIG_VALUE_0"] = f"{who}@x.org"
    return ex.gitml("promote", MODEL, "--to", "production", env=env)


def test_production_waits_for_two_signed_approvals(ex: Example) -> None:
    r = _promote(ex)
    assert r.returncode == 1
    assert "not approved for production: approved by nobody; 2 more needed" in r.stderr
    assert "alice@x.org" in r.stderr and "bob@x.org" in r.stderr

    r = _approve(ex, "alice", "-m", "looked at the confusion matrix")
    assert r.returncode == 0, r.stderr
    tag = f"gitml-approval/production/{MODEL}/v0.0.1/alice-at-x.org"
    assert tag in r.stderr
    assert ex.git("cat-file", "-t", tag).stdout.strip() == "tag"
    assert "-----BEGIN SSH SIGNATURE-----" in ex.git("cat-file", "tag", tag).stdout
    r = _promote(ex)
    assert r.returncode == 1 and "approved by alice@x.org; 1 more needed" in r.stderr

    assert _approve(ex, "bob").returncode == 0
    r = _promote(ex)
    assert r.returncode == 0, r.stderr
    r = ex.gitml("verify", MODEL, "--stage", "production", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verified"] is True and doc["version"] == "v0.0.1"
    assert doc["approved_by"] == ["alice@x.org", "bob@x.org"]


def test_gto_does_not_read_approval_tags(ex: Example) -> None:
    gto = [str(Path(sys.executable).with_name("gto")), "show", "--json"]
    before = subprocess.run(gto, cwd=ex.root, capture_output=True, text=True, check=True)
    assert _approve(ex, "alice").returncode == 0
    assert _approve(ex, "bob").returncode == 0
    after = subprocess.run(gto, cwd=ex.root, capture_output=True, text=True, check=True)
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert "gitml-approval" not in after.stderr


def test_approvals_that_do_not_count_are_named(ex: Example) -> None:
    head = ex.head()
    prefix = f"gitml-approval/production/{MODEL}/v0.0.1"
    fields = f"gitml approval\n\nmodel: {MODEL}\nversion: v0.0.1\nstage: production\n"
    # unsigned (annotated), lightweight, and signed over another commit
    ex.git("tag", "-a", "-m", fields + f"commit: {head}\n", f"{prefix}/unsigned", head)
    ex.git("tag", f"{prefix}/light", head)
    env = _as(ex, "alice")
    ex.git("tag", "-s", "-m", fields + "commit: HEAD~1\n", f"{prefix}/old", "HEAD~1", env=env)
    assert _approve(ex, "mallory").returncode == 0  # a key not in allowed_signers
    assert _approve(ex, "carol").returncode == 0  # a key revoked (valid-before) before this
    assert _approve(ex, "tests").returncode == 0  # the commit's author
    r = _promote(ex)
    assert r.returncode == 1
    said = r.stderr
    assert "approved by nobody; 2 more needed" in said
    assert f"{prefix}/unsigned: not signed" in said
    assert f"{prefix}/light: a lightweight tag" in said
    assert f"{prefix}/old: its message names commit 'HEAD~1'" in said
    assert f"{prefix}/mallory-at-x.org: signature not accepted" in said
    assert "No principal matched" in said
    assert f"{prefix}/carol-at-x.org: signature not accepted" in said and "expired" in said
    assert f"{AUTHOR} wrote the commit: an author does not approve their own model" in said
    r = ex.gitml("verify", MODEL, "--stage", "production")
    assert r.returncode == 1 and "has nothing in production" in r.stderr


def test_the_promoters_own_approval_does_not_count_alone(ex: Example) -> None:
    text = (ex.root / "gitml.yaml").read_text()
    (ex.root / "gitml.yaml").write_text(text.replace("{required: 2,", "{required: 1,"))
    ex.git("add", "gitml.yaml")
    ex.git("commit", "-q", "-m", "one approval is enough")
    assert ex.gitml("promote", MODEL, "--to", "staging").returncode == 0  # v0.0.2
    r = ex.gitml("approve", MODEL, "--stage", "production", env=_as(ex, "alice"))
    assert r.returncode == 0 and "v0.0.2" in r.stderr  # the latest, without a .gto order
    assert _promote(ex, "alice").returncode == 1
    assert "the only approval is the promoter's own (alice@x.org)" in _promote(ex, "alice").stderr
    assert _promote(ex, "bob").returncode == 0


def test_a_deregistered_version_is_not_approved(ex: Example) -> None:
    gto = str(Path(sys.executable).with_name("gto"))
    subprocess.run(
        [gto, "deprecate", MODEL, "v0.0.1"], cwd=ex.root, check=True, capture_output=True
    )
    r = _approve(ex, "alice")
    assert r.returncode == 2 and "deregistered: it cannot be approved" in r.stderr


def test_a_policy_with_a_bad_value_is_bad_input(ex: Example) -> None:
    text = (ex.root / "gitml.yaml").read_text().replace("{required: 2,", "{required: 0,")
    (ex.root / "gitml.yaml").write_text(text)
    ex.git("add", "gitml.yaml")
    r = ex.gitml("check")
    assert r.returncode == 2
    assert "registry.approvals.production.required" in r.stderr and "at least 1" in r.stderr


def test_the_registry_shows_each_versions_verified_approvals(ex: Example) -> None:
    r = ex.gitml("registry", "--json")
    assert r.returncode == 0, r.stderr
    assert [v["approvals"] for v in json.loads(r.stdout)[0]["versions"]] == [{}]
    assert _approve(ex, "alice").returncode == 0
    assert _approve(ex, "mallory").returncode == 0  # not an allowed signer: not counted
    r = ex.gitml("approve", f"{MODEL}@v0.0.1", "--stage", "staging", env=_as(ex, "bob"))
    assert r.returncode == 0, r.stderr  # a stage without a policy: nothing says whose counts
    [row] = json.loads(ex.gitml("registry", "--json").stdout)
    [version] = row["versions"]
    assert version["approvals"]["production"] == {
        "required": 2,
        "approved_by": ["alice@x.org"],
        "not_counted": 1,
        "problem": None,
    }
    staging = version["approvals"]["staging"]
    assert staging["required"] is None and staging["approved_by"] == []
    assert "has no approvals policy for staging" in staging["problem"]
    table = ex.gitml("registry").stdout
    assert "v0.0.1 production 1/2 (alice@x.org), 1 not counted; staging 0/?" in table
    doc = json.loads(ex.gitml("registry", f"{MODEL}@v0.0.1", "--json").stdout)
    assert doc["approvals"]["production"]["approved_by"] == ["alice@x.org"]
