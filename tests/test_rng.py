"""Streams made together (``rng.stream_generators``) are the streams made one at a time.

The fast engine makes the thousands of generators of a large network's
replication with :func:`eda_sim.rng.stream_generators`, which mixes the seed
sequences' entropy on arrays; the SimPy engine makes each with
:func:`eda_sim.rng.stream_generator` (NumPy's own ``SeedSequence``). Both engines
draw the same numbers only if every generator is in exactly the same state,
whatever the seed's or the replication's size (one or several 32-bit words)
and the number of names in the key.
"""

from __future__ import annotations

import numpy as np
import pytest

from eda_sim.rng import stream_generator, stream_generators

KEYS = [
    ("entry", "orders"),
    ("arrivals", "orders"),
    *[("service", f"s{i}", "orders") for i in range(40)],
    *[("routing", f"s{i}", "orders") for i in range(40)],
    ("routing", "s0", "payments"),
    ("service",),
    ("a", "b", "c", "d", "e", "f"),  # more words than the pool holds
]

SEEDS = [
    (0, 0),
    (7, 3),
    (2**32 - 1, 2**32 - 1),  # the largest one-word values
    (2**32, 2**32),  # the smallest two-word values
    (2**40 + 5, 2**33 + 1),
    (2**130 + 17, 999_999),  # a five-word seed: entropy longer than the pool
]


@pytest.mark.parametrize(("seed", "replication"), SEEDS)
def test_generators_made_together_are_in_the_states_made_one_at_a_time(
    seed: int, replication: int
) -> None:
    together = stream_generators(seed, replication, KEYS)
    assert len(together) == len(KEYS)
    for key, rng in zip(KEYS, together, strict=True):
        alone = stream_generator(seed, replication, *key)
        assert rng.bit_generator.state == alone.bit_generator.state, key
        assert rng.exponential(2.0, 64).tolist() == alone.exponential(2.0, 64).tolist(), key


def test_their_seed_sequences_give_the_same_words_as_numpys() -> None:
    rng = stream_generators(7, 2, [("service", "s1", "orders")])[0]
    stand_in = rng.bit_generator.seed_seq
    numpys = stream_generator(7, 2, "service", "s1", "orders").bit_generator.seed_seq
    for n_words, dtype in [(4, np.uint64), (4, "uint64"), (3, np.uint32), (9, np.uint64)]:
        expected = numpys.generate_state(n_words, dtype)
        assert np.array_equal(stand_in.generate_state(n_words, dtype), expected)
    assert stand_in.entropy == numpys.entropy
    assert stand_in.spawn_key == numpys.spawn_key


def test_they_spawn_the_children_numpys_generators_spawn() -> None:
    together = stream_generators(7, 2, [("routing", "s1", "orders")])[0]
    alone = stream_generator(7, 2, "routing", "s1", "orders")
    for _ in range(2):  # the second call spawns the next children, as NumPy's
        ours, theirs = together.spawn(3), alone.spawn(3)
        for child, expected in zip(ours, theirs, strict=True):
            assert child.bit_generator.state == expected.bit_generator.state


def test_no_keys_give_no_generators_and_a_negative_seed_is_refused() -> None:
    assert stream_generators(1, 0, []) == []
    with pytest.raises(ValueError, match="seed must be >= 0"):
        stream_generators(-1, 0, KEYS)
    with pytest.raises(ValueError, match="replication must be >= 0"):
        stream_generators(1, -1, KEYS)
