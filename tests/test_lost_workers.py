"""A worker process that dies under a run (issue 16: long runs never lose finished work).

In-process tests of :func:`eda_sim.run` on a real pool of 2 worker processes, whose
replication 3 kills its own worker with SIGKILL (as the out-of-memory killer does):

* once: the replication runs again on a fresh worker, on the same random streams,
  and the result is identical to an undisturbed run (a note says what happened);
* every time: the run stops with :class:`WorkerLostError` naming the worker and the
  replication, and carries the replications that finished, marked partial.

The same through the real command, with a worker killed from outside, is in
``tests/test_interruptions.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from eda_sim.engine.records import ReplicationResult
from eda_sim.experiment import execution, run
from eda_sim.experiment.executors import WorkerLostError
from eda_sim.experiment.worker_pool import LostWorker, WorkerPool
from eda_sim.results import RunResult
from eda_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
MM1 = load_scenario(ROOT / "scenarios" / "mm1.yaml")
SETTINGS: dict[str, Any] = {
    "replications": 8,
    "horizon": 400.0,
    "warmup": 40.0,
    "engine": "simpy",
}
#: The replication whose worker dies.
DOOMED = 3
_replicate = execution.replicate


def _dies(scenario: Any, index: int, *arguments: Any) -> ReplicationResult:
    """``replicate``, but replication ``DOOMED`` kills its worker: once if the file named by
    ``EDA_SIM_TEST_DIE_ONCE`` can still be created, always without it."""
    if index == DOOMED:
        marker = os.environ.get("EDA_SIM_TEST_DIE_ONCE")
        if marker is None:
            os.kill(os.getpid(), signal.SIGKILL)
        try:
            Path(marker).touch(exist_ok=False)
        except FileExistsError:
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return _replicate(scenario, index, *arguments)


def _figures(result: RunResult) -> dict[str, Any]:
    document = result.to_dict()
    document.pop("notes")
    return document


def test_a_lost_replication_runs_again_and_the_result_is_that_of_an_undisturbed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    undisturbed = run(MM1, workers=2, **SETTINGS)
    monkeypatch.setenv("EDA_SIM_TEST_DIE_ONCE", str(tmp_path / "died"))
    monkeypatch.setattr(execution, "replicate", _dies)
    disturbed = run(MM1, workers=2, **SETTINGS)
    assert (tmp_path / "died").exists(), "the worker never died"
    assert not disturbed.partial and disturbed.replications == 8
    assert _figures(disturbed) == _figures(undisturbed)
    said = [note for note in disturbed.notes if "SIGKILL" in note]
    assert len(said) == 1, disturbed.notes
    assert f"was killed by SIGKILL while it ran replication {DOOMED}" in said[0]
    assert "identical to an undisturbed run" in said[0]


def test_a_replication_whose_worker_dies_twice_ends_the_run_with_what_finished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EDA_SIM_TEST_DIE_ONCE", raising=False)
    monkeypatch.setattr(execution, "replicate", _dies)
    with pytest.raises(WorkerLostError) as raised:
        run(MM1, workers=2, **SETTINGS)
    message = str(raised.value)
    assert f"while it ran replication {DOOMED}" in message
    assert "for the second time" in message and "\n" not in message
    partial = raised.value.partial
    assert isinstance(partial, RunResult) and partial.partial
    assert 0 < partial.replications < 8
    kept = {r.replication for r in partial.replication_results}
    assert DOOMED not in kept
    assert any(note.startswith("stopped early: ") for note in partial.notes)


def _kill_own_worker() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _complain() -> int:
    print("Process ForkProcess-4:", file=sys.stderr, flush=True)
    return 1


def test_a_worker_writes_nothing_to_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    """The parent's one line is all a user sees: a worker's stderr goes nowhere."""
    pool = WorkerPool(2)
    try:
        assert [pool.submit(_complain).result(timeout=30) for _ in range(4)] == [1] * 4
    finally:
        pool.stop()
    assert "ForkProcess" not in capfd.readouterr().err


def test_a_dead_worker_is_named_with_its_task() -> None:
    pool = WorkerPool(2)
    try:
        workers = {pool.submit(os.getpid).result(timeout=30) for _ in range(20)}
        doomed = pool.submit(_kill_own_worker)
        with pytest.raises(BrokenProcessPool):
            doomed.result(timeout=30)
        lost = pool.lost_workers()
        assert len(lost) == 1 and lost[0].pid in workers
        assert lost[0].how() == "was killed by SIGKILL"
        assert lost[0].future is doomed
        pool.renew()
        assert pool.submit(int, "7").result(timeout=30) == 7 and pool.renewals == 1
        assert pool.lost_workers() == []
    finally:
        pool.stop()
    assert LostWorker(1, 3, None).how() == "exited with code 3"


#: A command's process (its signal handlers installed) whose workers are each sent
#: SIGTERM and SIGINT the moment they start, before they can ignore them, as a pool's
#: ``terminate`` or a Ctrl-C to the process group can; every task must still run.
_SIGNALLED_AT_START = """
import os, signal, sys, time
from eda_sim.cli import signals
from eda_sim.experiment import worker_pool

signals.install()
start = worker_pool._worker_start

def signalled_start(*arguments):
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    start(*arguments)

worker_pool._worker_start = signalled_start
pool = worker_pool.WorkerPool(2)
try:
    print(sorted(pool.submit(int, str(i)).result(timeout=60) for i in range(4)))
finally:
    pool.stop()
"""


def test_a_signal_before_a_worker_ignores_it_is_held_and_discarded() -> None:
    """No handler of the command runs in a worker: no traceback, no broken pool."""
    done = subprocess.run(
        [sys.executable, "-c", _SIGNALLED_AT_START],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == "[0, 1, 2, 3]"
