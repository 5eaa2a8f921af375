"""Reproducibility: the same scenario and seed give the same numbers, bit for bit.

Across two runs in one process, two separate ``eda-sim`` processes, one or two
worker processes, and a Dask cluster (through the command line), with a fixed
warm-up, ``warmup: auto`` (MSER-5) and a precision target. A different seed gives
different numbers. Random streams are keyed by names, not positions (docs/output-analysis.md,
"Random streams"), so:

* a station that no event visits, added at the start of the stations mapping,
  leaves every other station's figures identical;
* reordering the stations in the file (routing written by names) leaves every
  station's figures identical;
* an extra event class with its own arrivals leaves the other class's arrival
  stream identical (its gaps and per-window counts), although the stations the
  two classes share see different traffic.

JSON documents are compared whole, apart from timestamps and durations. Worker
and Dask comparisons run through the command line, each run in its own process;
the same comparisons inside one process are in ``test_output_analysis.py``
(precision) and ``test_distributed.py`` (Dask).
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from eda_sim.experiment import run
from eda_sim.results import RunResult
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
JACKSON3_FILE = SCENARIOS / "jackson3.yaml"
JACKSON3: dict[str, Any] = yaml.safe_load(JACKSON3_FILE.read_text(encoding="utf-8"))

#: Short runs: a few replications of a few thousand time units.
QUICK: dict[str, Any] = {"replications": 3, "horizon": 2_000.0, "warmup": 200.0, "seed": 11}
QUICK_OPTIONS = ["--replications", "3", "--horizon", "2000", "--warmup", "200", "--seed", "11"]
#: A precision run: rounds of replications until 15% relative half-width (or 12).
PRECISION_OPTIONS = ["--warmup", "auto", "--precision", "0.15", "--max-replications", "12"]

#: Keys whose values are wall-clock times or durations, not results.
VOLATILE_SUFFIXES = ("_seconds", "_at", "timestamp", "duration", "elapsed")


def results_only(value: Any) -> Any:
    """A JSON-like document without timestamps and durations, recursively."""
    if isinstance(value, dict):
        return {
            key: results_only(item)
            for key, item in value.items()
            if not str(key).endswith(VOLATILE_SUFFIXES)
        }
    if isinstance(value, list):
        return [results_only(item) for item in value]
    return value


def document(result: RunResult) -> dict[str, Any]:
    """The JSON document of a result, as the command line writes it, parsed back."""
    parsed: dict[str, Any] = json.loads(result.to_json())
    return results_only(parsed)


def scenario(raw: dict[str, Any]) -> Scenario:
    return scenario_from_dict(copy.deepcopy(raw), name="repro")


def eda_sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eda_sim", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def jackson3() -> Scenario:
    return load_scenario(JACKSON3_FILE)


# ---------------------------------------------------------------- same seed, same numbers


def test_two_runs_in_one_process_are_identical(jackson3: Scenario) -> None:
    first = run(jackson3, workers=1, **QUICK)
    second = run(jackson3, workers=1, **QUICK)
    assert document(first) == document(second)
    for one, two in zip(first.replication_results, second.replication_results, strict=True):
        assert one.stations == two.stations
        assert one.system == two.system
        assert one.observations == two.observations


def test_a_different_seed_changes_the_numbers(jackson3: Scenario) -> None:
    one = document(run(jackson3, workers=1, **QUICK))
    other = document(run(jackson3, workers=1, **{**QUICK, "seed": 12}))
    for station in one["stations"]:
        assert one["stations"][station]["L"] != other["stations"][station]["L"]
        assert one["stations"][station]["W"] != other["stations"][station]["W"]
    assert one["system"]["W"] != other["system"]["W"]
    assert one["theory"] == other["theory"]  # theory does not depend on the seed


# ---------------------------------------------------------------- separate processes


#: What a run does: name -> options (on top of QUICK_OPTIONS).
SETTINGS = {
    "fixed-warmup": [],
    "warmup-auto": ["--warmup", "auto"],
    "precision": PRECISION_OPTIONS,
}
#: Each setting run in separate processes: twice with one worker, once with two.
RUNS = [(setting, workers) for setting in SETTINGS for workers in ("1", "1 again", "2")]


def cli_json(*extra: str) -> dict[str, Any]:
    process = eda_sim("run", str(JACKSON3_FILE), *QUICK_OPTIONS, "--json", "-", *extra)
    assert process.returncode == 0, process.stderr
    parsed: dict[str, Any] = json.loads(process.stdout)
    return results_only(parsed)


@pytest.fixture(scope="module")
def cli_documents() -> dict[tuple[str, str], dict[str, Any]]:
    """The JSON of every run in ``RUNS``, each in its own process, two at a time."""

    def one(key: tuple[str, str]) -> dict[str, Any]:
        setting, workers = key
        return cli_json(*SETTINGS[setting], "--workers", workers.split()[0])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(RUNS, pool.map(one, RUNS), strict=True))


@pytest.mark.parametrize("setting", SETTINGS)
def test_separate_processes_write_identical_json(
    cli_documents: dict[tuple[str, str], dict[str, Any]], setting: str
) -> None:
    assert cli_documents[setting, "1"] == cli_documents[setting, "1 again"]


@pytest.mark.parametrize("setting", SETTINGS)
def test_two_worker_processes_write_the_same_json(
    cli_documents: dict[tuple[str, str], dict[str, Any]], setting: str
) -> None:
    assert cli_documents[setting, "1"] == cli_documents[setting, "2"]


def test_the_settings_did_what_they_say(
    cli_documents: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert cli_documents["fixed-warmup", "1"]["warmup_method"] == "fixed"
    assert cli_documents["warmup-auto", "1"]["warmup_method"] == "MSER-5"
    precise = cli_documents["precision", "1"]
    assert precise["warmup_method"] == "MSER-5"
    assert "precision" in precise
    assert precise["replications"] > QUICK["replications"]  # rounds were added


def test_the_command_line_writes_what_python_computes(
    jackson3: Scenario, cli_documents: dict[tuple[str, str], dict[str, Any]]
) -> None:
    assert cli_documents["fixed-warmup", "1"] == document(run(jackson3, workers=1, **QUICK))


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("setting", SETTINGS)
def test_a_dask_cluster_writes_the_same_json(
    dask_address: str, cli_documents: dict[tuple[str, str], dict[str, Any]], setting: str
) -> None:
    """End to end: ``eda-sim run --scheduler ADDRESS`` in its own process."""
    on_dask = cli_json(*SETTINGS[setting], "--scheduler", dask_address)
    assert on_dask == cli_documents[setting, "1"]


# ---------------------------------------------------------------- streams keyed by names


def with_idle_station_first(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with a station no event visits put first in the stations mapping."""
    changed = copy.deepcopy(raw)
    idle = {"servers": 1, "service": {"dist": "exponential", "rate": 3.0}}
    changed["stations"] = {"idle": idle, **changed["stations"]}
    return changed


