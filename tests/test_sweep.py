"""Parameter sweeps: paths into a scenario, value lists, the sweep, checkpoints, the command."""

from __future__ import annotations

import doctest
import importlib
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from command_forks import eda_sim_forked

import eda_sim.scenario.model as model_module
import eda_sim.scenario.paths as paths_module
from eda_sim.errors import ScenarioError, UnstableError
from eda_sim.experiment import SweepResult, parse_values, sweep
from eda_sim.scenario import Scenario, load_scenario, replace_value, scenario_from_dict

sweep_module = importlib.import_module("eda_sim.experiment.sweeps")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
MM1 = SCENARIOS / "mm1.yaml"
JACKSON = SCENARIOS / "jackson3.yaml"
#: Small runs: each point takes a few hundredths of a second.
TINY: dict[str, Any] = {"replications": 2, "horizon": 300.0, "warmup": 30.0}
CLI_TINY = ["--horizon", "300", "--replications", "2", "--warmup", "30", "--workers", "1"]


def messages(error: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [str(fault) for fault in error.value.faults]


def two_classes() -> Scenario:
    return scenario_from_dict(
        {
            "stations": {
                "a": {"service": {"dist": "erlang", "k": 2, "rate": 4.0}},
                "b": {"servers": 2, "service": {"dist": "gamma", "mean": 0.5, "cv": 0.5}},
            },
            "classes": {
                "web": {
                    "arrivals": {"process": "poisson", "rate": 0.5},
                    "routing": [[0, 0.5], [0, 0]],
                },
                "batch": {
                    "arrivals": {
                        "process": "renewal",
                        "interarrival": {"dist": "deterministic", "value": 4.0},
                    },
                    "service": {"a": {"dist": "exponential", "mean": 0.2}},
                },
            },
        }
    )


# --------------------------------------------------------------------------- replace


def test_doctests_of_the_sweep_modules_pass() -> None:
    for module in (paths_module, sweep_module, model_module):
        outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert outcome.failed == 0, module.__name__
    assert doctest.testmod(paths_module).attempted > 0


def test_replace_arrival_rate_of_the_one_class_shorthand() -> None:
    base = load_scenario(MM1)
    variant = replace_value(base, "arrivals.rate", 0.9)
    assert variant.document.arrivals is not None
    assert variant.document.arrivals.model_dump()["rate"] == 0.9
    assert variant.classes[0].arrivals.rate == pytest.approx(0.9)
    assert variant.offered_load()[0] == pytest.approx(0.9)
    assert base.classes[0].arrivals.rate == 0.7  # the original is untouched
    assert variant.name == base.name and variant.base_dir == base.base_dir


def test_replace_servers_is_a_whole_number() -> None:
    base = load_scenario(JACKSON)
    assert replace_value(base, "stations.enrich.servers", 3).stations[1].servers == 3
    assert (
        replace_value(base, "stations.enrich.servers", 2.0).document.stations["enrich"].servers == 2
    )
    with pytest.raises(ScenarioError) as error:
        replace_value(base, "stations.enrich.servers", 2.5)
    assert messages(error) == ["param: stations.enrich.servers must be a whole number, got 2.5"]
    assert replace_value(base, "stations.store.capacity", 12).stations[2].capacity == 12


def test_replace_mean_where_the_file_gave_rate_drops_rate_and_keeps_the_shape() -> None:
    base = load_scenario(JACKSON)
    spec = (
        replace_value(base, "stations.store.service.mean", 0.3).document.stations["store"].service
    )
    assert spec.model_dump(exclude_none=True) == {"dist": "exponential", "mean": 0.3}
    back = (
        replace_value(base, "stations.store.service.rate", 5.0).document.stations["store"].service
    )
    assert back.model_dump(exclude_none=True) == {"dist": "exponential", "rate": 5.0}
    classes = two_classes()
    erlang = replace_value(classes, "stations.a.service.mean", 1.0)
    assert erlang.document.stations["a"].service.model_dump(exclude_none=True) == {
        "dist": "erlang",
        "k": 2,
        "mean": 1.0,
    }
    assert erlang.stations[0].service.mean == pytest.approx(1.0)
    gamma = replace_value(classes, "stations.b.service.mean", 0.8)
    assert gamma.stations[1].service.scv == pytest.approx(0.25)  # cv kept
    # cv on an Erlang given by k and rate: the mean is kept and k follows from cv
    by_cv = replace_value(classes, "stations.a.service.cv", 0.5)
    assert by_cv.stations[0].service.mean == pytest.approx(0.5)
    assert by_cv.stations[0].service.scv == pytest.approx(0.25)
    # a lognormal by mean and cv, addressed by mu: switched to mu and sigma, cv kept
    tandem = load_scenario(SCENARIOS / "tandem.yaml")
    moved = replace_value(tandem, "stations.persist.service.mu", 0.0)
    assert moved.stations[1].service.scv == pytest.approx(1.5**2)
    # deterministic: mean is its value
    assert replace_value(classes, "classes.batch.arrivals.interarrival.mean", 5.0).classes[
        1
    ].arrivals.rate == pytest.approx(0.2)


def test_replace_routing_mapping_entry_new_entry_new_row_and_no_routing_at_all() -> None:
    base = load_scenario(JACKSON)
    names = base.station_names
    matrix = replace_value(base, "routing.ingest.store", 0.35).classes[0].routing.matrix
    assert matrix[names.index("ingest"), names.index("store")] == 0.35
    added = replace_value(base, "routing.enrich.ingest", 0.1).classes[0].routing.matrix
    assert added[names.index("enrich"), names.index("ingest")] == 0.1
    assert added[names.index("enrich"), names.index("store")] == 0.5
    mm1 = load_scenario(MM1)  # no routing section: one is made
    assert replace_value(mm1, "routing.handler.handler", 0.2).classes[0].routing.matrix[0, 0] == 0.2


def test_replace_routing_matrix_by_station_names_and_indices() -> None:
    classes = two_classes()
    by_name = replace_value(classes, "classes.web.routing.a.b", 0.9)
    assert by_name.document.classes is not None
    assert by_name.document.classes["web"].routing == [[0.0, 0.9], [0.0, 0.0]]
    by_index = replace_value(classes, "classes.web.routing[1][0]", 0.25)
    assert by_index.classes[0].routing.matrix[1, 0] == 0.25
    # a class without routing gets a mapping
    batch = replace_value(classes, "classes.batch.routing.b.a", 0.3)
    assert batch.classes[1].routing.matrix[1, 0] == 0.3


def test_replace_a_class_arrival_rate_poisson_and_renewal() -> None:
    classes = two_classes()
    assert replace_value(classes, "classes.web.arrivals.rate", 0.7).classes[0].arrivals.rate == 0.7
    renewal = replace_value(classes, "classes.batch.arrivals.rate", 0.5)  # gaps' mean = 1/rate
    assert renewal.classes[1].arrivals.rate == pytest.approx(0.5)
    assert renewal.classes[1].arrivals.interarrival.scv == 0.0  # still deterministic
    assert (
        replace_value(classes, "classes.batch.service.a.mean", 0.1).classes[1].service[0].mean
        == 0.1
    )


def test_replace_run_settings() -> None:
    base = load_scenario(MM1)
    assert replace_value(base, "run.horizon", 5000).run.horizon == 5000
    assert replace_value(base, "run.replications", 4).run.replications == 4
    auto = scenario_from_dict(
        {
            "stations": {"s": {"service": {"dist": "exponential", "rate": 1.0}}},
            "arrivals": {"process": "poisson", "rate": 0.5},
        }
    )
    assert auto.run.warmup == "auto"
    assert replace_value(auto, "run.warmup", 100).run.warmup_time == 100.0
    assert replace_value(auto, "run.precision", 0.05).run.precision == 0.05  # absent in the file


def test_unknown_paths_name_the_nearest_valid_one() -> None:
    base = load_scenario(JACKSON)
    cases = {
        "arrivals.rat": "param: 'arrivals.rat' is not a field: did you mean 'arrivals.rate'?",
        "stations.enrch.servers": "param: 'stations.enrch.servers' is not a field: "
        "did you mean 'stations.enrich.servers'?",
        "routing.ingest.stor": "param: 'routing.ingest.stor' is not a field: "
        "did you mean 'routing.ingest.store'?",
        "stations.x.servers": "param: 'stations.x.servers' is not a field: stations has no 'x' "
        "(it has: ingest, enrich, store)",
        "classes.events.arrivals.rate": "param: 'classes.events.arrivals.rate' is not a field: "
        "this scenario has one event class, written without classes:; "
        "did you mean 'arrivals.rate'?",
    }
    for path, expected in cases.items():
        with pytest.raises(ScenarioError) as error:
            replace_value(base, path, 1.0)
        assert messages(error) == [expected]
    with pytest.raises(ScenarioError) as error:
        replace_value(two_classes(), "arrivals.rate", 1.0)
    assert "did you mean 'classes.web.arrivals.rate'?" in messages(error)[0]


def test_non_numeric_targets_are_refused() -> None:
    base = load_scenario(JACKSON)
    cases = {
        "stations.ingest.service.dist": "stations.ingest.service.dist is not a number "
        "(it is 'exponential')",
        "stations.ingest.service": "stations.ingest.service is not a number (it is a mapping)",
        "arrivals.to": "arrivals.to is not a number (it is 'ingest')",
        "arrivals.rate.x": "'arrivals.rate.x' is not a field: arrivals.rate is 1.0, not a mapping",
        "a..b": "'a..b' is not a dotted path to a number",
    }
    for path, expected in cases.items():
        with pytest.raises(ScenarioError) as error:
            replace_value(base, path, 1.0)
        (fault,) = error.value.faults
        assert fault.path == "param" and fault.message.startswith(expected), fault


def test_faults_of_the_rebuilt_scenario_come_back_unchanged() -> None:
    base = load_scenario(JACKSON)
    with pytest.raises(ScenarioError) as error:
        replace_value(base, "routing.ingest.store", 0.9)
    assert messages(error) == ["routing.ingest: probabilities sum to 1.5 (> 1)"]
    with pytest.raises(ScenarioError) as error:
        replace_value(base, "arrivals.rate", -1)
    assert messages(error) == ["arrivals.rate: must be > 0, got -1"]
    with pytest.raises(UnstableError):
        replace_value(base, "arrivals.rate", 3.0)
    assert replace_value(base, "arrivals.rate", 3.0, allow_unstable=True).offered_load().max() > 1


# --------------------------------------------------------------------------- values


def test_parse_values_lists_and_ranges_without_float_drift() -> None:
    assert parse_values("0.5,0.6, 0.7") == [0.5, 0.6, 0.7]
    assert parse_values("0.1:0.3:0.1") == [0.1, 0.2, 0.3]
    assert parse_values("0:1:0.1") == [i / 10 for i in range(11)]
    assert parse_values("1:2:0.3") == [1.0, 1.3, 1.6, 1.9]  # never past STOP
    assert parse_values("3:1:-1") == [3.0, 2.0, 1.0]
    assert parse_values("4") == [4.0]
    assert parse_values("1e-3:3e-3:1e-3") == [0.001, 0.002, 0.003]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("0.5,,0.7", "empty item"),
        ("0.5,abc", "must be a number, got 'abc'"),
        ("0.5,nan", "finite"),
        ("0.5,0.5", "0.5 is given twice"),
        ("0:1", "START:STOP:STEP"),
        ("0:1:0", "STEP must not be 0"),
        ("1:0:0.1", "goes away from STOP"),
        ("0:1:0.00001", "at most"),
    ],
)
def test_parse_values_refuses_bad_text(text: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_values(text)
    (fault,) = error.value.faults
    assert fault.path == "values" and fragment in fault.message


# --------------------------------------------------------------------------- sweep


def test_sweep_on_mm1_matches_the_formulas() -> None:
    values = [0.3, 0.5, 0.7]
    result = sweep(load_scenario(MM1), "arrivals.rate", values, **TINY)
    assert isinstance(result, SweepResult) and not result.partial
    frame = result.frame
    assert list(frame.columns) == list(sweep_module.COLUMNS)
    # 7 station metrics and W, Wq at 3 percentiles; 4 system metrics and W at 3 percentiles
    assert len(frame) == 3 * (7 + 6 + 4 + 3)
    assert set(frame.status) == {"ok"} and frame.reason.isna().all()
    assert (frame.param == "arrivals.rate").all() and (frame.n == 2).all()
    station = frame[frame.scope == "station"].set_index(["value", "metric"])
    for lam in values:  # service rate μ = 1
        rho = lam
        expected = {
            "L": rho / (1 - rho),
            "Lq": rho**2 / (1 - rho),
            "W": 1 / (1 - lam),
            "Wq": rho / (1 - lam),
            "utilization": rho,
            "throughput": lam,
            "loss": 0.0,
        }
        for metric, value in expected.items():
            row = station.loc[(lam, metric)]
            assert row.theory == pytest.approx(value), (lam, metric)
            assert row.method == "M/M/1" and bool(row.exact)
    assert result.seed == 1 and result.replications == 2 and result.horizon == 300.0


def test_unstable_points_are_skipped_with_a_reason_or_run_when_allowed() -> None:
    base = load_scenario(MM1)
    result = sweep(base, "arrivals.rate", "0.5,1.0,1.2", **TINY)
    assert [p.status for p in result.points] == ["ok", "skipped", "skipped"]
    skipped = result.frame[result.frame.status == "skipped"]
    assert list(skipped.value) == [1.0, 1.2] and skipped["mean"].isna().all()
    assert all("load >= 1 at handler" in reason for reason in skipped.reason)
    assert "ρ = 1.2" in skipped.reason.iloc[1]
    assert len(result.frame) == 11 + 9 + 2
    allowed = sweep(base, "arrivals.rate", [0.5, 1.2], allow_unstable=True, **TINY)
    assert [p.status for p in allowed.points] == ["ok", "ok"]


def test_invalid_points_are_refused_before_anything_runs(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    target = tmp_path / "ck.jsonl"
    with pytest.raises(ScenarioError) as error:
        sweep(
            load_scenario(JACKSON),
            "routing.ingest.store",
            [0.2, 0.9, 0.95],
            checkpoint=target,
            progress=lambda done, total: calls.append((done, total)),
            **TINY,
        )
    assert messages(error) == [
        "routing.ingest: probabilities sum to 1.5 (> 1) (sweep point 2 of 3: "
        "routing.ingest.store = 0.9)",
        "routing.ingest: probabilities sum to 1.55 (> 1) (sweep point 3 of 3: "
        "routing.ingest.store = 0.95)",
    ]
    assert calls == [] and not target.exists()
    with pytest.raises(ScenarioError) as error:
        sweep(load_scenario(MM1), "arrivals.rat", [0.5, 0.6], **TINY)
    assert messages(error) == [
        "param: 'arrivals.rat' is not a field: did you mean 'arrivals.rate'?"
    ]
    with pytest.raises(ScenarioError) as error:
        sweep(load_scenario(MM1), "arrivals.rate", [0.5], horizon=-1)
    assert messages(error)[0].startswith("run.horizon: must be > 0")


def test_every_point_uses_the_same_seed_so_a_point_does_not_depend_on_the_others() -> None:
    base = load_scenario(MM1)
    both = sweep(base, "arrivals.rate", [0.5, 0.6], **TINY).frame
    alone = sweep(base, "arrivals.rate", [0.6], **TINY).frame
    pd.testing.assert_frame_equal(
        both[both.value == 0.6].reset_index(drop=True), alone, check_exact=True
    )


def interrupt_after_first_point(done: int, total: int) -> None:
    if done >= 1:
        raise KeyboardInterrupt


def test_resume_after_an_interruption_is_identical_to_an_uninterrupted_sweep(
    tmp_path: Path,
) -> None:
    base = load_scenario(MM1)
    values = [0.4, 0.6, 1.1, 0.8]
    whole = sweep(base, "arrivals.rate", values, **TINY)
    target = tmp_path / "ck.jsonl"
    first = sweep(
        base,
        "arrivals.rate",
        values,
        checkpoint=target,
        progress=interrupt_after_first_point,
        **TINY,
    )
    assert first.partial
    assert [p.status for p in first.points] == ["ok", "pending", "skipped", "pending"]
    assert len(target.read_text().splitlines()) == 2  # header + one point
    seen: list[tuple[int, int]] = []
    rest = sweep(
        base,
        "arrivals.rate",
        values,
        checkpoint=target,
        resume=True,
        progress=lambda done, total: seen.append((done, total)),
        **TINY,
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]  # the finished point is not run again
    assert not rest.partial
    pd.testing.assert_frame_equal(rest.frame, whole.frame, check_exact=True)
    assert rest.to_json() == whole.to_json() and rest.to_csv() == whole.to_csv()
    # A finished sweep resumes to the same result without running anything.
    again = sweep(base, "arrivals.rate", values, checkpoint=target, resume=True, **TINY)
    assert again.to_json() == whole.to_json()


def test_a_cut_off_last_line_is_ignored_and_run_again(tmp_path: Path) -> None:
    base = load_scenario(MM1)
    target = tmp_path / "ck.jsonl"
    whole = sweep(base, "arrivals.rate", [0.4, 0.6], checkpoint=target, **TINY)
    text = target.read_text()
    target.write_text(text[: len(text) - 40])  # the crash came while writing the last line
    resumed = sweep(base, "arrivals.rate", [0.4, 0.6], checkpoint=target, resume=True, **TINY)
    assert resumed.to_json() == whole.to_json()
    assert target.read_text() == text  # the cut-off line was replaced by a whole one


def test_a_point_written_twice_alike_is_kept_once(tmp_path: Path) -> None:
    """Two sweeps that resumed one checkpoint (before checkpoints were locked) wrote the
    same point twice: the copies are identical (same seed, same streams), so the
    checkpoint is sound, and resuming rewrites it with the point once."""
    base = load_scenario(MM1)
    target = tmp_path / "ck.jsonl"
    whole = sweep(base, "arrivals.rate", [0.4, 0.6], checkpoint=target, **TINY)
    good = target.read_text()
    lines = good.splitlines(keepends=True)
    target.write_text(lines[0] + lines[1] + lines[1])
    resumed = sweep(base, "arrivals.rate", [0.4, 0.6], checkpoint=target, resume=True, **TINY)
    assert resumed.to_json() == whole.to_json()
    assert target.read_text() == good


def test_bad_checkpoints_are_refused(tmp_path: Path) -> None:
    base = load_scenario(MM1)
    target = tmp_path / "ck.jsonl"
    sweep(base, "arrivals.rate", [0.4, 0.6], checkpoint=target, **TINY)
    good = target.read_text()

    def refused(**options: Any) -> str:
        with pytest.raises(ScenarioError) as error:
            sweep(base, "arrivals.rate", [0.4, 0.6], checkpoint=target, **{**TINY, **options})
        (fault,) = error.value.faults
        assert fault.path == "checkpoint"
        return fault.message

    assert "exists: use --resume to continue it or delete it" in refused()
    lines = good.splitlines(keepends=True)
    target.write_text(lines[0] + "{not json\n" + lines[2])
    assert "line 2 is corrupt (not JSON)" in refused(resume=True)
    # (a different note list: the tiny run already carries the run-length note)
    twice = lines[1].replace('"notes": [', '"notes": ["another", ', 1).replace(", ]", "]")
    assert twice != lines[1]
    target.write_text(lines[0] + lines[1] + twice)
    assert "line 3 is corrupt (point 0 is there twice, with different results)" in refused(
        resume=True
    )
    target.write_text(good)
    assert "was written for another sweep" in refused(resume=True, seed=7)
    with pytest.raises(ScenarioError) as error:
        sweep(base, "arrivals.rate", [0.4, 0.7], checkpoint=target, resume=True, **TINY)
    assert "was written for another sweep" in str(error.value)
    target.write_text('{"some": "other file"}\n')
    assert "is not an eda-sim sweep checkpoint" in refused(resume=True)
    target.write_text("")
    assert "is empty" in refused(resume=True)
    target.unlink()
    assert "does not exist" in refused(resume=True)
    with pytest.raises(ScenarioError) as error:
        sweep(base, "arrivals.rate", [0.4], resume=True, **TINY)
    assert error.value.faults[0].path == "checkpoint"


# --------------------------------------------------------------------------- command


def eda_sim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``eda-sim ARGS``: a process of its own, forked from a warm interpreter (command_forks)."""
    return eda_sim_forked(*args, cwd=cwd)


def test_command_writes_csv_and_json_and_prints_the_table(tmp_path: Path) -> None:
    csv_path, json_path = tmp_path / "sweep.csv", tmp_path / "sweep.json"
    process = eda_sim(
        "sweep",
        str(MM1),
        "--param",
        "arrivals.rate",
        "--values",
        "0.5:1.1:0.3",
        *CLI_TINY,
        "--csv",
        str(csv_path),
        "--json",
        str(json_path),
    )
    assert process.returncode == 0, process.stderr
    for fragment in ("arrivals.rate", "handler", "system", "±", "M/M/1", "skipped", "ρ = 1.1"):
        assert fragment in process.stdout, fragment
    frame = pd.read_csv(csv_path)
    assert len(frame) == 2 * (11 + 9) + 1  # 11 means and 9 percentiles per point run
    assert list(frame.columns) == list(sweep_module.COLUMNS)
    document = json.loads(json_path.read_text())
    assert document["values"] == [0.5, 0.8, 1.1] and document["partial"] is False
    assert [p["status"] for p in document["points"]] == ["ok", "ok", "skipped"]
    assert len(document["rows"]) == len(frame)
    w = [r for r in document["rows"] if r["scope"] == "station" and r["metric"] == "W"]
    assert [r["theory"] for r in w] == pytest.approx([2.0, 5.0])
    stdout_only = eda_sim(
        "sweep", str(MM1), "--param", "arrivals.rate", "--values", "0.5", *CLI_TINY, "--json", "-"
    )
    assert stdout_only.returncode == 0, stdout_only.stderr
    assert json.loads(stdout_only.stdout)["param"] == "arrivals.rate"


def assert_bad_input(process: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    for fragment in fragments:
        assert fragment in process.stderr, process.stderr


def test_command_refuses_bad_input_with_one_line_each_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    checkpoint = tmp_path / "ck.jsonl"
    process = eda_sim(
        "sweep",
        str(MM1),
        "--param",
        "arrivals.rat",
        "--values",
        "0.5,x",
        *CLI_TINY,
        "--json",
        str(out),
    )
    assert_bad_input(process, "error: --values: each value must be a number, got 'x'")
    process = eda_sim(
        "sweep",
        str(MM1),
        "--param",
        "arrivals.rat",
        "--values",
        "0.5",
        *CLI_TINY,
        "--json",
        str(out),
    )
    assert_bad_input(
        process, "error: --param: 'arrivals.rat' is not a field: did you mean 'arrivals.rate'?"
    )
    process = eda_sim(
        "sweep",
        str(JACKSON),
        "--param",
        "routing.ingest.store",
        "--values",
        "0.3,0.9",
        *CLI_TINY,
        "--json",
        str(out),
        "--checkpoint",
        str(checkpoint),
    )
    assert_bad_input(process, "routing.ingest: probabilities sum to 1.5 (> 1) (sweep point 2")
    assert len(process.stderr.strip().splitlines()) == 1
    assert not out.exists() and not checkpoint.exists()
    process = eda_sim("sweep", str(MM1), "--param", "arrivals.rate", "--values", "0.5", "--resume")
    assert_bad_input(process, "--resume: needs --checkpoint")
    checkpoint.write_text('{"kind": "something else"}\n')
    process = eda_sim(
        "sweep",
        str(MM1),
        "--param",
        "arrivals.rate",
        "--values",
        "0.5",
        *CLI_TINY,
        "--checkpoint",
        str(checkpoint),
        "--resume",
        "--json",
        str(out),
    )
    assert_bad_input(process, f"error: --checkpoint: {checkpoint}: is not an eda-sim sweep")
    assert checkpoint.read_text() == '{"kind": "something else"}\n'  # left as it was
    assert not out.exists()


def test_ctrl_c_keeps_finished_points_and_resume_gives_the_uninterrupted_json(
    tmp_path: Path,
) -> None:
    """A real SIGINT to a sweep: exit 130, partial JSON; --resume completes it identically."""
    arguments = [
        "sweep",
        str(MM1),
        "--param",
        "arrivals.rate",
        "--values",
        "0.3:0.85:0.05",
        "--horizon",
        "3000",
        "--replications",
        "2",
        "--warmup",
        "100",
        "--workers",
        "1",
        "--engine",
        "simpy",  # named: on a fresh checkout auto could compile the fast loop first
    ]
    checkpoint = tmp_path / "ck.jsonl"
    partial_json, resumed_json, whole_json = (
        tmp_path / "partial.json",
        tmp_path / "resumed.json",
        tmp_path / "whole.json",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eda_sim",
            *arguments,
            "--checkpoint",
            str(checkpoint),
            "--json",
            str(partial_json),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if checkpoint.exists() and len(checkpoint.read_text().splitlines()) >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "--resume" in stderr
    partial = json.loads(partial_json.read_text())
    assert partial["partial"] is True
    statuses = [p["status"] for p in partial["points"]]
    assert "pending" in statuses and "ok" in statuses

    resumed = eda_sim(
        *arguments, "--checkpoint", str(checkpoint), "--resume", "--json", str(resumed_json)
    )
    assert resumed.returncode == 0, resumed.stderr
    whole = eda_sim(*arguments, "--json", str(whole_json))
    assert whole.returncode == 0, whole.stderr
    assert json.loads(resumed_json.read_text())["partial"] is False
    assert resumed_json.read_text() == whole_json.read_text()
    assert not math.isnan(json.loads(whole_json.read_text())["rows"][0]["mean"])
