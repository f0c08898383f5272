"""gitml under the pre-commit framework: the config merge, real `pre-commit` runs, the manifest."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT, Example, git, run

from gitml.errors import BadInput
from gitml.githooks import GIT_HOOKS
from gitml.precommit_config import merged
from gitml.precommit_framework import install_framework
from gitml.precommit_hooks import CONFIG, FRAMEWORK_HOOKS, HOOK_TYPES, hook_dict

HAND_WRITTEN = """\
# Our hooks. Keep this comment.
default_install_hook_types: [pre-commit, commit-msg]
repos:
  - repo: local   # team tools
    hooks:
      - id: team-check
        name: team check
        entry: echo team-check-ran
        language: unsupported
        pass_filenames: false
        verbose: true
# formatting rules follow
fail_fast: false
"""


def pre_commit(*args: str, cwd: Path, check: bool = True):  # type: ignore[no-untyped-def]
    return run(sys.executable, "-m", "pre_commit", *args, cwd=cwd, check=check)


def gitml_hooks_in(text: str) -> None:
    doc = yaml.safe_load(text)
    hooks = {h["id"]: h for repo in doc["repos"] for h in repo["hooks"]}
    for hook in FRAMEWORK_HOOKS:
        assert hooks[hook.id] == hook_dict(hook)
    assert set(HOOK_TYPES) <= set(doc["default_install_hook_types"])


def assert_kept(old: str, new: str) -> None:
    """Every line of the user's file is still there, in its order (the hook types line grows)."""
    rest = iter(new.splitlines())
    for line in old.splitlines():
        if not line.startswith("default_install_hook_types:"):
            assert any(line == candidate for candidate in rest), f"lost: {line!r}\n{new}"


def installed_types(root: Path) -> set[str]:
    hooks = root / ".git" / "hooks"
    return {
        t for t in HOOK_TYPES if (hooks / t).exists() and "pre-commit" in (hooks / t).read_text()
    }


@pytest.mark.parametrize(
    "old",
    [None, "", "\n# nothing yet\n", HAND_WRITTEN],
    ids=["missing", "empty", "comment-only", "hand-written"],
)
def test_config_is_merged_keeping_the_users_content_and_idempotent(
    tmp_path: Path, old: str | None
) -> None:
    git("init", "-q", cwd=tmp_path)
    config = tmp_path / CONFIG
    if old is not None:
        config.write_text(old)
    install_framework(tmp_path)
    new = config.read_text()
    gitml_hooks_in(new)
    assert_kept(old or "", new)
    assert installed_types(tmp_path) == set(HOOK_TYPES)
    if old == HAND_WRITTEN:
        doc = yaml.safe_load(new)
        assert doc["default_install_hook_types"][:2] == ["pre-commit", "commit-msg"]
        assert doc["repos"][0]["hooks"][0]["id"] == "team-check" and doc["fail_fast"] is False
        pre_commit("validate-config", CONFIG, cwd=tmp_path)
    install_framework(tmp_path)
    assert config.read_text() == new


LAYOUTS = {
    "pre-commit-style": "repos:\n-   repo: https://example.invalid/hooks\n    rev: v1\n"
    "    hooks:\n    -   id: lint  # ours\n# about ci\nci:\n  skip: [lint]\n",
    "empty-flow-repos": "repos: []  # none yet\nfail_fast: true\n",
    "block-hook-types": "default_install_hook_types:\n  - commit-msg\nrepos:\n  - repo: local\n"
    "    hooks:\n      - id: x\n        name: x\n        entry: |\n"
    "          true\n        language: unsupported\n",
    "flow-repos": "repos: [{repo: local, hooks: [{id: x, name: x, entry: x, language: system}]}]\n",
    "no-final-newline": "# c\nrepos:\n- repo: local\n  hooks: []",
    "gitml-check-already": "repos:\n- repo: https://example.invalid/gitml\n  rev: v1\n  hooks:\n"
    "  - id: gitml-check\n    args: [--x]\n",
    # a document start and a bare `-` before each entry (pre-commit accepts any YAML)
    "document-start-bare-dashes": "---\n# team config\nrepos:\n-\n  repo: https://example.invalid/h\n"
    "  rev: v4.5.0\n  hooks:\n  -\n    id: trailing-whitespace\n-\n  repo: local\n  hooks:\n"
    "  - id: pytest  # slow\n    name: pytest\n    entry: pytest\n    language: system\n",
    "bare-dash-with-comment": "repos:\n  - # ours\n    repo: local\n    hooks:\n      -\n"
    "        id: a\n        name: a\n        entry: a\n        language: system\n",
    "bare-dash-hook-types": "default_install_hook_types:\n-\n  commit-msg\nrepos:\n-\n  repo: local\n"
    "  hooks: []\n",
    "json": '{"repos": [{"repo": "local", "hooks": [{"id": "a", "name": "a", "entry": "a", '
    '"language": "system"}]}]}\n',
    "directive-and-document-end": "%YAML 1.1\n---\nrepos:\n- repo: local\n  hooks: []\n...\n",
}
TEXT_EDITED = ("document-start-bare-dashes", "bare-dash-with-comment", "bare-dash-hook-types")


