"""The package stays ruff- and mypy-clean, and its layers import only downward (DESIGN.md)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "eda_sim"

#: DESIGN.md's layers: a module may import only from its own layer or lower ones.
LAYERS = {
    "errors": 0,
    "metrics": 0,
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


def test_modules_import_only_from_lower_layers() -> None:
    offences = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = _layer(module)
        for node in ast.walk(ast.parse(path.read_text())):
            imported = node.module if isinstance(node, ast.ImportFrom) else None
            if imported and imported.startswith("eda_sim.") and _layer(imported) > own:
                offences.append(f"{module} (layer {own}) imports {imported}")
    assert not offences, "\n".join(offences)


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
