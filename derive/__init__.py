"""escalier.derive: the symbolic half (SymPy only, never JAX)."""

from importlib.metadata import PackageNotFoundError, version

from . import protocols as protocols
from . import targets as targets
from ._budget import current_stage as current_stage
from ._budget import stage as stage
from ._exponents import AmpReport as AmpReport
from ._exponents import ExponentReport as ExponentReport
from ._exponents import exponents as exponents
from ._exponents import student_order as student_order
from ._scenario import ACTIVATIONS as ACTIVATIONS
from ._scenario import Scenario as Scenario
from ._scenario import activation as activation
from ._staircase import PROTOCOLS as PROTOCOLS
from ._staircase import staircase as staircase
from .algebra import Subspace as Subspace
from .hermite import PRECISION_RANGE as PRECISION_RANGE
from .hermite import Coefficient as Coefficient
from .hermite import Expansion as Expansion
from .hermite import hermite_expansion as hermite_expansion
from .hermite import hermite_image as hermite_image
from .ode import OdeSystem as OdeSystem
from .ode import ode_system as ode_system
from .ode import overlap_map as overlap_map
from .protocols import AlphaC as AlphaC
from .protocols import Protocol as Protocol
from .protocols import ProtocolResult as ProtocolResult
from .protocols import Step as Step
from .protocols import alpha_c as alpha_c
from .protocols import online_cost as online_cost
from .targets import Target as Target

try:
    __version__ = version("escalier")
except PackageNotFoundError:  # pragma: no cover - running from a raw checkout
    __version__ = "0+unknown"
