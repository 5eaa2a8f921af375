"""The report fixes of issue 15 part 5: names, blocked rows, fixed routes, the diagram, curves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import eda_sim
from eda_sim.plots.diagram import fit_name, full_mark
from eda_sim.report import write_report
from eda_sim.report.run import _random_routing
from eda_sim.report.theory_curve import theory_curve
from eda_sim.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent

#: A blocks at B (capacity 1, blocking after service); C is an M/M/1 beside them.
BLOCKING = {
    "name": "blocking",
    "stations": {
        "front_desk": {"servers": 1, "service": {"dist": "exponential", "rate": 2.0}},
        "back_office": {
            "servers": 1,
            "capacity": 1,
            "on_full": "block",
            "service": {"dist": "exponential", "rate": 1.5},
        },
        "side": {"servers": 1, "service": {"dist": "exponential", "rate": 3.0}},
    },
    "classes": {
        "main": {
            "arrivals": {"process": "poisson", "rate": 0.8, "to": "front_desk"},
            "routing": {"front_desk": {"back_office": 1.0}},
        },
        "other": {
            "arrivals": {"process": "poisson", "rate": 0.5, "to": "side"},
            "routing": {"side": {"front_desk": 0.3}},
        },
    },
    "run": {"horizon": 300, "warmup": 30, "replications": 2, "seed": 3},
}


@pytest.mark.parametrize(
    "name", ["product", "inventory", "a_rather_long_station_name", "x" * 30, "two words here"]
)
@pytest.mark.parametrize("width", [20.0, 40.0, 60.0, 120.0])
def test_a_box_name_is_never_broken_inside_a_word(name: str, width: float) -> None:
    text, size = fit_name(name, width)
    lines = text.split("\n")
    assert "".join(lines).replace(" ", "") == name.replace(" ", "")  # whole, nothing elided
    for line in lines[:-1]:
        assert line.endswith(("_", "-")) or name[len(line)] == " ", (name, lines)
    assert 5.0 <= size <= 9.0


def test_the_diagram_marks_what_a_full_station_does() -> None:
    assert full_mark({"capacity": None}) == ""
    assert full_mark({"capacity": 2, "on_full": "block"}) == "K=2, blocks"
    assert full_mark({"capacity": 20, "on_full": "lose"}) == "K=20, loses"


def test_report_rows_and_figures_only_where_they_apply(tmp_path: Path) -> None:
    result = eda_sim.run(scenario_from_dict(BLOCKING), workers=1, engine="simpy")
    assert result.stations["front_desk"]["blocked"].mean > 0  # it does block here
    page = write_report(result, tmp_path / "r").read_text(encoding="utf-8")
    section = page[page.index('<section id="results">') :]
    results = section[: section.index("</table>")]  # the results table (percentiles follow)
    assert len(re.findall(r"<td>blocked", results)) == 1  # front_desk's; not 0 elsewhere
    assert "No transition figure for main" in page  # fixed route: no 0/1 heatmaps
    assert "Routing of other: observed and specified" in page  # a real choice: drawn
    assert "overflow-wrap: anywhere" not in page  # names are never broken inside a word


def test_fixed_and_random_routing_are_told_apart() -> None:
    document = eda_sim.run(
        scenario_from_dict(BLOCKING), replications=2, horizon=50, warmup=5, workers=1
    ).to_dict()
    assert not _random_routing(document, "main")
    assert _random_routing(document, "other")
    assert _random_routing({}, "main")  # no model: drawn, as before


def test_the_sweep_theory_curve_climbs_to_the_edge_and_is_exact() -> None:
    mm1 = load_scenario(ROOT / "scenarios" / "mm1.yaml")  # service rate 1
    rows = theory_curve(mm1, "arrivals.rate", [0.5, 0.8, 1.2])
    waits = sorted((row["value"], row["theory"]) for row in rows if row["metric"] == "W")
    values = [value for value, _ in waits]
    assert values[0] == 0.5 and 0.999 < values[-1] < 1.0  # up to ρ -> 1, not stopping at 0.8
    assert len(values) >= 40
    for rate, wait in waits:  # M/M/1: W = 1 / (mu - lambda), exact
        assert wait == pytest.approx(1.0 / (1.0 - rate), rel=1e-9)


def test_a_whole_number_parameter_gets_no_fine_grid() -> None:
    mmc = load_scenario(ROOT / "scenarios" / "mmc.yaml")
    rows = theory_curve(mmc, "stations.pool.servers", [3, 4, 5])
    assert sorted({row["value"] for row in rows}) == [3, 4, 5]
