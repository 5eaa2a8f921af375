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
from eda_sim.engine.fast.state import CARRY, CONTROL
from eda_sim.engine.latency import LatencyLayout
from eda_sim.stats.sketch import Histogram, bucket_of


@njit
def _record(state, sketch, values, pool_n, rare_n):  # type: ignore[no-untyped-def]
    window = sketch_window(state)
    for value in values:
        pool_n, rare_n = sketch_time(state, sketch, value, window, pool_n, rare_n)
    return pool_n, rare_n


def sketched(values: np.ndarray, horizon: float, levels: tuple[float, ...] = ()) -> Histogram:
    """The loop's histogram of ``values`` in sketch 1 (no levels: nothing folded at the cut)."""
    layout = LatencyLayout(("a",), ("k",), ("W", "Wq"), levels)
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


@pytest.mark.parametrize(("levels", "zeros"), [((0.5, 0.99), 50), ((0.001,), 0)])
def test_the_loop_folds_a_chunk_as_the_simpy_bank_does(
    levels: tuple[float, ...], zeros: int
) -> None:
    """With the run's levels, the cut folds the same low buckets as SketchBank's cut."""
    from eda_sim.stats.chunks import SketchBank

    rng = np.random.default_rng(11)
    values = np.concatenate([np.zeros(zeros), rng.exponential(1.0, 20_000), EDGES[1:4]])
    bank = SketchBank(3, levels)
    for value in values.tolist():
        bank.add(1, value)
    expected = bank.finish(2).window(0, 1)[1]
    assert expected.floor > 0  # the case folds something
    assert sketched(values, 10.0, levels) == expected
    assert expected == Histogram.of(values).folded(expected.floor)


def test_the_loop_uses_the_sketches_key_layout() -> None:
    from eda_sim.engine.fast import latency
    from eda_sim.stats import sketch

    assert latency.BUCKET_BITS == sketch.BUCKET_BITS


def test_a_full_counter_carries_and_loses_no_count() -> None:
    """More than 65,535 times in one bucket (zeros and one value): every one is counted."""
    rng = np.random.default_rng(3)
    values = np.concatenate([np.zeros(140_000), np.full(200_000, 1.5), rng.exponential(1.0, 5000)])
    rng.shuffle(values)
    assert sketched(values, 10.0) == Histogram.of(values)


def test_each_cut_holds_exactly_the_times_since_the_last() -> None:
    """Counters touched in one chunk are cleared at its cut; the next chunk starts empty."""
    layout = LatencyLayout(("a", "b"), (), ("W", "Wq"), ())  # no levels: nothing folded
    chunks = SketchChunks(layout, 100.0, (), 3)
    control = np.zeros(1, dtype=CONTROL)
    rng = np.random.default_rng(5)
    expected = []
    pool_n = rare_n = 0
    for label, scale in ((1, 1.0), (2, 0.01), (3, 5.0), (4, 1.0)):
        parts = {sketch: rng.exponential(scale, 300) for sketch in (0, 3, 4)}
        parts[3][:5] = 0.0
        parts[4][:3] = 1e-310  # subnormal: left to Python
        for sketch, values in parts.items():
            if rare_n + 400 >= chunks.state.rare_keys.shape[0]:  # as the loop returns
                control["pool_n"], control["rare_n"] = pool_n, rare_n
                chunks.serve(7, control)
                pool_n, rare_n = int(control["pool_n"][0]), int(control["rare_n"][0])
            pool_n, rare_n = _record(chunks.state, sketch, values, pool_n, rare_n)
        control["pool_n"], control["rare_n"], control["cut_label"] = pool_n, rare_n, label
        chunks.serve(5, control)
        rare_n = 0
        expected.append(parts)
    done = chunks.finish(control, 5)
    assert done.labels == (1, 2, 3, 4, 5)
    for position, parts in enumerate(expected):
        window = done.window(position, position + 1)
        for sketch in range(layout.size):
            values = parts.get(sketch, np.zeros(0))
            assert window[sketch] == Histogram.of(values), (position, sketch)
    assert all(h.total == 0 for h in done.window(4, 5))


