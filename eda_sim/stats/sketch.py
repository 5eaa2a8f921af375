"""Quantile sketches: log-bucketed histograms with a guaranteed relative accuracy (layer 3).

Percentiles of waits and sojourns are streamed into histograms whose buckets
grow geometrically, in the manner of DDSketch (Masson, Rim & Lee, "DDSketch: a
fast and fully-mergeable quantile sketch with relative-error guarantees", PVLDB
12(12), 2019) with the bit-level index of its "linearly interpolated" mapping
(also HdrHistogram's): a value's bucket is read off its IEEE-754 bits, the
exponent and the first :data:`SUB_BUCKET_BITS` bits of the mantissa, so every
octave ``[2^e, 2^(e+1))`` is cut into 128 buckets of equal width. The index is
exact integer arithmetic on the bits, so numpy, pure Python and numba compute
the same bucket for the same double (no logarithm, no libm).

**The guarantee.** For ``n`` values and a level ``p`` in (0, 1), let
``r = ⌈p·n⌉`` (computed exactly, with ``p`` read as its shortest decimal, so
0.07 is 7/100) and ``x_(r)`` the ``r``-th smallest value (the ``inverted_cdf``
quantile of numpy, Hyndman & Fan's type 1). :meth:`Histogram.quantile` returns
``q̂ = 0`` exactly when ``x_(r) = 0`` (zeros have a bucket of their own) and
otherwise

    ``|q̂ − x_(r)| ≤ α · x_(r)``,  ``α = 1/257 ≈ 0.389 %`` (below 0.5 %),

for every ``x_(r) ≥ 2^−1022`` (a normal double; below that, in the subnormal
range, the buckets are not relatively narrow). The bucket holding ``x_(r)`` is
found exactly from the counts, and the value reported is the bucket's point
``2·lo·hi/(lo + hi)``, whose relative distance to any point of ``[lo, hi)`` is
at most ``(hi − lo)/(hi + lo) ≤ (1/128)/(2 + 1/128) = 1/257``.

**Collapsed low buckets.** A histogram may carry a *floor* (a bucket index,
0 for none): the positive values below it were folded into the floor's bucket,
DDSketch's "collapsing lowest" store (Masson, Rim & Lee 2019, section 2.2),
which keeps memory bounded however far down the smallest values reach
(:mod:`eda_sim.stats.collapse` says where the engines put it). The counts of
every bucket above the floor stay exact, and the number of values in the floor's
bucket or below is exact, so for a rank ``r``: if ``x_(r) = 0`` the quantile is
0; if ``x_(r)`` lies above the floor's bucket the guarantee above holds
unchanged; otherwise (``x_(r)`` in the floor's bucket or below, which the counts
tell exactly) :meth:`Histogram.quantile` returns NaN and
:meth:`Histogram.collapsed` says so: such a quantile is never reported as
accurate.

**Memory.** A histogram keeps one count per non-empty bucket: at most 128 per
octave spanned by its values (about 2,000 for values over 15 decades), however
many values it holds, and no more than the octaves from its floor up. Histograms
merge by adding counts, exactly (floors: the highest of the parts'), so the
histogram of a union (replications pooled, chunks of a run joined) is the
histogram of the merged values, and its quantiles carry the same guarantee.

:mod:`eda_sim.stats.chunks` streams many histograms at once, kept per chunk of
a run (:class:`~eda_sim.stats.chunks.SketchBank`,
:class:`~eda_sim.stats.chunks.ChunkedSketches`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from eda_sim.stats.merging import MERGE_BATCH, combine_counts, combine_sorted

__all__ = [
    "BUCKET_BITS",
    "MERGE_BATCH",
    "RELATIVE_ACCURACY",
    "SUB_BUCKET_BITS",
    "Histogram",
    "bucket_bounds",
    "bucket_of",
    "bucket_value",
    "combine_counts",
    "combine_sorted",
    "fold_below",
    "quantile_rank",
    "quantile_ranks",
    "sketch_bounds",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Mantissa bits in a bucket index: 2**7 = 128 buckets per octave.
SUB_BUCKET_BITS = 7
_SHIFT = 52 - SUB_BUCKET_BITS
#: Bits of a bucket index (bucket 0 is exact zero; positive doubles use 1 .. 2**18).
BUCKET_BITS = 19
#: The relative accuracy of every reported quantile (see the module docstring).
RELATIVE_ACCURACY = 1.0 / (2 ** (SUB_BUCKET_BITS + 1) + 1)
_BUCKET_MASK = (1 << BUCKET_BITS) - 1
_LARGEST = float(np.finfo(np.float64).max)


def bucket_of(values: npt.ArrayLike) -> IntArray:
    """The bucket of each value ``>= 0``: 0 for exact zero, else ``1 + (bits >> 45)``.

    ``bits`` is the value's IEEE-754 binary64 pattern read as an integer, which
    orders positive doubles as their values, so the buckets do too.

    Raises
    ------
    ValueError
        For a negative, infinite or NaN value.

    Examples
    --------
    >>> bucket_of([0.0, 1.0, 1.004, 1.01, 2.0]).tolist()
    [0, 130945, 130945, 130946, 131073]
    """
    data = np.ascontiguousarray(values, dtype=np.float64)
    if data.size and not (np.all(data >= 0.0) and np.all(np.isfinite(data))):
        raise ValueError("sketched values must be finite and >= 0")
    bits = data.view(np.int64)
    return np.where(data > 0.0, (bits >> _SHIFT) + 1, 0).astype(np.int64)


def bucket_bounds(buckets: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The half-open range ``[lo, hi)`` of each bucket (``[0, 0]`` for bucket 0)."""
    index = np.asarray(buckets, dtype=np.int64)
    positive = np.maximum(index - 1, 0)
    low = (positive << _SHIFT).view(np.float64)
    high = ((positive + 1) << _SHIFT).view(np.float64)
    high = np.minimum(high, _LARGEST)  # the top bucket would end at +inf
    zero = index == 0
    return np.where(zero, 0.0, low), np.where(zero, 0.0, high)


