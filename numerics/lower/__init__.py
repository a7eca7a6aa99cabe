"""Lowering of SymPy expressions to JAX functions (table-driven, with shared sub-expressions)."""

from ._gaussian import register_gaussian_expectation as _register_gaussian_expectation
from ._lower import Lowered as Lowered
from ._lower import lower as lower
from ._registry import register as register
from ._registry import supported_heads as supported_heads

_register_gaussian_expectation()
