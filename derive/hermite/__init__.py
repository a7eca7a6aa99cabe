"""Hermite expansions of targets (exact routes and quadrature with certified zeros) and the
Hermite tensors C_k, their images and conditional images (docs/theory.md §1.4-1.5, §2)."""

from ._expansion import PRECISION_RANGE as PRECISION_RANGE
from ._expansion import Coefficient as Coefficient
from ._expansion import Expansion as Expansion
from ._expansion import hermite_expansion as hermite_expansion
from ._tensor import conditional_images as conditional_images
from ._tensor import expansion_form as expansion_form
from ._tensor import hermite_image as hermite_image
from ._tensor import scalars_of as scalars_of
