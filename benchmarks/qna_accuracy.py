"""Accuracy of Whitt's QNA (as eda-sim applies it) against long simulations.

QNA (W. Whitt, "The Queueing Network Analyzer", *Bell System Technical Journal*
62(9), 1983) is an *approximation*: it replaces every arrival stream by a renewal
stream with the right rate and squared coefficient of variation (SCV) and then
solves each station on its own (Kingman for one server, Allen-Cunneen for
several). This script measures how far its figures are from the truth on three
non-exponential networks, the truth being the mean of long independent
replications.

The networks (no capacities, loads 0.5-0.85, service SCVs 0.25-4 or constant):

feedback
    Poisson(1.0) into ``a`` (1 server, gamma mean 0.6 cv 1.5, ρ ≈ 0.76); ``a`` sends
    70% to ``b`` (1 server, lognormal mean 0.8 cv 0.7, ρ ≈ 0.71); ``b`` feeds 30%
    back to ``a``. Every station sees internal (non-Poisson) traffic.
multiserver
    Poisson(2.0) into ``ingest`` (1 server, gamma mean 0.35 cv 0.5, ρ = 0.70), then
    all to ``pool`` (3 servers, lognormal mean 1.25 cv 1.5, ρ ≈ 0.83), 40% of which
    go on to ``audit`` (1 server, constant 1.0, ρ = 0.80). ``ingest`` is fed by a
    Poisson stream alone, so eda-sim gives it the exact M/G/1 result.
renewal
    Renewal arrivals with Erlang-2 gaps of mean 1.0 (SCV 0.5) into ``parse``
    (1 server, constant 0.65, ρ = 0.65), split 50/50 to ``a`` (1 server, gamma mean
    1.5 cv 2, ρ = 0.75) and ``b`` (1 server, lognormal mean 1.7 cv 0.5, ρ = 0.85).

For each station it reports W (mean time per visit) and L (mean number present),
and for the whole network W (entry to exit): the simulated mean ± the 95%
Student-t half-width over the replications, the QNA figure (``eda-sim theory``),
the method, and the relative error ``(QNA − simulated) / simulated``.

How to run (from the repository root)::

    python benchmarks/qna_accuracy.py            # 20 replications, long horizons (minutes)
    python benchmarks/qna_accuracy.py --quick    # 5 short replications (seconds)
    python benchmarks/qna_accuracy.py --workers 2

The output is a Markdown table. ``tests/test_qna_accuracy.py`` runs the same
networks at a smaller cost and asserts that QNA stays within the errors measured
here (an accuracy regression test of an approximation).
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from eda_sim.experiment import run
from eda_sim.results import RunResult
from eda_sim.scenario import scenario_from_dict

#: The networks, as scenario documents (see the module docstring).
NETWORKS: dict[str, dict[str, Any]] = {
    "feedback": {
        "name": "qna-feedback",
        "stations": {
            "a": {"servers": 1, "service": {"dist": "gamma", "mean": 0.6, "cv": 1.5}},
            "b": {"servers": 1, "service": {"dist": "lognormal", "mean": 0.8, "cv": 0.7}},
        },
        "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
        "routing": {"a": {"b": 0.7}, "b": {"a": 0.3}},
    },
    "multiserver": {
        "name": "qna-multiserver",
        "stations": {
            "ingest": {"servers": 1, "service": {"dist": "gamma", "mean": 0.35, "cv": 0.5}},
            "pool": {"servers": 3, "service": {"dist": "lognormal", "mean": 1.25, "cv": 1.5}},
            "audit": {"servers": 1, "service": {"dist": "deterministic", "value": 1.0}},
        },
        "arrivals": {"process": "poisson", "rate": 2.0, "to": "ingest"},
        "routing": {"ingest": {"pool": 1.0}, "pool": {"audit": 0.4}},
    },
    "renewal": {
        "name": "qna-renewal",
        "stations": {
            "parse": {"servers": 1, "service": {"dist": "deterministic", "value": 0.65}},
            "a": {"servers": 1, "service": {"dist": "gamma", "mean": 1.5, "cv": 2.0}},
            "b": {"servers": 1, "service": {"dist": "lognormal", "mean": 1.7, "cv": 0.5}},
        },
        "arrivals": {
            "process": "renewal",
            "interarrival": {"dist": "erlang", "k": 2, "mean": 1.0},
            "to": "parse",
        },
        "routing": {"parse": {"a": 0.5, "b": 0.5}},
    },
}

#: Seeds, chosen once.
SEEDS = {"feedback": 3101, "multiserver": 3102, "renewal": 3103}

#: (replications, horizon) of the full and the quick run; the warm-up is 5% of the horizon.
FULL = (20, 400_000.0)
QUICK = (5, 20_000.0)
WARMUP_SHARE = 0.05


@dataclass(frozen=True)
class Row:
    """One compared figure."""

    network: str
    station: str  # "(system)" for the whole network
    metric: str
    rho: float  # the station's load (NaN for the system)
    values: tuple[float, ...]  # one simulated mean per replication
    qna: float
    method: str

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def standard_error(self) -> float:
        return float(np.std(self.values, ddof=1) / math.sqrt(len(self.values)))

    @property
    def half_width(self) -> float:
        return float(stats.t.ppf(0.975, len(self.values) - 1) * self.standard_error)

    @property
    def relative_error(self) -> float:
        return (self.qna - self.mean) / self.mean


def simulate(
    network: str, replications: int, horizon: float, *, workers: int = 1, seed: int | None = None
) -> RunResult:
    """Run one of :data:`NETWORKS` with a warm-up of 5% of the horizon."""
    scenario = scenario_from_dict(NETWORKS[network])
    return run(
        scenario,
        replications=replications,
        horizon=horizon,
        warmup=WARMUP_SHARE * horizon,
        seed=SEEDS[network] if seed is None else seed,
        workers=workers,
    )


def compare(network: str, result: RunResult) -> list[Row]:
    """Per station W and L, and the system W: simulation beside the scenario's theory."""
    theory = result.theory
    assert theory is not None and theory.system is not None
    reps = result.replication_results
    rows = []
    for station, figures in theory.stations.items():
        assert figures is not None
        for metric in ("W", "L"):
            rows.append(
                Row(
                    network,
                    station,
                    metric,
                    theory.offered_load[station],
                    tuple(rep.stations[station].metric(metric) for rep in reps),
                    float(getattr(figures, metric)),
                    figures.method,
                )
            )
    rows.append(
        Row(
            network,
            "(system)",
            "W",
            math.nan,
            tuple(rep.system.W for rep in reps),
            theory.system.W,
            theory.system.method,
        )
    )
    return rows


