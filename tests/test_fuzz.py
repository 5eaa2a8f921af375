"""Fuzzing the scenario validation (hypothesis): bad documents raise ScenarioError only.

A valid document (``scenarios/jackson3.yaml`` as YAML parses it, and a richer
multi-class one) is mutated one to three times at random: a key deleted or
renamed, a value replaced by a value of another type (null, text, a list, a
mapping, a boolean, NaN, infinity, a negative, zero or huge number), an unknown
key inserted, a whole section replaced by garbage, routing rows and matrices given
random shapes, values and station names. :func:`scenario_from_dict` must then
either accept the document or raise :class:`ScenarioError`, never a ``KeyError``,
``TypeError``, ``ZeroDivisionError`` or any other exception, and every fault it
reports must be a one-line, non-empty message at a text path. The same holds for
completely random nested data and for :func:`replace_value` with random paths
and values.

Random *valid* networks (conservation, Little's law) are in
``test_engine_properties.py``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st

from eda_sim.errors import ScenarioError
from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.scenario.paths import replace_value

ROOT = Path(__file__).resolve().parent.parent

JACKSON3: dict[str, Any] = yaml.safe_load((ROOT / "scenarios" / "jackson3.yaml").read_text())
TANDEM: dict[str, Any] = yaml.safe_load((ROOT / "scenarios" / "tandem.yaml").read_text())

MULTI_CLASS: dict[str, Any] = {
    "name": "multi",
    "stations": {
        "ingest": {"servers": 1, "service": {"dist": "exponential", "rate": 4.0}},
        "enrich": {"servers": 2, "service": {"dist": "erlang", "k": 2, "mean": 0.5}},
        "store": {
            "servers": 2,
            "capacity": 8,
            "service": {"dist": "lognormal", "mean": 0.8, "cv": 1.5},
        },
        "audit": {
            "servers": 1,
            "service": {"dist": "hyperexponential", "probs": [0.4, 0.6], "rates": [2.0, 5.0]},
        },
    },
    "classes": {
        "orders": {
            "arrivals": {"process": "poisson", "rate": 0.6, "to": {"ingest": 0.7, "store": 0.3}},
            "routing": {"ingest": {"enrich": 0.6, "store": 0.3}, "enrich": {"store": 0.5}},
        },
        "audits": {
            "arrivals": {
                "process": "renewal",
                "interarrival": {"dist": "gamma", "shape": 2.0, "mean": 5.0},
                "to": "audit",
            },
            "routing": [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0.2, 0, 0.3, 0]],
            "service": {
                "store": {"dist": "uniform", "low": 0.1, "high": 0.5},
                "audit": {"dist": "empirical", "values": [0.1, 0.2, 0.4]},
            },
        },
    },
    "run": {"horizon": 500, "warmup": "auto", "replications": 2, "seed": 7, "confidence": 0.9},
}

#: Every distribution family in every form, a routing matrix, a renewal stream.
FORMS: dict[str, Any] = {
    "stations": {
        "det": {"service": {"dist": "deterministic", "value": 0.2}},
        "erl_k": {"service": {"dist": "erlang", "k": 3, "rate": 15.0}},
        "erl_cv": {"service": {"dist": "erlang", "mean": 0.2, "cv": 0.5}},
        "gam_shape": {"service": {"dist": "gamma", "shape": 2.0, "rate": 10.0}},
        "gam_cv": {"service": {"dist": "gamma", "mean": 0.2, "cv": 2.0}},
        "logn": {"service": {"dist": "lognormal", "mu": -2.0, "sigma": 0.5}},
        "hyper": {"servers": 3, "service": {"dist": "hyperexponential", "mean": 0.5, "cv": 2.0}},
        "unif": {"capacity": 4, "service": {"dist": "uniform", "low": 0.0, "high": 0.4}},
    },
    "arrivals": {
        "process": "renewal",
        "interarrival": {"dist": "lognormal", "mean": 1.0, "cv": 0.8},
        "to": {"det": 0.5, "erl_k": 0.5},
    },
    "routing": [
        [0, 0, 0.5, 0, 0, 0, 0, 0],
        [0, 0, 0, 0.5, 0, 0, 0, 0],
        [0, 0, 0, 0, 0.5, 0, 0, 0],
        [0, 0, 0, 0, 0, 0.5, 0, 0],
        [0, 0, 0, 0, 0, 0, 0.5, 0],
        [0, 0, 0, 0, 0, 0, 0, 0.5],
        [0.1, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
    ],
    "run": {"horizon": 100, "warmup": 10, "precision": 0.05},
}

BASES = {"jackson3": JACKSON3, "tandem": TANDEM, "multi": MULTI_CLASS, "forms": FORMS}

STATION_LIKE = ("ingest", "enrich", "store", "audit", "validate", "persist", "nowhere", "")

# Numbers that break rules: signs, zero, the edges of the float range, NaN.
BAD_NUMBERS = st.sampled_from(
    [
        0,
        0.0,
        -0.0,
        -1,
        -1.5,
        -(10**6),
        math.nan,
        math.inf,
        -math.inf,
        1e308,
        -1e308,
        2**63,
        10**30,
        0.5,
        1.0000001,
        1.5,
        2,
        1e-9,
        1e6,
        1e-200,
        5e-324,
    ]
)
#: Factors a number in the document is multiplied by.
SCALES = (-1, 0, 1e-20, 1e-6, 0.999, 1.001, 2, 1e6, 1e20, 1e200, 1e300)
TEXT = st.text(max_size=12)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    TEXT,
    BAD_NUMBERS,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(),
)
GARBAGE = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(TEXT, st.sampled_from(STATION_LIKE)), children, max_size=4),
    ),
    max_leaves=8,
)
KEYS = st.one_of(
    TEXT,
    st.sampled_from(["rate", "mean", "cv", "dist", "servers", "to", "routing", "service"]),
    st.integers(-3, 3),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
)

Path_ = tuple[Any, ...]


def paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every place in a document: mapping keys and list indices, depth first."""
    found: list[Path_] = []
    if isinstance(node, dict):
        for key, child in node.items():
            found.append((*prefix, key))
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append((*prefix, index))
            found.extend(paths(child, (*prefix, index)))
    return found


