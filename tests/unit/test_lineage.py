"""gitml/lineage.py (with staleness.py): the inputs part of gitml.lock computed from a commit's
files, in process, on a small real git repository whose DVC files are written here (no `dvc`
run: dvc.lock and the .dvc file say what `dvc repro` and `dvc add` would have)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
import yaml

from gitml import confighash, lineage, lockfile
from gitml.config import Config, Dataset, Model
from gitml.errors import BadInput
from gitml.lineage import Lineage
from gitml.lockfile import Lock
from gitml.repo import config_at
from gitml.snapshot import Snapshot

TRAIN = "print('train')\n"
RAW = "a,b\n1,2\n"
MODEL_MD5 = "0123456789abcdef0123456789abcdef"
CMD = "python src/train.py"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def dvc_yaml(cmd: str = CMD, frozen: bool = False, extra_stage: bool = False) -> str:
    stages: dict[str, object] = {
        "train": {
            "cmd": cmd,
            "deps": ["src/train.py", "data/raw.csv"],
            "params": ["train.seed"],
            "outs": ["model.pkl"],
            "metrics": [{"metrics.json": {"cache": False}}],
            **({"frozen": True} if frozen else {}),
        }
    }
    if extra_stage:
        stages["evaluate"] = {"cmd": "python src/evaluate.py", "deps": ["model.pkl"]}
    return yaml.safe_dump({"stages": stages})


def dvc_lock() -> str:
    metrics = '{"accuracy": 0.91234567}\n'
    train = {
        "cmd": CMD,
        "deps": [
            {"path": "data/raw.csv", "hash": "md5", "md5": md5(RAW), "size": len(RAW)},
            {"path": "src/train.py", "hash": "md5", "md5": md5(TRAIN), "size": len(TRAIN)},
        ],
        "params": {"params.yaml": {"train.seed": 1}},
        "outs": [
            {"path": "metrics.json", "hash": "md5", "md5": md5(metrics), "size": len(metrics)},
            {"path": "model.pkl", "hash": "md5", "md5": MODEL_MD5, "size": 10},
        ],
    }
    return yaml.safe_dump({"schema": "2.0", "stages": {"train": train}})


FILES = {
    "src/train.py": TRAIN,
    "data/raw.csv": RAW,
    "data/.gitignore": "/raw.csv\n",
    "data/raw.csv.dvc": yaml.safe_dump(
        {"outs": [{"md5": md5(RAW), "size": len(RAW), "hash": "md5", "path": "raw.csv"}]}
    ),
    "params.yaml": "train:\n  seed: 1\n",
    "dvc.yaml": dvc_yaml(),
    "dvc.lock": dvc_lock(),
    "metrics.json": '{"accuracy": 0.91234567}\n',
    "gitml.yaml": (
        "version: 1\nmodels:\n  - path: model.pkl\n    metrics: metrics.json\n"
        "data:\n  - path: data/raw.csv\n"
    ),
}


def stage(root: Path, files: dict[str, str]) -> None:
    """Write `files` and stage them (what the commit hook judges is the index)."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    stage(root, FILES)
    return root


def lineage_of(root: Path) -> Lineage:
    snap = Snapshot(root)
    config = config_at(snap)
    assert config is not None
    return lineage.read_lineage(snap, config, None)


def inputs(root: Path, recorded: Lock | None = None) -> Lock:
    return lineage.inputs(lineage_of(root), None, recorded)


def test_the_inputs_of_a_commit_are_what_its_files_say(repo: Path) -> None:
    lock = inputs(repo)
    model = lock.models["model.pkl"]
    assert (model.md5, model.hash, model.size, model.format) == (MODEL_MD5, "md5", 10, "pickle")
    assert (model.stage, model.cmd, model.stale, model.frozen) == ("train", CMD, False, None)
    assert model.inputs == {
        "data/raw.csv": md5(RAW),
        "src/train.py": md5(TRAIN),
        "params.yaml:train.seed": 1,
    }
    assert model.metrics == {"accuracy": 0.912346}  # rounded to 6 significant digits
    assert model.metrics_from is None and model.tests is None  # in git; no results yet
    data = lock.data["data/raw.csv"]
    assert (data.md5, data.size, data.stage, data.stale, data.suite) == (
        md5(RAW),
        len(RAW),
        None,
        False,
        None,
    )
    # gitml.yaml hashed where each block lives: per entry, and per other top-level key
    block = Model(path="model.pkl", name="model", metrics="metrics.json")
    assert model.config_sha256 == confighash.block_sha256(block)
    assert data.config_sha256 == confighash.block_sha256(Dataset(path="data/raw.csv"))
    assert lock.settings == confighash.settings_sha256(Config())
    assert sorted(lock.settings) == ["environment", "hooks", "python", "registry", "reproduce"]
    assert lock.config_sha256 is None  # the whole file's hash: locks of the old layout only
    gitml_yaml = (repo / "gitml.yaml").read_bytes()
    snap = Snapshot(repo)
    assert lineage.config_file_sha256(snap) == hashlib.sha256(gitml_yaml).hexdigest()