def markdown(rows: list[Row]) -> str:
    """The comparison as a Markdown table."""
    lines = [
        "| network | station | ρ | metric | simulated (95% CI) | QNA | method | rel. error |",
        "|---|---|---:|---|---:|---:|---|---:|",
    ]
    for row in rows:
        rho = "" if math.isnan(row.rho) else f"{row.rho:.3f}"
        lines.append(
            f"| {row.network} | {row.station} | {rho} | {row.metric} "
            f"| {row.mean:.4f} ± {row.half_width:.4f} | {row.qna:.4f} | {row.method} "
            f"| {row.relative_error:+.1%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 short replications per network")
    parser.add_argument("--workers", type=int, default=1, help="processes for the replications")
    args = parser.parse_args(argv)
    replications, horizon = QUICK if args.quick else FULL

    rows: list[Row] = []
    started = time.perf_counter()
    for network in NETWORKS:
        result = simulate(network, replications, horizon, workers=args.workers)
        rows.extend(compare(network, result))
    elapsed = time.perf_counter() - started

    print(markdown(rows))
    worst = max(rows, key=lambda row: abs(row.relative_error))
    widest = max(rows, key=lambda row: row.half_width / row.mean)
    print()
    print(
        f"{replications} replications per network, horizon {horizon:g}, warm-up "
        f"{WARMUP_SHARE:.0%} of it; {elapsed:.0f} s."
    )
    print(
        f"Largest |relative error|: {abs(worst.relative_error):.1%} "
        f"({worst.network} {worst.station} {worst.metric}); widest relative 95% "
        f"half-width: {widest.half_width / widest.mean:.1%} "
        f"({widest.network} {widest.station} {widest.metric})."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
