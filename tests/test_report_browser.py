"""The HTML report in a real browser: Debian's headless Chromium through Playwright.

Checks that the page loads without console errors or page errors, that every
figure is decoded and shown with a non-zero size, and that a station named
``<script>alert(1)</script>`` is shown as text, not run. Skipped when
/usr/bin/chromium is missing, except in CI (the ``CI`` variable set), where
``.ci/run`` installs it and its absence is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import eda_sim
from eda_sim.report import write_report
from eda_sim.scenario import scenario_from_dict

CHROMIUM = Path("/usr/bin/chromium")
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SCRIPT_NAME = "<script>alert(1)</script>"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if os.environ.get("CI"):  # CI installs both: their absence is a failure there
    import playwright.sync_api as sync_api
else:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium); CI installs it",
            allow_module_level=True,
        )
    sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: .ci/run installs Debian's chromium"
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            yield context
        finally:
            context.close()


def open_report(context: Any, index: Path) -> tuple[Any, list[str], list[str]]:
    """Open ``index`` in a new tab; return the page, console errors and page errors/dialogs."""
    page = context.new_page()
    console: list[str] = []
    problems: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    page.goto(index.resolve().as_uri(), wait_until="load")
    return page, console, problems


def assert_figures_shown(page: Any) -> int:
    sizes = page.evaluate(
        """() => Array.from(document.images).map(img => {
               img.scrollIntoView();
               const box = img.getBoundingClientRect();
               return {complete: img.complete, natural: img.naturalWidth,
                       width: box.width, height: box.height, alt: img.alt};
           })"""
    )
    assert sizes, "the report has figures"
    for size in sizes:
        assert size["complete"] and size["natural"] > 0, size
        assert size["width"] > 0 and size["height"] > 0, size
    return len(sizes)


def test_report_loads_cleanly_with_every_figure_shown(browser: Any, tmp_path: Path) -> None:
    result = eda_sim.run(
        eda_sim.load_scenario(SCENARIOS / "jackson3.yaml"),
        replications=2,
        horizon=600,
        warmup=60,
        workers=1,
    )
    index = write_report(result, tmp_path / "report")
    page, console, problems = open_report(browser, index)
    assert console == [] and problems == []
    # 11 figures of the run, and the tail-latency CCDFs: one per station (3) and the system
    assert assert_figures_shown(page) == 11 + 4
    assert page.title() == "eda-sim report: jackson3"
    page.close()


def test_a_script_as_station_name_is_shown_not_run(browser: Any, tmp_path: Path) -> None:
    scenario = scenario_from_dict(
        {
            "name": "xss",
            "stations": {
                SCRIPT_NAME: {"servers": 1, "service": {"dist": "exponential", "rate": 2.0}},
                "next": {"servers": 1, "service": {"dist": "exponential", "rate": 3.0}},
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": SCRIPT_NAME},
            "routing": {SCRIPT_NAME: {"next": 0.5}},
            "run": {"horizon": 300, "warmup": 30, "replications": 2, "seed": 1},
        }
    )
    index = write_report(eda_sim.run(scenario, workers=1), tmp_path / "report")
    page, console, problems = open_report(browser, index)
    assert console == [] and problems == []
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    text = page.evaluate("document.body.innerText")
    assert SCRIPT_NAME in text
    cells = page.locator("td.name", has_text=SCRIPT_NAME)
    assert cells.count() >= 2  # the stations table and the results table
    assert_figures_shown(page)
    page.close()
