"""SymPy -> JAX, in one place: the table of heads (JAX_FUNCTIONS), the lowering to JAX
functions (`lower`), the standalone JAX source of an ODE system (`ode_source`), and the
lowered teacher and student networks of a Scenario."""

from ._emit import jax_module as jax_module
from ._emit import ode_source as ode_source
from ._gaussian import register_gaussian_expectation as _register_gaussian_expectation
from ._lower import Lowered as Lowered
from ._lower import lower as lower
from ._networks import residual_function as residual_function
from ._networks import student_functions as student_functions
from ._networks import teacher_function as teacher_function
from ._registry import register as register
from ._registry import supported_heads as supported_heads
from ._table import JAX_FUNCTIONS as JAX_FUNCTIONS
from ._wide import WideRhs as WideRhs
from ._wide import series_arcsin as series_arcsin
from ._wide import wide_rhs as wide_rhs

_register_gaussian_expectation()
