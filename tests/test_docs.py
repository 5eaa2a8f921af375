"""The documentation site builds without a warning, and every code block in it runs.

* ``mkdocs build --strict`` (warnings are errors) builds the site from ``docs/``.
* ``python`` blocks run in one namespace per page, in a scratch folder.
* Command lines (``bash`` and ``console`` blocks, ``&&`` chains split) are run or
  checked by kind: ``eda-sim ...`` runs through the real command (in a process of
  its own forked from a warm interpreter, :mod:`command_forks`, which saves the
  second of imports of each of the site's ~27 command lines), in a scratch
  folder (one per page, so a later line reads what an earlier one wrote), with the
  horizon and replications shortened where a line would run long (``SHORT``);
  ``python benchmarks/X.py`` must exist and answer ``--help`` (the benchmarks run
  for minutes; their figures are measured by hand and say so); the set-up commands
  (``python3 -m venv``, activation, ``pip install -e``, ``pytest``, ``mkdocs
  serve``, a Dask scheduler or worker) are not run here -- CI runs the README's set-up
  itself -- but every extra they install must be declared in ``pyproject.toml``;
  a line with ``--scheduler ADDRESS`` runs with ``--workers 1`` instead (the same
  numbers: ``tests/test_distributed.py`` runs a real cluster).
  Any other command fails the test, so a new kind of block gets a rule.
* ``yaml`` blocks that describe a whole scenario are validated as one; fragments
  must parse.
* ``text`` blocks are sample output and are not run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from command_forks import CommandForks

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BLOCK = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

#: What a shortened ``eda-sim run``/``sweep`` line runs with: enough to exercise
#: every option, not enough to take long (long horizons are cut to this).
SHORT = {"--horizon": "600", "--replications": "2", "--warmup": "60"}
#: With a precision target, a cap on the rounds.
SHORT_PRECISION = ["--max-replications", "4"]
SET_UP = ("python3 -m venv", ". .venv/bin/activate", "pytest", "mkdocs serve", "dask ")


def blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(page.read_text())]


def command_lines(code: str) -> list[str]:
    """The commands of a shell block: comments dropped, continuations joined, ``&&`` split."""
    joined = re.sub(r"\\\n\s*", " ", code)
    lines = []
    for raw in joined.splitlines():
        line = raw.split(" #")[0].strip() if not raw.lstrip().startswith("#") else ""
        lines += [part.strip() for part in line.split("&&") if part.strip()]
    return lines


def shortened(words: list[str]) -> list[str]:
    """An ``eda-sim run``/``sweep`` line with a short horizon and few replications."""
    if len(words) < 2 or words[1] not in ("run", "sweep"):
        return words
    out = list(words)
    for option, value in SHORT.items():
        if option in out:
            position = out.index(option) + 1
            if option != "--warmup" and float(out[position]) > float(value):
                out[position] = value
        else:
            out += [option, value]
    if "--precision" in out and "--max-replications" not in out:
        out += SHORT_PRECISION
    return out


def extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project.get("optional-dependencies", {}))


def run_command(line: str, folder: Path, forks: CommandForks) -> None:
    """Run or check one documented command (see the module docstring)."""
    if line.startswith("eda-sim"):
        redirect = None
        if ">" in line:
            line, redirect = (part.strip() for part in line.split(">", 1))
        words = shortened(shlex.split(line))
        command = words[1:]
        if "--workers" in command:
            command[command.index("--workers") + 1] = "1"
        if "--scheduler" in command:  # no cluster here: the same run in this process
            at = command.index("--scheduler")
            command[at : at + 2] = ["--workers", "1"]
        done = forks.run(command, cwd=folder, timeout=300)
        assert done.returncode == 0, f"{line!r} exited {done.returncode}:\n{done.stderr}"
        assert "Traceback" not in done.stderr
        if redirect is not None:
            (folder / redirect).write_text(done.stdout)
    elif line.startswith("python benchmarks/"):
        script = ROOT / shlex.split(line)[1]
        assert script.is_file(), line
        done = subprocess.run(
            [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{script.name} --help: {done.stderr}"
    elif line.startswith("pip install"):
        for extra in re.findall(r"\[([\w,-]+)\]", line):
            assert set(extra.split(",")) <= extras(), f"{line!r}: undeclared extra {extra}"
    else:
        assert line.startswith(SET_UP), f"no rule for the documented command {line!r}"


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in PAGES:
        assert str(page.relative_to(DOCS)) in nav, page


def test_the_site_builds_without_warnings(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    if mkdocs is None:
        pytest.fail("mkdocs is not installed; pip install -e '.[dev]'")
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    reference = (tmp_path / "site" / "reference" / "scenario" / "index.html").read_text()
    assert "StationSpec" in reference and "eda-sim: " not in reference


@pytest.fixture(scope="module")
def forks() -> Iterator[CommandForks]:
    """The warm interpreter the pages' ``eda-sim`` lines are forked from."""
    server = CommandForks({**os.environ, "MPLBACKEND": "Agg"})
    yield server
    server.close()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_code_block_of_the_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: CommandForks
) -> None:
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")  # the paths the docs use
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for language, code in blocks(page):
        if language == "python":
            exec(compile(code, f"{page.name} (python block)", "exec"), namespace)
        elif language in ("bash", "console", "sh", "shell"):
            for line in command_lines(code):
                run_command(line, tmp_path, forks)
        elif language == "yaml":
            document = yaml.safe_load(code)
            if isinstance(document, dict) and "stations" in document:
                from eda_sim.scenario import scenario_from_dict

                scenario_from_dict(document, base_dir=ROOT / "scenarios")
        else:
            assert language == "text", f"{page.name}: a {language or 'plain'} block has no rule"


def test_the_references_name_every_field_and_option() -> None:
    import typer.main

    from eda_sim.cli.app import app
    from eda_sim.cli.reference import cli_reference, scenario_reference
    from eda_sim.scenario import json_schema

    schema = json_schema()
    text = scenario_reference(schema)
    for definition in [schema, *schema["$defs"].values()]:
        for field in definition.get("properties", {}):
            assert f"`{field}`" in text, field
    commands = cli_reference()
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"### eda-sim {name}" in commands
        for param in command.params:
            for option in param.opts if param.param_type_name == "option" else ():
                assert f"`{option}`" in commands, (name, option)


def test_command_lines_are_split_and_shortened() -> None:
    assert [line.split() for line in command_lines("a && b \\\n  c  # note\n# x\n")] == [
        ["a"],
        ["b", "c"],
    ]
    assert shortened(["eda-sim", "run", "x.yaml", "--horizon", "50000"])[4] == "600"
    assert shortened(["eda-sim", "theory", "x.yaml"]) == ["eda-sim", "theory", "x.yaml"]
