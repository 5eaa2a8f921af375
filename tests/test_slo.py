"""Percentile levels and SLOs: refused bad input, verdicts, --check-slo, --precision slo, sweeps."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
from command_forks import eda_sim_forked

from eda_sim.errors import ScenarioError
from eda_sim.experiment import run
from eda_sim.experiment.sweeps import sweep
from eda_sim.scenario import scenario_from_dict
from eda_sim.scenario.slo import Slo, level_of, quantile_name, split_latency_metric
from eda_sim.stats import Interval
from eda_sim.stats.slo import judge

MM1: dict[str, Any] = {
    "stations": {"handler": {"service": {"dist": "exponential", "rate": 1.0}}},
    "arrivals": {"process": "poisson", "rate": 0.5},
    "run": {"horizon": 3000, "replications": 4, "warmup": 100},
}


def faults(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(document)
    return [str(fault) for fault in caught.value.faults]


def with_(**parts: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(MM1))
    for key, value in parts.items():
        if key == "run":
            document["run"].update(value)
        else:
            document[key] = value
    return document


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([0.5, 1.0], "run.quantiles[1]: must be < 1, got 1"),
        ([0.0, 0.5], "run.quantiles[0]: must be > 0, got 0"),
        ([-0.5], "run.quantiles[0]: must be > 0, got -0.5"),
        ([0.5, 0.9, 0.5], "run.quantiles: each level once, got 0.5 twice"),
        ([0.01 * i for i in range(1, 22)], "run.quantiles: at most 20 levels, got 21"),
        ([], "run.quantiles: must not be empty"),
        (["0.5"], "run.quantiles[0]: must be a number, got '0.5'"),
    ],
)
def test_bad_levels_are_refused(levels: list[Any], message: str) -> None:
    assert faults(with_(run={"quantiles": levels})) == [message]


def test_bad_slos_are_refused_one_line_each() -> None:
    slo = [
        {"target": "stations.handlr.W_p99", "max": 1.0},
        {"target": "stations.handler.W_p99.9", "max": 1.0},
        {"target": "stations.handler.Wz", "max": 1.0},
        {"target": "system.W_p99", "max": -1.0},
        {"target": "system.W_p99", "max": math.inf},
        {"target": "classes.x.W", "max": 1.0},
        {"target": "nowhere.W", "max": 1.0},
        {"target": "system.W", "max": 1.0, "min": 0.5},
        {"target": "system.W"},
        {"target": "system.blocked_p99", "max": 1.0},
    ]
    found = faults(with_(slo=slo))
    assert found == [
        "slo[3].max: must be >= 0, got -1",
        "slo[4].max: must be a finite number, got inf",
        "slo[7]: give exactly one of max, min (got max, min)",
        "slo[8]: give exactly one of max, min (got neither)",
        "slo[0].target: names no station ('stations.handlr.W_p99'; stations.NAME.METRIC); "
        "did you mean 'handler'?",
        "slo[1].target: W_p99.9 is not computed: add 0.999 to run.quantiles "
        "(computed: 0.5, 0.95, 0.99)",
        "slo[2].target: unknown metric 'Wz'; did you mean 'W'?",
        "slo[5].target: the scenario has one event class: name its figures system.METRIC",
        "slo[6].target: must start with stations., classes. or system., got 'nowhere.W'",
        "slo[9].target: unknown metric 'blocked_p99' (allowed: L, W, throughput, loss, "
        "W_p50, W_p95, W_p99)",
    ]


def test_slo_faults_come_with_the_other_faults_of_a_broken_file() -> None:
    document = with_(slo=[{"target": "stations.nope.W", "max": 1.0}])
    document["stations"]["handler"]["servers"] = 0
    found = faults(document)
    assert any(f.startswith("stations.handler.servers") for f in found)
    assert any(f.startswith("slo[0].target: names no station") for f in found)


def test_names_with_dots_and_classes() -> None:
    scenario = scenario_from_dict(
        {
            "stations": {
                "a": {"service": {"dist": "exponential", "rate": 3.0}},
                "a.b": {"service": {"dist": "exponential", "rate": 3.0}},
            },
            "classes": {
                "x.y": {
                    "arrivals": {"process": "poisson", "rate": 0.5},
                    "routing": {"a": {"a.b": 1}},
                }
            },
            "run": {"quantiles": [0.5, 0.999]},
            "slo": [
                {"target": "stations.a.b.W_p99.9", "max": 1.0},
                {"target": "stations.a.Wq_p50", "max": 1.0},
                {"target": "classes.x.y.W_p99.9", "max": 2.0},
                {"target": "classes.x.y.throughput", "min": 0.4},
            ],
        }
    )
    assert [(s.scope, s.name, s.metric, s.kind) for s in scenario.slos] == [
        ("station", "a.b", "W_p99.9", "max"),
        ("station", "a", "Wq_p50", "max"),
        ("class", "x.y", "W_p99.9", "max"),
        ("class", "x.y", "throughput", "min"),
    ]


def test_level_names() -> None:
    assert quantile_name(0.5) == "p50" and quantile_name(0.999) == "p99.9"
    assert quantile_name(0.0001) == "p0.01"
    assert split_latency_metric("Wq_p99.9", (0.5, 0.999)) == ("Wq", 1)
    assert split_latency_metric("W", (0.5,)) is None
    assert level_of("W_p99.99") == 0.9999
    assert level_of("W_p100") is None and level_of("W_pxx") is None


def test_overriding_the_levels_rechecks_the_slos() -> None:
    scenario = scenario_from_dict(with_(slo=[{"target": "system.W_p99", "max": 9.0}]))
    with pytest.raises(ScenarioError, match=r"slo\[0\].target: W_p99 is not computed"):
        scenario.with_run(quantiles=[0.5, 0.9])
    assert scenario.with_run(quantiles=[0.99]).run.quantiles == (0.99,)


SLO = Slo("system.W_p99", "system", "system", "W_p99", 2.0, "max")
LEAST = Slo("system.throughput", "system", "system", "throughput", 2.0, "min")


@pytest.mark.parametrize(
    ("slo", "interval", "verdict"),
    [
        (SLO, Interval(1.5, 1.0, 2.0, 5, 0.95), "met"),  # the limit itself is allowed
        (SLO, Interval(2.5, 2.01, 3.0, 5, 0.95), "violated"),
        (SLO, Interval(1.9, 1.5, 2.3, 5, 0.95), "undecided"),
        (SLO, Interval(1.9, math.nan, math.nan, 1, 0.95), "undecided"),
        (LEAST, Interval(2.5, 2.0, 3.0, 5, 0.95), "met"),
        (LEAST, Interval(1.5, 1.0, 1.99, 5, 0.95), "violated"),
        (LEAST, Interval(2.1, 1.9, 2.3, 5, 0.95), "undecided"),
    ],
)
def test_verdicts(slo: Slo, interval: Interval, verdict: str) -> None:
    assert judge(slo, interval).verdict == verdict


def test_replications_to_decide() -> None:
    undecided = judge(SLO, Interval(1.9, 1.6, 2.2, 10, 0.95))  # half-width 0.3, distance 0.1
    assert undecided.growth == pytest.approx(9.0)
    assert undecided.replications_to_decide() == 90
    on_the_limit = judge(SLO, Interval(2.0, 1.8, 2.2, 10, 0.95))
    assert on_the_limit.replications_to_decide() is None
    assert judge(SLO, Interval(1.0, 0.9, 1.1, 10, 0.95)).replications_to_decide() is None


def slo_scenario(limit_p99: float) -> dict[str, Any]:
    return with_(
        slo=[
            {"target": "stations.handler.W_p99", "max": limit_p99},
            {"target": "system.throughput", "min": 0.4},
            {"target": "stations.handler.loss", "max": 0.0},
        ]
    )


def test_run_gives_each_slo_a_verdict_in_the_json() -> None:
    # M/M/1, λ = 0.5, μ = 1: the exact p99 of W is ln(100)/0.5 = 9.21
    result = run(scenario_from_dict(slo_scenario(30.0)))
    entries = result.to_dict()["slo"]
    assert [e["verdict"] for e in entries] == ["met", "met", "met"]
    assert entries[0]["target"] == "stations.handler.W_p99" and entries[0]["limit"] == 30.0
    interval = result.stations["handler"]["W_p99"]
    assert entries[0]["mean"] == interval.mean and entries[0]["ci"] == [interval.low, interval.high]
    slo_rows = result.to_frame().query("scope == 'slo'")
    assert list(slo_rows.method) == ["met", "met", "met"]
    assert list(slo_rows.theory) == [30.0, 0.4, 0.0]


def test_precision_slo_adds_replications_until_decided() -> None:
    scenario = scenario_from_dict(slo_scenario(9.21 * 1.12))
    plain = run(scenario, replications=3)
    decided = run(scenario, replications=3, precision="slo", max_replications=60)
    first = plain.slo[0]
    assert first.verdict == "undecided"
    assert decided.replications > 3
    assert decided.precision is not None and decided.precision.target == "slo"
    if decided.precision.met:
        assert all(v.verdict != "undecided" for v in decided.slo)
    else:
        assert decided.replications == 60 or any("not every SLO" in n for n in decided.notes)


def eda_sim(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``eda-sim ARGS``: a process of its own, forked from a warm interpreter (command_forks)."""
    return eda_sim_forked(*arguments, cwd=cwd)


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(json.dumps(document))
    return path


