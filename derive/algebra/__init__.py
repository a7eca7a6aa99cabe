"""Exact and floating-point algebra for the derivations: subspaces over exact scalars with
bounded growth (Subspace, Scalars), sparse multivariate polynomials (Poly), and the
whitelist expression parser shared by the target and polynomial languages
(ArithmeticParser)."""

from ._linalg import MAX_EXACT_SIZE as MAX_EXACT_SIZE
from ._linalg import MAX_FIELD_DEGREE as MAX_FIELD_DEGREE
from ._linalg import ExactTooLarge as ExactTooLarge
from ._linalg import Scalars as Scalars
from ._linalg import Subspace as Subspace
from ._parse import ArithmeticParser as ArithmeticParser
from ._poly import Poly as Poly
from ._poly import from_sympy as from_sympy
from ._poly import leading_form as leading_form
from ._poly import mul as mul
from ._poly import substitute as substitute
from ._poly import taylor_at as taylor_at
