"""gitml/confighash.py: the hashes of gitml.yaml that gitml.lock records, per block and per
top-level key, of the parsed values."""

from __future__ import annotations

import dataclasses

from gitml import config, confighash
from gitml.config import Config, Dataset

BASE = """\
version: 1
python: .venv/bin/python
data:
  - path: d.csv
    read: {sep: ";", header: 0}
models:
  - path: a.pkl
    gates: [accuracy >= 0.5]
  - path: b.pkl
hooks: {block_stale: true}
reproduce:
  tolerance: {accuracy: 0.01}
"""


def hashes(text: str) -> tuple[list[str], list[str], dict[str, str]]:
    parsed = config.parse(text)
    return (
        [confighash.block_sha256(m) for m in parsed.models],
        [confighash.block_sha256(d) for d in parsed.data],
        confighash.settings_sha256(parsed),
    )


def test_every_config_field_is_hashed_somewhere() -> None:
    """A field added to Config must be hashed (else changing it would leave locks fresh)."""
    covered = {name for names in confighash.SETTINGS.values() for name in names}
    covered |= {*confighash.PER_ENTRY, *confighash.UNHASHED}
    assert {f.name for f in dataclasses.fields(Config)} == covered


def test_the_text_s_form_changes_nothing() -> None:
    """Comments, key order, flow or block style, a default spelled out: the same hashes."""
    same = (
        "# the project's checks\nversion: 1\npython: .venv/bin/python\n"
        "models:\n  - gates:\n      - accuracy >= 0.5\n    path: a.pkl\n    format: auto\n"
        "  - path: b.pkl\n"
        "data:\n  - read:\n      header: 0\n      sep: ';'\n    path: d.csv\n"
        "reproduce: {tolerance: {accuracy: 0.01}, seeds: []}\nhooks:\n  block_stale: true\n"
    )
    assert hashes(same) == hashes(BASE)


def test_a_change_is_told_where_it_is() -> None:
    models, data, settings = hashes(BASE)
    gate = hashes(BASE.replace("accuracy >= 0.5", "accuracy >= 0.6"))
    assert gate[0][0] != models[0] and (gate[0][1], gate[1], gate[2]) == (models[1], data, settings)
    sep = hashes(BASE.replace('";"', '","'))
    assert sep[1] != data and (sep[0], sep[2]) == (models, settings)
    tolerance = hashes(BASE.replace("0.01", "0.02"))
    assert (tolerance[0], tolerance[1]) == (models, data)
    changed = {k for k in settings if tolerance[2][k] != settings[k]}
    assert changed == {"reproduce"}


def test_keys_other_than_strings_are_told_apart() -> None:
    """YAML allows them in a reader's options; JSON could neither sort them nor tell 1 from
    "1"."""
    one = confighash.block_sha256(Dataset(path="d.csv", read={1: "x", "b": 2}))
    text = confighash.block_sha256(Dataset(path="d.csv", read={"1": "x", "b": 2}))
    assert one != text
    assert one == confighash.block_sha256(Dataset(path="d.csv", read={"b": 2, 1: "x"}))
