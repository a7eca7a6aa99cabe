"""escalier.numerics: the numerical half (JAX): lowering, integration, simulation, CLI.

`from escalier.numerics import simulate` is the simulation entry point
(escalier.numerics.simulation.simulate); the engines, training protocols and stop conditions
live in escalier.numerics.simulation.
"""

from escalier.derive import __version__ as __version__

from .simulation import simulate as simulate
