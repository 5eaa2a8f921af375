"""Simulation engines. Only :mod:`eda_sim.engine.simpy_engine` imports SimPy."""
