"""What the fast engine supports, and loading its compiled loop (no numba needed to import).

:func:`check_supported` refuses a scenario that uses a mechanism the compiled
loop does not have yet (:data:`UNPORTED`: none today), naming the feature and
where it is set; the fast engine never falls back to SimPy silently.
:func:`load_kernel` imports the loop, or refuses with a one-line message naming
the ``[fast]`` extra when numba is missing.

numba caches the compiled loop on disk keyed on ``kernel.py`` alone, not on
the modules whose steps it inlines. :func:`load_kernel` therefore compares their
digest with :data:`eda_sim.engine.fast.kernel.SOURCES_DIGEST`: when a step
module changed since the digest was written (while developing), the loop is
compiled afresh for this process instead of loaded from a stale cache, with a
warning that says which line to update. The loop's other cached functions
(a grid tick inlines the queue's ``push``) are keyed on their own files only, so
a checkout updated in place (``git pull`` leaves an unchanged file's cache) could
load one compiled from older sources: :func:`purge_stale_caches` removes every
cached function of the fast engine when the stamped digest is not the one they
were made from.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from eda_sim.errors import EdaSimWarning, Fault, ScenarioError
from eda_sim.scenario import Scenario

__all__ = [
    "MISSING_NUMBA",
    "UNPORTED",
    "FeatureFinder",
    "Kernel",
    "check_supported",
    "load_kernel",
    "purge_stale_caches",
    "sources_digest",
]

#: The message when numba is not installed.
MISSING_NUMBA = "the fast engine needs numba: pip install 'eda-sim[fast]'"
_PACKAGE = Path(__file__).resolve().parent
#: The file, in numba's cache folder, naming the digest its cached functions were made from.
_STAMP = "eda_sim_sources.digest"


class Kernel(NamedTuple):
    """The compiled functions the driver calls."""

    run: Callable[..., int]
    snapshot_all: Callable[..., None]


def sources_digest(modules: Sequence[str]) -> str:
    """SHA-256 of the sources of the fast engine's ``modules`` (names without ``.py``), in order."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(name.encode())
        digest.update((_PACKAGE / f"{name}.py").read_bytes())
    return digest.hexdigest()


def load_kernel() -> Kernel:
    """Import the compiled loop, or refuse with a one-line message naming the extra.

    Raises
    ------
    ScenarioError
        With the fault path ``engine`` when numba cannot be imported.
    """
    try:
        kernel = importlib.import_module("eda_sim.engine.fast.kernel")
    except ImportError:
        raise ScenarioError(Fault("engine", MISSING_NUMBA)) from None
    return _fresh(kernel)


def purge_stale_caches(folder: Path, digest: str) -> bool:
    """Remove numba's cached functions in ``folder`` unless they were made from ``digest``.

    The folder's stamp file names the digest of the sources its cached functions
    were compiled from; when it names another (or none), every ``*.nbi``/``*.nbc``
    file there is removed (numba compiles them again on first use) and the stamp
    is rewritten. A folder that cannot be read or written is left as it is.
    Returns whether anything was removed.
    """
    stamp = folder / _STAMP
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    removed = False
    for path in [*folder.glob("*.nbi"), *folder.glob("*.nbc")]:
        try:
            path.unlink()
            removed = True
        except OSError:
            pass
    try:
        if folder.is_dir():
            stamp.write_text(digest)
    except OSError:
        pass
    return removed


@functools.cache
def _fresh(kernel: Any) -> Kernel:
    """The loop from numba's cache, or compiled afresh when its inlined modules changed."""
    digest = sources_digest(kernel.COMPILED_MODULES)
    if digest == kernel.SOURCES_DIGEST:
        # numba's own cache folder for the package (``__pycache__`` beside the
        # sources, or its user-wide folder when that is not writable).
        cache = getattr(getattr(kernel.run_kernel, "_cache", None), "_cache_path", None)
        purge_stale_caches(Path(cache) if cache else _PACKAGE / "__pycache__", digest)
        return Kernel(kernel.run_kernel, kernel.snapshot_all)
    warnings.warn(
        "the fast engine's step modules changed since eda_sim/engine/fast/kernel.py was "
        "stamped, so numba's cached loop may be stale: compiling it afresh for this process; "
        f"set SOURCES_DIGEST = {digest!r} in kernel.py",
        EdaSimWarning,
        stacklevel=3,
    )
    numba = importlib.import_module("numba")
    options = {
        k: v for k, v in kernel.run_kernel.targetoptions.items() if k not in ("cache", "nopython")
    }
    return Kernel(numba.njit(kernel.run_kernel.py_func, **options), kernel.snapshot_all)


#: Finds where a scenario uses one mechanism: the places (``classes.x.routing...``), or none.
FeatureFinder = Callable[[Scenario], list[str]]

#: The mechanisms of the SimPy engine the compiled loop does not have yet, by the
#: name a refusal gives them, each with how to find where a scenario uses it. Empty:
#: the loop has every mechanism (fan-out, blocking, priorities and trace replay
#: included). A mechanism added to the SimPy engine first is listed here until
#: its steps are in the loop, so that ``--engine fast`` refuses it by name rather
#: than running a different model.
UNPORTED: dict[str, FeatureFinder] = {}


def check_supported(scenario: Scenario) -> None:
    """Refuse a scenario that uses what the fast engine lacks (:data:`UNPORTED`), naming it.

    Raises
    ------
    ScenarioError
        One fault (path ``engine``, one line) naming each unsupported feature and
        where it is set.
    """
    found = {feature: where for feature, finder in UNPORTED.items() if (where := finder(scenario))}
    if found:
        features = ", ".join(f"{feature} ({', '.join(where)})" for feature, where in found.items())
        raise ScenarioError(
            Fault("engine", f"the fast engine does not support {features}; use --engine simpy")
        )
