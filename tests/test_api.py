"""The Python API a notebook user meets first: discoverable names, shipped scenarios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import eda_sim
from eda_sim import examples

ROOT = Path(__file__).resolve().parent.parent


def test_dir_offers_the_lazy_names_and_hides_helpers() -> None:
    names = dir(eda_sim)
    for wanted in ("run", "solve", "load_scenario", "plots", "examples", "Scenario", "sweep"):
        assert wanted in names
    for unwanted in ("Any", "Sequence", "importlib", "TYPE_CHECKING"):
        assert unwanted not in names


def test_every_name_dir_offers_resolves() -> None:
    for name in dir(eda_sim):
        assert getattr(eda_sim, name) is not None, name


def test_examples_are_the_repository_scenarios() -> None:
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert examples.names() == shipped
    for name in shipped:
        original = ROOT / "scenarios" / f"{name}.yaml"
        assert examples.path(name).read_bytes() == original.read_bytes()
    assert examples.path("jackson3.yaml") == examples.path("jackson3")


def test_an_unknown_example_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="jackson3"):
        examples.path("jackson4")
    with pytest.raises(KeyError):
        examples.path("../pyproject")


def test_examples_load_from_another_working_directory(tmp_path: Path) -> None:
    """A trace scenario's data file resolves beside the installed scenario."""
    code = (
        "import eda_sim; s = eda_sim.load_scenario(eda_sim.examples.path('trace_replay'));"
        " print(len(s.station_names))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 1


# --- lookups by name and variants -------------------------------------------------------


def jackson() -> eda_sim.Scenario:
    return eda_sim.load_scenario(examples.path("jackson3"))


def test_station_and_class_by_name() -> None:
    scenario = jackson()
    assert scenario.station("store") is scenario.stations[scenario.station_names.index("store")]
    assert scenario.event_class("events") is scenario.classes[0]
    with pytest.raises(KeyError, match="did you mean 'store'"):
        scenario.station("stor")


def test_replace_one_number_matches_replace_value() -> None:
    scenario = jackson()
    by_method = scenario.replace("arrivals.rate", 1.3)
    by_function = eda_sim.replace_value(scenario, "arrivals.rate", 1.3)
    assert by_method.document == by_function.document
    assert scenario.event_class("events").arrivals.rate == 1.0  # left unchanged


def test_replace_several_changes_is_checked_once_at_the_end() -> None:
    """Two routing entries that are only valid together (each alone sums past 1)."""
    scenario = jackson()
    changed = scenario.replace({"routing.ingest.enrich": 0.1, "routing.ingest.store": 0.85})
    row = changed.event_class("events").routing.matrix[0]
    assert (row[1], row[2]) == (0.1, 0.85)
    with pytest.raises(eda_sim.ScenarioError, match=r"routing\.ingest"):
        scenario.replace("routing.ingest.store", 0.85)


def test_replace_whole_nodes_new_entries_and_removals() -> None:
    cart = eda_sim.load_scenario(examples.path("shopping_cart"))
    asynchronous = cart.replace(
        "stations.product", {"servers": 2, "service": {"dist": "exponential", "mean": 0.04}}
    )
    assert asynchronous.station("product").on_full == "lose"
    assert asynchronous.station("product").capacity is None
    assert not asynchronous.has_blocking
    unlimited = cart.replace({"stations.product.capacity": None, "stations.product.on_full": None})
    assert unlimited.station("product").capacity is None
    added = jackson().replace(
        "stations.audit", {"service": {"dist": "deterministic", "value": 0.1}}
    )
    assert added.station_names[-1] == "audit"


def test_replace_refuses_like_a_file() -> None:
    with pytest.raises(eda_sim.ScenarioError) as caught:
        jackson().replace("stations.store.service", {"dist": "lognormal", "mean": 1, "cv": -1.5})
    assert str(caught.value) == "stations.store.service.cv: must be > 0, got -1.5"
    with pytest.raises(eda_sim.ScenarioError, match=r"did you mean 'arrivals\.rate'"):
        jackson().replace("arrivals.rat", 2.0)


# --- the Python builder -----------------------------------------------------------------

BAD_INPUTS = ROOT / "tests" / "bad_inputs"


def built_like(raw: dict[str, object], base_dir: Path) -> eda_sim.ScenarioBuilder:
    """The builder calls that write ``raw``, one per part, as a user would make them."""
    from eda_sim.scenario.builder import ScenarioBuilder

    head = {key: raw[key] for key in ("name", "description", "time_unit") if key in raw}
    builder = ScenarioBuilder(**head, base_dir=base_dir)  # type: ignore[arg-type]
    for name, spec in raw.get("stations", {}).items():  # type: ignore[attr-defined]
        builder.station(name, **spec)
    if "arrivals" in raw:
        builder.arrivals(raw["arrivals"])  # type: ignore[arg-type]
    routing = raw.get("routing")
    if isinstance(routing, dict):
        for source, row in routing.items():
            builder.route(source, row)
    elif routing is not None:
        builder.routing(routing)  # type: ignore[arg-type]
    for name, spec in raw.get("classes", {}).items():  # type: ignore[attr-defined]
        builder.event_class(name, **spec)
    if "run" in raw:
        builder.run(**raw["run"])  # type: ignore[arg-type]
    for objective in raw.get("slo", []):  # type: ignore[attr-defined]
        builder.slo(**objective)
    return builder


def expressible(raw: object) -> bool:
    """Whether the builder's calls can write this document (mappings where it takes them)."""
    if not isinstance(raw, dict):
        return False
    known = {"name", "description", "time_unit", "stations", "arrivals", "routing", "classes"}
    objectives = raw.get("slo")
    if isinstance(objectives, list) and all(
        isinstance(o, dict) and "target" in o and set(o) <= {"target", "max", "min"}
        for o in objectives
    ):
        known |= {"slo"}  # the builder's slo() calls write each objective
    if set(raw) - (known | {"run"}):
        return False
    mappings = ["stations", "classes", "run", "arrivals"]
    if any(key in raw and not isinstance(raw[key], dict) for key in mappings):
        return False
    if any(key in raw and not raw[key] for key in ("stations", "classes")):
        return False  # an empty section: no call adds nothing
    parts = [*raw.get("stations", {}).values(), *raw.get("classes", {}).values()]
    if not all(isinstance(part, dict) and all(isinstance(k, str) for k in part) for part in parts):
        return False
    if isinstance(raw.get("routing"), dict):
        return all(isinstance(row, dict) for row in raw["routing"].values())
    return all(isinstance(key, str) for key in raw.get("run", {}))


def parsed(path: Path) -> object:
    """The document as the loader parses it (bounded: the corpus holds alias bombs)."""
    from eda_sim.scenario.loader import _parse_yaml

    try:
        return _parse_yaml(path.read_text(), str(path))
    except (eda_sim.ScenarioError, UnicodeDecodeError, RecursionError):
        return None


def bad_documents() -> list[Path]:
    return [p for p in sorted(BAD_INPUTS.glob("*.yaml")) if expressible(parsed(p))]


def test_the_corpus_gives_the_builder_enough_to_compare() -> None:
    assert len(bad_documents()) >= 30


@pytest.mark.parametrize("path", bad_documents(), ids=lambda p: p.stem)
def test_builder_refuses_with_the_messages_of_the_same_file(path: Path) -> None:
    raw = parsed(path)
    assert isinstance(raw, dict)
    with pytest.raises(eda_sim.ScenarioError) as from_file:
        eda_sim.load_scenario(path)
    with pytest.raises(eda_sim.ScenarioError) as from_builder:
        built_like(raw, path.parent).build()
    assert type(from_builder.value) is type(from_file.value)
    # The file's faults about the whole document (no field path) name the file instead.
    expected = [str(f).removeprefix(f"{path}: ") for f in from_file.value.faults]
    assert [str(f) for f in from_builder.value.faults] == expected


def test_builder_and_file_build_the_same_scenario() -> None:
    for name in examples.names():
        path = examples.path(name)
        from_file = eda_sim.load_scenario(path)
        raw = parsed(path)
        assert isinstance(raw, dict)
        built = built_like(raw, path.parent).build()
        assert built.document == from_file.document, name
        assert built.station_names == from_file.station_names


# --- frames: one vocabulary ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cart_run() -> eda_sim.RunResult:
    cart = eda_sim.load_scenario(examples.path("shopping_cart"))
    return eda_sim.run(cart, replications=2, horizon=300, warmup=20)


def test_replications_frame_has_every_scope_of_to_frame(cart_run: eda_sim.RunResult) -> None:
    summary = cart_run.to_frame()
    reps = cart_run.replications_frame()
    assert list(reps.columns) == ["replication", "scope", "name", "metric", "value"]
    assert set(reps["scope"]) == {"station", "system", "class"}
    keys = ["scope", "name", "metric"]
    assert set(map(tuple, reps[keys].values)) == set(map(tuple, summary[keys].values))
    means = reps.groupby(keys)["value"].mean()
    merged = summary.set_index(keys)["mean"]
    assert means.loc[merged.index].to_numpy() == pytest.approx(merged.to_numpy(), nan_ok=True)


def test_theory_frame_merges_with_the_run(cart_run: eda_sim.RunResult) -> None:
    cart = eda_sim.load_scenario(examples.path("shopping_cart"))
    theory = eda_sim.solve(cart).to_frame()
    assert list(theory.columns[:3]) == ["scope", "name", "metric"]
    unavailable = theory[~theory["available"]]
    assert "product" in set(unavailable["name"]) and all(unavailable["reason"] != "")
    run = cart_run.to_frame()
    both = run.merge(theory[theory["available"]], on=["scope", "name", "metric"])
    assert len(both) > 10
    assert both["theory_x"].to_numpy() == pytest.approx(both["theory_y"].to_numpy())
    assert (both["method_x"] == both["method_y"]).all()


def test_checks_frame_is_the_json_checks(cart_run: eda_sim.RunResult) -> None:
    checks = cart_run.checks_frame()
    import pandas as pd

    pd.testing.assert_frame_equal(checks, pd.DataFrame([c.to_dict() for c in cart_run.checks]))
    assert {"check", "subject", "p_value", "passed"} <= set(checks.columns)


def test_records_frame_needs_a_trace(cart_run: eda_sim.RunResult) -> None:
    with pytest.raises(ValueError, match="trace=True"):
        cart_run.records_frame()


def test_records_frame_of_a_hand_worked_tandem() -> None:
    """Deterministic gaps 1, service 1.5 at A then 0.25 at B; horizon 5 (worked by hand).

    A: event 0 arrives 1, served 1-2.5; event 1 arrives 2, waits to 2.5, served to 4;
    event 2 arrives 3, starts 4, still in service at 5; event 3 arrives 4 (after the
    departure at 4, scheduled earlier) and is still waiting. B: events 0 and 1 pass
    from 2.5 to 2.75 and from 4 to 4.25, then leave.
    """
    from eda_sim.scenario.builder import ScenarioBuilder, dist, renewal

    tandem = (
        ScenarioBuilder("tandem")
        .station("A", service=dist("deterministic", value=1.5))
        .station("B", service=dist("deterministic", value=0.25))
        .arrivals(renewal(dist("deterministic", value=1.0), to="A"))
        .route("A", B=1.0)
        .build(allow_unstable=True)
    )
    result = eda_sim.run(tandem, replications=2, horizon=5.0, warmup="none", trace=True)
    records = result.records_frame()
    nan = float("nan")
    expected = [
        # id, station, type, arrival, wait, start, end, departure, destination, present
        (0, "A", "service", 1.0, 0.0, 1.0, 2.5, 2.5, "B", 0),
        (1, "A", "service", 2.0, 0.5, 2.5, 4.0, 4.0, "B", 1),
        (0, "B", "service", 2.5, 0.0, 2.5, 2.75, 2.75, "", 0),
        (2, "A", "unfinished", 3.0, 1.0, 4.0, nan, nan, "", 1),
        (1, "B", "service", 4.0, 0.0, 4.0, 4.25, 4.25, "", 0),
        (3, "A", "unfinished", 4.0, nan, nan, nan, nan, "", 1),
    ]
    columns = [
        "id",
        "station",
        "record_type",
        "arrival",
        "wait",
        "service_start",
        "service_end",
        "departure",
        "destination",
        "present_at_arrival",
    ]
    got = list(records[columns].itertuples(index=False, name=None))
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert row == pytest.approx(want, nan_ok=True)
    served = records[records["record_type"] == "service"]
    assert (served["sojourn"] == served["departure"] - served["arrival"]).all()
    assert (served["blocked"] == 0).all()
    assert set(records["class"]) == {"events"}
