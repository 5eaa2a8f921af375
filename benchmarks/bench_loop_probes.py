"""What of the fast loop's time per visit grows from 3 to 1,000 stations: one thing switched off.

Each probe changes one thing and times the loop (CPU time inside the compiled
loop only, not the stream refills or the sketch counting the driver runs
between its calls) against the shipped one in the same process, so that both
see the same neighbours' load on a shared machine:

* ``--calls`` probes are second compiled copies of the loop with one step
  replaced (as ``bench_lookahead.py`` builds its copy); every copy and the
  shipped loop take turns call by call on one replication's state (the loop
  returns to Python every few thousand events), and each call's CPU time is
  charged to its loop per event scheduled. A copy must leave the state as the
  shipped loop would (hints, counts nobody reads, or draws of the same law);
* ``--layouts`` probes change the layout of a state array (the same compiled
  loop, one specialisation per layout): whole replications alternate, and
  each must give the shipped layout's result, equal with ``==``;
* ``--widths`` probes set the calendar queue's width to other multiples of
  the mean gap between its earliest events (Brown's rule uses 3): whole
  replications alternate, with the same result.

The networks are ``bench_network_size.py``'s (every ρ = 0.5, out-degree 1-3,
no warm-up). How to run (from the repository root; a few minutes)::

    python benchmarks/bench_loop_probes.py --calls copy,no-lookahead,bisect --sizes 3,1000
    python benchmarks/bench_loop_probes.py --layouts slot64,monitor128
    python benchmarks/bench_loop_probes.py --widths 1.5,8,16 --sizes 1000

A report, not a test (exits 0 whatever it measures).
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_network_size import network, visit_rate

from eda_sim.engine.fast import (
    draws,
    driver,
    event_queue,
    kernel,
    lookahead,
    monitors,
    service,
    simulate_replication_fast,
    sources,
    support,
)
from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.kinds import KIND_BITS, SERVICE_END
from eda_sim.engine.fast.prefetching import prefetch, prefetch_record
from eda_sim.scenario import Scenario, scenario_from_dict

_typeof: Any = numba.typeof
_driver: Any = driver  # (patched for the probes, put back after)
_queue_steps: Any = event_queue  # (its compiled functions, read by their py_func)
Patch = tuple[Any, str, Any]  # (module, name, replacement; None: a step that does nothing)


def _nothing(function: Any) -> Any:
    """An inlined step with ``function``'s parameters that does nothing."""
    names = ", ".join(inspect.signature(function.py_func).parameters)
    scope: dict[str, Any] = {}
    exec(f"def nothing({names}):\n    return None", scope)
    return numba.njit(inline="always")(scope["nothing"])


@step
def _bisected_hop(routes: Any, row: int, u: float) -> int:
    """``draws.next_hop`` before the eighth round: every span bisected."""
    start, stop, packed = routes.rows[row].start, routes.rows[row].stop, routes.rows[row].guide
    low, high = start, stop
    if packed != 0:
        first, after = draws.guided_span(routes, packed, u)
        low, high = start + first, start + after
    while low < high:
        middle = (low + high) >> 1
        if routes.hops[middle].cumulative <= u:
            low = middle + 1
        else:
            high = middle
    leaves = 1 if low >= stop else 0
    taken = min(low, stop - 1)
    hop = routes.hops[taken].target
    routes.hops[taken].taken += 1 - leaves
    routes.rows[row].exits += leaves
    return -1 if leaves else int(hop)


@step
def _bisected_entry(routes: Any, event_class: int, u: float) -> int:
    """``draws.entry_station`` before the eighth round: every span bisected."""
    start = routes.entry_start[event_class]
    last = routes.entry_start[event_class + 1] - 1
    packed = routes.entry_guide[event_class]
    low, high = start, last + 1
    if packed != 0:
        first, after = draws.guided_span(routes, packed, u)
        low, high = start + first, start + after
    while low < high:
        middle = (low + high) >> 1
        if routes.entry_cumulative[middle] <= u:
            low = middle + 1
        else:
            high = middle
    return int(routes.entry_targets[min(low, last)])


