"""Terminal tables of the ``eda-sim`` command (layer 7): results, theory, article, checks.

Only builds :mod:`rich` renderables; printing is left to :mod:`eda_sim.cli.app`.
Every user-supplied name goes through :class:`rich.text.Text`, so brackets in a
station name are shown, not read as markup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from eda_sim import metrics as metric_table
from eda_sim.text import escape_controls

if TYPE_CHECKING:  # `validate` prints a table without loading the results and theory layers
    from eda_sim.results import RunResult
    from eda_sim.stats import Interval

__all__ = [
    "article_table",
    "checks_table",
    "classes_table",
    "comparison_table",
    "format_estimate",
    "format_relative_error",
    "plural",
    "run_summary",
    "run_title",
]

#: What the comparison table's columns mean, after the legend of its metrics.
COLUMNS_LEGEND = (
    "rel. error = (simulated − theory) / theory (Δ: the absolute difference, where theory is 0). "
    "✗: an exact theoretical value outside the confidence interval."
)


def legend(metric_names: Iterable[str]) -> str:
    """The caption of a results table: each metric shown (:mod:`eda_sim.metrics`), the columns."""
    return f"{metric_table.legend(metric_names)}. {COLUMNS_LEGEND}"


OUTSIDE_MARK = "✗ outside CI"
INSIDE_MARK = "✓"


def format_estimate(interval: Interval) -> str:
    """Show ``mean ± half-width``, the mean rounded where the half-width's 2nd digit is.

    Examples
    --------
    >>> from eda_sim.stats import Interval
    >>> format_estimate(Interval(1.331202, 1.309906, 1.352498, 10, 0.95))
    '1.331 ± 0.021'
    """
    mean, half = interval.mean, interval.half_width
    if math.isnan(mean):
        return "n/a"
    if math.isnan(half) or half == 0 or not math.isfinite(half):
        return f"{mean:.4g}"
    decimals = max(0, 1 - math.floor(math.log10(half)))
    return f"{mean:.{decimals}f} ± {half:.{decimals}f}"


#: Below this magnitude a theoretical value is taken as zero: a relative error would
#: divide by rounding noise (an M/M/c/K loss of 1e-22 against a simulated 0 is not
#: "-100%"), so the absolute difference is shown instead.
ZERO_THEORY = 1e-9


def format_relative_error(simulated: float, theory: float) -> str:
    """``(simulated − theory) / theory`` as a signed percentage; absolute when theory is ~0.

    Where ``|theory| < ZERO_THEORY`` the relative error means nothing, and the
    absolute difference is shown as ``Δ ...``; ``—`` when either value is missing.

    Examples
    --------
    >>> format_relative_error(1.05, 1.0)
    '+5.0%'
    >>> format_relative_error(0.0, 1e-22)
    '0'
    >>> format_relative_error(0.0031, 0.0)
    'Δ +0.0031'
    """
    if math.isnan(simulated) or math.isnan(theory):
        return "—"
    if abs(theory) < ZERO_THEORY:
        difference = simulated - theory
        return "0" if abs(difference) < ZERO_THEORY else f"Δ {difference:+.2g}"
    return f"{(simulated - theory) / abs(theory):+.1%}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 replication``, ``3 replications`` (``many``: the plural when not word + s)."""
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


def run_title(result: RunResult, time_unit: str, engine: str | None = None) -> str:
    """What was run and what a cell shows: the header of the results table.

    Batch means say "one run of T in N batches" and the warm-up the batches start
    after; one replication says that no interval can be given. ``engine`` names the
    engine that ran (default: ``result.engine``).
    """
    unit = time_unit
    ran = f"engine {engine or result.engine}"
    interval = f"{ran}; simulated = mean ± {result.confidence:.0%} half-width"
    if result.ci_method == "batch-means":
        batches = len(result.replication_results)
        start = result.replication_results[0].warmup if batches else result.warmup
        length = (result.horizon - start) / batches if batches else math.nan
        head = (
            f"{result.scenario}: one run of {result.horizon:g} {unit} in "
            f"{plural(batches, 'batch', 'batches')} "
            f"of {length:.4g} {unit} after a warm-up of {start:g}, seed {result.seed}; "
            f"{interval} over the batches"
        )
    elif result.replications == 1:
        head = (
            f"{result.scenario}: 1 replication of {result.horizon:g} {unit} "
            f"(warm-up {result.warmup:g}), seed {result.seed}; {ran}; "
            "simulated = its mean (no confidence interval from one replication)"
        )
    else:
        head = (
            f"{result.scenario}: {result.replications} replications of {result.horizon:g} "
            f"{unit} (warm-up {result.warmup:g}), seed {result.seed}; {interval}"
        )
    return head + (" — PARTIAL (interrupted)" if result.partial else "")


