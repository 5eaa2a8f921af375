"""HTML building blocks of the report: escaping, tables, embedded figures, the page.

Everything that comes from the user or the scenario goes through
:func:`html.escape` (:func:`esc`, or a table cell given as plain ``str``); only
:class:`Html` strings, built here from escaped pieces, are inserted as they are.
The page has its CSS inline, figures as ``data:`` PNG images, no script and no
external URL, and a Content-Security-Policy that forbids loading anything else:
it reads the same offline.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from eda_sim.plots import figure_png
from eda_sim.version import __version__

if TYPE_CHECKING:
    from eda_sim.plots import Figure

__all__ = [
    "GENERATOR",
    "Html",
    "esc",
    "estimate",
    "figure_html",
    "num",
    "page",
    "relative_error",
    "section",
    "table",
]

#: ``<meta name="generator">`` content; also how an existing report folder is recognised.
GENERATOR = "eda-sim"
#: Pixels per inch of the figures as shown (CSS px) and as rendered (sharper).
_SHOWN_DPI = 96
_RENDERED_DPI = 120

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       margin: 0 auto; max-width: 1180px; padding: 1rem 1.5rem 3rem; color: #1a1a1a;
       line-height: 1.45; background: #ffffff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.08rem; margin-top: 1.6rem; }
nav { background: #F3F7FA; padding: 0.5rem 0.9rem; border-radius: 6px; font-size: 0.92rem; }
nav a { margin-right: 1.1rem; color: #0072B2; }
p.lead { color: #444; margin-top: 0.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.88rem; }
th, td { border: 1px solid #D0D7DE; padding: 0.22rem 0.55rem; vertical-align: top; }
th { background: #F3F7FA; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { font-weight: 600; }
.pass { color: #00704F; font-weight: 600; white-space: nowrap; }
.fail { color: #B34700; font-weight: 600; white-space: nowrap; }
td.name { overflow-wrap: normal; }  /* names wrap between words only, never inside one */
div.table { overflow-x: auto; }
.note { color: #555; font-size: 0.88rem; }
.warning { background: #FFF4E0; border-left: 4px solid #E69F00; padding: 0.4rem 0.8rem; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid #E5E8EB; }
figcaption { color: #444; font-size: 0.88rem; margin-top: 0.3rem; max-width: 60rem; }
dl.settings { display: grid; grid-template-columns: max-content auto; gap: 0.15rem 1rem;
              font-size: 0.92rem; }
dl.settings dt { font-weight: 600; }
dl.settings dd { margin: 0; }
"""


class Html(str):
    """A string that is already HTML (built from escaped pieces): inserted as it is."""

    __slots__ = ()


def esc(text: object) -> Html:
    """Escape any value for HTML text or an attribute (``<``, ``>``, ``&``, quotes)."""
    return Html(html.escape(str(text), quote=True))


def num(value: Any, digits: int = 4) -> str:
    """A number shown with ``digits`` significant digits; empty for None or NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return ""
    return f"{value:.{digits}g}"


def estimate(mean: Any, low: Any, high: Any) -> str:
    """``mean ± half-width``, rounded where the half-width's second digit is.

    Examples
    --------
    >>> estimate(1.331202, 1.309906, 1.352498)
    '1.331 ± 0.021'
    >>> estimate(None, None, None)
    'n/a'
    """
    if not isinstance(mean, int | float) or math.isnan(mean):
        return "n/a"
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return f"{mean:.4g}"
    half = (high - low) / 2
    if math.isnan(half) or half <= 0 or not math.isfinite(half):
        return f"{mean:.4g}"
    decimals = max(0, 1 - math.floor(math.log10(half)))
    return f"{mean:.{decimals}f} ± {half:.{decimals}f}"


def relative_error(simulated: Any, theory: Any) -> str:
    """``(simulated − theory) / theory`` as a signed percentage; ``—`` when undefined.

    Examples
    --------
    >>> relative_error(1.05, 1.0)
    '+5.0%'
    """
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (simulated, theory)):
        return "—"
    if theory == 0:
        return "0%" if simulated == 0 else "—"
    return f"{(simulated - theory) / abs(theory):+.1%}"


Cell = str | tuple[str, str]
"""A table cell: text (escaped unless :class:`Html`), or ``(text, css class)``."""


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], caption: str = "") -> Html:
    """An HTML table; plain ``str`` cells are escaped, :class:`Html` cells are kept."""

    def cell(value: Cell, tag: str = "td") -> str:
        text, css = value if isinstance(value, tuple) else (value, "")
        content = text if isinstance(text, Html) else esc(text)
        attribute = f' class="{esc(css)}"' if css else ""
        return f"<{tag}{attribute}>{content}</{tag}>"

    head = "".join(cell(header, "th") for header in headers)
    body = "\n".join("<tr>" + "".join(cell(value) for value in row) + "</tr>" for row in rows)
    note = f'<p class="note">{esc(caption)}</p>' if caption else ""
    return Html(
        f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n'
        f"</tbody>\n</table></div>{note}"
    )


def figure_html(figure: Figure, alt: str, caption: str = "") -> Html:
    """A figure as an embedded PNG ``<img>`` with explicit width and height, and a caption."""
    png = figure_png(figure, dpi=_RENDERED_DPI)
    width, height = (round(size * _SHOWN_DPI) for size in figure.get_size_inches())
    data = base64.b64encode(png).decode("ascii")
    figure.clear()  # free the memory at once; the PNG is all the page needs
    note = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return Html(
        f'<figure><img src="data:image/png;base64,{data}" width="{width}" height="{height}" '
        f'alt="{esc(alt)}">{note}</figure>'
    )


def section(anchor: str, title: str, *parts: str) -> Html:
    """``<section id=anchor><h2>title</h2>...`` (parts must be HTML already)."""
    return Html(
        f'<section id="{esc(anchor)}">\n<h2>{esc(title)}</h2>\n' + "\n".join(parts) + "\n</section>"
    )


def page(title: str, lead: str, navigation: Sequence[tuple[str, str]], body: Sequence[str]) -> str:
    """The whole document: head with inline CSS and a strict CSP, navigation, sections."""
    links = "".join(f'<a href="#{esc(anchor)}">{esc(text)}</a>' for anchor, text in navigation)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">\n"
        f'<meta name="generator" content="{GENERATOR} {esc(__version__)}">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header><h1>{esc(title)}</h1>\n<p class="lead">{esc(lead)}</p>\n'
        f"<nav>{links}</nav></header>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )
