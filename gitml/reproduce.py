"""`gitml reproduce REV`: rebuild a commit's models in an isolated worktree and verify them.

DESIGN.md "Contract: reproduce". The user's worktree, index, DVC cache and run-cache are never
touched: the rebuild happens in a detached `git worktree` in a temporary directory, with its own
(temporary) DVC cache, seeded read-only from the clone's cache (hard links where possible, else
verified copies) and from the clone's remotes; `dvc repro --force --no-commit --no-run-cache`
keeps the rebuilt outputs out of every cache. gitml hashes the rebuilt models itself.
"""

from __future__ import annotations

import collections
import errno
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitml import dvcfiles, environment, git, manifest, objects, paths, state
from gitml import params as params_mod
from gitml import repo as repo_mod
from gitml.config import Config
from gitml.error_handler import Interruptible
from gitml.errors import BadInput
from gitml.fileio import md5_file
from gitml.lockfile import LOCK_FILE
from gitml.output import say, warn

IDENTICAL, EQUIVALENT, DIFFERENT = "identical", "equivalent", "different"
NOT_REBUILT = "not rebuildable"
_TAIL_LINES = 40
PREFIX = "gitml-reproduce-"  # the temporary directory of each run (gitml doctor looks for it)
OWNER_FILE = "owner.lock"  # in it: flock-ed by the run for its whole life, with its pid
_LOCK_NAME = "reproduce"  # state.locked(): serialises worktree add/remove/prune and cleaning


@dataclass
class ModelResult:
    path: str
    recorded_md5: str | None
    rebuilt_md5: str | None
    metrics: dict[str, Any] = field(
        default_factory=dict
    )  # name -> {recorded, rebuilt, delta, tolerance}
    verdict: str = DIFFERENT

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "recorded_md5": self.recorded_md5,
            "rebuilt_md5": self.rebuilt_md5,
            "metrics": self.metrics,
            "verdict": self.verdict,
        }


@dataclass
class Result:
    rev: str
    verdict: str
    models: list[ModelResult]
    diagnosis: list[dict[str, str]]
    seconds: float
    kept: Path | None = None
    locked: LockedEnv | None = None

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "rev": self.rev,
            "verdict": self.verdict,
            "models": [m.as_json() for m in self.models],
            "diagnosis": self.diagnosis,
            "seconds": round(self.seconds, 2),
        }
        if self.locked is not None:  # --env locked only
            doc["environment"] = {
                "mode": "locked",
                "python": self.locked.python,
                "tool": self.locked.tool,
                "reused": self.locked.reused,
                "requirements": len(self.locked.requirements),
                "not_installed": self.locked.not_installed,
            }
        return doc


class StageFailed(BadInput):
    """A stage of the rebuild failed: exit 2 with the tail of its output; the worktree is kept."""


# --- the worktree --------------------------------------------------------------------------------