def safe_text(text: str) -> Text:
    r"""The user's text for the terminal: control characters escaped, no markup read.

    Every name, unit and note from a scenario goes through this: a station named
    ``"a\x1b[2J"`` or ``"[link=http://x]a[/link]"`` is shown as written, escaped,
    and cannot clear the screen or plant a hyperlink.
    """
    return Text(escape_controls(text))


def _unit(metric: str, time_unit: str) -> Text:
    return safe_text(metric_table.heading(metric, time_unit))


def _mark(interval: Interval, theory: float, exact: bool) -> str:
    if not exact or math.isnan(theory) or math.isnan(interval.low):
        return ""
    return INSIDE_MARK if interval.contains(theory) else OUTSIDE_MARK


def _hidden_when_zero(name: str) -> bool:
    try:
        return metric_table.lookup(name).hide_zero
    except KeyError:
        return False


def _shown_metrics(result: RunResult) -> list[str]:
    """The metrics of the comparison table (not the percentiles), stations' first, each once."""
    shown = [name for values in result.stations.values() for name in values]
    return [name for name in dict.fromkeys([*shown, *result.system]) if not _percentile(name)]


def comparison_table(result: RunResult, time_unit: str, engine: str | None = None) -> Table:
    """Every metric of every station and of the system: simulated, theory, error, method.

    The title names the engine that ran (``engine``, e.g. ``simpy (auto: a short
    run)``; default: ``result.engine``).
    """
    title = run_title(result, time_unit, engine)
    table = Table(
        title=safe_text(title),
        title_justify="left",
        caption=safe_text(legend(_shown_metrics(result))),
        caption_justify="left",
    )
    for name, justify in (
        ("station", "left"),
        ("metric", "left"),
        ("simulated", "right"),
        ("theory", "right"),
        ("rel. error", "right"),
        ("", "left"),
        ("method", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name != "method")  # type: ignore[arg-type]

    def add_block(
        scope: str, name: str, metrics: dict[str, Interval], order: tuple[str, ...]
    ) -> None:
        previous_method = None
        shown = [m for m in order if not (_hidden_when_zero(m) and metrics[m].mean == 0)]
        for index, metric in enumerate(shown):
            interval = metrics[metric]
            theory, method, exact = result.theory_value(scope, name, metric)
            shown_method = method if method != previous_method else ""
            previous_method = method
            table.add_row(
                safe_text(name if index == 0 else ""),
                _unit(metric, time_unit),
                format_estimate(interval),
                "" if math.isnan(theory) else f"{theory:.4g}",
                format_relative_error(interval.mean, theory),
                _mark(interval, theory, exact),
                safe_text(shown_method + (" (exact)" if exact and shown_method else "")),
            )
        table.add_section()

    for station, metrics in result.stations.items():
        add_block("station", station, metrics, tuple(m for m in metrics if not _percentile(m)))
    system = tuple(m for m in result.system if not _percentile(m))
    add_block("system", "system", result.system, system)
    return table


def _percentile(metric: str) -> bool:
    """A member of a metric family (``W_p99``): shown in the percentile block."""
    try:
        return metric_table.lookup(metric).family is not None
    except KeyError:
        return False


def classes_table(result: RunResult, time_unit: str) -> Table:
    """End-to-end figures per event class, simulated and theoretical."""
    table = Table(title="per event class (end to end)", title_justify="left")
    table.add_column("class", no_wrap=True)
    shown = metric_table.names("class")
    for metric in shown:
        table.add_column(_unit(metric, time_unit), justify="right", no_wrap=True)
        table.add_column("theory", justify="right", no_wrap=True)
    table.add_column("method")
    for name, metrics in result.classes.items():
        cells: list[str] = []
        label = ""
        for metric in shown:
            theory, method, exact = result.theory_value("class", name, metric)
            label = label or method + (" (exact)" if exact else "")
            cells += [
                format_estimate(metrics[metric]),
                "" if math.isnan(theory) else f"{theory:.4g}",
            ]
        table.add_row(safe_text(name), *cells, safe_text(label))
    return table


def article_table(result: RunResult, time_unit: str) -> Table | None:
    """The article's L and W beside the simulation, for single-server stations."""
    from eda_sim.theory import ARTICLE_NOTE

    theory = result.theory
    if theory is None or not theory.article:
        return None
    table = Table(
        title="the source article's formulas (single-server stations)",
        title_justify="left",
        caption=safe_text(ARTICLE_NOTE),
        caption_justify="left",
    )
    for column in (
        "station",
        "ρ",
        "L sim",
        "L article",
        "Lq sim",
        f"W sim ({time_unit})",
        f"W article ({time_unit})",
    ):
        justify = "left" if column == "station" else "right"
        table.add_column(safe_text(column), justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for name, values in theory.article.items():
        metrics = result.stations[name]
        table.add_row(
            safe_text(name),
            f"{values.rho:.4g}",
            format_estimate(metrics["L"]),
            f"{values.L:.4g}",
            format_estimate(metrics["Lq"]),
            format_estimate(metrics["W"]),
            f"{values.W:.4g}",
        )
    return table


#: Short names of the checks' tests in the table (its caption spells them out).
SHORT_TESTS = {"Kolmogorov-Smirnov": "KS"}


def _short_test(method: str) -> str:
    name = method.split(",")[0]
    return SHORT_TESTS.get(name, name)


def checks_table(result: RunResult) -> Table | None:
    """The article's assumptions tested on the simulated data: statistic, p-value, verdict.

    Checks that could not be run (one possible next hop, too little data) are
    counted in the caption rather than listed.
    """
    tested = [check for check in result.checks if not math.isnan(check.p_value)]
    untested = len(result.checks) - len(tested)
    if not result.checks:
        return None
    alpha = result.checks[0].alpha
    caption = "KS: Kolmogorov-Smirnov." + (
        f" {untested} check(s) not run: a routing row with one possible next hop, "
        "or too little data."
        if untested
        else ""
    )
    table = Table(
        title=f"the article's assumptions on the simulated data (pass: p >= {alpha:g})",
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    for column in ("assumption", "data", "test", "statistic", "p-value", "result"):
        table.add_column(column, justify="right" if column in ("statistic", "p-value") else "left")
    names = {
        "poisson_counts": "Poisson arrivals",
        "exponential_gaps": "Poisson arrivals",
        "markov_routing": "Markov routing",
    }
    for check in tested:
        table.add_row(
            names.get(check.check, check.check),
            safe_text(check.subject),
            _short_test(check.method),
            f"{check.statistic:.4g}",
            f"{check.p_value:.3g}",
            "pass" if check.passed else "FAIL",
        )
    return table


def run_summary(result: RunResult) -> Text:
    """One paragraph on how the figures were obtained: warm-up, intervals, precision."""
    warmup = {
        "MSER-5": f"warm-up {result.warmup:g} chosen by MSER-5",
        "none": "no warm-up",
    }.get(result.warmup_method, f"warm-up {result.warmup:g} (fixed)")
    if result.ci_method == "batch-means":
        warmup = (
            f"batches from {result.warmup:g} on: the warm-up "
            f"({'MSER-5' if result.warmup_method == 'MSER-5' else result.warmup_method}), "
            "rounded up to the sample-path grid so that equal batches fill the rest"
        )
    if result.ci_method == "batch-means":
        intervals = (
            f"{len(result.replication_results)} batch means of one run "
            f"(Student-t, {result.confidence:.0%})"
        )
    elif result.replications == 1:
        intervals = (
            "1 replication: no confidence interval (run 2 or more, "
            "or --ci batch-means for one long run)"
        )
    else:
        intervals = (
            f"{result.replications} independent replications (Student-t, {result.confidence:.0%})"
        )
    parts = [warmup, intervals]
    report = result.precision
    if report is not None and report.target == "slo":
        undecided = len(report.achieved)
        parts.append(
            "replications added until every SLO is decided: "
            + (
                "done"
                if report.met
                else f"{undecided} still undecided (cap {report.max_replications})"
            )
        )
    elif report is not None:
        worst_name, worst = max(report.achieved.items(), key=lambda item: item[1], default=("", 0))
        verdict = "met" if report.met else f"NOT met (cap {report.max_replications})"
        parts.append(
            f"precision target {report.target:g}: {verdict}, worst relative half-width "
            f"{worst:.3g} ({worst_name})"
        )
    if result.elapsed_seconds == result.elapsed_seconds:  # not NaN
        parts.append(f"{result.elapsed_seconds:.1f} s")
    return safe_text("; ".join(parts) + ".")
