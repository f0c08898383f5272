"""`gitml hook pre-push`: judge the pushed tips, and put every DVC object the pushed commits name
on the DVC remote before git sends the commits.

What is pushed is what git says it pushes (stdin lines `<local ref> <local sha> <remote ref>
<remote sha>`, or one ref from PRE_COMMIT_* variables under the pre-commit framework), so objects
go up per commit, not "everything in the workspace" as DVC's own hook does:

1. every pushed tip (a new commit) that has a gitml.lock must have a fresh one;
2. every object named by the dvc.lock/.dvc files of every pushed commit (git-tracked outs,
   `cache: false` and `push: false` outs excepted) must be on the DVC remote afterwards. A
   local-path remote gets verified copies from the local cache without importing DVC; any other
   remote goes through DVC's own data-cloud API, for exactly those objects.

Commits from before gitml (neither they nor an ancestor ever had a gitml.lock) get their objects
pushed when the local cache has them, and are never refused for missing ones; a history that
deleted gitml.lock is not "before gitml". Refused: exit 1, with the list and the fix.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from gitml import dvcfiles, git, objects, paths
from gitml.config import CONFIG_FILE
from gitml.dvcfiles import DvcConfig, Out
from gitml.errors import BadInput
from gitml.fileio import load_yaml, md5_file
from gitml.lockfile import LOCK_FILE
from gitml.output import Progress, say, warn
from gitml.repo import Repo
from gitml.snapshot import Snapshot

ZERO = git.ZERO_SHA
LIST_LIMIT = 20  # lines of an object list before "... and N more"


# --- what git pushes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str


def parse_updates(data: bytes) -> list[Update]:
    updates = []
    for line in data.decode(errors="replace").splitlines():
        parts = line.rsplit(maxsplit=3)
        if len(parts) == 4:
            updates.append(Update(*parts))
    return updates


def framework_updates(root: Path) -> list[Update]:
    """The one ref pre-commit hands its pre-push hooks, through its environment variables.

    pre-commit sets FROM_REF/TO_REF except when the push includes a root commit; then only the
    local branch is known, and the whole history of that branch is what is pushed.
    """
    env = os.environ
    to_ref = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_SOURCE") or ""
    from_ref = env.get("PRE_COMMIT_FROM_REF") or env.get("PRE_COMMIT_ORIGIN") or ""
    local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH") or ""
    if not to_ref and local_ref:
        to_ref = _commit(root, local_ref) or ""
    if not to_ref:
        return []
    return [
        Update(
            local_ref or to_ref, to_ref, env.get("PRE_COMMIT_REMOTE_BRANCH") or "", from_ref or ZERO
        )
    ]


def _commit(root: Path, rev: str) -> str | None:
    """`rev` peeled to a commit; None when it names nothing here or a tree/blob."""
    proc = git.run(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        root,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip() or None


@dataclass(frozen=True)
class Pushed:
    commit: str
    tree: str
    parents: tuple[str, ...]


def _excluded(remote_name: str, bases: list[str]) -> list[str]:
    return [*bases, f"--remotes={remote_name}"] if remote_name else bases


def pushed_commits(root: Path, remote_name: str, tips: list[str], bases: list[str]) -> list[Pushed]:
    """Every commit reachable from a tip and not yet on the remote, children before parents.

    "On the remote": reachable from a remote sha git reported, or from a remote-tracking ref of
    this remote (a new branch on a remote that has never been fetched: the whole history).
    """
    exclude = _excluded(remote_name, bases)
    proc = git.run(
        ["rev-list", "--topo-order", "--format=%H %T %P", *tips, "--not", *exclude, "--"], root
    )
    result = []
    for line in proc.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] != "commit":
            result.append(Pushed(parts[0], parts[1], tuple(parts[2:])))
    return result


def since_gitml(
    root: Path, remote_name: str, tips: list[str], bases: list[str], commits: list[Pushed]
) -> set[str]:
    """The pushed commits that are not from before gitml: the commit or one of its ancestors
    had a gitml.lock. A history that deleted it (`git rm gitml.lock`, --no-verify) stays one
    gitml judges. A commit that had one, or deleted it, changes the path: git finds them in one
    walk (--full-history: no side branch of a merge is left out); a parent already on the
    remote is asked once."""
    exclude = _excluded(remote_name, bases)
    proc = git.run(["rev-list", "--full-history", *tips, "--not", *exclude, "--", LOCK_FILE], root)
    touched = set(proc.stdout.decode().split())
    pushed = {p.commit for p in commits}
    outside: dict[str, bool] = {}

    def had_lock_before(parent: str) -> bool:
        if parent not in outside:
            found = git.run(
                ["rev-list", "-1", "--full-history", parent, "--", LOCK_FILE], root
            ).stdout.strip()
            outside[parent] = bool(found)
        return outside[parent]

    since: set[str] = set()
    for p in reversed(commits):  # parents before children
        if p.commit in touched or any(
            (q in since) if q in pushed else had_lock_before(q) for q in p.parents
        ):
            since.add(p.commit)
    return since


# --- which objects the pushed commits name ---------------------------------------------------


@dataclass
class Need:
    """One DVC object that must be on the remote."""

    md5: str  # with `.dir` for a directory's listing
    hash: str
    path: str  # the out path, or out/member for a file of a tracked directory
    origin: str  # the dvc.lock / .dvc file that names it
    commit: str
    remote: str | None  # the out's own `remote:`, None for the default remote
    gitml: bool  # named by a commit that has gitml.lock (missing = refused)
    imported: bool = False  # `dvc import`: the source can give the bytes back
    versioned_in: frozenset[str] = frozenset()  # cloud-versioned remotes the DVC file says have it
    parent: tuple[str | None, str] | None = None  # a member's directory (key of its .dir Need)

    @property
    def key(self) -> tuple[str | None, str]:
        return self.remote, dvcfiles.object_relpath(self.md5, self.hash)

    @property
    def file_md5(self) -> str:
        return self.md5.removesuffix(".dir")

    def line(self) -> str:
        named = f"named in {self.origin} at {self.commit[:12]}"
        return f"  {self.path}  md5 {self.md5}  ({named})"


@dataclass
class Flags:
    """What dvc.yaml / .dvc files say about outs beyond dvc.lock: push, cache, remote."""

    by_path: dict[str, dict[str, Any]] = field(default_factory=dict)
    templated: list[tuple[str, re.Pattern[str], dict[str, Any]]] = field(default_factory=list)
    # path -> remotes whose object versions the DVC file records (`cloud:`, cloud-versioned remotes)
    versioned: dict[str, frozenset[str]] = field(default_factory=dict)

    def of(self, out: Out) -> dict[str, Any]:
        found = self.by_path.get(out.path)
        if found is not None:
            return found
        for stage, pattern, flags in self.templated:
            if (
                out.stage
                and (out.stage == stage or out.stage.startswith(stage + "@"))
                and pattern.fullmatch(out.path)
            ):
                return flags
        return {}


def _entry_flags(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {k: value[k] for k in ("push", "cache", "remote") if k in value}


def _versioned_in(entry: dict[str, Any]) -> frozenset[str]:
    """Remotes a `dvc push` to a cloud-versioned remote recorded for this out (all its files)."""

    def names(e: Any) -> set[str]:
        cloud = e.get("cloud") if isinstance(e, dict) else None
        return (
            {str(k) for k, v in cloud.items() if isinstance(v, dict) and v.get("version_id")}
            if isinstance(cloud, dict)
            else set()
        )

    found = names(entry)
    files = entry.get("files")
    if isinstance(files, list) and files:
        per_file = [names(f) for f in files]
        found |= set.intersection(*per_file)
    return frozenset(found)


def _template_pattern(path: str) -> re.Pattern[str]:
    pieces = re.split(r"\$\{[^}]*\}", path)
    return re.compile(".+".join(re.escape(p) for p in pieces))


def read_flags(snap: Snapshot) -> Flags:
    """push/cache/remote of every out, read from the plain dvc.yaml and .dvc files of `snap`.

    Templated paths (`foreach`, `${vars}`) are matched as patterns against the outs of the
    stages dvc.lock names after that dvc.yaml stage.
    """
    flags = Flags()
    for path in snap.key_files():
        name = posixpath.basename(path)
        if name not in ("dvc.yaml", "dvc.lock") and not name.endswith(".dvc"):
            continue
        try:
            doc = load_yaml(snap.read(path) or b"")
        except (yaml.YAMLError, ValueError):  # decoding errors are ValueErrors too
            warn(
                f"{path} at {str(snap.rev)[:12]} is not valid YAML; its push/cache flags are "
                "not read"
            )
            continue
        if not isinstance(doc, dict):
            continue
        base = posixpath.dirname(path)
        if name.endswith(".dvc"):
            for entry in doc.get("outs") or []:
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    _add_flag(flags, base, entry["path"], _entry_flags(entry), None)
                    _add_versioned(flags, base, entry)
            continue
        if name == "dvc.lock":
            stages = doc.get("stages")
            for body in stages.values() if isinstance(stages, dict) else []:
                for entry in (body.get("outs") or []) if isinstance(body, dict) else []:
                    if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                        _add_versioned(flags, base, entry)
            continue
        stages = doc.get("stages")
        for stage_name, body in stages.items() if isinstance(stages, dict) else []:
            if not isinstance(body, dict):
                continue
            body = body.get("do", body) if ("foreach" in body or "matrix" in body) else body
            if not isinstance(body, dict):
                continue
            wdir = body.get("wdir")
            stage_base = (
                posixpath.normpath(posixpath.join(base, wdir))
                if isinstance(wdir, str) and "${" not in wdir
                else base
            )
            full = f"{base}:{stage_name}" if base else str(stage_name)
            for section in ("outs", "metrics", "plots"):
                for entry in body.get(section) or []:
                    if isinstance(entry, str):
                        continue  # no flags: defaults
                    if isinstance(entry, dict) and len(entry) == 1:
                        ((out_path, value),) = entry.items()
                        if isinstance(out_path, str):
                            _add_flag(flags, stage_base, out_path, _entry_flags(value), full)
    return flags


def _add_versioned(flags: Flags, base: str, entry: dict[str, Any]) -> None:
    remotes = _versioned_in(entry)
    if remotes:
        with contextlib.suppress(BadInput):
            flags.versioned[paths.normalize(entry["path"], base=base)] = remotes


def _add_flag(
    flags: Flags, base: str, path: str, values: dict[str, Any], stage: str | None
) -> None:
    if not values:
        return
    if "${" in path:
        if stage is not None:
            joined = posixpath.join(base, path) if base and base != "." else path
            flags.templated.append((stage, _template_pattern(joined), values))
        return
    try:
        flags.by_path[paths.normalize(path, base="" if base == "." else base)] = values
    except BadInput:
        pass


@dataclass
class Collected:
    needs: dict[tuple[str | None, str], Need] = field(default_factory=dict)
    not_pushed: dict[str, str] = field(default_factory=dict)  # push: false path -> declaring file
    unreadable: list[str] = field(default_factory=list)  # pre-gitml commits, files unparsable


class Collector:
    """Every object the pushed commits name, deduplicated; DVC files parsed once per version."""

    def __init__(self, root: Path, cfg: DvcConfig):
        self.root = root
        self.cfg = cfg
        self.result = Collected()
        self._parsed: dict[tuple[tuple[str, str], ...], tuple[dvcfiles.Project, Flags]] = {}
        self._members: dict[tuple[str, str], list[tuple[str, str]] | None] = {}
        self._trees: set[tuple[str, bool]] = set()

    def add_commit(self, commit: str, tree: str, gitml: bool | None = None) -> None:
        """`gitml`: whether the commit is from gitml's time (`since_gitml`; None: whether it
        has a gitml.lock): its missing objects are refused; those of older ones are not."""
        snap = Snapshot(self.root, tree)
        is_gitml = snap.has(LOCK_FILE) if gitml is None else gitml
        if (tree, is_gitml) in self._trees:
            return  # same files as a commit already seen (e.g. a merge with no changes)
        self._trees.add((tree, is_gitml))
        snap.rev = commit
        dvc_keys = tuple(
            (p, snap.entries[p])
            for p in snap.key_files()
            if p.endswith((".dvc", "dvc.lock", "dvc.yaml"))
        )
        parsed = self._parsed.get(dvc_keys)
        if parsed is None:
            try:
                parsed = (dvcfiles.read_project(snap), read_flags(snap))
            except BadInput as exc:
                if is_gitml:
                    raise BadInput(f"commit {commit[:12]}: {exc}") from None
                self.result.unreadable.append(f"{commit[:12]}: {exc}")
                return
            self._parsed[dvc_keys] = parsed
        project, flags = parsed
        for path, out in sorted(project.outs.items()):
            if not out.md5 or snap.has(path):
                continue  # git-tracked (`cache: false` committed to git): comes with the commit
            f = flags.of(out)
            if f.get("cache") is False:
                continue  # DVC never caches nor pushes it
            if f.get("push") is False:
                self.result.not_pushed.setdefault(path, out.origin)
                continue
            remote = f.get("remote") if isinstance(f.get("remote"), str) else None
            need = Need(
                out.md5,
                out.hash,
                path,
                out.origin,
                commit,
                remote,
                is_gitml,
                imported=out.source is not None,
                versioned_in=flags.versioned.get(path, frozenset()),
            )
            self._add(need)
            if out.is_dir:
                for rel, md5 in self._listing(out) or []:
                    self._add(
                        Need(
                            md5,
                            out.hash,
                            f"{path}/{rel}",
                            out.origin,
                            commit,
                            remote,
                            is_gitml,
                            need.imported,
                            parent=need.key,
                        )
                    )

    def _add(self, need: Need) -> None:
        have = self.result.needs.get(need.key)
        if have is None:
            self.result.needs[need.key] = need
            return
        have.versioned_in &= need.versioned_in  # every commit naming it must record its version
        have.imported = have.imported and need.imported
        if need.gitml and not have.gitml:
            have.gitml, have.commit = True, need.commit
            have.path, have.origin = need.path, need.origin

    def _listing(self, out: Out) -> list[tuple[str, str]] | None:
        assert out.md5
        key = (out.md5, out.hash)
        if key not in self._members:
            try:
                self._members[key] = objects.members(self.cfg, out)
            except BadInput as exc:
                warn(str(exc))
                self._members[key] = None
        return self._members[key]


# --- the remote -----------------------------------------------------------------------------


@dataclass
class Outcome:
    pushed: int = 0
    present: int = 0
    missing: list[Need] = field(default_factory=list)  # in neither the cache nor the remote
    missing_ok: list[Need] = field(default_factory=list)  # the same, but not refused (pre-gitml)
    corrupt: list[Need] = field(default_factory=list)
    failed: list[Need] = field(default_factory=list)  # the remote would not take it
    error: str | None = None


def _truthy(value: str | None) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _local_cache_object(cfg: DvcConfig, need: Need) -> Path | None:
    obj = dvcfiles.object_path(cfg.cache_dir, need.md5, need.hash)
    return obj if obj.is_file() else None


def _blocked_dirs(outcome: Outcome) -> set[tuple[str | None, str]]:
    """Directories with a member that did not make it: their `.dir` listing must not go up,
    since a listing on the remote tells DVC the whole directory is there."""
    bad = outcome.missing + outcome.missing_ok + outcome.corrupt + outcome.failed
    return {n.parent for n in bad if n.parent is not None}


def _listings_last(needs: list[Need]) -> list[Need]:
    """Files first, then directory listings: DVC takes a listing on a remote to mean that the
    whole directory is there, so it goes up last."""
    return sorted(needs, key=lambda n: n.md5.endswith(".dir"))


def _missing_locally(outcome: Outcome, need: Need) -> None:
    (outcome.missing if need.gitml and not need.imported else outcome.missing_ok).append(need)


def push_local(cfg: DvcConfig, remote_root: Path, needs: list[Need]) -> Outcome:
    """Verified copies from the local cache into a remote that is a plain directory."""
    outcome = Outcome()
    blocked: set[tuple[str | None, str]] | None = None  # known once the members are done
    with Progress(f"uploading DVC objects to {remote_root}", len(needs), at_least=10) as progress:
        for need in _listings_last(needs):
            progress.advance()
            if need.md5.endswith(".dir"):
                blocked = _blocked_dirs(outcome) if blocked is None else blocked
                if need.key in blocked:
                    outcome.failed.append(need)  # a member did not make it: the listing would lie
                    continue
            _push_one(cfg, remote_root, need, outcome)
    return outcome


def _push_one(cfg: DvcConfig, remote_root: Path, need: Need, outcome: Outcome) -> None:
    dest = dvcfiles.object_path(remote_root, need.md5, need.hash)
    if dest.is_file():
        outcome.present += 1
        return
    src = _local_cache_object(cfg, need)
    if src is None:
        _missing_locally(outcome, need)
        return
    try:
        ok = objects.verified_copy(src, need.file_md5, need.hash, dest)
    except OSError as exc:
        outcome.failed.append(need)
        outcome.error = f"{dest}: {exc.strerror or exc}"
        return
    if ok:
        outcome.pushed += 1
    else:
        outcome.corrupt.append(need)


def _verified_in_cache(src: Path, need: Need) -> bool:
    actual = md5_file(src) if need.hash == "md5" else dvcfiles.md5_for(src.read_bytes(), need.hash)
    return actual == need.file_md5


def push_with_dvc(root: Path, cfg: DvcConfig, remote_name: str, needs: list[Need]) -> Outcome:
    """Any other remote (s3, ssh, gs, azure, http…): DVC's own data-cloud API, for exactly these
    objects. Imported only here, when such a remote has objects to check."""
    outcome = Outcome()
    try:
        with git.without_git_env():
            from dvc.repo import Repo as DvcRepo
            from dvc_data.hashfile.hash_info import HashInfo

            with DvcRepo(str(root)) as drepo:
                for hash_name in sorted({n.hash for n in needs}):
                    group = [n for n in needs if n.hash == hash_name]
                    odb = drepo.cloud.get_remote_odb(remote_name, "push", hash_name=hash_name)
                    there = set(odb.oids_exist([n.md5 for n in group]))
                    todo: list[Need] = []
                    blocked: set[tuple[str | None, str]] | None = None
                    for need in _listings_last(group):
                        if need.md5.endswith(".dir") and blocked is None:
                            blocked = _blocked_dirs(outcome)
                        if need.md5 in there:
                            outcome.present += 1
                        elif blocked is not None and need.key in blocked:
                            outcome.failed.append(need)
                        elif (src := _local_cache_object(cfg, need)) is None:
                            _missing_locally(outcome, need)
                        elif not _verified_in_cache(src, need):
                            outcome.corrupt.append(need)
                        else:
                            todo.append(need)
                    if not todo:
                        continue
                    # Members first, then the listings (whose own members are all verified).
                    for batch in (
                        [n for n in todo if not n.md5.endswith(".dir")],
                        [n for n in todo if n.md5.endswith(".dir")],
                    ):
                        if not batch:
                            continue
                        result = drepo.cloud.push(
                            [HashInfo(hash_name, n.md5) for n in batch], remote=remote_name, odb=odb
                        )
                        failed = {h.value for h in result.failed}
                        for need in batch:
                            if need.md5 in failed:
                                outcome.failed.append(need)
                            else:
                                outcome.pushed += 1
    except Exception as exc:  # noqa: BLE001 - DVC's errors (config, auth, network) end alike
        text = str(exc).strip()
        outcome.error = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
        done = {n.key for n in outcome.missing + outcome.missing_ok + outcome.corrupt}
        outcome.failed.extend(n for n in needs if n.key not in done and n not in outcome.failed)
    return outcome


# --- reporting -------------------------------------------------------------------------------


def _listed(needs: list[Need]) -> str:
    lines = [n.line() for n in sorted(needs, key=lambda n: (n.path, n.md5))]
    if len(lines) > LIST_LIMIT:
        lines = lines[:LIST_LIMIT] + [f"  ... and {len(lines) - LIST_LIMIT} more"]
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _refuse_stale(repo: Repo, stale: list[tuple[str, str, list[str]]]) -> None:
    head = git.head_commit(repo.root)
    for ref, tip, diffs in stale:
        name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/") or tip[:12]
        fix = (
            "run `gitml lock`, then `git commit -m 'refresh gitml.lock'`"
            if tip == head
            else f"`git checkout {name}`, `gitml lock`, then commit"
        )
        say(
            f"push refused: {LOCK_FILE} is stale at {name} ({tip[:12]}):\n  "
            + "\n  ".join(diffs)
            + f"\n  fix: {fix}, and push again (rebases and cherry-picks do not run the commit "
            "hook)"
        )


def _failing_checks(snap: Snapshot) -> list[str]:
    """Why the model tests and gates a tip's gitml.lock recorded do not pass (empty: they do)."""
    from gitml import modeltests
    from gitml.manifest import parse_lock
    from gitml.repo import config_at

    config, data = config_at(snap), snap.read(LOCK_FILE)
    if config is None or data is None:
        return []
    return modeltests.recorded_problems(config.models, parse_lock(data))


