"""Each ``eda-sim`` command loads only the heavy modules it needs (issue 14, start-up).

Every case runs the real command in a fresh interpreter (``python -c`` calling the
console script's ``main``), then writes the names in ``sys.modules`` to a file; the
test asserts which heavy packages are there. ``scipy.stats`` alone costs about 0.4 s
and 50 MB, pandas 0.2 s and 40 MB, matplotlib and numba more: a command that does
not use one must not load it. How long each command takes is measured by
``benchmarks/bench_startup.py``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MM1 = str(ROOT / "scenarios" / "mm1.yaml")
QUICK = ["--horizon", "300", "--replications", "2", "--warmup", "30", "--workers", "1"]

#: Runs the command with the arguments given, then lists the loaded modules in a file.
DRIVER = """
import json, sys
out, args = sys.argv[1], sys.argv[2:]
sys.argv = ["eda-sim", *args]
from eda_sim.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
else:
    code = 0
import os
with open(out, "w") as file:
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    json.dump({"code": code, "modules": sorted(sys.modules), "blas": blas}, file)
"""

#: Loaded by no command except the one that needs it.
HEAVY = ("scipy.stats", "pandas", "matplotlib", "numba", "dask", "distributed")
#: Not needed to parse the command line or print help.
FOUNDATIONS = ("numpy", "scipy", "yaml", "pydantic", "rich", "simpy", *HEAVY)
#: Not needed to check a scenario: nothing of the simulation, theory and results.
NOT_FOR_CHECKING = ("scipy", "simpy", *HEAVY)


def loaded(tmp_path: Path, *args: str) -> set[str]:
    """The top-level packages (and ``scipy.X`` subpackages) loaded by ``eda-sim ARGS``."""
    out = tmp_path / "modules.json"
    process = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.exists(), process.stderr
    document = json.loads(out.read_text())
    assert document["code"] in (0, 2), process.stderr
    names = set()
    for module in document["modules"]:
        parts = module.split(".")
        names.add(parts[0])
        if parts[0] == "scipy" and len(parts) > 1:
            names.add(".".join(parts[:2]))
        if module.startswith("eda_sim.engine.fast."):
            names.add(module)
    return names


def assert_absent(names: set[str], forbidden: tuple[str, ...]) -> None:
    present = sorted(set(forbidden) & names)
    assert not present, f"loaded but not needed: {present}"


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_load_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    names = loaded(tmp_path, *args)
    assert "typer" in names
    assert_absent(names, FOUNDATIONS)


@pytest.mark.parametrize("args", [["run", "--help"], ["sweep", "--help"], ["report", "--help"]])
def test_a_command_s_help_loads_only_what_the_parser_needs(tmp_path: Path, args: list[str]) -> None:
    # typer parses every option of a command through a pydantic TypeAdapter, so the
    # help of a command loads pydantic; nothing else.
    names = loaded(tmp_path, *args)
    assert_absent(names, tuple(name for name in FOUNDATIONS if name != "pydantic"))


@pytest.mark.parametrize(
    "scenario", [MM1, str(ROOT / "tests" / "bad_inputs" / "25-unknown-station-in-routing.yaml")]
)
def test_validate_loads_no_simulation_theory_or_results(tmp_path: Path, scenario: str) -> None:
    names = loaded(tmp_path, "validate", scenario)
    assert {"numpy", "pydantic", "yaml"} <= names
    assert_absent(names, NOT_FOR_CHECKING)


def test_schema_loads_no_simulation_theory_or_results(tmp_path: Path) -> None:
    assert_absent(loaded(tmp_path, "schema"), NOT_FOR_CHECKING)


def test_theory_loads_no_simulation_and_no_scipy_stats(tmp_path: Path) -> None:
    names = loaded(tmp_path, "theory", MM1)
    assert "scipy.special" in names
    assert_absent(names, ("simpy", *HEAVY))


@pytest.mark.parametrize("extra", [[], ["--json", "result.json"], ["--ci", "batch-means"]])
def test_a_simpy_run_loads_neither_scipy_stats_nor_pandas(tmp_path: Path, extra: list[str]) -> None:
    names = loaded(tmp_path, "run", MM1, *QUICK, *extra)
    assert "simpy" in names
    assert_absent(names, HEAVY)


@pytest.mark.parametrize("scenario", ["mm1.yaml", "jackson3.yaml", "tandem.yaml"])
def test_a_run_without_a_ctmc_loads_no_scipy_solvers_and_no_fast_driver(
    tmp_path: Path, scenario: str
) -> None:
    """Formula theory and percentiles need ``scipy.special`` only (25 MB less than optimize).

    Root finding is :mod:`eda_sim.theory.roots` and cycles the routing's Tarjan
    search; the fast engine's driver loads only when that engine runs.
    """
    names = loaded(tmp_path, "run", str(ROOT / "scenarios" / scenario), *QUICK)
    assert "simpy" in names and "scipy.special" in names
    absent = ("scipy.optimize", "scipy.sparse", "scipy.linalg", "eda_sim.engine.fast.driver")
    assert_absent(names, absent)


def test_a_fast_run_loads_numba_and_nothing_else_heavy(tmp_path: Path) -> None:
    pytest.importorskip("numba")
    names = loaded(tmp_path, "run", MM1, *QUICK, "--engine", "fast")
    assert "numba" in names
    assert_absent(names, tuple(name for name in HEAVY if name != "numba"))


def test_a_sweep_loads_pandas_only_for_csv(tmp_path: Path) -> None:
    sweep = ["sweep", MM1, "--param", "arrivals.rate", "--values", "0.5,0.6", *QUICK[:6]]
    assert_absent(loaded(tmp_path, *sweep, "--workers", "1"), HEAVY)
    names = loaded(tmp_path, *sweep, "--workers", "1", "--csv", "table.csv")
    assert "pandas" in names
    assert_absent(names, ("scipy.stats", "matplotlib", "numba", "dask", "distributed"))


def test_a_report_loads_matplotlib(tmp_path: Path) -> None:
    names = loaded(tmp_path, "run", MM1, *QUICK, "--report", "report")
    assert "matplotlib" in names
    assert_absent(names, ("numba", "dask", "distributed"))


def test_importing_the_package_loads_only_what_its_names_need() -> None:
    code = (
        "import sys, eda_sim; heavy = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(heavy & {'numpy', 'pydantic', 'yaml', 'scipy', 'pandas', 'simpy'}))"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert process.stdout.strip() == "[]", process.stdout + process.stderr


def test_the_command_runs_blas_on_one_thread_unless_told(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    for given, expected in ((None, "1"), ("2", "2")):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        if given is not None:
            env["OPENBLAS_NUM_THREADS"] = given
        subprocess.run(
            [sys.executable, "-c", DRIVER, str(out), "validate", MM1],
            capture_output=True,
            cwd=tmp_path,
            env=env,
            timeout=300,
            check=True,
        )
        assert json.loads(out.read_text())["blas"] == expected
