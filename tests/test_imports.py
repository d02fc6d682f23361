"""The import graph of the package: no cycles between nmfkit modules, and the command line imported by nobody.

Every ``import`` statement counts, at the top of a module or inside a function:
a function-local import that closes a cycle is still a cycle, it only fails
later. Edges from a module to the packages that contain it are left out
(importing ``nmfkit.solvers.hals`` loads ``nmfkit.solvers`` first, which is no
dependency of the module's own).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "nmfkit"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The nmfkit module that defines ``name`` (a module, or a name inside one)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> dict[str, int]:
    """The nmfkit modules ``module`` imports, each with the line of its first import."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            owner = _owner(target) if target.split(".")[0] == "nmfkit" else None
            if owner and owner != module and not module.startswith(owner + "."):
                found.setdefault(owner, node.lineno)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read():
    """The reader sees the imports it must (so that an empty graph cannot pass the tests below)."""
    assert "nmfkit.driver" in GRAPH["nmfkit.fit"]
    assert "nmfkit.solvers._base" in GRAPH["nmfkit.solvers.hals"]
    assert "nmfkit.cli.shared" in GRAPH["nmfkit.cli.fit"]
    assert _cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_nmfkit_modules():
    cycles = _cycles(GRAPH)
    detail = "; ".join(" -> ".join(c) + " (" + ", ".join(f"{m} imports {t} at line {GRAPH[m][t]}" for m in c
                                                        for t in GRAPH[m] if t in c) + ")" for c in cycles)
    assert not cycles, f"import cycles: {detail}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("nmfkit.cli")))
def test_only_the_launcher_imports_the_command_line(module):
    """Methods know nothing of the CLI; ``python -m nmfkit`` (``nmfkit.__main__``) alone starts it."""
    cli = {t: line for t, line in GRAPH[module].items() if t == "nmfkit.cli" or t.startswith("nmfkit.cli.")}
    if module == "nmfkit.__main__":
        assert set(cli) == {"nmfkit.cli"}
    else:
        assert not cli, f"{module} imports {', '.join(f'{t} (line {n})' for t, n in cli.items())}"
