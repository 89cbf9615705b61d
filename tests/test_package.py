"""The package's shape: its import graph has no cycle, its layers flow one way (the
import-linter contract in pyproject.toml), and every module imports on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "reportgen"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _own(name: str, modules: dict[str, Path]) -> str | None:
    """The package module an import names (`reportgen.x.y.Name` -> `reportgen.x.y`)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports, at its top or inside a function alike."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names += [f"{node.module}.{alias.name}" for alias in node.names]
        graph[module] = {m for n in names if (m := _own(n, modules)) and m != module}
    return graph


def test_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert "reportgen.project" in graph["reportgen.build"]  # the graph sees imports
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from exc
    assert set(order) == set(graph)


def test_every_module_imports_in_a_fresh_interpreter_in_dependency_order() -> None:
    """Leaves first: a module that only worked because another had loaded its imports fails here
    (__main__ is left out: importing it runs the CLI)."""
    order = [
        m for m in TopologicalSorter(import_graph()).static_order() if m != "reportgen.__main__"
    ]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run(
        [sys.executable, "-c", code, *order], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_layers_flow_one_way() -> None:
    """cli -> publish -> build core -> render/pdf -> brief: `lint-imports` keeps the contract."""
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(linter)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout
