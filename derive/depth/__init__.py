"""Depth: the sample exponents of three-layer, two-layer and kernel learners on the Gaussian
hierarchical targets SIGHT / MIGHT (arXiv 2502.13961; docs/depth.md). The targets themselves
are built by escalier.derive.targets.sight / might."""

from ._exponents import LEARNERS as LEARNERS
from ._exponents import DepthReport as DepthReport
from ._exponents import Level as Level
from ._exponents import depth_exponents as depth_exponents
