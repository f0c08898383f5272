"""`gitml suite init PATH`: scaffold a GX 1.x suite from the data and add it to gitml.yaml."""

from __future__ import annotations

import json
import os

from gitml import datareaders, suites
from gitml import repo as repo_mod
from gitml.config import CONFIG_FILE, Dataset
from gitml.errors import BadInput
from gitml.fileio import atomic_write
from gitml.output import say
from gitml.paths import from_cli


def init(path: str, force: bool = False) -> int:
    repo = repo_mod.find()
    repo_mod.require_setup(repo)
    config = repo_mod.workspace_config(repo)
    rel = from_cli(repo.root, path, what="dataset")
    if not os.path.lexists(path):
        raise BadInput(
            f"dataset {path}: no such file or directory (`dvc pull {rel}` if not pulled)"
        )
    dataset = next((d for d in config.data if d.path == rel), Dataset(rel))
    suite = dataset.suite or suites.suite_path_for(rel)
    target = repo.root / suite
    if target.exists() and not force:
        raise BadInput(f"{suite} already exists; `gitml suite init --force {path}` replaces it")
    sources, formats = datareaders.workspace_sources(repo.root, rel, dataset.format)
    rows = datareaders.check_sample(rel, dataset.sample)
    datareaders.check_size(
        rel, sum(s.file.stat().st_size for s in sources), rows, dataset.max_bytes
    )
    frame = datareaders.read_frame(sources, formats, dataset.read, rows)
    doc = suites.scaffold(frame, rel)
    config_path = repo.root / CONFIG_FILE
    text = config_path.read_text(encoding="utf-8")
    new_text = suites.set_suite(text, rel, suite)
    atomic_write(target, (json.dumps(doc, indent=2) + "\n").encode())
    if new_text != text:
        atomic_write(config_path, new_text.encode())
    say(
        f"wrote {suite} ({len(doc['expectations'])} expectations from {len(frame.df)} rows of "
        f"{rel}); {CONFIG_FILE} names it. Review the ranges, then `git add {suite} {CONFIG_FILE}`"
    )
    return 0
