"""Step 3 of `gitml reproduce`: the pipeline's root inputs, into the isolated worktree.

The root inputs are what `dvc repro` of the model stages needs checked out and does not build
itself. Their objects are seeded into the worktree's private cache from the clone's cache (or a
local-path remote): hard links where possible, else verified copies, so the user's cache is only
read. What is not there is pulled from the DVC remote; an object found nowhere is named with the
commit that introduced it.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitml import dvcconfig, dvcfiles, git, objects, paths
from gitml.dvc_process import OutputStream, run_dvc
from gitml.errors import BadInput


def fetch_root_inputs(
    root: Path,
    commit: str,
    wt: Path,
    project: dvcfiles.Project,
    user_config: dvcconfig.DvcConfig,
    cache_dir: Path,
    *,
    targets: list[str],
    frozen: frozenset[str],
    env: dict[str, str],
    stream: OutputStream,
) -> None:
    """The root inputs of `targets` checked out in `wt`, from the clone's cache or the remote."""
    roots = root_inputs(project, project.upstream(targets, frozen), frozen)
    seed_cache(user_config, roots, cache_dir)
    fetch_inputs(root, commit, wt, roots, cache_dir, env, stream)


def root_inputs(
    project: dvcfiles.Project, stages: list[str], frozen: frozenset[str] = frozenset()
) -> list[dvcfiles.Out]:
    """What must be checked out before `dvc repro` of `stages` (`Project.upstream` of the
    targets): the `.dvc`-tracked outs (dvc add / import) they depend on; and for a frozen stage
    among them, which `dvc repro` does not run but checks, its outs, and its deps that stages
    cut off by it would have produced."""
    deps = [d.path for name in stages for d in project.stages[name].deps]
    frozen_deps = [d.path for name in stages if name in frozen for d in project.stages[name].deps]

    def under(o: dvcfiles.Out, wanted: list[str]) -> bool:
        return any(paths.is_under(d, o.path) or paths.is_under(o.path, d) for d in wanted)

    def needed(o: dvcfiles.Out) -> bool:
        if o.stage is None:
            return under(o, deps)
        if o.stage in stages:
            return o.stage in frozen
        return under(o, frozen_deps)

    return [o for o in project.outs.values() if needed(o)]


def _link_or_copy(src: Path, md5: str, hash_name: str, dest: Path) -> bool:
    if dest.is_file():
        return True
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)  # the cache's files are read-only; the worktree checks out copies
        return True
    except OSError:
        return objects.verified_copy(src, md5.removesuffix(".dir"), hash_name, dest)


def seed_cache(user: dvcconfig.DvcConfig, outs: list[dvcfiles.Out], cache_dir: Path) -> None:
    """Put the objects of `outs` found in the clone's cache (or a local remote) into `cache_dir`."""
    for out in outs:
        if not out.md5:
            continue
        obj = objects.locate(user, out.md5, out.hash)
        if obj is None:
            continue
        _link_or_copy(obj, out.md5, out.hash, dvcfiles.object_path(cache_dir, out.md5, out.hash))
        if out.is_dir:
            for _, md5 in dvcfiles.read_dir_listing(obj):
                member = objects.locate(user, md5, out.hash)
                if member is not None:
                    _link_or_copy(
                        member, md5, out.hash, dvcfiles.object_path(cache_dir, md5, out.hash)
                    )


def fetch_inputs(
    root: Path,
    commit: str,
    wt: Path,
    outs: list[dvcfiles.Out],
    cache_dir: Path,
    env: dict[str, str],
    stream: OutputStream,
) -> None:
    """Check out the root inputs from the private cache (seeded), else `dvc pull` them."""
    if not outs:
        return
    targets = sorted({o.origin if o.stage is None else o.path for o in outs})
    private = dvcconfig.DvcConfig(cache_dir=cache_dir, remotes={}, default_remote=None)
    if not objects.missing_objects(private, outs):
        code, _ = run_dvc(["checkout", "-q", *targets], wt, env, stream, "checking out the inputs")
        if code == 0:
            return
    code, tail = run_dvc(
        ["pull", "-q", *targets], wt, env, stream, "fetching the inputs (dvc pull)"
    )
    if code != 0:
        missing = objects.missing_objects(private, outs)
        if missing:
            raise BadInput(missing_message(root, commit, outs, missing))
        raise BadInput(
            "cannot fetch the pipeline's inputs ("
            + ", ".join(o.path for o in outs)
            + ") from the DVC cache or remote:\n"
            + "\n".join(tail[-10:])
        )


def introduced_by(root: Path, commit: str, md5: str, origin: str) -> str | None:
    """The commit (an ancestor of `commit`, or itself) whose change to `origin` brought `md5`."""
    proc = git.run(
        ["log", "--format=%H %s", "-1", f"-S{md5}", commit, "--", origin], root, check=False
    )
    line = proc.stdout.decode(errors="replace").strip()
    return line or None


def missing_message(
    root: Path, commit: str, outs: list[dvcfiles.Out], missing: list[objects.Missing]
) -> str:
    """What is missing, each object with the commit that introduced it, and what to do."""
    by_path = {o.path: o for o in outs}
    lines = []
    for m in missing:
        out = by_path.get(m.path)
        needle = out.md5 if out is not None and out.md5 else m.md5  # a member: its directory's
        what = f"{m.path}/{m.member}" if m.member else m.path
        intro = introduced_by(root, commit, needle.removesuffix(".dir"), m.origin)
        since = (
            f"introduced by commit {intro[:12]} ({intro[41:][:60]}) in {m.origin}"
            if intro
            else f"recorded in {m.origin}"
        )
        lines.append(f"  {m.md5} ({what}): {since}")
    return (
        f"DVC object(s) needed to rebuild {commit[:12]} are in neither the DVC cache nor the "
        "remote:\n"
        + "\n".join(lines)
        + "\npush them from a clone that has them (`dvc push`), or rebuild those inputs there"
    )
