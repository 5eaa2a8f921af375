"""Scenario validation: bad input is refused before anything runs, with a clear message.

Each case changes one thing in a valid document and checks that a
:class:`ScenarioError` (or :class:`UnstableError`) is raised whose faults include
one at the exact dotted path the user would look at, and that the message names
the rule and, where there is one, the offending value. The happy path checks
that every shipped scenario loads, that YAML written back loads to an equal
document, and that run settings can be changed (and are re-checked).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from eda_sim.errors import Fault, ScenarioError, UnstableError
from eda_sim.scenario import (
    Scenario,
    ScenarioDocument,
    load_scenario,
    scenario_from_dict,
    scenario_to_yaml,
)

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SCENARIO_FILES = sorted(SCENARIO_DIR.glob("*.yaml"))

BASE: dict[str, Any] = {
    "name": "base",
    "stations": {
        "ingest": {"servers": 1, "service": {"dist": "exponential", "rate": 2.0}},
        "enrich": {"servers": 1, "service": {"dist": "exponential", "mean": 0.5}},
        "store": {"servers": 2, "service": {"dist": "lognormal", "mean": 0.8, "cv": 1.5}},
    },
    "arrivals": {"process": "poisson", "rate": 1.0, "to": "ingest"},
    "routing": {"ingest": {"enrich": 0.6, "store": 0.3}, "enrich": {"store": 0.5}},
    "run": {"horizon": 1000, "warmup": 100, "replications": 3, "seed": 1},
}

CLASSES_BASE: dict[str, Any] = {
    "stations": copy.deepcopy(BASE["stations"]),
    "classes": {
        "orders": {
            "arrivals": {"process": "poisson", "rate": 0.5, "to": "ingest"},
            "routing": {"ingest": {"enrich": 0.5}},
        },
        "audits": {
            "arrivals": {
                "process": "renewal",
                "interarrival": {"dist": "deterministic", "value": 4.0},
                "to": {"enrich": 0.5, "store": 0.5},
            },
            "service": {"store": {"dist": "exponential", "rate": 3.0}},
        },
    },
}


def doc(base: dict[str, Any] = BASE, **sections: Any) -> dict[str, Any]:
    raw = copy.deepcopy(base)
    raw.update(copy.deepcopy(sections))
    return raw


def edit(path: str, value: Any, base: dict[str, Any] = BASE) -> dict[str, Any]:
    """Copy of ``base`` with the dotted ``path`` set to ``value`` (``DELETE`` removes it)."""
    raw = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return raw


DELETE = object()


def refused(raw: Any, error: type[ScenarioError] = ScenarioError, **kwargs: Any) -> ScenarioError:
    with pytest.raises(error) as info:
        scenario_from_dict(raw, **kwargs)
    return info.value


def assert_fault(err: ScenarioError, path: str, *words: str) -> Fault:
    """``err`` has a fault at exactly ``path`` whose message holds every one of ``words``."""
    at_path = [fault for fault in err.faults if fault.path == path]
    assert at_path, f"no fault at {path!r}; faults: {[str(f) for f in err.faults]}"
    for fault in at_path:
        if all(word in fault.message for word in words):
            prefix = f"{path}: " if path else ""
            assert f"{prefix}{fault.message}" in str(err)
            return fault
    raise AssertionError(f"no fault at {path!r} says {words}: {[str(f) for f in at_path]}")


def test_the_base_documents_are_valid() -> None:
    scenario = scenario_from_dict(BASE)
    assert scenario.station_names == ("ingest", "enrich", "store")
    multi = scenario_from_dict(CLASSES_BASE)
    assert multi.class_names == ("orders", "audits")


# ---------------------------------------------------------------- one fault per case

CASES: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    # (id, document, fault path, words of the message)
    (
        "unknown top-level field",
        doc(clases={}),
        "clases",
        ("unknown field", "did you mean 'classes'?"),
    ),
    (
        "unknown station field",
        edit("stations.ingest.servrs", 2),
        "stations.ingest.servrs",
        ("unknown field", "did you mean 'servers'?"),
    ),
    (
        "unknown distribution",
        edit("stations.ingest.service.dist", "exponentail"),
        "stations.ingest.service.dist",
        ("unknown dist 'exponentail'", "did you mean 'exponential'?", "lognormal"),
    ),
    (
        "unknown arrival process",
        edit("arrivals.process", "poison"),
        "arrivals.process",
        ("unknown process 'poison'", "did you mean 'poisson'?"),
    ),
    (
        "missing service",
        edit("stations.ingest.service", DELETE),
        "stations.ingest.service",
        ("is required",),
    ),
    (
        "missing dist",
        edit("stations.ingest.service", {"rate": 2.0}),
        "stations.ingest.service.dist",
        ("is required", "exponential"),
    ),
    ("servers 0", edit("stations.ingest.servers", 0), "stations.ingest.servers", (">= 1", "got 0")),
    (
        "servers 1.5",
        edit("stations.ingest.servers", 1.5),
        "stations.ingest.servers",
        ("whole number", "got 1.5"),
    ),
    (
        "servers as text",
        edit("stations.ingest.servers", "2"),
        "stations.ingest.servers",
        ("whole number", "got '2'"),
    ),
    (
        "capacity below servers",
        edit("stations.store.capacity", 1),
        "stations.store.capacity",
        ("must be >= servers (2)", "got 1"),
    ),
    (
        "capacity 0",
        edit("stations.store.capacity", 0),
        "stations.store.capacity",
        (">= 1", "got 0"),
    ),
    (
        "negative rate",
        edit("stations.ingest.service.rate", -1.5),
        "stations.ingest.service.rate",
        ("must be > 0", "got -1.5"),
    ),
    (
        "zero rate",
        edit("stations.ingest.service.rate", 0),
        "stations.ingest.service.rate",
        ("must be > 0", "got 0"),
    ),
    (
        "NaN rate",
        edit("stations.ingest.service.rate", math.nan),
        "stations.ingest.service.rate",
        ("finite number", "got nan"),
    ),
    (
        "infinite rate",
        edit("stations.ingest.service.rate", math.inf),
        "stations.ingest.service.rate",
        ("finite number", "got inf"),
    ),
    (
        "zero arrival rate",
        edit("arrivals.rate", 0.0),
        "arrivals.rate",
        ("must be > 0", "got 0"),
    ),
    (
        "boolean arrival rate",
        edit("arrivals.rate", True),
        "arrivals.rate",
        ("a number", "got true"),
    ),
    (
        "negative cv",
        edit("stations.store.service.cv", -1.5),
        "stations.store.service.cv",
        ("must be > 0", "got -1.5"),
    ),
    (
        "zero cv",
        edit("stations.store.service", {"dist": "gamma", "mean": 0.8, "cv": 0}),
        "stations.store.service.cv",
        ("must be > 0", "got 0"),
    ),
    (
        "lognormal by both mean/cv and mu/sigma",
        edit("stations.store.service.mu", 0.0),
        "stations.store.service",
        ("give mean and cv, or mu and sigma",),
    ),
    (
        "exponential by both rate and mean",
        edit("stations.ingest.service.mean", 0.5),
        "stations.ingest.service",
        ("exactly one of rate, mean", "got rate, mean"),
    ),
    (
        "exponential by neither",
        edit("stations.ingest.service", {"dist": "exponential"}),
        "stations.ingest.service",
        ("exactly one of rate, mean", "neither"),
    ),
    (
        "hyperexponential cv below 1",
        edit("stations.store.service", {"dist": "hyperexponential", "mean": 1.0, "cv": 0.5}),
        "stations.store.service.cv",
        (">= 1", "got 0.5"),
    ),
    (
        "uniform high below low",
        edit("stations.store.service", {"dist": "uniform", "low": 2.0, "high": 1.0}),
        "stations.store.service.high",
        ("> low", "got 1"),
    ),
    (
        "empirical values empty",
        edit("stations.store.service", {"dist": "empirical", "values": []}),
        "stations.store.service.values",
        ("at least one",),
    ),
    (
        "empirical values all zero",
        edit("stations.store.service", {"dist": "empirical", "values": [0, 0.0]}),
        "stations.store.service.values",
        ("mean > 0",),
    ),
    (
        "bad renewal gaps",
        edit(
            "arrivals",
            {"process": "renewal", "interarrival": {"dist": "uniform", "low": 0.5, "high": -1}},
        ),
        "arrivals.interarrival.high",
        ("must be > 0", "got -1"),
    ),
    (
        "routing to an unknown station",
        edit("routing.ingest", {"enrch": 0.6}),
        "routing.ingest.enrch",
        ("unknown station 'enrch'", "did you mean 'enrich'?", "stations: ingest, enrich, store"),
    ),
    (
        "routing from an unknown station",
        edit("routing.stor", {"ingest": 0.1}),
        "routing.stor",
        ("unknown station 'stor'", "did you mean 'store'?"),
    ),
    (
        "routing row over 1",
        edit("routing.enrich", {"store": 0.8, "ingest": 0.5}),
        "routing.enrich",
        ("probabilities sum to 1.3 (> 1)",),
    ),
    (
        "probability over 1",
        edit("routing.ingest.enrich", 1.5),
        "routing.ingest.enrich",
        ("must be <= 1", "got 1.5"),
    ),
    (
        "negative probability",
        edit("routing.ingest.enrich", -0.1),
        "routing.ingest.enrich",
        ("must be >= 0", "got -0.1"),
    ),
    (
        "matrix with too many rows",
        doc(routing=[[0, 0.5, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]),
        "routing",
        ("3x3 matrix in station order (ingest, enrich, store)", "4 rows"),
    ),
    (
        "ragged matrix",
        doc(routing=[[0, 0.5], [0, 0, 0], [0, 0, 0]]),
        "routing",
        ("3x3 matrix", "lengths [2, 3, 3]"),
    ),
    (
        "matrix entry out of range",
        doc(routing=[[0, 1.5, 0], [0, 0, 0], [0, 0, 0]]),
        "routing[0][1]",
        ("must be <= 1", "got 1.5"),
    ),
    (
        "matrix row over 1",
        doc(routing=[[0, 0.6, 0.6], [0, 0, 0], [0, 0, 0]]),
        "routing.ingest",
        ("probabilities sum to 1.2 (> 1)",),
    ),
    (
        "closed routing cycle",
        doc(
            routing={"ingest": {"enrich": 1.0}, "enrich": {"store": 1.0}, "store": {"ingest": 1.0}}
        ),
        "routing",
        ("no event can ever leave from ingest, enrich, store", "loops without an exit"),
    ),
    (
        "self-loop with probability 1",
        doc(routing={"ingest": {"enrich": 0.5}, "enrich": {"enrich": 1.0}}),
        "routing",
        ("no event can ever leave from enrich",),
    ),
    (
        "'to' an unknown station",
        edit("arrivals.to", "ingset"),
        "arrivals.to",
        ("unknown station 'ingset'", "did you mean 'ingest'?"),
    ),
    (
        "'to' mapping with an unknown station",
        edit("arrivals.to", {"ingest": 0.5, "stroe": 0.5}),
        "arrivals.to.stroe",
        ("unknown station 'stroe'", "did you mean 'store'?"),
    ),
    (
        "'to' probabilities not summing to 1",
        edit("arrivals.to", {"ingest": 0.5, "store": 0.3}),
        "arrivals.to",
        ("probabilities sum to 0.8", "must be 1"),
    ),
    (
        "both arrivals and classes",
        doc(classes=CLASSES_BASE["classes"]),
        "",
        ("either classes, or arrivals with routing, not both",),
    ),
    (
        "neither arrivals nor classes",
        edit("arrivals", DELETE),
        "",
        ("give arrivals", "or classes"),
    ),
    (
        "no stations",
        doc(stations={}),
        "stations",
        ("must not be empty",),
    ),
    (
        "class service override for an unknown station",
        edit(
            "classes.audits.service", {"stor": {"dist": "exponential", "rate": 3.0}}, CLASSES_BASE
        ),
        "classes.audits.service.stor",
        ("unknown station 'stor'", "did you mean 'store'?"),
    ),
    (
        "class routing to an unknown station",
        edit("classes.orders.routing", {"ingest": {"enrch": 0.5}}, CLASSES_BASE),
        "classes.orders.routing.ingest.enrch",
        ("unknown station 'enrch'",),
    ),
    (
        "class arrival rate negative",
        edit("classes.orders.arrivals.rate", -2.0, CLASSES_BASE),
        "classes.orders.arrivals.rate",
        ("must be > 0", "got -2"),
    ),
    (
        "warm-up equal to the horizon",
        doc(run={"horizon": 100, "warmup": 100}),
        "run.warmup",
        ("must be < the horizon (100)", "got 100"),
    ),
    (
        "warm-up beyond the horizon",
        doc(run={"horizon": 100, "warmup": 250.5}),
        "run.warmup",
        ("must be < the horizon (100)", "got 250.5"),
    ),
    (
        "unknown warm-up word",
        doc(run={"warmup": "autoo"}),
        "run.warmup",
        ("'auto' or 'none'", "got 'autoo'"),
    ),
    (
        "replications 0",
        doc(run={"replications": 0}),
        "run.replications",
        ("must be >= 1", "got 0"),
    ),
    (
        "confidence 1.5",
        doc(run={"confidence": 1.5}),
        "run.confidence",
        ("must be <= 0.999999", "got 1.5"),
    ),
    ("negative horizon", doc(run={"horizon": -1}), "run.horizon", ("must be > 0", "got -1")),
    ("negative seed", doc(run={"seed": -1}), "run.seed", ("must be >= 0", "got -1")),
]


@pytest.mark.parametrize(
    ("raw", "path", "words"),
    [pytest.param(raw, path, words, id=name) for name, raw, path, words in CASES],
)
def test_one_fault_is_reported(raw: dict[str, Any], path: str, words: tuple[str, ...]) -> None:
    err = refused(raw)
    assert not isinstance(err, UnstableError)
    assert len(err.faults) == 1, [str(f) for f in err.faults]
    assert_fault(err, path, *words)


# ---------------------------------------------------------------- YAML files


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


VALID_YAML = """\
stations:
  a: {servers: 1, service: {dist: exponential, rate: 2.0}}
