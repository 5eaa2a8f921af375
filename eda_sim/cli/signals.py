"""Ctrl-C, SIGTERM and SIGHUP for the ``eda-sim`` command (layer 7).

:func:`install` is called before anything else is imported, so that an interrupt
at any moment behaves the same way:

* the **first** SIGINT (Ctrl-C), SIGTERM or SIGHUP raises :class:`KeyboardInterrupt`
  in the main thread. The experiment layer catches it: it cancels the replications
  that have not started, stops the worker processes at once, keeps every
  replication (or sweep point) that finished, and the command writes them marked
  partial and exits with code 130;
* a **second** signal exits at once with code 130: the temporary files of writes
  in progress are deleted (:func:`eda_sim.files.remove_temporaries`), so nothing
  is left half-written, and no traceback is printed;
* once the command's work is done (:func:`finishing`), any signal exits at once
  too, so an interrupt during the interpreter's shutdown prints nothing;
* exceptions that Python can only report as "Exception ignored in ..." (a
  ``__del__`` failing during clean-up, as Dask's client does after a failed
  connection) are not printed: they are not the user's business.

Worker processes ignore these signals (they die with their parent:
:mod:`eda_sim.experiment.executors`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType
from typing import Any

from eda_sim.files import remove_temporaries

__all__ = ["INTERRUPTED", "finishing", "install", "interrupts_received"]

#: Exit code of an interrupted command (128 + SIGINT), whichever signal it was.
INTERRUPTED = 130

_SIGNALS = tuple(
    number
    for number in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
    if number is not None
)
_state = {"received": 0, "finishing": False}


def interrupts_received() -> int:
    """How many interrupting signals the command has received."""
    return _state["received"]


def exit_now() -> None:
    """Delete the temporary files of writes in progress and exit with code 130 at once."""
    remove_temporaries()
    with contextlib.suppress(OSError):
        os.write(2, b"interrupted again: stopped at once (nothing half-written)\n")
    os._exit(INTERRUPTED)


def _handle(number: int, frame: FrameType | None) -> None:
    _state["received"] += 1
    if _state["received"] > 1 or _state["finishing"]:
        exit_now()
    raise KeyboardInterrupt


def _quiet(unraisable: Any) -> None:  # sys.UnraisableHookArgs
    """Leave unraisable clean-up errors unprinted (``EDA_SIM_DEBUG=1`` shows them)."""
    if os.environ.get("EDA_SIM_DEBUG"):
        sys.__unraisablehook__(unraisable)


def install() -> None:
    """Handle SIGINT, SIGTERM and SIGHUP as described above (main thread only)."""
    for number in _SIGNALS:
        signal.signal(number, _handle)
    sys.unraisablehook = _quiet


def finishing() -> None:
    """The command's work is done: from now on a signal exits at once, quietly."""
    _state["finishing"] = True
