"""How the code is layered, held by the imports themselves (read with ``ast``, every import:
at the top, inside a function or under ``TYPE_CHECKING``): no module imports one that imports
it back, however far round; no folder of the server imports one that imports it back either
(a module at the top of server/ counts as a folder of its own), and the plumbing imports no
other part of the server; the wire schemas and the push package stand below the server. A new
cycle fails here with the modules that make it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("server", "schemas", "push")
# What each package may import of the project: schemas are the wire contract and know
# nothing else; push knows the schemas (its alert rules name event types); the server knows
# both, never the other way round.
MAY_IMPORT = {"schemas": {"schemas"}, "push": {"push", "schemas"}, "server": set(PACKAGES)}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imported(module: str, path: Path) -> Iterator[str]:
    """The project's modules ``module`` imports."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[: len(package) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            # ``from a import b`` imports module a.b when there is one, else a name of a.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


IMPORTS = {module: set(_imported(module, path)) for module, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
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
            while (top := stack.pop()) != node:
                component.append(top)
            component.append(node)
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _part(module: str) -> str:
    """The part of the server a module belongs to: its folder under server/, or the module
    itself when it stands at the top of server/."""
    return ".".join(module.split(".")[:2])


SERVER = {module for module in MODULES if module.startswith("server.")}
# Which part imports which: the folders of server/ and the modules at its top.
PARTS = {
    part: {_part(i) for m in SERVER if _part(m) == part for i in IMPORTS[m] if i in SERVER} - {part}
    for part in {_part(module) for module in SERVER}
}


def _shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest way round one cycle of ``graph`` among ``component``, first node last too."""
    best: list[str] = []
    for start in component:
        paths = {start: [start]}
        queue = [start]
        while queue and not (best and len(paths[queue[0]]) >= len(best)):
            node = queue.pop(0)
            for nxt in sorted(graph[node] & set(component)):
                if nxt == start:
                    if not best or len(paths[node]) + 1 < len(best):
                        best = [*paths[node], start]
                elif nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    queue.append(nxt)
    return best


def _ties(graph: dict[str, set[str]]) -> list[str]:
    """For each cycle of ``graph``, its shortest way round, each step with an import that
    makes it: where to look first."""
    found = []
    for component in _cycles(graph):
        way = _shortest_cycle(graph, component)
        steps = []
        for a, b in pairwise(way):
            module, imported = min(
                (m, i) for m in SERVER if _part(m) == a for i in IMPORTS[m] if _part(i) == b
            )
            steps.append(f"{module} imports {imported}")
        found.append(" -> ".join(way) + ": " + "; ".join(steps))
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert _cycles(IMPORTS) == []


def test_no_folder_of_the_server_imports_one_that_imports_it_back() -> None:
    assert _ties(PARTS) == []


def test_the_plumbing_imports_no_other_part_of_the_server() -> None:
    assert PARTS["server.plumbing"] == set()


def test_the_schemas_and_push_stand_below_the_server() -> None:
    upward = sorted(
        f"{module} imports {imported}"
        for module, imported_modules in IMPORTS.items()
        for imported in imported_modules
        if imported.split(".")[0] not in MAY_IMPORT[module.split(".")[0]]
    )
    assert upward == []


def test_a_cycle_is_found_with_its_modules() -> None:
    """The check itself: a ring of three and a pair are reported, a chain is not."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert sorted(_cycles(graph)) == [["a", "b", "c"], ["d", "e"]]


def test_a_module_counts_for_its_folder_or_for_itself() -> None:
    """The parts the folder check compares: a folder of server/, or a module at its top."""
    assert _part("server.accounts.auth") == "server.accounts"
    assert _part("server.practices") == "server.practices"
    assert _part("server.app") == "server.app"
