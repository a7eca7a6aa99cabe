"""Depth: samplers of the hierarchical targets SIGHT / MIGHT and the learners compared on them
(three-layer network trained layer-wise, two-layer network, kernel ridge, random features),
with the test error against kappa = log n / log d (arXiv 2502.13961; docs/depth.md)."""

from ._curve import DepthCurves as DepthCurves
from ._curve import depth_curves as depth_curves
from ._curve import measured_threshold as measured_threshold
from ._curve import samples_at as samples_at
from ._learners import FIRST_LAYERS as FIRST_LAYERS
from ._learners import LEARNER_NAMES as LEARNER_NAMES
from ._learners import SECOND_LAYERS as SECOND_LAYERS
from ._learners import DepthConfig as DepthConfig
from ._learners import degree2_ridge as degree2_ridge
from ._learners import first_layer_steps as first_layer_steps
from ._learners import fit_predict as fit_predict
from ._learners import probe_layers as probe_layers
from ._learners import second_layer_gd as second_layer_gd
from ._learners import spectral_first_layer as spectral_first_layer
from ._learners import subspace_overlap as subspace_overlap
from ._sample import Teacher as Teacher
from ._sample import draw_teacher as draw_teacher
from ._sample import features as features
from ._sample import sample as sample