def claim(base: Path) -> int:
    """Mark `base` as this run's: an exclusive flock on `base/owner.lock` (holding our pid),
    held until `release`. The kernel drops it when the process dies, even on kill -9."""
    fd = os.open(base / OWNER_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def release(base: Path, fd: int, kept: bool) -> None:
    """Drop the claim; a kept worktree loses its owner file, so no later run cleans it."""
    if kept:
        (base / OWNER_FILE).unlink(missing_ok=True)
    os.close(fd)


def _owner_gone(base: Path) -> bool:
    """True when `base` has an owner file that no live process holds (a killed run)."""
    try:
        fd = os.open(base / OWNER_FILE, os.O_RDWR)
    except OSError:
        return False  # kept (--keep, a failed stage) or not made by this version: left alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False  # a run in progress
        raise
    finally:
        os.close(fd)
    return True


def reproduce_worktrees(root: Path) -> list[Path]:
    """The registered worktrees that `gitml reproduce` made (path contains gitml-reproduce-)."""
    proc = git.run(["worktree", "list", "--porcelain", "-z"], root, check=False)
    found = []
    for record in proc.stdout.decode(errors="replace").split("\0\0"):
        for f in record.split("\0"):
            if f.startswith("worktree ") and PREFIX in f:
                found.append(Path(f[len("worktree ") :]))
    return found


def leftover_worktrees(root: Path) -> list[Path]:
    """Worktrees of reproduce runs that were killed: their owner is gone, or they are gone."""
    return [
        wt
        for wt in reproduce_worktrees(root)
        if not wt.exists() or (wt.parent.name.startswith(PREFIX) and _owner_gone(wt.parent))
    ]


def clean_leftovers(root: Path) -> list[Path]:
    """Remove the leftovers of killed runs (worktree, registration, temporary directory).

    Call with the reproduce lock held, so that no other run is between add and claim."""
    leftovers = leftover_worktrees(root)
    for wt in leftovers:  # twice --force: also when killed while git still had it locked
        git.run(["worktree", "remove", "--force", "--force", str(wt)], root, check=False)
        if wt.parent.name.startswith(PREFIX):
            shutil.rmtree(wt.parent, ignore_errors=True)
    if leftovers:
        git.run(["worktree", "prune"], root, check=False)
    return leftovers


def add_worktree(root: Path, commit: str, base: Path) -> Path:
    wt = base / "wt"
    env = git.no_git_env()
    env["GITML_INTERNAL_WORKTREE"] = "1"
    git.run(
        ["-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", str(wt), commit],
        root,
        env=env,
    )
    return wt


def remove_worktree(root: Path, wt: Path) -> None:
    git.run(["worktree", "remove", "--force", str(wt)], root, check=False)
    shutil.rmtree(wt, ignore_errors=True)
    git.run(["worktree", "prune"], root, check=False)


def write_local_config(root: Path, wt: Path, cache_dir: Path) -> dvcfiles.DvcConfig:
    """The worktree's `.dvc/config.local`: the clone's `.dvc/config.local`, every remote the
    clone knows at any level (system, global, repo, local: each option merged as DVC merges
    them, paths absolute, since they were relative to their own file) and its default remote,
    and a private cache."""
    user = dvcfiles.read_config(root)
    sections: dvcfiles.Sections = {}
    for cfg_file in user.files:
        if cfg_file.level == "local":
            sections.update({k: dict(v) for k, v in cfg_file.sections.items()})
    for rname, options in user.remote_options.items():
        sections[f'remote "{rname}"'] = dict(options)
    if user.default_remote:
        sections.setdefault("core", {})["remote"] = user.default_remote
    sections["cache"] = {"dir": str(cache_dir), "type": "reflink,copy"}
    lines = []
    for section, options in sections.items():
        header = f"'{section}'" if " " in section else section
        lines.append(f"[{header}]")
        lines.extend(f"    {k} = {v}" for k, v in options.items())
    (wt / ".dvc" / "config.local").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return user


# --- inputs ------------------------------------------------------------------------------------


def _link_or_copy(src: Path, md5: str, hash_name: str, dest: Path) -> bool:
    if dest.is_file():
        return True
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)  # the cache's files are read-only; the worktree checks out copies
        return True
    except OSError:
        return objects.verified_copy(src, md5.removesuffix(".dir"), hash_name, dest)


def seed_cache(user: dvcfiles.DvcConfig, outs: list[dvcfiles.Out], cache_dir: Path) -> None:
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


def dvc_target(stage: str) -> str:
    """gitml's stage name (`sub/dir:train` when nested) as a `dvc repro` target."""
    if ":" in stage:
        base, name = stage.rsplit(":", 1)
        return f"{base}/dvc.yaml:{name}"
    return stage


# --- running DVC -------------------------------------------------------------------------------


STOP_GRACE_SECONDS = 5.0  # between TERM and KILL to a rebuild's process group


