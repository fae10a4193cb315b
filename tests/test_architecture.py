"""The shape the design agreed on: imports point one way (corpora -> trainer -> app) and no module
imports itself back through others, counting imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("corpora", "trainer", "app")
LAYER = {"corpora": 0, "trainer": 1, "app": 2}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Our module -> the modules of ours it imports (anywhere in the file)."""
    modules = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for target in targets:
                if target in modules and target != name and target != name.rsplit(".", 1)[0]:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_layers_import_downwards_only():
    wrong = [(a, b) for a, targets in import_graph().items() for b in targets
             if LAYER[b.split(".")[0]] > LAYER[a.split(".")[0]]]
    assert wrong == [], wrong


def test_no_import_cycles():
    # a package's __init__ re-exporting its modules is not a cycle of meaning; leave those edges out
    graph = {a: {b for b in targets if not (a.count(".") == 0 and b.startswith(a + "."))}
             for a, targets in import_graph().items()}
    assert _cycles(graph) == []
