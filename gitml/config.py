"""gitml.yaml (version 1): parsed, checked and turned into plain dataclasses.

Every error names the file, the line and the key, and is a BadInput (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitml import gates as gates_mod
from gitml import paths
from gitml import slices as slices_mod
from gitml.errors import BadInput
from gitml.fileio import check_yaml_bounds

CONFIG_FILE = "gitml.yaml"
DATA_FORMATS = ("auto", "csv", "tsv", "parquet", "jsonl", "json")
MODEL_FORMATS = (
    "auto",
    "pickle",
    "joblib",
    "skops",
    "onnx",
    "torch",
    "xgboost",
    "lightgbm",
    "keras",
)
ENGINES = ("pandas", "spark")
# pandas reader options that return an iterator of chunks instead of one table
STREAMING_READ_OPTIONS = ("chunksize", "iterator")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_MESSAGE = 300


@dataclass(frozen=True)
class SparkOptions:
    """A dataset's `spark:` block: where Spark runs and how it reads."""

    master: str = "local[*]"  # local[N], spark://HOST:PORT, yarn, k8s://...
    conf: tuple[tuple[str, str], ...] = ()  # SparkSession settings, in the order given
    read_from_remote: bool = False  # read the DVC remote's objects instead of the local cache


@dataclass(frozen=True)
class Dataset:
    path: str
    suite: str | None = None
    format: str = "auto"
    read: dict[str, Any] = field(default_factory=dict)
    sample: dict[str, Any] | None = None
    max_bytes: int | None = None  # size limit (default: GITML_VALIDATE_MAX_BYTES, 512 MiB)
    engine: str = "pandas"  # pandas | spark
    spark: SparkOptions | None = None  # set exactly when engine is spark


@dataclass(frozen=True)
class Model:
    path: str
    name: str
    format: str = "auto"
    metrics: str | None = None
    tests: str | None = None
    gates: tuple[str, ...] = ()
    baseline: str = "parent"
    slices: slices_mod.Slices | None = None  # what `gitml_slices` gives the tests


@dataclass(frozen=True)
class StageApprovals:
    """gitml.yaml `registry.approvals.STAGE`: who must approve a version before it enters STAGE."""

    required: int
    signers: str  # repo path of a file in git's allowed-signers format


TOP_KEYS = {"version", "python", "data", "models", "reproduce", "hooks", "registry", "environment"}


@dataclass(frozen=True)
class Config:
    version: int = 1
    python: str | None = None
    data: tuple[Dataset, ...] = ()
    models: tuple[Model, ...] = ()
    tolerance: dict[str, float] = field(default_factory=dict)
    seeds: tuple[str, ...] = ()
    block_stale: bool = False
    approvals: dict[str, StageApprovals] = field(default_factory=dict)
    # `environment: {files: [...]}`: infrastructure files recorded besides the known ones
    environment_files: tuple[str, ...] = ()

    def watched_paths(self) -> set[str]:
        """Paths whose staged change means the hook has work to do."""
        out = {CONFIG_FILE}
        for d in self.data:
            out.add(d.path)
            if d.suite:
                out.add(d.suite)
        for m in self.models:
            out.add(m.path)
            out.update(p for p in (m.metrics, m.tests) if p)
        out.update(s.split(":", 1)[0] for s in self.seeds)
        return out


class _Doc:
    """A composed YAML document, so that every value can be traced back to its line."""

    def __init__(self, name: str, text: bytes | str):
        self.name = name
        try:
            check_yaml_bounds(text)
            self.node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise BadInput(f"{name}:{where}: not valid YAML ({problem})") from None

    def fail(self, node: yaml.Node | None, key: str, msg: str) -> BadInput:
        line = f" line {node.start_mark.line + 1}," if node is not None else ""
        if len(msg) > MAX_MESSAGE:  # a hostile value is named, not printed whole
            msg = msg[:MAX_MESSAGE] + f"... ({len(msg)} characters)"
        return BadInput(f"{self.name}:{line} key {key[:MAX_MESSAGE]!r}: {msg}")

    def value(self, node: yaml.Node) -> Any:
        # Constructed from the composed node itself: a round trip through yaml.serialize (pure
        # Python) costs seconds per megabyte of a hostile value.
        return yaml.constructor.SafeConstructor().construct_document(node)


