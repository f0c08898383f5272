"""Where the checks plug into the commit: each check gets the lineage and the new gitml.lock.

A check records its results in the lock entries it judged (ctx.lock, replaced by a Lock with
them) and returns failures; any failure blocks the commit. Data validation (great-expectations) and model tests (pytest) register here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml.dvcconfig import DvcConfig
from gitml.lineage import Lineage
from gitml.lockfile import Lock
from gitml.mergedlock import Merge
from gitml.output import say_on_terminal, warn
from gitml.repo import Repo


@dataclass
class CheckContext:
    repo: Repo
    lineage: Lineage
    lock: Lock  # the new gitml.lock: each check replaces it with one holding its results
    cache_dir: Path
    changed_models: list[str] = field(default_factory=list)
    changed_data: list[str] = field(default_factory=list)
    # The commit checked against, and its gitml.lock parsed, as the caller resolved them once
    # (a check need not ask git again): None when there is no commit yet, or no readable lock.
    head: str | None = None
    head_lock: Lock | None = None
    dvc_config: DvcConfig | None = None  # .dvc/config as read for this run (None: read it)
    # The merge the state is judged as (gitml.mergedlock): results no parent recorded run again,
    # and a `baseline: parent` is its first parent. None: not a merge.
    merge: Merge | None = None
    # Where a check's warnings go (a line each): the hook's stderr unless the caller says.
    report: Callable[[str], None] = warn
    # Where a check says what is about to take long (a JVM starting): the terminal, if any.
    progress: Callable[[str], None] = say_on_terminal


@dataclass(frozen=True)
class Failure:
    check: str  # "validation", "tests", "gates", ...
    path: str
    detail: str  # as printed
    # What the check found, as data (`gitml check --json`): validation's result with each failed
    # expectation's kwargs and great-expectations' numbers; None where only `detail` is given.
    result: dict[str, Any] | None = field(default=None, compare=False)


Check = Callable[[CheckContext], list[Failure]]
# Each check lives in its own module, exposing `check(ctx) -> list[Failure]`, and imports its
# engine (great-expectations, pytest) only inside, when there is something to check.
CHECK_MODULES = ("gitml.validation", "gitml.modeltests")


def run_all(ctx: CheckContext) -> list[Failure]:
    failures: list[Failure] = []
    for name in CHECK_MODULES:
        check: Check = importlib.import_module(name).check
        failures.extend(check(ctx))
    return failures
