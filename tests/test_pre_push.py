"""The pre-push hook: fresh tips, and every DVC object of every pushed commit on the DVC remote.

Real git pushes to a real bare repository, through the native hooks `gitml init` installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import Example, git, gitml, run, run_in_terminal

from gitml import dvcconfig, dvcfiles
from gitml.push_objects import Collector, read_flags
from gitml.push_remote import push_with_dvc


@pytest.fixture
def ex(example: Example, tmp_path: Path) -> Example:
    """The example with a bare git remote `origin`; its DVC remote is `example.remote`."""
    remote = dvcconfig.read_config(example.root).remotes["local"]
    assert Path(remote).resolve() == example.remote.resolve()
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", origin, cwd=tmp_path)
    example.git("remote", "add", "origin", str(origin))
    return example


def push(
    ex: Example, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return ex.git("push", "-q", "origin", *args, check=False, env=env)


def remote_object(ex: Example, md5: str) -> Path:
    return ex.remote / "files" / "md5" / md5[:2] / md5[2:]


def cache_object(ex: Example, md5: str) -> Path:
    return ex.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def dvc_md5(ex: Example, rev: str, path: str) -> str:
    """The md5 dvc.lock (or PATH.dvc) records for `path` at `rev`."""
    if ex.git("cat-file", "-e", f"{rev}:{path}.dvc", check=False).returncode == 0:
        return str(yaml.safe_load(ex.show_file(rev, f"{path}.dvc"))["outs"][0]["md5"])
    lock = yaml.safe_load(ex.show_file(rev, "dvc.lock"))
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == path:
                return str(out["md5"])
    raise AssertionError(f"{path} not in dvc.lock at {rev}")


def add_data(ex: Example, *paths: str, env: dict[str, str] | None = None) -> list[str]:
    """`dvc add` files of random bytes (one DVC run) and commit them; returns their md5s."""
    md5s = []
    for path in paths:
        target = ex.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(os.urandom(256))
        md5s.append(md5_of(target))
    ex.dvc("add", "-q", *paths)
    ignores = {str(Path(p).parent / ".gitignore") for p in paths}
    ex.git("add", *[f"{p}.dvc" for p in paths], *ignores)
    ex.git("commit", "-q", "-m", f"add {' '.join(paths)}", env=env)
    return md5s


def remove(path: Path) -> None:
    path.chmod(stat.S_IWUSR | stat.S_IRUSR)
    path.unlink()


@pytest.mark.slow
def test_changed_model_stale_tip_then_pushed_and_restored_by_a_teammate(ex: Example) -> None:
    first = push(ex, "main")
    assert first.returncode == 0, first.stderr
    assert "pushed 0 DVC objects to remote 'local'" in first.stderr

    ex.set_param("n_estimators: 3", "n_estimators: 5")
    assert ex.gitml("repro").returncode == 0
    ex.git("add", "-A")
    ex.git("commit", "-q", "-m", "bigger forest, no gitml", env={"GITML_SKIP": "1"})
    model_md5 = dvc_md5(ex, "HEAD", "model/model.pkl")
    assert not remote_object(ex, model_md5).exists()

    stale = push(ex, "main")
    assert stale.returncode != 0
    assert "gitml.lock is stale at main" in stale.stderr
    assert "model/model.pkl" in stale.stderr and "gitml lock" in stale.stderr
    assert not remote_object(ex, model_md5).exists()  # refused before anything went up
    assert ex.git("ls-remote", "origin", "main").stdout.split()[0] != ex.head()

    assert ex.gitml("lock").returncode == 0
    ex.git("commit", "-q", "-m", "refresh gitml.lock")
    ok = push(ex, "main")
    assert ok.returncode == 0, ok.stderr
    assert "pushed 1 DVC object to remote 'local'" in ok.stderr
    obj = remote_object(ex, model_md5)
    assert obj.is_file() and md5_of(obj) == model_md5
    assert md5_of(ex.root / "model" / "model.pkl") == model_md5

    # A teammate: clone the git remote; the DVC remote comes with the committed .dvc/config.
    clone = ex.root.parent / "clone"
    origin = ex.git("remote", "get-url", "origin").stdout.strip()
    git("clone", "-q", origin, clone, cwd=ex.root.parent)
    restored = gitml("restore", cwd=clone)
    assert restored.returncode == 0, restored.stderr
    model = (clone / "model" / "model.pkl").read_bytes()
    assert model == (ex.root / "model" / "model.pkl").read_bytes()
    assert md5_of(clone / "data" / "wine.csv") == dvc_md5(ex, "HEAD", "data/wine.csv")


def test_missing_and_corrupt_objects_are_refused(ex: Example) -> None:
    [md5] = add_data(ex, "data/extra.bin")
    cached = cache_object(ex, md5)
    saved = cached.read_bytes()
    remove(cached)

    missing = push(ex, "main")
    assert missing.returncode != 0
    assert "neither the local cache nor the remote" in missing.stderr
    assert "data/extra.bin" in missing.stderr and md5 in missing.stderr
    assert ex.git("ls-remote", "origin").stdout == ""

    cached.write_bytes(b"not the bytes dvc hashed")
    corrupt = push(ex, "main")
    assert corrupt.returncode != 0
    assert "corrupt" in corrupt.stderr and "data/extra.bin" in corrupt.stderr
    assert not remote_object(ex, md5).exists()

    cached.write_bytes(saved)
    ok = push(ex, "main")
    assert ok.returncode == 0, ok.stderr
    assert remote_object(ex, md5).read_bytes() == saved


def test_no_dvc_remote_is_refused_with_the_list(ex: Example) -> None:
    config = ex.root / ".dvc" / "config"
    config.write_text("[core]\n    autostage = false\n")
    refused = push(ex, "main")
    assert refused.returncode != 0
    assert "no DVC remote is configured" in refused.stderr
    assert "dvc remote add -d NAME URL" in refused.stderr
    for path in ("model/model.pkl", "data/wine.csv", "data/prepared/train.csv"):
        assert path in refused.stderr
    assert ex.git("ls-remote", "origin").stdout == ""


def commit_tracked_directory(ex: Example) -> Path:
    """`dvc add` a directory of two random files and commit it: a `.dir` object plus members."""
    images = ex.root / "data" / "images"
    images.mkdir()
    for name in ("a.bin", "b.bin"):
        (images / name).write_bytes(os.urandom(64))
    ex.dvc("add", "-q", "data/images")
    ex.git("add", "data/images.dvc", "data/.gitignore")
    ex.git("commit", "-q", "-m", "a directory")
    return images


def test_branches_deleted_and_tags_pushed(ex: Example) -> None:
    assert push(ex, "main").returncode == 0
    ex.git("checkout", "-q", "-b", "feature")
    images = commit_tracked_directory(ex)
    pushed = push(ex, "feature")
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed 3 DVC objects" in pushed.stderr  # two files and the directory listing
    dir_md5 = dvc_md5(ex, "HEAD", "data/images")
    assert remote_object(ex, dir_md5).is_file()
    for name in ("a.bin", "b.bin"):
        assert remote_object(ex, md5_of(images / name)).is_file()

    deleted = push(ex, "--delete", "feature")
    assert deleted.returncode == 0, deleted.stderr
    assert "feature" not in ex.git("ls-remote", "origin").stdout

    ex.git("checkout", "-q", "main")
    [md5] = add_data(ex, "data/tagged.bin")
    ex.git("tag", "-a", "v1", "-m", "release")
    ex.git("tag", "tree-tag", "HEAD^{tree}")  # a tag of a tree: no commit to judge
    tagged = push(ex, "v1", "tree-tag")
    assert tagged.returncode == 0, tagged.stderr
    assert remote_object(ex, md5).is_file()  # the annotated tag was peeled to its commit


def test_push_false_outs_and_commits_from_before_gitml(ex: Example) -> None:
    assert push(ex, "main").returncode == 0
    dvc_yaml = ex.root / "dvc.yaml"
    dvc_yaml.write_text(
        dvc_yaml.read_text().replace(
            "      - data/prepared/test.csv\n",
            "      - data/prepared/test.csv:\n          push: false\n",
            1,
        )
    )
    ex.git("commit", "-q", "-m", "test split stays local", "--", "dvc.yaml")
    test_md5 = dvc_md5(ex, "HEAD", "data/prepared/test.csv")
    remove(remote_object(ex, test_md5))

    ok = push(ex, "main")
    assert ok.returncode == 0, ok.stderr
    assert "not pushed (`push: false`): data/prepared/test.csv" in ok.stderr
    assert not remote_object(ex, test_md5).exists()

    # A branch from before gitml (no commit of it ever had a gitml.lock): never judged, never
    # refused for missing objects.
    skip = {"GITML_SKIP": "1"}
    ex.git("checkout", "-q", "--orphan", "old-style")
    ex.git("rm", "-q", "--cached", "gitml.lock", "gitml.yaml")
    ex.git("commit", "-q", "-m", "no gitml here", env=skip)
    gone, kept = add_data(ex, "data/gone.bin", "data/kept.bin", env=skip)
    remove(cache_object(ex, gone))
    old = push(ex, "old-style")
    assert old.returncode == 0, old.stderr
    assert "data/gone.bin" in old.stderr and "not refused" in old.stderr
    assert remote_object(ex, kept).is_file()
    assert not remote_object(ex, gone).exists()


@pytest.mark.slow
def test_a_history_that_deleted_gitml_lock_is_not_before_gitml(ex: Example) -> None:
    """Finding 11: "before gitml" means no ancestor ever had a gitml.lock. Commits after a
    `git rm gitml.lock` made around the hook have their missing objects refused, and a tip
    that lost its gitml.lock while gitml.yaml asks for checks is refused as stale."""
    assert push(ex, "main").returncode == 0
    skip = {"GITML_SKIP": "1"}
    ex.git("rm", "-q", "gitml.lock")
    ex.git("commit", "-q", "--no-verify", "-m", "no more gitml.lock")
    [gone] = add_data(ex, "data/gone.bin", env=skip)
    remove(cache_object(ex, gone))

    tip = push(ex, "main")
    assert tip.returncode == 1, tip.stderr
    assert "gitml.lock is stale at main" in tip.stderr and "gitml.lock is missing" in tip.stderr

    # Not the tip any more: gitml.lock back (`gitml lock`), the objects of the commit in
    # between are still refused.
    assert ex.gitml("lock").returncode == 0
    ex.git("commit", "-q", "-m", "gitml.lock back")
    middle = push(ex, "main")
    assert middle.returncode == 1, middle.stderr
    assert "push refused" in middle.stderr and "data/gone.bin" in middle.stderr
    assert "not refused" not in middle.stderr
    assert ex.git("ls-remote", "origin", "main").stdout.split()[0] != ex.head()


def test_under_the_pre_commit_framework(ex: Example) -> None:
    """pre-commit hands the hook one ref through its environment, and no stdin."""
    model_md5 = dvc_md5(ex, "HEAD", "model/model.pkl")
    remove(remote_object(ex, model_md5))
    env = {
        "PRE_COMMIT_FROM_REF": "",
        "PRE_COMMIT_TO_REF": "",
        "PRE_COMMIT_REMOTE_NAME": "origin",
        "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main",
        "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main",
    }
    proc = run(
        sys.executable,
        "-m",
        "gitml.hookfast",
        "pre-push",
        "--framework",
        cwd=ex.root,
        check=False,
        env=env,
        input="",
    )
    assert proc.returncode == 0, proc.stderr
    assert "pushed 1 DVC object to remote 'local'" in proc.stderr
    assert md5_of(remote_object(ex, model_md5)) == model_md5


def test_other_remotes_go_through_dvcs_api(ex: Example, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path for s3/ssh/… remotes, exercised on the local remote (DVC treats it the same)."""
    images = commit_tracked_directory(ex)
    monkeypatch.chdir(ex.root)
    cfg = dvcconfig.read_config(ex.root)
    collector = Collector(ex.root, cfg)
    head = ex.head()
    collector.add_commit(head, ex.git("rev-parse", "HEAD^{tree}").stdout.strip())
    needs = list(collector.result.needs.values())
    assert {n.path for n in needs} >= {"data/images", "data/images/a.bin", "model/model.pkl"}

    corrupt_md5 = md5_of(images / "b.bin")
    cached = cache_object(ex, corrupt_md5)
    good = cached.read_bytes()
    cached.chmod(0o644)
    cached.write_bytes(b"garbage")
    outcome = push_with_dvc(ex.root, cfg, "local", needs)
    assert [n.path for n in outcome.corrupt] == ["data/images/b.bin"]
    assert [n.path for n in outcome.failed] == ["data/images"]  # its listing waits for b.bin
    assert outcome.pushed == 1 and not outcome.missing
    assert not remote_object(ex, corrupt_md5).exists()

    cached.write_bytes(good)
    outcome = push_with_dvc(ex.root, cfg, "local", needs)
    assert outcome.pushed == 2 and not (outcome.corrupt or outcome.failed or outcome.missing)
    dir_md5 = dvc_md5(ex, "HEAD", "data/images")
    assert remote_object(ex, dir_md5).is_file() and remote_object(ex, corrupt_md5).is_file()


