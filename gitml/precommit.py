"""What a commit is checked for and what it records: the work of the pre-commit hook,
`gitml check` and `gitml lock`, on one snapshot (normally the index git hands the hook), and
how the new gitml.lock and the watch-list are put in place.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitml import (
    checks,
    dvcconfig,
    dvcfiles,
    environment,
    git,
    githooks,
    lineage,
    lockfile,
    lockinputs,
    mergedlock,
    objects,
    params,
    testfiles,
    watchlist,
)
from gitml import state as state_mod
from gitml.config import CONFIG_FILE, Config
from gitml.errors import BadInput
from gitml.fileio import atomic_write, load_yaml, refuse_special_file
from gitml.lineage import Lineage
from gitml.lockfile import LOCK_FILE, DataEntry, Environment, Lock, ModelEntry
from gitml.notes import EDGE, Teller
from gitml.objects import Missing
from gitml.records import read_record, updated
from gitml.repo import Repo, config_at
from gitml.snapshot import Snapshot


@dataclass
class Outcome:
    lock: Lock | None  # None when the snapshot has no gitml.yaml
    lock_bytes: bytes = b""
    previous_bytes: bytes | None = None
    lineage: Lineage | None = None
    missing: list[Missing] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)  # workspace differs from the staged hash
    failures: list[checks.Failure] = field(default_factory=list)
    head_lock: Lock | None = None  # HEAD's gitml.lock, parsed (None: none readable)

    @property
    def stale(self) -> dict[str, list[str]]:
        return self.lineage.stale if self.lineage else {}

    @property
    def lock_changed(self) -> bool:
        return self.lock is not None and self.lock_bytes != self.previous_bytes


def watched_paths(lin: Lineage) -> list[str]:
    """Paths whose staged change means the commit hook has work to do."""
    watched = set(lin.config.watched_paths()) | {LOCK_FILE, ".gitml"}
    for stage in lin.project.stages.values():
        watched.update(d.path for d in stage.deps)
        watched.update(stage.params)
        watched.update(o.path for o in stage.outs)
    watched.update(lin.project.outs)
    for model in lin.config.models:
        if model.tests:  # helpers of the tests' package and conftest.py files above them
            watched.update(testfiles.watch_scopes(lin.snap, model.tests))
    return sorted(watched)


_PARSED_LIMIT = 16 << 20  # bytes of a work-tree file parsed to say whether it is valid


def unstaged_changes(repo: Repo, watched: list[str]) -> list[str]:
    """The watched git files whose work-tree copy is not the staged one, each with whether that
    copy is even valid (`gitml.yaml (not valid: ...)`, `dvc.yaml (deleted)`), untracked ones
    under the watched paths too. gitml.lock is left out: gitml writes it."""
    spec = [p for p in watched if p and p != LOCK_FILE]
    if not spec:
        return []
    literal = ["--literal-pathspecs"]
    changed = git.split_z(
        git.run([*literal, "diff", "--name-only", "-z", "--", *spec], repo.root).stdout
    )
    untracked = git.split_z(
        git.run(
            [*literal, "ls-files", "-z", "--others", "--exclude-standard", "--", *spec], repo.root
        ).stdout
    )
    # what Python and pytest leave behind is not the project's
    untracked = [
        p
        for p in untracked
        if not p.endswith((".pyc", ".pyo"))
        and not {"__pycache__", ".pytest_cache"} & set(p.split("/"))
    ]
    found = [f"{p}{_validity(repo, p)}" for p in sorted(set(changed))]
    found += [f"{p} (untracked{_validity(repo, p, inner=True)})" for p in sorted(set(untracked))]
    return found


def _validity(repo: Repo, path: str, inner: bool = False) -> str:
    """`` when the work-tree copy of `path` parses as what it is, else ` (not valid: why)`."""
    file = repo.root / path
    if not file.is_file() and not file.is_symlink():
        return "" if inner else " (deleted)"
    if file.is_symlink() or file.stat().st_size > _PARSED_LIMIT:
        return ""  # not followed out of the repository, nor read when large: not judged
    why = _why_invalid(repo, path)
    if why is None:
        return ""
    return f", not valid: {why}" if inner else f" (not valid: {why})"


def _why_invalid(repo: Repo, path: str) -> str | None:
    """Why the work-tree copy of `path` does not parse as what it is (None: it does)."""
    from gitml.repo import workspace_config

    try:
        if path == CONFIG_FILE:
            workspace_config(repo)
        else:
            _parse_as_named(path, (repo.root / path).read_bytes())
    except BadInput as exc:
        return str(exc).splitlines()[0]
    except (OSError, ValueError, SyntaxError, RecursionError, yaml.YAMLError) as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def unstaged_note(repo: Repo, watched: list[str]) -> str | None:
    """One line saying the staged state was judged while these watched files differ from it."""
    found = unstaged_changes(repo, watched)
    if not found:
        return None
    return (
        f"judged the staged state (what a commit holds); the work tree differs in "
        f"{', '.join(found)}: `git add` what should be judged"
    )


def _seeds(snap: Snapshot, config: Config) -> dict[str, Any]:
    seeds: dict[str, Any] = {}
    docs: dict[str, Any] = {}
    for seed in config.seeds:
        file, _, key = seed.partition(":")
        if file not in docs:
            data = snap.read(file)
            docs[file] = params.parse(file, data) if data is not None else None
        value = params.lookup(docs[file], key) if docs[file] is not None else params.MISSING
        seeds[seed] = None if value is params.MISSING else value
    return seeds


def _environments(repo: Repo, lin: Lineage, lock: Lock, previous: Lock | None) -> Lock:
    """The lock with an environment record for each model: kept while its md5 is unchanged,
    else the build-time record `gitml repro` left for that md5, else the committer's
    (captured: commit)."""
    envs: dict[str, Environment] = {}
    prev_envs = previous.environments if previous is not None else {}
    infra = environment.infrastructure_files(
        lin.snap.entries, lin.snap.read, lin.config.environment_files
    )
    seeds = _seeds(lin.snap, lin.config)
    committer: dict[str, Any] | None = None
    models: dict[str, ModelEntry] = {}
    for path, entry in lock.models.items():
        old = previous.models.get(path) if previous is not None else None
        key = old.environment if old is not None else None
        if old is not None and old.md5 == entry.md5 and key is not None and key in prev_envs:
            envs[key] = prev_envs[key]
            models[path] = updated(entry, environment=key)
            continue
        record = state_mod.read_json(state_mod.env_record_path(repo.common_dir, str(entry.md5)))
        if isinstance(record, dict) and record.get("python"):
            block = {**record, "captured": "build"}
        else:
            if committer is None:
                python = environment.project_python(repo.root, lin.config.python)
                committer = environment.capture(python, repo.root)
            block = {**committer, "captured": "commit"}
        block = environment.with_infrastructure(block, infra)
        block["seeds"] = lockfile.rounded(seeds)
        new_key = environment.block_key(block)
        envs[new_key] = read_record(Environment, block)
        models[path] = updated(entry, environment=new_key)
    return dataclasses.replace(lock, models=models, environments=envs)


def _changed(
    entries: Mapping[str, ModelEntry | DataEntry], head: Mapping[str, ModelEntry | DataEntry]
) -> list[str]:
    """Entries to check: inputs changed since HEAD (`head`: its entries), or no results carried
    over for them (a deleted or hand-reset gitml.lock must not lose its checks)."""
    changed = []
    for path, entry in entries.items():
        before = head.get(path)
        if (
            before is None
            or lockinputs.compared_inputs(before) != lockinputs.compared_inputs(entry)
            or not lockinputs.has_results(entry)
        ):
            changed.append(path)
    return changed


def _modified_in_workspace(
    repo: Repo, outs: list[dvcfiles.Out], md5s: state_mod.Md5Cache
) -> list[str]:
    modified = []
    for out in outs:
        ws = repo.root / out.path
        if ws.exists() and out.md5 and md5s.hash_path(ws, out.hash) != out.md5:
            modified.append(out.path)
    return modified


def _parse_as_named(path: str, data: bytes) -> None:
    """Parse `data` as what the file name says it is (YAML, JSON, TOML, Python: parsed, never
    run); raise what the parser raises. Other files are not judged."""
    if path.endswith((".yaml", ".yml", ".lock", ".dvc")):
        load_yaml(data)
    elif path.endswith(".json"):
        json.loads(data)
    elif path.endswith(".toml"):
        tomllib.loads(data.decode())
    elif path.endswith(".py"):
        compile(data, path, "exec", dont_inherit=True)


def _not_on_remote(
    repo: Repo, cfg: dvcconfig.DvcConfig, missing: list[Missing], tell: Teller
) -> list[Missing]:
    """Of the objects in no local place, those the default DVC remote cannot supply (a plain
    directory remote was already searched; others are asked through DVC)."""
    name = cfg.default_remote
    if not missing or not name or "://" not in cfg.remotes.get(name, ""):
        return missing
    there: set[str] = set()
    for hash_name in sorted({m.hash for m in missing}):
        group = [m for m in missing if m.hash == hash_name]
        there |= _fetched(repo, cfg, name, group, hash_name, tell)
    return [m for m in missing if m.md5 not in there]


def _fetched(
    repo: Repo,
    cfg: dvcconfig.DvcConfig,
    name: str,
    group: list[Missing],
    hash_name: str,
    tell: Teller,
) -> set[str]:
    """The md5s of `group` fetched from remote `name` into the cache (none when it cannot be
    asked: told)."""
    try:
        return objects.fetch_from_remote(repo.root, name, group, hash_name, cfg.cache_dir)
    except Exception as exc:  # noqa: BLE001 - DVC's config, auth and network errors alike
        tell.warn(f"could not ask remote {name!r}: {exc}")
        return set()


def check_pipeline_files(snap: Snapshot, head_snap: Snapshot | None) -> None:
    """A changed dvc.yaml must be one DVC accepts: validated with DVC's own schema (imported
    only when a dvc.yaml changed), so a pipeline DVC would refuse is not committed."""
    for path in snap.key_files():
        if posixpath.basename(path) == "dvc.yaml" and (
            head_snap is None or head_snap.blob_sha(path) != snap.blob_sha(path)
        ):
            _check_pipeline_file(path, snap.read(path) or b"")


def _check_pipeline_file(path: str, data: bytes) -> None:
    from dvc.schema import COMPILED_MULTI_STAGE_SCHEMA
    from voluptuous import MultipleInvalid

    try:
        doc = load_yaml(data)
    except Exception as exc:  # yaml errors of either loader
        raise BadInput(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    try:
        COMPILED_MULTI_STAGE_SCHEMA(doc if doc is not None else {})
    except MultipleInvalid as exc:
        problems = "; ".join(
            f"{'.'.join(str(k) for k in err.path)}: {err.msg}" for err in exc.errors
        )
        raise BadInput(f"{path}: DVC would reject this pipeline file ({problems})") from None


def _changed_outs(lin: Lineage, head_project: dvcfiles.Project) -> list[dvcfiles.Out]:
    """DVC-cached outputs whose hash this snapshot changes (the rest were checked before)."""
    result = []
    for path, out in lin.project.outs.items():
        before = head_project.outs.get(path)
        if not lin.snap.has(path) and (before is None or before.md5 != out.md5):
            result.append(out)
    return result


def _head_lock(snap: Snapshot, head_snap: Snapshot | None, previous: Lock | None) -> Lock | None:
    """HEAD's gitml.lock, parsed (None: no HEAD, no lock, or an unreadable one). Usually the
    staged gitml.lock is HEAD's blob, already parsed as `previous`: then that."""
    if head_snap is None:
        return None
    sha = head_snap.blob_sha(LOCK_FILE)
    if sha is None:
        return None
    if sha == snap.blob_sha(LOCK_FILE) and previous is not None:
        return previous
    try:
        return lockfile.parse(head_snap.read(LOCK_FILE) or b"")
    except BadInput:
        return None


