"""The report of one run: settings, scenario, results beside theory and article, checks, figures."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from eda_sim import metrics as metric_table
from eda_sim import plots
from eda_sim.report._html import (
    Cell,
    Html,
    esc,
    estimate,
    figure_html,
    num,
    page,
    relative_error,
    section,
    table,
)
from eda_sim.report.latency import latency_section
from eda_sim.report.scenario import scenario_section

__all__ = ["render_run"]

_CHECK_NAMES = {
    "poisson_counts": "Poisson arrivals",
    "exponential_gaps": "Poisson arrivals",
    "markov_routing": "Markov routing",
}


def _method_text(entry: Mapping[str, Any]) -> str:
    method = str(entry.get("method", ""))
    if entry.get("exact"):
        return f"{method} (exact)"
    return method if "approx" in method else f"{method} (approx.)"


def _unit(metric: str, unit: str) -> str:
    return metric_table.heading(metric, unit, per="per ")


def _percentile(metric: str) -> bool:
    """A member of a metric family (``W_p99``): shown in the tail-latency section."""
    try:
        return metric_table.lookup(metric).family is not None
    except KeyError:
        return False


def _means(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics that are not percentiles, in order."""
    return {name: value for name, value in metrics.items() if not _percentile(name)}


def _shown_metrics(document: Mapping[str, Any]) -> list[str]:
    """The metrics of the results table (not the percentiles), stations' first, each once."""
    shown = [name for values in (document.get("stations") or {}).values() for name in values]
    every = dict.fromkeys([*shown, *(document.get("system") or {})])
    return [name for name in every if not _percentile(name)]


def _interval(metrics: Mapping[str, Any], metric: str) -> tuple[Any, Any, Any]:
    entry = metrics.get(metric) or {}
    ci = entry.get("ci") or [None, None]
    return entry.get("mean"), ci[0], ci[1]


def _inside(interval: tuple[Any, Any, Any], theory: Any, exact: bool) -> Cell:
    _, low, high = interval
    numbers = [v for v in (low, high, theory) if isinstance(v, int | float)]
    if not exact or len(numbers) < 3 or any(math.isnan(v) for v in numbers):
        return ""
    inside = low - 1e-12 * abs(low) <= theory <= high + 1e-12 * abs(high)
    return ("✓ inside CI", "pass") if inside else ("✗ outside CI", "fail")


def _hidden(metric: str, metrics: Mapping[str, Any]) -> bool:
    """A metric that applies only where it is not zero (``blocked``), at zero: not shown.

    The same rule as the command's table (:attr:`eda_sim.metrics.Metric.hide_zero`).
    """
    try:
        hide = metric_table.lookup(metric).hide_zero
    except KeyError:
        return False
    return hide and _interval(metrics, metric)[0] == 0


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


def _results(document: Mapping[str, Any], unit: str) -> Html:
    theory = document.get("theory") or {}
    article = (document.get("article") or {}).get("stations") or {}
    headers = [
        "station",
        "metric",
        "simulated",
        "95% CI" if document.get("confidence") == 0.95 else "CI",
        "theory",
        "rel. error",
        "",
        "method",
        "article",
    ]
    rows: list[list[Cell]] = []

    def block(name: str, metrics: Mapping[str, Any], entry: Mapping[str, Any], label: str) -> None:
        available = entry.get("available", bool(entry))
        method = (
            _method_text(entry)
            if available
            else f"unavailable: {entry.get('reason', 'no formula applies')}"
        )
        shown = [m for m in metrics if not _hidden(m, metrics)]
        for position, metric in enumerate(shown):
            interval = _interval(metrics, metric)
            value = entry.get(metric) if available else None
            article_value = article.get(name, {}).get(metric) if label == "station" else None
            low, high = interval[1], interval[2]
            rows.append(
                [
                    (name if position == 0 else "", "name"),
                    _unit(metric, unit),
                    (estimate(*interval), "num"),
                    (f"[{num(low)}, {num(high)}]" if num(low) else "", "num"),
                    (num(value), "num"),
                    (relative_error(interval[0], value), "num"),
                    _inside(interval, value, bool(entry.get("exact"))),
                    method if position == 0 else "",
                    (num(article_value), "num"),
                ]
            )

    for name, metrics in document.get("stations", {}).items():
        block(name, _means(metrics), (theory.get("stations") or {}).get(name) or {}, "station")
    block("system", _means(document.get("system", {})), theory.get("system") or {}, "system")
    parts = [
        table(
            headers,
            rows,
            caption="Simulated: mean over the replications ± the half-width of its confidence "
            f"interval. {metric_table.legend(_shown_metrics(document))}. "
            "rel. error = (simulated − theory) / theory; ✓/✗: an exact theoretical value inside "
            "or outside the interval. article: the source article's L and W (single-server "
            "stations, see below).",
        )
    ]
    classes = {name: _means(metrics) for name, metrics in (document.get("classes") or {}).items()}
    if classes:
        class_theory = theory.get("classes") or {}
        class_rows = [
            [
                (name, "name"),
                *[
                    cell
                    for metric in metrics
                    for cell in (
                        (estimate(*_interval(metrics, metric)), "num"),
                        (num((class_theory.get(name) or {}).get(metric)), "num"),
                    )
                ],
            ]
            for name, metrics in classes.items()
        ]
        first = next(iter(classes.values()))
        headers = ["class"] + [h for m in first for h in (_unit(m, unit), "theory")]
        parts += [Html("<h3>Per event class, end to end</h3>"), table(headers, class_rows)]
    note = (document.get("article") or {}).get("note")
    if article:
        stations = document.get("stations", {})
        rows_article: list[Sequence[Cell]] = []
        for name, values in article.items():
            metrics = stations.get(name, {})
            entry = (theory.get("stations") or {}).get(name) or {}
            rows_article.append(
                [
                    (name, "name"),
                    (num(values.get("rho")), "num"),
                    (estimate(*_interval(metrics, "L")), "num"),
                    (num(entry.get("L")), "num"),
                    (num(values.get("L")), "num"),
                    (estimate(*_interval(metrics, "W")), "num"),
                    (num(entry.get("W")), "num"),
                    (num(values.get("W")), "num"),
                ]
            )
        parts += [
            Html("<h3>The source article's formulas</h3>"),
            table(
                [
                    "station",
                    "ρ",
                    "L simulated",
                    "L theory",
                    "L article",
                    f"W simulated ({unit})",
                    f"W theory ({unit})",
                    f"W article ({unit})",
                ],
                rows_article,
                caption=str(note or ""),
            ),
        ]
    return section("results", "Results: simulation, theory and the article", *parts)


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
        ("results", "Results", _results(document, unit)),
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