class FakeSnapshot:
    """Just what `read_flags` reads: the key files of one commit."""

    def __init__(self, files: dict[str, str]):
        self.files = {k: v.encode() for k, v in files.items()}
        self.rev = "f" * 40

    def key_files(self) -> list[str]:
        return sorted(self.files)

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)


def test_flags_from_plain_templated_nested_and_dvc_files() -> None:
    snap = FakeSnapshot(
        {
            "dvc.yaml": """
stages:
  shard:
    foreach: [a, b]
    do:
      cmd: python shard.py ${item}
      outs:
        - shards/${item}.bin: {push: false}
  train:
    cmd: python train.py
    outs:
      - model.pkl
      - scratch: {cache: false}
    metrics:
      - metrics.json: {cache: false}
""",
            "sub/dvc.yaml": """
stages:
  build:
    wdir: work
    cmd: make
    outs:
      - out.bin: {remote: archive}
""",
            "data/raw.dvc": "outs:\n- md5: 0123\n  path: raw\n  push: false\n",
            "dvc.lock": """
schema: '2.0'
stages:
  train:
    cmd: python train.py
    outs:
    - path: model.pkl
      hash: md5
      md5: abc
      cloud:
        s3v: {etag: x, version_id: v1}
""",
        }
    )
    flags = read_flags(snap)  # type: ignore[arg-type]

    def out(path: str, stage: str | None) -> dvcfiles.Out:
        return dvcfiles.Out(path, "0" * 32, "md5", None, None, "dvc.lock", stage)

    assert flags.of(out("shards/a.bin", "shard@a")) == {"push": False}
    assert flags.of(out("shards/a.bin", "train")) == {}  # the pattern is the shard stage's
    assert flags.of(out("model.pkl", "train")) == {}
    assert flags.of(out("scratch", "train")) == {"cache": False}
    assert flags.of(out("metrics.json", "train")) == {"cache": False}
    assert flags.of(out("sub/work/out.bin", "sub:build")) == {"remote": "archive"}
    assert flags.of(out("data/raw", None)) == {"push": False}
    assert flags.versioned == {"model.pkl": frozenset({"s3v"})}


def test_upload_shows_progress_on_a_terminal_only(ex: Example) -> None:
    shards = ex.root / "data" / "shards"
    shards.mkdir()
    for i in range(30):
        (shards / f"{i:02d}.bin").write_bytes(os.urandom(32))
    ex.dvc("add", "-q", "data/shards")
    ex.git("add", "data/shards.dvc", "data/.gitignore")
    ex.git("commit", "-q", "-m", "30 shards")
    shutil.rmtree(ex.remote / "files")  # everything has to go up again

    code, seen = run_in_terminal(["git", "push", "origin", "main"], ex.root)
    assert code == 0, seen
    assert "uploading DVC objects" in seen, seen
    total = len([p for p in (ex.remote / "files" / "md5").rglob("*") if p.is_file()])
    assert total >= 31  # the 30 members and the directory's listing, with the model and data
    assert f"{total}/{total}" in seen, seen

    ex.git("commit", "-q", "--allow-empty", "-m", "again")
    shutil.rmtree(ex.remote / "files")
    piped = push(ex, "main")
    assert piped.returncode == 0, piped.stderr
    assert "uploading DVC objects" not in piped.stderr
