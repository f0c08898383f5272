"""`gitml reproduce`: real git worktrees, real `dvc repro`, the example pipeline."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import Example, dvc, git, run_in_terminal

from gitml import environment
from gitml.diagnosis import environment_differences
from gitml.locked_env import locked_env, locked_env_key, locked_requirements
from gitml.lockfile import Environment
from gitml.records import read_record
from gitml.model_comparison import compare_metrics

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


def reproduce_cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-c", _WRAPPER, *map(str, args)]


def reproduce(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        reproduce_cmd(*args),
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
    # DVC's output passes, but not its advice for the temporary worktree (wrong for the
    # user's repository); with --json, no step lines either
    assert "Running stage 'train'" in res.stderr
    for advice in ("git add", "To track the changes", "autostage", "dvc push"):
        assert advice not in res.stderr, res.stderr
    assert "temporary worktree" not in res.stderr


@pytest.mark.slow  # a second rebuild (test_head_reproduces... is the fast one)
def test_a_terminal_sees_each_step_and_the_stage_running(example: Example) -> None:
    code, seen = run_in_terminal(reproduce_cmd(), example.root)
    assert code == 0, seen
    steps = [
        f"gitml: checking out {example.head()[:12]} into a temporary worktree",
        "gitml: giving it a DVC cache of its own, fed from yours, and your DVC remotes",
        "gitml: fetching the pipeline's inputs from the DVC cache or remote",
        "gitml: rebuilding train, evaluate (dvc repro)",
        "gitml: comparing the rebuilt models with gitml.lock",
        "gitml: removing the temporary worktree",
    ]
    at = [seen.find(step) for step in steps]
    assert -1 not in at and at == sorted(at), seen  # each step, in order
    assert "stage train running" in seen  # the status names the stage DVC runs
    assert "git add" not in seen and "dvc push" not in seen


def test_a_commit_without_gitml_lock_is_refused(example: Example) -> None:
    example.git("checkout", "-q", "--orphan", "old")
    example.git("rm", "-q", "--cached", "gitml.lock")
    example.git("commit", "-qm", "no lock", env={"GITML_SKIP": "1"})
    res = reproduce(cwd=example.root)
    assert res.returncode == 2
    assert "has no gitml.lock" in res.stderr
    res = reproduce("no-such-rev", cwd=example.root)
    assert res.returncode == 2 and "unknown revision" in res.stderr


@pytest.mark.slow
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


@pytest.mark.slow
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
    assert not (wt.parent / "owner.lock").exists()  # kept for inspection: no run cleans it
    example.git("worktree", "remove", "--force", str(wt))
    shutil.rmtree(wt.parent)  # gitml-reproduce-XXXX: the kept worktree's private DVC cache


def test_environment_differences_on_captured_data(example: Example) -> None:
    now = environment.capture(sys.executable, example.root)
    assert environment_differences(read_record(Environment, now), now) == []
    old = json.loads(json.dumps(now))
    old["python"] = "3.8.0"
    old["packages"]["numpy"] = "1.0.0"
    del old["packages"]["pandas"]
    old["packages"]["left-pad"] = "1.0"
    old["hardware"]["cpu"] = "Some Other CPU"
    found = environment_differences(read_record(Environment, old), now)
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


def reproduce_worktrees(ex: Example) -> list[Path]:
    listing = ex.git("worktree", "list", "--porcelain").stdout
    return [Path(line[9:]) for line in listing.splitlines() if "gitml-reproduce-" in line]


def _kill_groups_working_in(directory: Path) -> None:
    """SIGKILL the process groups of the processes whose working directory is in `directory`."""
    for entry in Path("/proc").iterdir():
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            if entry.name.isdigit() and cwd.is_relative_to(directory):
                os.killpg(os.getpgid(int(entry.name)), signal.SIGKILL)
        except OSError:
            continue


@pytest.mark.slow
def test_a_killed_run_is_cleaned_by_the_next(example: Example, tmp_path: Path) -> None:
    before = state(example)
    log = tmp_path / "killed.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen(
            reproduce_cmd(), cwd=example.root, stdout=f, stderr=f, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        wts: list[Path] = []
        while time.monotonic() < deadline and proc.poll() is None:
            wts = reproduce_worktrees(example)
            if wts and (wts[0] / "data" / "wine.csv").exists():  # inputs in: rebuilding
                break
            time.sleep(0.05)
        assert wts and proc.poll() is None, log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for wt in wts:  # the rebuild, in a session of its own, outlives a kill -9 of gitml
            _kill_groups_working_in(wt)
    [wt] = wts
    assert wt.is_dir() and (wt.parent / "owner.lock").is_file()  # what a kill -9 leaves
    # a worktree kept by --keep or a failed stage has no owner file: never cleaned
    kept = tmp_path / "gitml-reproduce-kept" / "wt"
    example.git("worktree", "add", "-q", "--detach", str(kept))
    res = reproduce(cwd=example.root)
    assert res.returncode == 0, res.stderr
    assert f"removed 1 leftover worktree(s) of an interrupted `gitml reproduce`: {wt}" in res.stderr
    assert not wt.parent.exists()
    assert reproduce_worktrees(example) == [kept]
    example.git("worktree", "remove", "--force", str(kept))
    assert state(example) == before


@pytest.mark.slow
def test_two_runs_at_once_do_not_collide(example: Example, tmp_path: Path) -> None:
    before = state(example)
    procs = [
        subprocess.Popen(
            reproduce_cmd(), cwd=example.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()
        assert out.decode().strip().splitlines()[-1] == "identical"
        assert b"leftover" not in err  # the other run's worktree is live: never cleaned
    assert reproduce_worktrees(example) == []
    assert state(example) == before


# A stage that starts a child of its own, says both pids (written whole: renamed into place), and
# waits: the rebuild is then mid-stage, with two processes in DVC's group.
_WAITING_STAGE = """
import os, subprocess, sys
from pathlib import Path
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
out = Path(os.environ["STAGE_PIDS"])
out.with_suffix(".tmp").write_text(f"{os.getpid()} {child.pid}")
out.with_suffix(".tmp").rename(out)
child.wait()
"""


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a live process; None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def _alive_in_group(group: int) -> list[int]:
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _proc_stat(int(entry.name))
            if st is not None and st[1] == group and st[0] != "Z":  # a zombie has ended
                alive.append(int(entry.name))
    return alive


@pytest.mark.parametrize(
    "sig",
    [
        signal.SIGTERM,
        pytest.param(signal.SIGINT, marks=pytest.mark.slow),  # Ctrl-C (to gitml alone: see below)
        pytest.param(signal.SIGHUP, marks=pytest.mark.slow),  # the terminal closed
    ],
)
def test_a_signal_ends_the_rebuild_and_removes_its_worktree(
    example: Example, tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGTERM (or Ctrl-C, a hang-up) to gitml mid-stage: DVC and the stage's processes end,
    the worktree goes, one message. A terminal's Ctrl-C goes to its foreground group, which the
    rebuild is not in (a session of its own): gitml ends it, as here."""
    (example.root / "src" / "prepare.py").write_text(_WAITING_STAGE)
    example.git("commit", "-qam", "a stage that waits", env={"GITML_SKIP": "1"})
    before = state(example)
    pids_file = tmp_path / "stage.pids"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitml", "reproduce"],
        cwd=example.root,
        env={**os.environ, "STAGE_PIDS": str(pids_file)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stage_pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not pids_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pids_file.exists(), proc.communicate(timeout=60)[1] if proc.poll() else "no stage"
        stage_pids = [int(p) for p in pids_file.read_text().split()]
        [wt] = reproduce_worktrees(example)
        group = _proc_stat(stage_pids[0])
        assert group is not None
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + sig, err
        assert err.strip().splitlines()[-1] == (
            f"gitml: interrupted ({sig.name}): the rebuild was stopped (DVC and the stages' "
            "processes ended) and its temporary worktree removed; nothing of yours was changed"
        ), err
        assert "Traceback" not in err
        assert [p for p in stage_pids if (_proc_stat(p) or ("Z",))[0] != "Z"] == []
        assert _alive_in_group(group[1]) == []
        assert reproduce_worktrees(example) == [] and not wt.parent.exists()
        assert state(example) == before
    finally:  # on failure: end what a broken gitml left running (never the test's own group)
        for pid in stage_pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_object_missing_everywhere_is_named_with_its_commit(example: Example) -> None:
    data = yaml.safe_load((example.root / "data" / "wine.csv.dvc").read_text())
    obj = data["outs"][0]["md5"]
    for root in (example.root / ".dvc" / "cache", example.remote):
        found = list((root / "files" / "md5" / obj[:2]).glob(obj[2:]))
        assert found, root
        found[0].unlink()
    first = example.head()
    example.git("commit", "-q", "--allow-empty", "-m", "later", env={"GITML_SKIP": "1"})
    before = state(example)
    res = reproduce(cwd=example.root)
    assert res.returncode == 2, res.stderr
    assert re.search(
        rf"{obj} \(data/wine\.csv\): introduced by commit {first[:12]} \(first model\) "
        r"in data/wine\.csv\.dvc",
        res.stderr,
    ), res.stderr
    assert "Traceback" not in res.stderr
    assert reproduce_worktrees(example) == []
    assert state(example) == before


@pytest.mark.slow
def test_a_model_added_with_dvc_add_is_restorable_not_rebuildable(example: Example) -> None:
    shutil.copy(example.root / "model" / "model.pkl", example.root / "pretrained.pkl")
    example.dvc("add", "-q", "pretrained.pkl")
    config = example.root / "gitml.yaml"
    text = config.read_text()
    config.write_text(
        text.replace("reproduce:\n", "  - path: pretrained.pkl\n    name: pretrained\nreproduce:\n")
    )
    example.git("add", "-A")
    example.git("commit", "-q", "-m", "a pretrained model")  # through gitml's hooks
    res = reproduce("--json", cwd=example.root)  # one model rebuilt, the other named
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    verdicts = {m["path"]: (m["verdict"], m["rebuilt_md5"]) for m in doc["models"]}
    assert verdicts["model/model.pkl"][0] == "identical"
    assert verdicts["pretrained.pkl"] == ("not rebuildable", None)
    assert {
        "kind": "not-rebuilt",
        "detail": "pretrained.pkl is tracked by a .dvc file (dvc add): restorable, not rebuildable",
    } in doc["diagnosis"]

    # only dvc-added models: nothing to rebuild, exit 2 before any worktree is made
    doc = yaml.safe_load(config.read_text())
    doc["models"] = [m for m in doc["models"] if m["path"] == "pretrained.pkl"]
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    example.git("add", "-A")
    example.git("commit", "-q", "-m", "only the pretrained model")
    assert (
        "model/model.pkl" not in yaml.safe_load(example.show_file("HEAD", "gitml.lock"))["models"]
    )
    res = reproduce(cwd=example.root)
    assert res.returncode == 2, res.stderr
    assert "pretrained.pkl at " in res.stderr
    assert "tracked by .dvc files (dvc add), not produced by a dvc.yaml stage" in res.stderr
    assert "can be restored (`gitml restore HEAD`), not rebuilt" in res.stderr
    assert reproduce_worktrees(example) == []


def closure(*names: str) -> list[str]:
    """The installed distributions `names` need (their non-extra requirements, recursively)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(seen)


def test_locked_requirements() -> None:
    block = Environment(packages={"numpy": "2.4.6", "gitml": "0.1.0", "pip": "26.3", "Zed": "1"})
    assert locked_requirements(block) == ["Zed==1", "numpy==2.4.6"]
    assert locked_requirements(None) == []
    assert locked_env_key(["b==1", "a==2"]) == locked_env_key(["a==2", "b==1"])


@pytest.mark.slow
def test_env_locked_builds_once_and_reports_what_could_not_be_installed(tmp_path: Path) -> None:
    """A real but tiny case: one installable package, one that cannot be, gitml left out."""
    six = environment.capture(sys.executable, tmp_path)["packages"]["six"]
    block = Environment(packages={"six": six, "colorama": "0.0.0", "gitml": "9"})
    common = tmp_path / "git-common-dir"
    built = locked_env(common, sys.executable, block)
    assert not built.reused and built.requirements == ["colorama==0.0.0", f"six=={six}"]
    assert built.not_installed == {"colorama==0.0.0": "no matching distribution"}
    venv = Path(built.python).parent.parent
    assert venv == common / "gitml" / "venvs" / locked_env_key(built.requirements)[:16]
    packages = environment.capture(built.python, tmp_path)["packages"]
    assert packages == {"six": six}
    again = locked_env(common, sys.executable, block)  # the next run: reused, nothing installed
    assert again.reused and again.python == built.python
    assert again.not_installed == built.not_installed


@pytest.mark.slow  # installs the pipeline's packages into a fresh venv: 35-100 s here
def test_env_locked_rebuilds_in_a_venv_of_the_recorded_packages(example: Example) -> None:
    """The full record of this venv (~126 packages) takes ~90 s to install here, so the record
    is cut to what the example's stages import; the recorded md5 is faked so that the
    diagnosis shows which environment the rebuild ran in."""
    pipeline = closure("scikit-learn", "pandas", "pyyaml")
    lock = yaml.safe_load((example.root / "gitml.lock").read_text())
    model = lock["models"]["model/model.pkl"]
    env = lock["environments"][model["environment"]]
    recorded = env["packages"]
    env["packages"] = {k: recorded[k] for k in pipeline} | {"colorama": "0.0.0", "gitml": "9"}
    model["md5"] = "0" * 32
    (example.root / "gitml.lock").write_text(yaml.safe_dump(lock, sort_keys=True))
    example.git("commit", "-qam", "a small locked environment", env={"GITML_SKIP": "1"})
    res = reproduce("--env", "locked", "--json", cwd=example.root)
    assert res.returncode == 3, res.stderr  # other md5 (faked), same metrics: equivalent
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "equivalent"
    assert doc["environment"]["not_installed"] == {"colorama==0.0.0": "no matching distribution"}
    assert doc["environment"]["requirements"] == len(pipeline) + 1  # gitml is not installed
    assert "could not be installed: colorama==0.0.0 (no matching distribution)" in res.stderr
    details = [(d["kind"], d["detail"]) for d in doc["diagnosis"]]
    # the environment compared is the venv's: nothing but the recorded packages
    assert ("packages", "missing now: colorama 0.0.0") in details
    assert not [d for k, d in details if d.startswith(("not recorded", "changed"))], details
    res = reproduce("--env", "locked", cwd=example.root)
    assert res.returncode == 3 and "--env locked: reusing the venv" in res.stderr
