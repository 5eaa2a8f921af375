"""The report of one run: settings, scenario, results beside theory and article, checks, figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eda_sim import plots
from eda_sim.report._html import (
    Cell,
    Html,
    esc,
    figure_html,
    num,
    page,
    section,
    table,
)
from eda_sim.report.latency import latency_section
from eda_sim.report.results_section import results_section
from eda_sim.report.scenario import scenario_section

__all__ = ["render_run"]

_CHECK_NAMES = {
    "poisson_counts": "Poisson arrivals",
    "exponential_gaps": "Poisson arrivals",
    "markov_routing": "Markov routing",
}


def _settings(document: Mapping[str, Any], unit: str) -> Html:
    replications = document.get("replications")
    requested = document.get("requested_replications")
    shown = f"{replications}" + (
        f" of {requested} requested" if requested not in (None, replications) else ""
    )
    if document.get("ci_method") == "batch-means":
        shown = f"1 long run, {document.get('batches')} batch means"
    items = [
        ("scenario", str(document.get("scenario", ""))),
        ("replications", shown),
        ("horizon", f"{num(document.get('horizon'))} {unit} per replication"),
        (
            "warm-up",
            f"{num(document.get('warmup'))} {unit} discarded "
            f"({document.get('warmup_method', 'fixed')})",
        ),
        ("seed", str(document.get("seed", ""))),
        ("confidence", f"{num(document.get('confidence'))} (Student-t intervals)"),
        ("engine", str(document.get("engine", ""))),
    ]
    precision = document.get("precision")
    if isinstance(precision, Mapping):
        items.append(
            (
                "precision",
                f"target relative half-width {num(precision.get('target'))}: "
                + ("met" if precision.get("met") else "not met"),
            )
        )
    rows = "".join(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>" for key, value in items)
    parts = [f'<dl class="settings">{rows}</dl>']
    if document.get("partial"):
        parts.append(
            '<p class="warning">Partial: the run was interrupted; these figures come from the '
            "replications that finished.</p>"
        )
    parts += [f'<p class="note">Note: {esc(note)}</p>' for note in document.get("notes") or ()]
    return section("run", "The run", *parts)


def _checks(document: Mapping[str, Any]) -> Html | None:
    checks = [c for c in document.get("checks") or () if isinstance(c, Mapping)]
    if not checks:
        return None
    tested = [c for c in checks if isinstance(c.get("p_value"), int | float)]
    alpha = checks[0].get("alpha", 0.01)
    rows: list[Sequence[Cell]] = [
        [
            _CHECK_NAMES.get(str(c.get("check")), str(c.get("check"))),
            str(c.get("subject", "")),
            str(c.get("method", "")),
            (num(c.get("statistic")), "num"),
            (num(c.get("p_value"), 3), "num"),
            ("pass", "pass") if c.get("passed") else ("FAIL", "fail"),
        ]
        for c in tested
    ]
    untested = len(checks) - len(tested)
    caption = f"Each test at the {num(alpha)} level: pass when p ≥ {num(alpha)}. " + (
        f"{untested} check(s) not run (a routing row with one possible next hop, or too "
        "little data)."
        if untested
        else ""
    )
    return section(
        "checks",
        "The article's assumptions, checked on the data",
        "<p>Arrivals counted in windows against the Poisson pmf (chi-square), gaps between "
        "arrivals against the exponential law (Kolmogorov–Smirnov), and the next hops after "
        "each station against its routing row (chi-square).</p>",
        table(["assumption", "data", "test", "statistic", "p-value", "result"], rows, caption),
    )


def _random_routing(document: Mapping[str, Any], event_class: str) -> bool:
    """Whether the class's routing has a choice (a probability strictly between 0 and 1).

    Fixed routes make the observed-against-specified transition figure a pair of
    0/1 matrices that say nothing; without the scenario's model, assume a choice.
    """
    model = document.get("model")
    classes = model.get("classes") if isinstance(model, Mapping) else None
    found = [c for c in classes or () if isinstance(c, Mapping) and c.get("name") == event_class]
    if not found:
        return True
    described = found[0]
    rows = [*(described.get("matrix") or ()), described.get("exit") or ()]
    values = [float(p) for row in rows for p in row]
    return any(1e-12 < p < 1 - 1e-12 for p in values)


def _figures(document: Mapping[str, Any]) -> Html:
    stations = plots.station_names(document)
    plot_data = document.get("plot_data") or {}
    parts: list[str] = ["<h3>Simulated against theoretical L and W</h3>"]
    for metric in ("L", "W"):
        if any(metric in m for m in document.get("stations", {}).values()):
            parts.append(
                figure_html(
                    plots.sim_vs_theory(document, metric),
                    f"Simulated and theoretical {metric} per station",
                    f"{metric} per station: simulated mean with its confidence interval, the "
                    "theoretical value where a formula applies, and the source article's value "
                    "for single-server stations.",
                )
            )
    if plot_data.get("path"):
        parts.append("<h3>Queue length over time</h3>")
        for name in stations:
            parts.append(
                figure_html(
                    plots.queue_length(document, name),
                    f"Queue length at {name}",
                    "One replication's sample path (time-average number present per grid "
                    "interval), its running time average after the warm-up, the theoretical L "
                    "and the warm-up period (shaded).",
                )
            )
    if plot_data.get("waits"):
        parts.append("<h3>Waiting-time distributions</h3>")
        for name in stations:
            parts.append(
                figure_html(
                    plots.wait_distribution(document, name),
                    f"Waiting-time distribution at {name}",
                    "Empirical distribution of the last waits of replication 0, against the "
                    "exact distribution where the station is an M/M/1 or M/M/c queue.",
                )
            )
    for event_class in plot_data.get("arrivals") or {}:
        parts.append(f"<h3>Arrivals of {esc(event_class)}</h3>")
        parts.append(
            figure_html(
                plots.poisson_counts(document, event_class),
                f"Arrival counts of {event_class} against the Poisson pmf",
                "Share of counting windows with k arrivals (all replications) against the "
                "Poisson pmf the article assumes.",
            )
        )
    transitions = list(plot_data.get("transitions") or {})
    fixed = [name for name in transitions if not _random_routing(document, name)]
    if fixed:
        parts.append(
            f'<p class="note">No transition figure for {esc(", ".join(fixed))}: '
            "every hop there has probability 1 (fixed routes), so the observed hops can only "
            "match.</p>"
        )
    for event_class in (name for name in transitions if name not in fixed):
        parts.append(f"<h3>Routing of {esc(event_class)}: observed and specified</h3>")
        parts.append(
            figure_html(
                plots.transitions(document, event_class),
                f"Transition matrices of {event_class}",
                "Share of the hops after each station that went to each next station or left "
                "(all replications), beside the routing matrix of the scenario.",
            )
        )
    return section("figures", "Figures", *parts)


def render_run(document: Mapping[str, Any]) -> str:
    """The HTML page of a run's result document."""
    unit = plots.time_unit(document)
    name = str(document.get("scenario", "scenario"))
    sections: list[tuple[str, str, Html | None]] = [
        ("run", "Run", _settings(document, unit)),
        ("scenario", "Scenario", scenario_section(document)),
        ("results", "Results", results_section(document, unit)),
        ("latency", "Tail latency and SLOs", latency_section(document, unit)),
        ("checks", "Assumption checks", _checks(document)),
        ("figures", "Figures", _figures(document)),
    ]
    shown = [(anchor, label, body) for anchor, label, body in sections if body is not None]
    lead = (
        f"{document.get('replications')} replications of {num(document.get('horizon'))} {unit}, "
        f"seed {document.get('seed')}: every station's figures with confidence intervals, "
        "beside queueing theory and the source article's formulas."
    )
    return page(
        f"eda-sim report: {name}",
        lead,
        [(anchor, label) for anchor, label, _ in shown],
        [body for _, _, body in shown if body is not None],
    )
