"""The fast engine's compiled loop made ready: loaded from numba's disk cache or compiled once.

:func:`loop_is_cached` says whether a process can run the loop without compiling
it (the automatic engine choice asks, :mod:`eda_sim.experiment.engines`), and
:func:`warm_kernel` types the loop by running one replication of a tiny
scenario, so that numba loads it from its cache, or compiles it on its first use
on a machine, before a run starts its replications.
"""

from __future__ import annotations

from typing import Any

from eda_sim.engine.fast.driver import simulate_replication_fast
from eda_sim.engine.fast.support import load_kernel
from eda_sim.scenario import scenario_from_dict

__all__ = ["loop_is_cached", "warm_kernel"]


#: A tiny scenario whose replication types the loop as every scenario does (see warm_kernel).
_WARM_UP = {
    "stations": {
        "a": {"servers": 1, "service": {"dist": "exponential", "mean": 0.5}},
        "b": {"servers": 2, "service": {"dist": "exponential", "mean": 0.5}},
    },
    "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
    "routing": {"a": {"b": 0.5}},
    "run": {"horizon": 20.0, "warmup": "none", "replications": 1},
}


def _loaded(function: Any) -> tuple[int, int]:
    """A numba dispatcher's compiled signatures so far, and how many came from its disk cache."""
    stats = getattr(function, "stats", None)
    hits = getattr(stats, "cache_hits", None)
    return len(function.signatures), sum(hits.values()) if hits is not None else 0


def loop_is_cached() -> bool:
    """Whether this process can run the loop without compiling it first.

    True when the loop is already compiled in this process, or when numba's disk
    cache holds it for the present source (the index that numba itself checks
    against the source file's stamp); :func:`warm_kernel` then loads it in about a
    second instead of compiling it (seconds to a minute on the first use on a
    machine). Reads numba's cache index through its ``_cache`` attribute (numba
    0.58-0.61 and later keep it there); where that cannot be read, says True, so
    that the caller behaves as it did before it could ask.

    Raises
    ------
    ScenarioError
        When numba is missing (as :func:`load_kernel`).
    """
    loop = load_kernel().run
    if getattr(loop, "signatures", None):
        return True
    try:
        index = loop._cache._cache_file._load_index()  # type: ignore[attr-defined]
    except Exception:
        return True
    return bool(index)


def warm_kernel() -> bool:
    """Have the compiled loop ready in this process; True if this call compiled it.

    Runs one replication of a tiny scenario, which types the loop (and the
    snapshots the driver calls) for the argument types every scenario gives
    it, so that numba loads them from its disk cache, or compiles them on their
    first use on this machine (seconds), before a run starts its replications.

    Raises
    ------
    ScenarioError
        When numba is missing (as :func:`load_kernel`).
    """
    kernel = load_kernel()
    before = [_loaded(function) for function in kernel]
    if all(count for count, _ in before):
        return False  # typed in this process already: nothing to load or compile
    simulate_replication_fast(scenario_from_dict(_WARM_UP, name="warm-up"))
    after = [_loaded(function) for function in kernel]
    # A signature that is new and did not come from the cache was compiled here.
    return any(
        (new - old) > (new_hits - old_hits)
        for (old, old_hits), (new, new_hits) in zip(before, after, strict=True)
    )
