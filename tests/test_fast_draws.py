"""The fast engine's routing draws: guided bisection == a bisection over the whole row.

``eda_sim.engine.fast.draws`` turns a uniform into an entry station or a next hop
by bisecting, in a long row, only the bucket of its guide table
(``tables.guide_table``; Chen & Asau 1974) that the uniform falls in. The answer
must be the plain bisection's for every uniform (the SimPy engine draws with
``numpy.searchsorted(cumulative, u, side="right")``), or the two engines'
sample paths part: these tests compare the two on millions of uniforms and on
every boundary (each cumulative value, its floating-point neighbours, each
bucket's edge and its neighbours, 0 and ``1 - 2**-53``), on rows with ties
(probabilities too small to change a cumulative sum) and on scenarios' tables.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

import numba

from eda_sim.engine.fast.draws import entry_station, next_hop
from eda_sim.engine.fast.state import GUIDE_SHIFT_BITS, HOP, HOP_ROW, RouteTables
from eda_sim.engine.fast.tables import GUIDED_FROM, guide_table, route_tables
from eda_sim.scenario import Scenario, scenario_from_dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from random_network import random_hops

LAST_BELOW_ONE = 1.0 - 2.0**-53


@numba.njit(cache=False)
def _entries(routes: RouteTables, event_class: int, uniforms: np.ndarray) -> np.ndarray:
    picks = np.empty(uniforms.shape[0], dtype=np.int64)
    for i in range(uniforms.shape[0]):
        picks[i] = entry_station(routes, event_class, uniforms[i])
    return picks


@numba.njit(cache=False)
def _hops(routes: RouteTables, row: int, uniforms: np.ndarray) -> np.ndarray:
    picks = np.empty(uniforms.shape[0], dtype=np.int64)
    for i in range(uniforms.shape[0]):
        picks[i] = next_hop(routes, row, uniforms[i])
    return picks


def _boundaries(cumulative: np.ndarray) -> np.ndarray:
    """Every value where the answer may change, its neighbours, buckets' edges, 0, 1 - 2**-53."""
    buckets = 1 << max(len(cumulative) - 1, 0).bit_length()
    edges = np.arange(buckets + 1) / buckets
    values = np.concatenate([cumulative[np.isfinite(cumulative)], edges])
    around = np.concatenate(
        [values, np.nextafter(values, -np.inf), np.nextafter(values, np.inf), [0.0, LAST_BELOW_ONE]]
    )
    return np.unique(around[(around >= 0.0) & (around < 1.0)])


def _uniforms(cumulative: np.ndarray, count: int, seed: int) -> np.ndarray:
    return np.concatenate([np.random.default_rng(seed).random(count), _boundaries(cumulative)])


def _entry_only_tables(cumulative: np.ndarray) -> RouteTables:
    """One class's entry row with these cumulative values, guided as route_tables guides."""
    guide = guide_table(cumulative)
    shift = (len(guide) - 1).bit_length() - 1
    return RouteTables(
        rows=np.zeros(0, dtype=HOP_ROW),
        hops=np.zeros(1, dtype=HOP),
        entry_start=np.array([0, len(cumulative)], dtype=np.int64),
        entry_targets=np.arange(len(cumulative) + 1, dtype=np.int64),
        entry_cumulative=np.concatenate([cumulative, [np.inf]]),
        entry_guide=np.array([(1 << GUIDE_SHIFT_BITS) + shift], dtype=np.int64),
        guide=np.concatenate([[0], guide]).astype(np.int64),
    )


