"""Network formulas: traffic equations, Jackson, QNA."""

# SIM300 mistakes the queueing symbols L, W, Lq, Wq for constants (Yoda conditions).

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import linalg as splinalg

from eda_sim.errors import UnstableError
from eda_sim.theory import (
    NetworkTheory,
    erlang_c,
    gg1_kingman,
    ggc_allen_cunneen,
    jackson,
    mm1,
    mm1k,
    mmc,
    mmck,
    qna,
    traffic_rates,
)

P3 = np.array([[0.0, 0.6, 0.3], [0.0, 0.0, 0.5], [0.2, 0.0, 0.0]])
MEANS3 = np.array([0.5, 0.6, 0.4])
SERVERS3 = np.array([1, 1, 2])


def assert_network_little(net: NetworkTheory) -> None:
    for st in net.stations:
        assert st.L == pytest.approx(st.throughput * st.W, rel=1e-12, abs=1e-15)
        assert st.Lq == pytest.approx(st.throughput * st.Wq, rel=1e-12, abs=1e-15)
    sysm = net.system
    assert sysm.L == pytest.approx(sum(st.L for st in net.stations), rel=1e-12)
    assert sysm.L == pytest.approx(sysm.throughput * sysm.W, rel=1e-12)
    live = net.class_throughput > 0
    assert float(net.class_throughput[live] @ net.class_W[live]) == pytest.approx(sysm.L, rel=1e-10)


def ctmc_two_station(
    gamma: tuple[float, float],
    p: np.ndarray,
    mu: tuple[float, float],
    c: tuple[int, int],
    cap: tuple[int, int],
) -> np.ndarray:
    """Joint stationary law of a 2-station Markovian network with buffers cap (dense states).

    A departure routed to a full station is refused (lost), like the simulator.
    """
    m0, m1 = cap

    def idx(a: int, b: int) -> int:
        return a * (m1 + 1) + b

    size = (m0 + 1) * (m1 + 1)
    rows, cols, vals = [], [], []

    def add(src: int, dst: int, rate: float) -> None:
        if rate > 0 and src != dst:
            rows.append(src)
            cols.append(dst)
            vals.append(rate)

    for a in range(m0 + 1):
        for b in range(m1 + 1):
            s = idx(a, b)
            add(s, idx(min(a + 1, m0), b), gamma[0])
            add(s, idx(a, min(b + 1, m1)), gamma[1])
            d0 = min(a, c[0]) * mu[0]
            d1 = min(b, c[1]) * mu[1]
            if a:
                add(s, idx(a - 1, min(b + 1, m1)) if b < m1 else idx(a - 1, b), d0 * p[0, 1])
                add(s, idx(a, b), d0 * p[0, 0])
                add(s, idx(a - 1, b), d0 * (1 - p[0].sum()))
            if b:
                add(s, idx(min(a + 1, m0), b - 1) if a < m0 else idx(a, b - 1), d1 * p[1, 0])
                add(s, idx(a, b - 1), d1 * (1 - p[1].sum()))
    q = sparse.csr_matrix((vals, (rows, cols)), shape=(size, size))
    q = q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())
    a_mat = sparse.vstack([q.T.tocsr()[:-1], sparse.csr_matrix(np.ones((1, size)))]).tocsc()
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    return np.asarray(splinalg.spsolve(a_mat, rhs)).reshape(m0 + 1, m1 + 1)


# ---------------------------------------------------------------------------
# Traffic equations


def test_traffic_equations_by_hand() -> None:
    # lambda0 = 1 + 0.2 lambda2, lambda1 = 0.6 lambda0, lambda2 = 0.3 lambda0 + 0.5 lambda1
    # => lambda2 = 0.3 lambda0 + 0.3 lambda0 = 0.6 lambda0, lambda0 = 1 + 0.12 lambda0
    # => lambda0 = 1/0.88 = 1.136364, lambda1 = lambda2 = 0.6/0.88 = 0.681818
    lam = traffic_rates([1.0, 0.0, 0.0], P3)
    np.testing.assert_allclose(lam, [1 / 0.88, 0.6 / 0.88, 0.6 / 0.88], rtol=1e-14)
    np.testing.assert_allclose(lam, [1.1363636363636365, 0.6818181818181818, 0.6818181818181818])


