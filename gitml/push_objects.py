"""The DVC objects a set of commits name, as the pre-push hook must put them on the remote.

Every object the dvc.lock/.dvc files of each commit name (members of tracked directories too),
deduplicated across commits, with what the DVC files say about them beyond dvc.lock: `push:
false` (never pushed), `cache: false` (never cached), an out's own `remote:`, and the versions
a cloud-versioned remote recorded.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitml import dvcfiles, objects, paths
from gitml.dvcconfig import DvcConfig
from gitml.dvcfiles import Out
from gitml.errors import BadInput
from gitml.fileio import load_yaml
from gitml.lockfile import LOCK_FILE
from gitml.notes import EDGE, Teller
from gitml.snapshot import Snapshot

RemoteKey = tuple[str | None, str]  # (the out's own remote or None, the object's cache path)


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
    parent: RemoteKey | None = None  # a member's directory (key of its .dir Need)

    @property
    def key(self) -> RemoteKey:
        return self.remote, dvcfiles.object_relpath(self.md5, self.hash)

    @property
    def file_md5(self) -> str:
        return self.md5.removesuffix(".dir")

    def line(self) -> str:
        named = f"named in {self.origin} at {self.commit[:12]}"
        return f"  {self.path}  md5 {self.md5}  ({named})"


# -- what the DVC files say about outs ------------------------------------------------------------


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


def read_flags(snap: Snapshot, tell: Teller = EDGE) -> Flags:
    """push/cache/remote of every out, read from the plain dvc.yaml and .dvc files of `snap`.

    Templated paths (`foreach`, `${vars}`) are matched as patterns against the outs of the
    stages dvc.lock names after that dvc.yaml stage.
    """
    flags = Flags()
    for path in snap.key_files():
        name = posixpath.basename(path)
        if name not in ("dvc.yaml", "dvc.lock") and not name.endswith(".dvc"):
            continue
        doc = _dvc_file(snap, path, tell)
        if not isinstance(doc, dict):
            continue
        base = posixpath.dirname(path)
        if name.endswith(".dvc"):
            _dvcfile_flags(flags, base, doc)
        elif name == "dvc.lock":
            _dvclock_flags(flags, base, doc)
        else:
            _dvcyaml_flags(flags, base, doc)
    return flags


def _dvc_file(snap: Snapshot, path: str, tell: Teller) -> Any:
    try:
        return load_yaml(snap.read(path) or b"")
    except (yaml.YAMLError, ValueError):  # decoding errors are ValueErrors too
        tell.warn(
            f"{path} at {str(snap.rev)[:12]} is not valid YAML; its push/cache flags are not read"
        )
        return None


def _dvcfile_flags(flags: Flags, base: str, doc: dict[str, Any]) -> None:
    for entry in doc.get("outs") or []:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            _add_flag(flags, base, entry["path"], _entry_flags(entry), None)
            _add_versioned(flags, base, entry)


def _dvclock_flags(flags: Flags, base: str, doc: dict[str, Any]) -> None:
    stages = doc.get("stages")
    for body in stages.values() if isinstance(stages, dict) else []:
        for entry in (body.get("outs") or []) if isinstance(body, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                _add_versioned(flags, base, entry)


def _dvcyaml_flags(flags: Flags, base: str, doc: dict[str, Any]) -> None:
    stages = doc.get("stages")
    for stage_name, body in stages.items() if isinstance(stages, dict) else []:
        body = _stage_body(body)
        if body is not None:
            full = f"{base}:{stage_name}" if base else str(stage_name)
            _stage_flags(flags, _stage_base(base, body.get("wdir")), body, full)


def _stage_base(base: str, wdir: Any) -> str:
    """The folder a stage's paths are relative to (a templated `wdir` is not resolved)."""
    if isinstance(wdir, str) and "${" not in wdir:
        return posixpath.normpath(posixpath.join(base, wdir))
    return base


def _stage_flags(flags: Flags, stage_base: str, body: dict[str, Any], stage: str) -> None:
    for section in ("outs", "metrics", "plots"):
        for entry in body.get(section) or []:
            # a plain string has no flags (defaults); a flagged out is {path: {flags}}
            if isinstance(entry, dict) and len(entry) == 1:
                ((out_path, value),) = entry.items()
                if isinstance(out_path, str):
                    _add_flag(flags, stage_base, out_path, _entry_flags(value), stage)


def _stage_body(body: Any) -> dict[str, Any] | None:
    """A dvc.yaml stage's body; a `foreach`/`matrix` stage's `do:`."""
    if not isinstance(body, dict):
        return None
    if "foreach" in body or "matrix" in body:
        body = body.get("do", body)
    return body if isinstance(body, dict) else None


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
    with contextlib.suppress(BadInput):
        flags.by_path[paths.normalize(path, base="" if base == "." else base)] = values


# -- collecting -----------------------------------------------------------------------------------


@dataclass
class Collected:
    needs: dict[RemoteKey, Need] = field(default_factory=dict)
    not_pushed: dict[str, str] = field(default_factory=dict)  # push: false path -> declaring file
    unreadable: list[str] = field(default_factory=list)  # pre-gitml commits, files unparsable


class Collector:
    """Every object the pushed commits name, deduplicated; DVC files parsed once per version."""

    def __init__(self, root: Path, cfg: DvcConfig, tell: Teller = EDGE):
        self.root = root
        self.cfg = cfg
        self.tell = tell
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
        parsed = self._parse(snap, commit, is_gitml)
        if parsed is None:
            return
        project, flags = parsed
        for path, out in sorted(project.outs.items()):
            if out.md5 and not snap.has(path):  # git-tracked outs come with the commit
                self._add_out(commit, out, flags, is_gitml)

    def _parse(
        self, snap: Snapshot, commit: str, is_gitml: bool
    ) -> tuple[dvcfiles.Project, Flags] | None:
        """The commit's DVC files, parsed (once per set of versions); None for an unreadable
        set in a commit from before gitml (noted), BadInput for one of gitml's time."""
        dvc_keys = tuple(
            (p, snap.entries[p])
            for p in snap.key_files()
            if p.endswith((".dvc", "dvc.lock", "dvc.yaml"))
        )
        parsed = self._parsed.get(dvc_keys)
        if parsed is None:
            try:
                parsed = (dvcfiles.read_project(snap), read_flags(snap, self.tell))
            except BadInput as exc:
                if is_gitml:
                    raise BadInput(f"commit {commit[:12]}: {exc}") from None
                self.result.unreadable.append(f"{commit[:12]}: {exc}")
                return None
            self._parsed[dvc_keys] = parsed
        return parsed

    def _add_out(self, commit: str, out: Out, flags: Flags, is_gitml: bool) -> None:
        f = flags.of(out)
        if f.get("cache") is False:
            return  # DVC never caches nor pushes it
        if f.get("push") is False:
            self.result.not_pushed.setdefault(out.path, out.origin)
            return
        assert out.md5
        remote = f.get("remote") if isinstance(f.get("remote"), str) else None
        need = Need(
            out.md5,
            out.hash,
            out.path,
            out.origin,
            commit,
            remote,
            is_gitml,
            imported=out.source is not None,
            versioned_in=flags.versioned.get(out.path, frozenset()),
        )
        self._add(need)
        if not out.is_dir:
            return
        for rel, md5 in self._listing(out) or []:
            self._add(
                Need(
                    md5,
                    out.hash,
                    f"{out.path}/{rel}",
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
                self.tell.warn(str(exc))
                self._members[key] = None
        return self._members[key]
