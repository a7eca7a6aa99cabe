"""Closed forms of the deep linear unconstrained features model (UFM) with square loss.

Global minimiser (singular values of every factor, loss, weight-decay threshold) and the
Kronecker-structured Hessian blocks at it (Garrod & Keating, arXiv 2404.06106).
"""

from ._ufm import BlockHessian as BlockHessian
from ._ufm import UfmOptimum as UfmOptimum
from ._ufm import block_names as block_names
from ._ufm import singular_value_polynomial as singular_value_polynomial
from ._ufm import ufm_optimum as ufm_optimum
from ._ufm import weight_decay_threshold as weight_decay_threshold