arrivals: {process: poisson, rate: 1.0}
"""


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "broken.yaml",
        "stations:\n"
        "  a: {servers: 1, service: {dist: exponential, rate: 2.0}\n"  # '}' missing
        "arrivals: {process: poisson, rate: 1.0}\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert_fault(info.value, f"{path}:3:1", "YAML syntax error", "expected ',' or '}'")
    assert str(info.value).startswith(f"{path}:3:1: YAML syntax error")


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", VALID_YAML + "arrivals: {process: poisson, rate: 0.5}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert_fault(info.value, f"{path}:4:1", "duplicate key 'arrivals'", "line 4")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("- stations\n- arrivals\n", "got a list", id="list"),
        pytest.param("", "got empty", id="empty file"),
        pytest.param("# nothing but a comment\n", "got empty", id="only a comment"),
        pytest.param("just words\n", "got a str", id="scalar"),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = write(tmp_path, "top.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert_fault(info.value, str(path), "must be a mapping", kind)  # the fault names the file


def test_nan_and_inf_written_in_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "nan.yaml",
        "stations:\n"
        "  a: {servers: 1, service: {dist: exponential, rate: .nan}}\n"
        "  b: {servers: 1, service: {dist: exponential, rate: -.inf}}\n"
        "arrivals: {process: poisson, rate: 1.0}\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.faults) == 2
    assert_fault(info.value, "stations.a.service.rate", "finite number", "got nan")
    assert_fault(info.value, "stations.b.service.rate", "finite number", "got -inf")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "absent.yaml")
    assert_fault(info.value, str(tmp_path / "absent.yaml"), "no such file")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    assert_fault(info.value, str(tmp_path), "is a folder, not a regular file")


def test_file_is_named_after_its_stem(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "my-bus.yaml", VALID_YAML))
    assert scenario.name == "my-bus"


EMPIRICAL_YAML = """\
stations:
  a: {servers: 1, service: {dist: empirical, file: data/service.csv}}
