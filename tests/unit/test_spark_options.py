"""The Spark engine's reading of a dataset's `read:` options (pandas' names): what it passes to
Spark, and the options it refuses with one message (in process, before any Spark call)."""

from __future__ import annotations

from typing import Any

import pytest

from gitml import sparkcsv, sparkread
from gitml.errors import BadInput


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"sep": ",", "quote": '"', "escape": '"', "header": "true"}),
        ({"sep": ";", "quotechar": "'"}, {"sep": ";", "quote": "'", "escape": "'"}),
        ({"quotechar": "'", "escapechar": "\\"}, {"quote": "'", "escape": "\\"}),
        ({"header": None}, {"header": "false"}),
        ({"encoding": "latin-1"}, {"encoding": "iso-8859-1"}),  # Spark 4's name of it
        ({"encoding": "UTF8"}, {"encoding": "utf-8"}),
        ({"encoding": "cp1252"}, {"encoding": "cp1252"}),  # for Spark to accept or name
    ],
)
def test_pandas_options_become_sparks(options: dict[str, Any], expected: dict[str, str]) -> None:
    found = sparkcsv._csv_options("csv", options)
    assert {k: found[k] for k in expected} == expected
    assert found["mode"] == "FAILFAST" and found["inferSchema"] == "false"


@pytest.mark.parametrize(
    ("fmt", "options", "message"),
    [
        ("csv", {"skiprows": 1}, "`read:` option(s) skiprows have no Spark equivalent"),
        ("csv", {"header": 2}, "only 0 (the first line) or null"),
        ("csv", {"encoding": "no-such-codec"}, "no such encoding"),
        ("parquet", {"engine": "pyarrow"}, "for Parquet with `engine: spark`: only `columns`"),
        ("jsonl", {"precise_float": True}, "for jsonl with `engine: spark`: none"),
        ("feather", {}, "data/t: unknown format 'feather'"),
    ],
)
def test_options_spark_cannot_honour_are_refused(
    fmt: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        if fmt == "csv":
            sparkcsv._csv_options(fmt, options)
        else:
            sparkread._read_typed(None, ["/nowhere"], fmt, options, "data/t")


def test_an_empty_field_is_text_only_without_pandas_default_markers() -> None:
    assert sparkcsv.empty_is_null({})
    assert sparkcsv.empty_is_null({"na_values": ["-"]})
    assert not sparkcsv.empty_is_null({"keep_default_na": False})
    assert sparkcsv.empty_is_null({"keep_default_na": False, "na_values": [""]})
