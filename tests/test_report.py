"""HTML reports (eda_sim.report and the CLI): sections, escaping, atomic folders, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from command_forks import REPORT_PRELOAD, eda_sim_forked

import eda_sim
import eda_sim.report as report_module
from eda_sim import plots
from eda_sim.errors import ScenarioError
from eda_sim.experiment import SweepResult, sweep
from eda_sim.report import (
    read_result,
    report_dir_faults,
    write_any_report,
    write_report,
    write_sweep_report,
)
from eda_sim.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SMALL = {"replications": 2, "horizon": 600.0, "warmup": 60.0, "workers": 1}
QUICK = ["--horizon", "600", "--replications", "2", "--warmup", "60", "--workers", "1"]

EVIL_STATION = '<img src=x onerror="alert(1)">'
EVIL_CLASS = "<script>alert('class')</script>"
HOSTILE = {
    "name": "hostile & <b>bold</b>",
    "description": "A description with <em>markup</em> & ampersands.",
    "stations": {
        EVIL_STATION: {"servers": 1, "service": {"dist": "exponential", "rate": 2.0}},
        "plain": {"servers": 2, "service": {"dist": "exponential", "rate": 1.0}},
    },
    "classes": {
        EVIL_CLASS: {
            "arrivals": {"process": "poisson", "rate": 0.6, "to": EVIL_STATION},
            "routing": {EVIL_STATION: {"plain": 0.5}},
        },
        "quiet": {"arrivals": {"process": "poisson", "rate": 0.3, "to": "plain"}},
    },
    "run": {"horizon": 400, "warmup": 40, "replications": 2, "seed": 5},
}


def eda_sim_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m eda_sim ARGS`` in a process of its own, forked from a warm interpreter
    that has imported the package and matplotlib (:mod:`command_forks`): the exit code,
    stdout, stderr and files of the real command, without a second of imports per command.
    """
    return eda_sim_forked(*args, cwd=cwd, preload=REPORT_PRELOAD)


@pytest.fixture(scope="module")
def jackson() -> eda_sim.RunResult:
    return eda_sim.run(eda_sim.load_scenario(SCENARIOS / "jackson3.yaml"), **SMALL)


