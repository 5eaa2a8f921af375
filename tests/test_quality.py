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
    # the benchmarks too: their figures back the performance claims, so they are code we keep
    command = [tool("mypy"), "eda_sim", "benchmarks"]
    process = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
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


# --------------------------------------------------------------------------- sizes

#: The most lines a module of the package may have (docs/development.md: split it into a
#: subpackage of the same layer).
MODULE_LINES = 400
#: The most lines a function's body may have, its docstring left out (split it into the
#: steps it performs).
FUNCTION_LINES = 80

#: What is over a limit today because someone is splitting it now, each with the reason.
#: This list may only shrink: an entry that fits its limit again fails the suite until it
#: is removed, and nothing may be added to it (issue 17 part 4).
OVERSIZED: dict[str, str] = {}


def _body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function from its first statement after the docstring to its end."""
    body = function.body
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        body = body[1:]
    if not body:
        return 0
    start = min([body[0].lineno, *(d.lineno for d in getattr(body[0], "decorator_list", ()))])
    assert function.end_lineno is not None
    return function.end_lineno - start + 1


def _functions(
    tree: ast.AST, prefix: str = ""
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function of a module by qualified name (``Class.method``, ``outer.inner``)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((f"{prefix}{node.name}", node))
            found += _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            found += _functions(node, f"{prefix}{node.name}.")
        else:
            found += _functions(node, prefix)
    return found


def _oversized() -> dict[str, int]:
    """Every module over :data:`MODULE_LINES` and function over :data:`FUNCTION_LINES`."""
    over: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MODULE_LINES:
            over[name] = len(text.splitlines())
        for qualified, function in _functions(ast.parse(text)):
            if _body_lines(function) > FUNCTION_LINES:
                over[f"{name}::{qualified}"] = _body_lines(function)
    return over


def test_no_module_or_function_is_too_long() -> None:
    """Modules of at most 400 lines and function bodies of at most 80, but for OVERSIZED."""
    over = _oversized()
    offences = [f"{name}: {lines} lines" for name, lines in over.items() if name not in OVERSIZED]
    assert not offences, (
        f"split these (modules <= {MODULE_LINES} lines, function bodies <= {FUNCTION_LINES} "
        "lines without the docstring; see docs/development.md):\n" + "\n".join(offences)
    )


def test_the_list_of_oversized_things_only_shrinks() -> None:
    """An entry of OVERSIZED that fits again (or is gone) must leave the list."""
    over = _oversized()
    stale = sorted(name for name in OVERSIZED if name not in over)
    assert not stale, f"these fit now: remove them from OVERSIZED in {__file__}: {stale}"
