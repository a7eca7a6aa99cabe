"""escalier.numerics: the numerical half (JAX): lowering, integration, simulation, CLI."""

from escalier.derive import __version__ as __version__
