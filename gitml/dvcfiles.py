"""DVC's files, read directly: what dvc.lock and .dvc files declare (stages, deps, params,
outs), and the content-addressed objects they name (DVC's hashes, the cache layout, `.dir`
listings). DVC's config is gitml.dvcconfig.

No `import dvc` here: the hook reads these YAML files itself (DVC's formats are stable:
dvc.lock schema 2.0, cache `files/md5/xx/rest`), so a commit pays no DVC start-up.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import paths
from gitml.errors import BadInput
from gitml.fileio import load_yaml
from gitml.snapshot import Snapshot

DEFAULT_PARAMS = "params.yaml"


@dataclass(frozen=True)
class Out:
    """One DVC-tracked output: a stage out in dvc.lock, or an out of a .dvc file."""

    path: str  # repo-relative
    md5: str | None
    hash: str  # "md5" (DVC 3) or "md5-dos2unix" (DVC 2 objects)
    size: int | None
    nfiles: int | None
    origin: str  # the file that declares it: "dvc.lock" or "data/wine.csv.dvc"
    stage: str | None = None  # stage name (with its dvc.yaml dir when nested), for dvc.lock outs
    source: dict[str, Any] | None = None  # `dvc import`: {url, rev_lock}
    # A folder inside a DVC-tracked directory has no `.dir` object of its own: its (relpath,
    # md5) pairs, taken from the directory's listing (md5 is DVC's hash of them).
    listing: tuple[tuple[str, str], ...] | None = field(default=None, compare=False, repr=False)

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))


@dataclass(frozen=True)
class Dep:
    path: str
    md5: str | None
    hash: str


@dataclass
class Stage:
    name: str  # "train", or "sub/dir:train" for a nested dvc.yaml
    lockfile: str
    cmd: Any
    deps: list[Dep] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # {params file: {key: value}}
    outs: list[Out] = field(default_factory=list)


@dataclass
class Project:
    """What the dvc.lock and .dvc files of one snapshot declare."""

    stages: dict[str, Stage] = field(default_factory=dict)
    outs: dict[str, Out] = field(default_factory=dict)  # every DVC-tracked path -> its out

    def directory_of(self, path: str) -> Out | None:
        """The DVC-tracked directory `path` lies inside (None: no such directory)."""
        for out in self.outs.values():
            if out.is_dir and paths.is_under(path, out.path) and path != out.path:
                return out
        return None

    def producer(self, path: str) -> Stage | None:
        out = self.outs.get(path)
        return self.stages.get(out.stage) if out and out.stage else None

    def upstream(self, targets: list[str], frozen: frozenset[str] = frozenset()) -> list[str]:
        """The target stages and every stage they depend on, through deps that are (in, or
        contain) other stages' outs; not through a `frozen` stage's deps, as `dvc repro` does
        not (dvc/repo/reproduce.py `get_active_graph` cuts them off)."""
        seen: list[str] = []
        todo = list(targets)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.stages:
                continue
            seen.append(name)
            if name in frozen:
                continue
            for dep in self.stages[name].deps:
                for out in self.outs.values():
                    if out.stage and (
                        paths.is_under(dep.path, out.path) or paths.is_under(out.path, dep.path)
                    ):
                        todo.append(out.stage)
        return seen


_MD5 = re.compile(r"[0-9a-f]{32}(\.dir)?")


def is_md5(value: object) -> bool:
    """A DVC md5 (32 lowercase hex digits, `.dir` for a directory): safe to use in a cache path."""
    return isinstance(value, str) and _MD5.fullmatch(value) is not None


def _hash_fields(entry: Any) -> tuple[str | None, str]:
    if not isinstance(entry, dict):
        raise TypeError(f"an entry must be a mapping, got {type(entry).__name__}")
    name = entry.get("hash")
    if name not in (None, "md5", "md5-dos2unix"):
        raise ValueError(f"unsupported hash {name!r}")
    md5 = entry.get("md5")
    if md5 is not None and not is_md5(md5):
        # it becomes a path below the cache: nothing but hex may get there
        raise ValueError(f"md5 {str(md5)[:80]!r} is not 32 hex digits")
    return md5, (name or "md5-dos2unix")


def _path_field(entry: dict[str, Any]) -> str:
    path = entry.get("path")
    if not isinstance(path, str):
        raise TypeError(f"path must be a string, got {type(path).__name__}")
    return path


def _list_field(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"`{key}` must be a list, got {type(value).__name__}")
    return value


def _outs(
    entries: Any, base: str, origin: str, stage: str | None, source: dict[str, Any] | None = None
) -> list[Out]:
    result = []
    if entries is not None and not isinstance(entries, list):
        raise TypeError(f"`outs` must be a list, got {type(entries).__name__}")
    for entry in entries or []:
        if not isinstance(entry, dict) or "path" not in entry:
            raise ValueError("an out without a path")
        md5, hname = _hash_fields(entry)
        result.append(
            Out(
                path=paths.normalize(_path_field(entry), base=base, what="out"),
                md5=md5,
                hash=hname,
                size=_count(entry.get("size")),
                nfiles=_count(entry.get("nfiles")),
                origin=origin,
                stage=stage,
                source=source,
            )
        )
    return result


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _parse(origin: str, data: bytes) -> Any:
    try:
        doc = load_yaml(data)
    except Exception as exc:  # yaml.YAMLError and decoding errors alike
        raise BadInput(f"{origin}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BadInput(f"{origin}: expected a mapping at the top level")
    return doc


def read_lockfile(origin: str, data: bytes, project: Project) -> None:
    """The stages a dvc.lock records, and their outs, added to `project`."""
    doc = _parse(origin, data)
    stages = doc.get("stages", {})
    if not isinstance(stages, dict):
        raise BadInput(f"{origin}: `stages` must be a mapping (is it a DVC 1.x lockfile?)")
    for name, body in stages.items():
        stage = _locked_stage(origin, name, body)
        project.stages[stage.name] = stage
        for out in stage.outs:
            project.outs[out.path] = out


def _locked_stage(origin: str, name: Any, body: Any) -> Stage:
    """One stage of a dvc.lock (named with its dvc.yaml's directory when nested)."""
    if not isinstance(body, dict):
        raise BadInput(f"{origin}: stage {name!r} must be a mapping")
    base = posixpath.dirname(origin)
    full = f"{base}:{name}" if base else str(name)
    try:
        deps, params = _locked_deps(body, base), _locked_params(body, base)
        return Stage(
            full, origin, body.get("cmd"), deps, params, _outs(body.get("outs"), base, origin, full)
        )
    except BadInput as exc:
        raise BadInput(f"{origin}: stage {name!r}: {exc}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BadInput(f"{origin}: stage {name!r} is malformed ({exc})") from None


def _locked_deps(body: dict[str, Any], base: str) -> list[Dep]:
    deps = []
    for d in _list_field(body, "deps"):
        md5, hname = _hash_fields(d)
        deps.append(Dep(paths.normalize(_path_field(d), base=base, what="dep"), md5, hname))
    return deps


def _locked_params(body: dict[str, Any], base: str) -> dict[str, dict[str, Any]]:
    """{params file (repo-relative): {key: value}} of a locked stage."""
    params: dict[str, dict[str, Any]] = {}
    for pfile, values in (body.get("params") or {}).items():
        if not isinstance(values, (dict, type(None))):
            raise TypeError(f"params of {pfile} must be a mapping")
        params[paths.normalize(str(pfile), base=base, what="params file")] = dict(values or {})
    return params


def _import_source(deps: list[Any]) -> dict[str, Any] | None:
    """Where a `dvc import` (-url) took its data from, as gitml.lock records it."""
    source = None
    for dep in deps:
        if not isinstance(dep, dict):
            raise TypeError(f"a dep must be a mapping, got {type(dep).__name__}")
        if isinstance(dep.get("repo"), dict):
            repo = dep["repo"]
            source = {
                "url": repo.get("url"),
                "rev_lock": repo.get("rev_lock"),
                "path": dep.get("path"),
            }
        elif dep.get("path") and "://" in str(dep.get("path")):
            source = {"url": dep.get("path"), "rev_lock": None, "path": None}
    return source


def read_dvcfile(origin: str, data: bytes, project: Project) -> None:
    doc = _parse(origin, data)
    base = posixpath.dirname(origin)
    try:
        source = _import_source(_list_field(doc, "deps"))
        outs = _outs(doc.get("outs"), base, origin, None, source)
    except BadInput as exc:
        raise BadInput(f"{origin}: {exc}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadInput(f"{origin}: malformed ({exc})") from None
    if not outs:
        raise BadInput(f"{origin}: names no output (`outs` is missing or empty)")
    for out in outs:
        project.outs[out.path] = out


def read_project(snap: Snapshot) -> Project:
    """Every dvc.lock and .dvc file of the snapshot, read in one batch."""
    files = [p for p in snap.key_files() if p.endswith((".dvc", "dvc.lock"))]
    snap.prefetch(files)
    project = Project()
    for path in files:
        data = snap.read(path) or b""
        if path.endswith("dvc.lock"):
            read_lockfile(path, data, project)
        else:
            read_dvcfile(path, data, project)
    return project


# --- hashes, as DVC computes them -----------------------------------------------------------


def _is_text(head: bytes) -> bool:
    return b"\0" not in head[:8000]


def md5_for(data: bytes, hash_name: str) -> str:
    """DVC's md5 of one file's bytes (DVC 2's md5-dos2unix folds CRLF in text files)."""
    if hash_name == "md5-dos2unix" and _is_text(data):
        data = data.replace(b"\r\n", b"\n")
    return hashlib.md5(data).hexdigest()


def dir_md5(entries: list[tuple[str, str]]) -> str:
    """DVC's hash of a directory from (relpath, md5) pairs: md5 of the sorted JSON listing, then
    `.dir`."""
    listing = [{"md5": md5, "relpath": rel} for rel, md5 in sorted(entries)]
    return hashlib.md5(json.dumps(listing, sort_keys=True).encode()).hexdigest() + ".dir"


# --- the cache layout --------------------------------------------------------------------------


def object_relpath(md5: str, hash_name: str) -> str:
    """Where an object lives below a cache or remote root (DVC 3: files/md5/xx/rest)."""
    if hash_name == "md5-dos2unix":
        return f"{md5[:2]}/{md5[2:]}"
    return f"files/md5/{md5[:2]}/{md5[2:]}"


def object_path(root: Path, md5: str, hash_name: str) -> Path:
    return root / object_relpath(md5, hash_name)


class CorruptListing(BadInput):
    """A `.dir` object whose bytes do not hash to its name."""


def read_dir_listing(obj: Path) -> list[tuple[str, str]]:
    """(relpath, md5) pairs of a `.dir` object, once its bytes hash to the name it is stored
    under (`xx/rest.dir`): a listing whose members were swapped would restore each file with
    another's bytes. A file not stored under an md5 name is parsed as it is."""
    try:
        data = obj.read_bytes()
    except OSError as exc:
        raise BadInput(f"DVC directory object {obj} is unreadable or corrupt ({exc})") from None
    named = obj.parent.name + obj.name
    # DVC names a listing by the md5 of its bytes, dos2unix or not (JSON has no CRLF)
    if (
        is_md5(named)
        and named.endswith(".dir")
        and hashlib.md5(data).hexdigest() != named.removesuffix(".dir")
    ):
        raise CorruptListing(
            f"DVC directory object {obj} does not match its hash (corrupt cache): delete it, "
            "then `dvc pull` it"
        )
    return parse_dir_listing(data, str(obj))


def parse_dir_listing(data: bytes, where: str) -> list[tuple[str, str]]:
    """(relpath, md5) pairs of the bytes of a `.dir` object (`where`: named in the error)."""
    try:
        listing = json.loads(data)
        pairs = [(str(e["relpath"]), e["md5"]) for e in listing]
        for rel, md5 in pairs:
            # members become paths below the out and below the cache: neither may escape
            if not is_md5(md5) or md5.endswith(".dir"):
                raise ValueError(f"member md5 {str(md5)[:80]!r} is not 32 hex digits")
            if not rel or paths.normalize(rel, what="member") != rel:
                raise ValueError(f"member path {rel[:80]!r} is not a clean relative path")
        return pairs
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise BadInput(f"DVC directory object {where} is unreadable or corrupt ({exc})") from None
