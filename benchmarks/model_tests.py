"""What model tests cost a commit: gitml's hook against the bare pytest run it wraps.

A ratio benchmark, not a timed test. Run it as a script:

    /work/venv/bin/python benchmarks/model_tests.py [--rounds 5] [--keep]

It builds the example project (tests/conftest.build_example: tests/model + the gate
`accuracy >= 0.9`), retrains with another n_estimators, stages it, and times, interleaved:

  (a) the pre-commit hook's slow path (`python -m gitml hook pre-commit`) with the per-clone
      test cache emptied before each run: the model's tests and gates run;
  (p) the pytest command gitml runs (plugin-only PYTHONPATH, same inputs JSON), directly on the
      workspace tests (as gitml does, in place);
  (c) the hook again with the cache kept (a re-commit of the same model: pytest is not run);
  (n) the hook on the same staged state with `tests:`/`gates:` removed from gitml.yaml: the
      slow path without model tests, so (c) - (n) is what a cache hit adds.

Goals: median(a) <= 1.2 * median(p) + 0.3 s, and median(c) - median(n) <= 50 ms. Exit 0 when
both hold, else 1.
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

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

import conftest  # tests/conftest.py: build_example, isolate_environment

from gitml import testrunner


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def hook(root: Path) -> None:
    # The hook stages gitml.lock; put the index back so every round sees the same state.
    subprocess.run([sys.executable, "-m", "gitml", "hook", "pre-commit"], cwd=root, check=True,
                   capture_output=True)  # fmt: skip


def direct_pytest(root: Path, tmp: Path) -> Callable[[], None]:
    """The pytest command modeltests runs, with the same kind of inputs, built once."""
    import yaml

    lock = yaml.safe_load((root / "gitml.lock").read_text())["models"]["model/model.pkl"]
    dvc_lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    md5s = {o["path"]: o["md5"] for s in dvc_lock.values() for o in s.get("outs", [])}

    def obj(md5: str) -> str:
        return str(root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:])

    plugin = tmp / "plugin" / "gitml"
    testrunner.install_plugin(plugin.parent)
    inputs = {
        "model": {"path": "model/model.pkl", "file": obj(lock["md5"]), "md5": lock["md5"],
                  "hash": "md5", "format": "pickle"},
        "data": {p: obj(m) for p, m in md5s.items() if p.startswith("data/")},
        "metrics": lock["metrics"], "params": {}, "baseline": None,
        "results": str(tmp / "results.json"),
    }  # fmt: skip
    (tmp / "inputs.json").write_text(json.dumps(inputs))
    env = {**os.environ, "GITML_INPUTS": str(tmp / "inputs.json"), "PYTHONPATH": str(plugin.parent)}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:gitml", "-p", "gitml.pytest_plugin",
           "-p", "no:cacheprovider", "-q", "--no-header", "tests/model"]  # fmt: skip

    def run() -> None:
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)

    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="timed runs of each variant")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    opts = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="gitml-bench-modeltests-"))
    try:
        conftest.isolate_environment(base / "home", "gitml benchmark")
        ex = conftest.build_example(base / "example")
        ex.set_param("n_estimators: 3", "n_estimators: 4")
        assert ex.gitml("repro").returncode == 0
        ex.git("add", "-A")
        cache = ex.root / ".git" / "gitml" / testrunner.CACHE_DIR
        hook(ex.root)  # warm: writes gitml.lock with this model's metrics
        pytest_run = direct_pytest(ex.root, base / "direct")
        config = (ex.root / "gitml.yaml").read_text()
        bare = "\n".join(
            line for line in config.splitlines()
            if not line.strip().startswith(("tests:", "gates:", "- accuracy"))
        ) + "\n"  # fmt: skip

        def uncached() -> None:
            shutil.rmtree(cache, ignore_errors=True)
            hook(ex.root)

        times: dict[str, list[float]] = {"a": [], "p": [], "c": [], "n": []}
        fns = {"a": uncached, "p": pytest_run, "c": lambda: hook(ex.root), "n": lambda: None}
        for _ in range(opts.rounds):
            for key, fn in fns.items():
                if key == "n":
                    (ex.root / "gitml.yaml").write_text(bare)
                    ex.git("add", "gitml.yaml")
                    times[key].append(timed(lambda: hook(ex.root)))
                    (ex.root / "gitml.yaml").write_text(config)
                    ex.git("add", "gitml.yaml")
                else:
                    times[key].append(timed(fn))
        med = {k: statistics.median(v) for k, v in times.items()}
        labels = {
            "a": "hook, model changed, tests run",
            "p": "the same pytest, directly",
            "c": "hook, cache hit (re-commit)",
            "n": "hook, no model tests configured",
        }
        for k, label in labels.items():
            print(f"({k}) {label:34s} median {med[k] * 1000:7.0f} ms")
        goal_a = 1.2 * med["p"] + 0.3
        added = med["c"] - med["n"]
        ok_a, ok_c = med["a"] <= goal_a, added <= 0.05
        print(f"(a) <= 1.2 x (p) + 0.3 s = {goal_a * 1000:.0f} ms: {'yes' if ok_a else 'NO'}")
        print(f"(c) - (n) = {added * 1000:+.0f} ms <= +50 ms: {'yes' if ok_c else 'NO'}")
        return 0 if ok_a and ok_c else 1
    finally:
        if opts.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