def bucket_value(buckets: npt.ArrayLike) -> FloatArray:
    """The value reported for each bucket: ``2·lo·hi/(lo + hi)``, 0 for bucket 0."""
    low, high = bucket_bounds(buckets)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = low * (2.0 / (1.0 + low / high))  # 2·lo·hi/(lo + hi) without overflow
    return np.where(high > 0, value, 0.0)


def quantile_rank(level: float, count: int) -> int:
    """``⌈p·n⌉`` computed exactly, ``p`` read as its shortest decimal (1 <= rank <= n).

    Examples
    --------
    >>> quantile_rank(0.07, 100), quantile_rank(0.5, 3), quantile_rank(0.999, 10)
    (7, 2, 10)
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"a quantile level must be in (0, 1), got {level!r}")
    if count < 1:
        raise ValueError(f"need at least one value, got {count}")
    return max(1, math.ceil(Fraction(repr(float(level))) * count))


@functools.lru_cache(maxsize=256)
def _level_ratio(level: float) -> tuple[int, int]:
    """A level as the exact fraction of its shortest decimal: (numerator, denominator)."""
    ratio = Fraction(repr(float(level)))
    if not 0 < ratio < 1:
        raise ValueError(f"a quantile level must be in (0, 1), got {level!r}")
    return ratio.numerator, ratio.denominator


def quantile_ranks(level: float, counts: IntArray) -> IntArray:
    """:func:`quantile_rank` for many counts at once (0 where a count is 0), exactly."""
    numerator, denominator = _level_ratio(float(level))
    largest = int(counts.max()) if counts.size else 0
    if numerator * largest < 2**62 and denominator < 2**62:  # ⌈a·n/b⌉ in int64, no overflow
        return np.asarray(-((-numerator * counts) // denominator), dtype=np.int64)
    return np.array(
        [-((-numerator * int(n)) // denominator) for n in counts.tolist()], dtype=np.int64
    )


def sketch_bounds(keys: IntArray, size: int) -> IntArray:
    """Where each sketch's segment of the sorted combined ``keys`` starts: ``size + 1`` bounds.

    Sketch ``s``'s keys are ``keys[bounds[s]:bounds[s + 1]]``. A key is ``sketch
    << BUCKET_BITS | bucket`` with ``bucket < 2**BUCKET_BITS``, so the first key
    of sketch ``s`` or later is the first key at or above ``s << BUCKET_BITS``:
    the keys are searched as they are, with no array of their sketches made
    (at 1,000 stations a replication's chunk holds about a million keys).
    """
    starts = np.arange(size + 1, dtype=np.int64) << BUCKET_BITS
    bounds: IntArray = np.searchsorted(keys, starts, side="left")
    return bounds


def fold_below(keys: IntArray, counts: IntArray, floors: IntArray) -> tuple[IntArray, IntArray]:
    """Each sketch's positive buckets below its floor folded into the floor's bucket.

    ``keys`` (``sketch << BUCKET_BITS | bucket``) sorted and unique; ``floors[sketch]``
    a bucket index (0: nothing folded). The result is sorted and unique: the keys
    below a floor become the floor's key, which sorts right after them.
    """
    if not keys.size or not floors.any():
        return keys, counts
    sketch, bucket = keys >> BUCKET_BITS, keys & _BUCKET_MASK
    floor = floors[sketch]
    low = (bucket > 0) & (bucket < floor)
    if not low.any():
        return keys, counts
    folded = np.where(low, (sketch << BUCKET_BITS) | floor, keys)
    starts = np.flatnonzero(np.concatenate(([True], folded[1:] != folded[:-1])))
    return folded[starts], np.add.reduceat(counts, starts)


@dataclass(frozen=True, eq=False)
class Histogram:
    """Counts of values per bucket (see the module docstring for the buckets and the guarantee).

    ``buckets`` are sorted and unique, ``counts`` positive and of the same length;
    ``floor`` is the bucket the lowest positive values were folded into (0: none;
    no bucket lies strictly between 0 and the floor).

    Examples
    --------
    >>> h = Histogram.of([0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 100.0])
    >>> h.total, h.zeros
    (7, 2)
    >>> h.quantile(0.25)                       # x_(2) = 0
    0.0
    >>> abs(h.quantile(0.5) - 2.0) <= RELATIVE_ACCURACY * 2.0   # x_(4) = 2
    True
    >>> low = h.folded(int(bucket_of([2.5])[0]))      # 1.0 and 2.0 folded in with 2.5's bucket
    >>> low.quantile(0.5), low.collapsed(0.5), low.collapsed(0.9)   # x_(4) = 2 is below
    (nan, True, False)
    """

    buckets: IntArray
    counts: IntArray
    floor: int = 0

    @classmethod
    def of(cls, values: npt.ArrayLike) -> Histogram:
        """The histogram of ``values`` (each finite and >= 0)."""
        index = bucket_of(values)
        if not index.size:
            return cls.empty()
        buckets, counts = np.unique(index, return_counts=True)
        return cls(buckets.astype(np.int64), counts.astype(np.int64))

    @classmethod
    def empty(cls) -> Histogram:
        """A histogram of no values."""
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))

    @classmethod
    def merged(cls, histograms: Iterable[Histogram]) -> Histogram:
        """The histogram of all the values of ``histograms`` together (floor: the highest)."""
        parts = list(histograms)
        buckets, counts = combine_sorted([h.buckets for h in parts], [h.counts for h in parts])
        floor = max((h.floor for h in parts), default=0)
        return cls(buckets, counts).folded(floor) if floor else cls(buckets, counts)

    def folded(self, floor: int) -> Histogram:
        """The positive values below bucket ``floor`` folded into it (a floor never falls)."""
        floor = max(int(floor), self.floor)
        if floor <= 0:
            return self
        buckets, counts = fold_below(self.buckets, self.counts, np.array([floor], np.int64))
        return Histogram(buckets, counts, floor)

    def __add__(self, other: Histogram) -> Histogram:
        return Histogram.merged((self, other))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return (
            self.floor == other.floor
            and np.array_equal(self.buckets, other.buckets)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside

    @property
    def total(self) -> int:
        """How many values."""
        return int(self.counts.sum())

    @property
    def zeros(self) -> int:
        """How many values were exactly 0."""
        return int(self.counts[0]) if self.buckets.size and self.buckets[0] == 0 else 0

    def quantile(self, level: float) -> float:
        """The ``level`` quantile within the stated relative accuracy.

        NaN when empty, and when the quantile lies in the collapsed buckets
        (:meth:`collapsed`): there it is not known to that accuracy.
        """
        bucket = self._quantile_bucket(level)
        if bucket < 0 or 0 < bucket <= self.floor:
            return math.nan
        return float(bucket_value(np.array([bucket]))[0])

    def collapsed(self, level: float) -> bool:
        """Whether the ``level`` quantile lies in the floor's bucket or below (folded)."""
        return 0 < self._quantile_bucket(level) <= self.floor

    def _quantile_bucket(self, level: float) -> int:
        """The bucket holding the ``level`` quantile's rank (-1 when empty)."""
        total = self.total
        if total == 0:
            return -1
        rank = quantile_rank(level, total)
        position = int(np.searchsorted(np.cumsum(self.counts), rank, side="left"))
        return int(self.buckets[position])

    def quantiles(self, levels: Sequence[float]) -> tuple[float, ...]:
        """:meth:`quantile` at each of ``levels``."""
        return tuple(self.quantile(level) for level in levels)

    def mean_bounds(self) -> tuple[float, float]:
        """Bounds on the mean of the values from their buckets (NaN when empty).

        A folded value may lie anywhere above 0 and below the floor bucket's end.
        """
        total = self.total
        if total == 0:
            return math.nan, math.nan
        low, high = bucket_bounds(self.buckets)
        low = np.where(self.buckets == self.floor, 0.0, low) if self.floor else low
        return float(low @ self.counts) / total, float(high @ self.counts) / total

    def ccdf(self) -> tuple[FloatArray, FloatArray]:
        """``(x, P(X > x))`` at the upper edge of every non-empty bucket (for plots).

        At a bucket's upper edge the share of values above it is exact (no value
        of that bucket or below exceeds it; folded values lie below the floor's).
        """
        total = self.total
        if total == 0:
            return np.zeros(0), np.zeros(0)
        _, high = bucket_bounds(self.buckets)
        above = (total - np.cumsum(self.counts)) / total
        return high, above

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the bucket indices and their counts (and the floor, if any)."""
        data: dict[str, Any] = {"buckets": self.buckets.tolist(), "counts": self.counts.tolist()}
        if self.floor:
            data["floor"] = self.floor
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        """The histogram written by :meth:`to_dict`.

        Raises
        ------
        ValueError
            Unless the buckets are sorted, unique, within range, the counts positive
            and no bucket lies between 0 and the floor.
        """
        buckets = np.asarray(data.get("buckets", []), dtype=np.int64)
        counts = np.asarray(data.get("counts", []), dtype=np.int64)
        floor = data.get("floor", 0)
        if not isinstance(floor, int) or isinstance(floor, bool) or not 0 <= floor < 1 << 18:
            raise ValueError(f"a histogram's floor must be a bucket index, got {floor!r}")
        if (
            buckets.ndim != 1
            or buckets.shape != counts.shape
            or np.any(np.diff(buckets) <= 0)
            or np.any(counts <= 0)
            or np.any(buckets < 0)
            or np.any(buckets >= 1 << BUCKET_BITS)
            or np.any((buckets > 0) & (buckets < floor))
        ):
            raise ValueError("a histogram needs sorted unique buckets and positive counts")
        return cls(buckets, counts, floor)
