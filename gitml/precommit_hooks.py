"""gitml's hooks under the pre-commit framework, and what a `.pre-commit-config.yaml` has of them.

The hook definitions are those of the manifest `.pre-commit-hooks.yaml` (a test compares them).
`gitml doctor` reads a config through this module; gitml.precommit_config edits one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from gitml.errors import BadInput
from gitml.fileio import load_yaml

CONFIG = ".pre-commit-config.yaml"
MIN_VERSION = "4.4.0"
# The git hook types `pre-commit install` must install for gitml's hooks to run.
HOOK_TYPES = (
    "pre-commit",
    "pre-merge-commit",
    "pre-push",
    "post-checkout",
    "post-merge",
    "post-rewrite",
)


@dataclass(frozen=True)
class FrameworkHook:
    """One of gitml's hooks as the pre-commit framework runs it (an id in its config)."""

    id: str
    name: str
    entry: str
    stages: tuple[str, ...]
    verbose: bool = False  # show its output when it passes too


FRAMEWORK_HOOKS = (
    FrameworkHook(
        "gitml-check",
        "gitml check",
        "gitml-hook pre-commit --framework",
        ("pre-commit", "pre-merge-commit"),
    ),
    FrameworkHook(
        "gitml-pre-push", "gitml pre-push", "gitml-hook pre-push --framework", ("pre-push",)
    ),
    FrameworkHook(
        "gitml-restore",
        "gitml restore",
        "gitml-hook post-checkout --framework",
        ("post-checkout", "post-merge", "post-rewrite"),
        verbose=True,
    ),
)


def hook_dict(hook: FrameworkHook) -> dict[str, Any]:
    """The hook as pre-commit reads it (a `repo: local` hook, or a manifest entry)."""
    return {
        "id": hook.id,
        "name": hook.name,
        "entry": hook.entry,
        "language": "unsupported",
        "pass_filenames": False,
        "require_serial": True,
        "always_run": True,
        **({"verbose": True} if hook.verbose else {}),
        "stages": list(hook.stages),
        "minimum_pre_commit_version": MIN_VERSION,
    }


# -- what a config has ----------------------------------------------------------------------------


def parse(text: str) -> dict[str, Any]:
    """The config as data ({} for an empty file); BadInput when it is not a pre-commit config."""
    try:
        data = load_yaml(text)  # bounded: an alias bomb is refused, not expanded
    except yaml.YAMLError as e:
        raise BadInput(f"{CONFIG} is not valid YAML, so gitml cannot add its hooks: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key) or [], list) for key in ("repos", "default_install_hook_types")
    ):
        raise BadInput(
            f"{CONFIG} is not a pre-commit configuration (a mapping with a `repos:` "
            "list, and `default_install_hook_types:` a list); fix it (for an old "
            "list-only file: `pre-commit migrate-config`), then run `gitml init "
            "--hooks pre-commit` again"
        )
    return data


def present_ids(data: dict[str, Any]) -> set[str]:
    return {str(hook["id"]) for hook in _configured_hooks(data)}


def hooks_at_every_stage(data: dict[str, Any]) -> list[str]:
    """Ids of the user's hooks that run at every installed hook type: no `stages:` of their own
    and no `default_stages` (a remote hook's manifest may still limit its stages)."""
    if "default_stages" in data:
        return []
    ours = {h.id for h in FRAMEWORK_HOOKS}
    return [
        str(hook["id"])
        for hook in _configured_hooks(data)
        if hook["id"] not in ours and not hook.get("stages")
    ]


def _configured_hooks(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every hook of every repo of the config that has an id."""
    return [
        hook
        for repo in data.get("repos") or []
        for hook in ((repo.get("hooks") or []) if isinstance(repo, dict) else [])
        if isinstance(hook, dict) and "id" in hook
    ]


def missing(data: dict[str, Any]) -> tuple[list[FrameworkHook], list[str]]:
    """gitml's hooks the config lacks (by id: a hook the user adapted is theirs), hook types too."""
    ids = present_ids(data)
    types = data.get("default_install_hook_types") or []
    return (
        [h for h in FRAMEWORK_HOOKS if h.id not in ids],
        [t for t in HOOK_TYPES if t not in types],
    )