def _parsed(data: bytes | None, tell: Teller) -> Lock | None:
    """The staged gitml.lock, parsed (None: none; one that cannot be read is written anew)."""
    if data is None:
        return None
    try:
        return lockfile.parse(data)
    except BadInput as exc:
        tell.warn(f"{exc}; writing it anew")
        return None


def evaluate(
    repo: Repo, snap: Snapshot, head: str | None, *, run_checks: bool = True, tell: Teller = EDGE
) -> Outcome:
    """Check the snapshot and compute the gitml.lock it should carry."""
    config = config_at(snap)
    if config is None:
        return Outcome(lock=None)
    dvc_cfg = dvcconfig.read_config(repo.root)
    md5s = state_mod.Md5Cache(repo.common_dir, tell)
    try:
        lin = lineage.read_lineage(snap, config, md5s)
        head_snap = Snapshot(repo.root, head) if head else None
        check_pipeline_files(snap, head_snap)
        head_project = dvcfiles.read_project(head_snap) if head_snap else dvcfiles.Project()
        # Only outputs whose hash this commit changes are checked: the rest were checked before.
        changed_outs = _changed_outs(lin, head_project)
        outcome = Outcome(lock=None, lineage=lin)
        outcome.missing = _not_on_remote(
            repo, dvc_cfg, objects.missing_objects(dvc_cfg, changed_outs), tell
        )
        # A corrupt cache object is as good as missing: no check may read (or load) its bytes.
        outcome.missing += objects.corrupt_objects(dvc_cfg, changed_outs, md5s.hash_path)
        outcome.modified = _modified_in_workspace(repo, changed_outs, md5s)
        previous_bytes = snap.read(LOCK_FILE)
        previous = lineage.in_current_layout(_parsed(previous_bytes, tell), snap, head_snap)
        lock = lockinputs.merge_results(
            lineage.inputs(lin, dvc_cfg.cache_dir, dvc_cfg=dvc_cfg, previous=previous), previous
        )
        lock = _environments(repo, lin, lock, previous)
        head_lock = _head_lock(snap, head_snap, previous)
        head_lock = outcome.head_lock = lineage.in_current_layout(head_lock, head_snap)
        if run_checks and not outcome.missing:
            merge = mergedlock.merge_state(repo.root, None, previous, config)
            ctx = checks.CheckContext(
                repo,
                lin,
                lock,
                dvc_cfg.cache_dir,
                _changed(lock.models, head_lock.models if head_lock else {}),
                _changed(lock.data, head_lock.data if head_lock else {}),
                head=head,
                head_lock=head_lock,
                dvc_config=dvc_cfg,
                merge=merge,
            )
            outcome.failures = checks.run_all(ctx)
            lock = mergedlock.marked(ctx.lock, merge, config)  # with the checks' results
        outcome.lock = lock
        outcome.lock_bytes = lockfile.serialize(lock)
        outcome.previous_bytes = previous_bytes
        return outcome
    finally:
        md5s.close()