@pytest.fixture(scope="module")
def jackson_report(jackson: eda_sim.RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of ``jackson``, written once: the tests that only read it share it."""
    folder = tmp_path_factory.mktemp("jackson") / "report"
    assert write_report(jackson, folder) == folder / "index.html"
    return folder


@pytest.fixture(scope="module")
def single() -> eda_sim.RunResult:
    """A one-station run: the smallest report, for what does not depend on its content."""
    return eda_sim.run(eda_sim.load_scenario(SCENARIOS / "mm1.yaml"), **SMALL)


@pytest.fixture(scope="module")
def mm1_sweep() -> tuple[eda_sim.Scenario, SweepResult]:
    scenario = eda_sim.load_scenario(SCENARIOS / "mm1.yaml")
    result = sweep(scenario, "arrivals.rate", "0.5,0.8,1.2", replications=2, horizon=400, warmup=40)
    return scenario, result


def images(page: str) -> list[str]:
    return re.findall(r"<img [^>]*>", page)


def test_run_report_has_every_section_and_figure(jackson_report: Path) -> None:
    page = (jackson_report / "index.html").read_text(encoding="utf-8")
    for anchor in ("run", "scenario", "results", "checks", "figures"):
        assert f'<section id="{anchor}">' in page
    for heading in (
        "Stations",
        "Routing",
        "The source article's formulas",
        "Queue length over time",
        "Waiting-time distributions",
        "Simulated against theoretical L and W",
        "Arrivals of events",
        "Routing of events: observed and specified",
    ):
        assert heading in page, heading
    assert "M/M/1 (exact)" in page and "Jackson network (exact)" in page
    assert "rel. error" in page and "inside CI" in page
    # 1 diagram + L and W + per station (3): queue length and waits + per class: counts, hops
    # + the tails (CCDFs) of the 3 stations and the system
    shown = images(page)
    assert len(shown) == 1 + 2 + 2 * 3 + 2 + (3 + 1)
    for tag in shown:
        assert 'src="data:image/png;base64,' in tag
        assert re.search(r'width="\d+"', tag) and re.search(r'height="\d+"', tag)
    document = json.loads((jackson_report / "result.json").read_text())
    assert document["format"] == 1 and document["scenario"] == "jackson3"


def test_report_is_self_contained(jackson_report: Path) -> None:
    page = (jackson_report / "index.html").read_text(encoding="utf-8")
    assert "://" not in page  # no URL at all (base64 has no colon)
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)  # only data: and anchors
    assert "<script" not in page.lower()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "@import" not in page and "url(" not in page


def test_names_and_texts_are_escaped(tmp_path: Path) -> None:
    result = eda_sim.run(scenario_from_dict(HOSTILE), workers=1)
    page = write_report(result, tmp_path / "r").read_text(encoding="utf-8")
    assert EVIL_STATION not in page and EVIL_CLASS not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;script&gt;alert(&#x27;class&#x27;)&lt;/script&gt;" in page
    assert "hostile &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;em&gt;markup&lt;/em&gt; &amp; ampersands" in page
    assert "<script" not in page.lower() and "onerror=" not in page.replace("onerror=&quot;", "")
    # diagram + L and W + 2 stations x (path, waits) + 2 classes' counts + the hops of the
    # class with a choice ("quiet" has one fixed route: no 0/1 transition figure) + tails
    assert len(images(page)) == 1 + 2 + 2 * 2 + 2 + 1 + (2 + 2 + 1)  # tails: stations, classes
    assert "No transition figure for quiet" in page


def test_an_existing_report_is_replaced_only_when_the_new_one_is_complete(
    single: eda_sim.RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    write_report(single, out)
    (out / "marker.txt").write_text("old report")
    before = (out / "index.html").read_text()

    def broken_figure(*args: object, **kwargs: object) -> None:
        raise RuntimeError("figure failed")

    monkeypatch.setattr(plots, "queue_length", broken_figure)
    with pytest.raises(RuntimeError, match="figure failed"):
        write_report(single, out)
    monkeypatch.undo()
    assert (out / "marker.txt").read_text() == "old report"
    assert (out / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]

    def broken_write(folder: Path, page: str, document: Any) -> None:
        (folder / "index.html").write_text("half a page")
        raise OSError("disk full")

    monkeypatch.setattr(report_module, "_write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_report(single, out)
    monkeypatch.undo()
    assert (out / "marker.txt").exists() and (out / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary folder left

    write_report(single, out)
    assert not (out / "marker.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "result.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_folder_that_is_not_a_report_is_never_replaced(
    single: eda_sim.RunResult, tmp_path: Path
) -> None:
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_text("precious")
    with pytest.raises(ScenarioError, match="not an eda-sim report"):
        write_report(single, other)
    assert (other / "holiday.jpg").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    assert "is not a folder" in str(report_dir_faults(tmp_path / "file")[0])
    assert "does not exist" in str(report_dir_faults(tmp_path / "no" / "report")[0])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert report_dir_faults(empty) == []
    write_report(single, empty)
    assert (empty / "index.html").exists()


def test_sweep_report_with_curves_and_table(
    mm1_sweep: tuple[eda_sim.Scenario, SweepResult], tmp_path: Path
) -> None:
    scenario, result = mm1_sweep
    page = write_sweep_report(result, tmp_path / "s", scenario=scenario).read_text()
    for anchor in ("sweep", "scenario", "curves", "table"):
        assert f'<section id="{anchor}">' in page
    assert len(images(page)) == 1 + 2  # routing diagram, W and L curves
    assert "skipped" in page and "unstable" in page and "No article curves" not in page
    saved = json.loads((tmp_path / "s" / "result.json").read_text())
    assert saved["time_unit"] == "s" and saved["model"]["stations"][0]["name"] == "handler"
    # The sweep's own JSON document describes the scenario: a report drawn from it
    # alone (eda-sim report sweep.json) is the same as the one drawn with the scenario.
    assert result.to_dict()["model"] == saved["model"]
    alone = write_any_report(result.to_dict(), tmp_path / "alone").read_text()
    assert '<section id="scenario">' in alone and "No article curves" not in alone
    assert len(images(alone)) == 1 + 2
    # A document without it (written by hand, or trimmed) says why the curves are missing.
    document = {key: value for key, value in result.to_dict().items() if key != "model"}
    bare = write_any_report(document, tmp_path / "bare").read_text()
    assert "No article curves" in bare and "does not describe" in bare
    assert '<section id="scenario">' not in bare and len(images(bare)) == 2


def test_write_report_refuses_the_other_kind(
    jackson: eda_sim.RunResult, mm1_sweep: tuple[eda_sim.Scenario, SweepResult], tmp_path: Path
) -> None:
    with pytest.raises(ScenarioError, match="sweep result"):
        write_report(mm1_sweep[1], tmp_path / "x")
    with pytest.raises(ScenarioError, match="run result"):
        write_sweep_report(jackson, tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "not JSON (Expecting value at line 1, column 1)"),
        ("[1, 2]", "not an eda-sim result: the file holds a list"),
        ('{"a": 1}', "not an eda-sim result (no stations, system or sweep rows)"),
        ('{"scenario": "x", "theory": {}, "article": {}}', "`eda-sim theory` document"),
        ('{"stations": {}, "system": {}}', 'it has no "format" key'),
        ('{"format": 2, "stations": {}, "system": {}}', "run result format 2 is not supported"),
        ('{"format": 9, "kind": "sweep"}', "sweep result format 9 is not supported"),
        ('{"format": 1, "stations": [], "system": {}}', "'stations' is not a dict"),
    ],
)
def test_read_result_refuses_what_is_not_a_result(
    content: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(ScenarioError) as error:
        read_result(path)
    (fault,) = error.value.faults
    assert message in fault.message


def test_read_result_tells_runs_from_sweeps(
    jackson: eda_sim.RunResult, mm1_sweep: tuple[eda_sim.Scenario, SweepResult], tmp_path: Path
) -> None:
    (tmp_path / "run.json").write_text(jackson.to_json())
    (tmp_path / "sweep.json").write_text(mm1_sweep[1].to_json())
    assert read_result(tmp_path / "run.json")[0] == "run"
    assert read_result(tmp_path / "sweep.json")[0] == "sweep"
    with pytest.raises(ScenarioError, match="no such file"):
        read_result(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="is a folder"):
        read_result(tmp_path)


# --------------------------------------------------------------------------- command line


def test_cli_run_report_then_report_from_its_json(tmp_path: Path) -> None:
    process = eda_sim_cli(
        "run",
        str(SCENARIOS / "mm1.yaml"),
        *QUICK,
        "--json",
        str(tmp_path / "run.json"),
        "--report",
        str(tmp_path / "run-report"),
    )
    assert process.returncode == 0, process.stderr
    assert f"report: {tmp_path / 'run-report' / 'index.html'}" in process.stderr
    page = (tmp_path / "run-report" / "index.html").read_text()
    # diagram, L and W, path and waits, arrival counts, tails; one fixed route: no hops figure
    assert "eda-sim report: mm1" in page and len(images(page)) == 1 + 2 + 2 + 1 + 2
    again = eda_sim_cli("report", str(tmp_path / "run.json"), "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert images((tmp_path / "again" / "index.html").read_text())


def test_cli_sweep_report_and_report_from_sweep_json(tmp_path: Path) -> None:
    process = eda_sim_cli(
        "sweep",
        str(SCENARIOS / "mm1.yaml"),
        "--param",
        "arrivals.rate",
        "--values",
        "0.5,0.8,1.2",
        "--replications",
        "2",
        "--horizon",
        "400",
        "--warmup",
        "40",
        "--workers",
        "1",
        "--json",
        str(tmp_path / "sweep.json"),
        "--report",
        str(tmp_path / "sweep-report"),
    )
    assert process.returncode == 0, process.stderr
    page = (tmp_path / "sweep-report" / "index.html").read_text()
    assert "eda-sim sweep report: mm1" in page and len(images(page)) == 3
    again = eda_sim_cli("report", str(tmp_path / "sweep.json"), "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert "L and W at every point" in (tmp_path / "again" / "index.html").read_text()


def test_cli_report_folder_is_checked_before_the_run(tmp_path: Path) -> None:
    started = time.perf_counter()
    process = eda_sim_cli(
        "run",
        str(SCENARIOS / "jackson3.yaml"),
        "--horizon",
        "1e9",
        "--report",
        str(tmp_path / "missing" / "report"),
    )
    assert time.perf_counter() - started < 30  # refused at once, not after a long run
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        f"error: --report: folder {str(tmp_path / 'missing')!r} does not exist"
    ]
    sweep_process = eda_sim_cli(
        "sweep",
        str(SCENARIOS / "mm1.yaml"),
        "--param",
        "arrivals.rate",
        "--values",
        "0.5",
        "--report",
        str(tmp_path / "missing" / "report"),
    )
    assert sweep_process.returncode == 2 and "--report: folder" in sweep_process.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("garbage{", "not JSON"),
        ('{"hello": "world"}', "not an eda-sim result"),
        ('{"format": 99, "stations": {}, "system": {}}', "format 99 is not supported"),
        (None, "no such file"),
    ],
)
def test_cli_report_bad_input_is_one_line_exit_2_nothing_written(
    content: str | None, fragment: str, tmp_path: Path
) -> None:
    source = tmp_path / "results.json"
    if content is not None:
        source.write_text(content)
    out = tmp_path / "out"
    process = eda_sim_cli("report", str(source), "--out", str(out))
    assert process.returncode == 2
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {source}: ") and fragment in lines[0]
    assert "Traceback" not in process.stderr and process.stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["results.json"] if content else [])
