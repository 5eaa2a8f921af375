"""The report's tail-latency section: SLO verdicts, percentiles beside theory, CCDFs (layer 6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eda_sim import metrics as metric_table
from eda_sim import plots
from eda_sim.report._html import Cell, Html, estimate, figure_html, num, section, table

__all__ = ["latency_section"]

_VERDICT_CLASS = {"met": "pass", "violated": "fail", "undecided": ""}


def _interval(entry: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    ci = entry.get("ci") or [None, None]
    return entry.get("mean"), ci[0], ci[1]


def _slo_table(document: Mapping[str, Any]) -> Html | None:
    verdicts = document.get("slo") or []
    if not verdicts:
        return None
    rows: list[list[Cell]] = []
    for entry in verdicts:
        side = "≤" if entry.get("kind", "max") == "max" else "≥"
        decide = ""
        if entry.get("replications_to_decide") is not None:
            decide = f"~{entry['replications_to_decide']} replications"
        elif entry.get("horizon_factor_to_decide") is not None:
            decide = f"~{num(entry['horizon_factor_to_decide'], 3)}× the horizon"
        elif entry.get("verdict") == "undecided":
            decide = "the estimate sits on the limit"
        verdict = str(entry.get("verdict", ""))
        rows.append(
            [
                (str(entry.get("target", "")), "name"),
                (f"{side} {num(entry.get('limit'))}", "num"),
                (estimate(*_interval(entry)), "num"),
                (verdict, _VERDICT_CLASS.get(verdict, "")),
                decide,
            ]
        )
    confidence = document.get("confidence")
    level = f"{confidence:.0%}" if isinstance(confidence, float) else "the run's"
    return table(
        ["target", "limit", "simulated", "verdict", "to decide"],
        rows,
        caption=f"Each SLO judged on its {level} confidence interval: met when the whole "
        "interval is on the right side of the limit, violated when it is all on the wrong "
        "side, undecided otherwise (with about how many replications would decide it).",
    )


def _percentile_rows(document: Mapping[str, Any], unit: str) -> tuple[list[str], list[list[Cell]]]:
    levels = [float(level) for level in document.get("quantiles") or []]
    names = [f"p{metric_table.level_suffix(level)}" for level in levels]
    theory = ((document.get("theory") or {}).get("percentiles")) or {}
    rows: list[list[Cell]] = []

    def add(label: str, metrics: Mapping[str, Any], known: Mapping[str, Any], base: str) -> None:
        cells: list[Cell] = [(label, "name"), metric_table.heading(base, unit, per="per ")]
        method = ""
        for suffix in names:
            entry = metrics.get(f"{base}_{suffix}")
            if not isinstance(entry, Mapping):
                cells += ["", ""]
                continue
            exact = known.get(f"{base}_{suffix}") or {}
            cells += [(estimate(*_interval(entry)), "num"), (num(exact.get("value")), "num")]
            method = method or str(exact.get("method", ""))
        cells.append(method or str(known.get("reason", "")))
        rows.append(cells)

    for name, metrics in (document.get("stations") or {}).items():
        known = (theory.get("stations") or {}).get(name) or {}
        bases = [b for b in ("W", "Wq", "blocked") if names and f"{b}_{names[0]}" in metrics]
        for index, base in enumerate(bases):
            add(name if index == 0 else "", metrics, known, base)
    for name, metrics in (document.get("classes") or {}).items():
        add(f"class {name}", metrics, (theory.get("classes") or {}).get(name) or {}, "W")
    add("system", document.get("system") or {}, theory.get("system") or {}, "W")
    headers = ["where", "time"] + [h for n in names for h in (n, "theory")] + ["method"]
    return headers, rows


def latency_section(document: Mapping[str, Any], unit: str) -> Html | None:
    """SLO verdicts, the percentile table and each CCDF; None when the run kept no percentile."""
    scopes = plots.latency_scopes(document)
    if not scopes and not document.get("slo"):
        return None
    parts: list[str] = []
    slo = _slo_table(document)
    if slo is not None:
        parts += [Html("<h3>Service-level objectives</h3>"), slo]
    if document.get("quantiles") and scopes:
        headers, rows = _percentile_rows(document, unit)
        parts += [
            Html("<h3>Percentiles</h3>"),
            table(
                headers,
                rows,
                caption="Each replication's quantile of its own visits (or events, end to end), "
                "mean ± the half-width of the interval over the replications; within 0.39% of "
                "the exact order statistics (log-bucketed sketches). theory: the exact "
                "percentile where the model determines it, else the reason there is none.",
            ),
        ]
        parts.append(Html("<h3>Tails: P(time > t) on a log scale</h3>"))
        for scope, name in scopes:
            where = {"station": f"at {name}", "class": f"of class {name}"}.get(scope, "system")
            parts.append(
                figure_html(
                    plots.latency_ccdf(document, name, scope),
                    f"Tail of the time distribution {where}",
                    "Share of values above t from the histograms of every replication after "
                    "the warm-up (exact at each bucket's edge), the percentiles marked, and "
                    "the exact distribution where theory has one.",
                )
            )
    return section("latency", "Tail latency and SLOs", *parts) if parts else None
