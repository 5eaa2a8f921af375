"""The ``eda-sim`` command as a user runs it: real subprocesses, exit codes, stdout/stderr."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from command_forks import eda_sim_forked

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
QUICK = ["--horizon", "2000", "--replications", "3", "--warmup", "200"]


def eda_sim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``eda-sim ARGS``: a process of its own, forked from a warm interpreter (command_forks)."""
    return eda_sim_forked(*args, cwd=cwd)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_with_children(pid: int) -> float:
    """CPU time of a running process and of its running children, from /proc (Linux)."""
    total = cpu_seconds(pid)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != pid:
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:  # the parent's pid
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def assert_bad_input(process: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stderr
    for fragment in fragments:
        assert fragment in process.stderr, process.stderr


def test_console_script_is_installed() -> None:
    script = shutil.which("eda-sim", path=str(Path(sys.executable).parent))
    assert script is not None, "pip install -e '.[dev]' puts eda-sim beside python"
    process = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert process.returncode == 0 and process.stdout.startswith("eda-sim ")


def test_run_prints_every_metric_for_every_station() -> None:
    process = eda_sim("run", str(SCENARIOS / "jackson3.yaml"), *QUICK)
    assert process.returncode == 0, process.stderr
    for word in (
        "ingest",
        "enrich",
        "store",
        "system",
        "L",
        "Lq",
        "W (s)",
        "Wq (s)",
        "utilization",
        "throughput",
        "loss",
        "±",
        "3 replications of 2000 s",
        "theory",
        "M/M/1 (exact)",
        "Jackson network (exact)",
        "article",
        "Poisson arrivals",
        "Markov routing",
    ):
        assert word in process.stdout


def test_run_json_to_stdout_is_only_json_with_the_designed_layout() -> None:
    process = eda_sim("run", str(SCENARIOS / "jackson3.yaml"), *QUICK, "--json", "-")
    assert process.returncode == 0, process.stderr
    document = json.loads(process.stdout)
    assert document["scenario"] == "jackson3"
    assert document["engine"] == "simpy"
    assert document["replications"] == 3
    assert document["horizon"] == 2000
    assert document["warmup"] == 200
    assert set(document["stations"]) == {"ingest", "enrich", "store"}
    for metrics in document["stations"].values():
        assert set(metrics) == {
            *("L", "Lq", "W", "Wq", "utilization", "throughput", "loss"),
            *(f"{base}_p{level}" for base in ("W", "Wq") for level in ("50", "95", "99")),
        }
        for estimate in metrics.values():
            low, high = estimate["ci"]
            assert low <= estimate["mean"] <= high
    assert {"L", "W", "throughput"} <= set(document["system"])


def test_run_json_file_and_table(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    process = eda_sim("run", str(SCENARIOS / "mm1.yaml"), *QUICK, "--json", str(target))
    assert process.returncode == 0, process.stderr
    assert "handler" in process.stdout
    assert json.loads(target.read_text())["stations"]["handler"]["L"]["mean"] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left behind


def test_same_numbers_for_any_number_of_workers() -> None:
    one = eda_sim("run", str(SCENARIOS / "tandem.yaml"), *QUICK, "--json", "-", "--workers", "1")
    two = eda_sim("run", str(SCENARIOS / "tandem.yaml"), *QUICK, "--json", "-", "--workers", "2")
    assert one.returncode == two.returncode == 0
    assert json.loads(one.stdout) == json.loads(two.stdout)


def test_seed_changes_the_numbers() -> None:
    first = json.loads(eda_sim("run", str(SCENARIOS / "mm1.yaml"), *QUICK, "--json", "-").stdout)
    other = json.loads(
        eda_sim("run", str(SCENARIOS / "mm1.yaml"), *QUICK, "--json", "-", "--seed", "2").stdout
    )
    assert first["stations"] != other["stations"]


def test_validate_prints_load_and_visit_ratios() -> None:
    process = eda_sim("validate", str(SCENARIOS / "jackson3.yaml"))
    assert process.returncode == 0, process.stderr
    assert "valid" in process.stdout
    assert "0.5682" in process.stdout  # ρ of ingest: (1/0.88)/2
    assert "1.136" in process.stdout  # its visit ratio


def test_schema_is_json_schema_for_scenarios() -> None:
    process = eda_sim("schema")
    assert process.returncode == 0
    schema = json.loads(process.stdout)
    assert {"stations", "arrivals", "routing", "classes", "run"} <= set(schema["properties"])


def test_version() -> None:
    process = eda_sim("--version")
    assert process.returncode == 0 and process.stdout.startswith("eda-sim ")


@pytest.mark.parametrize(
    ("document", "fragments"),
    [
        (
            "stations:\n  a: {service: {dist: lognormal, mean: 1, cv: -1.5}}\n"
            "arrivals: {process: poisson, rate: 0.5}\n",
            ["stations.a.service.cv: must be > 0, got -1.5"],
        ),
        (
            "stations:\n  a: {service: {dist: exponential, rate: 1}}\n"
            "  b: {service: {dist: exponential, rate: 1}}\n"
            "arrivals: {process: poisson, rate: 0.5}\n"
            "routing: {a: {b: 0.8, a: 0.5}}\n",
            ["routing.a: probabilities sum to 1.3 (> 1)"],
        ),
        (
            "stations:\n  a: {service: {dist: exponential, rate: 1}}\n"
            "arrivals: {process: poisson, rate: 2}\n",
            ["stations.a: offered load ρ = 2 >= 1", "--allow-unstable"],
        ),
        ("stations: [1, 2\n", ["YAML syntax error"]),
    ],
)
def test_bad_scenarios_exit_2_with_one_line_per_fault(
    tmp_path: Path, document: str, fragments: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(document)
    out = tmp_path / "result.json"
    process = eda_sim("run", str(path), "--json", str(out))
    assert_bad_input(process, *fragments)
    assert len(process.stderr.strip().splitlines()) == len(fragments) - (
        "--allow-unstable" in fragments
    )
    assert not out.exists()
    assert process.stdout == ""


def test_unstable_runs_with_allow_unstable_flag(tmp_path: Path) -> None:
    path = tmp_path / "unstable.yaml"
    path.write_text(
        "stations:\n  a: {service: {dist: exponential, rate: 1}}\n"
        "arrivals: {process: poisson, rate: 1.2}\n"
    )
    process = eda_sim("run", str(path), *QUICK, "--allow-unstable", "--json", "-")
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["stations"]["a"]["L"]["mean"] > 20


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--horizon", "-5"], "--horizon: must be > 0, got -5"),
        (["--replications", "0"], "--replications: must be >= 1, got 0"),
        (["--warmup", "soon"], "--warmup: must be auto, none or a time, got 'soon'"),
        (["--warmup", "30000"], "--warmup: must be < the horizon (20000), got 30000"),
        (["--seed", "-1"], "--seed: must be >= 0, got -1"),
        (["--workers", "0"], "--workers: must be >= 1, got 0"),
        (["--json", "/no/such/folder/out.json"], "folder '/no/such/folder' does not exist"),
        (["--horizon", "abc"], "Invalid value for '--horizon'"),
        (["--frobnicate"], "No such option"),
    ],
)
def test_bad_options_exit_2(options: list[str], fragment: str) -> None:
    process = eda_sim("run", str(SCENARIOS / "mm1.yaml"), *options)
    assert_bad_input(process, fragment)
    assert process.stdout == ""


def test_missing_scenario_file() -> None:
    assert_bad_input(eda_sim("run", "no/such/file.yaml"), "no/such/file.yaml: no such file")
    assert_bad_input(eda_sim("validate", "no/such/file.yaml"), "no such file")


def test_independent_faults_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "stations:\n"
        "  a: {servrs: 2, service: {dist: exponentail, rate: 1}}\n"
        "  b: {service: {dist: gamma, mean: 1, cv: 0}}\n"
        "arrivals: {process: poisson, rate: -1}\n"
        "run: {replications: 0}\n"
    )
    process = eda_sim("validate", str(path))
    assert_bad_input(
        process,
        "stations.a.servrs: unknown field; did you mean 'servers'?",
        "stations.a.service.dist: unknown dist 'exponentail'; did you mean 'exponential'?",
        "stations.b.service.cv: must be > 0, got 0",
        "arrivals.rate: must be > 0, got -1",
        "run.replications: must be >= 1",
    )
    assert len(process.stderr.strip().splitlines()) == 5