def test_the_inputs_are_written_as_gitml_writes_them(repo: Path) -> None:
    text = lockfile.serialize(inputs(repo)).decode()
    assert text.startswith("schema: gitml.lock/1\ndata:\n")
    assert sorted(yaml.safe_load(text)) == ["data", "environments", "models", "schema", "settings"]
    model = yaml.safe_load(text)["models"]["model.pkl"]
    assert sorted(model) == [
        "cmd", "config_sha256", "format", "hash", "inputs", "md5", "metrics", "size", "stage",
        "stale",
    ]  # fmt: skip
    data = yaml.safe_load(text)["data"]["data/raw.csv"]
    assert sorted(data) == sorted(
        ["md5", "hash", "size", "nfiles", "source", "stage", "stale", "suite", "suite_sha256",
         "config_sha256"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"params.yaml": "train:\n  seed: 2\n"}, "stage train: params.yaml:train.seed 1 -> 2"),
        ({"src/train.py": "print('other')\n"}, "stage train: src/train.py changed"),
        ({"dvc.yaml": dvc_yaml(cmd="python src/train.py --fast")}, "its cmd in dvc.yaml changed"),
    ],
)
def test_a_change_without_dvc_repro_makes_the_model_stale(
    repo: Path, files: dict[str, str], reason: str
) -> None:
    stage(repo, files)
    model = inputs(repo).models["model.pkl"]
    assert isinstance(model.stale, list) and len(model.stale) == 1
    assert model.stale[0].endswith(reason), model.stale


def test_a_frozen_stage_is_not_judged_by_its_deps(repo: Path) -> None:
    stage(repo, {"dvc.yaml": dvc_yaml(frozen=True), "params.yaml": "train:\n  seed: 2\n"})
    model = inputs(repo).models["model.pkl"]
    assert model.stale is False and model.frozen is True


def test_a_stage_never_run_is_stale_on_its_own(repo: Path) -> None:
    stage(repo, {"dvc.yaml": dvc_yaml(extra_stage=True)})
    lin = lineage_of(repo)
    assert lin.stale == {"evaluate": ["in dvc.yaml but never run (not in dvc.lock)"]}
    assert lin.stale_reasons("train") is False  # not upstream of the model


def test_a_path_neither_dvc_nor_git_tracks_is_refused(repo: Path) -> None:
    stage(repo, {"gitml.yaml": "version: 1\nmodels:\n  - path: other.pkl\n"})
    with pytest.raises(BadInput, match="model 'other.pkl' is tracked neither by DVC"):
        inputs(repo)


def test_a_member_of_a_tracked_directory_is_judged_from_the_lock_without_the_cache(
    repo: Path,
) -> None:
    """data/ `dvc add`ed as a whole, gitml.yaml naming data/raw.csv: without the directory's
    listing in the cache, the member is taken from the recorded lock when it was recorded
    inside that very directory (so `lock --check` works in a fork's CI), else refused."""
    listing_md5 = "a" * 32 + ".dir"
    subprocess.run(["git", "rm", "-q", "--cached", "data/raw.csv.dvc"], cwd=repo, check=True)
    (repo / "data/raw.csv.dvc").unlink()
    dvcfile = {
        "outs": [{"md5": listing_md5, "size": 9, "nfiles": 1, "hash": "md5", "path": "data"}]
    }
    stage(repo, {"data.dvc": yaml.safe_dump(dvcfile)})
    with pytest.raises(BadInput, match=r"not in the local DVC cache: `dvc pull data.dvc`"):
        inputs(repo)
    recorded = lockfile.parse(
        "schema: gitml.lock/1\ndata:\n  data/raw.csv:\n"
        f"    dir: {{md5: {listing_md5}, path: data}}\n    md5: {md5(RAW)}\n    nfiles: null\n"
    )
    data = inputs(repo, recorded).data["data/raw.csv"]
    assert (data.md5, data.dir) == (md5(RAW), lockfile.DirRef(path="data", md5=listing_md5))
