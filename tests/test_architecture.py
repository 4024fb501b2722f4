"""The arrows between Parley's modules point one way (docs/architecture.md, "Where things
live"): the domain's events import nothing of the gateway, and no module imports one
that imports it back, at the top or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

PARLEY = Path(__file__).resolve().parents[1] / "parley"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PARLEY.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(PARLEY.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The parley modules `path` imports, anywhere but under `if TYPE_CHECKING`."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("parley"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("parley"))
    return {m for m in found if m in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_events_import_nothing_of_the_gateway():
    graph = _graph()
    wrong = {
        name: sorted(d for d in deps if d.startswith("parley.realtime"))
        for name, deps in graph.items()
        if name.startswith("parley.events")
    }
    assert {name: deps for name, deps in wrong.items() if deps} == {}


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    cycles = []
    for start in graph:
        # every module reachable from `start`; a cycle if `start` is among them
        seen, todo = set(), list(graph[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        if start in seen:
            cycles.append(start)
    assert cycles == []
