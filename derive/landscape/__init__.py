"""Loss landscapes: annealed complexity of the spherical p-spin glass (SymPy / mpmath)."""

from ._pspin import PSpinComplexity as PSpinComplexity
from ._pspin import pspin as pspin
