"""Many ``eda-sim`` commands from one warm interpreter: a fresh forked process each.

A ``python -m eda_sim ...`` subprocess spends about a second importing NumPy,
pydantic, SciPy and the package before the command does anything; a corpus of a
hundred bad inputs spends most of its time there. A :class:`CommandForks` starts
one interpreter (``python -c SERVER``) that imports those modules once, without
running anything, and then forks one child per command. The child is a process of
its own — its exit code, stdout and stderr (pipes, as ``subprocess.run`` gives
them), stdin ``/dev/null``, working folder, resource limits and signal handlers —
and runs the package's ``__main__`` module with :func:`runpy.run_module` as
``python -m eda_sim ARGS`` does after its imports (``sys.argv[0]`` the module's
file, ``__main__`` of package ``eda_sim``), and ends as that would: through
``os._exit`` for a failed command, or the interpreter's exit (its ``atexit``
work, an uncaught exception's traceback and code 1).

What a forked child does not repeat is the start-up itself: importing the
package under the command's resource limits and signal handling during the
imports. ``tests/test_startup.py``, ``tests/test_interruptions.py``
(``test_ctrl_c_during_start_up_exits_quietly``) and the real-process sample of
``tests/test_hostile_inputs.py`` (which checks that a fork and ``python -m
eda_sim`` give the same outcome) cover those.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parent.parent

#: Modules a ``run``, ``sweep``, ``validate`` or ``theory`` command imports, loaded once
#: in the server (imported only: nothing runs, no cache is filled, no thread starts).
PRELOAD = (
    "eda_sim.cli.app",
    "eda_sim.cli.run_command",
    "eda_sim.cli.sweep_command",
    "eda_sim.cli.theory_tables",
    "eda_sim.experiment",
    "eda_sim.engine.simpy",
    "eda_sim.kolmogorov",
    "eda_sim.results",
    "eda_sim.theory",
    "eda_sim.theory.percentiles",
    "eda_sim.theory.scenario",
)
#: :data:`PRELOAD` and what writing an HTML report imports (matplotlib through the plots):
#: for the servers of commands that write reports (``--report``, ``eda-sim report``).
REPORT_PRELOAD = (*PRELOAD, "eda_sim.plots", "eda_sim.report")

#: The server: reads one JSON request a line on stdin, forks, answers one JSON line.
SERVER = r"""
import importlib, json, os, resource, runpy, selectors, signal, sys, threading, time

for name in sys.argv[1:]:
    try:  # loading ahead only saves time: a module renamed since is loaded when used
        importlib.import_module(name)
    except ModuleNotFoundError:
        pass
if threading.active_count() != 1:
    raise SystemExit("command_forks: a preloaded module started a thread; cannot fork")


def collect(pid, pipes, deadline):
    # Both pipes to their end (as subprocess.communicate), then the exit status.
    chunks = {fd: [] for fd in pipes}
    selector = selectors.DefaultSelector()
    for fd in pipes:
        selector.register(fd, selectors.EVENT_READ)
    timed_out = False
    while selector.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        for key, _ in selector.select(left):
            data = os.read(key.fd, 65536)
            if data:
                chunks[key.fd].append(data)
            else:
                selector.unregister(key.fd)
    for fd in pipes:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), [b"".join(chunks[fd]) for fd in pipes], timed_out


