"""The random sparse routing of the networks bench_network_size.py and bench_scale.py make.

Station ``i`` sends its events to 1–3 distinct random stations with probabilities
that sum to 0.5–0.8 (a Dirichlet split of a uniform total, rounded to 6 decimals);
the rest of the row leaves the network.
"""

from __future__ import annotations

import numpy as np


def random_hops(rng: np.random.Generator, size: int) -> list[list[tuple[int, float]]]:
    """Per station, its next hops ``(target, probability)`` in the order drawn (none <= 0)."""
    hops: list[list[tuple[int, float]]] = []
    for _ in range(size):
        degree = min(int(rng.integers(1, 4)), size)
        targets = rng.choice(size, size=degree, replace=False)
        shares = rng.dirichlet(np.ones(degree)) * rng.uniform(0.5, 0.8)
        row = [
            (target, round(share, 6))
            for target, share in zip(targets.tolist(), shares.tolist(), strict=True)
        ]
        hops.append([(target, probability) for target, probability in row if probability > 0])
    return hops
