"""Replications on a real Dask cluster give the same numbers as in this process.

A :class:`distributed.LocalCluster` with two worker *processes* (one thread each)
runs the replications through ``run(..., scheduler=ADDRESS)``; the JSON document
must be identical, key for key and bit for bit, to a serial run and to a run on a
local process pool (DESIGN.md: "the same scenario and seed give the same numbers,
bit for bit, whatever the number of workers"). An unreachable scheduler must be
refused quickly, as a :class:`~eda_sim.errors.ScenarioError` from Python and as
one error line with exit code 2 from the command line.

Only loopback addresses are used. The module is skipped when Dask's
``distributed`` package is not installed.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from eda_sim.errors import ScenarioError  # noqa: E402
from eda_sim.experiment import run  # noqa: E402
from eda_sim.experiment.executors import SCHEDULER_TIMEOUT  # noqa: E402
from eda_sim.scenario import Scenario, load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
#: Nothing listens on port 1 of the loopback interface: the connection is refused.
UNREACHABLE = "tcp://127.0.0.1:1"
#: Short runs: four replications of jackson3 take a fraction of a second each way.
SETTINGS = {"replications": 4, "horizon": 3_000.0, "warmup": 300.0, "seed": 7}


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local


@pytest.fixture(scope="module")
def jackson3() -> Scenario:
    return load_scenario(SCENARIOS / "jackson3.yaml")


def test_dask_cluster_gives_the_serial_numbers(
    cluster: distributed.LocalCluster, jackson3: Scenario
) -> None:
    on_dask = run(jackson3, scheduler=cluster.scheduler_address, **SETTINGS).to_dict()
    assert cluster.scheduler.task_prefixes, "no task reached the cluster"
    serial = run(jackson3, workers=1, **SETTINGS).to_dict()
    pooled = run(jackson3, workers=2, **SETTINGS).to_dict()
    assert on_dask["replications"] == 4
    assert on_dask == serial
    assert on_dask == pooled


def test_dask_cluster_with_auto_warmup_and_precision(
    cluster: distributed.LocalCluster, jackson3: Scenario
) -> None:
    """The rounds of a precision run and the MSER-5 cut depend only on the results."""
    settings = {**SETTINGS, "warmup": "auto", "replications": 3, "precision": 0.2}
    on_dask = run(
        jackson3, scheduler=cluster.scheduler_address, max_replications=12, **settings
    ).to_dict()
    serial = run(jackson3, workers=1, max_replications=12, **settings).to_dict()
    assert on_dask["warmup_method"] == "MSER-5"
    assert "precision" in on_dask
    assert on_dask == serial


def test_unreachable_scheduler_is_a_scenario_error(jackson3: Scenario) -> None:
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="scheduler") as caught:
        run(jackson3, scheduler=UNREACHABLE, **SETTINGS)
    elapsed = time.perf_counter() - started
    assert elapsed < SCHEDULER_TIMEOUT + 5.0, f"took {elapsed:.1f} s"
    assert [fault.path for fault in caught.value.faults] == ["scheduler"]
    assert UNREACHABLE in str(caught.value)


def test_cli_unreachable_scheduler_exits_2_with_one_line() -> None:
    started = time.perf_counter()
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "eda_sim",
            "run",
            str(SCENARIOS / "mm1.yaml"),
            "--horizon",
            "2000",
            "--warmup",
            "200",
            "--replications",
            "2",
            "--engine",
            "simpy",  # a timed run names its engine (a fresh checkout has no numba cache)
            "--scheduler",
            UNREACHABLE,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    lines = [line for line in process.stderr.splitlines() if line.strip()]
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("error:") and "scheduler" in lines[0], lines[0]
    assert process.stdout == ""
    # the scheduler timeout plus the interpreter's start-up and imports
    assert elapsed < SCHEDULER_TIMEOUT + 15.0, f"took {elapsed:.1f} s"


def test_cli_a_scheduler_address_that_is_not_dask_exits_2_with_one_line() -> None:
    """Something that answers, but not as a Dask scheduler (here: an HTTP-like reply)."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def answer() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(100)
                    connection.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")

    threading.Thread(target=answer, daemon=True).start()
    try:
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "eda_sim",
                "run",
                str(SCENARIOS / "mm1.yaml"),
                "--replications",
                "2",
                "--horizon",
                "2000",
                "--warmup",
                "200",
                "--engine",
                "simpy",
                "--scheduler",
                f"tcp://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        listener.close()
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr and "Exception ignored" not in process.stderr
    assert process.stderr.splitlines() == [
        f"error: --scheduler: cannot reach a Dask scheduler at 'tcp://127.0.0.1:{port}' "
        f"within {SCHEDULER_TIMEOUT:g} s: it answered with something that is not a Dask scheduler"
    ], process.stderr
    assert process.stdout == ""


