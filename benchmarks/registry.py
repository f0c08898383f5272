"""`gitml registry --json` over 1,000 versions and 5,000 tags, against `gto show --json`.

Builds a repository with `git fast-import`: 1,000 commits, 10 models with 100 versions each
(`NAME@vX.Y.Z`, annotated as GTO makes them) and 400 stage events each (`NAME#STAGE#N`
assignments and `NAME#STAGE!#N` unassignments over four stages), 5,000 annotated tags in all.
Then times both tools on it, interleaved round by round after one warm-up each, and prints the
medians and the ratio. Goal (issue 17): gitml ≤ 1 s and ≤ 0.5× `gto show`; gitml reads the
tags with one `git for-each-ref` call.

    python benchmarks/registry.py [--rounds 5] [--versions 100] [--models 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("dev", "staging", "qa", "production")
EPOCH = 1_700_000_000


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def fast_import_stream(models: int, versions: int) -> str:
    """One commit per version, then every tag (tagger dates increasing, as GTO orders them)."""
    config = "version: 1\nmodels:\n" + "".join(
        f"  - path: models/m{k}.pkl\n    name: model-{k}\n" for k in range(models)
    )
    out = []
    when = EPOCH
    for i in range(models * versions):
        out.append(f"commit refs/heads/main\nmark :{i + 1}\n")
        out.append(f"committer Bench <bench@x.org> {when + i} +0000\n")
        out.append(_data(f"version {i}"))
        if i == 0:
            out.append(f"M 100644 inline gitml.yaml\n{_data(config)}")
            out.append(f"M 100644 inline .dvc/config\n{_data('')}")  # a DVC project
        out.append(f"M 100644 inline VERSION\n{_data(str(i))}")
    when += models * versions
    n = 0

    def tag(name: str, mark: int, message: str) -> None:
        nonlocal n, when
        n += 1
        when += 1
        out.append(f"tag {name}\nfrom :{mark}\ntagger Bench <bench@x.org> {when} +0000\n")
        out.append(_data(message))

    for k in range(models):
        name = f"model-{k}"
        counter = 0
        for v in range(versions):
            mark = v * models + k + 1
            tag(f"{name}@v0.{v}.0", mark, f"Registering artifact {name} version v0.{v}.0")
            for s, stage in enumerate(STAGES):
                counter += 1
                if (v + s) % 4 == 3:  # now and then an unassignment instead of an assignment
                    tag(f"{name}#{stage}!#{counter}", mark, f"Unassigning stage {stage}")
                else:
                    tag(f"{name}#{stage}#{counter}", mark, f"Assigning stage {stage}")
    return "".join(out)


def build(base: Path, models: int, versions: int) -> Path:
    repo = base / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream = fast_import_stream(models, versions)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream.encode(), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True)
    return repo


def agree(ours: list[str], theirs: list[str], repo: Path) -> bool:
    """Both tools give each model the same latest version and the same version in each stage."""
    mine = json.loads(subprocess.run(ours, cwd=repo, capture_output=True, check=True).stdout)
    gto = json.loads(subprocess.run(theirs, cwd=repo, capture_output=True, check=True).stdout)
    seen = {
        row["model"]: (
            (row["latest"] or {}).get("version"),
            {stage: held["version"] for stage, held in row["stages"].items()},
        )
        for row in mine
    }
    return seen == {name: (doc["version"], doc["stage"]) for name, doc in gto.items()}


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--versions", type=int, default=100)
    args = parser.parse_args()
    gto = str(Path(sys.executable).with_name("gto"))
    ours = [sys.executable, "-m", "gitml", "registry", "--json"]
    theirs = [gto, "show", "--json"]
    with tempfile.TemporaryDirectory(prefix="gitml-bench-registry-") as tmp:
        repo = build(Path(tmp), args.models, args.versions)
        tags = subprocess.run(["git", "tag"], cwd=repo, capture_output=True, text=True).stdout
        print(f"{args.models * args.versions} versions, {len(tags.split())} tags")
        print("gitml and gto agree:", "yes" if agree(ours, theirs, repo) else "NO")
        mine, gtos = [], []
        for _ in range(args.rounds):
            mine.append(timed(ours, repo))
            gtos.append(timed(theirs, repo))
    a, b = statistics.median(mine), statistics.median(gtos)
    print(f"gitml registry --json: {a:.2f} s (median of {args.rounds})")
    print(f"gto show --json:       {b:.2f} s")
    print(f"ratio gitml / gto:     {a / b:.2f} (goal: <= 0.5, and gitml <= 1 s)")


if __name__ == "__main__":
    main()
