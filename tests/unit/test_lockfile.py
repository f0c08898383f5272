"""gitml/lockfile.py: gitml.lock read into a Lock and written back, in process.

tests/unit/locks/ holds gitml.lock files as gitml writes them: example, matrix and subdirs from
the layouts the end-to-end tests build (environment blocks cut to a few packages), validated
(a dataset with a suite: validation and profile), older (what an older gitml wrote: no
`nfiles`, `suite_sha256`, gates without `threshold`, tests without `data`, `stale: true`) and
newer (keys this gitml does not know, at every level); compact/ holds the example as gitml wrote
it before blank lines kept the independent fields apart, blocklists/ the validated one as gitml
wrote it before a profile's lists of numbers were written on one line (gitml/locklayout.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import unfolded_lock_lines

from gitml import lockfile
from gitml.errors import BadInput
from gitml.lockfile import DataEntry, Lock, ModelEntry
from gitml.records import read_record

LOCKS = Path(__file__).parent / "locks"
ALL = sorted(p.name for p in LOCKS.glob("*.lock"))


@pytest.mark.parametrize("name", ALL)
def test_a_lock_read_and_written_back_is_byte_identical(name: str) -> None:
    data = (LOCKS / name).read_bytes()
    lock = lockfile.parse(data, name)
    assert lockfile.serialize(lock) == data
    # the plain mapping (what the modules not yet converted hold) gives the same bytes too
    assert lock.to_dict() == yaml.safe_load(data)
    assert lockfile.serialize(lockfile.from_dict(lock.to_dict())) == data


def test_a_lock_in_the_compact_layout_is_read_and_written_in_todays() -> None:
    """A lock written before the blank lines (gitml/locklayout.py) says the same: read, it is
    the same Lock, written back it is in today's layout (the next commit that writes it)."""
    compact = (LOCKS / "compact" / "example.lock").read_bytes()
    today = (LOCKS / "example.lock").read_bytes()
    assert b"\n\n" not in compact and lockfile.parse(compact) == lockfile.parse(today)
    assert lockfile.serialize(lockfile.parse(compact)) == today
    assert [line for line in today.splitlines() if line] == compact.splitlines()


def test_a_lock_with_a_line_per_number_is_read_and_written_in_todays_layout() -> None:
    """Issue 19: a profile's quantiles, histogram edges and counts, once a line per number, are
    one line each today; a lock written before reads as the same Lock and is written back in
    today's layout, the same lines once the lists are unfolded."""
    before = (LOCKS / "blocklists" / "validated.lock").read_bytes()
    today = (LOCKS / "validated.lock").read_bytes()
    assert lockfile.parse(before) == lockfile.parse(today)
    assert lockfile.serialize(lockfile.parse(before)) == today
    assert (before.count(b"\n"), today.count(b"\n")) == (180, 124)
    assert unfolded_lock_lines(today.decode()) == before.decode().splitlines()


def test_the_fields_are_read_as_attributes() -> None:
    lock = lockfile.parse((LOCKS / "example.lock").read_bytes())
    model = lock.models["model/model.pkl"]
    assert (model.md5, model.hash, model.size, model.stage) == (
        "d32eddbc7a23f451f2b73062740f0e15",
        "md5",
        4431,
        "train",
    )
    assert model.metrics == {"accuracy": 0.977778, "f1_macro": 0.977143}
    assert model.stale is False and model.stale_reasons == []
    assert model.tests is not None and (model.tests.passed, model.tests.failed) == (2, 0)
    assert model.gates is not None
    assert [(g.rule, g.threshold, g.passed) for g in model.gates] == [
        ("accuracy >= 0.9", 0.9, True)
    ]
    env = lock.environment_of(model)
    assert env is not None and env.captured == "build" and env.python == "3.11.7"
    assert env.seeds == {"params.yaml:prepare.seed": 42, "params.yaml:train.seed": 42}
    assert env.hardware is not None and env.hardware.gpu is None
    data = lock.data["data/wine.csv"]
    assert (data.size, data.nfiles, data.source, data.suite) == (11298, None, None, None)


