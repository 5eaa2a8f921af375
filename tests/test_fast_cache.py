"""numba's cached functions of the fast engine are dropped when made from other sources.

The loop itself is guarded by ``kernel.SOURCES_DIGEST``; its other cached
functions (a grid tick inlines the queue's ``push``) are keyed by numba on their
own file only, so ``support.purge_stale_caches`` removes every cached function
of the folder when the stamped digest changes (a checkout updated in place).
"""

from __future__ import annotations

from pathlib import Path

from eda_sim.engine.fast.support import purge_stale_caches


def _cached_files(folder: Path) -> list[str]:
    for name in ("grid.tick-38.py311.nbi", "grid.tick-38.py311.1.nbc", "kernel.cpython-311.pyc"):
        (folder / name).write_bytes(b"x")
    return sorted(p.name for p in folder.iterdir())


def test_a_folder_stamped_with_other_sources_loses_its_cached_functions(tmp_path: Path) -> None:
    _cached_files(tmp_path)
    (tmp_path / "eda_sim_sources.digest").write_text("old")
    assert purge_stale_caches(tmp_path, "new") is True
    # Only numba's files go: Python's own bytecode stays; the stamp names the new digest.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "eda_sim_sources.digest",
        "kernel.cpython-311.pyc",
    ]
    assert (tmp_path / "eda_sim_sources.digest").read_text() == "new"


def test_a_folder_without_a_stamp_is_treated_as_stale(tmp_path: Path) -> None:
    _cached_files(tmp_path)
    assert purge_stale_caches(tmp_path, "new") is True
    assert not list(tmp_path.glob("*.nb?"))


def test_a_folder_stamped_with_these_sources_is_kept(tmp_path: Path) -> None:
    files = _cached_files(tmp_path)
    (tmp_path / "eda_sim_sources.digest").write_text("same")
    assert purge_stale_caches(tmp_path, "same") is False
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*files, "eda_sim_sources.digest"])


def test_a_missing_folder_is_left_alone(tmp_path: Path) -> None:
    assert purge_stale_caches(tmp_path / "absent", "new") is False
    assert not (tmp_path / "absent").exists()