def test_traffic_equations_errors() -> None:
    with pytest.raises(ValueError, match="no event can leave"):
        traffic_rates([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"row 0 sums to 1\.3 \(> 1\)"):
        traffic_rates([1.0, 0.0], [[0.65, 0.65], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"\[0, 1\], got -0\.1 at \[1, 0\]"):
        traffic_rates([1.0, 0.0], [[0.0, 0.5], [-0.1, 0.0]])
    with pytest.raises(ValueError, match="external_rates"):
        traffic_rates([-1.0, 0.0], [[0.0, 0.5], [0.0, 0.0]])
    with pytest.raises(ValueError, match="shape"):
        traffic_rates([1.0, 0.0, 0.0], [[0.0, 0.5], [0.0, 0.0]])
    # a closed loop that no event reaches is harmless: those stations get 0
    lam = traffic_rates([1.0, 0.0, 0.0], [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(lam, [1.0, 0.0, 0.0])


# ---------------------------------------------------------------------------
# Jackson


def test_jackson_single_class_is_per_station_mmc() -> None:
    net = jackson([1.0, 0.0, 0.0], P3, MEANS3, SERVERS3)
    lam = traffic_rates([1.0, 0.0, 0.0], P3)
    np.testing.assert_allclose(net.arrival_rates, lam)
    np.testing.assert_allclose(net.visit_ratios, lam[None, :])
    for i, st in enumerate(net.stations):
        ref = mmc(lam[i], 1 / MEANS3[i], int(SERVERS3[i]))
        for f in ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss"):
            assert getattr(st, f) == pytest.approx(getattr(ref, f), rel=1e-12)
        assert st.exact
    assert net.stations[0].method == "M/M/1"
    assert net.stations[2].method == "M/M/c (Erlang C)"
    assert net.system.throughput == pytest.approx(1.0)
    assert net.system.W == pytest.approx(net.system.L)
    assert net.system.exact and net.system.method == "Jackson network (product form)"
    assert_network_little(net)
    with pytest.raises(ValueError, match="read-only"):
        net.arrival_rates[0] = 0.0
    d = net.to_dict()
    assert set(d["stations"][0]) >= {"L", "method", "exact"} and len(d["visit_ratios"]) == 1


def test_jackson_matches_brute_force_ctmc() -> None:
    # two stations with feedback: 0 -> 1 (0.7), 1 -> 0 (0.4); c = (1, 2)
    p = np.array([[0.0, 0.7], [0.4, 0.0]])
    pi = ctmc_two_station((0.5, 0.2), p, (2.0, 1.0), (1, 2), (45, 45))
    net = jackson([0.5, 0.2], p, [0.5, 1.0], [1, 2])
    n = np.arange(46)
    assert net.stations[0].L == pytest.approx(float(n @ pi.sum(axis=1)), rel=1e-8)
    assert net.stations[1].L == pytest.approx(float(n @ pi.sum(axis=0)), rel=1e-8)
    # product form: the joint law factorises
    np.testing.assert_allclose(pi, np.outer(pi.sum(axis=1), pi.sum(axis=0)), atol=1e-12)


def test_jackson_multiclass_aggregates() -> None:
    gamma = np.array([[0.6, 0.0, 0.0], [0.0, 0.3, 0.2]])
    routing = np.array([P3, [[0.0, 0.0, 0.0], [0.0, 0.0, 0.8], [0.1, 0.0, 0.0]]])
    net = jackson(gamma, routing, MEANS3, SERVERS3)
    lam_k = np.array([traffic_rates(gamma[k], routing[k]) for k in range(2)])
    lam = lam_k.sum(axis=0)
    np.testing.assert_allclose(net.arrival_rates, lam, rtol=1e-13)
    np.testing.assert_allclose(net.visit_ratios, lam_k / gamma.sum(axis=1)[:, None], rtol=1e-13)
    for i, st in enumerate(net.stations):
        assert st.exact
        assert st.L == pytest.approx(mmc(lam[i], 1 / MEANS3[i], int(SERVERS3[i])).L, rel=1e-12)
    np.testing.assert_allclose(net.class_throughput, [0.6, 0.5])
    # class W = sum over stations of visits x (Wq + own service)
    wq = np.array([st.Wq for st in net.stations])
    np.testing.assert_allclose(net.class_W, net.visit_ratios @ (wq + MEANS3), rtol=1e-12)
    assert_network_little(net)


def test_jackson_multiclass_mixed_means_is_approximate() -> None:
    gamma = np.array([[0.3, 0.0], [0.2, 0.0]])
    routing = np.array([[0.0, 1.0], [0.0, 0.0]])  # shared by both classes
    means = np.array([[1.0, 0.5], [0.5, 0.5]])
    net = jackson(gamma, routing, means, [1, 1])
    mix = (0.3 * 1.0 + 0.2 * 0.5) / 0.5  # rate-weighted mean at station 0
    assert net.stations[0].L == pytest.approx(mm1(0.5, 1 / mix).L, rel=1e-12)
    assert not net.stations[0].exact and "mixed service mean" in net.stations[0].method
    assert not net.stations[1].exact  # fed by a non-product-form station
    assert not net.system.exact and net.system.method == "Jackson network (approx.)"
    assert_network_little(net)


def test_jackson_capacity() -> None:
    # one station with a buffer: exactly M/M/1/K, loss refused at entry
    net = jackson([0.9], [[0.0]], [1.0], [1], [4])
    ref = mm1k(0.9, 1.0, 4)
    assert net.stations[0].L == pytest.approx(ref.L) and net.stations[0].exact
    assert net.system.throughput == pytest.approx(0.9 * (1 - ref.loss))
    assert_network_little(net)

    # tandem M/M/1 -> M/M/2/4: the departures of M/M/1 are Poisson (Burke), so exact;
    # check against the brute-force CTMC of the pair
    p = np.array([[0.0, 1.0], [0.0, 0.0]])
    net = jackson([1.2, 0.0], p, [0.5, 1.0], [1, 2], [None, 4])
    assert net.stations[1].exact and net.stations[1].method == "M/M/c/K"
    pi = ctmc_two_station((1.2, 0.0), p, (2.0, 1.0), (1, 2), (60, 4))
    n1 = np.arange(5)
    assert net.stations[1].L == pytest.approx(float(n1 @ pi.sum(axis=0)), rel=1e-9)
    assert net.stations[1].loss == pytest.approx(float(pi.sum(axis=0)[4]), rel=1e-9)
    assert_network_little(net)

    # a buffer on a feedback loop: reduced-load approximation, labelled so
    p = np.array([[0.0, 0.8], [0.5, 0.0]])
    net = jackson([0.6, 0.0], p, [0.5, 1.0], [1, 1], [math.inf, 3])
    st = net.stations[1]
    assert not st.exact and st.method == "M/M/c/K on offered rate (approx.)"
    assert st.L == pytest.approx(mmck(net.arrival_rates[1], 1.0, 1, 3).L, rel=1e-9)
    # fixed point: offered rate at 0 = external + admitted flow from 1
    lam = net.arrival_rates
    assert lam[0] == pytest.approx(0.6 + 0.5 * lam[1] * (1 - st.loss), rel=1e-10)
    assert lam[1] == pytest.approx(0.8 * lam[0], rel=1e-10)
    pi = ctmc_two_station((0.6, 0.0), p, (2.0, 1.0), (1, 1), (80, 3))
    assert st.loss == pytest.approx(float(pi.sum(axis=0)[3]), rel=0.1)  # approximation
    assert_network_little(net)


def test_jackson_errors() -> None:
    with pytest.raises(UnstableError) as info:
        jackson([3.0, 0.0, 0.0], P3, MEANS3, SERVERS3)
    msg = str(info.value)
    assert "station 0" in msg and "station 1" in msg and "station 2" not in msg
    assert "utilisation must be < 1 for a stable queue, got rho=1.705" in msg
    # an overloaded station with a buffer is fine
    net = jackson([3.0], [[0.0]], [1.0], [1], [10])
    assert net.stations[0].loss > 0.5
    with pytest.raises(ValueError, match=r"service_mean\[0, 1\] must be finite and > 0"):
        jackson([1.0, 0.0, 0.0], P3, [0.5, 0.0, 0.4], SERVERS3)
    with pytest.raises(ValueError, match=r"servers\[2\]"):
        jackson([1.0, 0.0, 0.0], P3, MEANS3, [1, 1, 0])
    with pytest.raises(ValueError, match=r"capacity\[0\] must be a whole number >= servers=1"):
        jackson([1.0, 0.0, 0.0], P3, MEANS3, SERVERS3, [0.5, None, None])
    with pytest.raises(ValueError, match="class 1: routing row 0"):
        jackson(
            [[1.0, 0.0], [1.0, 0.0]],
            [[[0.0, 0.5], [0.0, 0.0]], [[0.9, 0.6], [0.0, 0.0]]],
            0.1,
            [1, 1],
        )
    with pytest.raises(ValueError, match="no events enter"):
        jackson([0.0, 0.0], [[0.0, 0.5], [0.0, 0.0]], 0.1, [1, 1])


# ---------------------------------------------------------------------------
# QNA


def test_qna_equals_jackson_when_all_scv_are_one() -> None:
    jk = jackson([1.0, 0.0, 0.0], P3, MEANS3, SERVERS3)
    qn = qna([1.0, 0.0, 0.0], 1.0, P3, MEANS3, 1.0, SERVERS3)
    assert qn.arrival_scv is not None
    np.testing.assert_allclose(qn.arrival_scv, 1.0, rtol=1e-12)
    for a, b in zip(qn.stations, jk.stations, strict=True):
        for f in ("L", "Lq", "W", "Wq", "utilization", "throughput"):
            assert getattr(a, f) == pytest.approx(getattr(b, f), rel=1e-10)
        assert not a.exact
    assert qn.stations[0].method == "QNA (Whitt 1983) + Kingman"
    assert qn.stations[2].method == "QNA (Whitt 1983) + Allen-Cunneen"
    assert qn.system.L == pytest.approx(jk.system.L, rel=1e-10)
    assert not qn.system.exact
    # multi-class, same mean per station
    gamma = np.array([[0.6, 0.0, 0.0], [0.0, 0.3, 0.2]])
    routing = np.array([P3, [[0.0, 0.0, 0.0], [0.0, 0.0, 0.8], [0.1, 0.0, 0.0]]])
    jk = jackson(gamma, routing, MEANS3, SERVERS3)
    qn = qna(gamma, np.ones((2, 3)), routing, MEANS3, np.ones((2, 3)), SERVERS3)
    for a, b in zip(qn.stations, jk.stations, strict=True):
        assert a.L == pytest.approx(b.L, rel=1e-10)
    np.testing.assert_allclose(qn.class_W, jk.class_W, rtol=1e-10)
    assert_network_little(qn)


def test_qna_single_station_is_kingman_or_allen_cunneen() -> None:
    one = qna([0.5], 0.4, [[0.0]], [1.2], 2.0, [1]).stations[0]
    assert one.Wq == pytest.approx(gg1_kingman(0.5, 1.2, 0.4, 2.0).Wq, rel=1e-12)
    three = qna([2.0], 0.4, [[0.0]], [1.2], 2.0, [3]).stations[0]
    assert three.Wq == pytest.approx(ggc_allen_cunneen(2.0, 1.2, 3, 0.4, 2.0).Wq, rel=1e-12)


def test_qna_tandem_split_and_departure_by_hand() -> None:
    # station 0: M-ish arrivals ca^2 = 0.5, rate 0.8, s = 1, cs^2 = 2, c = 1 -> rho = 0.8
    # departures: cd^2 = 1 + (1 - 0.64)(0.5 - 1) + 0.64 (2 - 1) = 1 - 0.18 + 0.64 = 1.46
    # a split with q = 0.3 goes to station 1: c^2 = 0.3 * 1.46 + 0.7 = 1.138 (one source, w = 1)
    p = np.array([[0.0, 0.3], [0.0, 0.0]])
    net = qna([0.8, 0.0], [0.5, 1.0], p, [1.0, 1.0], [2.0, 1.0], [1, 2])
    assert net.arrival_scv is not None
    np.testing.assert_allclose(net.arrival_scv, [0.5, 1.138], rtol=1e-12)
    # station 1: lambda = 0.24, s = 1, c = 2, rho = 0.12: Wq = Wq(M/M/2) (1.138 + 1)/2
    wq_mm2 = erlang_c(2, 0.24) * 1.0 / (2 * (1 - 0.12))
    assert net.stations[1].Wq == pytest.approx(wq_mm2 * 2.138 / 2, rel=1e-12)
    # multi-server departure term: (cs^2 - 1)/sqrt(c)
    p = np.array([[0.0, 1.0], [0.0, 0.0]])
    net = qna([1.5, 0.0], 1.0, p, [1.0, 0.5], [3.0, 1.0], [2, 1])
    rho = 0.75  # cd^2 = 1 + 0 + 0.5625 (3 - 1)/sqrt(2)
    assert net.arrival_scv is not None
    assert net.arrival_scv[1] == pytest.approx(1 + rho**2 * 2 / math.sqrt(2), rel=1e-12)


def test_qna_superposition_by_hand() -> None:
    # external: 1.0 into station 0 (ca^2 = 2), 0.5 into station 2 (Poisson); 0 -> 2 always;
    # station 1 is idle. Station 0: s = 0.5, cs^2 = 3, c = 1, rho = 0.5:
    #   cd0^2 = 1 + (1 - 0.25)(2 - 1) + 0.25 (3 - 1) = 2.25
    # station 2: lambda = 1.5, shares 2/3 (from 0) and 1/3 (external); s = 0.4, rho = 0.6
    #   v = 1/((2/3)^2 + (1/3)^2) = 1.8, w = 1/(1 + 4 (0.4)^2 (0.8)) = 1/1.512
    #   ca2^2 = w (2/3 * 2.25 + 1/3 * 1) + 1 - w = 1 + (1.8333... - 1) w = 1.551146...
    p = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    net = qna([1.0, 0.0, 0.5], [2.0, 1.0, 1.0], p, [0.5, 1.0, 0.4], [3.0, 1.0, 1.0], [1, 1, 1])
    w = 1 / 1.512
    assert net.arrival_scv is not None
    assert net.arrival_scv[2] == pytest.approx(1 + (11 / 6 - 1) * w, rel=1e-12)
    assert net.arrival_scv[2] == pytest.approx(1.5511463844797178, rel=1e-12)
    idle = net.stations[1]
    assert (idle.L, idle.throughput, idle.utilization) == (0.0, 0.0, 0.0)
    assert_network_little(net)


def test_qna_solves_its_variability_equations() -> None:
    # independent check on a network with feedback: iterate the three QNA building
    # blocks (departure, splitting, superposition) to their fixed point
    gamma, ca0 = np.array([0.7, 0.2, 0.0]), np.array([0.3, 2.5, 1.0])
    s, cs, c = np.array([0.6, 0.9, 0.5]), np.array([0.5, 1.8, 0.1]), np.array([1, 2, 1])
    net = qna(gamma, ca0, P3, s, cs, c)
    lam = traffic_rates(gamma, P3)
    rho = lam * s / c
    ca = np.ones(3)
    for _ in range(500):
        cd = 1 + (1 - rho**2) * (ca - 1) + rho**2 * (cs - 1) / np.sqrt(c)
        new = np.empty(3)
        for j in range(3):
            rates = [gamma[j]] + [lam[i] * P3[i, j] for i in range(3)]
            scvs = [ca0[j]] + [P3[i, j] * cd[i] + 1 - P3[i, j] for i in range(3)]
            share = np.array(rates) / lam[j]
            v = 1 / np.sum(share**2)
            w = 1 / (1 + 4 * (1 - rho[j]) ** 2 * (v - 1))
            new[j] = w * float(share @ np.array(scvs)) + 1 - w
        ca = new
    assert net.arrival_scv is not None
    np.testing.assert_allclose(net.arrival_scv, ca, rtol=1e-10)
    for j, st in enumerate(net.stations):
        wq = erlang_c(int(c[j]), lam[j] * s[j]) * s[j] / (c[j] * (1 - rho[j])) * (ca[j] + cs[j]) / 2
        assert st.Wq == pytest.approx(wq, rel=1e-10)
    assert_network_little(net)


def test_qna_mixture_scv() -> None:
    # two classes at one station: means 1 and 3, scvs 0 and 1, rates 0.1 and 0.2
    # E[S] = (0.1*1 + 0.2*3)/0.3 = 7/3; E[S^2] = (0.1*1*1 + 0.2*9*2)/0.3 = 3.7/0.3
    # cs^2 = E[S^2]/E[S]^2 - 1 = (37/3)/(49/9) - 1 = 111/49 - 1 = 62/49
    net = qna([[0.1], [0.2]], 1.0, [[0.0]], [[1.0], [3.0]], [[0.0], [1.0]], [1])
    ref = gg1_kingman(0.3, 7 / 3, 1.0, 62 / 49)
    assert net.stations[0].W == pytest.approx(ref.W, rel=1e-12)
    np.testing.assert_allclose(net.class_W, np.array([1.0, 3.0]) + ref.Wq, rtol=1e-12)


def test_qna_errors() -> None:
    with pytest.raises(UnstableError, match=r"rho=1\.2"):
        qna([1.2], 1.0, [[0.0]], [1.0], 1.0, [1])
    with pytest.raises(ValueError, match=r"service_scv\[0, 0\] must be finite and >= 0"):
        qna([0.5], 1.0, [[0.0]], [1.0], -1.0, [1])
    with pytest.raises(ValueError, match="external_scv must be a scalar"):
        qna([0.5, 0.1], [1.0, 1.0, 1.0], [[0, 0], [0, 0]], 1.0, 1.0, [1, 1])
