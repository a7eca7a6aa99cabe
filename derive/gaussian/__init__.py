"""Gaussian expectations E[F(u)], u ~ N(0, C), with C symbolic (docs/theory.md §5).

Backends: Isserlis/Wick for polynomials, one table of closed forms (CLOSED_FORMS) consumed
by one routine, and a numeric Gauss-Hermite fallback kept as a SymPy object.
"""

from ._expectation import BACKENDS as BACKENDS
from ._expectation import Expectation as Expectation
from ._expectation import expectation as expectation
from ._numeric import DEFAULT_POINTS as DEFAULT_POINTS
from ._numeric import GaussianExpectation as GaussianExpectation
from ._numeric import hermite_rule as hermite_rule
from ._numeric import quadrature as quadrature
from ._table import CLOSED_FORMS as CLOSED_FORMS
from ._table import ClosedForm as ClosedForm
from ._wick import wick_moment as wick_moment
