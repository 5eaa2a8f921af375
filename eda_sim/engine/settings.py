"""What both engines share about one replication: its settings and the size of what it keeps.

Neither SimPy nor numba is imported here: the fast engine's driver and the SimPy
engine read the same constants, so that they measure the same things.
"""

from __future__ import annotations

from dataclasses import dataclass

from eda_sim.engine.records import ReplicationResult, mser_cut
from eda_sim.scenario import Scenario
from eda_sim.stats import MSER_BATCH

__all__ = [
    "COUNT_WINDOW_ARRIVALS",
    "MAX_GAP_SAMPLE",
    "PATH_INTERVALS",
    "ReplicationSettings",
    "sketch_cuts",
    "with_automatic_warmup",
]

#: Expected external arrivals per counting window of the Poisson check.
COUNT_WINDOW_ARRIVALS = 5.0
#: Inter-arrival gaps kept per class and replication for the exponential check.
MAX_GAP_SAMPLE = 2000
#: Intervals of the regular grid on which the sample path is kept (bounded memory;
#: MSER-5 reads batches of five of them, batch means merges them into 20 or more).
PATH_INTERVALS = 500


def sketch_cuts(batch_means: bool = False, later_starts: bool = True) -> tuple[int, ...]:
    """The grid points at which a replication cuts its percentile sketches into chunks.

    Replication/deletion with a warm-up chosen after the run (``later_starts``)
    needs the windows from every warm-up MSER-5 can choose to the end: MSER-5
    cuts at a multiple of :data:`~eda_sim.stats.MSER_BATCH` grid intervals within
    the first half of the run (:func:`eda_sim.stats.mser`), so the chunks end
    there (50 cuts, whatever the horizon). Batch means may cut the part after any
    warm-up into batches at any grid point: every one is a cut. A run whose
    warm-up is fixed measures one window only: no grid cuts (each cut costs a
    pass over the chunk's counters, and the result a merge of every chunk). A
    fixed warm-up adds its own cut (:data:`~eda_sim.stats.chunks.WARMUP_LABEL`).
    """
    if batch_means:
        return tuple(range(1, PATH_INTERVALS))
    if not later_starts:
        return ()
    return tuple(range(MSER_BATCH, PATH_INTERVALS // 2 + 1, MSER_BATCH))


@dataclass(frozen=True)
class ReplicationSettings:
    """The horizon, warm-up and seed of one replication, resolved against the scenario.

    ``automatic`` is True when the warm-up is chosen after the run (``warmup:
    auto`` and no warm-up given): the replication then measures from 0 and cuts
    its own sample path by MSER-5 (:func:`with_automatic_warmup`). ``cuts`` are
    the grid points where the percentile sketches are cut (:func:`sketch_cuts`).
    """

    replication: int
    horizon: float
    warmup: float
    seed: int
    automatic: bool
    cuts: tuple[int, ...] = sketch_cuts()

    @classmethod
    def resolve(
        cls,
        scenario: Scenario,
        replication: int,
        horizon: float | None,
        warmup: float | None,
        seed: int | None,
        batch_means: bool = False,
        later_starts: bool = True,
    ) -> ReplicationSettings:
        """The given values, or the scenario's run settings where one is None.

        ``batch_means`` cuts the sketches at every grid point, ``later_starts``
        (a warm-up that may still be chosen after the run) at MSER-5's
        (:func:`sketch_cuts`).

        Raises
        ------
        ValueError
            Unless ``0 <= warmup < horizon``.
        """
        settings = cls(
            replication=replication,
            horizon=scenario.run.horizon if horizon is None else float(horizon),
            warmup=scenario.run.warmup_time if warmup is None else float(warmup),
            seed=scenario.run.seed if seed is None else int(seed),
            automatic=warmup is None and scenario.run.warmup == "auto",
            cuts=sketch_cuts(batch_means, later_starts),
        )
        if not 0 <= settings.warmup < settings.horizon:
            raise ValueError(
                f"need 0 <= warmup < horizon, got warmup={settings.warmup}, "
                f"horizon={settings.horizon}"
            )
        return settings


def with_automatic_warmup(
    result: ReplicationResult, settings: ReplicationSettings
) -> ReplicationResult:
    """``result`` re-measured from its own MSER-5 cut when the warm-up is automatic."""
    if not settings.automatic or result.path is None:
        return result
    cut, _ = mser_cut([result.path])
    return result.truncated(cut) if cut else result
