"""Which engine runs a scenario, and getting the fast one ready (layer 5).

Both engines give the same numbers, bit for bit (``tests/test_fast_engine.py``),
so the choice is only about time. ``engine="auto"`` (the default of
:func:`~eda_sim.experiment.runner.run`, of sweeps and of ``eda-sim run``/``sweep``)
runs the fast engine when numba is installed and the run is long enough for it
to pay: importing numba and loading the compiled loop from numba's cache costs
about half a second, more than a short run takes on the SimPy engine. So auto
runs the SimPy engine

* when numba is not installed (the ``[fast]`` extra);
* when the scenario uses a mechanism the fast engine does not have yet
  (:data:`eda_sim.engine.fast.support.UNPORTED`; none today);
* when the SimPy engine is expected to need less than :data:`AUTO_FAST_FROM`
  seconds (expected station visits, from the traffic equations, times
  :data:`SIMPY_SECONDS_PER_VISIT`);
* when the fast engine's loop has not been compiled on this machine yet
  (numba's disk cache does not hold it) and the SimPy engine is expected to need
  less than :data:`AUTO_COMPILE_SECONDS`, the one-off compilation: a newcomer's
  first run then takes seconds, not the compilation's twenty (``--engine fast``
  compiles it once, and auto uses it from then on),

and the fast engine otherwise. ``"simpy"`` and ``"fast"`` are used as asked
(``"fast"`` refuses a scenario it cannot run, with the reason). Every result says
which engine ran (``RunResult.engine``, the JSON's ``engine``, the terminal's header).

The first use of the fast engine on a machine compiles its loop (seconds; numba
then caches it on disk, and later processes load it in a fraction of a second):
:func:`prepare_engine` does that before any replication or worker starts, says so
through ``notify`` while it takes long, and returns the compile time only when a
compilation happened.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from eda_sim.errors import Fault, ScenarioError
from eda_sim.scenario import Scenario

__all__ = [
    "AUTO_COMPILE_SECONDS",
    "AUTO_FAST_FROM",
    "ENGINES",
    "NOT_COMPILED",
    "SIMPY_SECONDS_PER_VISIT",
    "EngineChoice",
    "EngineName",
    "choose_engine",
    "compiled_note",
    "fast_loop_cached",
    "numba_installed",
    "prepare_engine",
]

#: What a caller may ask for.
EngineName = Literal["auto", "simpy", "fast"]
ENGINES: tuple[str, ...] = ("auto", "simpy", "fast")
#: Seconds of expected SimPy-engine work from which auto runs the fast engine: more
#: than the fast engine's start (importing numba, loading its cached loop: ~0.5 s).
AUTO_FAST_FROM = 1.0
#: Seconds the first use of the fast engine on a machine takes to compile its loop,
#: rounded up from measurements on a shared 2-core machine (12.5-21 s, the
#: issue-14 notes in NOTES.md and docs/performance.md): auto does not pay it for a
#: run the SimPy engine finishes sooner.
AUTO_COMPILE_SECONDS = 20.0
#: Auto's reason for the SimPy engine while the fast loop is not compiled yet.
NOT_COMPILED = "the fast loop is not compiled yet; --engine fast compiles it once"
#: The SimPy engine's seconds per station visit, rounded up from
#: ``benchmarks/bench_vs_ciw.py`` and ``benchmarks/bench_network_size.py`` (3.7–5 µs).
SIMPY_SECONDS_PER_VISIT = 5e-6
#: Seconds loading the compiled loop may take before ``notify`` says it compiles: loading
#: it from numba's cache takes well under a second (more on a loaded machine), compiling
#: it takes from several seconds to a minute.
_COMPILE_NOTICE_AFTER = 2.5


@dataclass(frozen=True)
class EngineChoice:
    """The engine that runs, and why.

    Attributes
    ----------
    name : {"simpy", "fast"}
        The engine.
    asked : {"auto", "simpy", "fast"}
        What was asked for.
    reason : str
        Why auto chose it (empty when the engine was asked for by name).
    """

    name: Literal["simpy", "fast"]
    asked: str
    reason: str = ""

    def describe(self) -> str:
        """``fast``, ``simpy``, or e.g. ``simpy (auto: a short run)``."""
        if self.asked != "auto":
            return self.name
        return f"{self.name} (auto: {self.reason})" if self.reason else f"{self.name} (auto)"


def numba_installed() -> bool:
    """True when numba can be imported (checked without importing it)."""
    return importlib.util.find_spec("numba") is not None


def choose_engine(
    engine: str, scenarios: Scenario | Sequence[Scenario], replications: int | None = None
) -> EngineChoice:
    """The engine that runs ``scenarios`` (each with its run settings) when ``engine`` is asked.

    Several scenarios (the points of a sweep) get one engine, chosen from their
    work together. ``replications`` is the number of replications of each that the
    estimate counts (default: each scenario's). ``"fast"`` is checked here: it
    raises when numba is missing or a scenario uses a mechanism the fast engine lacks.

    Raises
    ------
    ScenarioError
        With the fault path ``engine``: an unknown engine, or ``"fast"`` that cannot run.
    """
    from eda_sim.engine.fast import MISSING_NUMBA, check_supported

    every = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    if engine not in ENGINES:
        raise ScenarioError(Fault("engine", f"must be auto, simpy or fast, got {engine!r}"))
    if engine == "simpy":
        return EngineChoice("simpy", engine)
    if engine == "fast":
        for scenario in every:
            check_supported(scenario)
        if not numba_installed():
            raise ScenarioError(Fault("engine", MISSING_NUMBA))
        return EngineChoice("fast", engine)
    if not numba_installed():
        return EngineChoice("simpy", engine, "numba is not installed")
    try:
        for scenario in every:
            check_supported(scenario)
    except ScenarioError as refused:  # "the fast engine does not support X (where); ..."
        return EngineChoice("simpy", engine, refused.faults[0].message.split(";")[0])
    from eda_sim.scenario.budgets import expected_visits

    visits = sum(
        expected_visits(scenario)
        * (scenario.run.replications if replications is None else replications)
        for scenario in every
    )
    simpy_seconds = visits * SIMPY_SECONDS_PER_VISIT
    if simpy_seconds < AUTO_FAST_FROM:
        return EngineChoice("simpy", engine, "a short run")
    if simpy_seconds < AUTO_COMPILE_SECONDS and not fast_loop_cached():
        return EngineChoice("simpy", engine, NOT_COMPILED)
    return EngineChoice("fast", engine)


def fast_loop_cached() -> bool:
    """Whether the fast engine can start without compiling its loop (numba's disk cache holds it).

    Imports numba and the loop's module (about a second), compiles nothing.
    """
    from eda_sim.engine.fast import loop_is_cached

    return loop_is_cached()


def prepare_engine(
    choice: EngineChoice, notify: Callable[[str], None] | None = None
) -> float | None:
    """Load the fast engine's loop (compiling it on its first use); seconds if it compiled.

    Does nothing for the SimPy engine. ``notify`` is called once with a message
    when loading the loop takes longer than a cache load usually does (it is
    probably compiling), so that a command can say why nothing happens yet; the
    message does not claim that it compiles (a cache load on a busy machine can
    take that long too): the seconds returned, from numba's cache statistics, do.
    A later call in the same process finds the loop ready and returns None at
    once (it compiled nothing), so only the run that paid for a compilation says so.
    """
    if choice.name != "fast":
        return None
    from eda_sim.engine.fast import load_kernel, warm_kernel

    load_kernel()  # imports numba and the loop's module (about a second), compiles nothing
    timer = None
    if notify is not None:
        message = (
            "loading the fast engine's loop (on its first use here numba compiles it, for "
            "seconds to a minute, and caches it on disk, so later runs start at once)..."
        )
        timer = threading.Timer(_COMPILE_NOTICE_AFTER, notify, args=(message,))
        timer.daemon = True
        timer.start()
    started = time.perf_counter()
    try:
        compiled = warm_kernel()
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - started if compiled else None


def compiled_note(seconds: float) -> str:
    """The note a run carries when the fast engine's loop was compiled for it."""
    return (
        f"the fast engine compiled its loop in {seconds:.1f} s (its first use here; numba "
        "caches it on disk, so later runs load it at once)"
    )
