"""Hostile inputs through the real command, each under a time and memory cap.

Every case is an input an attacker (or an unlucky script) might give: an alias
bomb, a device or a FIFO where a file is meant, a file of secrets named as data,
terminal escapes in names, absurd but well-formed numbers, outputs that name
inputs or cannot be written. Each runs as ``python -m eda_sim ...`` in a child
process whose address space and CPU time are capped with ``resource.setrlimit``
(:data:`MEMORY_CAP`, :data:`CPU_CAP`), so that a regression fails the test instead
of taking the machine down, and each must be refused as bad input always is:

* exit code 2 (or the code given), within :data:`WALL_CAP` seconds;
* a few lines on stderr, each starting with ``error: ``, at most
  :data:`~eda_sim.text.MAX_LINE` characters past the file's own path, no
  control character, no traceback, nothing of the data file quoted;
* nothing on stdout, no output file written, the inputs untouched.

The cases run two at a time, each in a process of its own forked from a warm
interpreter that imported the package once (:mod:`command_forks`: a fresh
``python -m eda_sim`` costs about a second of imports, which was most of this
module's time); the limits are set in each forked process.
:func:`test_a_forked_case_is_what_the_real_command_does` runs a sample of the cases
as real ``python -m eda_sim`` processes, under the same limits, and checks that
they give the same outcome.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue

import pytest
from command_forks import CommandForks, command_servers, run_on

from eda_sim.text import MAX_LINE

ROOT = Path(__file__).resolve().parent.parent
MM1 = ROOT / "scenarios" / "mm1.yaml"
#: Address space a case may use (numpy and pydantic reserve ~1 GB of it at start-up).
MEMORY_CAP = 3 * 2**30
#: CPU seconds a case may use.
CPU_CAP = 60
#: Wall seconds a case may take (the machine may be shared).
WALL_CAP = 45
#: Most lines on stderr for one case.
MAX_LINES = 22
#: Quick settings of every run and sweep, the engine named (a fresh checkout has no
#: numba cache: ``auto`` could compile the fast loop for ~13 s inside the caps).
QUICK = ("--replications", "2", "--horizon", "200", "--warmup", "10", "--engine", "simpy")

STATION = "stations:\n  a: {servers: 1, service: {dist: exponential, rate: 2.0}}\n"
ARRIVALS = "arrivals: {process: poisson, rate: 1.0}\n"
SECRET = "root:$6$hunter2hash:19000:0:99999:7:::\n"
#: The environment of every case.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "COLUMNS": "100"}
#: The limits of every case, set in its own process.
LIMITS = {"RLIMIT_AS": MEMORY_CAP, "RLIMIT_CPU": CPU_CAP}
#: Cases also run as real ``python -m eda_sim`` processes: one of each kind of refusal
#: (memory, devices, escapes, outputs, sweeps, reports).
REAL_SAMPLE = (
    "alias-bomb",
    "scenario-dev-zero",
    "escape-in-names",
    "json-on-a-full-disk",
    "sweep-replications-1e9",
    "report-out-holds-its-input",
)


def _limits() -> None:  # runs in the child before it starts Python's work
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_CAP, CPU_CAP))


@dataclass(frozen=True)
class Case:
    """A hostile input: how to make it, what the command must say and must not do."""

    make: Callable[[Path], tuple[str, ...]]  # writes files in the folder, returns the args
    expect: tuple[str, ...]
    returncode: int = 2
    forbidden: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ("out.json",)  # names in the folder that must not appear


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    written: list[str] = field(default_factory=list)
    unchanged: bool = True
    folder: Path = ROOT  # the case's own folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def scenario(folder: Path, text: str) -> str:
    return str(write(folder, "s.yaml", text))


def run_args(path: str, *extra: str, out: bool = True) -> tuple[str, ...]:
    json = ("--json", str(Path(path).parent / "out.json")) if out else ()
    return ("run", path, *json, *QUICK, *extra)


def mm1(folder: Path, *extra: str, out: str = "out.json") -> tuple[str, ...]:
    """``run mm1.yaml`` with quick settings, ``--json FOLDER/OUT`` and ``extra``."""
    return ("run", str(MM1), *QUICK, "--json", str(folder / out), *extra)


def sweep_args() -> tuple[str, ...]:
    """A quick one-point sweep of ``mm1.yaml``."""
    return ("sweep", str(MM1), "--param", "arrivals.rate", "--values", "0.5", *QUICK)


def alias_bomb(folder: Path) -> tuple[str, ...]:
    lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return run_args(scenario(folder, "\n".join(lines) + "\nstations: *l9\n" + ARRIVALS))


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def sparse(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    with path.open("wb") as stream:
        stream.truncate(size)  # no disk used
    return path


def trace_scenario(folder: Path, file: str) -> tuple[str, ...]:
    return run_args(scenario(folder, STATION + f"arrivals: {{process: trace, file: {file!r}}}\n"))


def empirical_scenario(folder: Path, file: str) -> tuple[str, ...]:
    text = "stations:\n  a: {service: {dist: empirical, file: " + repr(file) + "}}\n" + ARRIVALS
    return run_args(scenario(folder, text))


def with_station(folder: Path, station: str, run: str = "") -> tuple[str, ...]:
    text = f"stations:\n  a: {{{station}}}\n" + ARRIVALS + run
    return run_args(scenario(folder, text))


def secret(folder: Path) -> Path:
    return write(folder, "shadow", SECRET * 3)


def secret_through_link(folder: Path, kind: str) -> tuple[str, ...]:
    """A scenario in ``folder/sub`` naming ``../link.csv``, a symbolic link to a secret."""
    (folder / "link.csv").symlink_to(secret(folder))
    (folder / "sub").mkdir()
    if kind == "trace":
        text = STATION + "arrivals: {process: trace, file: ../link.csv}\n"
    else:
        text = "stations:\n  a: {service: {dist: empirical, file: ../link.csv}}\n" + ARRIVALS
    return run_args(str(write(folder / "sub", "s.yaml", text)))


def secret_header(folder: Path) -> tuple[str, ...]:
    write(folder, "k.csv", "AKIAEXAMPLEKEY,other\n1,2\n")
    text = STATION + "arrivals: {process: trace, file: k.csv, time_column: when}\n"
    return run_args(scenario(folder, text))


def report_inside(folder: Path) -> tuple[str, ...]:
    (folder / "rep").mkdir()
    return ("report", str(write(folder / "rep", "r.json", "{}")), "--out", str(folder / "rep"))


CASES: dict[str, Case] = {
    # ---- files that are not what they claim, or too large
    "alias-bomb": Case(alias_bomb, ("aliases expand to more than 2,000,000 values",)),
    "recursive-alias": Case(
        lambda f: run_args(scenario(f, "stations: &s {a: *s}\n" + ARRIVALS)),
        ("recursive alias",),
    ),
    "scenario-dev-zero": Case(
        lambda f: ("validate", "/dev/zero"), ("/dev/zero: is a character device",), outputs=()
    ),
    "scenario-fifo": Case(
        lambda f: run_args(str(fifo(f, "s.yaml"))), ("is a FIFO (named pipe), not a regular file",)
    ),
    "scenario-folder": Case(
        lambda f: run_args(str(f)), ("is a folder, not a regular file",), outputs=()
    ),
    "scenario-too-large": Case(
        lambda f: run_args(str(sparse(f, "s.yaml", 11_000_000))),
        ("is 11 MB; a scenario file may be at most 10 MB",),
    ),
    "trace-fifo": Case(
        lambda f: trace_scenario(f, str(fifo(f, "t.csv"))), ("arrivals.file:", "is a FIFO")
    ),
    "trace-dev-zero": Case(
        lambda f: trace_scenario(f, "/dev/zero"), ("arrivals.file:", "is a character device")
    ),
    "trace-too-large": Case(
        lambda f: trace_scenario(f, str(sparse(f, "t.csv", 1_100_000_000))),
        ("is 1.1 GB; a trace file may be at most 1 GB",),
    ),
    "empirical-dev-zero": Case(
        lambda f: empirical_scenario(f, "/dev/zero"), ("service.file:", "is a character device")
    ),
    "empirical-too-large": Case(
        lambda f: empirical_scenario(f, str(sparse(f, "v.csv", 101_000_000))),
        ("a file of values may be at most 100 MB",),
    ),
    "scenario-not-utf8": Case(
        lambda f: run_args(str(write_bytes(f, "s.yaml", b"stations: \xff\xfe\n"))),
        ("is not UTF-8 text (an invalid byte at offset 10)",),
    ),
    # ---- what a message may show
    "trace-is-a-secret": Case(
        lambda f: trace_scenario(f, str(secret(f))),
        ("arrivals.file:",),
        forbidden=("$6$", "hunter2"),
    ),
    "empirical-is-a-secret": Case(
        lambda f: empirical_scenario(f, str(secret(f))),
        ("service.file:", "not a number"),
        forbidden=("$6$", "hunter2"),
    ),
    "trace-is-proc-self-status": Case(
        lambda f: trace_scenario(f, "/proc/self/status"),
        ("arrivals.file: /proc/self/status, line 2: column 1: not a timestamp",),
        forbidden=("Name:", "VmPeak", "Uid:", "Pid:"),
    ),
    "trace-secret-through-dotdot-and-a-link": Case(
        lambda f: secret_through_link(f, "trace"),
        ("arrivals.file:", "link.csv"),
        forbidden=("$6$", "hunter2", "root:"),
        outputs=("sub/out.json",),
    ),
    "empirical-secret-through-dotdot-and-a-link": Case(
        lambda f: secret_through_link(f, "empirical"),
        ("service.file:", "link.csv"),
        forbidden=("$6$", "hunter2", "root:"),
        outputs=("sub/out.json",),
    ),
    "trace-secret-header-column": Case(
        lambda f: secret_header(f),
        ("no column 'when' (time_column) in the header row (line 1, 2 columns)",),
        forbidden=("AKIA",),
    ),
    "escape-in-names": Case(
        lambda f: run_args(
            scenario(
                f,
                'name: "x\\e]8;;http://evil\\a\\e[31m"\nstations:\n'
                '  "a\\e[2J\\u202e": {servers: 0, service: {dist: exponential, rate: 2.0}}\n'
                + ARRIVALS,
            )
        ),
        ("\\x1b[2J\\u202e", "must be >= 1, got 0"),
    ),
    "long-unknown-station": Case(
        lambda f: run_args(
            scenario(
                f, STATION + "arrivals: {process: poisson, rate: 1.0, to: " + "b" * 20_000 + "}\n"
            )
        ),
        ("unknown station", "(20,000 characters)"),
    ),
    "many-faults": Case(
        lambda f: run_args(
            scenario(
                f,
                "stations:\n"
                + "".join(
                    f"  s{i}: {{servers: 0, service: {{dist: exponential, rate: 2.0}}}}\n"
                    for i in range(5000)
                )
                + ARRIVALS,
            )
        ),
        ("stations.s0.servers: must be >= 1", "more faults"),
    ),
    "thousand-stations-all-faulty": Case(
        lambda f: run_args(
            scenario(
                f,
                "stations:\n"
                + "".join(
                    f"  s{i}: {{capacity: 0, service: {{dist: exponential, rate: 2.0}}}}\n"
                    for i in range(1000)
                )
                + "arrivals: {process: poisson, rate: 1.0, to: s0}\n"
                + "routing: {"
                + ", ".join(f"s{i}: {{s{i + 1}: 0.9, s0: 0.1}}" for i in range(999))
                + "}\n",
            )
        ),
        ("stations.s0.capacity: must be >= 1", "more faults"),
    ),
    "whole-number-with-a-point": Case(
        lambda f: with_station(f, "servers: 2.0, service: {dist: exponential, rate: 2.0}"),
        ("must be a whole number written without a decimal point, got 2.0",),
    ),
    "station-without-a-name": Case(
        lambda f: run_args(
            scenario(f, "stations:\n  '': {service: {dist: exponential, rate: 2.0}}\n" + ARRIVALS)
        ),
        ("a station needs a name",),
    ),
    # ---- absurd but well-formed numbers
    "servers-1e20": Case(
        lambda f: with_station(
            f, "servers: 100000000000000000000, service: {dist: exponential, rate: 2.0}"
        ),
        ("servers: must be <= 1000000",),
    ),
    "capacity-1e9": Case(
        lambda f: with_station(f, "capacity: 1000000000, service: {dist: exponential, rate: 2.0}"),
        ("capacity: must be <= 1000000",),
    ),
    "replications-1e12": Case(
        lambda f: run_args(scenario(f, STATION + ARRIVALS), "--replications", "1000000000000"),
        ("--replications: must be <= 1000000",),
    ),
    "memory-of-replications": Case(
        lambda f: run_args(
            scenario(f, STATION + ARRIVALS), "--replications", "900000", "--warmup", "auto"
        ),
        ("--replications: 900,000 replications", "GB of measurements"),
    ),
    "rate-1e300": Case(
        lambda f: run_args(
            scenario(
                f,
                "stations:\n  a: {service: {dist: exponential, rate: 1e301}}\n"
                "arrivals: {process: poisson, rate: 1e300}\n",
            )
        ),
        ("arrivals: mean gap 1e-300 is below 1024 clock steps",),
    ),
    "validate-rate-1e300": Case(  # validate refuses what no run of the file could do
        lambda f: (
            "validate",
            scenario(
                f,
                "stations:\n  a: {service: {dist: exponential, rate: 1e301}}\n"
                "arrivals: {process: poisson, rate: 1e300}\n",
            ),
        ),
        ("arrivals: mean gap 1e-300 is below 1024 clock steps", "time could not advance"),
        outputs=(),
    ),
    "validate-horizon-denormal": Case(
        lambda f: (
            "validate",
            scenario(f, STATION + ARRIVALS + "run: {horizon: 5e-324, warmup: none}\n"),
        ),
        ("run.horizon: 4.94e-324 is too small for the clock",),
        outputs=(),
    ),
    "deterministic-gaps-1e-20": Case(
        lambda f: run_args(
            scenario(
                f,
                "stations:\n  a: {service: {dist: exponential, rate: 1e21}}\n"
                "arrivals: {process: renewal, interarrival: {dist: deterministic, value: 1e-20}}\n",
            )
        ),
        ("time could not advance",),
    ),
    "empirical-gaps-near-zero": Case(
        lambda f: run_args(
            scenario(
                f,
                "stations:\n  a: {service: {dist: exponential, rate: 1e301}}\n"
                "arrivals: {process: renewal, interarrival: "
                "{dist: empirical, values: [0, 0, 0, 1.0e-300]}}\n",
            )
        ),
        ("time could not advance",),
    ),
    "work-too-large": Case(
        lambda f: run_args(scenario(f, STATION + ARRIVALS), "--horizon", "1e12"),
        ("--horizon: about 1e+12 station visits per replication", "--max-visits"),
    ),
    "horizon-denormal": Case(
        lambda f: (
            *run_args(str(MM1), "--horizon", "5e-324", "--warmup", "none", out=False),
            "--json",
            str(f / "out.json"),
        ),
        ("--horizon: 4.94e-324 is too small for the clock",),
    ),
    "huge-integer": Case(
        lambda f: run_args(scenario(f, STATION.replace("1,", "9" * 5000 + ",") + ARRIVALS)),
        ("a number too long to read",),
    ),
    "max-replications-1e12": Case(
        lambda f: mm1(f, "--precision", "0.1", "--max-replications", "1000000000000"),
        ("--max-replications: must be <= 1000000, got 1000000000000",),
    ),
    "confidence-that-rounds-to-one": Case(
        lambda f: run_args(
            scenario(f, STATION + ARRIVALS + "run: {confidence: 0.9999999999999999}\n")
        ),
        ("run.confidence: must be <= 0.999999, got 0.9999999999999999",),
    ),
    "workers-10000": Case(
        lambda f: (
            *run_args(str(MM1), "--workers", "10000", out=False),
            "--json",
            str(f / "out.json"),
        ),
        ("--workers: must be <= ",),
    ),
    "sweep-replications-1e9": Case(
        lambda f: (
            "sweep",
            str(MM1),
            "--param",
            "run.replications",
            "--values",
            "1e9",
            "--json",
            str(f / "out.json"),
        ),
        ("run.replications: must be <= 1000000",),
    ),
    # ---- outputs checked before the run
    "json-is-a-folder": Case(
        lambda f: (*run_args(str(MM1), out=False), "--json", str(f)), ("is a folder",), outputs=()
    ),
    "json-is-the-scenario": Case(
        lambda f: (*run_args((s := scenario(f, STATION + ARRIVALS)), out=False), "--json", s),
        ("--json: is the scenario file",),
    ),
    "csv-is-the-scenario": Case(
        lambda f: (
            "sweep",
            s := scenario(f, STATION + ARRIVALS),
            "--param",
            "arrivals.rate",
            "--values",
            "0.5",
            "--csv",
            s,
            *QUICK,
        ),
        ("--csv: is the scenario file",),
    ),
    "json-is-the-checkpoint": Case(
        lambda f: (
            "sweep",
            str(MM1),
            "--param",
            "arrivals.rate",
            "--values",
            "0.5",
            "--checkpoint",
            str(f / "c.ck"),
            "--json",
            str(f / "c.ck"),
            *QUICK,
        ),
        ("names the same file as",),
        outputs=("c.ck",),
    ),
    "json-and-report-same": Case(
        lambda f: (
            *run_args(str(MM1), out=False),
            "--json",
            str(f / "r"),
            "--report",
            str(f / "r"),
        ),
        ("--report: names the same file as --json",),
        outputs=("r",),
    ),
    "json-inside-report": Case(
        lambda f: (
            *run_args(str(MM1), out=False),
            "--json",
            str(f / "rep" / "out.json"),
            "--report",
            str(f / "rep"),
        ),
        ("is inside the --report folder",),
        outputs=("rep",),
    ),
    "json-where-nothing-can-be-written": Case(
        lambda f: (*run_args(str(MM1), out=False), "--json", "/proc/eda-sim-out.json"),
        ("--json: '/proc/eda-sim-out.json' cannot be written",),
    ),
    "json-on-a-full-disk": Case(  # checked writable before the run; the write itself fails
        lambda f: (*run_args(str(MM1), out=False), "--json", "/dev/full"),
        ("error: /dev/full: No space left on device",),
        returncode=1,
    ),
    "theory-json-on-a-full-disk": Case(
        lambda f: ("theory", str(MM1), "--json", "/dev/full"),
        ("error: /dev/full: No space left on device",),
        returncode=1,
        outputs=(),
    ),
    "csv-on-a-full-disk": Case(
        lambda f: (*sweep_args(), "--csv", "/dev/full"),
        ("error: /dev/full: No space left on device",),
        returncode=1,
        outputs=(),
    ),
    "csv-is-a-folder": Case(
        lambda f: (*sweep_args(), "--csv", str(f)), ("--csv:", "is a folder"), outputs=()
    ),
    "checkpoint-fifo": Case(
        lambda f: (*sweep_args(), "--checkpoint", str(fifo(f, "c.ck")), "--resume"),
        ("--checkpoint:", "is a FIFO (named pipe), not a checkpoint file"),
        outputs=(),
    ),
    "checkpoint-dev-zero": Case(
        lambda f: (*sweep_args(), "--checkpoint", "/dev/zero", "--resume"),
        ("--checkpoint: /dev/zero: is a character device, not a checkpoint file",),
        outputs=(),
    ),
    "theory-json-is-a-folder": Case(
        lambda f: ("theory", str(MM1), "--json", str(f)), ("--json:", "is a folder"), outputs=()
    ),
    "report-out-holds-its-input": Case(
        lambda f: report_inside(f),
        ("--out: holds the results file",),
        outputs=(),
    ),
}


def sweep_of(path: str, param: str = "arrivals.rate", values: str = "0.5") -> tuple[str, ...]:
    """A quick sweep of ``path`` over ``param``."""
    return ("sweep", path, "--param", param, "--values", values, *QUICK)


def data_file(folder: Path, name: str = "v.csv") -> str:
    return str(write(folder, name, "0.1\n0.2\n0.3\n"))


def trace_file(folder: Path) -> str:
    return str(write(folder, "t.csv", "time\n" + "".join(f"{i}\n" for i in range(100))))


ESC = "\x1b[2J"

# The same faults through the other commands and fields (the audit of issue 16 tried
# each; they held, and these cases keep them held).
CASES.update(
    {
        # ---- devices, FIFOs, folders and secrets through every command and field
        "theory-scenario-dev-zero": Case(
            lambda f: ("theory", "/dev/zero"), ("/dev/zero: is a character device",), outputs=()
        ),
        "sweep-scenario-fifo": Case(
            lambda f: sweep_of(str(fifo(f, "s.yaml"))), ("is a FIFO (named pipe)",), outputs=()
        ),
        "scenario-link-to-a-device": Case(
            lambda f: ("validate", str(symlink(f, "s.yaml", "/dev/zero"))),
            ("s.yaml: is a character device",),
            outputs=(),
        ),
        "trace-is-a-folder": Case(
            lambda f: trace_scenario(f, str(f)), ("arrivals.file:", "is a folder")
        ),
        "empirical-fifo": Case(
            lambda f: empirical_scenario(f, str(fifo(f, "v.csv"))), ("service.file:", "is a FIFO")
        ),
        "empirical-gaps-from-a-fifo": Case(
            lambda f: run_args(
                scenario(
                    f,
                    STATION + "arrivals: {process: renewal, interarrival: {dist: empirical, "
                    f"file: {str(fifo(f, 'v.csv'))!r}}}}}\n",
                )
            ),
            ("arrivals.interarrival.file:", "is a FIFO"),
        ),
        "class-service-dev-zero": Case(
            lambda f: run_args(
                scenario(
                    f,
                    STATION + "classes:\n  c:\n    arrivals: {process: poisson, rate: 1}\n"
                    "    service: {a: {dist: empirical, file: /dev/zero}}\n",
                )
            ),
            ("classes.c.service.a.file: /dev/zero: is a character device",),
        ),
        "report-of-dev-zero": Case(
            lambda f: ("report", "/dev/zero", "--out", str(f / "rep")),
            ("/dev/zero: is a character device",),
            outputs=("rep",),
        ),
        "report-of-a-fifo": Case(
            lambda f: ("report", str(fifo(f, "r.json")), "--out", str(f / "rep")),
            ("is a FIFO (named pipe)",),
            outputs=("rep",),
        ),
        "report-of-a-huge-file": Case(
            lambda f: ("report", str(sparse(f, "r.json", 600_000_000)), "--out", str(f / "rep")),
            ("is 600 MB; a result file may be at most 500 MB",),
            outputs=("rep",),
        ),
        "report-of-deep-json": Case(
            lambda f: (
                "report",
                str(write(f, "r.json", "[" * 200_000 + "]" * 200_000)),
                "--out",
                str(f / "rep"),
            ),
            ("the JSON is nested too deeply",),
            outputs=("rep",),
        ),
        "report-of-a-secret": Case(
            lambda f: ("report", str(secret(f)), "--out", str(f / "rep")),
            ("not JSON",),
            forbidden=("$6$", "hunter2", "root:"),
            outputs=("rep",),
        ),
        "checkpoint-is-a-secret": Case(
            lambda f: (*sweep_args(), "--checkpoint", str(secret(f)), "--resume"),
            ("is not an eda-sim sweep checkpoint",),
            forbidden=("$6$", "hunter2", "root:"),
            outputs=(),
        ),
        "trace-is-proc-self-environ": Case(
            lambda f: trace_scenario(f, "/proc/self/environ"),
            ("arrivals.file: /proc/self/environ",),
            forbidden=("PATH=", "HOME="),
        ),
        "scenario-nested-too-deep": Case(
            lambda f: run_args(scenario(f, "stations: " + "[" * 100_000 + "]" * 100_000 + "\n")),
            ("exceeded maximum nesting depth",),
        ),
        # ---- absurd numbers through sweeps and other fields
        "sweep-servers-1e9": Case(
            lambda f: sweep_of(str(MM1), "stations.handler.servers", "1e9"),
            ("stations.handler.servers: must be <= 1000000", "sweep point 1 of 1"),
            outputs=(),
        ),
        "sweep-horizon-denormal": Case(
            lambda f: (
                *("sweep", str(MM1), "--param", "run.horizon", "--values", "5e-324"),
                *("--replications", "2", "--warmup", "none", "--engine", "simpy"),
            ),
            ("4.94e-324 is too small for the clock",),
            outputs=(),
        ),
        "sweep-rate-1e300": Case(
            lambda f: (*sweep_of(str(MM1), "arrivals.rate", "1e300"), "--allow-unstable"),
            ("time could not advance",),
            outputs=(),
        ),
        "uniform-gaps-near-zero": Case(
            lambda f: run_args(
                scenario(
                    f,
                    "stations:\n  a: {service: {dist: exponential, rate: 1e22}}\n"
                    "arrivals: {process: renewal, interarrival: "
                    "{dist: uniform, low: 0, high: 1e-20}}\n",
                )
            ),
            ("time could not advance",),
        ),
        "replications-300-digits": Case(
            lambda f: mm1(f, "--replications", "9" * 300),
            ("--replications: must be <= 1000000, got a whole number of about 301 digits",),
        ),
        "workers-300-digits": Case(
            lambda f: mm1(f, "--workers", "9" * 300), ("--workers: must be <= ", "characters)")
        ),
        "sweep-workers-10000": Case(
            lambda f: (*sweep_args(), "--workers", "10000"), ("--workers: must be <= ",), outputs=()
        ),
        "replications-with-a-point": Case(
            lambda f: run_args(scenario(f, STATION + ARRIVALS + "run: {replications: 2.0}\n")),
            ("run.replications: must be a whole number written without a decimal point",),
        ),
        "class-without-a-name": Case(
            lambda f: run_args(
                scenario(f, STATION + "classes:\n  '': {arrivals: {process: poisson, rate: 1}}\n")
            ),
            ("an event class needs a name",),
        ),
        # ---- outputs that name inputs, each other, or nowhere
        "json-missing-folder": Case(
            lambda f: mm1(f, out="no/such/out.json"), ("does not exist",), outputs=("no",)
        ),
        "json-dangling-link": Case(
            lambda f: mm1(f, out=symlink(f, "o.json", str(f / "nowhere" / "r.json")).name),
            ("does not exist",),
            outputs=("nowhere",),
        ),
        "json-is-the-scenario-through-a-hard-link": Case(
            lambda f: (
                *run_args((s := scenario(f, STATION + ARRIVALS)), out=False),
                "--json",
                str(hard_link(f, s, "h.json")),
            ),
            ("--json: is the scenario file",),
        ),
        "theory-json-is-the-scenario": Case(
            lambda f: ("theory", s := scenario(f, STATION + ARRIVALS), "--json", s),
            ("--json: is the scenario file",),
        ),
        "json-is-the-trace": Case(
            lambda f: (
                *trace_scenario(f, trace_file(f))[:2],
                *QUICK,
                "--json",
                str(f / "t.csv"),
            ),
            ("--json: is the trace file",),
        ),
        "csv-is-the-file-of-values": Case(
            lambda f: (
                *sweep_of(empirical_scenario(f, data_file(f))[1]),
                "--csv",
                str(f / "v.csv"),
            ),
            ("--csv: is the file of values",),
        ),
        "checkpoint-is-the-scenario": Case(
            lambda f: (*sweep_of(s := scenario(f, STATION + ARRIVALS)), "--checkpoint", s),
            ("--checkpoint: is the scenario file",),
        ),
        "json-and-csv-same": Case(
            lambda f: (*sweep_args(), "--json", str(f / "o"), "--csv", str(f / "o")),
            ("--csv: names the same file as --json",),
            outputs=("o",),
        ),
        "csv-and-report-same": Case(
            lambda f: (*sweep_args(), "--csv", str(f / "o"), "--report", str(f / "o")),
            ("--report: names the same file as --csv",),
            outputs=("o",),
        ),
        "report-is-a-file": Case(
            lambda f: (*run_args(str(MM1), out=False), "--report", str(write(f, "x", "keep"))),
            ("exists and is not a folder",),
        ),
        "report-folder-holds-the-scenario": Case(
            lambda f: (
                *run_args(str(write(f, "index.html", STATION + ARRIVALS)), out=False),
                "--report",
                str(f),
            ),
            ("--report: holds the scenario file",),
            outputs=(),
        ),
        "report-where-nothing-can-be-written": Case(
            lambda f: (*run_args(str(MM1), out=False), "--report", "/proc/eda-sim-report"),
            ("--report: '/proc/eda-sim-report' cannot be written",),
        ),
        # ---- what a message may show, through other fields and commands
        "escape-in-sweep-param": Case(
            lambda f: sweep_of(str(MM1), f"stations.h{ESC}.servers", "1"),
            ("'stations.h\\x1b[2J.servers' is not a field",),
            outputs=(),
        ),
        "escape-in-sweep-values": Case(
            lambda f: sweep_of(str(MM1), "arrivals.rate", f"0.5,{ESC}"),
            ("--values: each value must be a number, got '\\x1b[2J'",),
            outputs=(),
        ),
        "escape-in-options": Case(
            lambda f: mm1(f, "--warmup", "\x1b]8;;http://x\x07", "--quantiles", ESC),
            ("--warmup: must be auto, none or a time, got '\\x1b]8;;http://x\\x07'", "\\x1b[2J"),
        ),
        "escape-in-a-path": Case(
            lambda f: ("validate", str(f / f"s{ESC}\x07.yaml")),
            ("s\\x1b[2J\\x07.yaml: no such file",),
            outputs=(),
        ),
        "escape-in-an-output-path": Case(
            lambda f: mm1(f, out=f"no{ESC}/x.json"), ("no\\x1b[2J",), outputs=()
        ),
        "escape-in-an-slo-target": Case(
            lambda f: run_args(
                scenario(f, STATION + ARRIVALS + 'slo:\n  - {target: "a\\e[2J", max: 3}\n')
            ),
            ("slo[0].target:", "\\x1b[2J"),
        ),
        "escape-in-a-dist-and-a-key": Case(
            lambda f: run_args(
                scenario(
                    f,
                    'stations:\n  a: {service: {dist: "e\\e[2J", rate: 2}}\n'
                    + ARRIVALS
                    + '"k\\e]8;;x\\a": 1\n',
                )
            ),
            ("unknown dist 'e\\x1b[2J'", "k\\x1b]8;;x\\x07: unknown field"),
        ),
        "long-sweep-param": Case(
            lambda f: sweep_of(str(MM1), "stations." + "h" * 20_000 + ".servers", "1"),
            ("is not a field", "(20,017 characters)"),
            outputs=(),
        ),
        "long-sweep-values": Case(
            lambda f: sweep_of(str(MM1), "arrivals.rate", "x" * 20_000),
            ("--values: each value must be a number", "(20,000 characters)"),
            outputs=(),
        ),
        "long-class-name": Case(
            lambda f: run_args(
                scenario(
                    f,
                    STATION + "classes:\n  ? " + "c" * 20_000 + "\n"
                    "  : {arrivals: {process: poisson, rate: 1.0, to: zz}}\n",
                )
            ),
            ("unknown station", "(20,021 characters)"),
        ),
        "max-visits-nan": Case(
            lambda f: mm1(f, "--max-visits", "nan"),
            ("--max-visits: must be a number > 0, got nan",),
        ),
        "sweep-max-visits-0": Case(
            lambda f: (*sweep_args(), "--max-visits", "0"),
            ("--max-visits:", "must be a number > 0, got 0"),
            outputs=(),
        ),
        "quantile-level-1e-300": Case(  # once an OverflowError after the whole run
            lambda f: mm1(f, "--quantiles", "1e-300"),
            ("--quantiles: must be >= 1e-12 and <= 1 - 1e-12", "got 1e-300"),
        ),
        "quantile-level-that-would-be-named-p100": Case(
            lambda f: run_args(
                scenario(f, STATION + ARRIVALS + "run: {quantiles: [0.5, 0.9999999999999]}\n")
            ),
            ("run.quantiles: must be >= 1e-12 and <= 1 - 1e-12",),
        ),
        "long-output-path": Case(
            lambda f: mm1(f, out="/nonexistent/" + "p/" * 5000 + "o.json"),
            ("--json:", "cannot be written", "characters)"),
            outputs=(),
        ),
    }
)


def symlink(folder: Path, name: str, target: str) -> Path:
    path = folder / name
    path.symlink_to(target)
    return path


def hard_link(folder: Path, target: str, name: str) -> Path:
    path = folder / name
    os.link(target, path)
    return path


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_fifo() and p.stat().st_size < 10_000_000
    }


def real_command(args: tuple[str, ...]) -> tuple[int, str, str]:
    """``python -m eda_sim ARGS`` as a process of its own, limited from its start."""
    process = subprocess.run(
        [sys.executable, "-m", "eda_sim", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=WALL_CAP * 2,
        preexec_fn=_limits,
        env=ENV,
    )
    return process.returncode, process.stdout, process.stderr


def forked_command(
    servers: Queue[CommandForks],
) -> Callable[[tuple[str, ...]], tuple[int, str, str]]:
    """``eda-sim ARGS`` forked from a warm server of ``servers``, limited in the fork."""

    def command(args: tuple[str, ...]) -> tuple[int, str, str]:
        done = run_on(servers, args, cwd=ROOT, limits=LIMITS, timeout=WALL_CAP * 2)
        return done.returncode, done.stdout, done.stderr

    return command


def execute(
    folder: Path, case: Case, command: Callable[[tuple[str, ...]], tuple[int, str, str]]
) -> Outcome:
    folder.mkdir()
    args = case.make(folder)
    before = snapshot(folder)
    started = time.monotonic()
    returncode, stdout, stderr = command(args)
    seconds = time.monotonic() - started
    written = [name for name in case.outputs if (folder / name).exists()]
    if "rep" in case.outputs and (folder / "rep").is_dir():
        written = [name for name in written if name != "rep"] + [
            f"rep/{p.name}" for p in (folder / "rep").iterdir() if p.name != "r.json"
        ]
    after = snapshot(folder)
    unchanged = all(after.get(name) == data for name, data in before.items())
    return Outcome(returncode, stdout, stderr, seconds, written, unchanged, folder)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    base = tmp_path_factory.mktemp("hostile")
    with command_servers(2, ENV) as servers, ThreadPoolExecutor(max_workers=2) as pool:
        command = forked_command(servers)
        futures = {
            name: pool.submit(execute, base / name, case, command) for name, case in CASES.items()
        }
        return {name: future.result() for name, future in futures.items()}


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_refused_in_bounded_time_and_memory(
    name: str, outcomes: dict[str, Outcome]
) -> None:
    case, outcome = CASES[name], outcomes[name]
    shown = f"stderr was:\n{outcome.stderr}"
    assert outcome.returncode == case.returncode, shown
    assert outcome.seconds < WALL_CAP, outcome.seconds
    assert "Traceback" not in outcome.stderr and "Exception ignored" not in outcome.stderr, shown
    assert outcome.stdout == "", outcome.stdout
    lines = outcome.stderr.splitlines()
    assert 1 <= len(lines) <= MAX_LINES, shown
    for line in lines:
        assert line.startswith("error: "), shown
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
        # The file's own path comes first (its folder is the temporary one, of any
        # length); the message after it is short.
        message = line.replace(str(outcome.folder), "")
        assert len(message.split(".yaml: ", 1)[-1]) <= MAX_LINE + 20, repr(line)
    for fragment in case.expect:
        assert fragment in outcome.stderr, f"{fragment!r} missing; {shown}"
    for fragment in case.forbidden:
        assert fragment not in outcome.stderr, f"{fragment!r} was shown; {shown}"
    assert outcome.written == [], f"{outcome.written} written"
    assert outcome.unchanged, "an input was changed"


def test_a_forked_case_is_what_the_real_command_does(
    tmp_path_factory: pytest.TempPathFactory, outcomes: dict[str, Outcome]
) -> None:
    """The sample as real ``python -m eda_sim`` processes: the same code, text and files."""
    base = tmp_path_factory.mktemp("hostilr")  # as long as "hostile": paths elide alike
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(execute, base / name, CASES[name], real_command)
            for name in REAL_SAMPLE
        }
        real = {name: future.result() for name, future in futures.items()}
    for name in REAL_SAMPLE:
        forked, alone = outcomes[name], real[name]
        # Paths differ by the case's folder only.
        shown = forked.stderr.replace(str(forked.folder), "FOLDER")
        assert (alone.returncode, alone.stdout) == (forked.returncode, forked.stdout), name
        assert alone.stderr.replace(str(alone.folder), "FOLDER") == shown, name
        assert (alone.written, alone.unchanged) == (forked.written, forked.unchanged), name
        assert alone.seconds < WALL_CAP, (name, alone.seconds)
