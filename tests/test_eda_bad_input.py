"""Bad input for the new features is refused before anything runs, one clear fault each.

Fan-out rows, ``on_full``, ``priority`` and trace arrivals: each broken document
below has exactly one thing wrong, and must be refused with a
:class:`~eda_sim.errors.ScenarioError` holding one fault whose path is where the
user wrote the mistake and whose message names the rule (and the value, or the
nearest valid name). A few go through the command line
(``python -m eda_sim validate FILE``: exit 2, one ``error:`` line per fault on
stderr, no traceback).

Tests marked ``xfail(strict=True)`` document package bugs (the reason says what
is wrong); they start to fail, and so to be noticed, once the bug is fixed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eda_sim.errors import Fault, ScenarioError
from eda_sim.scenario import Scenario, scenario_from_dict


def exp(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def network(routing: dict[str, Any] | None = None, **stations: dict[str, Any]) -> dict[str, Any]:
    """pub -> sub -> store at low load, Poisson 0.5 into pub; ``stations`` replace or add."""
    document: dict[str, Any] = {
        "stations": {
            "pub": {"service": exp(0.5)},
            "sub": {"service": exp(0.5)},
            "store": {"service": exp(0.5), "capacity": 3},
            **stations,
        },
        "arrivals": {"process": "poisson", "rate": 0.5, "to": "pub"},
    }
    if routing is not None:
        document["routing"] = routing
    return document


def refused(raw: dict[str, Any], base_dir: Path | None = None) -> list[Fault]:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(raw, base_dir=base_dir)
    return list(caught.value.faults)


def one_fault(raw: dict[str, Any], base_dir: Path | None = None) -> Fault:
    faults = refused(raw, base_dir)
    assert len(faults) == 1, [str(fault) for fault in faults]
    return faults[0]


# ======================================================================================
# Fan-out
# ======================================================================================


def test_fanout_to_an_unknown_station_suggests_the_nearest_name() -> None:
    fault = one_fault(network({"pub": {"fanout": ["sbu", "store"]}}))
    assert fault.path == "routing.pub.fanout"
    assert "unknown station 'sbu'" in fault.message
    assert "did you mean 'sub'?" in fault.message
    assert "stations: pub, sub, store" in fault.message


def test_fanout_given_a_number_must_be_a_list_of_stations() -> None:
    fault = one_fault(network({"pub": {"fanout": 1}}))
    assert fault.path == "routing.pub.fanout"
    assert "must be a list of stations" in fault.message


def test_fanout_given_a_single_name_must_be_a_list() -> None:
    fault = one_fault(network({"pub": {"fanout": "sub"}}))
    assert fault.path == "routing.pub.fanout"
    assert "list of stations" in fault.message
    assert "'sub'" in fault.message


def test_fanout_listing_a_station_twice() -> None:
    fault = one_fault(network({"pub": {"fanout": ["sub", "store", "sub"]}}))
    assert fault.path == "routing.pub.fanout"
    assert "lists a station twice" in fault.message
    assert "'sub'" in fault.message


def test_a_station_list_given_where_a_probability_belongs() -> None:
    fault = one_fault(network({"pub": {"sub": ["store"]}}))
    assert fault.path == "routing.pub.sub"
    assert "must be a probability, got a list" in fault.message
    assert "only 'fanout' takes a list of stations" in fault.message


def test_a_probability_given_as_a_list_of_numbers() -> None:
    fault = one_fault(network({"pub": {"sub": [0.5]}}))
    assert fault.path == "routing.pub.sub"
    assert "must be a probability" in fault.message


@pytest.mark.parametrize("value", ["0.5", None, True], ids=["text", "null", "boolean"])
def test_a_probability_of_the_wrong_type_is_one_fault(value: Any) -> None:
    fault = one_fault(network({"pub": {"sub": value}}))
    assert fault.path == "routing.pub.sub"
    assert "mapping" not in fault.message


def test_a_probability_above_one_names_only_the_probability_rule() -> None:
    fault = one_fault(network({"pub": {"sub": 1.5}}))
    assert fault.path == "routing.pub.sub"
    assert fault.message == "must be <= 1, got 1.5"


@pytest.mark.parametrize(
    "routing",
    [
        {"pub": {"fanout": ["sub"]}, "sub": {"fanout": ["pub"]}},  # radius 1
        {"pub": {"fanout": ["pub"]}},  # a station publishing to itself
        # M[pub, store] = 1 (copy) + 0.5 (hop), M[store, pub] = 0.8: radius sqrt(1.2)
        {"pub": {"fanout": ["store"], "store": 0.5}, "store": {"pub": 0.8}},
    ],
    ids=["two-station-cycle", "self", "copies-and-feedback"],
)
def test_fanout_that_multiplies_events_without_bound(routing: dict[str, Any]) -> None:
    fault = one_fault(network(routing))
    assert fault.path == "routing"
    assert "expected number of copies of an event infinite" in fault.message
    assert "spectral radius" in fault.message
    assert "must be < 1" in fault.message


def test_fanout_with_feedback_that_dies_out_is_accepted() -> None:
    """M = P + F has spectral radius sqrt(0.5) < 1: finitely many copies on average."""
    scenario = scenario_from_dict(
        network({"pub": {"fanout": ["sub"], "store": 0.5}, "sub": {"pub": 0.5}})
    )
    assert scenario.has_fanout


def test_a_station_named_fanout_is_refused() -> None:
    document = network()
    document["stations"]["fanout"] = {"service": exp(0.5)}
    fault = one_fault(document)
    assert fault.path == "stations.fanout"
    assert "'fanout' is reserved in routing rows" in fault.message
    assert "another name" in fault.message


# ======================================================================================
# Priorities
# ======================================================================================


def two_classes(priority: Any) -> dict[str, Any]:
    return {
        "stations": {"a": {"service": exp(0.5)}},
        "classes": {
            "orders": {"arrivals": {"process": "poisson", "rate": 0.4}, "priority": priority},
            "clicks": {"arrivals": {"process": "poisson", "rate": 0.4}},
        },
    }


@pytest.mark.parametrize(
    ("priority", "shown"),
    [("high", "'high'"), ("1", "'1'"), (True, "true"), ([1], "[1]")],
    ids=["word", "quoted-number", "boolean", "list"],
)
def test_priority_must_be_a_number(priority: Any, shown: str) -> None:
    fault = one_fault(two_classes(priority))
    assert fault.path == "classes.orders.priority"
    assert fault.message == f"must be a number, got {shown}"


def test_priority_must_be_finite() -> None:
    fault = one_fault(two_classes(float("nan")))
    assert fault.path == "classes.orders.priority"
    assert "finite" in fault.message


# ======================================================================================
# on_full and blocking
# ======================================================================================


def test_block_needs_a_capacity() -> None:
    fault = one_fault(network(sub={"service": exp(0.5), "on_full": "block"}))
    assert fault.path == "stations.sub.on_full"
    assert "block needs a capacity" in fault.message


@pytest.mark.parametrize(
    ("value", "shown"), [("drop", "'drop'"), ("Block", "'Block'"), (True, "true")]
)
def test_on_full_must_be_lose_or_block(value: Any, shown: str) -> None:
    fault = one_fault(network(store={"service": exp(0.5), "capacity": 3, "on_full": value}))
    assert fault.path == "stations.store.on_full"
    assert fault.message == f"must be 'lose' or 'block', got {shown}"


def test_a_misspelt_on_full_is_an_unknown_field_with_a_suggestion() -> None:
    fault = one_fault(network(store={"service": exp(0.5), "capacity": 3, "on_fulll": "block"}))
    assert fault.path == "stations.store.on_fulll"
    assert "did you mean 'on_full'?" in fault.message


def test_fanout_into_a_blocking_station_is_refused() -> None:
    document = network(
        {"pub": {"fanout": ["store"], "sub": 1.0}},
        store={"service": exp(0.5), "capacity": 3, "on_full": "block"},
    )
    fault = one_fault(document)
    assert fault.path == "stations.store.on_full"
    assert "block cannot take fan-out copies (from pub)" in fault.message
    assert "use on_full: lose or a larger capacity" in fault.message


def test_probabilistic_routing_into_a_blocking_station_is_accepted() -> None:
    document = network(
        {"pub": {"store": 1.0}}, store={"service": exp(0.5), "capacity": 3, "on_full": "block"}
    )
    assert scenario_from_dict(document).has_blocking


@pytest.mark.parametrize(
    ("routing", "cycle"),
    [
        ({"a": {"b": 0.5}, "b": {"a": 0.5}}, "a, b"),
        ({"a": {"a": 0.5}}, "a"),
        ({"a": {"b": 0.5}, "b": {"c": 0.5}, "c": {"a": 0.5}}, "a, b, c"),
    ],
    ids=["a-b-a", "self-loop", "a-b-c-a"],
)
def test_blocking_cycles_that_can_deadlock_are_refused(routing: dict[str, Any], cycle: str) -> None:
    blocking = {"service": exp(0.5), "capacity": 2, "on_full": "block"}
    document = network(routing, a=blocking, b=blocking, c=blocking)
    faults = refused(document)
    # One fault per blocking station on the cycle, each naming the whole cycle.
    members = cycle.split(", ")
    assert [fault.path for fault in faults] == [f"stations.{name}.on_full" for name in members]
    for fault in faults:
        assert fault.message == f"block can deadlock: blocking cycle through {cycle}"


def test_a_cycle_through_a_losing_station_cannot_deadlock() -> None:
    """a blocks, b loses: b's senders may wait, a's never do, so no deadlock."""
    document = network(
        {"a": {"b": 0.5}, "b": {"a": 0.5}},
        a={"service": exp(0.5), "capacity": 2, "on_full": "block"},
        b={"service": exp(0.5), "capacity": 2},
    )
    assert scenario_from_dict(document).has_blocking


# ======================================================================================
# Trace arrivals
# ======================================================================================


def traced(tmp_path: Path, text: str | None, **options: Any) -> dict[str, Any]:
    """A one-station scenario replaying ``events.csv`` (not written when ``text`` is None)."""
    if text is not None:
        (tmp_path / "events.csv").write_text(text)
    return {
        "stations": {"a": {"service": exp(0.05)}},
        "arrivals": {"process": "trace", "file": "events.csv", **options},
    }


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (None, "events.csv: no such file"),
        ("", "events.csv: the file is empty; expected a header row and the events"),
        ("time\n0\n2\n1\n", "events.csv, line 4: earlier than line 3; the trace "),
        (
            "timestamp\n2026-11-02T09:00:00Z\nyesterday\n2026-11-02T09:00:02Z\n",
            "events.csv, line 3: column 'timestamp': not a timestamp; "
            "expected a number or an ISO-8601 date-time",
        ),
        ("time\n1\n-2\n3\n", "events.csv, line 3: column 'time': a negative number;"),
        ("time\n5\n", "only 1 event (line 2); a trace needs at least 2 events"),
    ],
    ids=["missing", "empty", "unsorted", "unparsable", "negative", "one-event"],
)
def test_bad_trace_files(tmp_path: Path, text: str | None, rule: str) -> None:
    fault = one_fault(traced(tmp_path, text), base_dir=tmp_path)
    assert fault.path == "arrivals.file"
    assert str(tmp_path / "events.csv") in fault.message
    assert rule in fault.message


def test_trace_time_column_that_is_not_in_the_file(tmp_path: Path) -> None:
    fault = one_fault(
        traced(tmp_path, "time,type\n0,a\n1,b\n", time_column="when"), base_dir=tmp_path
    )
    assert "no column 'when' (time_column) in the header row (line 1, 2 columns)" in fault.message


TYPED = "time,type\n0,click\n0.5,order\n1.0,click\n2.0,order\n"


def test_trace_type_absent_from_the_file_path(tmp_path: Path) -> None:
    fault = one_fault(traced(tmp_path, TYPED, type="refund"), base_dir=tmp_path)
    assert fault.path == "arrivals.type"


def test_trace_type_absent_from_the_file_message(tmp_path: Path) -> None:
    fault = one_fault(traced(tmp_path, TYPED, type="refund"), base_dir=tmp_path)
    assert fault.path.startswith("arrivals.")
    assert "no events of type 'refund' (the trace has 2 other event types)" in fault.message


def test_trace_type_without_a_type_column(tmp_path: Path) -> None:
    fault = one_fault(traced(tmp_path, "time\n0\n1\n", type="click"), base_dir=tmp_path)
    assert fault.path == "arrivals.type"
    assert "the trace has no event-type column" in fault.message


def test_trace_rows_are_selected_by_class_name(tmp_path: Path) -> None:
    """No ``type:``: a class named like a type replays that type's rows, the others all.

    (A class whose name is no type of the file replays every row: documented in the
    schema, and worth knowing, since it then also replays the other classes' events.)
    """
    (tmp_path / "events.csv").write_text(TYPED)
    trace = {"process": "trace", "file": "events.csv"}
    document = {
        "stations": {"a": {"service": exp(0.05)}},
        "classes": {
            "click": {"arrivals": trace},
            "order": {"arrivals": trace},
            "audit": {"arrivals": trace},
        },
    }
    scenario: Scenario = scenario_from_dict(document, base_dir=tmp_path)
    times = {c.name: c.arrivals.times.tolist() for c in scenario.classes}
    assert times == {
        "click": [0.0, 1.0],
        "order": [0.5, 2.0],
        "audit": [0.0, 0.5, 1.0, 2.0],
    }


# ======================================================================================
# Several faults at once, and the command line
# ======================================================================================


def test_independent_faults_are_all_listed(tmp_path: Path) -> None:
    document = network(
        {"pub": {"fanout": ["sbu"]}},
        sub={"service": exp(0.5), "on_full": "block"},
    )
    paths = sorted(fault.path for fault in refused(document))
    assert paths == ["routing.pub.fanout", "stations.sub.on_full"]


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "eda_sim", "validate", str(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_validate_refuses_fanout_to_an_unknown_station(tmp_path: Path) -> None:
    done = validate(
        tmp_path,
        "stations:\n"
        "  pub: {service: {dist: exponential, mean: 0.5}}\n"
        "  sub: {service: {dist: exponential, mean: 0.5}}\n"
        "arrivals: {process: poisson, rate: 0.5}\n"
        "routing:\n"
        "  pub: {fanout: [sbu]}\n",
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"error: {tmp_path / 'broken.yaml'}: routing.pub.fanout: unknown station 'sbu'; "
        "did you mean 'sub'? (stations: pub, sub)"
    ]


def test_cli_validate_refuses_a_trace_file_and_a_blocking_station_without_capacity(
    tmp_path: Path,
) -> None:
    """A missing trace (resolved beside the scenario file) and on_full: block without a
    capacity: two independent faults, two lines."""
    done = validate(
        tmp_path,
        "stations:\n"
        "  a: {service: {dist: exponential, mean: 0.5}, on_full: block}\n"
        "arrivals: {process: trace, file: recorded.csv}\n",
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    prefix = f"error: {tmp_path / 'broken.yaml'}: "
    assert done.stderr.splitlines() == [
        prefix + "stations.a.on_full: block needs a capacity (a station without one is never full)",
        prefix + f"arrivals.file: {tmp_path / 'recorded.csv'}: no such file",
    ]


def test_a_bad_trace_does_not_hide_a_blocking_cycle(tmp_path: Path) -> None:
    document = traced(tmp_path, None)
    document["stations"]["a"] = {"service": exp(0.5), "capacity": 2, "on_full": "block"}
    document["routing"] = {"a": {"a": 0.5}}
    paths = sorted(fault.path for fault in refused(document, base_dir=tmp_path))
    assert paths == ["arrivals.file", "stations.a.on_full"]
