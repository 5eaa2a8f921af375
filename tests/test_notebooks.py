"""The notebooks in notebooks/ run from top to bottom, with small horizons, and are saved clean.

Each notebook has one code cell tagged ``parameters`` (``HORIZON = ...``,
``REPLICATIONS = ...``); the test rewrites those assignments with small values and
executes the notebook in a fresh kernel whose working directory is ``notebooks/``,
where Jupyter (``jupyter nbconvert --execute``, JupyterLab, VS Code) starts a
notebook's kernel, so a notebook that raises anywhere -- or reads a path relative to
the repository root -- fails the suite. Every cell that draws a figure must display
it (an image in its outputs): ``plt.show()`` after a Figure that pyplot does not
manage shows nothing. The saved files must carry no outputs and no execution counts
(they are committed clean).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

#: Per notebook, the small values that replace the parameters cell's assignments.
SMALL = {
    "01-quickstart.ipynb": {"HORIZON": "1_500", "REPLICATIONS": "2"},
    "02-theory-vs-simulation.ipynb": {"HORIZON": "1_500", "REPLICATIONS": "2"},
    "03-shopping-cart.ipynb": {"HORIZON": "200", "REPLICATIONS": "2"},
}


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    assert tagged[0].cell_type == "code"
    return tagged[0]


def shrink(nb: nbformat.NotebookNode, values: dict[str, str]) -> None:
    """Rewrite ``NAME = ...`` lines of the parameters cell, keeping everything else."""
    cell = parameters_cell(nb)
    for name, value in values.items():
        source, count = re.subn(
            rf"^{name}\s*=.*$", f"{name} = {value}", cell.source, flags=re.MULTILINE
        )
        assert count == 1, f"parameters cell does not assign {name} exactly once"
        cell.source = source


class NativeKernelManager(AsyncKernelManager):
    """Starts ipykernel in *this* interpreter, whatever kernels are installed.

    Only ipykernel's own (native) kernel spec is looked at, not the user's or the
    system's kernel directories, so a ``python3`` kernel registered elsewhere (for
    another Python, without eda_sim) cannot be picked up. Its command starts with
    ``python``, which jupyter_client replaces by ``sys.executable``. Nothing is
    installed or registered.
    """

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault(
            "kernel_spec_manager", KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)
        )
        super().__init__(**kwargs)


def test_native_kernel_runs_this_interpreter() -> None:
    manager = NativeKernelManager(kernel_name=NATIVE_KERNEL_NAME)
    argv = manager.kernel_spec.argv
    assert argv[0] in {"python", f"python{sys.version_info[0]}", sys.executable}


def test_every_notebook_is_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_is_saved_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    parameters_cell(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: cell {cell.get('id')} has saved outputs"
            assert cell.execution_count is None, f"{name}: cell {cell.get('id')} was executed"


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_runs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    shrink(nb, SMALL[name])
    client = NotebookClient(
        nb,
        kernel_manager_class=NativeKernelManager,
        timeout=300,
        kernel_name=NATIVE_KERNEL_NAME,
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # Jupyter's working directory
    )
    started = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:  # the message shows the cell and its traceback
        pytest.fail(f"{name} failed:\n{error}", pytrace=False)
    elapsed = time.perf_counter() - started
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    blank = [
        cell.get("id")
        for cell in nb.cells
        if cell.cell_type == "code" and draws_a_figure(cell.source) and not shows_an_image(cell)
    ]
    assert not blank, f"{name}: figure cells that display nothing: {blank}"
    print(f"{name}: {elapsed:.1f} s")


def draws_a_figure(source: str) -> bool:
    """Whether a cell makes a figure: pyplot's, or one of ``eda_sim.plots``."""
    return bool(re.search(r"plt\.(subplots|figure)\(|\bplots\.\w+\(", source))


def shows_an_image(cell: nbformat.NotebookNode) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.outputs)


def test_notebooks_name_no_path_relative_to_the_repository() -> None:
    """Scenario files come from ``eda_sim.examples``, found from any working directory."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert "scenarios/" not in cell.source, f"{path.name}: {cell.source[:80]!r}"


def test_figure_detection_sees_both_kinds() -> None:
    assert draws_a_figure("fig, ax = plt.subplots(figsize=(3, 2))")
    assert draws_a_figure('display(plots.sim_vs_theory(result, "W"))')
    assert not draws_a_figure("frame.plot_data()")
