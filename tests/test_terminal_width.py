"""Terminal output fits 80 columns without cutting a number or a name (issue 15 part 1).

Every shipped scenario's ``run``, ``theory`` and ``validate`` output is rendered
at 80 and at 200 columns by the printing code the command uses
(:func:`eda_sim.cli.tables.print_run`, ...) on the command's console
(:func:`eda_sim.cli.fit.output_console`). At each width: no line is wider than the
width, no line ends in a space, nothing is elided (``…``); and the numbers printed
at 80 columns are exactly those printed at 200 (a number cut or folded across two
lines would print as other numbers; compared as sets, since at 80 columns a method
shared by several stations is one footnote). The command itself honours ``COLUMNS`` on a pipe.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cell_len

from eda_sim.cli import run_output, theory_tables
from eda_sim.cli.fit import output_console
from eda_sim.experiment import run
from eda_sim.scenario import Scenario, load_scenario
from eda_sim.theory.scenario import solve

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
WIDTHS = (80, 200)
#: A number standing alone (not the digits of a name such as ``jackson3`` or ``W_p99``).
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def rendered(width: int, show: Callable[..., None]) -> str:
    stream = io.StringIO()
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        console = output_console(stream)
        show(console)
        console.file.flush()
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return stream.getvalue()


def check_widths(show: Callable[..., None]) -> None:
    numbers = {}
    for width in WIDTHS:
        text = rendered(width, show)
        assert text.strip(), "nothing printed"
        for line in text.splitlines():
            assert cell_len(line) <= width, f"{cell_len(line)} > {width} columns: {line!r}"
            assert line == line.rstrip(), f"trailing spaces: {line!r}"
        assert "…" not in text, text
        numbers[width] = set(NUMBER.findall(text))
    assert numbers[80] == numbers[200], (
        f"at 80 columns only: {numbers[80] - numbers[200]}; "
        f"at 200 only: {numbers[200] - numbers[80]}"
    )


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda path: path.stem)
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return load_scenario(request.param)


def test_run_output_fits(scenario: Scenario) -> None:
    warmup = scenario.run.warmup_time
    horizon = min(scenario.run.horizon, max(4 * warmup, 300.0))
    result = run(scenario, replications=2, horizon=horizon, warmup=warmup, engine="simpy")
    check_widths(lambda console: run_output.print_run(console, result, scenario.time_unit, "simpy"))


def test_theory_and_validate_output_fit(scenario: Scenario) -> None:
    theory = solve(scenario)
    check_widths(lambda console: theory_tables.print_theory(console, scenario, theory))
    check_widths(lambda console: console.print(theory_tables.validate_table(scenario)))


def test_the_command_honours_columns_on_a_pipe() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eda_sim", "theory", str(ROOT / "scenarios" / "shopping_cart.yaml")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert all(line == line.rstrip() for line in lines)
    wide = subprocess.run(
        [sys.executable, "-m", "eda_sim", "theory", str(ROOT / "scenarios" / "shopping_cart.yaml")],
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "COLUMNS"},
        timeout=120,
        check=True,
    )
    assert max(cell_len(line) for line in wide.stdout.splitlines()) > 80  # not folded


def test_sweep_output_fits() -> None:
    from eda_sim.cli.sweep_command import sweep_table
    from eda_sim.experiment import sweep

    scenario = load_scenario(ROOT / "scenarios" / "shopping_cart.yaml")
    result = sweep(
        scenario,
        "classes.add_to_cart.arrivals.rate",
        "10,20,40",
        replications=2,
        horizon=100,
        warmup=10,
        workers=1,
        engine="simpy",
    )
    check_widths(lambda console: console.print(sweep_table(result, scenario.time_unit)))