def test_theory_command_answers_without_simulating() -> None:
    process = eda_sim("theory", str(SCENARIOS / "jackson3.yaml"))
    assert process.returncode == 0, process.stderr
    for word in ("ingest", "1.316", "M/M/1", "Jackson network", "L_article", "Little's law"):
        assert word in process.stdout


def test_theory_json_has_theory_and_article_sections_only() -> None:
    process = eda_sim("theory", str(SCENARIOS / "mm1.yaml"), "--json", "-")
    assert process.returncode == 0, process.stderr
    document = json.loads(process.stdout)
    assert set(document) == {"scenario", "theory", "article"}
    handler = document["theory"]["stations"]["handler"]
    assert handler["L"] == pytest.approx(0.7 / 0.3)
    assert handler["method"] == "M/M/1" and handler["exact"] is True
    assert document["article"]["stations"]["handler"]["W"] == pytest.approx(1 / 0.3)
    assert "Little" in document["article"]["note"]


def test_run_json_carries_theory_article_and_checks() -> None:
    process = eda_sim("run", str(SCENARIOS / "tandem.yaml"), *QUICK, "--json", "-")
    document = json.loads(process.stdout)
    persist = document["theory"]["stations"]["persist"]
    assert persist["exact"] is False and "approx" in persist["method"]
    assert document["theory"]["stations"]["validate"]["exact"] is True
    assert set(document["article"]["stations"]) == {"validate"}  # single-server stations only
    kinds = {check["check"] for check in document["checks"]}
    assert kinds == {"poisson_counts", "exponential_gaps", "markov_routing"}
    for check in document["checks"]:
        assert {"statistic", "p_value", "passed", "alpha"} <= set(check)


