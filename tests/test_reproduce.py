"""`gitml reproduce`: real git worktrees, real `dvc repro`, the example pipeline."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import Example, dvc, git

from gitml import environment
from gitml.reproduce import compare_metrics, environment_differences

# The CLI entry point calls commands.reproduce.reproduce; this runs it the same way, in a child.
_WRAPPER = """
import sys
from pathlib import Path
from gitml.commands.reproduce import reproduce
from gitml.error_handler import handled, Exit
a = sys.argv[1:]
opt = lambda name: a[a.index(name) + 1] if name in a else None
rev = a[0] if a and not a[0].startswith("-") else None
code = 0
try:
    with handled():
        out = opt("--out")
        code = reproduce(rev, Path(out) if out else None, opt("--env") or "current",
                         "--keep" in a, "--twice" in a, "--json" in a)
except Exit as e:
    code = e.code
sys.exit(code)
"""


def reproduce(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WRAPPER, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def state(ex: Example) -> dict[str, object]:
    """Everything reproduce must leave as it was."""
    root = ex.root
    files = {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, md5(p))
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).as_posix().startswith(".git/")
    }
    return {
        "files": files,
        "index": ex.git("ls-files", "-s").stdout,
        "head": ex.head(),
        "worktrees": ex.git("worktree", "list", "--porcelain").stdout,
        "status": ex.git("status", "--porcelain").stdout,
        "refs": ex.git("for-each-ref").stdout,
    }


def test_head_reproduces_identical_and_touches_nothing(example: Example, tmp_path: Path) -> None:
    before = state(example)
    out = tmp_path / "rebuilt"
    res = reproduce("--json", "--out", out, cwd=example.root)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) == {"rev", "verdict", "models", "diagnosis", "seconds"}
    assert doc["rev"] == example.head() and doc["verdict"] == "identical"
    assert doc["diagnosis"] == []
    [model] = doc["models"]
    assert set(model) == {"path", "recorded_md5", "rebuilt_md5", "metrics", "verdict"}
    recorded = yaml.safe_load(example.show_file("HEAD", "gitml.lock"))["models"]["model/model.pkl"]
    assert model["path"] == "model/model.pkl" and model["verdict"] == "identical"
    assert model["recorded_md5"] == model["rebuilt_md5"] == recorded["md5"]
    assert model["metrics"]["accuracy"]["rebuilt"] == recorded["metrics"]["accuracy"]
    assert model["metrics"]["accuracy"]["within"] is True
    assert md5(out / "model" / "model.pkl") == recorded["md5"]
    assert state(example) == before  # worktree bytes, index, HEAD, worktrees, cache files


def test_a_commit_without_gitml_lock_is_refused(example: Example) -> None:
    example.git("checkout", "-q", "--orphan", "old")
    example.git("rm", "-q", "--cached", "gitml.lock")
    example.git("commit", "-qm", "no lock", env={"GITML_SKIP": "1"})
    res = reproduce(cwd=example.root)
    assert res.returncode == 2
    assert "has no gitml.lock" in res.stderr
    res = reproduce("no-such-rev", cwd=example.root)
    assert res.returncode == 2 and "unknown revision" in res.stderr


def test_a_fresh_clone_reproduces_with_objects_from_the_remote(
    example: Example, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(example.root), str(clone), cwd=tmp_path)
    dvc("remote", "modify", "--local", "local", "url", str(example.remote), cwd=clone)
    assert not (clone / ".dvc" / "cache").exists() or not any(
        (clone / ".dvc" / "cache").rglob("*.*")
    )
    res = reproduce(cwd=clone)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "identical"
    assert "model/model.pkl\tidentical" in res.stdout
    assert git("worktree", "list", "--porcelain", cwd=clone).stdout.count("worktree ") == 1
    assert git("status", "--porcelain", cwd=clone).stdout == ""


def test_a_faked_record_is_diagnosed(example: Example) -> None:
    """Recorded md5 and scikit-learn version that this machine cannot match: diagnosed."""
    lock = yaml.safe_load((example.root / "gitml.lock").read_text())
    model = lock["models"]["model/model.pkl"]
    model["md5"] = "0" * 32
    env = lock["environments"][model["environment"]]
    env["packages"]["scikit-learn"] = "0.0.1"
    env["seeds"]["params.yaml:train.seed"] = None
    (example.root / "gitml.lock").write_text(yaml.safe_dump(lock, sort_keys=True))
    train = example.root / "src" / "train.py"  # code changed without `dvc repro`: other md5
    train.write_text(train.read_text() + "\n# a comment changes the md5, not the model\n")
    example.git("commit", "-qam", "faked record", env={"GITML_SKIP": "1"})
    res = reproduce("--twice", "--json", cwd=example.root)
    # other bytes, same metrics: within reproduce.tolerance
    assert res.returncode == 3, res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "equivalent"
    assert doc["models"][0]["verdict"] == "equivalent"
    details = [(d["kind"], d["detail"]) for d in doc["diagnosis"]]
    assert (
        "packages",
        "changed: scikit-learn 0.0.1 -> "
        + environment.capture(sys.executable, example.root)["packages"]["scikit-learn"],
    ) in details
    assert ("seed", "seed not set: params.yaml:train.seed") in details
    assert ("deterministic", "two rebuilds here are identical to each other") in details
    code = [d for k, d in details if k == "code"]
    assert len(code) == 1 and code[0].startswith("src/train.py: recorded ")
    kinds = [k for k, _ in details]
    assert kinds[0] == "code"  # inputs first: the likeliest cause
    assert kinds.index("seed") < kinds.index("packages")


def test_a_failing_stage_exits_2_and_keeps_the_worktree(example: Example) -> None:
    train = example.root / "src" / "train.py"
    train.write_text("raise SystemExit('boom: training is broken')\n")
    example.git("commit", "-qam", "broken", env={"GITML_SKIP": "1"})
    res = reproduce(cwd=example.root)
    assert res.returncode == 2
    assert "boom: training is broken" in res.stderr
    kept = re.search(r"the worktree is kept at (\S+)", res.stderr)
    assert kept, res.stderr
    wt = Path(kept.group(1))
    assert wt.is_dir() and str(wt) in example.git("worktree", "list").stdout
    example.git("worktree", "remove", "--force", str(wt))
    shutil.rmtree(wt.parent)  # gitml-reproduce-XXXX: the kept worktree's private DVC cache


def test_environment_differences_on_captured_data(example: Example) -> None:
    now = environment.capture(sys.executable, example.root)
    assert environment_differences(now, now) == []
    old = json.loads(json.dumps(now))
    old["python"] = "3.8.0"
    old["packages"]["numpy"] = "1.0.0"
    del old["packages"]["pandas"]
    old["packages"]["left-pad"] = "1.0"
    old["hardware"]["cpu"] = "Some Other CPU"
    found = environment_differences(old, now)
    kinds = [d["kind"] for d in found]
    assert kinds[0] == "python"
    text = "\n".join(d["detail"] for d in found)
    assert f"numpy 1.0.0 -> {now['packages']['numpy']}" in text
    assert "missing now: left-pad 1.0" in text
    assert f"not recorded: pandas {now['packages']['pandas']}" in text
    assert "cpu Some Other CPU recorded" in text
    assert environment_differences(None, now)[0]["kind"] == "environment"


def test_compare_metrics_tolerance() -> None:
    table, ok = compare_metrics(
        {"accuracy": 0.97, "f1": 0.9}, {"accuracy": 0.968, "f1": 0.5}, {"accuracy": 0.005}
    )
    assert ok and table["accuracy"]["within"] is True and table["f1"]["within"] is None
    _, ok = compare_metrics({"accuracy": 0.97}, {"accuracy": 0.96}, {"accuracy": 0.005})
    assert not ok
    _, ok = compare_metrics({"accuracy": 0.97}, None, {"accuracy": 0.005})
    assert not ok
    _, ok = compare_metrics({"accuracy": 0.97}, {"accuracy": 0.97}, {})
    assert not ok  # no tolerance declared: other bytes are `different`
