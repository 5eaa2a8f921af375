"""A sweep stopped in the middle of a point keeps that point's finished replications (issue 16).

In-process tests of :func:`eda_sim.sweep`:

* a Ctrl-C (``KeyboardInterrupt`` raised where replication 2 of the second point
  would run, in this process) returns the finished point, the second one marked
  ``partial`` with the replications that finished (its rows, CSV and JSON), and a
  checkpoint holding them; ``resume`` runs only the other replications of that
  point, then the rest, and the result is bit for bit an uninterrupted sweep's;
* a replication whose worker dies twice (``tests/test_lost_workers.py``'s
  self-killing replication, on a real pool of 2 workers) raises
  :class:`WorkerLostError` whose ``partial`` sweep holds the point cut short; the
  resumed sweep again equals an uninterrupted one;
* a point with a target precision cut short in its second round resumes to the
  rounds, and the numbers, of an uninterrupted sweep.

The same through the real command, with real signals, is in
``tests/test_interruptions.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_lost_workers import DOOMED, _dies

from eda_sim.engine.records import ReplicationResult
from eda_sim.experiment import execution, sweep
from eda_sim.experiment.executors import WorkerLostError
from eda_sim.experiment.sweeps import SweepResult
from eda_sim.report import render_sweep
from eda_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
MM1 = load_scenario(ROOT / "scenarios" / "mm1.yaml")
VALUES = [0.4, 0.6, 0.8]
#: Warm-up ``auto``: the resumed point's MSER-5 cut reads the kept replications' paths.
SETTINGS: dict[str, Any] = {
    "replications": 6,
    "horizon": 400.0,
    "warmup": "auto",
    "engine": "simpy",
}
#: The replication at which the Ctrl-C comes: point 1 (rate 0.6), replication 2.
STOP_AT = (0.6, 2)
_replicate = execution.replicate


def _rate(scenario: Any) -> float:
    return float(scenario.classes[0].arrivals.rate)


def _resume(target: Path, workers: int) -> SweepResult:
    return sweep(
        MM1, "arrivals.rate", VALUES, workers=workers, checkpoint=target, resume=True, **SETTINGS
    )


@pytest.fixture(scope="module")
def uninterrupted() -> SweepResult:
    return sweep(MM1, "arrivals.rate", VALUES, workers=1, **SETTINGS)


def test_ctrl_c_in_a_point_keeps_its_replications_and_resume_runs_only_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninterrupted: SweepResult
) -> None:
    ran: Counter[float] = Counter()

    def interrupted(scenario: Any, index: int, *arguments: Any) -> ReplicationResult:
        if (_rate(scenario), index) == STOP_AT:
            raise KeyboardInterrupt
        ran[_rate(scenario)] += 1
        return _replicate(scenario, index, *arguments)

    target = tmp_path / "ck.jsonl"
    monkeypatch.setattr(execution, "replicate", interrupted)
    first = sweep(MM1, "arrivals.rate", VALUES, workers=1, checkpoint=target, **SETTINGS)
    assert first.partial
    assert [(p.status, p.replications) for p in first.points] == [
        ("ok", 6),
        ("partial", 2),
        ("pending", None),
    ]
    reason = first.points[1].reason
    assert reason is not None and reason.startswith("partial: 2 of 6 replications finished")
    frame = first.frame
    cut = frame[frame.value == 0.6]
    assert set(cut.status) == {"partial"} and set(cut.reason) == {reason}
    assert set(cut[cut.scope == "station"].n) == {2}
    csv = pd.read_csv(pd.io.common.StringIO(first.to_csv()))
    assert set(csv[csv.value == 0.6].status) == {"partial"}
    document = json.loads(first.to_json())
    assert document["points"][1]["status"] == "partial"
    assert document["points"][1]["replications"] == 2
    assert len(target.read_text().splitlines()) == 3  # header, point 0, point 1's two
    page = render_sweep(document)  # the HTML report: the point with its reason
    assert "1 cut short" in page and reason in page

    ran.clear()
    monkeypatch.setattr(execution, "replicate", _counted(ran))
    rest = sweep(
        MM1, "arrivals.rate", VALUES, workers=1, checkpoint=target, resume=True, **SETTINGS
    )
    assert ran == {0.6: 4, 0.8: 6}  # only the replications not kept
    assert not rest.partial
    assert rest.to_json() == uninterrupted.to_json()
    assert rest.to_csv() == uninterrupted.to_csv()
    pd.testing.assert_frame_equal(rest.frame, uninterrupted.frame, check_exact=True)


def _counted(ran: Counter[float]) -> Any:
    def counted(scenario: Any, index: int, *arguments: Any) -> ReplicationResult:
        ran[_rate(scenario)] += 1
        return _replicate(scenario, index, *arguments)

    return counted


def test_interrupted_twice_in_one_point_keeps_both_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninterrupted: SweepResult
) -> None:
    """Two partial lines for one point: their replications add up; then the point ends."""
    target = tmp_path / "ck.jsonl"
    for stop in (1, 4):

        def interrupted(scenario: Any, index: int, *arguments: Any, at: int = stop) -> Any:
            if (_rate(scenario), index) == (0.6, at):
                raise KeyboardInterrupt
            return _replicate(scenario, index, *arguments)

        monkeypatch.setattr(execution, "replicate", interrupted)
        again = sweep(
            MM1, "arrivals.rate", VALUES, workers=1, checkpoint=target, resume=stop > 1, **SETTINGS
        )
        assert again.points[1].status == "partial" and again.points[1].replications == stop
    assert len(target.read_text().splitlines()) == 4
    monkeypatch.setattr(execution, "replicate", _replicate)
    rest = sweep(
        MM1, "arrivals.rate", VALUES, workers=1, checkpoint=target, resume=True, **SETTINGS
    )
    assert rest.to_json() == uninterrupted.to_json()
    # the finished point supersedes its partial lines: resuming again runs nothing
    assert (
        sweep(
            MM1, "arrivals.rate", VALUES, workers=1, checkpoint=target, resume=True, **SETTINGS
        ).to_json()
        == uninterrupted.to_json()
    )


def test_a_worker_lost_twice_in_a_point_keeps_its_finished_replications(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uninterrupted: SweepResult
) -> None:
    target = tmp_path / "ck.jsonl"
    monkeypatch.delenv("EDA_SIM_TEST_DIE_ONCE", raising=False)
    monkeypatch.setattr(execution, "replicate", _dies)  # replication 3 of every point dies
    with pytest.raises(WorkerLostError) as raised:
        sweep(MM1, "arrivals.rate", VALUES, workers=2, checkpoint=target, **SETTINGS)
    assert f"while it ran replication {DOOMED} for the second time" in str(raised.value)
    partial = raised.value.partial
    assert isinstance(partial, SweepResult) and partial.partial
    statuses = [point.status for point in partial.points]
    assert statuses == ["partial", "pending", "pending"], statuses
    assert "a worker process died" in str(partial.points[0].reason)
    lines = target.read_text().splitlines()
    assert len(lines) == 2
    numbers = {item["f"]["replication"] for item in json.loads(lines[1])["replications"]}
    # 0 and 1 end before 3 starts (the two workers take them first); 3 never ends
    assert {0, 1} <= numbers and DOOMED not in numbers
    assert partial.points[0].replications == len(numbers)

    monkeypatch.setattr(execution, "replicate", _replicate)
    rest = sweep(
        MM1, "arrivals.rate", VALUES, workers=2, checkpoint=target, resume=True, **SETTINGS
    )
    assert rest.to_csv() == uninterrupted.to_csv()  # every figure, bit for bit
    # The point keeps the note of the worker that died once and whose replication ran again.
    resumed, whole = json.loads(rest.to_json()), json.loads(uninterrupted.to_json())
    added = set(resumed["points"][0]["notes"]) - set(whole["points"][0]["notes"])
    assert added and all("was killed by SIGKILL" in note for note in added)
    resumed["points"][0]["notes"] = whole["points"][0]["notes"]
    assert resumed == whole


def test_a_point_with_a_target_precision_resumes_to_the_same_rounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut short in its second round (replication 40; the first has 30), the point resumes
    with the kept replications taken round by round, so it stops where it would have."""
    base = MM1.with_run(precision=0.1)
    settings: dict[str, Any] = {**SETTINGS, "replications": 4, "horizon": 300.0, "workers": 1}
    whole = sweep(base, "arrivals.rate", [0.6], **settings)
    frame = whole.frame
    assert int(frame[(frame.scope == "station") & (frame.metric == "W")].n.iloc[0]) > 40

    def interrupted(scenario: Any, index: int, *arguments: Any) -> ReplicationResult:
        if index == 40:
            raise KeyboardInterrupt
        return _replicate(scenario, index, *arguments)

    target = tmp_path / "ck.jsonl"
    monkeypatch.setattr(execution, "replicate", interrupted)
    first = sweep(base, "arrivals.rate", [0.6], checkpoint=target, **settings)
    assert first.points[0].status == "partial" and first.points[0].replications == 40
    monkeypatch.setattr(execution, "replicate", _replicate)
    rest = sweep(base, "arrivals.rate", [0.6], checkpoint=target, resume=True, **settings)
    assert rest.to_json() == whole.to_json()
