"""The fast engine's random-value buffers give every stream's values in order, however refilled.

The loop reads each row of ``engine/fast/streams.py``'s buffers value by value
and returns for a refill when a row reaches its refill point; a refill also
tops up every row with less than a quarter of its next refill left, and no
other. Whatever the order of reads and refills, the values a row gives must be
its stream's values in order: the batches a fresh generator with the same key
draws (the SimPy engine's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eda_sim.engine.fast.streams import _stream_draws, open_streams
from eda_sim.rng import DEFAULT_BATCH_SIZE
from eda_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("scenario_name", ["jackson3", "shopping_cart"])
def test_rows_give_their_streams_values_in_order_through_refills(scenario_name: str) -> None:
    scenario = load_scenario(str(ROOT / "scenarios" / f"{scenario_name}.yaml"))
    streams = open_streams(scenario, seed=7, replication=2)
    values, cursor = streams.state
    used = [row for row, draw in enumerate(streams.draws) if draw is not None]
    rng = np.random.default_rng(11)
    # Rows read in a random order, a few of them much more often than the others.
    weights = rng.pareto(1.0, size=len(used)) + 0.1
    reads = rng.choice(used, size=300_000, p=weights / weights.sum())
    taken: dict[int, list[float]] = {row: [] for row in used}
    topped_up = 0  # rows refilled before their refill point, as another row's refill ran
    for row in reads.tolist():
        pos = int(cursor["pos"][row])
        taken[row].append(float(values[row, pos]))
        cursor["pos"][row] = pos + 1
        if pos + 1 >= cursor["end"][row]:  # the loop returns; Python refills
            rows = np.array(used)
            unread = streams.valid[rows] - cursor["pos"][rows]
            low = 4 * unread < np.minimum(streams.batches[rows], streams.room) * DEFAULT_BATCH_SIZE
            early = rows[low & (cursor["pos"][rows] < cursor["end"][rows])]
            kept = rows[~low & (cursor["pos"][rows] < cursor["end"][rows])]
            valid_before = streams.valid[kept].copy()
            streams.refill()
            left = streams.valid[early] - cursor["pos"][early]
            assert (left >= DEFAULT_BATCH_SIZE).all()  # topped up with the due row
            assert (streams.valid[kept] == valid_before).all()  # nothing drawn ahead
            topped_up += len(early)
    fresh = _stream_draws(scenario, 7, 2)
    for row in used:
        draw = fresh[row]
        assert draw is not None
        count = len(taken[row])
        batches = -(-count // DEFAULT_BATCH_SIZE) + 1
        expected = np.concatenate([draw(DEFAULT_BATCH_SIZE) for _ in range(batches)])
        assert taken[row] == expected[:count].tolist(), f"row {row}"
    assert topped_up > 0
