"""gitml/records.py: changing a record as setting or deleting keys of the file's mapping does,
so that the checks' results, recorded on typed entries, are written as they were when the lock
was a dict (in process, on the committed example lock)."""

from __future__ import annotations

from pathlib import Path

from gitml import lockfile, lockinputs
from gitml.lockfile import Lock, ModelEntry, ModelTests
from gitml.records import plain, updated, without

LOCKS = Path(__file__).parent / "locks"
MODEL = "model/model.pkl"


def committed() -> Lock:
    return lockfile.parse((LOCKS / "example.lock").read_bytes())


def test_updated_writes_each_key_set_even_as_null() -> None:
    entry = committed().models[MODEL]
    tests = ModelTests(passed=2, failed=0, hash="h", data={})
    assert plain(updated(entry, tests=tests)) == {**plain(entry), "tests": plain(tests)}
    # a key set to null stays in the file, as `entry["frozen"] = None` kept it
    assert plain(updated(entry, frozen=None)) == {**plain(entry), "frozen": None}
    made_now = ModelEntry(md5="0" * 32)  # `written` None: today's keys
    assert plain(updated(made_now, format_from=None))["format_from"] is None


def test_without_drops_the_keys_as_deleting_them_did() -> None:
    entry = committed().models[MODEL]
    assert entry.tests is not None and entry.gates is not None
    expected = {k: v for k, v in plain(entry).items() if k not in ("tests", "gates")}
    assert plain(without(entry, "tests", "gates")) == expected
    assert plain(without(entry, "frozen")) == plain(entry)  # a key it did not have


def test_an_entry_changed_in_a_lock_is_written_in_its_place() -> None:
    lock = committed()
    entry = without(lock.models[MODEL], "tests")
    changed = lock.with_model(MODEL, entry)
    assert list(changed.models) == list(lock.models) and changed.models[MODEL] == entry
    assert lock.models[MODEL].tests is not None  # the lock it came from is unchanged
    assert lockfile.serialize(changed.with_model(MODEL, lock.models[MODEL])) == (
        lockfile.serialize(lock)
    )


def test_results_are_the_keys_besides_inputs_and_environment() -> None:
    lock = committed()
    entry = lock.models[MODEL]
    assert lockinputs.has_results(entry)
    assert not lockinputs.has_results(without(entry, "tests", "gates"))
    [data] = lock.data.values()
    assert lockinputs.has_results(data) == (data.validation is not None)
