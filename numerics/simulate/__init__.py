"""Simulations of the real two-layer network: full d-dimensional and exact Gram engines."""

from ._api import DTYPES as DTYPES
from ._api import ENGINES as ENGINES
from ._api import simulate as simulate
from ._full import DIVERGENCE_BOUND as DIVERGENCE_BOUND
from ._gram_giant import giant_step as giant_step
from ._result import SimulationResult as SimulationResult
