"""The bad-input corpus: real files through the real ``eda-sim`` command.

Every ``tests/bad_inputs/NN-name.yaml`` is a scenario a user might write by
mistake. Its ``# expect:`` comment lines hold fragments that must appear on
stderr (the field, the value, the rule). Each file is run as
``python -m eda_sim run FILE --json OUT --replications 2 --horizon 100`` and must
be refused the same way: exit code 2, a few lines at most, each starting with
``error: ``, no traceback, nothing on stdout and no output file. Bad command-line
arguments are held to the same contract.

The commands run two at a time in a module-scoped fixture, each in a process of
its own forked from a warm interpreter that imported the package once
(:mod:`command_forks`; a fresh ``python -m eda_sim`` is about a second of
imports, which was most of this module's time); the tests then only look at the
results. :func:`test_a_forked_command_is_what_the_real_command_does` runs a sample
as real ``python -m eda_sim`` processes and checks that they say the same.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from queue import Queue

import pytest
from command_forks import CommandForks, command_servers, run_on

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CORPUS_FILES = sorted(CORPUS.glob("*.yaml"))
VALID = ROOT / "scenarios" / "mm1.yaml"  # warm-up 1000, horizon 20000

#: The options every corpus file is run with.
QUICK = ["--replications", "2", "--horizon", "100"]
#: For bad-option cases: a valid scenario and run settings, so the option is the only fault.
QUICK_VALID = [*QUICK, "--warmup", "10"]
#: At most this many lines on stderr for one bad file.
MAX_LINES = 6
#: The files run through ``eda-sim validate`` as well as ``eda-sim run``.
VALIDATE_TOO = (
    "01-yaml-unclosed-brace.yaml",
    "36-unstable-load.yaml",
    "52-many-faults.yaml",
    "53-model-faults-together.yaml",
)


def comment_values(path: Path, key: str) -> list[str]:
    """The values of the ``# KEY: ...`` comment lines of a corpus file, in order."""
    prefix = f"# {key}:"
    return [
        line.removeprefix(prefix).strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(prefix)
    ]


def expected_fragments(path: Path) -> list[str]:
    """The ``# expect: ...`` lines: fragments that must appear on stderr."""
    return comment_values(path, "expect")


def corpus_param(path: Path) -> object:
    """A corpus file as a test parameter; ``# xfail: REASON`` marks a known package bug."""
    reasons = comment_values(path, "xfail")
    marks = [pytest.mark.xfail(strict=True, reason=reason) for reason in reasons]
    return pytest.param(path, id=path.name, marks=marks)


@dataclass(frozen=True)
class Case:
    """One command to run, what it must say, and where it must not write."""

    args: tuple[str, ...]
    fragments: tuple[str, ...]
    out: Path | None = None


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    out_exists: bool

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def corpus_case(path: Path, command: str, out_dir: Path) -> Case:
    out = out_dir / f"{path.stem}-{command}.json"
    if command == "run":
        args = ("run", str(path), "--json", str(out), *QUICK)
    else:
        args = ("validate", str(path))
    return Case(args, tuple(expected_fragments(path)), out if command == "run" else None)


