"""`gitml validate [PATH…]`: run the GX suites on the workspace data; a table of what failed.
A line says so when the work tree is not the staged state (what a commit checks)."""

from __future__ import annotations

import json

from gitml import datareaders, output, paths, validation
from gitml import repo as repo_mod
from gitml import state as state_mod
from gitml.config import CONFIG_FILE, Dataset
from gitml.errors import BadInput
from gitml.output import printable, say_on_terminal, warn
from gitml.paths import from_cli
from gitml.validation import Result, Target


def _target(repo: repo_mod.Repo, d: Dataset, md5s: state_mod.Md5Cache) -> Target:
    assert d.suite
    try:
        suite_file = paths.inside(repo.root, d.suite)  # a symlink out of the repo is refused
    except BadInput as exc:
        raise BadInput(f"{CONFIG_FILE}: the suite of {d.path}: {exc}") from None
    if not suite_file.is_file():
        raise BadInput(f"suite {d.suite} of {d.path} does not exist (`gitml suite init {d.path}`)")
    if d.spark is not None and d.spark.read_from_remote:
        return _remote_target(repo, d, suite_file.read_bytes())
    sources, formats = datareaders.workspace_sources(repo.root, d.path, d.format)
    size = sum(s.file.stat().st_size for s in sources)
    if d.engine == "pandas":
        # Refused before hashing: a refusal of a 1 GB file must not first read it all.
        sample = datareaders.check_sample(d.path, d.sample)
        datareaders.check_size(d.path, size, sample, d.max_bytes)
    md5 = md5s.hash_path(repo.root / d.path)
    return Target(d, d.suite, suite_file.read_bytes(), md5, sources, formats, size)


def _remote_target(repo: repo_mod.Repo, d: Dataset, suite_bytes: bytes) -> Target:
    """`read_from_remote`: the objects the work tree's DVC files name, on the DVC remote."""
    from gitml import dvcconfig, dvcfiles
    from gitml.snapshot import Snapshot

    out = dvcfiles.read_project(Snapshot(repo.root)).outs.get(d.path)
    if out is None or not out.md5:
        raise BadInput(f"{d.path}: no DVC file records its hash, so no remote object is named")
    return validation.dvc_target(dvcconfig.read_config(repo.root), repo.root, d, suite_bytes, out)


def _selected(repo: repo_mod.Repo, paths: list[str]) -> list[Dataset]:
    config = repo_mod.workspace_config(repo)
    with_suite = [d for d in config.data if d.suite]
    if not paths:
        if not with_suite:
            raise BadInput("no dataset in gitml.yaml has a suite (`gitml suite init PATH`)")
        return with_suite
    chosen = []
    for p in paths:
        rel = from_cli(repo.root, p, what="dataset")
        d = next((d for d in config.data if d.path.rstrip("/") == rel), None)
        if d is None or not d.suite:
            raise BadInput(f"{rel}: no suite for it in gitml.yaml (`gitml suite init {p}`)")
        chosen.append(d)
    return chosen


def _say_unstaged(repo: repo_mod.Repo, datasets: list[Dataset], targets: dict[str, Target]) -> None:
    """validate reads the work tree: one line when it is not what a commit would check, naming
    the watched files that differ from the staged ones (and whether they are valid) and the
    datasets whose bytes are not those the staged DVC files record."""
    from gitml import dvcfiles
    from gitml.precommit import unstaged_changes
    from gitml.snapshot import Snapshot

    project = dvcfiles.read_project(Snapshot(repo.root))
    watched = [CONFIG_FILE, *(d.suite for d in datasets if d.suite)]
    for d in datasets:
        out = project.outs.get(d.path)
        watched.extend([out.origin] if out is not None else [])
    found = unstaged_changes(repo, list(dict.fromkeys(watched)))
    for d in datasets:
        out, target = project.outs.get(d.path), targets.get(d.path)
        if out is not None and target is not None and out.md5 != target.md5:
            found.append(f"{d.path} (its bytes are not the staged md5 {out.md5})")
    if found:
        warn(
            "validated the work tree, not the staged state a commit checks; they differ in "
            + ", ".join(found)
        )


def verdict(r: Result) -> str:
    """One dataset's outcome, counting what failed (a bare `4/13` read as 4 failed)."""
    if r.success:
        return f"passed, all {r.evaluated} expectations met"
    return f"FAILED, {r.failed} of {r.evaluated} expectations not met"


def _validated(repo: repo_mod.Repo, datasets: list[Dataset]) -> list[tuple[Result, Target]]:
    md5s = state_mod.Md5Cache(repo.common_dir)
    done = []
    try:
        for d in datasets:
            target = _target(repo, d, md5s)
            result = validation.validate_target(target, repo.common_dir, say_on_terminal)
            done.append((result, target))
    finally:
        md5s.close()
    return done


def _print_results(results: list[Result], passed: bool, json_out: bool) -> None:
    if json_out:
        doc = {"passed": passed, "datasets": [r.as_json() for r in results]}
        print(json.dumps(doc, indent=2, sort_keys=True))
        return
    for r in results:
        print(printable(f"{r.path}: {verdict(r)}{' (cached)' if r.cached else ''}"))
        if not r.success:
            print(printable(validation.table(r.rows)))


def validate(paths: list[str], json_out: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    datasets = _selected(repo, paths)
    done = _validated(repo, datasets)
    _say_unstaged(repo, datasets, {r.path: t for r, t in done})
    results = [r for r, _ in done]
    passed = all(r.success for r in results)
    _print_results(results, passed, json_out)
    if not passed:
        output.verdict("validation failed")
    return 0 if passed else 1
