"""Single-station formulas against published values, brute force and identities."""

# SIM300 mistakes the queueing symbols L, W, Lq, Wq for constants (Yoda conditions).

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate, stats

from eda_sim.errors import UnstableError
from eda_sim.theory import (
    ARTICLE_NOTE,
    StationTheory,
    article_L,
    article_W,
    best_station,
    erlang_b,
    erlang_c,
    gg1_kingman,
    ggc_allen_cunneen,
    md1,
    mek1,
    mg1,
    mm1,
    mm1_sojourn_cdf,
    mm1k,
    mmc,
    mmc_wait_ccdf,
    mmck,
    mmck_state_probabilities,
)

# ---------------------------------------------------------------------------
# Independent reference computations (no code shared with eda_sim.theory)


def erlang_b_exact(c: int, a: Fraction) -> Fraction:
    """Erlang B from its defining ratio (a^c/c!) / sum_{n<=c} a^n/n!, in exact rationals."""
    terms = [a**n / math.factorial(n) for n in range(c + 1)]
    return terms[-1] / sum(terms)


def erlang_c_exact(c: int, a: Fraction) -> Fraction:
    """Erlang C from its defining ratio, in exact rationals (Gross & Harris, M/M/c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**n / math.factorial(n) for n in range(c)) + top)


def ctmc_birth_death(lam: float, mu: float, c: int, k: int) -> np.ndarray:
    """Stationary law of the M/M/c/K chain by solving pi Q = 0, sum pi = 1 (dense, direct).

    One balance equation (the last, implied by the others) is replaced by the
    normalisation and the square system is solved by LU: exact to rounding, unlike
    a least-squares fit of the overdetermined system.
    """
    q = np.zeros((k + 1, k + 1))
    for n in range(k + 1):
        if n < k:
            q[n, n + 1] = lam
        if n > 0:
            q[n, n - 1] = min(n, c) * mu
        q[n, n] = -q[n].sum()
    a = q.T.copy()
    a[-1] = 1.0
    b = np.zeros(k + 1)
    b[-1] = 1.0
    return np.linalg.solve(a, b)


def assert_little(r: StationTheory) -> None:
    assert r.L == pytest.approx(r.throughput * r.W, rel=1e-12, abs=1e-15)
    assert r.Lq == pytest.approx(r.throughput * r.Wq, rel=1e-12, abs=1e-15)
    assert r.L >= r.Lq >= 0.0
    assert r.W >= r.Wq >= 0.0
    assert 0.0 <= r.utilization <= 1.0
    assert 0.0 <= r.loss <= 1.0


# ---------------------------------------------------------------------------
# Erlang B and C


def test_erlang_b_table_value() -> None:
    # Erlang B tables (e.g. Gross & Harris, Fundamentals of Queueing Theory, M/M/c/c;
    # any telephone-traffic table): B(c=10, a=5 Erl) = 0.01838...
    assert erlang_b(10, 5.0) == pytest.approx(0.018384570, rel=1e-7)
    assert erlang_b(10, 5.0) == pytest.approx(float(erlang_b_exact(10, Fraction(5))), rel=1e-13)
    # Table value B(c=5, a=2 Erl) = 0.0367
    assert erlang_b(5, 2.0) == pytest.approx(0.036697, rel=1e-4)


@pytest.mark.parametrize(("c", "a"), [(1, 0.3), (2, 1.0), (7, 4.5), (30, 22.0), (60, 59.0)])
def test_erlang_b_and_c_match_exact_rationals(c: int, a: float) -> None:
    fa = Fraction(a)
    assert erlang_b(c, a) == pytest.approx(float(erlang_b_exact(c, fa)), rel=1e-12)
    assert erlang_c(c, a) == pytest.approx(float(erlang_c_exact(c, fa)), rel=1e-12)


def test_erlang_c_from_erlang_b() -> None:
    for c, a in [(1, 0.5), (3, 2.2), (10, 9.5), (100, 90.0)]:
        b = erlang_b(c, a)
        assert erlang_c(c, a) == pytest.approx(c * b / (c - a * (1.0 - b)), rel=1e-13)
    # hand value: M/M/2 with a = 1, C = (1/2 * 2) / (1 + 1 + 1) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-14)
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(4, 0.0) == 0.0


def test_erlang_500_servers_no_overflow() -> None:
    b = erlang_b(500, 480.0)
    c = erlang_c(500, 480.0)
    assert math.isfinite(b) and math.isfinite(c)
    assert b == pytest.approx(float(erlang_b_exact(500, Fraction(480))), rel=1e-10)
    assert c == pytest.approx(float(erlang_c_exact(500, Fraction(480))), rel=1e-10)
    r = mmc(480.0, 1.0, 500)
    assert math.isfinite(r.L) and r.Lq > 0.0
    assert_little(r)


# ---------------------------------------------------------------------------
# M/M/1 and M/M/c


def test_mm1_published_example() -> None:
    # Bronson, Schaum's Outline of Operations Research (1982), problem 23.14 (also in
    # Hillier & Lieberman style tables): lambda = 30/h, 1/mu = 1.5 min -> Lq = 2.25,
    # Wq = 4.5 min, p0 = 0.25.
    r = mm1(30.0 / 60.0, 1.0 / 1.5)
    assert r.Lq == pytest.approx(2.25)
    assert r.Wq == pytest.approx(4.5)
    assert 1.0 - r.utilization == pytest.approx(0.25)
    assert r.method == "M/M/1" and r.exact
    assert_little(r)


def test_mmc_published_example() -> None:
    # Bronson, Schaum's Outline of Operations Research (1982), problem 24.6: s = 3,
    # lambda = 300/yr, 1/mu = 2 days (mu = 182.5/yr) -> Lq = 0.352, L = 1.996,
    # Wq = 0.001175 yr, W = 0.006654 yr (values printed to 3-4 digits).
    r = mmc(300.0, 182.5, 3)
    assert r.Lq == pytest.approx(0.352, abs=5e-4)
    assert r.L == pytest.approx(1.996, abs=5e-4)
    assert r.Wq == pytest.approx(0.001175, abs=5e-7)
    assert r.W == pytest.approx(0.006654, abs=5e-7)
    assert r.method == "M/M/c (Erlang C)" and r.exact
    assert_little(r)


@pytest.mark.parametrize(("lam", "mu", "c"), [(0.7, 1.0, 1), (1.5, 1.0, 2), (4.0, 0.6, 8)])
def test_mmc_matches_truncated_ctmc(lam: float, mu: float, c: int) -> None:
    pi = ctmc_birth_death(lam, mu, c, 400)
    n = np.arange(pi.size)
    r = mmc(lam, mu, c)
    assert r.L == pytest.approx(float(n @ pi), rel=1e-9)
    assert r.Lq == pytest.approx(float(np.maximum(n - c, 0) @ pi), rel=1e-9)
    assert r.utilization == pytest.approx(float(np.minimum(n, c) @ pi) / c, rel=1e-9)


def test_mmc_one_server_is_mm1() -> None:
    a, b = mmc(0.8, 1.3, 1), mm1(0.8, 1.3)
    for f in ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss"):
        assert getattr(a, f) == pytest.approx(getattr(b, f), rel=1e-13)


def test_zero_arrivals() -> None:
    r = mmc(0.0, 2.0, 3)
    assert (r.L, r.Lq, r.Wq, r.W) == (0.0, 0.0, 0.0, 0.5)


# ---------------------------------------------------------------------------
# M/M/c/K


@pytest.mark.parametrize(
    ("lam", "mu", "c", "k"),
    [(0.5, 1.0, 1, 5), (3.0, 1.0, 2, 6), (9.0, 1.0, 4, 10), (1.0, 1.0, 3, 3)],
)
def test_mmck_matches_ctmc(lam: float, mu: float, c: int, k: int) -> None:
    p = mmck_state_probabilities(lam, mu, c, k)
    pi = ctmc_birth_death(lam, mu, c, k)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(p, pi, rtol=1e-9, atol=1e-14)
    r = mmck(lam, mu, c, k)
    n = np.arange(k + 1)
    assert r.loss == pytest.approx(pi[k], rel=1e-9)
    assert r.throughput == pytest.approx(lam * (1 - pi[k]), rel=1e-9)
    # completions = mu * mean busy servers
    assert r.throughput == pytest.approx(mu * c * r.utilization, rel=1e-9)
    assert r.L == pytest.approx(float(n @ pi), rel=1e-9)
    assert r.exact
    assert_little(r)


def test_mmck_large_capacity_and_servers() -> None:
    p = mmck_state_probabilities(480.0, 1.0, 500, 1000)
    assert p.shape == (1001,)
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0, abs=1e-12)
    p = mmck_state_probabilities(1.5, 1.0, 1, 1000)  # overloaded, fine with a buffer
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert mmck(1.5, 1.0, 1, 1000).loss == pytest.approx(1.0 / 3.0, rel=1e-9)


def test_mmck_erlang_b_identity() -> None:
    for c, a in [(1, 0.4), (5, 2.0), (10, 5.0), (50, 45.0)]:
        r = mmck(a, 1.0, c, c)
        assert r.loss == pytest.approx(erlang_b(c, a), rel=1e-12)
        assert r.Lq == 0.0 and r.Wq == 0.0
        assert r.method == "M/M/c/c (Erlang B)"


def test_mmck_tends_to_mmc() -> None:
    inf = mmc(3.2, 1.0, 4)
    prev = math.inf
    for k in (6, 12, 25, 50):
        gap = abs(mmck(3.2, 1.0, 4, k).L - inf.L)
        assert gap < prev
        prev = gap
    big = mmck(3.2, 1.0, 4, 2000)
    for f in ("L", "Lq", "W", "Wq", "utilization", "throughput"):
        assert getattr(big, f) == pytest.approx(getattr(inf, f), rel=1e-10)


def test_mm1k_closed_form() -> None:
    # Gross & Harris, M/M/1/K: p_K = (1 - r) r^K / (1 - r^(K+1)),
    # L = r/(1-r) - (K+1) r^(K+1) / (1 - r^(K+1))
    lam, mu, k = 2.0, 3.0, 4
    r = lam / mu
    res = mm1k(lam, mu, k)
    assert res.loss == pytest.approx((1 - r) * r**k / (1 - r ** (k + 1)), rel=1e-12)
    assert res.L == pytest.approx(
        r / (1 - r) - (k + 1) * r ** (k + 1) / (1 - r ** (k + 1)), rel=1e-12
    )
    assert res.method == "M/M/1/K"


# ---------------------------------------------------------------------------
# M/G/1 family and approximations


def test_mg1_identities() -> None:
    base = mm1(0.6, 1.0)
    for r in (mg1(0.6, 1.0, 1.0), mek1(0.6, 1.0, 1), gg1_kingman(0.6, 1.0, 1.0, 1.0)):
        assert r.L == pytest.approx(base.L, rel=1e-13)
        assert r.Wq == pytest.approx(base.Wq, rel=1e-13)
    d = md1(0.6, 1.0)
    assert d.Lq == pytest.approx(0.36 / 0.8, rel=1e-13)  # rho^2 / (2(1 - rho))
    assert d.Lq == pytest.approx(mg1(0.6, 1.0, 0.0).Lq, rel=1e-13)
    assert mek1(0.6, 1.0, 4).Wq == pytest.approx(mg1(0.6, 1.0, 0.25).Wq, rel=1e-13)
    assert mek1(0.6, 1.0, 4).method == "M/E4/1 (Pollaczek-Khinchine)"
    # M/D/1 waiting is half of M/M/1 waiting (P-K)
    assert d.Wq == pytest.approx(base.Wq / 2, rel=1e-13)
    for r in (d, mg1(0.6, 2.0 / 3, 3.5), mek1(0.2, 1.0, 3)):
        assert r.exact
        assert_little(r)


def test_approximations_flags_and_reductions() -> None:
    k = gg1_kingman(0.5, 1.2, 0.5, 2.0)
    assert not k.exact and k.method == "G/G/1 (Kingman)"
    assert k.Wq == pytest.approx(1.2 * 0.6 / 0.4 * 1.25, rel=1e-13)
    # Kingman with Poisson arrivals is Pollaczek-Khinchine
    pk = gg1_kingman(0.5, 1.2, 1.0, 2.0)
    assert pk.exact and pk.Wq == pytest.approx(mg1(0.5, 1.2, 2.0).Wq, rel=1e-13)
    ac = ggc_allen_cunneen(2.0, 1.2, 3, 1.0, 1.0)
    assert ac.exact and ac.L == pytest.approx(mmc(2.0, 1 / 1.2, 3).L, rel=1e-12)
    ac = ggc_allen_cunneen(2.0, 1.2, 3, 0.4, 2.0)
    assert not ac.exact and ac.Wq == pytest.approx(mmc(2.0, 1 / 1.2, 3).Wq * 1.2, rel=1e-12)
    one = ggc_allen_cunneen(0.5, 1.2, 1, 0.5, 2.0)
    assert one.Wq == pytest.approx(k.Wq, rel=1e-13)
    for r in (k, ac, one):
        assert_little(r)


def test_best_station_dispatch() -> None:
    # (arrival_rate, service_mean, service_scv, servers, capacity, arrival_scv)
    cases = [
        ((0.5, 1.0, 1.0, 1, None, 1.0), "M/M/1", True),
        ((1.5, 1.0, 1.0, 2, None, 1.0), "M/M/c (Erlang C)", True),
        ((0.5, 1.0, 0.0, 1, None, 1.0), "M/D/1 (Pollaczek-Khinchine)", True),
        ((0.5, 1.0, 2.0, 1, None, 1.0), "M/G/1 (Pollaczek-Khinchine)", True),
        ((1.5, 1.0, 2.0, 2, None, 1.0), "G/G/c (Allen-Cunneen)", False),
        ((0.5, 1.0, 2.0, 1, None, 0.5), "G/G/1 (Kingman)", False),
        ((1.5, 1.0, 1.0, 2, 5, 1.0), "M/M/c/K", True),
        ((1.5, 1.0, 1.0, 2, 2, 1.0), "M/M/c/c (Erlang B)", True),
        ((3.0, 1.0, 0.5, 2, 5, 1.0), "M/M/c/K on mean service time (approx.)", False),
        ((0.5, 1.0, 1.0, 1, math.inf, 1.0), "M/M/1", True),
    ]
    for (lam, s, cs2, c, cap, ca2), method, exact in cases:
        r = best_station(lam, s, cs2, c, capacity=cap, arrival_scv=ca2)
        assert (r.method, r.exact) == (method, exact), (lam, s, cs2, c, cap, ca2)
        assert_little(r)
    assert best_station(3.0, 1.0, 0.5, 2, capacity=5).L == pytest.approx(mmck(3.0, 1.0, 2, 5).L)


# ---------------------------------------------------------------------------
# Distributions


def test_mmc_wait_ccdf() -> None:
    lam, mu, c = 2.5, 1.0, 3
    r = mmc(lam, mu, c)
    t = np.array([-1.0, 0.0, 0.5, 2.0])
    tail = mmc_wait_ccdf(t, lam, mu, c)
    assert tail.shape == (4,) and tail[0] == 1.0
    assert tail[1] == pytest.approx(erlang_c(c, lam / mu), rel=1e-13)
    # brute force: condition on the number found (PASTA), the wait is Erlang(n-c+1, c mu)
    pi = ctmc_birth_death(lam, mu, c, 600)
    n = np.arange(c, pi.size)
    for ti, got in zip(t[1:], tail[1:], strict=True):
        want = float(pi[c:] @ stats.gamma.sf(ti, a=n - c + 1, scale=1 / (c * mu)))
        assert got == pytest.approx(want, rel=1e-7)
    mean, _ = integrate.quad(lambda x: float(mmc_wait_ccdf(x, lam, mu, c)), 0, np.inf)
    assert mean == pytest.approx(r.Wq, rel=1e-8)
    assert np.ndim(mmc_wait_ccdf(1.0, lam, mu, c)) == 0


def test_mm1_sojourn_cdf() -> None:
    lam, mu = 0.6, 1.0
    t = np.linspace(-1, 10, 23)
    cdf = mm1_sojourn_cdf(t, lam, mu)
    np.testing.assert_allclose(
        cdf, np.where(t < 0, 0.0, 1 - np.exp(-(mu - lam) * np.maximum(t, 0)))
    )
    mean, _ = integrate.quad(lambda x: 1.0 - float(mm1_sojourn_cdf(x, lam, mu)), 0, np.inf)
    assert mean == pytest.approx(mm1(lam, mu).W, rel=1e-8)


# ---------------------------------------------------------------------------
# Article formulas


def test_article_formulas() -> None:
    lam, s = 0.4, 1.5
    rho = lam * s
    assert article_L(rho) == pytest.approx(md1(lam, s).Lq, rel=1e-13)
    assert article_W(lam, rho) == pytest.approx(mm1(lam, 1 / s).W, rel=1e-13)
    # they break Little's law: L = lambda W would need rho^2/2 = rho
    assert article_L(rho) != pytest.approx(lam * article_W(lam, rho))
    assert "Little" in ARTICLE_NOTE and "\n" not in ARTICLE_NOTE
    with pytest.raises(UnstableError, match="rho=1"):
        article_L(1.0)
    with pytest.raises(ValueError, match="arrival_rate"):
        article_W(0.0, 0.5)


# ---------------------------------------------------------------------------
# Errors and result object


def test_bad_input() -> None:
    with pytest.raises(
        UnstableError, match=r"utilisation must be < 1 for a stable queue, got rho=1\.2"
    ):
        mm1(1.2, 1.0)
    with pytest.raises(ValueError, match=r"rho=1\.5"):
        mmc(3.0, 1.0, 2)
    with pytest.raises(ValueError, match="rho=1"):
        erlang_c(3, 3.0)
    with pytest.raises(ValueError, match=r"arrival_rate must be finite and >= 0, got -1"):
        mm1(-1, 1.0)
    with pytest.raises(ValueError, match="service_rate"):
        mm1(0.5, 0.0)
    with pytest.raises(ValueError, match=r"servers must be a whole number >= 1, got 0"):
        mmc(0.5, 1.0, 0)
    with pytest.raises(ValueError, match="servers"):
        mmc(0.5, 1.0, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"capacity must be a whole number >= servers=3, got 2"):
        mmck(0.5, 1.0, 3, 2)
    with pytest.raises(ValueError, match="service_scv"):
        mg1(0.5, 1.0, -0.1)
    with pytest.raises(ValueError, match="phases"):
        mek1(0.5, 1.0, 0)
    with pytest.raises(ValueError, match="nan"):
        mg1(float("nan"), 1.0, 1.0)
    assert issubclass(UnstableError, ValueError)


def test_station_theory_object() -> None:
    r = mmc(1.5, 1.0, 2)
    d = r.to_dict()
    assert set(d) == {"L", "Lq", "W", "Wq", "utilization", "throughput", "loss", "method", "exact"}
    assert type(d["L"]) is float and d["exact"] is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.L = 0.0  # type: ignore[misc]
    assert type(StationTheory(np.float64(1), 0, 1, 0, 0.5, 1, 0, "x", True).L) is float