@pytest.mark.parametrize("old", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_merge_follows_the_users_layout(old: str) -> None:
    new = merged(old)
    assert new is not None
    before, after = yaml.safe_load(old), yaml.safe_load(new)
    for key, value in before.items():
        if key not in ("repos", "default_install_hook_types"):
            assert after[key] == value
    assert after["repos"][: len(before["repos"])] == before["repos"]
    ids = [h["id"] for repo in after["repos"] for h in repo["hooks"]]
    assert sorted(ids) == sorted(set(ids)) and {h.id for h in FRAMEWORK_HOOKS} <= set(ids)
    assert set(HOOK_TYPES) <= set(after["default_install_hook_types"])
    for line in old.splitlines():
        if line.lstrip().startswith("#"):
            assert line in new.splitlines()
    assert merged(new) is None
    for marker in ("---", "..."):  # document start and end are kept
        assert (marker in new.splitlines()) is (marker in old.splitlines())


@pytest.mark.parametrize("name", TEXT_EDITED)
def test_bare_dash_layouts_keep_every_line_and_their_style(name: str, tmp_path: Path) -> None:
    old = LAYOUTS[name]
    new = merged(old)
    assert new is not None
    assert_kept(old, new)
    assert (
        "\n-\n  repo: local\n" in new or "  -\n    repo: local\n" in new or name.endswith("types")
    )
    (tmp_path / CONFIG).write_text(new)
    pre_commit("validate-config", CONFIG, cwd=tmp_path)


@pytest.mark.parametrize(
    ("old", "stages"),
    [
        (None, ["pre-commit", "manual"]),
        (HAND_WRITTEN, ["pre-commit", "commit-msg", "manual"]),
        (LAYOUTS["document-start-bare-dashes"], ["pre-commit", "manual"]),
        (LAYOUTS["json"], ["pre-commit", "manual"]),  # through the round trip
        ("default_stages: [pre-push]\nrepos: []\n", ["pre-push"]),  # the user's choice stays
    ],
)
def test_default_stages_keep_the_users_hooks_where_they_ran(
    old: str | None, stages: list[str]
) -> None:
    """pre-commit runs a hook without `stages:` at every stage in `default_stages` (all when
    unset), so at every hook type installed: the types the user had (pre-commit by default)."""
    new = merged(old)
    assert new is not None
    assert yaml.safe_load(new)["default_stages"] == stages


def test_a_config_that_is_not_one_is_refused_untouched(tmp_path: Path) -> None:
    git("init", "-q", cwd=tmp_path)
    config = tmp_path / CONFIG
    config.write_text("- repo: local\n  hooks: []\n")
    with pytest.raises(BadInput, match="migrate-config"):
        install_framework(tmp_path)
    assert config.read_text() == "- repo: local\n  hooks: []\n"


def test_a_yaml_alias_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    git("init", "-q", cwd=tmp_path)
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    bomb = "\n".join(levels) + "\n"  # 10**9 values once expanded
    config = tmp_path / CONFIG
    config.write_text(bomb)
    with pytest.raises(BadInput, match="expands to more than"):
        install_framework(tmp_path)
    assert config.read_text() == bomb


def test_the_manifest_declares_the_hooks_init_writes() -> None:
    manifest = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    assert [{k: v for k, v in h.items() if k != "description"} for h in manifest] == [
        hook_dict(h) for h in FRAMEWORK_HOOKS
    ]
    for hook in FRAMEWORK_HOOKS:  # every entry names a hook gitml-hook knows
        assert hook.entry.split()[0] == "gitml-hook" and hook.entry.split()[1] in GIT_HOOKS


def framework(ex: Example, config: str | None = None) -> Example:
    """The example project with gitml's native hooks swapped for pre-commit's."""
    if config is not None:
        (ex.root / CONFIG).write_text(config)
    proc = ex.gitml("init", "--hooks", "pre-commit")
    assert proc.returncode == 0, proc.stderr
    assert "removed gitml's native hooks" in proc.stderr
    assert not (ex.root / ".git" / "hooks" / "post-commit").exists()
    ex.git("commit", "-qm", "pre-commit framework")
    return ex


@pytest.mark.slow
def test_param_change_fails_once_then_passes_with_the_lock_added(example: Example) -> None:
    ex = framework(example)
    ex.set_param("n_estimators: 3", "n_estimators: 7")
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    first = ex.git("commit", "-qm", "seven trees", check=False)
    assert first.returncode == 1
    assert "gitml.lock updated: run `git add gitml.lock`, then commit again" in first.stderr
    ex.git("add", "gitml.lock")
    second = ex.git("commit", "-qm", "seven trees", check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    lock = yaml.safe_load(ex.show_file("HEAD", "gitml.lock"))
    assert lock["models"]["model/model.pkl"]["inputs"]["params.yaml:train"]["n_estimators"] == 7
    assert ex.git("status", "--porcelain").stdout == ""


def test_commit_am_advice_is_a_command_that_works(example: Example) -> None:
    ex = framework(example)
    ex.set_param("n_estimators: 3", "n_estimators: 7")  # no repro: recorded as a stale stage
    first = ex.git("commit", "-qam", "seven trees", check=False)
    assert first.returncode == 1
    assert "then your `git commit -a …` again" in first.stderr, first.stderr
    ex.git("add", "gitml.lock")  # as the advice says
    second = ex.git("commit", "-qam", "seven trees", check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert ex.lock()["models"]["model/model.pkl"]["stale"]
    assert ex.git("status", "--porcelain").stdout == ""


def test_users_hook_without_stages_runs_at_commits_only(example: Example, tmp_path: Path) -> None:
    log = tmp_path / "ran.log"
    config = (
        "repos:\n- repo: local\n  hooks:\n  - id: slow-tests\n    name: slow tests\n"
        f"    entry: sh -c 'echo ran >> {log}'\n    language: unsupported\n"
        "    pass_filenames: false\n    always_run: true\n"
    )
    ex = framework(example, config)  # one commit
    assert log.read_text().count("ran") == 1
    ex.git("checkout", "-qb", "other")
    ex.git("checkout", "-q", "main")
    assert log.read_text().count("ran") == 1  # not at post-checkout
    assert pre_commit("run", "--hook-stage", "manual", "slow-tests", cwd=ex.root).returncode == 0
    assert log.read_text().count("ran") == 2  # still runnable by hand


def test_doctor_names_the_hook_each_framework_hook_type_runs(example: Example) -> None:
    import json

    ex = framework(example)
    doc = json.loads(ex.gitml("doctor", "--json").stdout)
    detail = {c["name"]: c["detail"] for c in doc["checks"]}
    expected = {
        "pre-commit": "gitml-check",
        "pre-merge-commit": "gitml-check",
        "pre-push": "gitml-pre-push",
        "post-checkout": "gitml-restore",
        "post-merge": "gitml-restore",
        "post-rewrite": "gitml-restore",
    }
    for hook_type, hook_id in expected.items():
        assert detail[f"hook {hook_type}"] == f"pre-commit framework ({CONFIG} runs {hook_id})"
    (ex.root / CONFIG).write_text(
        (ex.root / CONFIG).read_text().replace("default_stages:", "# default_stages:")
        + "- repo: local\n  hooks:\n  - {id: mine, name: m, entry: 'true', language: unsupported}\n"
    )
    doc = json.loads(ex.gitml("doctor", "--json").stdout)
    config_check = next(c for c in doc["checks"] if c["name"] == CONFIG)
    assert (
        config_check["status"] == "warn"
        and "default_stages: [pre-commit]" in config_check["detail"]
    )
    assert config_check["detail"].startswith("mine (no `stages:`")


def test_unrelated_commit_passes_beside_the_users_hooks(example: Example) -> None:
    ex = framework(example, HAND_WRITTEN)
    (ex.root / "README.md").write_text("a line about nothing gitml watches\n")
    proc = ex.git("commit", "-qam", "readme", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "gitml check" in out and "Passed" in out and "team-check-ran" in out


def test_checkout_restores_through_the_framework(example: Example) -> None:
    ex = framework(example)
    (ex.root / "README.md").write_text("another commit, same model\n")
    ex.git("commit", "-qam", "readme")
    model = ex.root / "model" / "model.pkl"
    model.unlink()
    ex.git("checkout", "-q", "HEAD~1", "--", "README.md")
    assert not model.exists()  # a file checkout never restores data
    proc = ex.git("checkout", "-q", "HEAD~1")
    assert "restored model/model.pkl" in proc.stdout + proc.stderr
    assert model.exists()


def test_try_repo_consumes_the_manifest(example: Example, tmp_path: Path) -> None:
    """What a consumer of this repository's `.pre-commit-hooks.yaml` gets (as published)."""
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    shutil.copy(PROJECT / ".pre-commit-hooks.yaml", hook_repo)
    git("init", "-q", cwd=hook_repo)
    git("add", "-A", cwd=hook_repo)
    git("commit", "-qm", "manifest", cwd=hook_repo)
    (example.root / "README.md").write_text("changed\n")
    example.git("add", "README.md")
    proc = pre_commit("try-repo", str(hook_repo), "gitml-check", cwd=example.root, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gitml check" in proc.stdout and "Passed" in proc.stdout


def test_core_hooks_path_is_refused_with_what_to_do(example: Example) -> None:
    example.git("config", "core.hooksPath", ".githooks")
    proc = example.gitml("init", "--hooks", "pre-commit")
    assert proc.returncode == 2
    assert "core.hooksPath" in proc.stderr and "--unset-all core.hooksPath" in proc.stderr
    assert "gitml init" in proc.stderr
    assert not (example.root / CONFIG).exists()
