"""How much a commit pays for gitml's pre-commit hook, against DVC's own pre-commit hook.

A ratio benchmark, not a timed test: both hooks run in the same process, on the same repo,
interleaved, so the machine's speed cancels out. Run it as a script:

    /work/venv/bin/python benchmarks/hook_noop.py [--rounds 7] [--keep]

It builds the example project (tests/conftest.build_example: git + DVC + a local remote, a
first commit through gitml's hooks), stages a README change and times, `--rounds` times each:

  (a) gitml's installed `.git/hooks/pre-commit`, executed directly with the environment git
      gives a pre-commit hook (captured from a real `git commit`, not guessed);
  (b) `python -m dvc git-hook pre-commit`, what DVC's own installed hook runs, same repo and env;
  (c) gitml's hook again after a param change, `gitml repro` and `git add -A`: dvc.lock staged
      changed, so the hook takes its slow path (first run: cold caches; then the median).

Python byte-code is cached (under the temporary directory, via PYTHONPYCACHEPREFIX) as it is for
an installed package; one extra line shows the hook with PYTHONDONTWRITEBYTECODE=1 and no cache.
It also runs the no-op hook's entry point under a tiny wrapper and lists which heavy packages it
imported (none of typer, rich, dvc, great_expectations, pandas, gitpython may be loaded).
Exit status: 0 when median(a)/median(b) <= 1/3 and the no-op path imports none of them, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

import conftest  # tests/conftest.py: build_example, Example

GOAL = 1 / 3
HEAVY = ("typer", "rich", "dvc", "great_expectations", "pandas", "git")  # "git" is gitpython

# Runs the hook's entry point as the shim does (`python -m gitml.hookfast pre-commit`), then
# reports which heavy top-level packages ended up in sys.modules.
WRAPPER = f"""
import json, sys
from gitml.hookfast import main
rc = main(["pre-commit"])
heavy = {HEAVY!r}
print(json.dumps({{"rc": rc, "loaded": [m for m in heavy if m in sys.modules],
                  "slow_path": "gitml.hook_run" in sys.modules,
                  "modules": len(sys.modules)}}))
