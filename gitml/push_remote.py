"""Putting DVC objects on a DVC remote, verified: a local-path remote gets copies from the local
cache without importing DVC; any other remote goes through DVC's own data-cloud API, for exactly
those objects. A directory's `.dir` listing goes up last, and not at all when one of its
members did not (a listing on a remote tells DVC the whole directory is there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import dvcfiles, git, objects
from gitml.dvcconfig import DvcConfig
from gitml.fileio import md5_file
from gitml.notes import ProgressFactory, no_progress
from gitml.push_objects import Need, RemoteKey


@dataclass
class Outcome:
    pushed: int = 0
    present: int = 0
    missing: list[Need] = field(default_factory=list)  # in neither the cache nor the remote
    missing_ok: list[Need] = field(default_factory=list)  # the same, but not refused (pre-gitml)
    corrupt: list[Need] = field(default_factory=list)
    failed: list[Need] = field(default_factory=list)  # the remote would not take it
    error: str | None = None


def _local_cache_object(cfg: DvcConfig, need: Need) -> Path | None:
    obj = dvcfiles.object_path(cfg.cache_dir, need.md5, need.hash)
    return obj if obj.is_file() else None


def _blocked_dirs(outcome: Outcome) -> set[RemoteKey]:
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


def push_local(
    cfg: DvcConfig, remote_root: Path, needs: list[Need], progress: ProgressFactory = no_progress
) -> Outcome:
    """Verified copies from the local cache into a remote that is a plain directory."""
    outcome = Outcome()
    blocked: set[RemoteKey] | None = None  # known once the members are done
    with progress(f"uploading DVC objects to {remote_root}", len(needs)) as counter:
        for need in _listings_last(needs):
            counter.advance()
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

            with DvcRepo(str(root)) as drepo:
                for hash_name in sorted({n.hash for n in needs}):
                    group = [n for n in needs if n.hash == hash_name]
                    odb = drepo.cloud.get_remote_odb(remote_name, "push", hash_name=hash_name)
                    there = set(odb.oids_exist([n.md5 for n in group]))
                    todo = _to_upload(cfg, group, there, outcome)
                    _upload(drepo, odb, remote_name, hash_name, todo, outcome)
    except Exception as exc:  # noqa: BLE001 - DVC's errors (config, auth, network) end alike
        _failed_all(outcome, needs, exc)
    return outcome


def _failed_all(outcome: Outcome, needs: list[Need], exc: Exception) -> None:
    """DVC failed: every object not already judged missing or corrupt failed, with its error."""
    text = str(exc).strip()
    outcome.error = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
    done = {n.key for n in outcome.missing + outcome.missing_ok + outcome.corrupt}
    outcome.failed.extend(n for n in needs if n.key not in done and n not in outcome.failed)


def _to_upload(cfg: DvcConfig, group: list[Need], there: set[str], outcome: Outcome) -> list[Need]:
    """Of one hash kind's objects, those to send: the rest are counted present, or recorded as
    missing, corrupt, or held back (a listing whose member did not make it)."""
    todo: list[Need] = []
    blocked: set[RemoteKey] | None = None
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
    return todo


def _upload(
    drepo: Any, odb: Any, remote_name: str, hash_name: str, todo: list[Need], outcome: Outcome
) -> None:
    """Members first, then the listings (whose own members are all verified by then)."""
    listings = [n for n in todo if n.md5.endswith(".dir")]
    members = [n for n in todo if not n.md5.endswith(".dir")]
    for batch in (members, listings):
        if batch:
            _push_batch(drepo, odb, remote_name, hash_name, batch, outcome)


def _push_batch(
    drepo: Any, odb: Any, remote_name: str, hash_name: str, batch: list[Need], outcome: Outcome
) -> None:
    from dvc_data.hashfile.hash_info import HashInfo

    result = drepo.cloud.push(
        [HashInfo(hash_name, n.md5) for n in batch], remote=remote_name, odb=odb
    )
    failed = {h.value for h in result.failed}
    for need in batch:
        if need.md5 in failed:
            outcome.failed.append(need)
        else:
            outcome.pushed += 1