def _refuse_failing(failing: list[tuple[str, str, list[str]]]) -> None:
    for ref, tip, problems in failing:
        name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/") or tip[:12]
        say(
            f"push refused: the model checks {LOCK_FILE} records at {name} ({tip[:12]}) did not "
            "pass:\n  " + "\n  ".join(problems) + "\n  fix: `gitml test` shows the failures; fix "
            "the model or its tests and commit through the gitml hook (it runs them), then push"
        )


# --- the hook --------------------------------------------------------------------------------


def pre_push(repo: Repo, args: list[str], stdin: BinaryIO) -> int:
    framework = "--framework" in args
    rest = [a for a in args if a != "--framework"]
    if framework:
        remote_name = os.environ.get("PRE_COMMIT_REMOTE_NAME") or (rest[0] if rest else "")
        updates = framework_updates(repo.root)
    else:
        remote_name = rest[0] if rest else ""
        updates = parse_updates(stdin.read())

    tips: list[tuple[str, str]] = []
    bases: list[str] = []
    for u in updates:
        if u.local_sha == ZERO:
            continue  # a deletion
        commit = _commit(repo.root, u.local_sha)
        if commit is None:
            continue  # a tag of a tree or a blob: no commit, nothing of gitml's
        tips.append((u.local_ref, commit))
        if u.remote_sha != ZERO and (base := _commit(repo.root, u.remote_sha)):
            bases.append(base)
    if not tips:
        return 0
    tip_commits = list(dict.fromkeys(t for _, t in tips))
    commits = pushed_commits(repo.root, remote_name, tip_commits, bases)
    if not commits:
        return 0
    since = since_gitml(repo.root, remote_name, tip_commits, bases, commits)

    # 1. every new tip with a gitml.lock has a fresh one
    from gitml.commands.hook import lock_is_fresh

    new = {p.commit for p in commits}
    stale: list[tuple[str, str, list[str]]] = []
    failing: list[tuple[str, str, list[str]]] = []
    judged: set[str] = set()
    for ref, tip in tips:
        if tip not in new or tip in judged:
            continue  # already on the remote: it was judged when it first went there
        judged.add(tip)
        snap = Snapshot(repo.root, tip)
        if not snap.has(LOCK_FILE):
            if tip in since and snap.has(CONFIG_FILE):
                # gitml.yaml still asks for checks, and nothing records them
                why = f"{LOCK_FILE} is missing, deleted from a history that had one (--no-verify?)"
                stale.append((ref, tip, [why]))
            continue  # a commit from before gitml, or gitml removed from the project
        try:
            fresh, diffs = lock_is_fresh(repo, snap)
        except BadInput as exc:
            fresh, diffs = False, [str(exc)]
        if not fresh:
            stale.append((ref, tip, diffs))
        elif problems := _failing_checks(snap):
            failing.append((ref, tip, problems))
    if stale:
        _refuse_stale(repo, stale)
        return 1
    if failing:
        _refuse_failing(failing)
        return 1

    # 2. the DVC objects of every pushed commit
    cfg = dvcfiles.read_config(repo.root)
    collector = Collector(repo.root, cfg)
    for p in commits:
        collector.add_commit(p.commit, p.tree, p.commit in since)
    found = collector.result
    for line in found.unreadable:
        warn(f"skipped a commit from before gitml whose DVC files do not parse ({line})")
    if found.not_pushed:
        say("not pushed (`push: false`): " + ", ".join(sorted(found.not_pushed)))
    if not found.needs:
        return 0
    return _push_all(repo, cfg, list(found.needs.values()))


def _push_all(repo: Repo, cfg: DvcConfig, needs: list[Need]) -> int:
    default = cfg.default_remote
    groups: dict[str | None, list[Need]] = {}
    for need in needs:
        groups.setdefault(need.remote or default, []).append(need)
    refused = False
    for name, group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        if name is None or name not in cfg.remotes:
            refused |= _no_remote(cfg, name, group)
            continue
        url = cfg.remotes[name]
        options = cfg.remote_options.get(name, {})
        if _truthy(options.get("version_aware")) or _truthy(options.get("worktree")):
            # Objects there are versions of paths, not hashes: what a commit pushed is what its
            # DVC files record (`dvc push` writes the version ids into them, per commit).
            unrecorded = [n for n in group if n.parent is None and name not in n.versioned_in]
            if unrecorded:
                refused |= _refuse(
                    unrecorded,
                    f"DVC remote '{name}' is cloud-versioned and the "
                    "pushed DVC files record no version of these on it",
                    "`dvc push`, commit the DVC files it updates (they record the "
                    "object versions), and push again",
                )
            else:
                say(
                    f"the DVC files of the pushed commits record every object on the "
                    f"cloud-versioned remote '{name}'"
                )
            continue
        if "://" in url:
            outcome = push_with_dvc(repo.root, cfg, name, group)
        else:
            outcome = push_local(cfg, Path(url), group)
        refused |= _report(name, outcome)
    return 1 if refused else 0