def test_check_slo_exits_3_on_a_violation(tmp_path: Path) -> None:
    violated = write(tmp_path, slo_scenario(5.0))  # p99 = 9.21 > 5
    process = eda_sim("run", str(violated), "--check-slo", "--json", "-", cwd=tmp_path)
    assert process.returncode == 3, process.stderr
    assert "slo violated: stations.handler.W_p99 <= 5" in process.stderr
    assert json.loads(process.stdout)["slo"][0]["verdict"] == "violated"
    plain = eda_sim("run", str(violated), "--json", "-", cwd=tmp_path)
    assert plain.returncode == 0
    met = write(tmp_path, slo_scenario(40.0))
    assert eda_sim("run", str(met), "--check-slo", cwd=tmp_path).returncode == 0


def test_cli_quantiles_and_precision_options(tmp_path: Path) -> None:
    path = write(tmp_path, MM1)
    process = eda_sim(
        "run", str(path), "--quantiles", "0.5,0.99,0.999", "--json", "-", cwd=tmp_path
    )
    assert process.returncode == 0, process.stderr
    document = json.loads(process.stdout)
    assert document["quantiles"] == [0.5, 0.99, 0.999]
    assert "W_p99.9" in document["stations"]["handler"]
    for option, value, message in (
        ("--quantiles", "0.5,x", "--quantiles: must be levels separated by commas"),
        ("--quantiles", "0.5,1.5", "--quantiles: must be < 1, got 1.5"),
        ("--quantiles", "0.5,0.5", "--quantiles: each level once, got 0.5 twice"),
        ("--precision", "sl0", "--precision: must be a relative half-width or slo"),
    ):
        bad = eda_sim("run", str(path), option, value, cwd=tmp_path)
        assert bad.returncode == 2
        assert message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_cli_refuses_an_slo_the_levels_no_longer_compute(tmp_path: Path) -> None:
    path = write(tmp_path, slo_scenario(5.0))
    process = eda_sim("run", str(path), "--quantiles", "0.5", cwd=tmp_path)
    assert process.returncode == 2
    assert "slo[0].target: W_p99 is not computed" in process.stderr


