"""MkDocs hook: put the generated references into their pages (see eda_sim.cli.reference).

The scenario reference comes from the JSON Schema (``eda-sim schema``) and the
command-line reference from the Typer app, at every build: one source of truth.
"""

from __future__ import annotations

from typing import Any

from eda_sim.cli.reference import expand


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace the ``<!-- eda-sim: ... -->`` placeholders of a page."""
    return expand(markdown)