def run_streamed(
    cmd: list[str], cwd: Path, env: dict[str, str], label: str = "running DVC"
) -> tuple[int, list[str]]:
    """Run `cmd`, its output streamed to stderr (under a rich status with `label` on a
    terminal, plain when piped); the exit code and the last lines of output.

    `cmd` runs in a session of its own, with the processes it starts (DVC runs a stage's command
    in its own process group): a signal to gitml, or Ctrl-C at the terminal, does not reach
    them, and whatever interrupts gitml here ends the whole group (`stop_group`), so that no
    stage goes on running in a worktree being removed."""
    tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.text import Text

            con = Console(stderr=True, highlight=False, emoji=False)
            with con.status(f"[bold]{label}[/]"):
                for raw in proc.stdout:
                    line = raw.decode(errors="replace").rstrip("\n")
                    tail.append(line)
                    con.print(Text(line, style="dim"))
            return proc.wait(), list(tail)
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            tail.append(line.rstrip("\n"))
            sys.stderr.write(line)
            sys.stderr.flush()
        return proc.wait(), list(tail)
    except BaseException:
        stop_group(proc)
        raise
    finally:
        proc.stdout.close()


def stop_group(proc: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """End the process group that `proc` leads: SIGTERM, then SIGKILL to whatever is left after
    `grace` seconds. The group outlives its leader while any member lives, so it is asked
    (signal 0) until it is empty; the leader is reaped first, a zombie being still a member."""
    deadline = time.monotonic() + grace
    sig: int | None = signal.SIGTERM
    while True:
        try:
            os.killpg(proc.pid, sig or 0)
        except ProcessLookupError:
            break  # nobody left in the group
        if sig == signal.SIGKILL:
            break
        time.sleep(0.05)
        proc.poll()
        sig = signal.SIGKILL if time.monotonic() > deadline else None
    proc.wait()


def _dvc(args: list[str], wt: Path, env: dict[str, str], label: str) -> tuple[int, list[str]]:
    return run_streamed([sys.executable, "-m", "dvc", *args], wt, env, label)


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


def fetch_inputs(
    root: Path,
    commit: str,
    wt: Path,
    outs: list[dvcfiles.Out],
    cache_dir: Path,
    env: dict[str, str],
) -> None:
    """Check out the root inputs from the private cache (seeded), else `dvc pull` them."""
    if not outs:
        return
    targets = sorted({o.origin if o.stage is None else o.path for o in outs})
    private = dvcfiles.DvcConfig(cache_dir=cache_dir, remotes={}, default_remote=None)
    if not objects.missing_objects(private, outs):
        code, _ = _dvc(["checkout", "-q", *targets], wt, env, "checking out the inputs")
        if code == 0:
            return
    code, tail = _dvc(["pull", "-q", *targets], wt, env, "fetching the inputs (dvc pull)")
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


def hash_path(path: Path, hash_name: str) -> str | None:
    """DVC's hash of a rebuilt file or directory."""
    if path.is_file():
        if hash_name == "md5":
            return md5_file(path)
        return dvcfiles.md5_for(path.read_bytes(), hash_name)
    if path.is_dir():
        entries = []
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            entries.append((f.relative_to(path).as_posix(), hash_path(f, hash_name) or ""))
        return dvcfiles.dir_md5(entries)
    return None


def rebuild(wt: Path, targets: list[str], env: dict[str, str]) -> None:
    cmd = ["repro", "--force", "--no-commit", "--no-run-cache", *map(dvc_target, targets)]
    code, tail = _dvc(cmd, wt, env, f"rebuilding {', '.join(targets)} (dvc repro)")
    if code != 0:
        raise StageFailed(
            f"the rebuild failed (`dvc {' '.join(cmd)}` exited {code}); its last "
            "lines:\n" + "\n".join(tail)
        )


# --- --env locked: a fresh venv from the recorded packages -----------------------------------

_NOT_INSTALLED = {"gitml", "pip", "setuptools", "wheel"}  # gitml's tooling, not the model's
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_UV_MISSING = re.compile(r"Because (\S+?)(==\S+)? was not found")


@dataclass
class LockedEnv:
    python: str  # the venv's interpreter
    requirements: list[str]
    not_installed: dict[str, str]  # requirement -> why
    reused: bool
    tool: str


def locked_requirements(block: dict[str, Any] | None) -> list[str]:
    """`name==version` for each recorded package, sorted, without gitml's own tooling."""
    pkgs = (block or {}).get("packages") or {}
    return sorted(
        f"{name}=={version}"
        for name, version in pkgs.items()
        if str(name).lower() not in _NOT_INSTALLED and version
    )


def locked_env_key(requirements: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()


def _install(cmd: list[str], reqs: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        [*cmd, *reqs],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout + proc.stderr


def install_requirements(
    python: str, requirements: list[str], use_uv: bool
) -> tuple[dict[str, str], str]:
    """Install `requirements` (`--no-deps`: the record is the whole closure) into the venv of
    `python`; those that cannot be installed are dropped and reported, the rest installed."""
    env = git.no_git_env()
    env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
    pip = [python, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q"]
    failed: dict[str, str] = {}
    todo = list(requirements)
    if use_uv:
        uv = [str(shutil.which("uv")), "pip", "install", "--no-deps", "--python", python]
        code, text = _install(uv, todo, env)
        if code == 0:
            return failed, "uv"
    tool = "uv + pip" if use_uv else "pip"
    while todo:
        code, text = _install(pip, todo, env)
        if code == 0:
            return failed, tool
        named = {m.group(1) for m in _NO_MATCH.finditer(text)}
        culprits = [r for r in todo if r in named or r.split("==")[0] in named]
        if culprits:
            for r in culprits:
                failed[r] = "no matching distribution"
                todo.remove(r)
            continue
        for r in list(todo):  # unknown failure (a build error?): one at a time, keep what works
            code, text = _install(pip, [r], env)
            if code != 0:
                lines = [ln for ln in text.splitlines() if ln.strip() and "WARNING" not in ln]
                failed[r] = (lines[-1] if lines else f"exit {code}")[:200]
        return failed, tool
    return failed, tool


def locked_env(common_dir: Path, base_python: str, block: dict[str, Any] | None) -> LockedEnv:
    """The venv of the recorded packages, built once per clone (state dir, by the sha256 of the
    sorted requirement list) and reused. Built in place (a venv's scripts name their path)."""
    reqs = locked_requirements(block)
    if not reqs:
        raise BadInput("--env locked: the model's environment records no packages")
    key = locked_env_key(reqs)
    venvs = state.state_dir(common_dir) / "venvs"
    venvs.mkdir(exist_ok=True)
    final = venvs / key[:16]
    with state.locked(common_dir, f"venv-{key[:16]}", timeout=1800):
        record = state.read_json(final / "gitml-locked.json")
        if record and (final / "bin" / "python").exists():
            return LockedEnv(
                str(final / "bin" / "python"),
                reqs,
                dict(record.get("not_installed") or {}),
                True,
                str(record.get("tool")),
            )
        shutil.rmtree(final, ignore_errors=True)  # a build that was interrupted
        try:
            use_uv = shutil.which("uv") is not None
            say(
                f"--env locked: building a venv of {len(reqs)} recorded packages with "
                f"{'uv' if use_uv else 'pip'} in {final} (once per clone; reused by the next run)"
            )
            if use_uv:
                cmd = [str(shutil.which("uv")), "venv", "-q", "--seed", "--python", base_python]
            else:
                cmd = [base_python, "-m", "venv"]
            proc = subprocess.run(
                [*cmd, str(final)],
                check=False,
                capture_output=True,
                text=True,
                env=git.no_git_env(),
            )
            if proc.returncode != 0:
                raise BadInput(
                    f"--env locked: cannot create a venv with {base_python}: "
                    f"{proc.stderr.strip()[-500:]}"
                )
            failed, tool = install_requirements(str(final / "bin" / "python"), reqs, use_uv)
            # written last (atomically): its presence says the venv is complete
            state.write_json(
                final / "gitml-locked.json",
                {"requirements": reqs, "not_installed": failed, "tool": tool},
            )
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
        return LockedEnv(str(final / "bin" / "python"), reqs, failed, False, tool)


# --- comparing -----------------------------------------------------------------------------------


def read_metrics(wt: Path, path: str | None) -> dict[str, Any] | None:
    if not path or not (wt / path).is_file():
        return None
    return manifest.rounded(params_mod.parse(path, (wt / path).read_bytes()))


def compare_metrics(
    recorded: dict[str, Any] | None, rebuilt: dict[str, Any] | None, tolerance: dict[str, float]
) -> tuple[dict[str, Any], bool]:
    """Per metric {recorded, rebuilt, delta, tolerance, within}; True when every tolerance holds."""
    rec, new = params_mod.flatten(recorded or {}), params_mod.flatten(rebuilt or {})
    table: dict[str, Any] = {}
    for name in sorted(set(rec) | set(new)):
        a, b = rec.get(name), new.get(name)
        delta = (float(b) - float(a)) if _number(a) and _number(b) else None  # type: ignore[arg-type]
        tol = tolerance.get(name)
        within = None if tol is None else (delta is not None and abs(delta) <= tol + 1e-12)
        table[name] = {
            "recorded": a,
            "rebuilt": b,
            "delta": manifest.rounded(delta) if delta is not None else None,
            "tolerance": tol,
            "within": within,
        }
    ok = bool(tolerance) and all(table.get(n, {}).get("within") for n in tolerance)
    return table, ok


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# --- diagnosis -------------------------------------------------------------------------------------


def _kind_of_input(key: str, code_paths: set[str]) -> str:
    if ":" in key and not key.startswith("/"):
        return "params"
    if key in code_paths or key.endswith((".py", ".R", ".sh", ".ipynb", ".jl", ".scala")):
        return "code"
    return "data"


def input_differences(
    recorded: dict[str, Any], project: dvcfiles.Project, stage: str | None
) -> list[dict[str, str]]:
    """Recorded model inputs against the rebuilt worktree's dvc.lock."""
    if not stage or stage not in project.stages:
        return []
    st = project.stages[stage]
    actual: dict[str, Any] = {d.path: d.md5 for d in st.deps}
    for pfile, values in st.params.items():
        for key, value in values.items():
            actual[f"{pfile}:{key}"] = manifest.rounded(value)
    found = []
    for key in sorted(set(recorded) | set(actual)):
        a, b = recorded.get(key), actual.get(key)
        if a == b:
            continue
        kind = _kind_of_input(key, set())
        if key not in actual:
            detail = f"{key}: recorded but no longer an input of stage {stage}"
        elif key not in recorded:
            detail = f"{key}: an input of stage {stage} not in the record"
        else:
            detail = f"{key}: recorded {_short(a)}, rebuilt from {_short(b)}"
        found.append({"kind": kind, "detail": detail})
    return found


def _short(v: Any) -> str:
    s = str(v)
    return s[:12] if isinstance(v, str) and len(s) >= 32 else s[:80]


def environment_differences(
    recorded: dict[str, Any] | None, now: dict[str, Any]
) -> list[dict[str, str]]:
    """The recorded environment block against the one captured now, most telling first."""
    if not recorded:
        return [{"kind": "environment", "detail": "no environment was recorded for this model"}]
    found: list[dict[str, str]] = []
    if str(recorded.get("python")) != str(now.get("python")):
        found.append(
            {
                "kind": "python",
                "detail": f"python {recorded.get('python')} recorded, {now.get('python')} now",
            }
        )
    rec_p = {
        k: str(v) for k, v in (recorded.get("packages") or {}).items() if k not in _NOT_INSTALLED
    }
    now_p = {k: str(v) for k, v in (now.get("packages") or {}).items() if k not in _NOT_INSTALLED}
    changed = [
        f"{k} {rec_p[k]} -> {now_p[k]}"
        for k in sorted(rec_p)
        if k in now_p and rec_p[k] != now_p[k]
    ]
    removed = [f"{k} {rec_p[k]}" for k in sorted(rec_p) if k not in now_p]
    added = [f"{k} {now_p[k]}" for k in sorted(now_p) if k not in rec_p]
    if changed:
        found.append({"kind": "packages", "detail": "changed: " + ", ".join(changed)})
    if removed:
        found.append({"kind": "packages", "detail": "missing now: " + ", ".join(removed)})
    if added:
        found.append({"kind": "packages", "detail": "not recorded: " + ", ".join(added)})
    if recorded.get("platform") != now.get("platform"):
        found.append(
            {
                "kind": "platform",
                "detail": f"platform {recorded.get('platform')} "
                f"recorded, {now.get('platform')} now",
            }
        )
    rhw, nhw = recorded.get("hardware") or {}, now.get("hardware") or {}
    for key in ("cpu", "gpu"):
        if rhw.get(key) != nhw.get(key):
            found.append(
                {"kind": "hardware", "detail": f"{key} {rhw.get(key)} recorded, {nhw.get(key)} now"}
            )
    return found


def seed_differences(recorded: dict[str, Any] | None, config: Config) -> list[dict[str, str]]:
    seeds = (recorded or {}).get("seeds") or {}
    unset = [k for k, v in seeds.items() if v is None]
    found = [{"kind": "seed", "detail": f"seed not set: {k}"} for k in sorted(unset)]
    if not config.seeds:
        found.append({"kind": "seed", "detail": "no seeds declared (gitml.yaml reproduce.seeds)"})
    return found


# --- the command's core --------------------------------------------------------------------------


def reproduce(
    rev: str | None,
    out: Path | None = None,
    env_mode: str = "current",
    keep: bool = False,
    twice: bool = False,
) -> Result:
    started = time.monotonic()
    if env_mode not in ("current", "locked"):
        raise BadInput(f"--env must be `current` or `locked`, not {env_mode!r}")
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    commit = git.resolve_commit(repo.root, rev or "HEAD")
    snap, lock = manifest.committed_lock(repo.root, commit, "nothing to reproduce against")
    config = repo_mod.config_at(snap) or Config()
    models_rec: dict[str, Any] = lock.get("models") or {}
    if not models_rec:
        raise BadInput(f"{LOCK_FILE} at {commit[:12]} records no models: nothing to reproduce")
    # `dvc repro` runs no frozen stage (`dvc freeze`): it checks their outputs are there
    frozen = manifest.frozen_stages(manifest.Lineage(snap, config, dvcfiles.read_project(snap)))
    rebuildable = {
        p: m for p, m in models_rec.items() if m.get("stage") and m["stage"] not in frozen
    }
    if not rebuildable and any(m.get("stage") in frozen for m in models_rec.values()):
        raise BadInput(
            f"the stages of {', '.join(sorted(models_rec))} at {commit[:12]} are frozen "
            f"(`dvc freeze`), so `dvc repro` does not rebuild them; their bytes can be restored "
            f"(`gitml restore {rev or 'HEAD'}`), or `dvc unfreeze` them to rebuild"
        )
    if not rebuildable:
        names = ", ".join(sorted(models_rec))
        raise BadInput(
            f"{names} at {commit[:12]}: tracked by .dvc files (dvc add), not produced by a "
            f"dvc.yaml stage, so there is no pipeline to rebuild from; they can be restored "
            f"(`gitml restore {rev or 'HEAD'}`), not rebuilt"
        )

    with Interruptible(_INTERRUPTED) as signals:
        return _rebuild_and_compare(
            repo,
            commit,
            lock,
            config,
            models_rec,
            rebuildable,
            frozen,
            signals,
            out=out,
            env_mode=env_mode,
            keep=keep,
            twice=twice,
            started=started,
        )


_INTERRUPTED = (
    "the rebuild was stopped (DVC and the stages' processes ended) and its temporary worktree "
    "removed; nothing of yours was changed"
)


def _rebuild_and_compare(
    repo: repo_mod.Repo,
    commit: str,
    lock: dict[str, Any],
    config: Config,
    models_rec: dict[str, Any],
    rebuildable: dict[str, Any],
    frozen: frozenset[str],
    signals: Interruptible,
    *,
    out: Path | None,
    env_mode: str,
    keep: bool,
    twice: bool,
    started: float,
) -> Result:
    """The rebuild in its temporary worktree, removed at the end (kept with `keep` or when a
    stage fails), also when a signal ends the run."""
    base = Path(tempfile.mkdtemp(prefix=PREFIX))
    owner = claim(base)
    locked: LockedEnv | None = None
    wt: Path | None = None
    keep_wt = keep
    try:
        # deferred: a signal in the middle would leave a registration that `wt` does not name
        with state.locked(repo.common_dir, _LOCK_NAME), signals.deferred():
            cleaned = clean_leftovers(repo.root)
            if cleaned:
                say(
                    f"removed {len(cleaned)} leftover worktree(s) of an interrupted "
                    f"`gitml reproduce`: {', '.join(map(str, cleaned))}"
                )
            wt = add_worktree(repo.root, commit, base)
        if keep:
            signals.done = (
                "the rebuild was stopped (DVC and the stages' processes ended); its worktree is "
                f"kept at {wt}"
            )
        cache_dir = base / "cache"
        user_cfg = write_local_config(repo.root, wt, cache_dir)
        project = _worktree_project(wt)
        python = environment.project_python(wt, config.python)
        if env_mode == "locked":
            blocks = lock.get("environments") or {}
            keys = list(dict.fromkeys(str(m.get("environment")) for m in rebuildable.values()))
            if len(keys) > 1:
                warn(f"--env locked: the models record {len(keys)} environments; using {keys[0]}")
            locked = locked_env(repo.common_dir, python, blocks.get(keys[0]))
            python = locked.python
            if locked.reused:
                say(f"--env locked: reusing the venv {Path(python).parent.parent}")
            if locked.not_installed:
                warn(
                    "--env locked: could not be installed: "
                    + ", ".join(f"{r} ({why})" for r, why in locked.not_installed.items())
                )
        run_env = environment.interpreter_on_path(python)
        if locked is not None:
            run_env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
        run_env.pop("GITML_INTERNAL_WORKTREE", None)

        targets = list(dict.fromkeys(str(m["stage"]) for m in rebuildable.values()))
        for m in config.models:  # the stages that write the models' metrics files
            if m.path in rebuildable and m.metrics:
                producer = project.outs.get(m.metrics)
                if producer is not None and producer.stage:
                    targets.append(producer.stage)
        targets = list(dict.fromkeys(targets))
        missing = [t for t in targets if t not in project.stages]
        if missing:
            raise BadInput(
                f"stage(s) {', '.join(missing)} named in {LOCK_FILE} are not in the "
                f"dvc.lock of {commit[:12]}"
            )
        roots = root_inputs(project, project.upstream(targets, frozen), frozen)
        seed_cache(user_cfg, roots, cache_dir)
        fetch_inputs(repo.root, commit, wt, roots, cache_dir, run_env)

        rebuild(wt, targets, run_env)
        first = {p: hash_path(wt / p, str(m.get("hash") or "md5")) for p, m in rebuildable.items()}
        metrics_cfg = {m.path: m.metrics for m in config.models}
        results: list[ModelResult] = []
        for path, m in models_rec.items():
            if path not in rebuildable:
                results.append(ModelResult(path, m.get("md5"), None, {}, NOT_REBUILT))
                continue
            r = ModelResult(path, m.get("md5"), first[path])
            rebuilt_metrics = read_metrics(wt, metrics_cfg.get(path))
            r.metrics, within = compare_metrics(m.get("metrics"), rebuilt_metrics, config.tolerance)
            if r.rebuilt_md5 == r.recorded_md5:
                r.verdict = IDENTICAL
            elif within:
                r.verdict = EQUIVALENT
            else:
                r.verdict = DIFFERENT
            results.append(r)
        if out is not None:
            _copy_out(wt, rebuildable, out)

        verdicts = [r.verdict for r in results if r.verdict != NOT_REBUILT]
        verdict = (
            DIFFERENT
            if DIFFERENT in verdicts
            else EQUIVALENT
            if EQUIVALENT in verdicts
            else IDENTICAL
        )
        diagnosis: list[dict[str, str]] = []
        if verdict != IDENTICAL:
            rebuilt_project = _worktree_project(wt)
            diagnosis = _diagnose(
                lock,
                rebuildable,
                rebuilt_project,
                python,
                wt,
                config,
                [r for r in results if r.verdict not in (IDENTICAL, NOT_REBUILT)],
            )
            if twice:
                rebuild(wt, targets, run_env)
                second = {
                    p: hash_path(wt / p, str(m.get("hash") or "md5"))
                    for p, m in rebuildable.items()
                }
                varying = [p for p in rebuildable if second[p] != first[p]]
                if varying:
                    diagnosis.insert(
                        0,
                        {
                            "kind": "nondeterministic",
                            "detail": "two rebuilds here differ from each other: "
                            + ", ".join(varying),
                        },
                    )
                else:
                    diagnosis.append(
                        {
                            "kind": "deterministic",
                            "detail": "two rebuilds here are identical to each other",
                        }
                    )
        for path in models_rec:
            if path not in rebuildable:
                diagnosis.append(
                    {
                        "kind": "not-rebuilt",
                        "detail": f"{path} is tracked by a .dvc "
                        "file (dvc add): restorable, not rebuildable",
                    }
                )
        return Result(
            commit,
            verdict,
            results,
            diagnosis,
            time.monotonic() - started,
            kept=wt if keep else None,
            locked=locked,
        )
    except StageFailed as exc:
        keep_wt = True
        raise StageFailed(f"{exc}\nthe worktree is kept at {wt}") from None
    finally:
        with signals.deferred():  # a signal now waits for the cleanup, then ends the run
            if wt is not None and not keep_wt:
                with state.locked(repo.common_dir, _LOCK_NAME):
                    remove_worktree(repo.root, wt)
                shutil.rmtree(base, ignore_errors=True)
            elif wt is None:
                shutil.rmtree(base, ignore_errors=True)
            release(base, owner, kept=wt is not None and keep_wt)


def _worktree_project(wt: Path) -> dvcfiles.Project:
    project = dvcfiles.Project()
    for f in sorted(wt.rglob("*")):
        rel = f.relative_to(wt).as_posix()
        if rel.startswith((".git", ".dvc/")) or not f.is_file():
            continue
        if f.name == "dvc.lock":
            dvcfiles.read_lockfile(rel, f.read_bytes(), project)
        elif f.name.endswith(".dvc"):
            dvcfiles.read_dvcfile(rel, f.read_bytes(), project)
    return project


def _diagnose(
    lock: dict[str, Any],
    rebuildable: dict[str, Any],
    project: dvcfiles.Project,
    python: str,
    wt: Path,
    config: Config,
    not_identical: list[ModelResult],
) -> list[dict[str, str]]:
    envs = lock.get("environments") or {}
    found: list[dict[str, str]] = []
    env_blocks = []
    for r in not_identical:
        m = rebuildable[r.path]
        if m.get("stale"):
            found.append(
                {
                    "kind": "stale",
                    "detail": f"{r.path} was recorded stale at this commit "
                    f"(code/params/data changed without `dvc repro`): {m['stale']}",
                }
            )
        found.extend(input_differences(m.get("inputs") or {}, project, m.get("stage")))
        env_blocks.append(envs.get(m.get("environment")))
    seen: set[tuple[str, str]] = set()
    now = environment.capture(python, wt)
    later: list[dict[str, str]] = []
    for block in env_blocks:
        later.extend(seed_differences(block, config))
        later.extend(environment_differences(block, now))
    result = []
    for d in found + later:
        key = (d["kind"], d["detail"])
        if key not in seen:
            seen.add(key)
            result.append(d)
    if not result:
        result.append(
            {
                "kind": "unknown",
                "detail": "inputs, seeds and environment match the "
                "record: try --twice to see whether the pipeline is deterministic",
            }
        )
    return result


def _copy_out(wt: Path, rebuildable: dict[str, Any], out: Path) -> None:
    for path in rebuildable:
        src = wt / path
        dest = out / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        elif src.is_file():
            shutil.copy2(src, dest)