arrivals: {process: poisson, rate: 0.5}
"""


def test_empirical_csv_beside_the_scenario_loads_from_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "service.csv").write_text("seconds\n0.5\n1.0\n\n1.5\n", encoding="utf-8")
    path = write(folder, "emp.yaml", EMPIRICAL_YAML)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scenario = load_scenario(path)
    service = scenario.stations[0].service
    assert service.mean == 1.0
    assert scenario.base_dir == folder.resolve()
    # ... and through a relative path to the scenario file, too
    monkeypatch.chdir(tmp_path)
    assert load_scenario(Path("project") / "emp.yaml").stations[0].service == service


def test_empirical_csv_missing_is_reported_beside_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    path = write(folder, "emp.yaml", EMPIRICAL_YAML)
    # A file of that name in the working directory must not be picked up instead.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "service.csv").write_text("1.0\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    expected = folder.resolve() / "data" / "service.csv"
    assert_fault(info.value, "stations.a.service.file", str(expected), "no such file")


def test_empirical_csv_with_bad_lines(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "service.csv").write_text("0.5\nabc\n-1\n", encoding="utf-8")
    path = write(tmp_path, "emp.yaml", EMPIRICAL_YAML)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.faults) == 2
    assert_fault(info.value, "stations.a.service.file", "line 2, column 1: not a number")
    assert_fault(info.value, "stations.a.service.file", "line 3", "negative")


# ---------------------------------------------------------------- stability


def test_unstable_station_is_refused_with_rho_per_station() -> None:
    # External rate 2.5: λ_ingest = 2.5, ρ = 2.5 × 0.5 = 1.25; λ_enrich = 0.6 × 2.5 = 1.5,
    # ρ = 1.5 × 0.5 = 0.75; λ_store = 0.3 × 2.5 + 0.5 × 1.5 = 1.5, ρ = 1.5 × 0.8 / 2 = 0.6.
    raw = edit("arrivals.rate", 2.5)
    err = refused(raw, UnstableError)
    assert len(err.faults) == 1
    assert_fault(
        err,
        "stations.ingest",
        "ρ = 1.25 >= 1",
        "unlimited capacity",
        "ingest=1.25, enrich=0.75, store=0.6",
        "--allow-unstable",
    )
    assert isinstance(err, ScenarioError) and isinstance(err, ValueError)
    scenario = scenario_from_dict(raw, allow_unstable=True)
    assert [round(float(rho), 12) for rho in scenario.offered_load()] == [1.25, 0.75, 0.6]


def test_every_unstable_station_is_listed() -> None:
    err = refused(edit("arrivals.rate", 4.0), UnstableError)
    # ρ = 2.0, 1.2, 0.96: two stations at or above 1
    assert [fault.path for fault in err.faults] == ["stations.ingest", "stations.enrich"]
    assert_fault(err, "stations.enrich", "ρ = 1.2 >= 1", "ingest=2, enrich=1.2, store=0.96")


def test_load_exactly_one_is_unstable() -> None:
    # two classes at one station: 1.5/2 + 1.0/4 = 1 exactly
    raw = {
        "stations": {"web": {"servers": 1, "service": {"dist": "exponential", "rate": 2.0}}},
        "classes": {
            "a": {"arrivals": {"process": "poisson", "rate": 1.5}},
            "b": {
                "arrivals": {"process": "poisson", "rate": 1.0},
                "service": {"web": {"dist": "exponential", "rate": 4.0}},
            },
        },
    }
    err = refused(raw, UnstableError)
    assert_fault(err, "stations.web", "ρ = 1 >= 1")


def test_unstable_station_with_finite_capacity_is_accepted() -> None:
    raw = edit("stations.ingest.capacity", 5, edit("arrivals.rate", 2.5))
    scenario = scenario_from_dict(raw)
    assert scenario.stations[0].capacity == 5
    assert float(scenario.offered_load()[0]) == pytest.approx(1.25)


def test_unstable_station_does_not_hide_other_faults() -> None:
    """An unstable station and another fault: the other fault is reported."""
    raw = edit("run", {"horizon": 10, "warmup": 20}, edit("arrivals.rate", 2.5))
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    assert_fault(info.value, "run.warmup", "must be < the horizon (10)", "got 20")


# ---------------------------------------------------------------- several faults


def test_several_schema_faults_reported_together() -> None:
    raw = doc(run={"confidence": 2, "replications": 0})
    raw["stations"]["ingest"]["servers"] = 0
    raw["stations"]["enrich"]["service"]["mean"] = -1.0
    raw["arrivals"]["rate"] = math.nan
    raw["stations"]["store"]["capacity"] = 1.5
    err = refused(raw)
    assert len(err.faults) == 6, [str(f) for f in err.faults]
    assert_fault(err, "stations.ingest.servers", ">= 1", "got 0")
    assert_fault(err, "stations.enrich.service.mean", "> 0", "got -1")
    assert_fault(err, "stations.store.capacity", "whole number", "got 1.5")
    assert_fault(err, "arrivals.rate", "finite", "nan")
    assert_fault(err, "run.confidence", "<= 0.999999", "got 2")
    assert_fault(err, "run.replications", ">= 1", "got 0")
    assert len(str(err).splitlines()) == 6  # one line per fault


def test_several_model_faults_reported_together() -> None:
    raw = doc(
        routing={"ingest": {"enrch": 0.5}, "stor": {"ingest": 0.5}},
        run={"horizon": 10, "warmup": 20},
    )
    raw["stations"]["store"]["capacity"] = 1
    raw["arrivals"]["to"] = "ingset"
    err = refused(raw)
    assert len(err.faults) == 5, [str(f) for f in err.faults]
    assert_fault(err, "stations.store.capacity", "must be >= servers (2)", "got 1")
    assert_fault(err, "arrivals.to", "unknown station 'ingset'")
    assert_fault(err, "routing.ingest.enrch", "unknown station 'enrch'")
    assert_fault(err, "routing.stor", "unknown station 'stor'")
    assert_fault(err, "run.warmup", "must be < the horizon (10)")
    assert len(str(err).splitlines()) == 5


def test_several_routing_row_faults_reported_together() -> None:
    raw = doc(routing=[[0, 0.5, 0.7], [0, 0, 0], [0.6, 0.6, 0]])
    err = refused(raw)
    assert len(err.faults) == 2
    assert_fault(err, "routing.ingest", "probabilities sum to 1.2 (> 1)")
    assert_fault(err, "routing.store", "probabilities sum to 1.2 (> 1)")


def test_unknown_station_and_row_sum_in_routing_reported_together() -> None:
    raw = doc(routing={"ingest": {"enrch": 0.5}, "enrich": {"store": 0.7, "ingest": 0.7}})
    err = refused(raw)
    assert_fault(err, "routing.ingest.enrch", "unknown station 'enrch'")
    assert_fault(err, "routing.enrich", "probabilities sum to 1.4 (> 1)")
    assert len(err.faults) == 2
    # in one row: the unknown target, and the known part of the row summing over 1
    err = refused(doc(routing={"ingest": {"enrch": 0.1, "enrich": 0.8, "store": 0.6}}))
    assert len(err.faults) == 2
    assert_fault(err, "routing.ingest.enrch", "unknown station 'enrch'")
    assert_fault(err, "routing.ingest", "probabilities sum to 1.4 (> 1)")


def test_faults_of_several_classes_reported_together() -> None:
    raw = copy.deepcopy(CLASSES_BASE)
    raw["classes"]["orders"]["routing"] = {"ingest": {"enrch": 0.3}}
    raw["classes"]["audits"]["service"] = {"stor": {"dist": "exponential", "rate": 1.0}}
    raw["classes"]["audits"]["arrivals"]["to"] = {"enrich": 0.5, "store": 0.6}
    err = refused(raw)
    assert len(err.faults) == 3, [str(f) for f in err.faults]
    assert_fault(err, "classes.orders.routing.ingest.enrch", "unknown station")
    assert_fault(err, "classes.audits.service.stor", "unknown station", "did you mean 'store'?")
    assert_fault(err, "classes.audits.arrivals.to", "probabilities sum to 1.1")


def test_schema_faults_do_not_hide_model_faults() -> None:
    """The checks past the schema run on the parts of the document that passed it."""
    raw = doc(
        routing={"ingest": {"enrch": 0.5}, "enrich": {"store": 0.7, "ingest": 0.7}},
        run={"horizon": 10, "warmup": 20, "seed": -1},
    )
    raw["stations"]["ingest"]["servers"] = 0
    raw["arrivals"]["rate"] = -1.0
    raw["arrivals"]["to"] = "ingset"
    err = refused(raw)
    assert [fault.path for fault in err.faults] == [
        "stations.ingest.servers",
        "arrivals.rate",
        "run.seed",
        "arrivals.to",
        "routing.ingest.enrch",
        "routing.enrich",
        "run.warmup",
    ], [str(f) for f in err.faults]
    assert_fault(err, "arrivals.to", "unknown station 'ingset'")
    assert_fault(err, "routing.enrich", "probabilities sum to 1.4 (> 1)")
    assert_fault(err, "run.warmup", "must be < the horizon (10)", "got 20")


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        pytest.param(
            doc(routing={"ingest": {"enrich": 1.5, "store": 0.3}}),
            "routing.ingest.enrich",
            id="probability-out-of-range-no-row-sum",
        ),
        pytest.param(
            doc(routing={"ingest": {"enrich": "0.9", "store": 0.3}}),
            "routing.ingest.enrich",
            id="probability-as-text-no-row-sum",
        ),
        pytest.param(doc(run={"horizon": "long", "warmup": 5000}), "run.horizon", id="bad-horizon"),
        pytest.param(
            doc(run={"horizn": 50000, "warmup": 20000}),
            "run.horizn",
            id="misspelt-horizon-not-the-default",
        ),
        pytest.param(
            doc(
                stations={
                    "a": {
                        "servers": 0,
                        "capacity": 2,
                        "on_full": "block",
                        "service": {"dist": "exponential", "rate": 2.0},
                    }
                },
                arrivals={"process": "poisson", "rate": 1.0},
                routing={"a": {"a": 0.5}},
            ),
            "stations.a.servers",
            id="malformed-station-not-judged-blocking",
        ),
        pytest.param(
            doc(stations={"ingest": BASE["stations"]["ingest"], False: BASE["stations"]["store"]}),
            "stations",
            id="station-names-not-all-text",
        ),
        pytest.param(
            doc(classes={"k": {"arrivals": {"process": "poisson", "rate": 1.0, "to": "x"}}}),
            "",
            id="classes-and-arrivals",
        ),
    ],
)
def test_a_malformed_part_causes_no_second_fault(raw: dict[str, Any], path: str) -> None:
    """What needs a part that failed the schema is not checked: one fault, the schema's."""
    err = refused(raw)
    assert [fault.path for fault in err.faults] == [path], [str(f) for f in err.faults]