#: Bad command-line arguments: name -> (arguments, fragments expected on stderr).
#: ``{tmp}`` is a scratch folder (holding an empty ``a-folder``), ``{valid}`` a valid
#: scenario, ``{corpus}`` the corpus folder, ``{out}`` a JSON output that must not be
#: written. Arguments that do not start with a command are options added to
#: ``run {valid} --json {out}`` with quick, valid run settings.
CLI_SPECS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "unknown-option": (("--frobnicate",), ("--frobnicate",)),
    "horizon-not-a-number": (("--horizon", "abc"), ("--horizon", "'abc'")),
    "replications-not-whole": (("--replications", "2.5"), ("--replications", "'2.5'")),
    "horizon-negative": (("--horizon", "-5"), ("--horizon: must be > 0, got -5",)),
    "horizon-nan": (("--horizon", "nan"), ("--horizon: must be a finite number, got nan",)),
    "workers-zero": (("--workers", "0"), ("--workers: must be >= 1, got 0",)),
    "ci-unknown": (("--ci", "bootstrap"), ("--ci: must be replications or batch-means",)),
    "precision-negative": (("--precision", "-1"), ("--precision: must be > 0, got -1",)),
    "seed-negative": (("--seed", "-3"), ("--seed: must be >= 0, got -3",)),
    "warmup-word": (("--warmup", "later"), ("--warmup: must be auto, none or a time",)),
    "warmup-past-horizon": (
        ("--warmup", "500"),
        ("--warmup: must be < the horizon (100), got 500",),
    ),
    "several-bad-options": (
        ("--workers", "0", "--ci", "wrong", "--seed", "-1"),
        ("--workers: must be >= 1", "--ci: must be", "--seed: must be >= 0"),
    ),
    "json-into-missing-folder": (
        ("run", "{valid}", *QUICK_VALID, "--json", "{tmp}/no/such/out.json"),
        ("--json: ", "cannot be written: folder", "does not exist"),
    ),
    "missing-scenario-file": (
        ("run", "{tmp}/no-such-scenario.yaml", "--json", "{out}", *QUICK_VALID),
        ("no-such-scenario.yaml: no such file",),
    ),
    "scenario-is-a-directory": (
        ("run", "{tmp}/a-folder", "--json", "{out}", *QUICK_VALID),
        ("a-folder: is a folder, not a regular file",),
    ),
    "bad-option-and-bad-file": (
        ("run", "{corpus}/36-unstable-load.yaml", "--json", "{out}", *QUICK, "--workers", "0"),
        ("--workers: must be >= 1, got 0", "offered load ρ = 1.5 >= 1"),
    ),
    "bad-option-hides-no-run-fault": (
        ("--precision", "-1", "--warmup", "100"),
        ("--precision: must be > 0, got -1", "--warmup: must be < the horizon (100), got 100"),
    ),
    "validate-missing-file": (("validate", "{tmp}/absent.yaml"), ("absent.yaml: no such file",)),
    "theory-json-missing-folder": (
        ("theory", "{valid}", "--json", "{tmp}/nowhere/theory.json"),
        ("--json: ", "cannot be written: folder", "does not exist"),
    ),
}
COMMANDS = ("run", "validate", "theory")


def cli_case(name: str, tmp: Path) -> Case:
    arguments, fragments = CLI_SPECS[name]
    out = tmp / f"cli-{name}.json"
    if arguments[0] not in COMMANDS:
        arguments = ("run", "{valid}", "--json", "{out}", *QUICK_VALID, *arguments)
    filled = tuple(a.format(tmp=tmp, valid=VALID, out=out, corpus=CORPUS) for a in arguments)
    if "--json" in filled:  # the file the command must not write
        out = Path(filled[filled.index("--json") + 1])
    return Case(filled, fragments, out if "--json" in filled else None)


#: Usage errors found by the argument parser itself (unknown option, unparsable
#: number); eda-sim reports them as one ``error: `` line too; what they say.
CLICK_USAGE = {
    "unknown-option": "No such option: --frobnicate",
    "horizon-not-a-number": "Invalid value for '--horizon'",
    "replications-not-whole": "Invalid value for '--replications'",
}
#: Known package bugs among the command-line cases (name -> reason).
CLI_XFAIL: dict[str, str] = {}


def outcome_of(case: Case, returncode: int, stdout: str, stderr: str) -> Outcome:
    return Outcome(returncode, stdout, stderr, case.out is not None and case.out.exists())