# -- what the commit records ----------------------------------------------------------------------


def write_watch(repo: Repo, outcome: Outcome) -> None:
    """The watch-list for the next commit: what this snapshot's lineage watches."""
    watched = watched_paths(outcome.lineage) if outcome.lineage else []
    watchlist.write(repo.root, state_mod.state_dir(repo.common_dir), watched)


def stage_lock(repo: Repo, outcome: Outcome) -> None:
    """Put the new gitml.lock into the index git handed the hook, then into the workspace.

    Index first: if we are killed in between, the worktree still holds what the user had.
    """
    refuse_special_file(repo.root / LOCK_FILE, LOCK_FILE)  # before the index changes
    sha = git.hash_object_w(repo.root, outcome.lock_bytes)
    git.update_index_blob(repo.root, LOCK_FILE, sha)
    state = state_mod.state_dir(repo.common_dir)
    atomic_write(repo.root / LOCK_FILE, outcome.lock_bytes, tmp_dir=state)
    if githooks.temporary_index():
        # `git commit -- paths` commits a temporary index: post-commit syncs the real one.
        atomic_write(state / githooks.POST_COMMIT_SYNC, sha.encode())


def write_lock(repo: Repo, outcome: Outcome) -> None:
    """Rewrite gitml.lock in the workspace only (under the pre-commit framework, which stages
    nothing a hook writes: the user adds it and commits again)."""
    refuse_special_file(repo.root / LOCK_FILE, LOCK_FILE)
    atomic_write(
        repo.root / LOCK_FILE, outcome.lock_bytes, tmp_dir=state_mod.state_dir(repo.common_dir)
    )


def sync_index_lock(repo: Repo) -> None:
    """After `git commit -- paths`, put HEAD's gitml.lock into the real index (so that `git
    status` stays clean)."""
    marker = state_mod.state_dir(repo.common_dir) / githooks.POST_COMMIT_SYNC
    if not marker.exists():
        return
    staged_sha = marker.read_text().strip()
    marker.unlink(missing_ok=True)
    head = git.head_commit(repo.root)
    if not head:
        return
    head_sha = git.tree_entries(repo.root, head, [LOCK_FILE]).get(LOCK_FILE)
    if (
        head_sha == staged_sha
        and git.index_entries(repo.root, [LOCK_FILE]).get(LOCK_FILE) != head_sha
    ):
        git.update_index_blob(repo.root, LOCK_FILE, head_sha)


def summary(outcome: Outcome) -> str:
    """`N model(s), N dataset(s)[, N stale stage(s)]` of the new gitml.lock."""
    lock = outcome.lock or Lock()
    parts = [f"{len(lock.models)} model(s)", f"{len(lock.data)} dataset(s)"]
    if outcome.stale:
        parts.append(f"{len(outcome.stale)} stale stage(s)")
    return ", ".join(parts)
