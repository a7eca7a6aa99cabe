"""Overlap ODE systems of online SGD, derived symbolically (docs/theory.md §4)."""

from ._derive import ode_system as ode_system
from ._hermite_form import HermiteForm as HermiteForm
from ._hermite_form import hermite_coefficients as hermite_coefficients
from ._hermite_form import hermite_form as hermite_form
from ._map import SingleIndexConstants as SingleIndexConstants
from ._map import overlap_map as overlap_map
from ._map import single_index_constants as single_index_constants
from ._noise import OverlapNoise as OverlapNoise
from ._noise import overlap_noise as overlap_noise
from ._system import OdeSystem as OdeSystem
from ._wide import WideClosure as WideClosure
from ._wide import WidePatterns as WidePatterns
from ._wide import committee_link as committee_link
from ._wide import wide_closure as wide_closure
from ._wide import wide_patterns as wide_patterns
