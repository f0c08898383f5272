"""Reading DVC params files (YAML, JSON, TOML) and looking up dotted keys, as `dvc params` does."""

from __future__ import annotations

import json
from typing import Any

from gitml.errors import BadInput
from gitml.fileio import load_yaml

MISSING = object()


def parse(name: str, data: bytes) -> dict[str, Any]:
    try:
        if name.endswith(".json"):
            doc = json.loads(data)
        elif name.endswith(".toml"):
            import tomllib  # 14 ms the commit hook need not pay for YAML params

            doc = tomllib.loads(data.decode())
        else:
            doc = load_yaml(data)
    except Exception as exc:  # each parser has its own error family
        raise BadInput(f"{name}: cannot be parsed ({str(exc).splitlines()[0]})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BadInput(f"{name}: expected a mapping at the top level")
    return doc


def lookup(doc: Any, dotted: str) -> Any:
    """`doc["a"]["b"]` for "a.b"; a key that itself contains dots is tried whole first."""
    if isinstance(doc, dict) and dotted in doc:
        return doc[dotted]
    head, sep, rest = dotted.partition(".")
    if sep and isinstance(doc, dict) and head in doc:
        return lookup(doc[head], rest)
    if sep and isinstance(doc, list) and head.isdigit() and int(head) < len(doc):
        return lookup(doc[int(head)], rest)
    return MISSING


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Nested figures as {"a.b": value}: the one spelling of a nested metric (`train.loss`) in
    show, log, diff, report, gates and reproduce, the name `lookup` takes back."""
    if isinstance(doc, dict):
        out: dict[str, Any] = {}
        for k, v in doc.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.removesuffix("."): doc}
