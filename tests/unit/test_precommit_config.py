"""gitml/precommit_config.py and precommit_hooks.py: gitml's hooks merged into a user's
`.pre-commit-config.yaml`, in process: every layout gives the config it must, the user's lines
stay byte for byte where the text edit can follow them, and a second run changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitml import precommit_config, precommit_hooks
from gitml.errors import BadInput
from gitml.precommit_hooks import FRAMEWORK_HOOKS, HOOK_TYPES, hook_dict

GITML_IDS = [h.id for h in FRAMEWORK_HOOKS]


def merged(text: str | None) -> str:
    new = precommit_config.merged(text)
    assert new is not None
    assert precommit_config.merged(new) is None  # idempotent
    return new


def gitml_block(doc: dict[str, Any]) -> list[dict[str, Any]]:
    [block] = [
        r for r in doc["repos"] if r.get("repo") == "local" and r["hooks"][0]["id"] == GITML_IDS[0]
    ]
    return block["hooks"]


def kept_in_order(old: str, new: str) -> bool:
    """Every line of `old` but flow lists (edited in place) is in `new`, unchanged and in the
    same order."""
    lines = iter(new.splitlines())
    kept = [line for line in old.splitlines() if "[" not in line]
    return all(any(line == have for have in lines) for line in kept)


def test_a_new_file() -> None:
    new = merged(None)
    assert new.startswith(precommit_config.NEW_FILE_HEADER)
    doc = yaml.safe_load(new)
    assert doc["default_install_hook_types"] == list(HOOK_TYPES)
    # hooks without `stages:` kept where pre-commit ran them before (pre-commit, manual)
    assert doc["default_stages"] == ["pre-commit", "manual"]
    assert gitml_block(doc) == [hook_dict(h) for h in FRAMEWORK_HOOKS]


@pytest.mark.parametrize("old", ["", "\n# nothing yet\n"])
def test_an_empty_file_keeps_its_comment(old: str) -> None:
    new = merged(old)
    assert new.startswith(old) and yaml.safe_load(new)["repos"]


LAYOUTS = {
    "pre-commit style": (
        "repos:\n-   repo: https://example.invalid/hooks\n    rev: v1\n    hooks:\n"
        "    -   id: lint  # ours\n# about ci\nci:\n  skip: [lint]\n"
    ),
    "indented items": "repos:\n  - repo: local\n    hooks:\n      - id: x\n        name: x\n"
    "        entry: x\n        language: system\n",
    "bare dashes": "repos:\n-\n  repo: local\n  hooks:\n  -\n    id: x\n    name: x\n"
    "    entry: x\n    language: system\n",
    "flow hook types": "default_install_hook_types: [pre-commit, commit-msg]  # ours\nrepos: []\n",
    "block hook types": "default_install_hook_types:\n  - commit-msg\nrepos: []  # none yet\n",
    "no newline at the end": "fail_fast: true",
    "user stages": "default_stages: [pre-commit]\nrepos: []\n",
}


@pytest.mark.parametrize("old", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_text_edits_keep_the_users_lines(old: str) -> None:
    data = precommit_hooks.parse(old)
    new = merged(old)
    hooks, types = precommit_hooks.missing(data)
    assert yaml.safe_load(new) == precommit_config.expected(data, hooks, types)
    assert kept_in_order(old, new)


def test_flow_hook_types_are_extended_in_place() -> None:
    new = merged(LAYOUTS["flow hook types"]).splitlines()
    # pre-commit ran hooks without `stages:` at the user's hook types: they still do, alone
    assert new[0].startswith("default_stages: [pre-commit, commit-msg, manual]  # hooks without")
    types = ", ".join(["pre-commit", "commit-msg", *HOOK_TYPES[1:]])
    assert new[1] == f"default_install_hook_types: [{types}]  # ours"


def test_block_items_follow_the_users_indentation() -> None:
    new = merged(LAYOUTS["block hook types"])
    assert "  - commit-msg\n  - pre-commit\n  - pre-merge-commit\n" in new
    assert "repos:  # none yet\n-   repo: local\n" in new
    new = merged(LAYOUTS["pre-commit style"])
    assert "\n-   repo: local\n    hooks:\n    -   id: gitml-check\n" in new


def test_the_users_default_stages_are_left_alone() -> None:
    doc = yaml.safe_load(merged(LAYOUTS["user stages"]))
    assert doc["default_stages"] == ["pre-commit"]


def test_a_layout_the_text_edit_cannot_follow_goes_through_the_round_trip() -> None:
    old = (
        "---\n# flow style\n"
        "{repos: [{repo: local, hooks: [{id: x, name: x, entry: x, language: system}]}]}\n"
    )
    data = precommit_hooks.parse(old)
    with pytest.raises(precommit_config._Unfollowable):
        precommit_config.text_edit(old, data, list(FRAMEWORK_HOOKS), list(HOOK_TYPES))
    new = merged(old)
    assert new.startswith("---") and "# flow style" in new
    assert yaml.safe_load(new) == precommit_config.expected(
        data, list(FRAMEWORK_HOOKS), list(HOOK_TYPES)
    )


def test_a_hook_the_user_adapted_is_theirs() -> None:
    old = (
        "default_install_hook_types: [" + ", ".join(HOOK_TYPES) + "]\n"
        "repos:\n- repo: local\n  hooks:\n  - id: gitml-check\n    name: mine\n"
        "    entry: my-wrapper\n    language: system\n"
    )
    hooks, types = precommit_hooks.missing(precommit_hooks.parse(old))
    assert [h.id for h in hooks] == GITML_IDS[1:] and types == []


def test_hooks_that_run_at_every_stage() -> None:
    text = (
        "repos:\n- repo: local\n  hooks:\n  - {id: lint, name: l, entry: l, language: system}\n"
        "  - {id: msg, name: m, entry: m, language: system, stages: [commit-msg]}\n"
        "  - {id: gitml-check, name: g, entry: g, language: system}\n"
    )
    assert precommit_hooks.hooks_at_every_stage(precommit_hooks.parse(text)) == ["lint"]
    staged = "default_stages: [pre-commit]\n" + text
    assert precommit_hooks.hooks_at_every_stage(precommit_hooks.parse(staged)) == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("- repo: local\n  hooks: []\n", "migrate-config"),
        ("repos: 3\n", "not a pre-commit configuration"),
        ("repos: [\n", "not valid YAML"),
    ],
)
def test_what_is_not_a_config_is_refused(text: str, why: str) -> None:
    with pytest.raises(BadInput, match=why):
        precommit_config.merged(text)


JSON_CONFIG = {
    "repos": [{"repo": "https://example.invalid/h", "rev": "v1", "hooks": [{"id": "a"}]}]
}


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_a_json_config_stays_json_as_it_was_indented(indent: int | None) -> None:
    import json

    old = json.dumps(JSON_CONFIG, indent=indent) + "\n"
    new = merged(old)
    doc = json.loads(new)  # still JSON, not YAML's flow style
    data = precommit_hooks.parse(old)
    hooks, types = precommit_hooks.missing(data)
    assert doc == precommit_config.expected(data, hooks, types)
    assert new == json.dumps(doc, indent=indent) + "\n"
    assert list(doc)[-1] == "repos" and doc["repos"][0] == JSON_CONFIG["repos"][0]


@pytest.mark.parametrize(
    "old",
    [
        "repos: [{repo: local, hooks: [{id: x, name: x, entry: x, language: system}]}]  # one\n",
        "repos: [\n  {repo: local, hooks: [{id: x, name: x, entry: x, language: system}]}\n]\n",
        'repos: [{"repo": "local", "hooks": [{"id": "x", "name": "x", "entry": "x", '
        '"language": "system"}]}]\n',
    ],
    ids=["one line", "items on lines", "json items"],
)
def test_a_flow_repos_list_stays_flow(old: str) -> None:
    new = merged(old)
    data = precommit_hooks.parse(old)
    hooks, types = precommit_hooks.missing(data)
    assert yaml.safe_load(new) == precommit_config.expected(data, hooks, types)
    repos = yaml.compose(new).value[-1][1]  # type: ignore[union-attr]
    assert isinstance(repos, yaml.SequenceNode) and repos.flow_style
    assert all(isinstance(r, yaml.MappingNode) and r.flow_style for r in repos.value)
    first = old.splitlines()[0] if old.count("\n") == 1 else old.splitlines()[1]
    assert first.split("]}]")[0] in new  # the user's item as it was written
    assert ('"repo": "local"' in new) == ('"repo"' in old)
    # the two default_* lines, and gitml's item on a line of its own only where items have one
    assert len(new.splitlines()) == len(old.splitlines()) + 2 + ("\n]" in old)
