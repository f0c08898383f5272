"""How long `gitml reproduce HEAD~1` takes, against doing the same by hand.

A ratio benchmark, not a timed test: both run in the same process, on the same repo,
interleaved round by round, so the machine's speed mostly cancels out. Run it as a script:

    /work/venv/bin/python benchmarks/reproduce.py [--rounds 3] [--keep]

It builds the example project (tests/conftest.build_example: git + DVC + a local remote, a first
commit through gitml's hooks, `dvc push`), makes a second commit (a param changed, `gitml repro`,
committed through the hooks, pushed), and times, `--rounds` times each after one untimed warm-up:

  (a) `gitml reproduce HEAD~1` in the repository (its DVC cache holds every object);
  (b) the manual equivalent in a temporary directory: `git clone`, `git checkout <HEAD~1>`,
      point the clone at the DVC remote, `dvc pull`, `dvc repro --force`;
  (c) `gitml reproduce HEAD~1` in a fresh clone whose DVC cache is empty (objects come from the
      remote; reproduce never fills the user's cache, so every round starts empty).

Exit status: 0 when median(a) <= 1.2 x median(b) + 2 s (the goal in issue 6), else 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

import conftest  # tests/conftest.py: build_example, isolate_environment

GOAL_FACTOR, GOAL_SLACK = 1.2, 2.0


def timed(cmds: list[list[str]], cwd: Path, check_out: str | None = None) -> float:
    start = time.perf_counter()
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        if check_out is not None and proc.stdout.strip().splitlines()[-1:] != [check_out]:
            raise SystemExit(f"{cmd} did not say {check_out}:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - start


def rounds(runners: dict[str, Callable[[], float]], n: int) -> dict[str, list[float]]:
    """`n` interleaved rounds of every runner (after one untimed warm-up each)."""
    for run in runners.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(n):
        for name, run in runners.items():
            times[name].append(run())
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="gitml-bench-reproduce-"))
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
    ex.set_param("n_estimators: 3", "n_estimators: 5")
    conftest.run(sys.executable, "-m", "gitml", "repro", cwd=ex.root)
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "more trees")
    ex.dvc("push", "-q")
    target = ex.git("rev-parse", "HEAD~1").stdout.strip()
    print(f"built the example repo (2 commits) in {time.perf_counter() - start:.1f} s")

    py = sys.executable
    gitml = [py, "-m", "gitml", "reproduce", "HEAD~1"]
    fresh = base / "fresh-clone"
    conftest.git("clone", "-q", str(ex.root), str(fresh), cwd=base)
    conftest.dvc("remote", "modify", "--local", "local", "url", str(ex.remote), cwd=fresh)
    counter = iter(range(1_000_000))

    def manual() -> float:
        work = base / f"manual-{next(counter)}"
        work.mkdir()
        clone = work / "clone"
        try:
            return timed([["git", "clone", "-q", str(ex.root), str(clone)]], work) + timed(
                [
                    ["git", "checkout", "-q", target],
                    [py, "-m", "dvc", "remote", "modify", "--local", "local", "url"]
                    + [str(ex.remote)],
                    [py, "-m", "dvc", "pull", "-q"],
                    [py, "-m", "dvc", "repro", "--force", "-q"],
                ],
                clone,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    runners = {
        "(a) gitml reproduce HEAD~1": lambda: timed([gitml], ex.root, "identical"),
        "(b) clone + dvc pull + dvc repro --force": manual,
        "(c) gitml reproduce HEAD~1, fresh clone": lambda: timed([gitml], fresh, "identical"),
    }
    times = rounds(runners, n)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nmedians of {n} interleaved rounds, {os.cpu_count()} CPUs (load average {load}), "
        f"python {sys.version.split()[0]}:"
    )
    for label, samples in times.items():
        print(
            f"  {label:<44}{statistics.median(samples):7.2f} s   "
            f"(min {min(samples):.2f}, max {max(samples):.2f})"
        )
    a, b, c = (statistics.median(v) for v in times.values())
    goal = GOAL_FACTOR * b + GOAL_SLACK
    ok = a <= goal
    print(
        f"  ratio (a)/(b): {a / b:.2f}, (c)/(b): {c / b:.2f}; goal (a) <= 1.2 x (b) + 2 s "
        f"= {goal:.2f} s: {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
