"""The package's shape, as issue 16 set it: checked on every run so that it stays true.

- no import cycle between gitml's modules (an import inside a function counts: it is an arrow
  all the same, only a later one);
- commands only orchestrate: no module of gitml/commands imports another, and no domain module
  imports gitml.commands;
- no module over 450 lines, no function over 60.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


PACKAGE = Path(__file__).resolve().parents[1] / "gitml"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    yield f"{target}.{alias.name}"
                elif target in modules:
                    yield target


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: set(_imported(name, path, modules)) - {name, "gitml", "gitml.commands"}
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_import_graph()) == []


def test_commands_only_orchestrate() -> None:
    graph = _import_graph()
    climbing = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        for target in targets
        if target.startswith("gitml.commands.")
        and source != "gitml.cli"
        and not source.startswith("gitml.cli")
    )
    assert climbing == [], "only the CLI imports gitml.commands"


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []


def test_the_graph_sees_lazy_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function is an arrow (else cycles hide there)."""
    modules = {"gitml.a": tmp_path / "a.py", "gitml.b": tmp_path / "b.py"}
    modules["gitml.a"].write_text("def f():\n    from gitml import b\n")
    modules["gitml.b"].write_text("from gitml.a import f\n")
    graph = {name: set(_imported(name, path, modules)) for name, path in modules.items()}
    assert _cycles(graph) == [["gitml.a", "gitml.b"]]
