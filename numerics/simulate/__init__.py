"""Simulations of the real two-layer network: full d-dimensional and exact Gram engines."""

from ._result import SimulationResult as SimulationResult
