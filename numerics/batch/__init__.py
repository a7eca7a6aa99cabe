"""Batch size at finite step: the finite-step overlap map iterated as a discrete map, and the
iterations-to-target against batch size (docs/batch.md; Arnaboldi et al., arXiv 2406.02157)."""

from ._map import iterate_map as iterate_map
from ._map import map_function as map_function
