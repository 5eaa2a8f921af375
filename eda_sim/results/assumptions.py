"""The article's assumptions tested on the pooled data of a run's replications (layer 5)."""

from __future__ import annotations

from collections.abc import Sequence

from eda_sim.checks import (
    CheckResult,
    exponential_gaps_check,
    poisson_counts_check,
    routing_row_check,
)
from eda_sim.engine.hops import pooled_hops
from eda_sim.engine.records import ReplicationResult
from eda_sim.scenario import Scenario


def assumption_checks(
    scenario: Scenario, replications: Sequence[ReplicationResult]
) -> list[CheckResult]:
    """The article's assumptions tested on the pooled data of all replications.

    Per event class: Poisson window counts (chi-square) and exponential gaps
    (Kolmogorov–Smirnov) of its external arrivals; per class and station with
    observed hops: the next hops against the routing row (chi-square).
    """
    results: list[CheckResult] = []
    names = scenario.station_names
    for event_class in scenario.classes:
        observations = [
            rep.observations[event_class.name]
            for rep in replications
            if event_class.name in rep.observations
        ]
        # Every replication replays the same trace: test its arrivals once.
        replayed = event_class.arrivals.kind == "trace"
        arrival_data = observations[:1] if replayed else observations
        if not observations:
            continue
        label = "" if scenario.single_class else f" of {event_class.name}"
        counts: dict[int, int] = {}
        for observation in arrival_data:
            for count, windows in observation.counts.items():
                counts[count] = counts.get(count, 0) + windows
        rate = event_class.arrivals.rate
        results.append(
            poisson_counts_check(counts, rate * observations[0].window, f"arrivals{label}")
        )
        gaps = [gap for observation in arrival_data for gap in observation.gaps]
        results.append(exponential_gaps_check(gaps, rate, f"arrivals{label}"))
        hops = pooled_hops(o.transitions for o in observations)
        matrix = event_class.routing.matrix
        exits = event_class.routing.exit_probabilities
        for index, station in enumerate(names):
            if index not in hops:  # no hop seen after this station
                continue
            hop_row = [0] * (len(names) + 1)  # last: exits
            for target, count in hops[index].items():
                hop_row[target] = count
            row = [*matrix[index].tolist(), float(exits[index])]
            results.append(routing_row_check(hop_row, row, f"routing after {station}{label}"))
    return results
