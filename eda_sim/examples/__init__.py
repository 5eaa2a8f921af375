"""The shipped scenarios, installed with the package: find them from anywhere.

The ready scenarios of the repository's ``scenarios/`` folder are package data of
``eda_sim.examples`` (a link in a checkout, copied files in an installed wheel), so
a notebook, a script or a test finds them whatever its working directory: Jupyter
starts a notebook's kernel in the notebook's folder, not at the repository root.

Examples
--------
>>> from eda_sim import examples
>>> "jackson3" in examples.names()
True
>>> examples.path("jackson3").name
'jackson3.yaml'
>>> import eda_sim
>>> eda_sim.load_scenario(examples.path("mm1")).station_names
('handler',)
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["folder", "names", "path"]


def folder() -> Path:
    """The folder that holds the shipped scenarios (and their data files).

    Returns
    -------
    pathlib.Path
        An absolute path; relative file references inside a scenario (a trace, an
        empirical sample) resolve from it, as they do from the repository's
        ``scenarios/``.
    """
    return Path(str(files(__name__) / "scenarios")).resolve()


def names() -> list[str]:
    """The names of the shipped scenarios, sorted (each a file stem: ``"jackson3"``).

    Returns
    -------
    list of str
        Names that :func:`path` accepts.
    """
    return sorted(item.stem for item in folder().glob("*.yaml"))


def path(name: str) -> Path:
    """The file of the shipped scenario ``name`` (``"jackson3"`` or ``"jackson3.yaml"``).

    Parameters
    ----------
    name
        A name from :func:`names`, with or without the ``.yaml`` suffix.

    Returns
    -------
    pathlib.Path
        The absolute path of the scenario file, for ``eda_sim.load_scenario`` or
        the ``eda-sim`` command.

    Raises
    ------
    KeyError
        If no shipped scenario has that name; the message lists the names there are.
    """
    stem = name.removesuffix(".yaml")
    found = folder() / f"{stem}.yaml"
    if stem != Path(stem).name or not found.is_file():
        raise KeyError(f"no shipped scenario {name!r}; there are: {', '.join(names())}")
    return found
