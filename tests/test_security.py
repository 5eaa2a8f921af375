"""Nothing in a scenario is executed, and a run opens no network connection."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from eda_sim.errors import ScenarioError
from eda_sim.experiment import run
from eda_sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize(
    "payload",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "!!python/name:os.system",
    ],
)
def test_yaml_tags_that_build_python_objects_are_refused(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "executed"
    path = tmp_path / "evil.yaml"
    path.write_text(
        "stations:\n  a: {service: {dist: exponential, rate: 1}}\n"
        "arrivals: {process: poisson, rate: 0.5}\n"
        f"description: {payload.format(marker=marker)}\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "YAML" in str(info.value)
    assert not marker.exists()


def test_a_run_opens_no_network_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network connection attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    result = run(load_scenario(SCENARIOS / "jackson3.yaml"), replications=2, horizon=500, warmup=50)
    assert result.replications == 2