# ---------------------------------------------------------------- happy path


def test_there_are_scenario_files() -> None:
    assert len(SCENARIO_FILES) >= 4


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.stations
    assert scenario.classes
    assert all(float(rho) < 1 for rho in scenario.offered_load())
    assert 0 <= scenario.run.warmup_time < scenario.run.horizon


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_yaml_round_trip(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    text = scenario_to_yaml(scenario)
    (tmp_path / "data").symlink_to(path.parent / "data")  # relative file references
    again = write(tmp_path, "again.yaml", text)
    loaded = load_scenario(again)
    assert loaded.document == scenario.document
    assert loaded.name == scenario.name
    assert loaded.station_names == scenario.station_names
    assert loaded.stations == scenario.stations
    assert loaded.run == scenario.run
    # written YAML holds the defaults filled in, so it round-trips a second time unchanged
    assert scenario_to_yaml(loaded) == text


@pytest.mark.parametrize(
    "raw", [pytest.param(BASE, id="one class"), pytest.param(CLASSES_BASE, id="classes")]
)
def test_yaml_round_trip_of_documents(raw: dict[str, Any]) -> None:
    scenario = scenario_from_dict(raw, name="named")
    loaded = scenario_from_dict(yaml.safe_load(scenario_to_yaml(scenario)))
    assert loaded.document.model_dump(exclude={"name"}) == scenario.document.model_dump(
        exclude={"name"}
    )
    assert loaded.name == scenario.name
    assert isinstance(loaded.document, ScenarioDocument)


def test_matrix_and_mapping_routing_agree() -> None:
    by_matrix = scenario_from_dict(doc(routing=[[0, 0.6, 0.3], [0, 0, 0.5], [0, 0, 0]]))
    by_mapping = scenario_from_dict(BASE)
    assert (by_matrix.classes[0].routing.matrix == by_mapping.classes[0].routing.matrix).all()


def base_scenario() -> Scenario:
    return scenario_from_dict(BASE)


def test_with_run_changes_settings_and_keeps_the_original() -> None:
    scenario = base_scenario()
    changed = scenario.with_run(horizon=500, replications=4)
    assert (changed.run.horizon, changed.run.replications) == (500.0, 4)
    assert changed.run.warmup == 100 and changed.run.seed == 1
    assert changed.document.run.horizon == 500.0
    assert (scenario.run.horizon, scenario.run.replications) == (1000.0, 3)
    assert changed.stations == scenario.stations
    # None means "keep"
    assert scenario.with_run(horizon=None).run == scenario.run


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        pytest.param({"horizon": 50}, "run.warmup", ("< the horizon (50)", "got 100"), id="warmup"),
        pytest.param(
            {"horizon": 100}, "run.warmup", ("< the horizon (100)", "got 100"), id="equal"
        ),
        pytest.param({"replications": 0}, "run.replications", (">= 1", "got 0"), id="reps"),
        pytest.param({"horizon": -5.0}, "run.horizon", ("> 0", "got -5"), id="horizon"),
        pytest.param(
            {"confidence": 1.5}, "run.confidence", ("<= 0.999999", "got 1.5"), id="confidence"
        ),
        pytest.param({"horizn": 5.0}, "run.horizn", ("unknown field",), id="unknown"),
    ],
)
def test_with_run_faults(changes: dict[str, Any], path: str, words: tuple[str, ...]) -> None:
    with pytest.raises(ScenarioError) as info:
        base_scenario().with_run(**changes)
    assert len(info.value.faults) == 1
    assert_fault(info.value, path, *words)


def test_with_run_reports_a_bad_setting_and_the_warmup_together() -> None:
    with pytest.raises(ScenarioError) as info:
        base_scenario().with_run(horizon=50, replications=0)
    assert [fault.path for fault in info.value.faults] == ["run.replications", "run.warmup"]
    assert_fault(info.value, "run.warmup", "< the horizon (50)", "got 100")


def test_with_run_warmup_auto_is_decided_after_the_run() -> None:
    """With auto, measurement starts at 0 and MSER-5 cuts later, so no time is fixed before."""
    changed = base_scenario().with_run(warmup="auto", horizon=50)
    assert changed.run.warmup == "auto"
    assert changed.run.warmup_time == 0.0


HAPPY_EDITS: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("entry split", lambda: edit("arrivals.to", {"ingest": 0.7, "store": 0.3})),
    (
        "entry split with YAML decimals",
        lambda: edit("arrivals.to", {"ingest": 0.1, "enrich": 0.2, "store": 0.7}),
    ),
    ("row summing to 1", lambda: edit("routing.enrich", {"store": 0.5, "ingest": 0.5})),
    (
        "renewal arrivals",
        lambda: edit(
            "arrivals",
            {"process": "renewal", "interarrival": {"dist": "erlang", "k": 2, "mean": 1.0}},
        ),
    ),
    ("warm-up none", lambda: doc(run={"warmup": "none"})),
    ("capacity equal to servers", lambda: edit("stations.store.capacity", 2)),
]


@pytest.mark.parametrize(("make"), [pytest.param(m, id=i) for i, m in HAPPY_EDITS])
def test_valid_variants_are_accepted(make: Callable[[], dict[str, Any]]) -> None:
    scenario = scenario_from_dict(make())
    assert scenario.stations


def test_exponent_without_a_dot_is_a_number(tmp_path: Path) -> None:
    """YAML 1.1 reads ``1e4`` as text; a scenario means the number (as YAML 1.2 and JSON)."""
    path = write(
        tmp_path,
        "sci.yaml",
        "stations:\n  a: {service: {dist: exponential, mean: 1e-1}}\n"
        "arrivals: {process: poisson, rate: 5E0}\nrun: {horizon: 1e4, warmup: 2e+2}\n",
    )
    scenario = load_scenario(path)
    assert scenario.run.horizon == 10_000.0
    assert scenario.run.warmup_time == 200.0
    assert scenario.stations[0].service.mean == pytest.approx(0.1)
    assert scenario.classes[0].arrivals.rate == 5.0
