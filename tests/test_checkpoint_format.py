"""The sweep checkpoint's format: partial points kept exactly, old files read, damage refused.

* :mod:`eda_sim.experiment.replication_codec`: a finished replication (records,
  sample path, observations, waits, compacted percentile sketches) written and
  read back is the same, value for value and type for type, on both engines and
  on scenarios of every kind of mechanism; anything that is not one is refused.
* :mod:`eda_sim.experiment.checkpoint`: a format-1 checkpoint (finished points
  only) still resumes; a partial line followed by the same point finished is no
  duplicate; partial lines of one point add up, unless they disagree; a damaged
  partial line (its SHA-256) and an unknown format are refused in one line.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eda_sim.engine.records import ReplicationResult
from eda_sim.errors import ScenarioError
from eda_sim.experiment import execution, sweep
from eda_sim.experiment.checkpoint_lines import encode_partial
from eda_sim.experiment.replication_codec import decode_replication, encode_replication
from eda_sim.experiment.run_plan import plan_run
from eda_sim.experiment.runner import new_finished
from eda_sim.experiment.sweep_values import point_variants
from eda_sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
MM1 = load_scenario(ROOT / "scenarios" / "mm1.yaml")
TINY: dict[str, Any] = {"replications": 2, "horizon": 200.0, "warmup": 20.0, "workers": 1}


def _kept_replications(scenario: Scenario, engine: str, warmup: object) -> list[ReplicationResult]:
    """Two replications as a run keeps them (compacted sketches; paths with warm-up auto)."""
    plan = plan_run(
        scenario,
        {"replications": 2, "horizon": 300.0, "warmup": warmup, "seed": 5},
        ci="replications",
        max_replications=None,
        workers=1,
        pooled=True,
        engine=engine,  # type: ignore[arg-type]
        max_visits=None,
        notify=None,
    )
    finished = new_finished(plan)
    execution.execute(plan, None, 2, finished)
    return finished.ordered()


def _same(a: Any, b: Any, where: str = "result") -> None:
    """``a`` and ``b`` are the same values of the same types, all the way down."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where  # bit for bit (NaN, -0.0 too)
    elif isinstance(a, float | np.floating):
        assert math.copysign(1, a) == math.copysign(1, b), where
        assert (a == b) or (math.isnan(a) and math.isnan(b)), where
    elif dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            _same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), where
        for position, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{position}]")
    else:
        assert a == b, where


@pytest.mark.parametrize(
    ("name", "engine", "warmup"),
    [
        ("mm1", "simpy", "auto"),
        ("mm1", "fast", "auto"),
        ("mm1", "simpy", 30.0),
        ("shopping_cart", "simpy", "auto"),
        ("slo_checkout", "fast", "auto"),
        ("pubsub", "simpy", 30.0),
        ("trace_replay", "simpy", "auto"),
    ],
)
def test_a_replication_reads_back_exactly(name: str, engine: str, warmup: object) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    for result in _kept_replications(scenario, engine, warmup):
        text = json.dumps(encode_replication(result), allow_nan=False)
        _same(decode_replication(json.loads(text)), result)


def test_anything_but_a_replication_is_refused() -> None:
    (result, _) = _kept_replications(MM1, "simpy", "auto")
    good = encode_replication(result)
    refused = [
        {"c": "Popen", "f": {}},  # only the records' own types are built
        {"c": "StationRecord", "f": {"L": 1.0}},  # not its fields
        {"a": "O", "s": [1], "z": ""},  # objects
        {"a": "<f8", "s": [2], "z": base64.b64encode(zlib.compress(b"\0" * 8)).decode()},
        # a short text that would unpack to 16 MiB: read no further than the shape says
        {"a": "<f8", "s": [1], "z": base64.b64encode(zlib.compress(b"\0" * 2**24)).decode()},
        {"a": "<f8", "s": [1], "z": "not base64!"},
        {"a": "<f8", "s": [3], "b": base64.b64encode(b"\0" * 16).decode()},  # 2 for 3
        {"tf": base64.b64encode(b"\0" * 12).decode()},  # not whole doubles
        {"x": "1e400"},
        {"np": "<f8", "v": "text"},
        {"t": [1], "d": {}},
        good["f"]["system"],  # a record, but not a replication
    ]
    # well formed, but a field holds what its annotation does not allow
    wrong_type = json.loads(json.dumps(good))
    wrong_type["f"]["stations"]["d"]["handler"]["f"]["L"] = "1.0"
    wrong_count = json.loads(json.dumps(good))
    wrong_count["f"]["completed_visits"] = 2.5
    refused.extend([wrong_type, wrong_count])
    for data in refused:
        with pytest.raises(ValueError):
            decode_replication(data)