def test_a_load_sweep_marks_the_slos_of_each_point() -> None:
    scenario = scenario_from_dict(slo_scenario(12.0))
    result = sweep(scenario, "arrivals.rate", "0.3,0.5,0.8", replications=4, horizon=3000)
    rows = result.frame.query("scope == 'slo' and name == 'stations.handler.W_p99'")
    verdicts = dict(zip(rows.value, rows.method, strict=True))
    assert verdicts[0.3] == "met"  # exact p99: 6.6
    assert verdicts[0.8] == "violated"  # exact p99: 23.0


def test_the_sweep_table_says_when_no_point_meets_every_slo() -> None:
    from rich.console import Console

    from eda_sim.cli.sweep_command import sweep_table

    scenario = scenario_from_dict(slo_scenario(12.0))
    result = sweep(scenario, "arrivals.rate", "0.8,0.85", replications=3, horizon=3000)
    console = Console(width=200, record=True)
    console.print(sweep_table(result, "s"))
    assert "no arrivals.rate swept meets every SLO" in console.export_text()


def test_the_sweep_table_shows_the_highest_load_meeting_every_slo(tmp_path: Path) -> None:
    path = write(tmp_path, slo_scenario(12.0))
    process = eda_sim(
        "sweep", str(path), "--param", "arrivals.rate", "--values", "0.3,0.5,0.8",
        "--replications", "3", "--horizon", "3000", cwd=tmp_path,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "all 3 met" in process.stdout
    assert "highest arrivals.rate with every SLO met: 0.5" in process.stdout
