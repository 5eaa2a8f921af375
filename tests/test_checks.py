"""The article's assumption checks (eda_sim.checks): unit tests and end to end through ``run``.

Every check runs at alpha = 1%. Data that satisfy a hypothesis are drawn with
seeded numpy generators; each such "passes" assertion is a statistical test that
fails by chance with probability 1%, and with ``m`` of them in one test about
``m``%. The seeds were chosen once and are never changed after a failure (a
failure means: look for a bug). The "fails" assertions use departures from the
hypothesis large enough that their p-values are astronomically small.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eda_sim.checks import (
    DEFAULT_ALPHA,
    CheckResult,
    exponential_gaps_check,
    poisson_counts_check,
    routing_row_check,
)
from eda_sim.experiment import run
from eda_sim.scenario import scenario_from_dict

ALPHA = 0.01
SEED = 20240611  # chosen once
RATE = 2.0
WINDOW_MEAN = 5.0  # expected arrivals per counting window
WINDOWS = 2_000
GAPS = 2_000


def generator(stream: int) -> np.random.Generator:
    """An independent seeded generator per test (one seed, chosen once)."""
    return np.random.default_rng([SEED, stream])


def window_histogram(gaps: np.ndarray, window: float, windows: int) -> dict[int, int]:
    """Arrivals of a stream with these gaps, counted in ``windows`` windows of length ``window``."""
    times = np.cumsum(gaps)
    edges = np.arange(windows + 1) * window
    assert times[-1] > edges[-1], "not enough gaps to fill the windows"
    counts, _ = np.histogram(times, bins=edges)
    return dict(Counter(int(c) for c in counts))


def test_default_alpha_is_one_percent() -> None:
    assert DEFAULT_ALPHA == ALPHA


# --- Poisson counts -------------------------------------------------------------------


def test_poisson_counts_pass_on_poisson_samples() -> None:
    counts = generator(1).poisson(WINDOW_MEAN, size=WINDOWS)
    result = poisson_counts_check(dict(Counter(counts.tolist())), WINDOW_MEAN, "arrivals")
    assert result.check == "poisson_counts"
    assert result.n == WINDOWS
    assert result.alpha == ALPHA
    assert result.dof is not None and result.dof >= 5
    assert result.p_value >= ALPHA and result.passed is True


def test_poisson_counts_pass_on_window_counts_of_exponential_gaps() -> None:
    """A Poisson process counted in windows: the counts are Poisson(λw)."""
    gaps = generator(2).exponential(1 / RATE, size=int(WINDOWS * WINDOW_MEAN * 1.2))
    histogram = window_histogram(gaps, WINDOW_MEAN / RATE, WINDOWS)
    result = poisson_counts_check(histogram, WINDOW_MEAN, "arrivals")
    assert result.passed is True, result


@pytest.mark.parametrize("phases", [4, 50])
def test_poisson_counts_fail_on_an_erlang_renewal_stream(phases: int) -> None:
    """Erlang gaps of the same mean: counts far less dispersed than Poisson."""
    gaps = generator(3).gamma(phases, 1 / (phases * RATE), size=int(WINDOWS * WINDOW_MEAN * 1.2))
    histogram = window_histogram(gaps, WINDOW_MEAN / RATE, WINDOWS)
    result = poisson_counts_check(histogram, WINDOW_MEAN, "arrivals")
    assert result.passed is False
    assert result.p_value < 1e-10


def test_poisson_counts_fail_on_overdispersed_counts() -> None:
    """A mixed Poisson (negative binomial) with the right mean but twice the variance."""
    counts = generator(4).negative_binomial(WINDOW_MEAN, 0.5, size=WINDOWS)  # mean 5, var 10
    result = poisson_counts_check(dict(Counter(counts.tolist())), WINDOW_MEAN, "arrivals")
    assert result.passed is False
    assert result.p_value < 1e-10


def test_poisson_counts_fail_on_a_wrong_rate() -> None:
    counts = generator(5).poisson(WINDOW_MEAN * 1.2, size=WINDOWS)
    result = poisson_counts_check(dict(Counter(counts.tolist())), WINDOW_MEAN, "arrivals")
    assert result.passed is False


@pytest.mark.parametrize("histogram", [{}, {5: 1}], ids=["no windows", "one window"])
def test_poisson_counts_with_too_little_data_are_not_tested(histogram: dict[int, int]) -> None:
    result = poisson_counts_check(histogram, WINDOW_MEAN, "arrivals")
    assert math.isnan(result.p_value) and math.isnan(result.statistic)
    assert result.passed is True
    assert result.note
    assert result.dof is None


# --- Exponential gaps -----------------------------------------------------------------


def test_exponential_gaps_pass_on_exponential_samples() -> None:
    gaps = generator(6).exponential(1 / RATE, size=GAPS)
    result = exponential_gaps_check(gaps.tolist(), RATE, "arrivals")
    assert result.check == "exponential_gaps"
    assert result.n == GAPS
    assert result.alpha == ALPHA
    assert 0 <= result.statistic <= 1
    assert result.p_value >= ALPHA and result.passed is True


def test_exponential_gaps_fail_on_erlang2_gaps_with_the_same_mean() -> None:
    gaps = generator(7).gamma(2.0, 1 / (2 * RATE), size=GAPS)
    assert gaps.mean() == pytest.approx(1 / RATE, rel=0.05)
    result = exponential_gaps_check(gaps.tolist(), RATE, "arrivals")
    assert result.passed is False
    assert result.p_value < 1e-10


def test_exponential_gaps_fail_on_a_wrong_rate() -> None:
    gaps = generator(8).exponential(1 / (1.2 * RATE), size=GAPS)
    result = exponential_gaps_check(gaps.tolist(), RATE, "arrivals")
    assert result.passed is False


@pytest.mark.parametrize("gaps", [[], [0.5]], ids=["none", "one"])
def test_exponential_gaps_with_too_little_data_are_not_tested(gaps: list[float]) -> None:
    result = exponential_gaps_check(gaps, RATE, "arrivals")
    assert math.isnan(result.p_value) and math.isnan(result.statistic)
    assert result.passed is True
    assert result.note


# --- Markov routing -------------------------------------------------------------------

ROW = (0.5, 0.3, 0.2)  # two next stations, then the exit


def test_routing_row_passes_on_multinomial_counts() -> None:
    observed = generator(9).multinomial(3_000, ROW)
    result = routing_row_check(observed.tolist(), ROW, "routing after a")
    assert result.check == "markov_routing"
    assert result.n == 3_000
    assert result.dof == 2
    assert result.p_value >= ALPHA and result.passed is True


def test_routing_row_passes_on_exactly_expected_counts() -> None:
    result = routing_row_check([1_500, 900, 600], ROW, "routing after a")
    assert result.statistic == pytest.approx(0.0, abs=1e-12)
    assert result.p_value == pytest.approx(1.0)
    assert result.passed is True


def test_routing_row_fails_on_skewed_counts() -> None:
    observed = generator(10).multinomial(3_000, (0.6, 0.25, 0.15))
    result = routing_row_check(observed.tolist(), ROW, "routing after a")
    assert result.passed is False
    assert result.p_value < 1e-10


def test_routing_row_fails_outright_on_a_hop_the_matrix_forbids() -> None:
    result = routing_row_check([400, 1, 600], (0.4, 0.0, 0.6), "routing after a")
    assert result.passed is False
    assert result.p_value == 0.0
    assert math.isinf(result.statistic)
    assert "1 hops" in result.note


def test_routing_row_ignores_forbidden_cells_that_saw_nothing() -> None:
    result = routing_row_check([400, 0, 600], (0.4, 0.0, 0.6), "routing after a")
    assert result.passed is True
    assert result.dof == 1


@pytest.mark.parametrize("observed", [[0, 0, 0], [1, 0, 0], [2, 1, 0]])
def test_routing_row_with_too_little_data_is_not_tested(observed: list[int]) -> None:
    result = routing_row_check(observed, ROW, "routing after a")
    assert math.isnan(result.p_value)
    assert result.passed is True
    assert result.note


def test_check_result_to_dict_turns_nan_into_null() -> None:
    document = exponential_gaps_check([], RATE, "arrivals").to_dict()
    assert document["statistic"] is None and document["p_value"] is None
    assert document["passed"] is True
    json.dumps(document, allow_nan=False)


# --- End to end, through run ----------------------------------------------------------


def feedback_scenario(arrivals: dict[str, Any]) -> dict[str, Any]:
    """Two handlers with feedback; arrivals at rate 0.8 into ``ingest``."""
    return {
        "name": "checks",
        "stations": {
            "ingest": {"servers": 1, "service": {"dist": "exponential", "rate": 2.0}},
            "store": {"servers": 1, "service": {"dist": "exponential", "rate": 1.5}},
        },
        "arrivals": {**arrivals, "to": "ingest"},
        "routing": {"ingest": {"store": 0.6}, "store": {"ingest": 0.2}},
    }


def run_checks(arrivals: dict[str, Any], seed: int) -> dict[str, list[CheckResult]]:
    result = run(
        scenario_from_dict(feedback_scenario(arrivals)),
        replications=3,
        horizon=5_000,
        warmup=250,
        seed=seed,
    )
    by_kind: dict[str, list[CheckResult]] = {}
    for check in result.checks:
        by_kind.setdefault(check.check, []).append(check)
    return by_kind


@pytest.mark.parametrize(
    "interarrival",
    [
        {"dist": "deterministic", "value": 1.25},
        {"dist": "erlang", "k": 4, "mean": 1.25},
    ],
    ids=["deterministic", "erlang4"],
)
def test_renewal_arrivals_fail_the_poisson_checks(interarrival: dict[str, Any]) -> None:
    """Gaps with the mean of a Poisson(0.8) stream but not exponential: both checks fail.

    The routing is still Markov, so its checks pass (two checks at 1%: a false
    failure has probability about 2%; the seed is fixed once).
    """
    checks = run_checks({"process": "renewal", "interarrival": interarrival}, seed=301)
    (counts,) = checks["poisson_counts"]
    (gaps,) = checks["exponential_gaps"]
    assert counts.passed is False and counts.p_value < 1e-10
    assert gaps.passed is False and gaps.p_value < 1e-10
    routing = checks["markov_routing"]
    assert {check.subject for check in routing} == {"routing after ingest", "routing after store"}
    assert all(check.passed for check in routing), routing


def test_poisson_arrivals_pass_every_check() -> None:
    """The same network with Poisson(0.8) arrivals passes all its checks.

    Four checks (counts, gaps, two routing rows) at 1% each: a false failure has
    probability about 4%. The seed was chosen once and is not changed after a failure.
    """
    checks = run_checks({"process": "poisson", "rate": 0.8}, seed=302)
    flat = [check for kind in checks.values() for check in kind]
    assert sorted(checks) == ["exponential_gaps", "markov_routing", "poisson_counts"]
    assert len(flat) == 4
    assert all(check.n > 100 for check in flat)
    assert all(check.passed for check in flat), flat


def test_checks_are_in_the_json_document() -> None:
    result = run(
        scenario_from_dict(feedback_scenario({"process": "poisson", "rate": 0.8})),
        replications=2,
        horizon=2_000,
        warmup=100,
        seed=303,
    )
    document = json.loads(result.to_json())
    assert document["checks"] == result.to_dict()["checks"]
    entries = document["checks"]
    assert len(entries) == len(result.checks) == 4
    for entry, check in zip(entries, result.checks, strict=True):
        assert {"check", "subject", "statistic", "p_value", "passed"} <= set(entry)
        assert isinstance(entry["passed"], bool) and entry["passed"] == check.passed
        assert isinstance(entry["statistic"], float)
        assert isinstance(entry["p_value"], float)
        assert 0.0 <= entry["p_value"] <= 1.0


def test_a_replayed_trace_is_tested_once_not_once_per_replication(tmp_path: Path) -> None:
    """Every replication replays the same arrivals; pooling them would fake more evidence."""
    times = np.cumsum(np.random.default_rng(np.random.SeedSequence(7)).exponential(1.0, 3000))
    trace = tmp_path / "times.csv"
    trace.write_text("time\n" + "\n".join(f"{t:.6f}" for t in times) + "\n")
    scenario = scenario_from_dict(
        {
            "stations": {"a": {"service": {"dist": "exponential", "mean": 0.5}}},
            "arrivals": {"process": "trace", "file": str(trace)},
            "run": {"warmup": "none"},
        }
    )
    one = run(scenario, replications=1)
    many = run(scenario, replications=5)
    pick = {c.check: c for c in one.checks if c.check != "markov_routing"}
    for check in many.checks:
        if check.check in pick:
            assert check.n == pick[check.check].n
            assert check.statistic == pick[check.check].statistic
