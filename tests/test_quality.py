"""The package stays ruff- and mypy-clean, and its layers import only downward (DESIGN.md)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "eda_sim"

#: DESIGN.md's layers: a module may import only from its own layer or lower ones.
LAYERS = {
    "errors": 0,
    "frames": 5,
    "examples": 0,
    "metrics": 0,
    "version": 0,
    "rng": 0,
    "distributions": 1,
    "traces": 1,
    "files": 0,
    "text": 0,
    "routing": 1,
    "traffic": 1,
    "scenario": 2,
    "theory": 3,
    "checks": 3,
    "kolmogorov": 3,
    "stats": 3,
    "engine": 4,
    "experiment": 5,
    "results": 5,
    "plots": 6,
    "report": 6,
    "cli": 7,
    "__main__": 7,
    "__init__": 7,
}


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; pip install -e '.[dev]'")
    return found


def test_ruff_is_clean() -> None:
    process = subprocess.run(
        [tool("ruff"), "check", "eda_sim", "tests", "benchmarks"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert process.returncode == 0, process.stdout + process.stderr


def test_mypy_strict_is_clean() -> None:
    process = subprocess.run([tool("mypy"), "eda_sim"], capture_output=True, text=True, cwd=ROOT)
    assert process.returncode == 0, process.stdout + process.stderr


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def _module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(path: Path, modules: Mapping[str, Path]) -> set[str]:
    """The package modules ``path`` imports, at its top or in a function.

    ``from eda_sim.x import y`` imports ``eda_sim.x.y`` when that is a module, else
    ``eda_sim.x``; imports under ``if TYPE_CHECKING:`` are left out (they never run).
    """
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "eda_sim":
            assert node.module is not None
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "eda_sim")
    return {name for name in found if name in modules}


def test_modules_import_only_from_lower_layers() -> None:
    modules = _module_names()
    offences = []
    for module, path in modules.items():
        own = _layer(module)
        for imported in sorted(_imports(path, modules)):
            if _layer(imported) > own:
                offences.append(f"{module} (layer {own}) imports {imported}")
    assert not offences, "\n".join(offences)


def test_no_import_cycles() -> None:
    """DESIGN.md: no cycles, counting imports inside functions (they are cycles put off)."""
    modules = _module_names()
    graph = {module: _imports(path, modules) - {module} for module, path in modules.items()}
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def _importers(package: str) -> list[str]:
    """The package's modules that import ``package`` (or one of its submodules)."""
    return sorted(
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if any(
            (
                isinstance(node, ast.Import)
                and any(a.name.split(".")[0] == package for a in node.names)
            )
            or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == package)
            for node in ast.walk(ast.parse(path.read_text()))
        )
    )


def test_only_the_simpy_engine_imports_simpy() -> None:
    importers = _importers("simpy")
    assert importers, "the SimPy engine imports simpy"
    assert all(path.startswith("eda_sim/engine/simpy/") for path in importers), importers


def test_only_the_fast_engine_imports_numba() -> None:
    importers = _importers("numba")
    assert importers, "the fast engine imports numba"
    assert all(path.startswith("eda_sim/engine/fast/") for path in importers), importers
