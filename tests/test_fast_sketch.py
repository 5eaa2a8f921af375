"""The compiled loop's sketch step puts every time in the SimPy engine's bucket.

The loop computes a bucket from :func:`math.frexp`, the SimPy engine from the
IEEE-754 bits (:func:`eda_sim.stats.sketch.bucket_of`); both are exact integer
arithmetic on the same double, so they must agree on every value: powers of
two and their neighbours, the largest and smallest normal doubles, subnormals,
zero, and times inside and outside the loop's window of octaves (those go to
Python, which uses ``bucket_of`` itself).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from numba import njit

from eda_sim.engine.fast.latency import sketch_time, sketch_window
from eda_sim.engine.fast.sketches import SketchChunks
from eda_sim.engine.fast.state import CONTROL
from eda_sim.engine.latency import LatencyLayout
from eda_sim.stats.sketch import Histogram


@njit
def _record(state, sketch, values, pool_n, rare_n):  # type: ignore[no-untyped-def]
    window = sketch_window(state)
    for value in values:
        pool_n, rare_n = sketch_time(state, sketch, value, window, pool_n, rare_n)
    return pool_n, rare_n


def sketched(values: np.ndarray, horizon: float) -> Histogram:
    layout = LatencyLayout(("a",), ("k",), ("W", "Wq"), (0.5,))
    chunks = SketchChunks(layout, horizon, (), 3)
    control = np.zeros(1, dtype=CONTROL)
    pool_n = rare_n = 0
    for part in np.array_split(values, max(1, len(values) // 40)):
        # make room as the loop would return for it (GROW_POOL, GROW_RARE)
        if pool_n + len(part) + 2 >= chunks.state.counts.shape[0]:
            control["pool_n"] = pool_n
            while pool_n + len(part) + 2 >= chunks.state.counts.shape[0]:
                chunks.serve(6, control)
        control["rare_n"] = rare_n
        if rare_n + len(part) + 2 >= chunks.state.rare_keys.shape[0]:
            chunks.serve(7, control)
            rare_n = 0
        pool_n, rare_n = _record(chunks.state, 1, part, pool_n, rare_n)
    control["pool_n"], control["rare_n"] = pool_n, rare_n
    return chunks.finish(control, 2).window(0, 1)[1]


EDGES = np.array(
    [
        0.0,
        5e-324,  # the smallest subnormal
        2.2250738585072009e-308,  # the largest subnormal
        2.2250738585072014e-308,  # the smallest normal
        np.nextafter(1.0, 0.0),
        1.0,
        np.nextafter(1.0, 2.0),
        1.0 + 1 / 128,
        np.nextafter(1.0 + 1 / 128, 0.0),
        2.0,
        3.0,
        0.1,
        1e-300,
        1.7976931348623157e308,
    ]
)


@pytest.mark.parametrize("horizon", [1.0, 1e4, 1e300])
def test_the_loops_buckets_are_the_bits_buckets(horizon: float) -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [EDGES, 10.0 ** rng.uniform(-320, 308, 3000), rng.exponential(horizon / 50, 3000)]
    )
    assert sketched(values, horizon) == Histogram.of(values)


def test_the_loop_uses_the_sketches_key_layout() -> None:
    from eda_sim.engine.fast import latency
    from eda_sim.stats import sketch

    assert latency.BUCKET_BITS == sketch.BUCKET_BITS
