"""gitml/suites.py: `suite:` set in gitml.yaml as text (comments kept), and the dataset a command
line names; in process. Scaffolding a suite from data is end to end in tests/test_validation.py.
"""

from __future__ import annotations

import pytest

from gitml import suites
from gitml.errors import BadInput

SUITE = ".gitml/suites/t.json"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "data:\n  - path: data/t.csv\n    suite: S\n"),
        ("version: 1", "version: 1\ndata:\n  - path: data/t.csv\n    suite: S\n"),
        (
            "version: 1\ndata:\nmodels: []\n",
            "version: 1\ndata:\n  - path: data/t.csv\n    suite: S\nmodels: []\n",
        ),
        (  # listed without a suite: added under its path, comments kept
            "data:\n  # the training set\n  - path: data/t.csv\n    format: csv\n",
            "data:\n  # the training set\n  - path: data/t.csv\n    suite: S\n    format: csv\n",
        ),
        (  # listed with one: replaced in place
            "data:\n  - path: data/t.csv  # raw\n    suite: old.json # keep\n",
            "data:\n  - path: data/t.csv  # raw\n    suite: S # keep\n",
        ),
        ("data:\n  - {path: data/t.csv}\n", "data:\n  - {path: data/t.csv, suite: S}\n"),
        (  # another dataset: a new entry after the last
            "data:\n  - path: data/other.csv\n\nmodels: []\n",
            "data:\n  - path: data/other.csv\n  - path: data/t.csv\n    suite: S\n\nmodels: []\n",
        ),
        ("data: [{path: a.csv}]\n", "data: [{path: a.csv}, {path: data/t.csv, suite: S}]\n"),
        ("data: []\n", "data: [{path: data/t.csv, suite: S}]\n"),
    ],
)
def test_suite_is_set_on_the_dataset_as_text(text: str, expected: str) -> None:
    assert suites.add_suite_to_config(text, "data/t.csv", "S") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "the top level must be a mapping"),
        ("data: 3\n", "`data` must be a list"),
        ("data: [\n", "not valid YAML"),
    ],
)
def test_a_config_that_cannot_take_a_suite_is_bad_input(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        suites.add_suite_to_config(text, "data/t.csv", "S")


def test_set_suite_checks_the_result_parses_and_names_it() -> None:
    text = "version: 1\ndata:\n  - path: data/t.csv\n"
    new = suites.set_suite(text, "data/t.csv", SUITE)
    assert new == f"version: 1\ndata:\n  - path: data/t.csv\n    suite: {SUITE}\n"


def test_suite_path_for_a_dataset() -> None:
    assert suites.suite_path_for("data/wine.csv") == ".gitml/suites/wine.json"
    assert suites.suite_path_for("data/parts/") == ".gitml/suites/parts.json"
