"""Settings of the test process itself.

BLAS runs on one thread here, as it does in the ``eda-sim`` command
(:data:`eda_sim.cli.app.BLAS_THREAD_VARIABLES`, unless the environment says
otherwise): the suite's matrices are small, and a threaded OpenBLAS on a busy
two-core machine spins — a 2 x 2 ``scipy.linalg.expm`` took 15 to 33 ms on two
threads and 0.12 ms on one (load 4 to 6), which made the exact-percentile checks
of ``tests/test_theory_percentiles.py`` five times slower. The variables are read
when NumPy loads its BLAS, so they are set before any test module imports NumPy;
subprocesses inherit them, as the command would set them anyway.

Once the tests are collected, everything the test process holds by then (the
imported modules of NumPy, SciPy, pandas, numba, matplotlib, the package and
the test modules, the parameters) is moved out of the garbage collector's sight
(:func:`gc.freeze`): it lives as long as the process, and every full collection
walked all of it again (about 120,000 objects; gc time on ten in-process test
files 1.8-3.3 s -> 1.0 s). Objects the tests make are collected as before.

Hypothesis's derandomised examples depend on the seed alone here. Hypothesis
(6.131 on) also draws, with probability 0.05 per value, from the literals of
every *local* module loaded at that moment (its ``_get_local_constants``: our
package and ``benchmarks/``, not ``tests/``), so a test's examples changed with
which modules the files run before it had imported, and with any literal added
anywhere in the package: ``tests/test_ctmc_property.py`` drew a network whose
solve ran for minutes and past 5 GB when run after one other test file, and
other networks in the whole suite. The hook below gives Hypothesis no local
constants (its own built-in ones stay); ``tests/test_hypothesis_setup.py``
checks that the examples do not change when a module is imported.
"""

from __future__ import annotations

import gc
import os
import sys

from eda_sim.cli.app import BLAS_THREAD_VARIABLES

if "numpy" in sys.modules:  # pragma: no cover - a plugin imported NumPy first
    raise RuntimeError("tests/conftest.py must set the BLAS threads before NumPy is imported")
for _variable in BLAS_THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")


def _no_local_constants() -> None:
    """Give Hypothesis no constants from the loaded modules (see the module docstring).

    Hypothesis has no setting for it, so its provider's source of local
    constants is replaced where it exists; should a later Hypothesis move it,
    ``tests/test_hypothesis_setup.py`` fails and says so.
    """
    from hypothesis.internal.conjecture import providers

    if hasattr(providers, "_get_local_constants"):
        empty = providers.Constants()
        providers._get_local_constants = lambda: empty


_no_local_constants()


def pytest_collection_finish() -> None:
    """Freeze what collection left alive: the full collections of the run skip it."""
    gc.collect()
    gc.freeze()