def reordered(raw: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(raw)
    changed["stations"] = dict(reversed(list(changed["stations"].items())))
    return changed


def test_an_unvisited_station_changes_no_other_station() -> None:
    base = document(run(scenario(JACKSON3), workers=1, **QUICK))
    wider = document(run(scenario(with_idle_station_first(JACKSON3)), workers=1, **QUICK))
    assert list(wider["stations"]) == ["idle", *base["stations"]]
    for name, figures in base["stations"].items():
        assert wider["stations"][name] == figures, name
    assert wider["system"] == base["system"]
    assert wider["stations"]["idle"]["throughput"]["mean"] == 0


#: A chain: each event goes a -> b -> c, or leaves; no station has two successors.
CHAIN: dict[str, Any] = {
    "stations": {
        "a": {"service": {"dist": "exponential", "rate": 3.0}},
        "b": {"servers": 2, "service": {"dist": "lognormal", "mean": 0.8, "cv": 1.2}},
        "c": {"service": {"dist": "erlang", "k": 2, "mean": 0.4}, "capacity": 5},
    },
    "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
    "routing": {"a": {"b": 0.9}, "b": {"c": 0.7}, "c": {"a": 0.1}},
}
#: Two entry stations, chosen at random for each arrival; no routing.
ENTRY_SPLIT: dict[str, Any] = {
    "stations": {
        "a": {"service": {"dist": "exponential", "rate": 2.0}},
        "b": {"service": {"dist": "exponential", "rate": 3.0}},
    },
    "arrivals": {"process": "poisson", "rate": 1.0, "to": {"a": 0.5, "b": 0.5}},
}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(CHAIN, id="chain"),
        pytest.param(JACKSON3, id="jackson3-branching"),
        pytest.param(ENTRY_SPLIT, id="entry-split"),
    ],
)
def test_reordering_the_stations_changes_no_station(raw: dict[str, Any]) -> None:
    base = document(run(scenario(raw), workers=1, **QUICK))
    turned = document(run(scenario(reordered(raw)), workers=1, **QUICK))
    assert list(turned["stations"]) == list(reversed(list(base["stations"])))
    for name, figures in base["stations"].items():
        assert turned["stations"][name] == figures, name


