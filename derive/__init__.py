"""escalier.derive: the symbolic half (SymPy only, never JAX)."""

from importlib.metadata import PackageNotFoundError, version

from . import targets as targets
from ._hermite import Coefficient as Coefficient
from ._hermite import Expansion as Expansion
from ._hermite import hermite_expansion as hermite_expansion
from ._scenario import ACTIVATIONS as ACTIVATIONS
from ._scenario import Scenario as Scenario
from ._scenario import activation as activation
from ._target import Target as Target

try:
    __version__ = version("escalier")
except PackageNotFoundError:  # pragma: no cover - running from a raw checkout
    __version__ = "0+unknown"
