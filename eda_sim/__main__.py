"""``python -m eda_sim`` and the ``eda-sim`` command: the entry point (layer 7).

Signals are handled from the first line: during start-up (importing the package
and its libraries takes a moment) a Ctrl-C, SIGTERM or SIGHUP exits at once with
code 130 and prints nothing, as there is nothing to keep yet; then
:mod:`eda_sim.cli.signals` takes over for the command itself.
"""

import contextlib
import os
import signal
import sys

__all__ = ["main"]

#: Exit code of an interrupted command (128 + SIGINT).
_INTERRUPTED = 130


def _during_start_up(number: int, frame: object) -> None:
    os._exit(_INTERRUPTED)


def main() -> None:
    """Run the ``eda-sim`` command line (``sys.argv``) and exit with its code."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, _during_start_up)
    try:
        from eda_sim.cli.app import main as run_command_line
        from eda_sim.cli.signals import install
    except KeyboardInterrupt:  # pragma: no cover - a signal before the handler was set
        sys.exit(_INTERRUPTED)
    install()
    try:
        run_command_line()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    else:  # pragma: no cover - the command line always exits
        code = 0
    # A failed or interrupted command leaves at once: nothing of it is left to clean
    # up, and the clean-up of half-made library objects (a Dask client that never
    # connected waits 10 s in its finaliser) and of stopped pools could only delay.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if code != 0:
        os._exit(code)
    sys.exit(0)


if __name__ == "__main__":
    main()