"""


def hook_environment(root: Path) -> dict[str, str]:
    """The environment git gives a pre-commit hook, captured from a real `git commit`."""
    hook = root / ".git" / "hooks" / "pre-commit"
    saved = hook.with_name("pre-commit.bench-saved")
    dump = root.parent / "hook-env.bin"
    os.replace(hook, saved)
    try:
        hook.write_text(f"#!/bin/sh\nenv -0 > '{dump}'\nexit 1\n")
        hook.chmod(0o755)
        subprocess.run(
            ["git", "commit", "-q", "-m", "probe"], cwd=root, capture_output=True, check=False
        )  # the probe hook fails the commit on purpose
    finally:
        os.replace(saved, hook)
    env = dict(item.split("=", 1) for item in dump.read_text().split("\0") if "=" in item)
    dump.unlink()
    return env


def timed(cmd: list[str], root: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}")
    return elapsed


def rounds(runners: dict[str, Callable[[], float]], n: int) -> dict[str, list[float]]:
    """`n` interleaved rounds of every runner (after one untimed warm-up each)."""
    for run in runners.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(n):
        for name, run in runners.items():
            times[name].append(run())
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def line(label: str, samples: list[float]) -> str:
    return (
        f"  {label:<38}{ms(statistics.median(samples))}   "
        f"(min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f})"
    )


def imports_on(root: Path, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"import check failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per hook (default 7)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="gitml-bench-"))
    try:
        return bench(base, args.rounds)
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def bench(base: Path, n: int) -> int:
    conftest.isolate_environment(base / "home", "gitml bench")
    start = time.perf_counter()
    ex = conftest.build_example(base)
    print(f"built the example repo in {time.perf_counter() - start:.1f} s ({ex.root})")
    with open(ex.root / "README.md", "a") as f:
        f.write("\nA line that gitml does not watch.\n")
    ex.git("add", "README.md")
    git_env = hook_environment(ex.root)
    added = sorted(k for k in git_env if k.startswith("GIT_") and k not in os.environ)
    print(f"hook environment from a real `git commit`: cwd = work tree, {', '.join(added)}")
    # Byte-code as an installed package has it (pip compiles on install). The checkout is not
    # written to: .pyc files go under the temporary directory, for every module alike.
    env = {k: v for k, v in git_env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
    # And as this machine's environment runs it when PYTHONDONTWRITEBYTECODE=1 is set: gitml's
    # own modules (an editable checkout without __pycache__) are compiled on every run.
    no_pyc = {**git_env, "PYTHONDONTWRITEBYTECODE": "1"}
    no_pyc.pop("PYTHONPYCACHEPREFIX", None)

    ours = [str(ex.root / ".git" / "hooks" / "pre-commit")]
    dvc = [sys.executable, "-m", "dvc", "git-hook", "pre-commit"]
    floor = {
        "python -S -c pass": lambda: timed([sys.executable, "-S", "-c", "pass"], ex.root, env),
        "git diff --cached --name-only -z": lambda: timed(
            ["git", "diff", "--cached", "--name-only", "-z"], ex.root, env
        ),
    }
    noop = {
        "(a) gitml .git/hooks/pre-commit": lambda: timed(ours, ex.root, env),
        "(b) dvc git-hook pre-commit": lambda: timed(dvc, ex.root, env),
        "    gitml hook, no byte-code cache": lambda: timed(ours, ex.root, no_pyc),
    }
    floor_t = rounds(floor, n)
    noop_t = rounds(noop, n)
    a, b = (statistics.median(noop_t[k]) for k in list(noop_t)[:2])
    ratio = a / b
    imports = imports_on(ex.root, env)

    # (c): dvc.lock staged changed: the slow path.
    ex.set_param("n_estimators: 3", "n_estimators: 5")
    conftest.run(sys.executable, "-m", "gitml", "repro", cwd=ex.root)
    ex.git("add", "-A")
    cold = timed(ours, ex.root, env)
    work = rounds(
        {
            "(c) gitml hook, dvc.lock staged": lambda: timed(ours, ex.root, env),
            "    dvc git-hook, dvc.lock staged": lambda: timed(dvc, ex.root, env),
        },
        n,
    )
    slow_imports = imports_on(ex.root, env)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nmedians of {n} interleaved rounds, {os.cpu_count()} CPUs (load average {load}), "
        f"python {sys.version.split()[0]}:"
    )
    print("floor (what any hook pays):")
    for label, samples in floor_t.items():
        print(line(label, samples))
    print("no-op commit (README.md staged):")
    for label, samples in noop_t.items():
        print(line(label, samples))
    verdict = "met" if ratio <= GOAL else "MISSED"
    print(f"  ratio gitml/dvc: {ratio:.3f}  (1/{1 / ratio:.1f}; goal <= 1/3: {verdict})")
    print("dvc.lock staged changed (param changed, gitml repro, git add -A):")
    print(f"  {'(c) gitml hook, first run (cold)':<38}{ms(cold)}")
    for label, samples in work.items():
        print(line(label, samples))
    heavy_ok = not imports["loaded"] and not imports["slow_path"] and imports["rc"] == 0
    print(
        f"imports on the no-op path ({imports['modules']} modules, slow path "
        f"{'taken' if imports['slow_path'] else 'not taken'}): "
        + (
            f"none of {', '.join(HEAVY)}"
            if not imports["loaded"]
            else f"LOADED {', '.join(map(str, imports['loaded']))}"
        )
        + ("" if heavy_ok else "  <- FAIL")
    )
    print(
        f"imports on the slow path (c) ({slow_imports['modules']} modules): "
        + (", ".join(map(str, slow_imports["loaded"])) or "none of them")
    )
    return 0 if ratio <= GOAL and heavy_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
