"""Non-preemptive priority queues against hand arithmetic, Markov chains and identities."""

# SIM300 mistakes the queueing symbols L, W, Lq, Wq for constants (Yoda conditions).

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import linalg as sparse_linalg

from eda_sim.errors import UnstableError
from eda_sim.theory import (
    PriorityTheory,
    StationTheory,
    mg1,
    mg1_priority,
    mm1,
    mmc,
    mmc_priority,
)

FIELDS = ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss")

# ---------------------------------------------------------------------------
# Independent reference computations (no code shared with eda_sim.theory)


def erlang_c_exact(c: int, a: Fraction) -> Fraction:
    """Erlang C from its defining ratio, in exact rationals (Gross & Harris, M/M/c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**n / math.factorial(n) for n in range(c)) + top)


def stationary(n_states: int, transitions: list[tuple[int, int, float]]) -> np.ndarray:
    """Solve pi Q = 0, sum pi = 1 for a sparse generator given by its off-diagonal rates."""
    rows, cols, rates = zip(*transitions, strict=True)
    q = sparse.coo_matrix((rates, (rows, cols)), shape=(n_states, n_states)).tocsr()
    q = q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())
    a = q.T.tolil()
    a[-1, :] = 1.0  # replace one balance equation by the normalisation
    b = np.zeros(n_states)
    b[-1] = 1.0
    return np.asarray(sparse_linalg.spsolve(a.tocsc(), b))


def ctmc_mm1_two_class(
    lam: tuple[float, float], mu: tuple[float, float], cap: int
) -> tuple[float, float]:
    """Mean numbers waiting (Lq_0, Lq_1) of the M/M/1 non-preemptive 2-class queue.

    State (q0, q1, j): customers of each class waiting and the class in service
    (j = 0, 1), plus one idle state; arrivals beyond ``cap`` waiting are dropped
    (the truncation is far in the tail for the loads used).
    """
    index: dict[tuple[int, int, int], int] = {(-1, -1, -1): 0}  # idle
    for q0 in range(cap + 1):
        for q1 in range(cap + 1):
            for j in (0, 1):
                index[(q0, q1, j)] = len(index)
    tr: list[tuple[int, int, float]] = [
        (0, index[(0, 0, 0)], lam[0]),
        (0, index[(0, 0, 1)], lam[1]),
    ]
    for (q0, q1, j), i in index.items():
        if j < 0:
            continue
        if q0 < cap:
            tr.append((i, index[(q0 + 1, q1, j)], lam[0]))
        if q1 < cap:
            tr.append((i, index[(q0, q1 + 1, j)], lam[1]))
        if q0 > 0:  # head-of-line: the most important class waiting goes next
            nxt = index[(q0 - 1, q1, 0)]
        elif q1 > 0:
            nxt = index[(q0, q1 - 1, 1)]
        else:
            nxt = 0
        tr.append((i, nxt, mu[j]))
    pi = stationary(len(index), tr)
    lq = [0.0, 0.0]
    for (q0, q1, j), i in index.items():
        if j >= 0:
            lq[0] += q0 * pi[i]
            lq[1] += q1 * pi[i]
    return lq[0], lq[1]


def ctmc_mmc_priority(lam: list[float], mu: float, c: int, cap: int) -> list[float]:
    """Mean numbers waiting per class of the M/M/c non-preemptive queue, common rate mu.

    States: ``b`` busy servers with nobody waiting (b < c), or all ``c`` busy with
    ``(q_0, ..., q_{K-1})`` waiting; arrivals beyond ``cap`` waiting per class are
    dropped. With a common rate the classes in service need not be tracked.
    """
    k = len(lam)
    waiting = list(np.ndindex(*([cap + 1] * k)))
    index: dict[tuple[str, int | tuple[int, ...]], int] = {("idle", b): b for b in range(c)}
    for q in waiting:
        index[("busy", q)] = len(index)
    tr: list[tuple[int, int, float]] = []
    total = sum(lam)
    for b in range(c):
        to = index[("idle", b + 1)] if b + 1 < c else index[("busy", (0,) * k)]
        tr.append((b, to, total))
        if b > 0:
            tr.append((b, b - 1, b * mu))
    for q in waiting:
        i = index[("busy", q)]
        for cls in range(k):
            if q[cls] < cap:
                up = list(q)
                up[cls] += 1
                tr.append((i, index[("busy", tuple(up))], lam[cls]))
        first = next((cls for cls in range(k) if q[cls] > 0), None)
        if first is None:
            tr.append((i, index[("idle", c - 1)], c * mu))
        else:
            down = list(q)
            down[first] -= 1
            tr.append((i, index[("busy", tuple(down))], c * mu))
    pi = stationary(len(index), tr)
    return [sum(q[cls] * pi[index[("busy", q)]] for q in waiting) for cls in range(k)]


def assert_consistent(p: PriorityTheory) -> None:
    for r in (*p.classes, p.station):
        assert r.L == pytest.approx(r.throughput * r.W, rel=1e-12, abs=1e-15)
        assert r.Lq == pytest.approx(r.throughput * r.Wq, rel=1e-12, abs=1e-15)
        assert r.L >= r.Lq >= 0.0
        assert r.W >= r.Wq >= 0.0
        assert 0.0 <= r.utilization < 1.0
        assert r.loss == 0.0 and r.exact
    s = p.station
    assert s.throughput == pytest.approx(sum(r.throughput for r in p.classes), rel=1e-14)
    assert s.utilization == pytest.approx(sum(r.utilization for r in p.classes), rel=1e-12)
    assert s.L == pytest.approx(sum(r.L for r in p.classes), rel=1e-14)
    assert s.Lq == pytest.approx(sum(r.Lq for r in p.classes), rel=1e-14)


# ---------------------------------------------------------------------------
# One class is the FCFS queue


@pytest.mark.parametrize(
    ("lam", "s", "cs2"), [(0.6, 1.0, 1.0), (0.5, 1.2, 2.0), (0.9, 0.7, 0.0), (0.0, 2.0, 3.0)]
)
def test_one_class_is_mg1(lam: float, s: float, cs2: float) -> None:
    p = mg1_priority([lam], [s], [cs2])
    ref = mg1(lam, s, cs2)
    assert len(p.classes) == 1
    for r in (p.classes[0], p.station):
        for f in FIELDS:
            assert getattr(r, f) == getattr(ref, f), f  # bit for bit
        assert r.method == "M/G/1 non-preemptive priority (Cobham)" and r.exact


@pytest.mark.parametrize(
    ("lam", "mu", "c"),
    [(0.7, 1.0, 1), (1.5, 1.0, 2), (4.0, 0.6, 8), (480.0, 1.0, 500), (0.0, 2.0, 3)],
)
def test_one_class_is_mmc(lam: float, mu: float, c: int) -> None:
    p = mmc_priority([lam], mu, c)
    ref = mmc(lam, mu, c)
    for r in (p.classes[0], p.station):
        for f in FIELDS:
            assert getattr(r, f) == getattr(ref, f), f  # bit for bit
        assert r.method == "M/M/c non-preemptive priority" and r.exact


def test_exponential_mg1_priority_is_mmc_priority_with_one_server() -> None:
    a = mg1_priority([0.2, 0.3, 0.25], [0.8] * 3, [1.0] * 3)
    b = mmc_priority([0.2, 0.3, 0.25], 1.25, 1)
    for ra, rb in zip((*a.classes, a.station), (*b.classes, b.station), strict=True):
        for f in FIELDS:
            assert getattr(ra, f) == pytest.approx(getattr(rb, f), rel=1e-13), f


# ---------------------------------------------------------------------------
# Worked examples, exact hand arithmetic


def test_two_class_mg1_hand_arithmetic() -> None:
    # Two classes, lambda = (1/4, 1/5), E[S] = (1, 2), SCV = (0, 1/2) (class 0 constant):
    #   rho = (1/4, 2/5), sigma = (1/4, 13/20)
    #   E[S^2] = (1 * 1, 4 * 3/2) = (1, 6)
    #   W0 = (1/4 * 1 + 1/5 * 6) / 2 = (1/4 + 6/5) / 2 = 29/40
    #   Wq_0 = W0 / (1 * 3/4)       = 29/30
    #   Wq_1 = W0 / (3/4 * 7/20)    = (29/40) / (21/80) = 58/21
    #   W = Wq + E[S] = (59/30, 100/21); L = lambda W = (59/120, 20/21)
    p = mg1_priority([0.25, 0.2], [1.0, 2.0], [0.0, 0.5])
    r0, r1 = p.classes
    assert r0.Wq == pytest.approx(29 / 30, rel=1e-14)
    assert r1.Wq == pytest.approx(58 / 21, rel=1e-14)
    assert (r0.W, r1.W) == pytest.approx((59 / 30, 100 / 21), rel=1e-14)
    assert (r0.L, r1.L) == pytest.approx((59 / 120, 20 / 21), rel=1e-14)
    assert (r0.utilization, r1.utilization) == pytest.approx((0.25, 0.4), rel=1e-14)
    assert p.station.utilization == pytest.approx(0.65, rel=1e-14)
    assert p.station.L == pytest.approx(59 / 120 + 20 / 21, rel=1e-14)
    assert p.station.W == pytest.approx((59 / 120 + 20 / 21) / 0.45, rel=1e-14)
    assert_consistent(p)


@pytest.mark.parametrize("c", [1, 2])
def test_county_hospital_example(c: int) -> None:
    # Parameters of the "County Hospital" emergency-room example of non-preemptive
    # priorities in Hillier & Lieberman, *Introduction to Operations Research*
    # (section "Queueing models involving priorities"): patients arrive at 2/h, 10%
    # critical, 30% serious, 60% stable; one doctor treats 3/h (exponential); the
    # book also studies two doctors. The expected values below are recomputed here
    # by exact rational arithmetic, not copied from the book:
    #   lambda = (1/5, 3/5, 6/5), mu = 3, a = 2/3.
    #   c = 1: C = a = 2/3, W0 = C / (c mu) = 2/9, sigma = (1/15, 4/15, 2/3)
    #          Wq = (2/9) / (14/15) = 5/21 ~ 0.2381
    #               (2/9) / (14/15 * 11/15) = 50/154 = 25/77 ~ 0.3247
    #               (2/9) / (11/15 * 1/3) = 10/11 ~ 0.9091
    #   c = 2: B(2, 2/3) = (2/9) / (1 + 2/3 + 2/9) = 2/17,
    #          C = B / (1 - rho (1 - B)) = (2/17) / (1 - 1/3 * 15/17) = 1/6,
    #          W0 = (1/6) / 6 = 1/36, sigma = (1/30, 2/15, 1/3)
    #          Wq = (1/36) / (29/30) = 5/174 ~ 0.02874
    #               (1/36) / (29/30 * 13/15) = 25/754 ~ 0.03316
    #               (1/36) / (13/15 * 2/3) = 5/104 ~ 0.04808
    lam = [Fraction(1, 5), Fraction(3, 5), Fraction(6, 5)]
    mu = Fraction(3)
    expected = {
        1: [Fraction(5, 21), Fraction(25, 77), Fraction(10, 11)],
        2: [Fraction(5, 174), Fraction(25, 754), Fraction(5, 104)],
    }[c]
    # the same numbers straight from the definitions, in rationals
    w0 = erlang_c_exact(c, sum(lam) / mu) / (c * mu)
    sigma = [sum(lam[: k + 1]) / (c * mu) for k in range(3)]
    before = [Fraction(0), *sigma[:-1]]
    assert expected == [w0 / ((1 - before[k]) * (1 - sigma[k])) for k in range(3)]

    p = mmc_priority([float(x) for x in lam], float(mu), c)
    for r, want, lk in zip(p.classes, expected, lam, strict=True):
        assert r.Wq == pytest.approx(float(want), rel=1e-13)
        assert r.W == pytest.approx(float(want + 1 / mu), rel=1e-13)
        assert r.Lq == pytest.approx(float(lk * want), rel=1e-13)
        assert r.utilization == pytest.approx(float(lk / (c * mu)), rel=1e-13)
    assert p.station.utilization == pytest.approx(2 / (3 * c), rel=1e-14)
    assert_consistent(p)


# ---------------------------------------------------------------------------
# Against Markov chains solved numerically


def test_mg1_priority_matches_ctmc_exponential_classes() -> None:
    # different exponential rates per class: Cobham with SCV = 1
    lam, mu = (0.3, 0.4), (1.5, 1.0)
    lq0, lq1 = ctmc_mm1_two_class(lam, mu, cap=50)
    p = mg1_priority(list(lam), [1 / m for m in mu], [1.0, 1.0])
    assert p.classes[0].Lq == pytest.approx(lq0, rel=1e-8)
    assert p.classes[1].Lq == pytest.approx(lq1, rel=1e-8)


@pytest.mark.parametrize(("lam", "c"), [([0.6, 1.2], 3), ([0.3, 0.5], 2)])
def test_mmc_priority_matches_ctmc(lam: list[float], c: int) -> None:
    mu = 1.0
    lq = ctmc_mmc_priority(lam, mu, c, cap=60)
    p = mmc_priority(lam, mu, c)
    for r, want in zip(p.classes, lq, strict=True):
        assert r.Lq == pytest.approx(want, rel=1e-8)


# ---------------------------------------------------------------------------
# Conservation laws (Kleinrock 1965, "A conservation law for a wide class of queueing
# disciplines", Naval Research Logistics Quarterly 12: 181-192)


@pytest.mark.parametrize("seed", range(6))
def test_mg1_work_conservation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    means = rng.uniform(0.2, 3.0, k)
    scvs = rng.uniform(0.0, 4.0, k)
    lam = rng.uniform(0.1, 1.0, k)
    lam *= rng.uniform(0.2, 0.97) / float(lam @ means)  # total load in (0.2, 0.97)
    p = mg1_priority(lam, means, scvs)
    # FCFS M/G/1 with the mixed service time
    lam_total = float(lam.sum())
    mean = float(lam @ means) / lam_total
    second = float(lam @ (means**2 * (1 + scvs))) / lam_total
    fcfs = mg1(lam_total, mean, second / mean**2 - 1)
    rho = fcfs.utilization
    assert p.station.utilization == pytest.approx(rho, rel=1e-12)
    weighted = sum(r.utilization * r.Wq for r in p.classes)
    assert weighted == pytest.approx(rho * fcfs.Wq, rel=1e-12)
    # and the first class does better than FCFS, the last worse
    assert p.classes[0].Wq < fcfs.Wq < p.classes[-1].Wq
    assert_consistent(p)


@pytest.mark.parametrize(
    ("lam", "mu", "c"),
    [([0.3, 0.3], 1.0, 1), ([0.5, 1.0, 0.7], 1.0, 3), ([2.0, 0.0, 5.0, 1.0], 0.5, 20)],
)
def test_mmc_equal_rates_conservation(lam: list[float], mu: float, c: int) -> None:
    p = mmc_priority(lam, mu, c)
    fcfs = mmc(sum(lam), mu, c)
    mean_wait = sum(li * r.Wq for li, r in zip(lam, p.classes, strict=True)) / sum(lam)
    assert mean_wait == pytest.approx(fcfs.Wq, rel=1e-12)
    for f in FIELDS:
        assert getattr(p.station, f) == pytest.approx(getattr(fcfs, f), rel=1e-12), f
    assert_consistent(p)


# ---------------------------------------------------------------------------
# Shape of the solution


Solver = Callable[[list[float]], PriorityTheory]
SOLVERS: dict[str, Solver] = {
    "mg1": lambda lam: mg1_priority(lam, [1.0, 0.5, 2.0, 1.5], [0.5, 1.0, 2.0, 0.0]),
    "mmc": lambda lam: mmc_priority(lam, 1.0, 4),
}


@pytest.mark.parametrize("name", SOLVERS)
def test_higher_priority_waits_less(name: str) -> None:
    scale = {"mg1": 1.0, "mmc": 4.0}[name]
    p = SOLVERS[name]([0.1 * scale, 0.2 * scale, 0.15 * scale, 0.1 * scale])
    waits = [r.Wq for r in p.classes]
    assert all(a < b for a, b in itertools.pairwise(waits))
    # a class with no arrivals sees the wait an arrival of it would get, but adds nothing
    z = SOLVERS[name]([0.1 * scale, 0.0, 0.15 * scale, 0.1 * scale])
    assert z.classes[1].L == z.classes[1].Lq == 0.0
    assert z.classes[1].throughput == 0.0 and z.classes[1].utilization == 0.0
    assert z.classes[0].Wq < z.classes[1].Wq < z.classes[2].Wq
    assert z.classes[1].W == z.classes[1].Wq + (0.5 if name == "mg1" else 1.0)
    assert_consistent(z)


def test_mg1_zero_rate_class_hand_value() -> None:
    # W0 = 0.3 * 2 / 2 = 0.3, sigma_0 = sigma_1 = 0.3 -> Wq_1 = 0.3 / 0.7^2
    p = mg1_priority([0.3, 0.0], [1.0, 4.0], [1.0, 0.0])
    assert p.classes[1].Wq == pytest.approx(0.3 / 0.49, rel=1e-14)
    assert p.classes[1].W == pytest.approx(0.3 / 0.49 + 4.0, rel=1e-14)
    assert p.station.W == p.classes[0].W  # only class 0 arrives


def test_no_arrivals_at_all() -> None:
    p = mmc_priority([0.0, 0.0], 2.0, 3)
    assert (p.station.L, p.station.Lq, p.station.Wq, p.station.W) == (0.0, 0.0, 0.0, 0.5)
    assert all(r.Wq == 0.0 and r.W == 0.5 for r in p.classes)
    q = mg1_priority([0.0, 0.0], [1.0, 1.0], [1.0, 2.0])
    assert (q.station.Wq, q.station.W) == (0.0, 1.0)
    # different service means: no rate-weighted mean exists
    q = mg1_priority([0.0, 0.0], [1.0, 2.0], [1.0, 1.0])
    assert q.station.Wq == 0.0 and math.isnan(q.station.W)
    assert [r.W for r in q.classes] == [1.0, 2.0]


@pytest.mark.parametrize("name", SOLVERS)
def test_lowest_class_blows_up_near_saturation(name: str) -> None:
    cap = {"mg1": 1.0, "mmc": 4.0}[name]  # capacity in work per unit time
    means = {"mg1": [1.0, 0.5, 2.0, 1.5], "mmc": [1.0] * 4}[name]
    first_waits, last_waits = [], []
    for gap in (1e-1, 1e-2, 1e-4, 1e-6, 1e-9):
        # classes 0-2 fixed at load 0.3 in all; class 3 takes the total load to 1 - gap
        lam = [0.1 * cap / means[0], 0.1 * cap / means[1], 0.1 * cap / means[2]]
        lam.append((0.7 - gap) * cap / means[3])
        p = SOLVERS[name](lam)
        assert p.station.utilization == pytest.approx(1 - gap, rel=1e-9)
        first_waits.append(p.classes[0].Wq)
        last_waits.append(p.classes[-1].Wq)
    assert all(a < b for a, b in itertools.pairwise(last_waits))
    assert last_waits[-1] > 1e7 * last_waits[0]  # Wq_last ~ 1 / (1 - rho)
    # the top class stays bounded: Wq_0 = W0 / (1 - rho_0) with W0 bounded
    assert max(first_waits) < 10 * first_waits[0]
    with pytest.raises(UnstableError, match="rho=1"):
        SOLVERS[name]([*lam[:3], 0.7 * cap / means[3]])


# ---------------------------------------------------------------------------
# Result object and errors


def test_priority_theory_object() -> None:
    p = mg1_priority([0.2, 0.3], [1.0, 1.0], [1.0, 0.5])
    assert isinstance(p.station, StationTheory) and isinstance(p.classes, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.station = p.classes[0]  # type: ignore[misc]
    d = p.to_dict()
    assert d["station"] == p.station.to_dict()
    assert [c["Wq"] for c in d["classes"]] == [r.Wq for r in p.classes]
    # numpy arrays and tuples are accepted
    q = mg1_priority(np.array([0.2, 0.3]), (1.0, 1.0), np.array([1.0, 0.5]))
    assert q == p
    assert mm1(0.5, 1.0).Wq == mmc_priority([0.5], 1.0, 1).classes[0].Wq


def test_bad_input() -> None:
    ok = ([0.2, 0.3], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"arrival_rates\[1\] must be finite and >= 0, got -0\.3"):
        mg1_priority([0.2, -0.3], ok[1], ok[2])
    with pytest.raises(ValueError, match=r"service_means\[0\] must be finite and > 0, got 0"):
        mg1_priority(ok[0], [0.0, 1.0], ok[2])
    with pytest.raises(ValueError, match=r"service_scvs\[1\] must be finite and >= 0, got -1"):
        mg1_priority(ok[0], ok[1], [1.0, -1.0])
    with pytest.raises(ValueError, match=r"arrival_rates\[0\] must be finite and >= 0, got nan"):
        mg1_priority([math.nan, 0.1], ok[1], ok[2])
    with pytest.raises(
        ValueError, match="arrival_rates has 2, service_means has 3, service_scvs has 2"
    ):
        mg1_priority(ok[0], [1.0, 1.0, 1.0], ok[2])
    with pytest.raises(ValueError, match="arrival_rates must hold one entry per class"):
        mg1_priority([], [], [])
    with pytest.raises(ValueError, match=r"arrival_rates must be a sequence of numbers, got 0\.5"):
        mg1_priority(0.5, [1.0], [1.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="service_means must be a sequence of numbers, got '1'"):
        mg1_priority([0.5], "1", [1.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"arrival_rates\[0\] must be a real number, got '0.1'"):
        mmc_priority(["0.1"], 1.0, 1)  # type: ignore[list-item]
    with pytest.raises(UnstableError, match=r"rho=1\.2"):
        mg1_priority([0.6, 0.6], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"rho=1\.5"):
        mmc_priority([1.0, 2.0], 1.0, 2)
    with pytest.raises(ValueError, match="rho=1"):
        mmc_priority([1.0, 1.0], 1.0, 2)
    with pytest.raises(ValueError, match=r"service_rate must be finite and > 0, got 0"):
        mmc_priority([0.1], 0.0, 1)
    with pytest.raises(ValueError, match=r"servers must be a whole number >= 1, got 0"):
        mmc_priority([0.1], 1.0, 0)
    with pytest.raises(ValueError, match=r"servers must be a whole number >= 1, got 2\.5"):
        mmc_priority([0.1], 1.0, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="servers must be a whole number >= 1, got True"):
        mmc_priority([0.1], 1.0, True)
    with pytest.raises(ValueError, match=r"arrival_rates\[2\] must be finite and >= 0, got -1"):
        mmc_priority([0.1, 0.2, -1.0], 1.0, 3)