def _refuse(needs: list[Need], why: str, fix: str) -> bool:
    counted = [n for n in needs if n.gitml]
    if not counted:
        warn(f"{why}; the objects of commits from before gitml are not pushed ({fix})")
        return False
    say(
        f"push refused: {why}. The pushed commits name these DVC objects:\n{_listed(counted)}\n"
        f"  fix: {fix}"
    )
    return True


def _no_remote(cfg: DvcConfig, name: str | None, needs: list[Need]) -> bool:
    if name is None and cfg.remotes:
        return _refuse(
            needs,
            "no default DVC remote is set",
            f"`dvc remote default NAME` (one of: {', '.join(sorted(cfg.remotes))})",
        )
    if name is None:
        return _refuse(needs, "no DVC remote is configured", "`dvc remote add -d NAME URL`")
    return _refuse(
        needs,
        f"the DVC remote '{name}' is not configured",
        f"`dvc remote add {name} URL`, or `dvc remote list` to see the names",
    )


def _report(name: str, outcome: Outcome) -> bool:
    note = f" ({outcome.present} already there)" if outcome.present else ""
    say(f"pushed {_plural(outcome.pushed, 'DVC object')} to remote '{name}'{note}")
    if outcome.missing_ok:
        warn(
            "not pushed, in neither the local cache nor the remote (named by commits from "
            "before gitml, or imported: not refused):\n" + _listed(outcome.missing_ok)
        )
    refused = False
    if outcome.missing:
        refused = True
        say(
            "push refused: these DVC objects are in neither the local cache nor the remote "
            f"'{name}':\n{_listed(outcome.missing)}\n"
            "  fix: `dvc push` them from the clone that has them, or rebuild them "
            "(`gitml repro`, `dvc commit`) and commit"
        )
    if outcome.corrupt:
        refused = True
        say(
            "push refused: these cached objects do not match their hash (corrupt cache) and "
            f"were not pushed:\n{_listed(outcome.corrupt)}\n"
            "  fix: remove them from .dvc/cache and rebuild or re-add them (`gitml repro`, "
            "`dvc add`), or `dvc pull` them from a remote that has good copies"
        )
    if outcome.failed:
        refused = True
        err = f" ({outcome.error})" if outcome.error else ""
        say(
            f"push refused: the DVC remote '{name}' did not take these objects{err}:\n"
            f"{_listed(outcome.failed)}\n  fix: check the remote (`gitml doctor`, `dvc push`) "
            "and push again"
        )
    return refused