def test_cli_a_cluster_that_loses_a_replication_is_one_line_and_exit_1() -> None:
    """A Dask worker killed while it runs a replication (no retries allowed): one line, 1."""
    import os
    import signal

    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as local,
    ):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eda_sim",
                "run",
                str(SCENARIOS / "mm1.yaml"),
                "--replications",
                "2",
                "--horizon",
                "5000000",  # each replication takes tens of seconds: killed mid-way
                "--warmup",
                "100",
                "--engine",
                "simpy",
                "--scheduler",
                local.scheduler_address,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(
                task.state == "processing" for task in list(local.scheduler.tasks.values())
            ):
                time.sleep(0.05)
            time.sleep(0.5)  # the worker has begun the replication
            (nanny,) = local.workers.values()
            os.kill(nanny.pid, signal.SIGKILL)
            _, stderr = process.communicate(timeout=120)
        finally:
            process.kill()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: the Dask cluster lost a replication (KilledWorker"), stderr


#: A run whose replications take tens of seconds each, on a scheduler given last.
LONG_RUN = [
    "--replications",
    "2",
    "--horizon",
    "5000000",
    "--warmup",
    "100",
    "--engine",
    "simpy",
    "--scheduler",
]


def _replications_submitted(address: str, deadline: float, command: subprocess.Popen[str]) -> bool:
    """Wait until the scheduler at ``address`` holds tasks (the command's replications).

    False if the deadline passes or the command ends first.
    """
    with distributed.Client(address, timeout=60) as observer:
        while time.monotonic() < deadline and command.poll() is None:
            tasks = observer.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
            if tasks > 0:
                return True
            time.sleep(0.2)
    return False


def test_cli_a_scheduler_that_goes_away_mid_run_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """The scheduler process killed while the run waits for its replications."""
    import json
    import os
    import signal

    address_file = tmp_path / "scheduler.json"
    scheduler_command = ["--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file"]
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            *scheduler_command,
            str(address_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker_command = ["--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--scheduler-file"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", *worker_command, str(address_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        address = ""
        while not address and time.monotonic() < deadline:
            time.sleep(0.1)
            with contextlib.suppress(OSError, ValueError, KeyError):
                address = json.loads(address_file.read_text())["address"]
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eda_sim",
                "run",
                str(SCENARIOS / "mm1.yaml"),
                *LONG_RUN,
                address,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        # Killed once the run's replications are on the scheduler (each takes tens of
        # seconds), not after a fixed sleep: on a loaded machine the command can take
        # longer than any fixed wait to import and connect, and would then be refused.
        assert _replications_submitted(address, time.monotonic() + 120, process)
        assert process.poll() is None, process.communicate()[1]
        os.kill(scheduler.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=120)
    finally:
        for started in (worker, scheduler):  # the worker's nanny stops its worker on SIGTERM
            started.terminate()
            try:
                started.wait(timeout=30)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr.splitlines() == [
        "error: a replication was cancelled before it finished (the Dask scheduler went away?)"
    ], stderr
