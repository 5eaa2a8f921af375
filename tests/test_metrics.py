"""The one table of metrics: what it declares is what every output reports.

A metric is declared once in ``eda_sim/metrics.py``; these tests check that the
replication records carry each declared metric, that a run's JSON, tidy frame
and terminal table report exactly the metrics the table selects for the
scenario, and that a metric family (parameterised by a level, like the
percentiles ``W_p99``) declared in the table flows through to the JSON and the
frame with nothing else changed.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from eda_sim import metrics
from eda_sim.cli import tables
from eda_sim.engine.records import StationRecord, SystemRecord
from eda_sim.experiment import run
from eda_sim.metrics import FAMILIES, METRICS, MetricFamily, level_suffix, lookup, names
from eda_sim.results import summarize
from eda_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def test_every_declared_metric_is_a_field_of_the_records_of_its_scopes() -> None:
    station_fields = {f.name for f in dataclasses.fields(StationRecord)}
    system_fields = {f.name for f in dataclasses.fields(SystemRecord)}
    for metric in METRICS:
        if "station" in metric.scopes:
            assert metric.name in station_fields, metric.name
        if metric.scopes & {"system", "class"}:
            assert metric.name in system_fields, metric.name


def test_names_are_unique_and_precision_scopes_are_scopes_of_the_metric() -> None:
    assert len({m.name for m in METRICS}) == len(METRICS)
    assert len({f.prefix for f in FAMILIES}) == len(FAMILIES)
    for metric in METRICS:
        assert metric.precision <= metric.scopes, metric.name


def test_the_metrics_reported_follow_the_scenario_features() -> None:
    assert names("station") == ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss")
    assert names("station", {"blocking"})[-1] == "blocked"
    assert names("system") == names("class") == ("L", "W", "throughput", "loss")
    assert metrics.precision_metrics("station") == ("L", "W", "Wq")
    assert metrics.precision_metrics("system") == ("W",)


@pytest.mark.parametrize("file", ["jackson3.yaml", "sync_vs_async.yaml", "shopping_cart.yaml"])
def test_json_frame_and_table_report_exactly_the_selected_metrics(file: str) -> None:
    scenario = load_scenario(str(SCENARIOS / file))
    result = run(scenario, replications=2, horizon=300.0, warmup=30.0)
    document = json.loads(result.to_json())
    levels = scenario.run.quantiles
    station_names = names("station", scenario.features, levels)
    for values in document["stations"].values():
        assert tuple(values) == station_names
    assert tuple(document["system"]) == names("system", scenario.features, levels)
    for values in document.get("classes", {}).values():
        assert tuple(values) == names("class", scenario.features, levels)
    frame = result.to_frame()
    stations = frame[frame.scope == "station"]
    assert set(stations.metric) == set(station_names)
    caption = str(tables.comparison_table(result, "s").caption)
    for metric in names("station", scenario.features):  # the percentiles have their own block
        assert f"{metric}: {lookup(metric).description}" in caption


def test_a_metric_family_declared_in_the_table_reaches_the_json_and_the_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A family member's values in the records' ``extra`` are summarised like any metric."""
    family = MetricFamily(
        "W_p", "{percent} percentile of the time per visit", "time",
        frozenset({"station", "system", "class"}),
    )  # fmt: skip
    monkeypatch.setattr(metrics, "FAMILIES", (family,))
    scenario = load_scenario(str(SCENARIOS / "mm1.yaml"))
    result = run(scenario, replications=3, horizon=300.0, warmup=30.0)
    records = [
        dataclasses.replace(
            rep,
            stations={
                n: dataclasses.replace(r, extra={"W_p50": 1.0 + rep.replication})
                for n, r in rep.stations.items()
            },
            system=dataclasses.replace(rep.system, extra={"W_p50": 2.0}),
        )
        for rep in result.replication_results
    ]
    summary = summarize("mm1", "simpy", records, confidence=0.95, requested=3, levels=(0.5,))
    station = summary.stations["handler"]
    assert list(station)[-1] == "W_p50"
    assert station["W_p50"].mean == pytest.approx(2.0)  # mean of 1, 2, 3
    assert summary.system["W_p50"].mean == 2.0
    frame = summary.to_frame()
    assert set(frame[frame.metric == "W_p50"].scope) == {"station", "system"}
    assert json.loads(summary.to_json())["stations"]["handler"]["W_p50"]["mean"] == 2.0
    assert lookup("W_p99.9").level == 0.999
    assert lookup("W_p99.9").heading("s") == "W_p99.9 (s)"
    with pytest.raises(KeyError):
        lookup("W_p100")


@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 0.25, 0.125])
def test_level_names_read_back_to_their_level(level: float) -> None:
    family = MetricFamily("Wq_p", "{percent}", "time", frozenset({"station"}))
    member = family.member(level)
    assert member.name == f"Wq_p{level_suffix(level)}"
    assert family.level_of(member.name) == level


def test_names_that_are_not_members_are_refused() -> None:
    family = MetricFamily("W_p", "{percent}", "time", frozenset({"station"}))
    for name in ("W_p", "W_p0", "W_p100", "W_pnan", "W_p99.90", "W_p099", "Wq_p99", "W_pinf"):
        assert family.level_of(name) is None, name
    with pytest.raises(ValueError, match="level must be in"):
        level_suffix(1.0)
