"""gitml at scale: a DVC-tracked directory of 20,000 files and a 1 GB CSV, against DVC.

A ratio benchmark, not a timed test: each gitml figure is printed beside the DVC command doing
the same job, in the same run, on the same repository. Run it as a script:

    /work/venv/bin/python benchmarks/scale.py [--files 20000] [--csv-mb 1024] [--rounds 3] [--keep]

It builds the example project (tests/conftest.build_example), adds `data/shards` (the files,
deterministic, 500 to a subdirectory) with `dvc add`, commits it through gitml's hooks, then times:

  (1) the no-op pre-commit hook (README.md staged) vs `dvc git-hook pre-commit` (DVC's own hook,
      which runs `dvc status`), both executed with the environment git gives a hook;
  (2) gitml's hook on its slow path with the directory unchanged (a comment in dvc.yaml staged)
      vs `dvc status`: goal <= 0.5x;
  (3) `gitml validate` of the CSV (generated, deterministic): time and peak RSS of the process
      (os.wait4), goal < 3 GB, with `max_bytes` above the file (and `gitml suite init` of it);
      and the refusal with `max_bytes` under the file's size, before anything is read;
  (4) `gitml restore` of the deleted directory vs `dvc checkout data/shards.dvc`.

Exit status: 0 when (2) <= 0.5x and (3) stays under 3 GB, else 1.
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
sys.path.insert(0, str(PROJECT / "benchmarks"))

import conftest  # tests/conftest.py: build_example, isolate_environment
from hook_noop import hook_environment  # the environment git gives a pre-commit hook
from test_scale import add_data_entry, shard_files, write_csv, write_files

UNCHANGED_GOAL = 0.5
MEMORY_GOAL = 3 * 2**30


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}")
    return elapsed


def run_measured(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, float, int, str]:
    """(exit code, seconds, peak RSS in bytes, stderr) of one process, measured with os.wait4."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode(errors="replace")
    return proc.returncode, elapsed, usage.ru_maxrss * 1024, text


def rounds(runners: dict[str, Callable[[], float]], n: int) -> dict[str, list[float]]:
    for run in runners.values():
        run()  # one untimed warm-up each
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(n):
        for name, run in runners.items():
            times[name].append(run())
    return times


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms" if seconds < 10 else f"{seconds:9.2f} s "


