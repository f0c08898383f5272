"""`gitml log` over 1,000 commits that each change gitml.lock, against `git log --oneline`.

Builds the repo with `git fast-import` (each gitml.lock as gitml writes it: a model whose md5 and
metrics change every commit, a dataset, an environment block of 150 packages that changes every
100 commits), then prints seconds (best of 3) and the ratio. Goal: gitml log ≤ 2 s.

    python benchmarks/log.py [--commits N]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gitml.fileio import dump_yaml

CONFIG = """version: 1
data:
  - path: data/wine.csv
models:
  - path: model/model.pkl
    name: wine-classifier
    metrics: metrics.json
"""


def lock_text(i: int) -> str:
    h = lambda s: hashlib.md5(s.encode()).hexdigest()
    env_key = h(f"env{i // 100}")[:16]
    env = {
        "captured": "build",
        "python": "3.11.7",
        "platform": "linux-x86_64",
        "hardware": {"cpu": "AMD EPYC", "gpu": None},
        "packages": {f"package-{k}": f"1.{k}.{i // 100}" for k in range(150)},
        "seeds": {"params.yaml:train.seed": 42},
    }
    body = {
        "config_sha256": h("config") * 2,
        "data": {
            "data/wine.csv": {
                "hash": "md5",
                "md5": h("data"),
                "nfiles": None,
                "size": 11298,
                "source": None,
                "stage": None,
                "stale": False,
                "suite": None,
                "suite_sha256": None,
            }
        },
        "environments": {env_key: env},
        "models": {
            "model/model.pkl": {
                "environment": env_key,
                "format": "pickle",
                "gates": [{"baseline": None, "passed": True, "rule": "accuracy >= 0.5"}],
                "hash": "md5",
                "inputs": {
                    "data/prepared/train.csv": h("train"),
                    "params.yaml:train": {"max_depth": 2, "n_estimators": i, "seed": 42},
                    "src/train.py": h("code"),
                },
                "md5": h(f"model{i}"),
                "metrics": {"accuracy": round(0.8 + (i % 97) / 1000, 6), "f1": 0.9},
                "size": 4000 + i,
                "stage": "train",
                "stale": False,
                "tests": {"failed": 0, "passed": 2, "hash": h("tests") * 2},
            }
        },
    }
    return "schema: gitml.lock/1\n" + dump_yaml(body)


def build(root: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".dvc").mkdir()
    stream = []
    for i in range(commits):
        files = {"gitml.lock": lock_text(i)}
        if i == 0:
            files["gitml.yaml"] = CONFIG
            files[".dvc/config"] = ""
        msg = f"model version {i}\n"
        stream.append(f"commit refs/heads/main\nmark :{i + 1}\n")
        stream.append(f"committer Bench <b@example.invalid> {1_700_000_000 + i * 60} +0000\n")
        stream.append(f"data {len(msg.encode())}\n{msg}")
        if i:
            stream.append(f"from :{i}\n")
        for path, text in files.items():
            data = text.encode()
            stream.append(f"M 100644 inline {path}\ndata {len(data)}\n")
            stream.append(text + "\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=root, input="".join(stream).encode(), check=True
    )
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def best(cmd: list[str], cwd: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitml-bench-log-") as tmp:
        root = Path(tmp) / "repo"
        build(root, args.commits)
        out = subprocess.run(  # noqa: PLW1510 (the return code is asserted)
            [sys.executable, "-m", "gitml", "log", "--json"], cwd=root, capture_output=True
        )
        rows = out.stdout.count(b'"commit":')
        assert out.returncode == 0 and rows == args.commits, (out.returncode, rows, out.stderr)
        git_s = best(["git", "log", "--oneline"], root)
        log_s = best([sys.executable, "-m", "gitml", "log"], root)
        json_s = best([sys.executable, "-m", "gitml", "log", "--json"], root)
        print(f"commits: {args.commits} (each changes gitml.lock; {rows} model versions)")
        print(f"git log --oneline   {git_s:.3f} s")
        print(f"gitml log           {log_s:.3f} s  ratio {log_s / git_s:.0f}x")
        print(f"gitml log --json    {json_s:.3f} s  ratio {json_s / git_s:.0f}x")
        print(f"goal: gitml log <= 2 s: {'met' if log_s <= 2.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