@step
def _hot_uniform(streams: Any, row: int, refill: int) -> tuple[float, int]:
    """``next_value``, the routing uniforms read from 8 rows (same law, fewer lines)."""
    half = streams.values.shape[0] // 2
    row = row if row < half else half + (row - half) % min(8, half)
    pos = streams.cursor[row].pos
    value = streams.values[row, pos]
    streams.cursor[row].pos = pos + 1
    return value, 1 if pos + 1 == streams.cursor[row].end else refill


@step
def _second_slot(queue: Any, events: np.ndarray) -> tuple[int, bool]:
    """The event after the earliest, roughly: the first node of the current or next day."""
    links, cursor, entries = queue.links, queue.cursor, queue.entries
    heads, day, mask = entries.shape[0], cursor[event_queue.CURRENT], cursor[event_queue.MASK]
    here, after = links[heads + (day & mask)], links[heads + ((day + 1) & mask)]
    payload = int(entries[here if here >= 0 else max(after, 0), event_queue.PAYLOAD])
    return min(payload >> KIND_BITS, events.shape[0] - 1), (payload & 7) == SERVICE_END


@step
def _fetch_two_slots(queue: Any, events: np.ndarray) -> None:
    """``fetch_slot``, and the slot of the event after next."""
    lookahead.fetch_slot(queue, events)
    second, _ = _second_slot(queue, events)
    prefetch_record(events, second)


@step
def _fetch_free_node(queue: Any, events: np.ndarray) -> None:
    """``fetch_slot``, and the calendar's next free node (the next push writes it)."""
    lookahead.fetch_slot(queue, events)
    node = queue.cursor[event_queue.FREE]
    prefetch(queue.entries, node, 0)
    prefetch_record(queue.links, node)


def _call_probes() -> dict[str, list[Patch]]:
    fetches = [(kernel, name, None) for name in ("fetch_slot", "fetch_station", "fetch_arrival")]
    return {
        "copy": [],  # the loop compiled again as it is: what the method itself scatters
        "no-lookahead": fetches,
        "no-integrals": [(monitors, "_advance_station", None)],
        "bisect": [
            (service, "next_hop", _bisected_hop),
            (sources, "entry_station", _bisected_entry),
        ],
        "hot-uniforms": [(service, "next_value", _hot_uniform)],
        "two-ahead": [(kernel, "fetch_slot", _fetch_two_slots)],
        "free-node": [(kernel, "fetch_slot", _fetch_free_node)],
    }


def _compiled_copy(patches: list[Patch]) -> Any:
    """The loop compiled with ``patches`` in place (put back afterwards)."""
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, replacement in patches:
        setattr(module, name, replacement or _nothing(getattr(module, name)))
    loop: Any = kernel.run_kernel
    options = {k: v for k, v in loop.targetoptions.items() if k not in ("cache", "nopython")}
    copy = numba.njit(**options)(loop.py_func)
    try:  # compiled now, for the loop's types, while the patches are in place
        copy.compile(tuple(_typeof(a) for a in _ARGUMENTS))
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
    return copy


_ARGUMENTS: list[Any] = []


def _capture(scenario: Scenario, horizon: float) -> None:
    """Keep the loop's arguments of one short replication (their types compile the copies)."""
    shipped = support.load_kernel()

    def run(*arguments: Any) -> int:
        _ARGUMENTS[:] = arguments
        return int(shipped.run(*arguments))

    _driver.load_kernel = lambda: shipped._replace(run=run)
    try:
        simulate_replication_fast(scenario, horizon=horizon, warmup=0.0, later_starts=False)
    finally:
        _driver.load_kernel = support.load_kernel


def _ratios(per: dict[str, list[float]], reference: str, size: int) -> str:
    """One line: each loop's median ns per visit and its per-round ratio to ``reference``."""
    parts = [f"N={size} (load {os.getloadavg()[0]:.1f})"]
    for name, values in per.items():
        rounds = sorted(b / a for a, b in zip(per[reference], values, strict=True))
        parts.append(
            f"{name} {statistics.median(values):.1f} ns "
            f"({statistics.median(rounds):.3f} [{rounds[0]:.3f}, {rounds[-1]:.3f}])"
        )
    return "  ".join(parts)


