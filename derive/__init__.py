"""escalier.derive: the symbolic half (SymPy only, never JAX)."""

from importlib.metadata import PackageNotFoundError, version

from . import protocols as protocols
from . import targets as targets
from ._amp import AlphaC as AlphaC
from ._amp import alpha_c as alpha_c
from ._budget import current_stage as current_stage
from ._budget import stage as stage
from ._exponents import AmpReport as AmpReport
from ._exponents import ExponentReport as ExponentReport
from ._exponents import exponents as exponents
from ._exponents import student_order as student_order
from ._hermite import PRECISION_RANGE as PRECISION_RANGE
from ._hermite import Coefficient as Coefficient
from ._hermite import Expansion as Expansion
from ._hermite import hermite_expansion as hermite_expansion
from ._linalg import Subspace as Subspace
from ._scenario import ACTIVATIONS as ACTIVATIONS
from ._scenario import Scenario as Scenario
from ._scenario import activation as activation
from ._staircase import PROTOCOLS as PROTOCOLS
from ._staircase import staircase as staircase
from ._step import Step as Step
from ._step import online_cost as online_cost
from ._target import Target as Target
from ._tensor import hermite_image as hermite_image
from .ode import OdeSystem as OdeSystem
from .ode import ode_system as ode_system
from .protocols import Protocol as Protocol
from .protocols import ProtocolResult as ProtocolResult

try:
    __version__ = version("escalier")
except PackageNotFoundError:  # pragma: no cover - running from a raw checkout
    __version__ = "0+unknown"