def execute(case: Case) -> Outcome:
    """``python -m eda_sim ARGS`` as a process of its own."""
    process = subprocess.run(
        [sys.executable, "-m", "eda_sim", *case.args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    return outcome_of(case, process.returncode, process.stdout, process.stderr)


def execute_forked(servers: Queue[CommandForks], case: Case) -> Outcome:
    """``eda-sim ARGS`` in a process forked from a warm server of ``servers``."""
    done = run_on(servers, case.args, cwd=ROOT, timeout=120)
    return outcome_of(case, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-inputs")


@pytest.fixture(scope="module")
def cases(work_dir: Path) -> dict[str, Case]:
    everything = {f"run:{p.name}": corpus_case(p, "run", work_dir) for p in CORPUS_FILES}
    everything.update(
        {
            f"validate:{name}": corpus_case(CORPUS / name, "validate", work_dir)
            for name in VALIDATE_TOO
        }
    )
    (work_dir / "a-folder").mkdir()
    everything.update({f"cli:{name}": cli_case(name, work_dir) for name in CLI_SPECS})
    return everything


@pytest.fixture(scope="module")
def outcomes(cases: dict[str, Case]) -> dict[str, Outcome]:
    """Every command run once, two at a time, each in a forked process."""
    with command_servers(2) as servers, ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.map(functools.partial(execute_forked, servers), cases.values())
        return dict(zip(cases, found, strict=True))


#: Commands also run as real ``python -m eda_sim`` processes: YAML, schema, model and
#: several faults, ``validate``, a bad option and a usage error of the parser.
REAL_SAMPLE = (
    "run:01-yaml-unclosed-brace.yaml",
    "run:52-many-faults.yaml",
    "validate:53-model-faults-together.yaml",
    "cli:several-bad-options",
    "cli:unknown-option",
)


def test_a_forked_command_is_what_the_real_command_does(
    cases: dict[str, Case], outcomes: dict[str, Outcome]
) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.map(execute, [cases[key] for key in REAL_SAMPLE])
        real = dict(zip(REAL_SAMPLE, found, strict=True))
    for key in REAL_SAMPLE:
        assert real[key] == outcomes[key], key


def assert_refused(case: Case, outcome: Outcome, *, strict_format: bool = True) -> None:
    shown = f"stderr was:\n{outcome.stderr}"
    assert outcome.returncode == 2, shown
    assert "Traceback" not in outcome.stderr, shown
    assert outcome.stdout == "", f"stdout was:\n{outcome.stdout}"
    assert not outcome.out_exists, f"{case.out} was written"
    for fragment in case.fragments:
        assert fragment in outcome.stderr, f"{fragment!r} missing; {shown}"
    if strict_format:
        assert 1 <= len(outcome.lines) <= MAX_LINES, shown
        for line in outcome.lines:
            assert line.startswith("error: "), f"{line!r} does not start with 'error: '; {shown}"


# ---------------------------------------------------------------- the corpus


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS_FILES) >= 32
    for path in CORPUS_FILES:
        assert expected_fragments(path), f"{path.name} has no '# expect:' line"
        assert path.read_text(encoding="utf-8").startswith("# "), path.name


@pytest.mark.parametrize("path", [corpus_param(p) for p in CORPUS_FILES])
def test_bad_file_is_refused_by_run(
    path: Path, cases: dict[str, Case], outcomes: dict[str, Outcome]
) -> None:
    key = f"run:{path.name}"
    assert_refused(cases[key], outcomes[key])


@pytest.mark.parametrize("name", VALIDATE_TOO)
def test_bad_file_is_refused_by_validate(
    name: str, cases: dict[str, Case], outcomes: dict[str, Outcome]
) -> None:
    key = f"validate:{name}"
    assert_refused(cases[key], outcomes[key])


def test_independent_faults_are_reported_together(outcomes: dict[str, Outcome]) -> None:
    """Five independent faults in one file: five lines, one per fault, nothing else."""
    path = CORPUS / "52-many-faults.yaml"
    outcome = outcomes[f"run:{path.name}"]
    expected = expected_fragments(path)
    assert len(expected) == 5
    assert len(outcome.lines) == len(expected), outcome.stderr
    for fragment in expected:
        assert sum(fragment in line for line in outcome.lines) == 1, outcome.stderr


def test_faults_after_the_schema_are_reported_together(outcomes: dict[str, Outcome]) -> None:
    path = CORPUS / "53-model-faults-together.yaml"
    outcome = outcomes[f"run:{path.name}"]
    assert len(outcome.lines) == len(expected_fragments(path)) == 4, outcome.stderr


# ---------------------------------------------------------------- command-line arguments


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=CLI_XFAIL[name]))
        if name in CLI_XFAIL
        else name
        for name in CLI_SPECS
    ],
)
def test_bad_arguments_are_refused(
    name: str, cases: dict[str, Case], outcomes: dict[str, Outcome]
) -> None:
    key = f"cli:{name}"
    assert_refused(cases[key], outcomes[key])


def test_an_unreadable_option_causes_no_second_fault(outcomes: dict[str, Outcome]) -> None:
    """``--warmup later`` was to replace the file's warm-up (1000): that one is not
    compared with ``--horizon 100``."""
    assert outcomes["cli:warmup-word"].lines == [
        "error: --warmup: must be auto, none or a time, got 'later'"
    ]


@pytest.mark.parametrize("name", CLICK_USAGE)
def test_usage_errors_exit_2_without_traceback_or_output(
    name: str, cases: dict[str, Case], outcomes: dict[str, Outcome]
) -> None:
    """What click's own usage errors do get right (their format is the xfail above)."""
    key = f"cli:{name}"
    case = replace(cases[key], fragments=(CLICK_USAGE[name],))
    assert_refused(case, outcomes[key], strict_format=False)


# ---------------------------------------------------------------- numbers with exponents


def test_a_number_with_a_dot_and_an_exponent_is_a_number(work_dir: Path) -> None:
    """Not bad input at all: ``2.5e4`` is a number in YAML 1.2 and JSON, as ``1e4`` is."""
    path = work_dir / "exponent.yaml"
    path.write_text(
        "stations:\n  a: {servers: 1, service: {dist: exponential, rate: 2.0}}\n"
        "arrivals: {process: poisson, rate: 1.0}\n"
        "run: {horizon: 2.5e4, warmup: 1.5e2}\n",
        encoding="utf-8",
    )
    process = subprocess.run(
        [sys.executable, "-m", "eda_sim", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
