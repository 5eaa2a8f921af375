"""The package stays ruff- and mypy-clean; its layers import only downward (docs/development.md)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "eda_sim"

#: The layer table of the package (DESIGN.md's table as the code has it), in the docs.
LAYER_TABLE = ROOT / "docs" / "development.md"
_ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*?)\|")


def _table(heading: str) -> dict[str, int]:
    """The rows ``| number | `name`, `name` | ... |`` of the table under ``heading``."""
    text = LAYER_TABLE.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}", 1)[1].split("\n#", 1)[0]
    rows: dict[str, int] = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            for name in re.findall(r"`([^`]+)`", match.group(2)):
                rows[name.removesuffix("/")] = int(match.group(1))
    return rows


#: A module may import only from its own layer or lower ones.
LAYERS = _table("## The package")
#: Inside the engine layer: imports go to a lower rank or within one's own subpackage.
ENGINE_RANKS = _table("### Inside the engine layer")


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


def _top(module: str) -> str:
    """The top-level module or package of ``eda_sim`` that ``module`` belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(module: str) -> int:
    return LAYERS[_top(module)]


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


def test_the_layer_table_names_every_module_and_only_modules() -> None:
    """Every module of the package has a row in the layer table, every row a module."""
    tops = {_top(module) for module in _module_names()}
    assert len(LAYERS) > 20, f"the layer table was not found in {LAYER_TABLE}"
    missing = sorted(tops - set(LAYERS))
    assert not missing, f"modules without a layer: add a row to {LAYER_TABLE}: {missing}"
    assert not set(LAYERS) - tops, f"rows of {LAYER_TABLE} that name no module"


def test_engine_ranks_name_every_engine_module() -> None:
    modules = _module_names()
    engine = {".".join(m.split(".")[1:3]) for m in modules if m.startswith("eda_sim.engine.")}
    assert engine == set(ENGINE_RANKS), f"the engine table of {LAYER_TABLE}"


def test_neither_engine_imports_the_other() -> None:
    """Inside the engine layer imports go to a lower rank or within one's own subpackage."""
    modules = _module_names()
    offences = []
    for module, path in modules.items():
        if not module.startswith("eda_sim.engine."):
            continue
        own = ".".join(module.split(".")[1:3])
        for imported in _imports(path, modules):
            target = ".".join(imported.split(".")[1:3])
            inside = imported.startswith("eda_sim.engine.") and target != own
            if inside and ENGINE_RANKS[target] >= ENGINE_RANKS[own]:
                offences.append(f"{module} imports {imported}")
    assert not offences, "\n".join(offences)


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
