"""``python -m eda_sim``: the same as the ``eda-sim`` command."""

from eda_sim.cli import main

main()
