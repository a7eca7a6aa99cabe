"""Batch size at finite step: the finite-step overlap map iterated as a discrete map, and the
iterations-to-target against batch size (docs/batch.md; Arnaboldi et al., arXiv 2406.02157)."""

from ._knee import BatchCurve as BatchCurve
from ._knee import BatchStudy as BatchStudy
from ._knee import batch_study as batch_study
from ._knee import fit_knee as fit_knee
from ._knee import learning_rate as learning_rate
from ._map import iterate_adaptive_map as iterate_adaptive_map
from ._map import iterate_map as iterate_map
from ._map import map_first_passage as map_first_passage
from ._map import map_function as map_function
from ._report import plot_study as plot_study
from ._report import report as report
