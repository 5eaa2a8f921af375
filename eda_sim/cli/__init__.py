"""The ``eda-sim`` command (layer 7): the only package that prints for the user or exits."""

import eda_sim.cli.report_command  # noqa: F401  (registers the report command)
from eda_sim.cli import sweep_command  # noqa: F401  (registers the sweep command)
from eda_sim.cli.app import app, main

__all__ = ["app", "main"]