def containers(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """The places that hold a mapping (where a key can be inserted or renamed)."""
    found: list[Path_] = [prefix] if isinstance(node, dict) else []
    if isinstance(node, dict):
        for key, child in node.items():
            found.extend(containers(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(containers(child, (*prefix, index)))
    return found


def get(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def routing_places(doc: dict[str, Any]) -> list[Path_]:
    """Where routing may be written: the top level, or each class."""
    places: list[Path_] = [("routing",)]
    classes = doc.get("classes")
    if isinstance(classes, dict):
        places.extend(("classes", name, "routing") for name in classes)
    return places


def entry_places(doc: dict[str, Any]) -> list[Path_]:
    places: list[Path_] = [("arrivals", "to")] if isinstance(doc.get("arrivals"), dict) else []
    classes = doc.get("classes")
    if isinstance(classes, dict):
        places.extend(
            ("classes", name, "arrivals", "to")
            for name, spec in classes.items()
            if isinstance(spec, dict) and isinstance(spec.get("arrivals"), dict)
        )
    return places


def set_at(doc: dict[str, Any], path: Path_, value: Any) -> None:
    """Set ``path`` to ``value`` when its parent exists and is a mapping or a list."""
    try:
        parent = get(doc, path[:-1])
    except (KeyError, IndexError, TypeError):
        return
    if isinstance(parent, dict):
        parent[path[-1]] = value
    elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
        parent[path[-1]] = value


MUTATIONS = (
    "delete",
    "replace",
    "number",
    "number",
    "number",
    "rename",
    "insert",
    "section",
    "routing-matrix",
    "routing-rows",
    "entry",
)


@st.composite
def mutate(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    """Apply one random mutation to ``doc`` in place."""
    kind = draw(st.sampled_from(MUTATIONS), label="mutation")
    everywhere = paths(doc)
    if kind == "delete" and everywhere:
        path = draw(st.sampled_from(everywhere))
        parent = get(doc, path[:-1])
        del parent[path[-1]]
    elif kind == "replace" and everywhere:
        set_at(doc, draw(st.sampled_from(everywhere)), draw(GARBAGE))
    elif kind == "number":
        numbers = [p for p in everywhere if is_number(get(doc, p))]
        if numbers:
            path = draw(st.sampled_from(numbers))
            scaled = st.sampled_from(SCALES).map(lambda factor: get(doc, path) * factor)
            set_at(doc, path, draw(st.one_of(BAD_NUMBERS, scaled)))
    elif kind == "rename":
        places = [p for p in everywhere if isinstance(get(doc, p[:-1]), dict)]
        if places:
            path = draw(st.sampled_from(places))
            parent = get(doc, path[:-1])
            parent[draw(KEYS)] = parent.pop(path[-1])
    elif kind == "insert":
        parent = get(doc, draw(st.sampled_from(containers(doc))))
        parent[draw(KEYS)] = draw(GARBAGE)
    elif kind == "section":
        section = draw(st.sampled_from(["stations", "arrivals", "routing", "classes", "run"]))
        doc[section] = draw(GARBAGE)
    elif kind == "routing-matrix":
        cell = st.one_of(st.floats(0, 1), BAD_NUMBERS)
        rows = draw(st.integers(0, 6))
        matrix = [draw(st.lists(cell, min_size=0, max_size=6)) for _ in range(rows)]
        set_at(doc, draw(st.sampled_from(routing_places(doc))), matrix)
    elif kind == "routing-rows":
        names = st.one_of(st.sampled_from(STATION_LIKE), TEXT)
        row = st.dictionaries(names, st.one_of(st.floats(0, 1), BAD_NUMBERS), max_size=4)
        rows = draw(st.dictionaries(names, row, max_size=5))
        set_at(doc, draw(st.sampled_from(routing_places(doc))), rows)
    elif kind == "entry":
        places = entry_places(doc)
        if places:
            names = st.one_of(st.sampled_from(STATION_LIKE), TEXT)
            value = draw(
                st.one_of(
                    names,
                    st.dictionaries(names, st.one_of(st.floats(0, 1), BAD_NUMBERS), max_size=4),
                )
            )
            set_at(doc, draw(st.sampled_from(places)), value)


@st.composite
def invalid_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid base document after one to three random mutations."""
    doc = copy.deepcopy(BASES[draw(st.sampled_from(sorted(BASES)), label="base")])
    for _ in range(draw(st.integers(1, 3))):
        draw(mutate(doc))
    return doc


def assert_only_scenario_error(raw: Any, **kwargs: Any) -> Scenario | None:
    """Build ``raw``; a refusal must be a ScenarioError with one-line faults at text paths."""
    try:
        return scenario_from_dict(raw, **kwargs)
    except ScenarioError as error:
        assert_well_formed(error)
        return None


def assert_well_formed(error: ScenarioError) -> None:
    assert isinstance(error, ValueError)
    assert error.faults
    for fault in error.faults:
        assert isinstance(fault.path, str), fault
        assert isinstance(fault.message, str), fault
        assert fault.message.strip(), fault
        assert "\n" not in fault.message, fault


FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_base_documents_are_valid() -> None:
    for raw in BASES.values():
        scenario_from_dict(copy.deepcopy(raw))


@seed(20_240_611)
@FUZZ
@given(raw=invalid_documents(), allow_unstable=st.booleans())
def test_mutated_documents_raise_scenario_error_only(
    raw: dict[str, Any], allow_unstable: bool
) -> None:
    assume(not has_known_crash(raw))
    assert_only_scenario_error(raw, allow_unstable=allow_unstable)


KNOWN_KEYS = (
    "stations",
    "arrivals",
    "routing",
    "classes",
    "run",
    "servers",
    "service",
    "capacity",
    "dist",
    "rate",
    "mean",
    "cv",
    "process",
    "to",
    "interarrival",
    "horizon",
    "warmup",
    "a",
)
RANDOM_DATA = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), KEYS), children, max_size=5),
    ),
    max_leaves=20,
)


@seed(20_240_612)
@settings(FUZZ, max_examples=200)
@given(raw=RANDOM_DATA)
def test_random_nested_data_raises_scenario_error_only(raw: Any) -> None:
    assume(not has_known_crash(raw))
    assert_only_scenario_error(raw)


# ---------------------------------------------------------------- replace_value

BASE_SCENARIOS = {name: scenario_from_dict(copy.deepcopy(raw)) for name, raw in BASES.items()}


@st.composite
def replace_paths(draw: st.DrawFn, raw: dict[str, Any]) -> str:
    """A dotted path: a real one from the document, perhaps cut, extended or misspelt."""
    real = [".".join(str(part) for part in path) for path in paths(raw)]
    known = draw(st.sampled_from(real))
    return draw(
        st.one_of(
            st.just(known),
            st.builds(lambda extra: f"{known}.{extra}", TEXT),
            st.builds(lambda extra: f"{known}[{extra}]", st.one_of(TEXT, st.integers(-2, 9))),
            st.builds(lambda cut: known[:cut], st.integers(0, len(known))),
            st.sampled_from(
                [
                    "routing.ingest.nowhere",
                    "routing.0.1",
                    "classes.orders.routing.store.ingest",
                    "classes.audits.arrivals.rate",
                    "arrivals.rate",
                    "stations.enrich.service.rates[7]",
                    "stations.audit.service.rates.1",
                    "run.warmup",
                    "..",
                    ".",
                    "[0]",
                    "a[",
                ]
            ),
            TEXT,
        )
    )


@seed(20_240_613)
@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_replace_with_random_paths_and_values_raises_scenario_error_only(
    data: st.DataObject,
) -> None:
    name = data.draw(st.sampled_from(sorted(BASES)), label="base")
    path = data.draw(replace_paths(BASES[name]), label="path")
    value = data.draw(
        st.one_of(BAD_NUMBERS, st.floats(0.01, 100), st.integers(0, 50), SCALARS), label="value"
    )
    try:
        replace_value(BASE_SCENARIOS[name], path, value, allow_unstable=data.draw(st.booleans()))
    except ScenarioError as error:
        assert_well_formed(error)


# ---------------------------------------------------------------- distribution parameters

FAMILIES: dict[str, tuple[str, ...]] = {
    "exponential": ("rate", "mean"),
    "deterministic": ("value",),
    "erlang": ("k", "rate", "mean", "cv"),
    "gamma": ("shape", "rate", "mean", "cv"),
    "lognormal": ("mean", "cv", "mu", "sigma"),
    "hyperexponential": ("probs", "rates", "mean", "cv"),
    "uniform": ("low", "high"),
    "empirical": ("values", "file"),
}
LIST_KEYS = ("probs", "rates", "values")
#: Numbers across the whole float range: subnormals, the largest floats, big integers.
WIDE_NUMBERS = st.one_of(
    BAD_NUMBERS,
    st.sampled_from([5e-324, 1e-310, 1e-200, 1e-150, 1e-100, 1e100, 1e200, 1.7e308, 1e-3, 1, 3]),
    st.floats(),
    st.integers(-(2**70), 2**70),
)


@st.composite
def distribution_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A distribution of a family with some of its parameters, each any number (or garbage)."""
    family = draw(st.sampled_from(sorted(FAMILIES)))
    keys = draw(
        st.sets(st.sampled_from(FAMILIES[family]), min_size=1, max_size=len(FAMILIES[family]))
    )
    spec: dict[str, Any] = {"dist": family}
    for key in sorted(keys):
        if key in LIST_KEYS:
            spec[key] = draw(st.lists(WIDE_NUMBERS, max_size=4))
        elif key == "file":
            spec[key] = draw(st.one_of(TEXT, st.just("."), st.just("data/none.csv")))
        else:
            spec[key] = draw(st.one_of(WIDE_NUMBERS, WIDE_NUMBERS, GARBAGE))
    return spec


def known_crash(spec: dict[str, Any]) -> bool:
    """True for the parameter combinations of the known bugs below (not generated until fixed)."""
    family = spec["dist"]
    cv, rates, values = spec.get("cv"), spec.get("rates"), spec.get("values")
    if family in ("gamma", "erlang") and is_number(cv) and cv != 0 and cv * cv == 0:
        return True
    if (
        family == "hyperexponential"
        and isinstance(rates, list)
        and any(is_number(r) and 0 < r < 1e-150 for r in rates)
    ):
        return True
    if family == "empirical" and isinstance(spec.get("file"), str) and "\x00" in spec["file"]:
        return True
    if family == "empirical" and isinstance(values, list) and all(map(is_number, values)):
        try:
            math.fsum(values)
        except OverflowError:
            return True
    return False


def has_known_crash(node: Any) -> bool:
    """True when a distribution anywhere in ``node`` is one of the known crashes."""
    if isinstance(node, dict):
        if isinstance(node.get("dist"), str) and node["dist"] in FAMILIES and known_crash(node):
            return True
        return any(has_known_crash(child) for child in node.values())
    if isinstance(node, list):
        return any(has_known_crash(child) for child in node)
    return False


@seed(20_240_614)
@settings(FUZZ, max_examples=300)
@given(spec=distribution_specs(), where=st.sampled_from(["service", "interarrival", "override"]))
def test_random_distribution_parameters_raise_scenario_error_only(
    spec: dict[str, Any], where: str
) -> None:
    assume(not known_crash(spec))
    raw = copy.deepcopy(JACKSON3)
    if where == "service":
        raw["stations"]["enrich"]["service"] = spec
    elif where == "interarrival":
        raw["arrivals"] = {"process": "renewal", "interarrival": spec, "to": "ingest"}
    else:
        raw = copy.deepcopy(MULTI_CLASS)
        raw["classes"]["audits"]["service"]["store"] = spec
    assert_only_scenario_error(raw, base_dir=ROOT / "tests", allow_unstable=True)


# ---------------------------------------------------------------- known bugs

KNOWN_CRASHES = {
    "gamma-tiny-cv": (
        {"dist": "gamma", "mean": 1.0, "cv": 1e-200},
        ZeroDivisionError,
        "Gamma.from_mean_cv computes 1/cv² and cv² underflows to 0",
    ),
    "erlang-tiny-cv": (
        {"dist": "erlang", "mean": 1.0, "cv": 1e-200},
        ZeroDivisionError,
        "Erlang.from_mean_cv computes 1/cv² and cv² underflows to 0",
    ),
    "hyperexponential-tiny-rate": (
        {"dist": "hyperexponential", "probs": [1.0, 0.0], "rates": [2.0, 5e-324]},
        ZeroDivisionError,
        "Hyperexponential.scv computes 1/(rate*mean), which underflows to 1/0",
    ),
    "empirical-file-null-byte": (
        {"dist": "empirical", "file": "data/\x00.csv"},
        ValueError,
        "open() refuses a file name with a NUL byte with ValueError, which is not caught",
    ),
    "empirical-huge-values": (
        {"dist": "empirical", "values": [1e308, 1e308]},
        OverflowError,
        "Empirical checks math.fsum(values) <= 0, and fsum overflows",
    ),
}


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(
            spec,
            id=name,
        )
        for name, (spec, _error, _reason) in KNOWN_CRASHES.items()
    ],
)
def test_known_crashes_are_refused(spec: dict[str, Any]) -> None:
    """Regression tests of crashes the fuzzing found (now refused as scenario errors)."""
    raw = {
        "stations": {"a": {"service": spec}},
        "arrivals": {"process": "poisson", "rate": 0.5},
    }
    assert_only_scenario_error(raw, allow_unstable=True)


def test_fault_paths_are_one_line() -> None:
    raw = copy.deepcopy(JACKSON3)
    raw["routing"]["in\ngest"] = {"store": 0.5}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(raw)
    for fault in info.value.faults:
        assert "\n" not in fault.path, fault


def test_replace_value_is_the_function_behind_scenario_replace() -> None:
    base = BASE_SCENARIOS["jackson3"]
    with pytest.raises(ScenarioError) as info:
        replace_value(base, "arrivals.rat", 1.0)
    assert info.value.faults[0].path == "param"
    assert "did you mean 'arrivals.rate'" in info.value.faults[0].message
