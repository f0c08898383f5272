"""gitml/config.py: gitml.yaml parsed in process; each bad file is one BadInput naming the line
and the key."""

from __future__ import annotations

import pytest

from gitml import config
from gitml.config import Config, Dataset, Model
from gitml.errors import BadInput

FULL = """\
version: 1
python: "3.12"
data:
  - path: data/wine.csv
    suite: suites/wine.json
    read: {sep: ";"}
    sample: {rows: 100}
    max_bytes: 4096
  - path: data/images
    format: parquet
models:
  - path: models/model.pkl
    name: wine
    format: pickle
    metrics: metrics.json
    tests: tests/test_model.py
    gates: ["accuracy >= 0.9", "loss <= baseline.loss + 0.01"]
    baseline: production
reproduce:
  tolerance: {accuracy: 0.01, loss: 0}
  seeds: ["params.yaml:train.seed"]
hooks:
  block_stale: true
"""


def test_a_full_config_becomes_plain_dataclasses() -> None:
    cfg = config.parse(FULL)
    assert cfg == Config(
        version=1,
        python="3.12",
        data=(
            Dataset("data/wine.csv", "suites/wine.json", "auto", {"sep": ";"}, {"rows": 100}, 4096),
            Dataset("data/images", format="parquet"),
        ),
        models=(
            Model(
                "models/model.pkl",
                "wine",
                "pickle",
                "metrics.json",
                "tests/test_model.py",
                ("accuracy >= 0.9", "loss <= baseline.loss + 0.01"),
                "production",
            ),
        ),
        tolerance={"accuracy": 0.01, "loss": 0.0},
        seeds=("params.yaml:train.seed",),
        block_stale=True,
    )
    assert cfg.watched_paths() == {
        "gitml.yaml",
        "data/wine.csv",
        "suites/wine.json",
        "data/images",
        "models/model.pkl",
        "metrics.json",
        "tests/test_model.py",
        "params.yaml",
    }


def test_defaults_and_paths_made_clean() -> None:
    cfg = config.parse(b"version: 1\nmodels:\n  - path: ./models//rf.model.pkl\n")
    (model,) = cfg.models
    assert (model.path, model.name, model.format, model.baseline) == (
        "models/rf.model.pkl",
        "rf",  # the file's stem, up to its first dot
        "auto",
        "parent",
    )
    assert (cfg.data, cfg.tolerance, cfg.seeds, cfg.block_stale) == ((), {}, (), False)


def test_a_model_without_name_takes_dvcs_name_asked_once() -> None:
    asked: list[int] = []

    def names() -> dict[str, str]:
        asked.append(1)
        return {"models/a.pkl": "alpha"}

    text = "version: 1\nmodels:\n  - path: models/a.pkl\n  - path: models/b.pkl\n"
    cfg = config.parse(text, dvc_names=names)
    assert [m.name for m in cfg.models] == ["alpha", "b"]
    assert asked == [1]
    assert config.parse("version: 1\nmodels:\n  - {path: m.pkl, name: x}\n", dvc_names=names)
    assert asked == [1]  # not asked when every model has a name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "gitml.yaml: the file is empty (expected at least `version: 1`)"),
        ("version: [1\n", "gitml.yaml: line 2: not valid YAML"),
        ("- 1\n", "gitml.yaml: line 1, key '(top level)': must be a mapping"),
        ("version: 2\n", "gitml.yaml: line 1, key 'version': must be 1 (the only version)"),
        ("version: true\n", "gitml.yaml: line 1, key 'version': must be an integer, got True"),
        (
            "version: 1\nmodel: []\n",
            "gitml.yaml: line 2, key 'model': unknown key (allowed here: data, environment, hooks, "
            "models, python, registry, reproduce, version)",
        ),
        ("version: 1\ndata: {}\n", "gitml.yaml: line 2, key 'data': must be a list"),
        ("version: 1\ndata:\n  - suite: s.json\n", "key 'data[0].path': is required"),
        (
            "version: 1\ndata:\n  - {path: d.csv, format: xls}\n",
            "key 'data[0].format': must be one of auto, csv, tsv, parquet, jsonl, json",
        ),
        (
            "version: 1\ndata:\n  - {path: d.csv, read: {chunksize: 10}}\n",
            "key 'data[0].read.chunksize': is not allowed: gitml reads the whole table",
        ),
        (
            "version: 1\ndata:\n  - {path: d.csv, max_bytes: 0}\n",
            "key 'data[0].max_bytes': must be a positive number of bytes, got 0",
        ),
        ("version: 1\ndata:\n  - {path: ../d.csv}\n", "key 'data[0].path': path '../d.csv' is"),
        (
            "version: 1\ndata:\n  - {path: 'data/${name}.csv'}\n",
            "key 'data[0].path': 'data/${name}.csv' is DVC templating, not a path",
        ),
        ("version: 1\ndata:\n  - path: d.csv\n  - path: ./d.csv\n", "data lists 'd.csv' twice"),
        (
            "version: 1\nmodels:\n  - {path: m.pkl, gates: [accuracy]}\n",
            "key 'models[0].gates[0]': gate 'accuracy' does not parse",
        ),
        (
            "version: 1\nmodels:\n  - {path: m.pkl, format: h5}\n",
            "key 'models[0].format': must be one of auto, pickle",
        ),
        (
            "version: 1\nreproduce:\n  tolerance: {acc: -1}\n",
            "key 'reproduce.tolerance.acc': must be a non-negative number, got -1",
        ),
        (
            "version: 1\nreproduce:\n  seeds: [params.yaml]\n",
            "key 'reproduce.seeds[0]': must be FILE:dotted.key, got 'params.yaml'",
        ),
        (
            "version: 1\nreproduce:\n  seeds: ['/etc/x:seed']\n",
            "key 'reproduce.seeds[0]': seed file '/etc/x' is absolute",
        ),
        ("version: 1\nhooks: {block: true}\n", "key 'hooks.block': unknown key"),
        ("version: 1\nhooks: {block_stale: 1}\n", "key 'hooks.block_stale': must be true or false"),
    ],
)
def test_each_bad_config_is_one_message(text: str, message: str) -> None:
    with pytest.raises(BadInput) as exc:
        config.parse(text)
    assert message in str(exc.value)
    assert str(exc.value).startswith("gitml.yaml:")


