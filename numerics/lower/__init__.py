"""Lowering of SymPy expressions to JAX functions (table-driven, with shared sub-expressions)."""

from ._lower import Lowered as Lowered
from ._lower import lower as lower
from ._registry import register as register
from ._registry import supported_heads as supported_heads
