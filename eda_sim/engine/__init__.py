"""Simulation engines (layer 4): the SimPy engine and the compiled fast engine.

* :mod:`eda_sim.engine.simpy` — the SimPy engine (the only importer of SimPy);
* :mod:`eda_sim.engine.fast` — the fast engine (its compiled modules are the only
  importers of numba), which gives the same results, bit for bit;
* :mod:`eda_sim.engine.records` — what one replication measured, shared by both;
* :mod:`eda_sim.engine.settings` — the settings and sizes both engines share.

Each engine has one module per mechanism; ``eda_sim/engine/README.md`` says where
a new mechanism goes and names the hook points.
"""
