"""Scenarios: the YAML contract, its validation, and the immutable model engines run (layer 2)."""

from eda_sim.scenario.build import build_distribution, build_scenario
from eda_sim.scenario.builder import ScenarioBuilder
from eda_sim.scenario.loader import load_scenario, scenario_from_dict, scenario_to_yaml
from eda_sim.scenario.model import (
    DEFAULT_CLASS,
    ArrivalProcess,
    EventClass,
    RunSettings,
    Scenario,
    Station,
)
from eda_sim.scenario.paths import replace_value
from eda_sim.scenario.schema import ScenarioDocument, json_schema

__all__ = [
    "DEFAULT_CLASS",
    "ArrivalProcess",
    "EventClass",
    "RunSettings",
    "Scenario",
    "ScenarioBuilder",
    "ScenarioDocument",
    "Station",
    "build_distribution",
    "build_scenario",
    "json_schema",
    "load_scenario",
    "replace_value",
    "scenario_from_dict",
    "scenario_to_yaml",
]