def child(request, out_write, err_write):
    os.chdir(request["cwd"])
    for name, value in request["limits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_write, 1)
    os.dup2(err_write, 2)
    for fd in (devnull, out_write, err_write):
        os.close(fd)
    sys.argv = ["", *request["args"]]  # run_module sets argv[0] to the module's file
    runpy.run_module("eda_sim", run_name="__main__", alter_sys=True)


def serve():
    while True:
        line = sys.stdin.readline()
        if not line:
            return None
        request = json.loads(line)
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(out_read)
            os.close(err_read)
            return request, out_write, err_write
        os.close(out_write)
        os.close(err_write)
        deadline = started + request["timeout"]
        code, (out, err), timed_out = collect(pid, [out_read, err_read], deadline)
        answer = {
            "returncode": code,
            "stdout": out.decode("utf-8", "replace"),
            "stderr": err.decode("utf-8", "replace"),
            "seconds": time.monotonic() - started,
            "timed_out": timed_out,
        }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


forked = serve()
if forked is not None:
    child(*forked)
"""


@dataclass(frozen=True)
class Finished:
    """What a command did: as ``subprocess.run(..., capture_output=True, text=True)`` says."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float  # from the fork to the end of both pipes


class CommandForks:
    """One warm server process; :meth:`run` forks a fresh ``eda-sim`` process per command."""

    def __init__(self, env: Mapping[str, str] | None = None, preload: Sequence[str] = PRELOAD):
        self._server = subprocess.Popen(
            [sys.executable, "-c", SERVER, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=dict(os.environ if env is None else env),
        )

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path = ROOT,
        limits: Mapping[str, int] | None = None,
        timeout: float = 120.0,
    ) -> Finished:
        """Run ``eda-sim ARGS`` in a forked child; ``limits``: ``{"RLIMIT_AS": bytes, ...}``.

        Raises :class:`subprocess.TimeoutExpired` (the child killed) past ``timeout``
        seconds, as :func:`subprocess.run` does.
        """
        assert self._server.stdin is not None and self._server.stdout is not None
        request = {"args": list(args), "cwd": str(cwd), "limits": dict(limits or {})}
        request["timeout"] = timeout
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        line = self._server.stdout.readline()
        if not line:
            raise RuntimeError(f"the command server ended (exit code {self._server.wait()})")
        answer = json.loads(line)
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired(["eda-sim", *args], timeout, answer["stdout"])
        return Finished(answer["returncode"], answer["stdout"], answer["stderr"], answer["seconds"])

    def close(self) -> None:
        """End the server (its children have all been waited for)."""
        if self._server.stdin is not None:
            self._server.stdin.close()
        try:
            self._server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._server.kill()
            self._server.wait()
        if self._server.stdout is not None:
            self._server.stdout.close()


@contextmanager
def command_servers(
    count: int, env: Mapping[str, str] | None = None
) -> Iterator[Queue[CommandForks]]:
    """``count`` servers in a queue: a thread takes one, runs a command, puts it back."""
    servers: Queue[CommandForks] = Queue()
    made = [CommandForks(env) for _ in range(count)]
    for server in made:
        servers.put(server)
    try:
        yield servers
    finally:
        for server in made:
            server.close()


def run_on(servers: Queue[CommandForks], args: Sequence[str], **options: object) -> Finished:
    """Run one command on whichever server of ``servers`` is free."""
    server = servers.get()
    try:
        return server.run(args, **options)  # type: ignore[arg-type]
    finally:
        servers.put(server)


_shared: dict[tuple[str, ...], CommandForks] = {}
_shared_lock = threading.Lock()


def eda_sim_forked(
    *args: str, cwd: Path = ROOT, timeout: float = 300.0, preload: Sequence[str] = PRELOAD
) -> subprocess.CompletedProcess[str]:
    """``eda-sim ARGS`` as ``subprocess.run([python, -m, eda_sim, ...], capture_output=True,
    text=True, cwd=cwd)`` returns it, forked from one server shared by the test process.

    The server (one per ``preload``: :data:`REPORT_PRELOAD` for commands that write
    reports) is started at the first call, with the environment of that moment
    (a test that changes the environment for its command runs its own process), and
    ends with the test process. One command at a time.
    """
    key = tuple(preload)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = CommandForks(preload=key)
            atexit.register(_shared[key].close)
        done = _shared[key].run(args, cwd=cwd, timeout=timeout)
    return subprocess.CompletedProcess(
        ["eda-sim", *args], done.returncode, done.stdout, done.stderr
    )