def _mapping(doc: _Doc, node: yaml.Node | None, key: str) -> dict[str, yaml.Node]:
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise doc.fail(node, key, "must be a mapping")
    out: dict[str, yaml.Node] = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise doc.fail(k, key, "keys must be plain strings")
        out[str(k.value)] = v
    return out


def _check_keys(
    doc: _Doc, items: dict[str, yaml.Node], allowed: set[str], where: str, node: yaml.Node | None
) -> None:
    for k, v in items.items():
        if k not in allowed:
            raise doc.fail(
                v, f"{where}{k}", f"unknown key (allowed here: {', '.join(sorted(allowed))})"
            )


def _scalar(
    doc: _Doc, node: yaml.Node | None, key: str, kind: type | tuple[type, ...], default: Any = None
) -> Any:
    if node is None:
        return default
    value = doc.value(node)
    if (
        isinstance(value, bool)
        and kind is not bool
        and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        raise doc.fail(node, key, f"must be {_kind_name(kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise doc.fail(node, key, f"must be {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        dict: "a mapping",
        list: "a list",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _path(doc: _Doc, node: yaml.Node | None, key: str, required: bool = False) -> str | None:
    value = _scalar(doc, node, key, str)
    if value is None:
        if required:
            raise doc.fail(node, key, "is required")
        return None
    if "${" in value:
        raise doc.fail(
            node,
            key,
            f"{value!r} is DVC templating, not a path (no file DVC tracks has `${{` in its "
            "path): write the resolved path, e.g. as `gitml init` in a fresh clone writes it",
        )
    try:
        return paths.normalize(value, what="path")
    except BadInput as exc:
        raise doc.fail(node, key, str(exc)) from None


def _list(doc: _Doc, node: yaml.Node | None, key: str) -> list[yaml.Node]:
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise doc.fail(node, key, "must be a list")
    return list(node.value)


def _positive_int(doc: _Doc, node: yaml.Node | None, key: str) -> int | None:
    value = _scalar(doc, node, key, int)
    if value is not None and value < 1:
        raise doc.fail(node, key, f"must be a positive number of bytes, got {value!r}")
    return value  # type: ignore[no-any-return]


def _dataset(doc: _Doc, node: yaml.Node, key: str) -> Dataset:
    items = _mapping(doc, node, key)
    allowed = {"path", "suite", "format", "read", "sample", "max_bytes", "engine", "spark"}
    _check_keys(doc, items, allowed, f"{key}.", node)
    if "path" not in items:
        raise doc.fail(node, f"{key}.path", "is required")
    fmt = _scalar(doc, items.get("format"), f"{key}.format", str, "auto")
    if fmt not in DATA_FORMATS:
        raise doc.fail(
            items["format"], f"{key}.format", f"must be one of {', '.join(DATA_FORMATS)}"
        )
    read = _scalar(doc, items.get("read"), f"{key}.read", dict, {}) or {}
    for option in read:
        if option in STREAMING_READ_OPTIONS:
            raise doc.fail(
                items["read"],
                f"{key}.read.{option}",
                "is not allowed: gitml reads the whole table (use `sample: {rows: N}` for "
                "part of it)",
            )
    engine, spark = _engine(doc, items, key)
    return Dataset(
        path=_path(doc, items["path"], f"{key}.path", required=True) or "",
        suite=_path(doc, items.get("suite"), f"{key}.suite"),
        format=fmt,
        read=read,
        sample=_scalar(doc, items.get("sample"), f"{key}.sample", dict, None),
        max_bytes=_positive_int(doc, items.get("max_bytes"), f"{key}.max_bytes"),
        engine=engine,
        spark=spark,
    )


def _engine(doc: _Doc, items: dict[str, yaml.Node], key: str) -> tuple[str, SparkOptions | None]:
    """`engine:` and its `spark:` block; the pandas engine's size limit and sample are refused
    with Spark, which reads the data whole wherever it is."""
    engine = _scalar(doc, items.get("engine"), f"{key}.engine", str, "pandas")
    if engine not in ENGINES:
        raise doc.fail(items["engine"], f"{key}.engine", f"must be one of {', '.join(ENGINES)}")
    if engine == "pandas":
        if "spark" in items:
            raise doc.fail(items["spark"], f"{key}.spark", "applies only with `engine: spark`")
        return engine, None
    for option in ("max_bytes", "sample"):
        if option in items:
            raise doc.fail(
                items[option],
                f"{key}.{option}",
                "is the pandas engine's; with `engine: spark` the data is validated whole "
                "(remove it)",
            )
    return engine, _spark_options(doc, items.get("spark"), f"{key}.spark")


def _spark_options(doc: _Doc, node: yaml.Node | None, key: str) -> SparkOptions:
    items = _mapping(doc, node, key)
    _check_keys(doc, items, {"master", "conf", "read_from_remote"}, f"{key}.", node)
    master = _scalar(doc, items.get("master"), f"{key}.master", str, "local[*]")
    if not master.strip():
        raise doc.fail(items["master"], f"{key}.master", "must not be empty")
    conf = []
    for name, value_node in _mapping(doc, items.get("conf"), f"{key}.conf").items():
        value = _scalar(doc, value_node, f"{key}.conf.{name}", (str, int, float, bool))
        conf.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
    remote = _scalar(doc, items.get("read_from_remote"), f"{key}.read_from_remote", bool, False)
    return SparkOptions(master=master, conf=tuple(conf), read_from_remote=remote)


# {model path: the name dvc.yaml `artifacts:` give it}, asked for only when a model has no `name:`
DvcNames = Callable[[], Mapping[str, str]]


def _model(doc: _Doc, node: yaml.Node, key: str, dvc_names: DvcNames | None) -> Model:
    items = _mapping(doc, node, key)
    allowed = {"path", "name", "format", "metrics", "tests", "gates", "baseline", "slices"}
    _check_keys(doc, items, allowed, f"{key}.", node)
    if "path" not in items:
        raise doc.fail(node, f"{key}.path", "is required")
    path = _path(doc, items["path"], f"{key}.path", required=True) or ""
    fmt = _scalar(doc, items.get("format"), f"{key}.format", str, "auto")
    if fmt not in MODEL_FORMATS:
        raise doc.fail(
            items["format"], f"{key}.format", f"must be one of {', '.join(MODEL_FORMATS)}"
        )
    rules = []
    for i, g in enumerate(_list(doc, items.get("gates"), f"{key}.gates")):
        rule = _scalar(doc, g, f"{key}.gates[{i}]", str)
        try:
            gates_mod.parse(rule)
        except BadInput as exc:
            raise doc.fail(g, f"{key}.gates[{i}]", str(exc)) from None
        rules.append(rule)
    name = _scalar(doc, items.get("name"), f"{key}.name", str)
    if name is None:  # DVC's name for it, else the file's stem
        name = (dvc_names() if dvc_names else {}).get(path) or path.rsplit("/", 1)[-1].split(".")[0]
    return Model(
        path=path,
        name=name,
        format=fmt,
        metrics=_path(doc, items.get("metrics"), f"{key}.metrics"),
        tests=_path(doc, items.get("tests"), f"{key}.tests"),
        gates=tuple(rules),
        baseline=str(_scalar(doc, items.get("baseline"), f"{key}.baseline", str, "parent")),
        slices=slices_mod.from_node(doc, items.get("slices"), f"{key}.slices"),
    )


def _once(names: DvcNames | None) -> DvcNames | None:
    if names is None:
        return None
    found: list[Mapping[str, str]] = []

    def get() -> Mapping[str, str]:
        if not found:
            found.append(names())
        return found[0]

    return get


def parse(text: bytes | str, name: str = CONFIG_FILE, dvc_names: DvcNames | None = None) -> Config:
    """Parse and check gitml.yaml; raise BadInput naming file, line and key. `dvc_names` gives
    the names dvc.yaml `artifacts:` declare, the default of a model without `name:`."""
    dvc_names = _once(dvc_names)
    doc = _Doc(name, text)
    if doc.node is None:
        raise BadInput(f"{name}: the file is empty (expected at least `version: 1`)")
    top = _mapping(doc, doc.node, "(top level)")
    _check_keys(doc, top, TOP_KEYS, "", doc.node)
    version = _scalar(doc, top.get("version"), "version", int)
    if version != 1:
        raise doc.fail(top.get("version", doc.node), "version", "must be 1 (the only version)")
    data = tuple(
        _dataset(doc, n, f"data[{i}]") for i, n in enumerate(_list(doc, top.get("data"), "data"))
    )
    models = tuple(
        _model(doc, n, f"models[{i}]", dvc_names)
        for i, n in enumerate(_list(doc, top.get("models"), "models"))
    )
    _once_each(name, "data", [d.path for d in data])
    _once_each(name, "models", [m.path for m in models])
    tolerance, seeds = _reproduce(doc, top.get("reproduce"))
    hooks = _mapping(doc, top.get("hooks"), "hooks")
    _check_keys(doc, hooks, {"block_stale"}, "hooks.", top.get("hooks"))
    python = _scalar(doc, top.get("python"), "python", str)
    return Config(
        version=1,
        python=python,
        data=data,
        models=models,
        tolerance=tolerance,
        seeds=seeds,
        block_stale=bool(_scalar(doc, hooks.get("block_stale"), "hooks.block_stale", bool, False)),
        approvals=_approvals(doc, top.get("registry")),
        environment_files=_environment_files(doc, top.get("environment")),
    )


def _environment_files(doc: _Doc, node: yaml.Node | None) -> tuple[str, ...]:
    """`environment: {files: [PATH, ...]}`, each a repository path."""
    fields = _mapping(doc, node, "environment")
    _check_keys(doc, fields, {"files"}, "environment.", node)
    listed = _list(doc, fields.get("files"), "environment.files")
    return tuple(
        _path(doc, n, f"environment.files[{i}]", required=True) or "" for i, n in enumerate(listed)
    )


def _approvals(doc: _Doc, node: yaml.Node | None) -> dict[str, StageApprovals]:
    """`registry: {approvals: {STAGE: {required: N, signers: FILE}}}`."""
    registry = _mapping(doc, node, "registry")
    _check_keys(doc, registry, {"approvals"}, "registry.", node)
    found = {}
    for stage, item in _mapping(doc, registry.get("approvals"), "registry.approvals").items():
        key = f"registry.approvals.{stage}"
        fields = _mapping(doc, item, key)
        _check_keys(doc, fields, {"required", "signers"}, f"{key}.", item)
        required = _scalar(doc, fields.get("required"), f"{key}.required", int, 1)
        if required < 1:
            raise doc.fail(fields["required"], f"{key}.required", "must be at least 1")
        signers = _path(doc, fields.get("signers"), f"{key}.signers", required=True)
        found[stage] = StageApprovals(required=required, signers=signers or "")
    return found


def _once_each(name: str, kind: str, listed: list[str]) -> None:
    """A path listed twice under `kind` is refused."""
    seen: set[str] = set()
    for path in listed:
        if path in seen:
            raise BadInput(f"{name}: {kind} lists {path!r} twice")
        seen.add(path)


def _reproduce(doc: _Doc, node: yaml.Node | None) -> tuple[dict[str, float], tuple[str, ...]]:
    """(tolerance per metric, seeds) of the `reproduce:` section."""
    repro = _mapping(doc, node, "reproduce")
    _check_keys(doc, repro, {"tolerance", "seeds"}, "reproduce.", node)
    tolerance = _scalar(doc, repro.get("tolerance"), "reproduce.tolerance", dict, {}) or {}
    for metric, tol in tolerance.items():
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
            raise doc.fail(
                repro["tolerance"],
                f"reproduce.tolerance.{metric}",
                f"must be a non-negative number, got {tol!r}",
            )
    seeds = tuple(
        _seed(doc, s, f"reproduce.seeds[{i}]")
        for i, s in enumerate(_list(doc, repro.get("seeds"), "reproduce.seeds"))
    )
    return {k: float(v) for k, v in tolerance.items()}, seeds


def _seed(doc: _Doc, node: yaml.Node, key: str) -> str:
    """A `FILE:dotted.key` seed, its file a clean repo-relative path."""
    seed = str(_scalar(doc, node, key, str))
    file, sep, key_path = seed.partition(":")
    if not sep or not key_path:
        raise doc.fail(node, key, f"must be FILE:dotted.key, got {seed!r}")
    try:
        paths.normalize(file, what="seed file")
    except BadInput as exc:
        raise doc.fail(node, key, str(exc)) from None
    return seed