def test_a_hostile_value_is_named_not_printed_whole() -> None:
    with pytest.raises(BadInput) as exc:
        config.parse("version: 1\npython: [" + ", ".join(["x"] * 500) + "]\n")
    text = str(exc.value)
    assert "key 'python': must be a string" in text and "characters)" in text
    assert len(text) < 450


def test_nesting_past_the_bound_is_bad_input_not_a_crash() -> None:
    with pytest.raises(BadInput, match="nested deeper than 100 levels"):
        config.parse("version: 1\nx: " + "[" * 150 + "]" * 150 + "\n")


# --- engine: spark -----------------------------------------------------------------------------

SPARK = """\
version: 1
data:
  - path: data/big.csv
    suite: s.json
    engine: spark
    spark:
      master: spark://head:7077
      conf: {spark.executor.memory: 4g, spark.sql.shuffle.partitions: 8, spark.x: true}
      read_from_remote: true
  - path: data/small.csv
    engine: spark
"""


def test_engine_spark_and_its_block() -> None:
    big, small = config.parse(SPARK).data
    assert big.engine == "spark" and big.spark is not None
    assert big.spark.master == "spark://head:7077"
    assert big.spark.conf == (
        ("spark.executor.memory", "4g"),
        ("spark.sql.shuffle.partitions", "8"),
        ("spark.x", "true"),
    )
    assert big.spark.read_from_remote is True
    assert small.spark == config.SparkOptions()  # defaults: local[*], no conf, the local cache
    assert small.spark.master == "local[*]" and not small.spark.read_from_remote
    plain = config.parse("version: 1\ndata:\n  - path: d.csv\n").data[0]
    assert plain.engine == "pandas" and plain.spark is None


@pytest.mark.parametrize(
    ("entry", "line", "key", "says"),
    [
        ("    engine: dask\n", 4, "data[0].engine", "must be one of pandas, spark"),
        ("    engine: spark\n    max_bytes: 100\n", 5, "data[0].max_bytes", "validated whole"),
        ("    engine: spark\n    sample: {rows: 5}\n", 5, "data[0].sample", "validated whole"),
        ("    spark: {master: local}\n", 4, "data[0].spark", "only with `engine: spark`"),
        ("    engine: spark\n    spark: {masters: x}\n", 5, "data[0].spark.masters", "unknown"),
        ("    engine: spark\n    spark: {master: ''}\n", 5, "data[0].spark.master", "empty"),
        ("    engine: spark\n    spark: {master: 3}\n", 5, "data[0].spark.master", "a string"),
        ("    engine: spark\n    spark: {conf: [a]}\n", 5, "data[0].spark.conf", "a mapping"),
        (
            "    engine: spark\n    spark:\n      conf: {a: [1]}\n",
            6,
            "data[0].spark.conf.a",
            "must be a string",
        ),
        (
            "    engine: spark\n    spark: {read_from_remote: 'yes'}\n",
            5,
            "data[0].spark.read_from_remote",
            "true or false",
        ),
    ],
)
def test_bad_spark_settings_name_line_and_key(entry: str, line: int, key: str, says: str) -> None:
    text = "version: 1\ndata:\n  - path: d.csv\n" + entry
    with pytest.raises(BadInput) as err:
        config.parse(text)
    message = str(err.value)
    assert f"gitml.yaml: line {line}, key {key!r}" in message, message
    assert says in message, message
