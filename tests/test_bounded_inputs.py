"""Files and values read within stated limits, and messages that stay short and inert.

Unit tests of :mod:`eda_sim.files`, :mod:`eda_sim.text`, the YAML guard of
:mod:`eda_sim.scenario.loader` and the bounded value descriptions of
:mod:`eda_sim.scenario.messages`. The same faults through the real command, under
time and memory caps, are in ``tests/test_hostile_inputs.py``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eda_sim import files
from eda_sim.errors import Fault, ScenarioError
from eda_sim.scenario import load_scenario, scenario_from_dict
from eda_sim.scenario.budgets import MAX_CAPACITY, MAX_REPLICATIONS, MAX_SERVERS
from eda_sim.scenario.loader import MAX_YAML_NODES
from eda_sim.scenario.messages import describe_value
from eda_sim.text import MAX_LINE, escape_controls, shorten

STATION = "stations:\n  a: {servers: 1, service: {dist: exponential, rate: 2.0}}\n"
ARRIVALS = "arrivals: {process: poisson, rate: 1.0}\n"


def scenario_file(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def faults_of(path: Path) -> list[Fault]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return list(info.value.faults)


# ---------------------------------------------------------------- reading files


def test_a_regular_file_is_read_and_recorded_with_its_digest(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"hello\n")
    with files.recording_inputs() as records:
        text = files.read_input_text(path, what="test file", limit=100)
    assert text == "hello\n"
    assert records == [
        files.InputRecord(str(path), "test file", 6, hashlib.sha256(b"hello\n").hexdigest())
    ]


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: p.mkdir(), "a folder"),
        (lambda p: os.mkfifo(p), "a FIFO (named pipe)"),
    ],
    ids=["folder", "fifo"],
)
def test_only_regular_files_are_read_and_a_fifo_does_not_block(
    tmp_path: Path, make: object, kind: str
) -> None:
    path = tmp_path / "input"
    make(path)  # type: ignore[operator]
    started = time.perf_counter()
    with pytest.raises(files.InputFileError) as info:
        files.open_input(path, what="trace file", limit=100)
    assert time.perf_counter() - started < 1.0  # opening a FIFO without a writer returns
    assert info.value.reason == f"is {kind}, not a regular file; a trace file must be a file"


def test_a_device_is_refused() -> None:
    with pytest.raises(files.InputFileError, match="is a character device"):
        files.open_input("/dev/zero", what="scenario file", limit=100)


def test_a_file_over_the_limit_is_refused_from_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2001)
    with pytest.raises(files.InputFileError) as info:
        files.open_input(path, what="trace file", limit=2000)
    assert info.value.reason == "is 2 kB; a trace file may be at most 2 kB"


def test_a_file_of_unknown_size_is_cut_at_the_limit() -> None:
    """``/proc`` files report size 0: the limit applies to what is read."""
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(files.InputFileError, match="is larger than 10 bytes"):
        files.read_input_text("/proc/self/status", what="scenario file", limit=10)


def test_reading_errors_never_quote_the_content(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"root:$6$secret:19000\n\xff\xfe")
    with pytest.raises(files.InputFileError) as info:
        files.read_input_text(path, what="scenario file", limit=1000)
    assert info.value.reason == "is not UTF-8 text (an invalid byte at offset 21)"


def test_missing_and_unnamable_files(tmp_path: Path) -> None:
    with pytest.raises(files.InputFileError, match=r"^no such file$"):
        files.open_input(tmp_path / "absent", what="x", limit=1)
    with pytest.raises(files.InputFileError, match="NUL character"):
        files.open_input(str(tmp_path / "a\0b"), what="x", limit=1)


# ---------------------------------------------------------------- writing files


def test_a_new_output_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        files.write_output(tmp_path / "out.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o640


def test_a_replaced_output_keeps_its_mode_and_a_symlink_is_written_through(
    tmp_path: Path,
) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o604)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    files.write_output(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_fifo_output_is_streamed_to(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        files.write_output(fifo, "streamed\n")
        assert os.read(reader, 100) == b"streamed\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO, not replaced by a file


# ---------------------------------------------------------------- text shown


def test_control_characters_are_escaped_in_faults() -> None:
    fault = Fault("stations.a\x1b[31m", "unknown station 'b\x07\x1b]8;;http://x\x1b\\'\u202e")
    text = str(fault)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[31m" in text and "\\u202e" in text


def test_a_long_value_is_elided_with_its_length() -> None:
    line = shorten("error: routing.a: unknown station '" + "b" * 20_000 + "'")
    assert len(line) <= MAX_LINE
    assert "(20,000 characters)" in line
    assert line.startswith("error: routing.a: unknown station 'bbb")


def test_escape_keeps_ordinary_unicode() -> None:
    assert escape_controls("ρ = 0.5 ✓ naïve") == "ρ = 0.5 ✓ naïve"


def test_describe_value_takes_no_time_on_a_huge_value() -> None:
    huge: list[object] = ["x"] * 9
    for _ in range(8):  # 9**9 leaves if written out; shared, so cheap to build
        huge = [huge] * 9
    started = time.perf_counter()
    text = describe_value(huge)
    assert time.perf_counter() - started < 0.1
    assert len(text) <= 60 and text.endswith("...")


# ---------------------------------------------------------------- YAML


def test_an_alias_bomb_is_refused_before_it_is_built(tmp_path: Path) -> None:
    lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = scenario_file(tmp_path, "\n".join(lines) + "\nstations: *l9\n" + ARRIVALS)
    assert path.stat().st_size < 1000
    started = time.perf_counter()
    (fault,) = faults_of(path)
    assert time.perf_counter() - started < 5
    assert fault.path == str(path)
    assert f"aliases expand to more than {MAX_YAML_NODES:,} values" in fault.message


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    (fault,) = faults_of(scenario_file(tmp_path, "stations: &s {a: *s}\n" + ARRIVALS))
    assert "recursive alias" in fault.message


def test_merge_keys_override_as_yaml_defines_them(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "stations:\n"
        "  a: &base {servers: 1, service: {dist: exponential, rate: 2.0}}\n"
        "  b:\n    <<: *base\n    servers: 3\n" + ARRIVALS + "routing: {a: {b: 0.5}}\n",
    )
    scenario = load_scenario(path)
    assert [s.servers for s in scenario.stations] == [1, 3]


def test_a_key_written_twice_is_still_a_duplicate(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "base: &base {servers: 1}\nstations:\n  a:\n    <<: *base\n"
        "    servers: 2\n    servers: 3\n",
    )
    (fault,) = faults_of(path)
    assert "duplicate key 'servers'" in fault.message


def test_a_number_too_long_to_read(tmp_path: Path) -> None:
    text = STATION.replace("servers: 1", "servers: " + "9" * 5000) + ARRIVALS
    (fault,) = faults_of(scenario_file(tmp_path, text))
    assert fault.message == "YAML value cannot be read: a number too long to read"


def test_the_scenario_file_is_recorded_as_an_input(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, STATION + ARRIVALS)
    (record,) = load_scenario(path).inputs
    assert record.path == str(path.resolve())
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the minor items and bounds


def build(station: dict[str, object], run: dict[str, object] | None = None) -> list[Fault]:
    document: dict[str, object] = {
        "stations": {"a": {"service": {"dist": "exponential", "rate": 2.0}, **station}},
        "arrivals": {"process": "poisson", "rate": 1.0},
    }
    if run is not None:
        document["run"] = run
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(document)
    return list(info.value.faults)


def test_a_whole_number_written_as_a_float_says_so() -> None:
    (fault,) = build({"servers": 2.0})
    assert fault.message == "must be a whole number written without a decimal point, got 2.0"
    (fault,) = build({"servers": 2.5})
    assert fault.message == "must be a whole number, got 2.5"


def test_a_station_without_a_name_is_refused() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(
            {
                "stations": {"": {"service": {"dist": "exponential", "rate": 2.0}}},
                "arrivals": {"process": "poisson", "rate": 1.0},
            }
        )
    assert [str(f) for f in info.value.faults] == ["stations.'': a station needs a name, got ''"]


@pytest.mark.parametrize(
    ("station", "run", "path", "bound"),
    [
        ({"servers": 10**20}, None, "stations.a.servers", MAX_SERVERS),
        ({"servers": 2, "capacity": 10**9}, None, "stations.a.capacity", MAX_CAPACITY),
        ({}, {"replications": 10**12}, "run.replications", MAX_REPLICATIONS),
    ],
    ids=["servers", "capacity", "replications"],
)
def test_numbers_that_memory_or_time_scale_with_have_bounds(
    station: dict[str, object], run: dict[str, object] | None, path: str, bound: int
) -> None:
    (fault,) = build(station, run)
    assert fault.path == path
    assert fault.message.startswith(f"must be <= {bound}, got ")


# ---------------------------------------------------------------- reports of odd numbers


def test_a_report_accepts_nan_and_infinity_as_not_available(tmp_path: Path) -> None:
    import json

    from eda_sim.experiment import run
    from eda_sim.report import read_result, write_any_report
    from eda_sim.scenario import load_scenario as load

    scenario = load(Path(__file__).resolve().parent.parent / "scenarios" / "mm1.yaml")
    text = run(scenario, replications=2, horizon=300.0, warmup=30.0).to_json()
    document = json.loads(text)
    document["stations"]["handler"]["W"]["mean"] = "NAN_HERE"
    document["system"]["L"]["ci"] = ["INF_HERE", 1e999]
    edited = json.dumps(document).replace('"NAN_HERE"', "NaN").replace('"INF_HERE"', "-Infinity")
    source = tmp_path / "odd.json"
    source.write_text(edited.replace("Infinity]", "1e999]"))
    kind, loaded = read_result(source)
    assert kind == "run"
    assert loaded["stations"]["handler"]["W"]["mean"] is None
    assert loaded["system"]["L"]["ci"] == [None, None]
    index = write_any_report(loaded, tmp_path / "report")
    assert index.exists()


def test_names_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """Escapes and rich markup in names, units and the description are shown, not obeyed."""
    import subprocess
    import sys

    path = scenario_file(
        tmp_path,
        'name: "n\\e]8;;http://evil\\a"\ntime_unit: "[link=http://evil]s[/link]"\n'
        'stations:\n  "a\\e[2J\\u202e": {service: {dist: exponential, rate: 2.0}}\n' + ARRIVALS,
    )
    for command in ("validate", "theory"):
        process = subprocess.run(
            [sys.executable, "-m", "eda_sim", command, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert process.returncode == 0, process.stderr
        assert "\x1b" not in process.stdout and "\x07" not in process.stdout
        assert "\u202e" not in process.stdout
        assert "\\x1b[2J" in process.stdout
        if command == "theory":
            assert "[link=http://evil]s" in process.stdout  # markup shown, not read


def _command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eda_sim", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


QUICK = ("--replications", "2", "--horizon", "200", "--warmup", "10", "--engine", "simpy")


def test_no_table_any_command_prints_can_drive_the_terminal(tmp_path: Path) -> None:
    """Escapes in a station, a class and the time unit, through every table of every command.

    The percentile tables of ``run`` and ``theory`` once printed the time unit (and
    ``run`` the station name) raw: the console of standard output now makes every
    text it prints inert, whichever table built it.
    """
    path = scenario_file(
        tmp_path,
        'time_unit: "s\\e[2J"\nstations:\n  "st\\e]8;;http://x\\e\\\\": '
        "{service: {dist: exponential, rate: 2.0}}\n"
        'classes:\n  "cl\\e[41m": {arrivals: {process: poisson, rate: 1.0}}\n'
        "slo:\n  - {target: system.W_p99, max: 3.0}\n",
    )
    report = tmp_path / "rep\x1b[2J"
    sweep = ("sweep", str(path), "--param", "run.horizon", "--values", "100,200", *QUICK[:2])
    for args in (
        ("run", str(path), *QUICK, "--report", str(report)),
        ("theory", str(path)),
        ("validate", str(path)),
        (*sweep, "--warmup", "10", "--engine", "simpy"),
    ):
        process = _command(*args)
        assert process.returncode == 0, process.stderr
        for stream in (process.stdout, process.stderr):
            assert not any(ord(c) < 32 and c != "\n" for c in stream), args[0]
        assert "st\\x1b]8;;" in process.stdout  # shown, escaped


def test_a_warning_is_one_escaped_line_without_source(capsys: pytest.CaptureFixture[str]) -> None:
    from eda_sim.cli.app import _show_warning

    _show_warning(UserWarning("Glyph 27 (\x1b) missing\nfrom font"), UserWarning, "/x/y.py", 3)
    assert capsys.readouterr().err == "warning: Glyph 27 (\\x1b) missing\\nfrom font\n"


def test_a_long_chain_whose_flow_underflows_is_solved_without_warnings() -> None:
    """1,000 stations in a chain: the flow into the last ones underflows to 0 (QNA's v = 1)."""
    import warnings

    from eda_sim.theory.scenario import solve

    n = 1000
    stations = {f"s{i}": {"service": {"dist": "exponential", "rate": 2.0}} for i in range(n)}
    routing = {f"s{i}": {f"s{i + 1}": 0.9, "s0": 0.05} for i in range(n - 1)}
    scenario = scenario_from_dict(
        {
            "stations": stations,
            "arrivals": {"process": "poisson", "rate": 0.05, "to": "s0"},
            "routing": routing,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        theory = solve(scenario)
    assert len(theory.stations) == n


def test_a_million_servers_run_to_the_end(tmp_path: Path) -> None:
    """The bound on servers is a promise: a run at it ends (it once failed after the run)."""
    path = scenario_file(
        tmp_path,
        "stations:\n  a: {servers: 1000000, service: {dist: exponential, rate: 2.0}}\n" + ARRIVALS,
    )
    process = _command("run", str(path), *QUICK, "--json", str(tmp_path / "out.json"))
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    assert (tmp_path / "out.json").exists()


def test_a_note_about_a_long_name_is_said_whole_in_short_lines(tmp_path: Path) -> None:
    """The run-length note named a 20,000-character station in full: one 20,450-character line."""
    path = scenario_file(
        tmp_path,
        "stations:\n  ? "
        + "b" * 20_000
        + "\n  : {service: {dist: exponential, rate: 2.0}}\n"
        + ARRIVALS,
    )
    process = _command("run", str(path), *QUICK)
    assert process.returncode == 0, process.stderr
    lines = process.stderr.splitlines()
    assert lines[0].startswith("note: run too short for its load: bbbb"), process.stderr
    assert "(20,000 characters)" in process.stderr
    assert "use a horizon of at least" in " ".join(line.strip() for line in lines)
    assert all(len(line) <= MAX_LINE for line in lines), [len(line) for line in lines]
    assert all(line.startswith(("note: ", "  ")) for line in lines), process.stderr


@pytest.mark.parametrize("level", [1e-20, 1.5e-19, 1.2345678901234567e-10, 0.5, 1 - 1e-12])
def test_a_rank_is_exact_whatever_the_level_s_denominator(level: float) -> None:
    """``⌈q n⌉`` in exact integers; a level such as 1e-20 is a fraction over 10^20, past
    int64 (``--quantiles 1e-300`` was an OverflowError after the whole run)."""
    from fractions import Fraction

    import numpy as np

    from eda_sim.stats.sketch import quantile_ranks

    counts = np.array([0, 1, 7, 10**6], dtype=np.int64)
    exact = [-((-Fraction(repr(level)) * int(n)).__floor__()) for n in counts.tolist()]
    assert quantile_ranks(level, counts).tolist() == exact


def test_an_slo_verdict_names_its_station_escaped(tmp_path: Path) -> None:
    """An SLO target holds the station's name; the verdict line on stderr once printed it raw."""
    path = scenario_file(
        tmp_path,
        'stations:\n  "a\\e[2J": {service: {dist: exponential, rate: 2.0}}\n'
        + ARRIVALS
        + 'slo:\n  - {target: "stations.a\\e[2J.W_p99", max: 0.001}\n',
    )
    quick = ("--replications", "5", "--horizon", "400", "--warmup", "10", "--engine", "simpy")
    process = _command("run", str(path), *quick, "--check-slo")
    assert process.returncode == 3, process.stderr
    said = [line for line in process.stderr.splitlines() if line.startswith("slo ")]
    assert said and said[0].startswith("slo violated: stations.a\\x1b[2J.W_p99 <= 0.001"), said
    assert "\x1b" not in process.stderr