def test_validation_and_profile_are_read() -> None:
    lock = lockfile.parse((LOCKS / "validated.lock").read_bytes())
    data = lock.data["data/wine.csv"]
    assert data.validation is not None
    assert (data.validation.success, data.validation.evaluated, data.validation.failed) == (
        True,
        44,
        0,
    )
    assert data.profile is not None and data.profile.rows == 173
    assert sorted(data.profile.columns or {}) == ["alcohol", "hue"]


def test_an_older_gitml_lock_is_read_and_written_back_without_the_keys_it_lacked() -> None:
    data = (LOCKS / "older.lock").read_bytes()
    lock = lockfile.parse(data)
    model = lock.models["model/model.pkl"]
    assert model.stale is True and model.stale_reasons == []  # a bool, as it was recorded
    assert model.gates is not None and model.gates[0].threshold is None
    assert model.tests is not None and model.tests.data is None
    assert lock.data["data/wine.csv"].nfiles is None
    text = lockfile.serialize(lock).decode()
    assert "nfiles" not in text and "threshold" not in text and "suite_sha256" not in text


def test_keys_a_newer_gitml_wrote_survive_a_round_trip() -> None:
    data = (LOCKS / "newer.lock").read_bytes()
    lock = lockfile.parse(data)
    model = lock.models["model/model.pkl"]
    assert lock.extra == {"signed_by": {"key": "abc"}}
    assert model.extra == {"explain": {"shap": "aaaaaaaa"}}
    assert model.tests is not None and model.tests.extra == {"seconds": 1.5}
    assert model.gates is not None and model.gates[0].extra == {"note": "x"}
    env = lock.environment_of(model)
    assert env is not None and env.extra == {"cuda": "12.4"}
    assert env.hardware is not None and env.hardware.extra == {"ram_gb": 64}
    assert model.cmd == ["python prepare.py", "python src/train.py"]
    assert lockfile.serialize(lock) == data


def test_a_lock_made_now_is_written_with_todays_keys() -> None:
    """Keys gitml always writes are written null; the others only when they hold a value."""
    lock = Lock(
        models={"m.pkl": ModelEntry(md5="a" * 32, hash="md5", size=3, format="pickle")},
        data={"d.csv": DataEntry(md5="b" * 32, hash="md5", size=1500)},
        settings={"hooks": "c" * 64, "python": "d" * 64},
    )
    assert lockfile.serialize(lock).decode() == (
        "schema: gitml.lock/1\n"
        "data:\n"
        "  d.csv:\n"
        "    hash: md5\n\n"
        f"    md5: {'b' * 32}\n\n"
        "    nfiles: null\n\n"
        "    size: 1500\n\n"
        "    source: null\n\n"
        "    stage: null\n\n"
        "    stale: null\n\n"
        "    suite: null\n\n"
        "    suite_sha256: null\n"
        "\n"
        "environments: {}\n"
        "\n"
        "models:\n"
        "  m.pkl:\n"
        "    format: pickle\n\n"
        "    hash: md5\n\n"
        "    inputs: null\n\n"
        f"    md5: {'a' * 32}\n\n"
        "    metrics: null\n\n"
        "    size: 3\n\n"
        "    stage: null\n\n"
        "    stale: null\n"
        "\n"
        "settings:\n"
        f"  hooks: {'c' * 64}\n\n"  # each hash a hunk of its own under a plain git merge
        f"  python: {'d' * 64}\n"
    )


def test_floats_are_written_to_six_significant_digits() -> None:
    lock = Lock(models={"m": ModelEntry(metrics={"loss": 0.123456789, "n": 3})})
    assert "loss: 0.123457" in lockfile.serialize(lock).decode()


