"""Reading random values from the stream buffers, and routing draws (steps).

The Python driver fills one buffer row per stream (:mod:`eda_sim.engine.fast.streams`)
with exactly the values the SimPy engine draws from that stream; the loop reads
them in order here. Reading the value at a row's refill point raises
``need_refill``: the loop then returns before its next event, and the reserve
beyond that point covers the other reads of the same event.

Routing draws turn a uniform into a station as :meth:`eda_sim.routing.Routing.draw_next`
and :meth:`~eda_sim.routing.Routing.draw_entry` do, through the sparse rows of
:attr:`~eda_sim.routing.Routing.draw_rows`: a bisection over the few stations of
one row, never a scan over all N. A long row (an entry spread over a thousand
stations) is bisected only within the bucket of its guide table that the uniform
falls in (:func:`eda_sim.engine.fast.tables.guide_table`; Chen & Asau 1974): the
same answer for every uniform, in about one comparison instead of ``log2`` of
the row's length. A span of at most :data:`SHORT_SPAN` entries (every row of an
out-degree of three or less, and nearly every guide bucket) is not bisected but
counted (:func:`_short_count`): the entries at or below the uniform added up
without a branch, the same position as the bisection's, without the bisection's
loop and its unpredictable exit (measured: ``docs/performance.md``, "The loop at
1,000 stations, eighth round").
"""

from __future__ import annotations

from eda_sim.engine.fast.jit import step
from eda_sim.engine.fast.state import GUIDE_SHIFT_BITS, RouteTables, StreamState

__all__ = ["SHORT_SPAN", "entry_station", "guided_span", "next_hop", "next_value"]

_SHIFT_MASK = (1 << GUIDE_SHIFT_BITS) - 1
#: The longest span of a routing row counted without a branch rather than bisected.
SHORT_SPAN = 3


@step
def next_value(streams: StreamState, row: int, refill: int) -> tuple[float, int]:
    """The next value of stream ``row``, and ``refill`` (1 once the row needs refilling)."""
    pos = streams.cursor[row].pos
    value = streams.values[row, pos]
    streams.cursor[row].pos = pos + 1
    used_up = pos + 1 == streams.cursor[row].end
    return value, 1 if used_up else refill


@step
def guided_span(routes: RouteTables, packed: int, u: float) -> tuple[int, int]:
    """The span ``[first, after]`` (from a guided row's start) that holds the answer for ``u``.

    ``packed`` is the row's guide reference (``offset * 64 + log2(buckets)``, not
    0). The bucket ``floor(u · buckets)`` is exact (a power of two), and kept
    below ``buckets``.
    """
    buckets = 1 << (packed & _SHIFT_MASK)
    at = (packed >> GUIDE_SHIFT_BITS) + min(int(u * buckets), buckets - 1)
    return routes.guide[at], routes.guide[at + 1]


@step
def _short_count(first: float, second: float, third: float, entries: int, u: float) -> int:
    """How many of a span's first ``entries`` (at most 3) cumulative values are ``<= u``.

    ``first``, ``second``, ``third`` are the span's first three values (read past
    its end where it is shorter; those are not counted). For a span in
    increasing order this is the bisection's answer (``searchsorted``, right).
    """
    return (
        int((entries > 0) & (first <= u))
        + int((entries > 1) & (second <= u))
        + int((entries > 2) & (third <= u))
    )


@step
def next_hop(routes: RouteTables, row: int, u: float) -> int:
    """The station after hop row ``row`` (``k·N + i``) that the uniform ``u`` picks, or -1.

    The hop is counted: on the entry taken, or as one of the row's exits.
    """
    start = routes.rows[row].start
    stop = routes.rows[row].stop
    packed = routes.rows[row].guide
    low, high = start, stop
    if packed != 0:  # a long row: only the bucket of its guide table that u falls in
        first, after = guided_span(routes, packed, u)
        low, high = start + first, start + after
    last = routes.hops.shape[0] - 1  # (reads past a short span stay inside the table)
    counted = low + _short_count(
        routes.hops[min(low, last)].cumulative,
        routes.hops[min(low + 1, last)].cumulative,
        routes.hops[min(low + 2, last)].cumulative,
        high - low,
        u,
    )
    short = high - low <= SHORT_SPAN  # counted: the bisection below has nothing left
    low, high = (counted, counted) if short else (low, high)
    while low < high:  # low: the number of cumulative values <= u (searchsorted, right)
        middle = (low + high) >> 1
        if routes.hops[middle].cumulative <= u:
            low = middle + 1
        else:
            high = middle
    leaves = 1 if low >= stop else 0
    taken = min(low, stop - 1)  # the padding entry when the row is empty and first
    hop = routes.hops[taken].target
    routes.hops[taken].taken += 1 - leaves  # (an empty row's neighbour gets 0 added)
    routes.rows[row].exits += leaves
    return -1 if leaves else int(hop)


@step
def entry_station(routes: RouteTables, event_class: int, u: float) -> int:
    """The entry station of an external arrival that the uniform ``u`` picks."""
    start = routes.entry_start[event_class]
    last = routes.entry_start[event_class + 1] - 1
    packed = routes.entry_guide[event_class]
    low, high = start, last + 1
    if packed != 0:  # a long row: only the bucket of its guide table that u falls in
        first, after = guided_span(routes, packed, u)
        low, high = start + first, start + after
    end = routes.entry_cumulative.shape[0] - 1
    counted = low + _short_count(
        routes.entry_cumulative[min(low, end)],
        routes.entry_cumulative[min(low + 1, end)],
        routes.entry_cumulative[min(low + 2, end)],
        high - low,
        u,
    )
    short = high - low <= SHORT_SPAN
    low, high = (counted, counted) if short else (low, high)
    while low < high:
        middle = (low + high) >> 1
        if routes.entry_cumulative[middle] <= u:
            low = middle + 1
        else:
            high = middle
    return int(routes.entry_targets[min(low, last)])