class Turns:
    """The loop's calls go round ``loops`` in turn; CPU time and events scheduled per loop."""

    def __init__(self, loops: dict[str, Any]) -> None:
        self.loops, self.names = loops, list(loops)
        self.reset(0)

    def reset(self, first: int) -> None:
        """Start a replication, its first call on the loop ``first``."""
        self.calls = first
        self.spent = dict.fromkeys(self.loops, 0.0)
        self.events = dict.fromkeys(self.loops, 0)

    def __call__(self, control: Any, *state: Any) -> int:
        name = self.names[self.calls % len(self.names)]
        self.calls += 1
        seq, start = int(control["seq"][0]), time.process_time()
        status = int(self.loops[name](control, *state))
        self.spent[name] += time.process_time() - start
        self.events[name] += int(control["seq"][0]) - seq
        return status


def calls(scenario: Scenario, size: int, names: list[str], rounds: int, visits: int) -> str:
    """Every probe's loop and the shipped one take turns call by call, ``rounds`` replications."""
    horizon = visits / visit_rate(scenario)
    _capture(scenario, horizon / 50)
    probes = _call_probes()
    shipped = support.load_kernel()
    loops = {"shipped": shipped.run, **{name: _compiled_copy(probes[name]) for name in names}}
    turns = Turns(loops)
    per: dict[str, list[float]] = {name: [] for name in loops}
    _driver.load_kernel = lambda: shipped._replace(run=turns)
    try:
        for replication in range(rounds):
            turns.reset(replication % len(loops))
            result = simulate_replication_fast(
                scenario, replication=replication, horizon=horizon, warmup=0.0, later_starts=False
            )
            per_event = result.completed_visits / sum(turns.events.values())
            for name in loops:
                per[name].append(turns.spent[name] / turns.events[name] / per_event * 1e9)
    finally:
        _driver.load_kernel = support.load_kernel
    return _ratios(per, "shipped", size)


def _aligned(count: int, dtype: np.dtype[Any]) -> np.ndarray:
    """``count`` zeroed records of ``dtype`` starting on a 64-byte cache line."""
    raw = np.zeros(count * dtype.itemsize + 64, np.uint8)
    offset = (-raw.ctypes.data) % 64
    return raw[offset : offset + count * dtype.itemsize].view(dtype)


def _record(fields: list[tuple[str, Any]], offsets: list[int], size: int) -> np.dtype[Any]:
    names, formats = zip(*fields, strict=True)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": size})


_F8, _I8, _I4, _I1 = np.float64, np.int64, np.int32, np.int8
#: The event slot in 64 bytes, one cache line (int32 and int8 fields), aligned.
SLOT64 = _record(
    [("arrived", _F8), ("started", _F8), ("ended", _F8), ("entered", _F8),
     ("event_class", _I4), ("station", _I4), ("next_in_line", _I4), ("journey", _I4),
     ("next_station", _I4), ("branches", _I4), ("admitted", _I1), ("is_copy", _I1),
     ("lost", _I1)],
    [0, 8, 16, 24, 32, 36, 40, 44, 48, 52, 56, 57, 58],
    64,
)  # fmt: skip
#: The station monitor in 128 bytes, aligned: what an arrival touches in its first line.
MONITOR128 = _record(
    [("last", _F8), ("area_busy", _F8), ("area_waiting", _F8), ("wait_sum", _F8),
     ("sojourn_sum", _F8), ("present", _I8), ("arrivals", _I8), ("completions", _I8),
     ("blocked_sum", _F8), ("lost", _I8)],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 72],
    128,
)  # fmt: skip
LAYOUTS = ("shipped", "slot64", "monitor128")


def _use_layout(layout: str) -> None:
    """Make the driver build its event pool and station monitors in ``layout``."""
    shipped_events, shipped_init = _SHIPPED_LAYOUT

    def new_events(slots: int) -> np.ndarray:
        if layout != "slot64":
            return shipped_events(slots)
        events = _aligned(slots, SLOT64)
        for name in ("event_class", "station", "next_station", "next_in_line", "journey"):
            events[name] = -1
        return events

    def init(self: Any, *arguments: Any) -> None:
        shipped_init(self, *arguments)
        if layout == "monitor128":
            self.monitors = _aligned(len(self.monitors), MONITOR128)

    _driver._new_events = new_events
    _driver._Replication.__init__ = init