def test_counting_ahead_counts_what_count_keys_counts() -> None:
    """The prefetching pass leaves the same counters, blocks and kept keys (carries too)."""
    from eda_sim.engine.fast.counting import count_keys, count_keys_ahead

    rng = np.random.default_rng(21)
    sketches, base = 50, 1022 + 14 - 62  # octaves up to 2^14, as for a horizon of 10,000
    values = np.concatenate([np.zeros(300), rng.exponential(2.0, 90_000), np.full(70_000, 0.5)])
    rng.shuffle(values)
    ids = rng.integers(0, sketches, values.size)
    ids[values == 0.5] = 7  # one counter past 65,535: a carry
    keys = (ids << 19) | bucket_of(values)
    outcomes = []
    for function in (count_keys, count_keys_ahead):
        slots = np.full((sketches, 63), -1, np.int32)
        counts = np.zeros((4096, 128), np.uint16)
        owners = np.full(4096, -1, np.int64)
        buffer, kept_keys = keys.copy(), np.zeros(keys.size, np.int64)
        reached, pool_n, kept = function(buffer, kept_keys, 0, slots, counts, owners, base, 0)
        assert np.array_equal(buffer, keys)  # the buffer is only read
        outcomes.append((reached, pool_n, kept, slots, counts, owners, kept_keys[:kept]))
    (r1, p1, k1, s1, c1, o1, b1), (r2, p2, k2, s2, c2, o2, b2) = outcomes
    assert (r1, p1, k1) == (r2, p2, k2) and k1 > 0
    assert np.array_equal(s1, s2) and np.array_equal(c1, c2) and np.array_equal(b1, b2)
    assert np.array_equal(o1, o2)
    # each block allocated names its slot, and only the pool's first pool_n are allocated
    sketch, column = np.nonzero(s1 >= 0)
    assert np.array_equal(np.sort(s1[sketch, column]), np.arange(p1))
    assert np.array_equal(o1[s1[sketch, column]], sketch << 6 | column)
    assert (o1[p1:] == -1).all()


@pytest.mark.parametrize("ahead", [False, True])
def test_a_pass_stopped_by_a_full_pool_resumes_where_it_stopped(ahead: bool) -> None:
    """A pass grown and resumed as the driver does counts as one pass with room.

    The driver calls again with the keys from ``reached`` on; the kept keys of
    both calls (outside the octaves, carries) follow one another.
    """
    from eda_sim.engine.fast.counting import count_keys, count_keys_ahead

    function = count_keys_ahead if ahead else count_keys
    rng = np.random.default_rng(8)
    sketches, base = 40, 1022 + 14 - 62
    values = rng.exponential(10.0 ** rng.uniform(-3, 2, sketches), (6000, sketches)).ravel()
    values[rng.random(values.size) < 0.05] = 0.0
    values[rng.random(values.size) < 0.01] = 2.0**-70  # below the counted octaves: kept
    ids = np.tile(np.arange(sketches), 6000)
    values[:140_000:2], ids[:140_000:2] = 0.75, 5  # a counter of sketch 5 carries
    keys = (ids << 19) | bucket_of(values)

    def counted(blocks: int) -> tuple[np.ndarray, ...]:
        slots = np.full((sketches, 63), -1, np.int32)
        counts = np.zeros((blocks, 128), np.uint16)
        owners = np.full(blocks, -1, np.int64)
        kept_keys = np.zeros(keys.size, np.int64)
        reached = kept = pool_n = stops = 0
        while reached < keys.size:
            done, pool_n, kept = function(
                keys[reached:], kept_keys, kept, slots, counts, owners, base, pool_n
            )  # fmt: skip
            reached += done
            if reached < keys.size:  # full: twice the pool, as the driver grows it
                stops += 1
                counts = np.concatenate([counts, np.zeros_like(counts)])
                owners = np.concatenate([owners, np.full(owners.size, -1, np.int64)])
        assert (stops > 0) == (blocks < 1024)
        return slots, counts[:pool_n], owners[:pool_n], kept_keys[:kept]

    stopped, with_room = counted(8), counted(1 << 14)
    for mine, theirs in zip(stopped, with_room, strict=True):
        assert np.array_equal(mine, theirs)
    kept_keys = with_room[3]
    assert ((kept_keys & CARRY) != 0).any() and ((kept_keys & CARRY) == 0).any()


def test_the_driver_counting_ahead_gives_the_same_histogram(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eda_sim.engine.fast import counting

    monkeypatch.setattr(counting, "PREFETCH_FROM_BLOCKS", 0)  # always fetch ahead
    rng = np.random.default_rng(3)
    values = np.concatenate([np.zeros(140_000), np.full(200_000, 1.5), rng.exponential(1.0, 5000)])
    rng.shuffle(values)
    assert sketched(values, 10.0) == Histogram.of(values)