def test_theory_of_an_unstable_scenario_is_unavailable_with_reason(tmp_path: Path) -> None:
    path = tmp_path / "unstable.yaml"
    path.write_text(
        "stations:\n  a: {service: {dist: exponential, rate: 1}}\n"
        "arrivals: {process: poisson, rate: 1.2}\n"
    )
    refused = eda_sim("theory", str(path))
    assert_bad_input(refused, "offered load ρ = 1.2 >= 1")
    process = eda_sim("theory", str(path), "--allow-unstable", "--json", "-")
    assert process.returncode == 0, process.stderr
    station = json.loads(process.stdout)["theory"]["stations"]["a"]
    assert station["available"] is False
    assert "ρ = 1.2" in station["reason"]


def test_ctrl_c_keeps_finished_replications(tmp_path: Path) -> None:
    """SIGINT to a real run: the finished replications are written, marked partial, exit 130."""
    target = tmp_path / "partial.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eda_sim",
            "run",
            str(SCENARIOS / "mm1.yaml"),
            "--horizon",
            "500",
            "--warmup",
            "50",
            "--replications",
            "100000",
            # The SimPy engine: with auto, a fresh checkout compiles the fast loop first (13 s
            # of CPU), and the signal would arrive before any replication has finished.
            "--engine",
            "simpy",
            "--json",
            str(target),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    # Wait until the run is past its imports and busy with replications: about a second
    # of CPU goes to start-up, a few milliseconds to each replication. CPU time, not wall
    # time, so that a loaded machine does not make the signal arrive during the imports.
    # The command's own CPU and its workers' (a pool runs the replications: the command
    # alone took 16-43 s of wall time to reach 3 s on a loaded machine).
    deadline = time.monotonic() + 120
    while cpu_seconds_with_children(process.pid) < 3.0 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    document = json.loads(target.read_text())
    assert document["partial"] is True
    assert 0 < document["replications"] < 100000
    assert "marked partial" in stderr


def test_theory_percentile_reasons_are_lines_not_an_empty_table() -> None:
    """Regression (c5df02d): escaping the caption turned its line breaks into a literal
    backslash-n, and a scenario with no exact percentile printed an empty table whose
    caption wrapped to its width."""
    process = eda_sim("theory", str(ROOT / "scenarios" / "shopping_cart.yaml"))
    assert process.returncode == 0, process.stderr
    assert "\\n" not in process.stdout
    reasons = [line for line in process.stdout.splitlines() if "no exact percentile at" in line]
    assert reasons and all(line.startswith("no exact percentile at") for line in reasons)
    assert "exact percentiles (where theory knows the distribution)" not in process.stdout


def test_theory_percentile_caption_keeps_its_lines() -> None:
    process = eda_sim("theory", str(ROOT / "scenarios" / "priorities.yaml"))
    assert process.returncode == 0, process.stderr
    assert "\\n" not in process.stdout
    assert any(line.startswith("[1] ") for line in process.stdout.splitlines())