def test_a_wrongly_typed_key_inside_an_entry_is_kept_as_it_was() -> None:
    """Records inside entries and environment blocks are not judged: what a field does not
    accept stays in `extra` (never read as if it were right) and is written back."""
    doc = yaml.safe_load((LOCKS / "example.lock").read_bytes())
    doc["models"]["model/model.pkl"]["tests"]["passed"] = "two"
    doc["environments"]["492bf62121e256d6"]["python"] = 3.11
    lock = lockfile.from_document(doc)
    model = lock.models["model/model.pkl"]
    assert model.tests is not None and model.tests.passed is None
    assert model.tests.extra == {"passed": "two"}
    env = lock.environment_of(model)
    assert env is not None and env.python is None and env.extra == {"python": 3.11}
    assert lockfile.serialize(lock) == lockfile.serialize(lockfile.from_dict(doc))
    assert yaml.safe_load(lockfile.serialize(lock)) == doc


MODEL = "models.model/model.pkl"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("schema: gitml.lock/1\nmodels: [\n", "not valid YAML"),
        ("models: {}\n", "not a gitml.lock/1 manifest"),
        ("schema: gitml.lock/2\n", "not a gitml.lock/1 manifest"),
        ("- a list\n", "not a gitml.lock/1 manifest"),
        ("schema: gitml.lock/1\nmodels: []\n", "`models` must be a mapping"),
        ("schema: gitml.lock/1\ndata: 5\n", "`data` must be a mapping"),
        ("schema: gitml.lock/1\nenvironments: {k: x}\n", "`environments.k` must be a mapping"),
        ("schema: gitml.lock/1\nmodels: {m.pkl: [1]}\n", "`models.m.pkl` must be a mapping"),
        (
            "schema: gitml.lock/1\nmodels: {../up.pkl: {}}\n",
            "`models.../up.pkl`: not a clean path inside the repository",
        ),
        (
            "schema: gitml.lock/1\ndata: {/etc/passwd: {}}\n",
            "`data./etc/passwd`: not a clean path inside the repository",
        ),
        (
            "schema: gitml.lock/1\nmodels: {m.pkl: {md5: not-an-md5}}\n",
            "`models.m.pkl.md5` is not a DVC md5 (32 hex digits)",
        ),
        (
            "schema: gitml.lock/1\nmodels: {m.pkl: {size: true}}\n",
            "`models.m.pkl.size` has the wrong type (bool)",
        ),
        (
            "schema: gitml.lock/1\nmodels: {m.pkl: {metrics: [1]}}\n",
            "`models.m.pkl.metrics` has the wrong type (list)",
        ),
        (
            "schema: gitml.lock/1\nmodels: {m.pkl: {stale: [1]}}\n",
            "`models.m.pkl.stale` must be a list of reasons",
        ),
        (
            "schema: gitml.lock/1\nmodels: {m.pkl: {gates: [passed]}}\n",
            "`models.m.pkl.gates` must be a list of mappings",
        ),
        (
            "schema: gitml.lock/1\ndata: {d.csv: {validation: passed}}\n",
            "`data.d.csv.validation` has the wrong type (str)",
        ),
    ],
)
def test_a_malformed_lock_is_refused_with_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(BadInput) as refused:
        lockfile.parse(text.encode(), "gitml.lock at 1234abcd")
    message = str(refused.value)
    assert message.startswith("gitml.lock at 1234abcd: ") and problem in message
    assert re.search(r"run `gitml lock` to regenerate it$", message)


def test_a_part_written_as_null_is_read_as_empty() -> None:
    lock = lockfile.parse(b"schema: gitml.lock/1\nmodels: null\n")
    assert lock.models == {} and lock.data == {} and lock.config_sha256 is None
    # written back with what it had (the part now empty), nothing added
    assert lockfile.serialize(lock) == b"schema: gitml.lock/1\nmodels: {}\n"


def test_metrics_unread_says_why_and_the_fix() -> None:
    source = {"file": "eval/m.json", "out": "eval", "md5": "e" * 32 + ".dir"}
    entry = read_record(ModelEntry, {"metrics": None, "metrics_from": source})
    assert entry.metrics_unread is not None
    assert "inside the DVC-tracked eval" in entry.metrics_unread
    assert "`dvc pull eval`, then `gitml lock`" in entry.metrics_unread
    assert read_record(ModelEntry, {"metrics": {}, "metrics_from": source}).metrics_unread is None