def _bisected_entry(cumulative: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """The SimPy engine's entry draw (Routing.draw_entry over the positive entries)."""
    return np.minimum(np.searchsorted(cumulative, uniforms, side="right"), len(cumulative) - 1)


SYNTHETIC = {
    "one entry": np.array([1.0]),
    "equal shares of 1,000": np.cumsum(np.full(1000, 1e-3)),
    "ties (shares below an ulp)": np.cumsum([0.25, 1e-18, 1e-18, 0.25, 0.0, 0.5]),
    "sum just below 1": np.cumsum(np.full(10, 0.1)),  # 0.9999999999999999
    "sum just above 1": np.cumsum([0.1, 0.2, 0.7000000000000001]),
    "skewed: one share 0.999": np.cumsum([*np.full(999, 1e-3 / 999), 0.999]),
    "every entry exactly on a bucket edge": np.arange(1, 17) / 16,
    "power-of-two length": np.cumsum(np.full(64, 1 / 64)),
}


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_guided_entry_equals_bisection_on_millions_of_uniforms_and_every_boundary(
    name: str,
) -> None:
    cumulative = SYNTHETIC[name].astype(np.float64)
    routes = _entry_only_tables(cumulative)
    uniforms = _uniforms(cumulative, 2_000_000, seed=14)
    assert np.array_equal(_entries(routes, 0, uniforms), _bisected_entry(cumulative, uniforms))


def test_the_guide_table_is_where_each_bucket_s_answer_starts() -> None:
    # Buckets m / M (M: a power of two >= 4 per entry): the values <= each edge, then L.
    assert guide_table(np.array([0.5, 1.0])).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    tied = np.cumsum([0.25, 1e-18, 0.75])  # 0.25, 0.25, 1.0
    assert guide_table(tied).tolist() == [0] * 4 + [2] * 12 + [3]
    assert len(guide_table(np.full(1000, 0.5))) == 4096 + 1


def _scenario(entry: dict[str, float], routing: dict[str, dict[str, float]], n: int) -> Scenario:
    names = [f"s{i}" for i in range(n)]
    return scenario_from_dict(
        {
            "name": "draws",
            "stations": {
                name: {"servers": 1, "service": {"dist": "exponential", "mean": 1e-4}}
                for name in names
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": entry},
            "routing": routing,
            "run": {"horizon": 10.0},
        }
    )


def _benchmark_network(n: int) -> Scenario:
    """bench_network_size's network shape: an even entry over n stations, 1-3 hops each."""
    names = [f"s{i}" for i in range(n)]
    rng = np.random.default_rng([1, n])
    routing = {
        names[i]: {names[t]: p for t, p in hops} for i, hops in enumerate(random_hops(rng, n))
    }
    return _scenario(dict.fromkeys(names, 1.0 / n), routing, n)


def _hub(n: int) -> Scenario:
    """A hub sending to n - 1 stations (shares uneven, some below an ulp of the sum)."""
    names = [f"s{i}" for i in range(n)]
    rng = np.random.default_rng(7)
    shares = rng.dirichlet(np.ones(n - 1)) * 0.9
    shares[::5] = 1e-19
    spread = rng.dirichlet(np.ones(n))
    spread[4], spread[3] = spread[4] + spread[3], 1e-19
    entry = {name: float(p) for name, p in zip(names, spread, strict=True)}
    hub = {name: float(p) for name, p in zip(names[1:], shares, strict=True)}
    return _scenario(entry, {names[0]: hub}, n)


@pytest.mark.parametrize(
    "build", [lambda: _benchmark_network(1000), lambda: _hub(200)], ids=["net", "hub"]
)
def test_scenario_tables_draw_as_the_simpy_engine_s_routing(build: Callable[[], Scenario]) -> None:
    scenario = build()
    routing = scenario.classes[0].routing
    rows, entry_targets, entry_cumulative = routing.draw_rows
    routes = route_tables(scenario)
    assert routes.entry_guide[0] != 0  # the long entry row is guided
    uniforms = _uniforms(entry_cumulative, 2_000_000, seed=15)
    expected = entry_targets[_bisected_entry(entry_cumulative, uniforms)]
    assert np.array_equal(_entries(routes, 0, uniforms), expected)
    lengths = np.diff(rows.indptr)
    for station in np.unique([0, int(np.argmax(lengths)), len(lengths) - 1]).tolist():
        targets, cumulative = rows.row(station)
        guided = lengths[station] >= GUIDED_FROM
        assert (routes.rows[station]["guide"] != 0) == guided
        uniforms = _uniforms(cumulative, 1_000_000 if guided else 10_000, seed=station)
        picks = np.searchsorted(cumulative, uniforms, side="right")
        expected = np.append(targets, -1)[picks]  # past the row's end: it leaves
        counted = routes._replace(rows=routes.rows.copy(), hops=routes.hops.copy())
        assert np.array_equal(_hops(counted, station, uniforms), expected)
        start, stop = routes.rows[station]["start"], routes.rows[station]["stop"]
        taken = counted.hops["taken"][start:stop]
        assert taken.tolist() == np.bincount(picks, minlength=len(targets) + 1)[:-1].tolist()
        assert counted.rows[station]["exits"] == np.count_nonzero(picks == len(targets))


SHORT_ROWS = [  # (cumulative values of one hop row): 1 to 5 entries, ties, exits, sums near 1
    [1.0],
    [0.3],
    [0.5, 1.0],
    [0.25, 0.25 + 1e-18, 0.75],  # a tie: the second share is below an ulp of the sum
    [0.1, 0.30000000000000004, 0.6000000000000001],
    [0.2, 0.4, 0.6, 0.8],  # past SHORT_SPAN: bisected
    [0.1, 0.2, 0.3, 0.4, 1.0],
    [],  # no entry: every draw leaves (kept last: its neighbour's count gets 0 added)
]


def _short_row_tables() -> RouteTables:
    """Hop rows of SHORT_ROWS, one after the other, the last row's reads at the table's end."""
    lengths = [len(row) for row in SHORT_ROWS]
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = np.zeros(len(SHORT_ROWS), dtype=HOP_ROW)
    rows["start"], rows["stop"] = starts[:-1], starts[1:]
    hops = np.zeros(int(starts[-1]) + 1, dtype=HOP)  # + the padding entry route_tables adds
    hops["cumulative"][:-1] = np.concatenate(
        [np.array(row, dtype=np.float64) for row in SHORT_ROWS]
    )
    hops["target"][:-1] = np.arange(int(starts[-1])) + 100
    return RouteTables(
        rows=rows,
        hops=hops,
        entry_start=np.array([0, 1], dtype=np.int64),
        entry_targets=np.zeros(1, dtype=np.int64),
        entry_cumulative=np.ones(1),
        entry_guide=np.zeros(1, dtype=np.int64),
        guide=np.zeros(1, dtype=np.int64),
    )


@pytest.mark.parametrize("row", range(len(SHORT_ROWS)))
def test_short_rows_counted_without_a_branch_pick_the_bisection_s_hop(row: int) -> None:
    """Rows of at most SHORT_SPAN entries are counted, longer ones bisected: the same hop."""
    routes = _short_row_tables()
    cumulative = np.array(SHORT_ROWS[row], dtype=np.float64)
    start = int(routes.rows[row]["start"])
    uniforms = _uniforms(cumulative, 20_000, seed=row)
    picks = np.searchsorted(cumulative, uniforms, side="right")
    expected = np.append(start + 100 + np.arange(len(cumulative)), -1)[picks]
    assert np.array_equal(_hops(routes, row, uniforms), expected)
    taken = routes.hops["taken"][start : start + len(cumulative)]
    assert taken.tolist() == np.bincount(picks, minlength=len(cumulative) + 1)[:-1].tolist()
    assert routes.rows[row]["exits"] == np.count_nonzero(picks == len(cumulative))


@pytest.mark.parametrize("entries", [[1.0], [0.4, 1.0], [0.25, 0.25 + 1e-18, 1.0]])
def test_short_entry_rows_counted_at_the_table_s_end_pick_the_bisection_s_station(
    entries: list[float],
) -> None:
    """An unguided entry row of 1-3 stations, its reads past the end clamped: searchsorted's."""
    cumulative = np.array(entries, dtype=np.float64)
    routes = RouteTables(
        rows=np.zeros(0, dtype=HOP_ROW),
        hops=np.zeros(1, dtype=HOP),
        entry_start=np.array([0, len(cumulative)], dtype=np.int64),
        entry_targets=np.arange(len(cumulative), dtype=np.int64) + 7,
        entry_cumulative=cumulative,  # no padding: the count reads its last value again
        entry_guide=np.zeros(1, dtype=np.int64),
        guide=np.zeros(1, dtype=np.int64),
    )
    uniforms = _uniforms(cumulative, 20_000, seed=len(entries))
    assert np.array_equal(_entries(routes, 0, uniforms), _bisected_entry(cumulative, uniforms) + 7)
