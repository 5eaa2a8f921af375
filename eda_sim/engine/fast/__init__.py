"""The fast engine's compiled parts (numba); the public API is :mod:`eda_sim.engine.fast_engine`."""
