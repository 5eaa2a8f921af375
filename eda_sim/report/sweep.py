"""The report of a sweep: settings, scenario (when known), L and W curves, the table by point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eda_sim import plots
from eda_sim.report._html import Cell, Html, esc, estimate, figure_html, num, page, section, table
from eda_sim.report.scenario import scenario_section

__all__ = ["render_sweep"]


def _settings(document: Mapping[str, Any], unit: str) -> Html:
    points = document.get("points") or []
    counts = {
        status: sum(p.get("status") == status for p in points)
        for status in ("ok", "skipped", "pending", "partial")
    }
    items = [
        ("scenario", str(document.get("scenario", ""))),
        ("swept", str(document.get("param", ""))),
        ("values", ", ".join(num(v, 6) for v in document.get("values") or [])),
        (
            "points",
            f"{counts['ok']} run, {counts['skipped']} skipped"
            + (f", {counts['partial']} cut short" if counts["partial"] else "")
            + (f", {counts['pending']} not run" if counts["pending"] else ""),
        ),
        ("replications", f"{document.get('replications')} per point"),
        ("horizon", f"{num(document.get('horizon'))} {unit} per replication"),
        ("warm-up", str(document.get("warmup", ""))),
        ("seed", f"{document.get('seed')} at every point (common random numbers)"),
        ("confidence", num(document.get("confidence"))),
    ]
    rows = "".join(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>" for key, value in items)
    parts = [f'<dl class="settings">{rows}</dl>']
    if document.get("partial"):
        parts.append(
            '<p class="warning">Partial: the sweep was interrupted; points not run, and a '
            "point cut short (its figures over the replications that finished, not drawn "
            "in the curves), are marked.</p>"
        )
    return section("sweep", "The sweep", *parts)


def _curves(document: Mapping[str, Any]) -> Html | None:
    rows = document.get("rows") or []
    if not any(r.get("status") == "ok" for r in rows):
        return None
    parts: list[str] = []
    articles = plots.article_curves(document, "W") or plots.article_curves(document, "L")
    if not articles:
        why = (
            "no station is one (or the swept value changes that)"
            if document.get("model")
            else "drawing them needs the scenario, which this document does not describe"
        )
        parts.append(
            '<p class="note">No article curves: the article\'s formulas apply to single-server '
            f"stations of unlimited capacity, and {why}.</p>"
        )
    unit = plots.time_unit(document)
    for metric, what in (("W", f"mean time per visit W ({unit})"), ("L", "mean number present L")):
        if any(r.get("metric") == metric for r in rows):
            parts.append(
                figure_html(
                    plots.sweep_curves(document, metric),
                    f"{metric} against {document.get('param')}",
                    f"The {what} at each swept value: simulated mean with its confidence "
                    "interval, the theory curve and, where it applies, the article's formula. "
                    "Dashed vertical lines: values not run because a station would be "
                    "unstable (ρ ≥ 1).",
                )
            )
    return section("curves", "Curves", *parts)


def _table(document: Mapping[str, Any], unit: str) -> Html:
    rows = document.get("rows") or []
    confidence = num(document.get("confidence"))
    by_value: dict[Any, dict[tuple[str, str], Mapping[str, Any]]] = {}
    for row in rows:
        if row.get("scope") in ("station", "system"):
            key = (str(row.get("name")), str(row.get("metric")))
            by_value.setdefault(row.get("value"), {})[key] = row
    body: list[Sequence[Cell]] = []
    for point in document.get("points") or []:
        value = point.get("value")
        if point.get("status") not in ("ok", "partial"):
            label = "skipped" if point.get("status") == "skipped" else "not run"
            body.append([(num(value, 6), "num"), label, "", "", "", "", str(point.get("reason"))])
            continue
        cells = by_value.get(value, {})
        names = list(dict.fromkeys(name for name, _ in cells))
        for position, name in enumerate(names):
            length, wait = cells.get((name, "L")), cells.get((name, "W"))
            if length is None or wait is None:
                continue
            method = str(wait.get("method") or "") + (" (exact)" if wait.get("exact") else "")
            body.append(
                [
                    (num(value, 6) if position == 0 else "", "num"),
                    (name, "name"),
                    (
                        estimate(length.get("mean"), length.get("ci_low"), length.get("ci_high")),
                        "num",
                    ),
                    (num(length.get("theory")), "num"),
                    (estimate(wait.get("mean"), wait.get("ci_low"), wait.get("ci_high")), "num"),
                    (num(wait.get("theory")), "num"),
                    method,
                ]
            )
        if point.get("status") == "partial":
            body.append([("", "num"), "partial", "", "", "", "", str(point.get("reason"))])
    param = str(document.get("param", "value"))
    return section(
        "table",
        "L and W at every point",
        table(
            [param, "station", "L", "theory", f"W ({unit})", "theory", "method / reason"],
            body,
            caption=f"Simulated: mean ± the half-width of its {confidence} confidence interval.",
        ),
    )


def render_sweep(document: Mapping[str, Any]) -> str:
    """The HTML page of a sweep's result document."""
    unit = plots.time_unit(document)
    sections: list[tuple[str, str, Html | None]] = [
        ("sweep", "Sweep", _settings(document, unit)),
        ("scenario", "Scenario", scenario_section(document)),
        ("curves", "Curves", _curves(document)),
        ("table", "Table", _table(document, unit)),
    ]
    shown = [(anchor, label, body) for anchor, label, body in sections if body is not None]
    lead = (
        f"{document.get('scenario')} at {len(document.get('points') or [])} values of "
        f"{document.get('param')}: L and W with confidence intervals against the swept value, "
        "beside queueing theory."
    )
    return page(
        f"eda-sim sweep report: {document.get('scenario')}",
        lead,
        [(anchor, label) for anchor, label, _ in shown],
        [body for _, _, body in shown if body is not None],
    )