def _checkpoint(tmp_path: Path, values: list[float]) -> tuple[Path, list[str], str]:
    target = tmp_path / "ck.jsonl"
    whole = sweep(MM1, "arrivals.rate", values, checkpoint=target, engine="simpy", **TINY)
    return target, target.read_text().splitlines(keepends=True), whole.to_json()


def _resumed(target: Path, values: list[float]) -> str:
    return sweep(
        MM1, "arrivals.rate", values, checkpoint=target, resume=True, engine="simpy", **TINY
    ).to_json()


def _partial_line(values: list[float], index: int, numbers: list[int], seed: int = 1) -> str:
    """The partial line the sweep of :func:`_checkpoint` writes when cut short in ``index``
    (with another ``seed``: of replications that are not the sweep's)."""
    base = MM1.with_run(replications=2, horizon=200.0, warmup=20.0)
    variants, _ = point_variants(base, "arrivals.rate", values, False)
    plan = plan_run(
        variants[index],
        {"seed": seed},
        ci="replications",
        max_replications=None,
        workers=1,
        pooled=True,
        engine="simpy",
        max_visits=None,
        notify=None,
    )
    finished = new_finished(plan)
    execution.execute(plan, None, 2, finished)
    kept = [r for r in finished.ordered() if r.replication in numbers]
    return encode_partial(index, values[index], kept, []) + "\n"


def test_a_format_1_checkpoint_still_resumes(tmp_path: Path) -> None:
    values = [0.4, 0.6]
    target, lines, whole = _checkpoint(tmp_path, values)
    header = json.loads(lines[0])
    assert header["format"] == 2
    header["format"] = 1  # what eda-sim wrote before partial points
    target.write_text(json.dumps(header) + "\n" + lines[1])
    assert _resumed(target, values) == whole
    header["format"] = 3
    target.write_text(json.dumps(header) + "\n")
    with pytest.raises(ScenarioError) as error:
        _resumed(target, values)
    assert "has checkpoint format 3; this eda-sim reads formats 1 and 2" in str(error.value)


def test_partial_lines_add_up_and_a_finished_point_supersedes_them(tmp_path: Path) -> None:
    values = [0.4]
    target, lines, whole = _checkpoint(tmp_path, values)
    first, second = _partial_line(values, 0, [0]), _partial_line(values, 0, [1])
    # a partial line, then the point finished: no duplicate fault
    target.write_text(lines[0] + first + lines[1])
    assert _resumed(target, values) == whole
    # two partial lines hold the whole point: it is summarised, nothing runs
    target.write_text(lines[0] + first + second)
    assert _resumed(target, values) == whole
    # the same replication twice, alike: kept once
    target.write_text(lines[0] + first + first)
    assert _resumed(target, values) == whole


def test_damaged_or_disagreeing_partial_lines_are_refused(tmp_path: Path) -> None:
    values = [0.4]
    target, lines, _ = _checkpoint(tmp_path, values)
    first = _partial_line(values, 0, [0])
    record = json.loads(first)
    record["replications"][0]["f"]["completed_visits"] += 1
    damaged = json.dumps(record) + "\n"

    def refused() -> str:
        with pytest.raises(ScenarioError) as error:
            _resumed(target, values)
        (fault,) = error.value.faults
        assert fault.path == "checkpoint" and "\n" not in fault.message
        return fault.message

    target.write_text(lines[0] + damaged)
    assert "line 2 is corrupt (the replications of partial point 0 do not match their SHA-256)" in (
        refused()
    )
    canonical = json.dumps(record["replications"], sort_keys=True, separators=(",", ":"))
    record["sha256"] = hashlib.sha256(canonical.encode()).hexdigest()  # re-signed by hand
    target.write_text(lines[0] + first + json.dumps(record) + "\n")
    assert "replication 0 of point 0 is there twice, with different results" in refused()
    # well formed and signed, but replications of another seed
    target.write_text(lines[0] + _partial_line(values, 0, [0], seed=9))
    assert "partial point 0 holds replication 0, which is not one of this sweep's" in refused()