_SHIPPED_LAYOUT = (driver._new_events, driver._Replication.__init__)


def _width_rule(factor: float) -> Any:
    """``event_queue.resize`` with Brown's ``GAPS_PER_DAY`` set to ``factor``."""
    scope = dict(vars(event_queue), GAPS_PER_DAY=factor)
    width = types.FunctionType(_queue_steps._width.py_func.__code__, scope, "_width")
    scope = dict(vars(event_queue), _width=numba.njit(error_model="numpy")(width))
    resize = types.FunctionType(_queue_steps.resize.py_func.__code__, scope, "resize")
    return numba.njit(error_model="numpy")(resize)


def alternated(
    scenario: Scenario, size: int, settings: dict[str, Callable[[], None]], rounds: int, visits: int
) -> str:
    """Whole replications alternate between ``settings`` (each must give the same result)."""
    horizon = visits / visit_rate(scenario)
    shipped = support.load_kernel()
    spent = {"loop": 0.0}

    def timed(*arguments: Any) -> int:
        start = time.process_time()
        status = int(shipped.run(*arguments))
        spent["loop"] += time.process_time() - start
        return status

    _driver.load_kernel = lambda: shipped._replace(run=timed)
    per: dict[str, list[float]] = {name: [] for name in settings}
    try:
        results = set()
        for use in settings.values():
            use()
            short = simulate_replication_fast(scenario, horizon=horizon / 10, warmup=0.0)
            results.add(repr(short))
        if len(results) != 1:
            raise SystemExit("a probe changed the result: not a layout or width change")
        for replication in range(rounds):
            order = list(settings) if replication % 2 == 0 else list(settings)[::-1]
            for name in order:
                settings[name]()
                spent["loop"] = 0.0
                result = simulate_replication_fast(
                    scenario, replication=replication, horizon=horizon, warmup=0.0,
                    later_starts=False,
                )  # fmt: skip
                per[name].append(spent["loop"] / result.completed_visits * 1e9)
    finally:
        _driver.load_kernel = support.load_kernel
        _use_layout("shipped")
        _queue_steps.resize = _SHIPPED_RESIZE
    return _ratios(per, next(iter(settings)), size)


_SHIPPED_RESIZE = event_queue.resize


def _layout_setting(layout: str) -> Callable[[], None]:
    def use() -> None:
        _use_layout(layout)

    return use


def _width_setting(factor: float) -> Callable[[], None]:
    rule = _SHIPPED_RESIZE if factor == event_queue.GAPS_PER_DAY else _width_rule(factor)

    def use() -> None:
        _queue_steps.resize = rule  # (queue_room imports it per call)

    return use


def main(argv: list[str] | None = None) -> int:
    """Run the probes asked for at each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,1000", help="stations, comma-separated")
    parser.add_argument("--calls", default="", help=f"loop copies: {','.join(_call_probes())}")
    parser.add_argument("--layouts", default="", help=f"state layouts: {','.join(LAYOUTS[1:])}")
    parser.add_argument("--widths", default="", help="calendar widths, in mean gaps (shipped: 3)")
    parser.add_argument("--rounds", type=int, default=8, help="replications per probe")
    parser.add_argument("--visits", type=int, default=1_000_000, help="per replication")
    options = parser.parse_args(argv)
    print(f"fast loop probes, CPU ns per visit of the loop alone; medians, (ratio to the first)"
          f" [lowest, highest round]; {os.cpu_count()} CPUs")  # fmt: skip
    for size in (int(size) for size in options.sizes.split(",")):
        scenario = scenario_from_dict(network(size))
        if options.calls:
            names = options.calls.split(",")
            print(calls(scenario, size, names, options.rounds, options.visits), flush=True)
        if options.layouts:
            layouts = ["shipped", *options.layouts.split(",")]
            settings = {name: _layout_setting(name) for name in layouts}
            print(alternated(scenario, size, settings, options.rounds, options.visits), flush=True)
        if options.widths:
            factors = [event_queue.GAPS_PER_DAY, *map(float, options.widths.split(","))]
            settings = {f"x{factor:g}": _width_setting(factor) for factor in factors}
            print(alternated(scenario, size, settings, options.rounds, options.visits), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