def line(label: str, samples: list[float]) -> str:
    return (
        f"  {label:<44}{fmt(statistics.median(samples))}   "
        f"(min {fmt(min(samples)).strip()}, max {fmt(max(samples)).strip()})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20_000, help="files in the directory")
    parser.add_argument("--csv-mb", type=int, default=1024, help="CSV size in MiB (0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per hook (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="gitml-bench-scale-"))
    try:
        return bench(base, args.files, args.csv_mb, args.rounds)
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def bench(base: Path, nfiles: int, csv_mb: int, n: int) -> int:
    conftest.isolate_environment(base / "home", "gitml bench")
    py = sys.executable
    t0 = time.perf_counter()
    ex = conftest.build_example(base)
    print(f"built the example repo in {time.perf_counter() - t0:.1f} s ({ex.root})")

    shards = ex.root / "data" / "shards"
    files = shard_files(nfiles)
    t0 = time.perf_counter()
    write_files(shards, files)
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex.dvc("add", "-q", "data/shards")
    dvc_add = time.perf_counter() - t0
    add_data_entry(ex, {"path": "data/shards"})
    ex.git("add", "data/shards.dvc", "data/.gitignore", "gitml.yaml")
    t0 = time.perf_counter()
    ex.git("commit", "-q", "-m", f"{nfiles} shards")
    first_commit = time.perf_counter() - t0
    print(
        f"data/shards: {nfiles} files written in {made:.1f} s, `dvc add` {dvc_add:.1f} s, "
        f"first `git commit` through gitml's hooks (hashes every file once) {first_commit:.1f} s"
    )

    ours = [str(ex.root / ".git" / "hooks" / "pre-commit")]
    dvc_hook = [py, "-m", "dvc", "git-hook", "pre-commit"]
    dvc_status = [py, "-m", "dvc", "status", "-q"]

    # (1) no-op: README.md staged
    with open(ex.root / "README.md", "a") as f:
        f.write("\nA line that gitml does not watch.\n")
    ex.git("add", "README.md")
    env = {k: v for k, v in hook_environment(ex.root).items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
    noop = rounds(
        {
            "(1) gitml pre-commit, no-op": lambda: run_timed(ours, ex.root, env),
            "    dvc git-hook pre-commit": lambda: run_timed(dvc_hook, ex.root, env),
        },
        n,
    )
    ex.git("commit", "-q", "-m", "docs")

    # (2) the slow path with the directory unchanged: a comment in dvc.yaml staged
    with open(ex.root / "dvc.yaml", "a") as f:
        f.write("# a comment: dvc.yaml is watched, the hook takes gitml's slow path\n")
    ex.git("add", "dvc.yaml")  # the hook environment captured for (1) serves here too
    unchanged = rounds(
        {
            "(2) gitml pre-commit, directory unchanged": lambda: run_timed(ours, ex.root, env),
            "    dvc status": lambda: run_timed(dvc_status, ex.root, env),
        },
        n,
    )
    ex.git("commit", "-q", "-m", "comment")

    # (4) restore of the deleted directory vs dvc checkout: n rounds, which of the two runs
    # first alternating, each after the deletion is written out (os.sync): otherwise a run pays
    # for the writeback of the deletion and of the run before it (one round of gitml's restore
    # took 10 s, the next 41 s, with gitml always first)
    restore_t: list[float] = []
    checkout_t: list[float] = []

    def restored_by(cmd: list[str]) -> float:
        shutil.rmtree(shards)
        os.sync()
        took = run_timed(cmd, ex.root)
        assert sum(1 for p in shards.rglob("*") if p.is_file()) == nfiles
        return took

    pair = [
        ([py, "-m", "gitml", "restore"], restore_t),
        ([py, "-m", "dvc", "checkout", "-q", "data/shards.dvc"], checkout_t),
    ]
    for i in range(max(1, n)):
        for cmd, times in pair if i % 2 == 0 else pair[::-1]:
            times.append(restored_by(cmd))
    sample = next(iter(files))
    assert (shards / sample).read_bytes() == files[sample]

    # (3) the big CSV
    validation: dict[str, float] = {}
    refusal: tuple[int, float, str] | None = None
    suite_init: tuple[float, int] | None = None
    if csv_mb:
        csv = ex.root / "data" / "big.csv"
        t0 = time.perf_counter()
        rows = write_csv(csv, csv_mb * 2**20)
        size = csv.stat().st_size
        print(
            f"data/big.csv: {size / 2**20:.0f} MiB, {rows} rows, "
            f"written in {time.perf_counter() - t0:.1f} s"
        )
        ex.dvc("add", "-q", "data/big.csv")
        entry = {"path": "data/big.csv", "suite": ".gitml/suites/big.json"}
        add_data_entry(ex, {**entry, "max_bytes": size + 2**20})
        rc, secs, rss, err = run_measured(
            [py, "-m", "gitml", "suite", "init", "data/big.csv"], ex.root
        )
        if rc != 0:
            raise SystemExit(f"gitml suite init exited {rc}:\n{err}")
        suite_init = (secs, rss)
        # the refusal before the run that passes (a cached result would answer before the limit)
        add_data_entry(ex, {**entry, "max_bytes": size // 2})
        rc, secs, rss, err = run_measured([py, "-m", "gitml", "validate", "data/big.csv"], ex.root)
        refusal = (rc, secs, " ".join(err.split()))
        add_data_entry(ex, {**entry, "max_bytes": size + 2**20})
        rc, secs, rss, err = run_measured([py, "-m", "gitml", "validate", "data/big.csv"], ex.root)
        if rc not in (0, 1):
            raise SystemExit(f"gitml validate exited {rc}:\n{err}")
        validation = {"rc": rc, "seconds": secs, "rss": rss, "size": size}

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nmedians of {n} interleaved rounds, {os.cpu_count()} CPUs (load average {load}), "
        f"python {sys.version.split()[0]}, {nfiles} files in data/shards:"
    )
    for label, samples in {**noop, **unchanged}.items():
        print(line(label, samples))
    a, b = (statistics.median(v) for v in noop.values())
    print(f"  no-op ratio gitml/dvc hook: {a / b:.3f} (1/{b / a:.0f})")
    c, d = (statistics.median(v) for v in unchanged.values())
    ok_unchanged = c / d <= UNCHANGED_GOAL
    print(
        f"  unchanged-directory ratio gitml/dvc status: {c / d:.3f} "
        f"(goal <= {UNCHANGED_GOAL}: {'met' if ok_unchanged else 'MISSED'})"
    )
    print(line("(4) gitml restore, directory deleted", restore_t))
    print(line("    dvc checkout data/shards.dvc", checkout_t))
    ratio = statistics.median(restore_t) / statistics.median(checkout_t)
    print(f"  restore ratio gitml/dvc checkout: {ratio:.2f}")
    ok_memory = True
    if validation:
        peak = validation["rss"]
        ok_memory = peak < MEMORY_GOAL
        print(
            f"  (3) gitml validate, {validation['size'] / 2**20:.0f} MiB CSV (max_bytes above it): "
            f"{validation['seconds']:.1f} s, peak RSS {peak / 2**30:.2f} GiB "
            f"(goal < 3 GiB: {'met' if ok_memory else 'MISSED'}), exit {int(validation['rc'])}"
        )
    if suite_init:
        print(
            f"      gitml suite init of it: {suite_init[0]:.1f} s, "
            f"peak RSS {suite_init[1] / 2**30:.2f} GiB"
        )
    if refusal:
        rc, secs, text = refusal
        print(
            f"      with max_bytes = half its size: exit {rc} in {secs * 1000:.0f} ms: "
            f"{text[:150]}…"
        )
    return 0 if ok_unchanged and ok_memory else 1


if __name__ == "__main__":
    raise SystemExit(main())