#: jackson3 with its one class written under ``classes:`` (the class keeps its name).
ORDERS: dict[str, Any] = {
    "stations": copy.deepcopy(JACKSON3["stations"]),
    "classes": {
        "orders": {
            "arrivals": {"process": "poisson", "rate": 0.8, "to": "ingest"},
            "routing": copy.deepcopy(JACKSON3["routing"]),
        },
    },
}
AUDITS: dict[str, Any] = {
    "arrivals": {
        "process": "renewal",
        "interarrival": {"dist": "erlang", "k": 2, "mean": 5.0},
        "to": {"enrich": 0.5, "store": 0.5},
    },
    "routing": {"enrich": {"store": 0.3}},
    "service": {"store": {"dist": "exponential", "rate": 4.0}},
}


def with_audits(raw: dict[str, Any], first: bool) -> dict[str, Any]:
    changed = copy.deepcopy(raw)
    classes = changed["classes"]
    changed["classes"] = {"audits": AUDITS, **classes} if first else {**classes, "audits": AUDITS}
    return changed


@pytest.mark.parametrize("first", [False, True], ids=["added-last", "added-first"])
def test_another_class_leaves_this_class_arrivals_alone(first: bool) -> None:
    alone = run(scenario(ORDERS), workers=1, **QUICK)
    shared = run(scenario(with_audits(ORDERS, first)), workers=1, **QUICK)
    for one, two in zip(alone.replication_results, shared.replication_results, strict=True):
        orders, orders_shared = one.observations["orders"], two.observations["orders"]
        assert orders.gaps, "no arrival gaps were observed"
        assert orders_shared.gaps == orders.gaps
        assert orders_shared.counts == orders.counts
        assert orders_shared.window == orders.window
        assert "audits" in two.observations
    # ... while the stations both classes visit do see other traffic
    assert document(shared)["stations"]["store"] != document(alone)["stations"]["store"]


def test_the_docs_say_what_changes_the_streams() -> None:
    """The "Random streams" paragraph (docs/output-analysis.md) covers what moves them."""
    readme = (ROOT / "docs" / "output-analysis.md").read_text(encoding="utf-8")
    assert "Random streams" in readme
    paragraph = readme[readme.index("Random streams") :].split("\n\n")[0]
    text = " ".join(paragraph.lower().split())
    for concept in ("seed", "replication", "workers", "dask", "adding", "station", "class"):
        assert concept in text, concept
